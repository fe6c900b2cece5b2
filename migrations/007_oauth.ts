// The OAuth 2.1 authorization server's state (PRODUCT §6): refresh tokens (rotated; a used one
// presented again revokes its session), authorization codes (60 s, single use), device
// authorizations (RFC 8628) and failed sign-in attempts (to limit guessing). Every token and
// code is stored only as a SHA-256 hash; user codes are short-lived and shown to people.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table refresh_token (
      token_hash text primary key,
      org_id text not null,
      session_id text not null,
      created_at timestamptz not null,
      used_at timestamptz,
      foreign key (org_id, session_id) references session (org_id, id)
    );
    create index refresh_token_by_session on refresh_token (org_id, session_id);
    create table authorization_code (
      code_hash text primary key,
      org_id text not null,
      account_id text not null,
      client_id text not null,
      redirect_uri text not null,
      code_challenge text not null,
      scopes text[] not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      -- The session the code was exchanged for: presenting the code again revokes it.
      session_id text,
      foreign key (org_id, account_id) references account (org_id, id)
    );
    create table device_authorization (
      device_code_hash text primary key,
      -- Normalised: upper case, no dash.
      user_code text not null,
      client_id text not null,
      -- null: the client asked for no scope, so everything allowed.
      requested_scopes text[],
      created_at timestamptz not null,
      expires_at timestamptz not null,
      interval_seconds integer not null,
      last_polled_at timestamptz,
      status text not null check (status in ('PENDING', 'APPROVED', 'DENIED', 'ISSUED')),
      org_id text,
      account_id text,
      granted_scopes text[],
      -- Why a DENIED authorization was denied, for the polling client.
      denial_reason text,
      decided_at timestamptz
    );
    create unique index device_authorization_pending_user_code on device_authorization (user_code) where status = 'PENDING';
    create index device_authorization_by_expiry on device_authorization (expires_at);
    create table sign_in_failure (
      -- What was guessed at, e.g. 'user-code:<client address>' or 'password:<e-mail>'.
      subject text not null,
      failed_at timestamptz not null
    );
    create index sign_in_failure_by_subject on sign_in_failure (subject, failed_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table sign_in_failure, device_authorization, authorization_code, refresh_token`.execute(db);
}
