// Sessions and their bearer tokens, for accounts and connections. Tokens are stored only as
// SHA-256 hashes; the token table is keyed by that hash because a request names no organisation.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table session (
      org_id text not null references organization (id),
      id text not null,
      account_id text,
      connection_id text,
      client_id text not null,
      scopes text[] not null,
      created_at timestamptz not null,
      last_used_at timestamptz,
      expires_at timestamptz not null,
      revoked_at timestamptz,
      primary key (org_id, id),
      check ((account_id is null) <> (connection_id is null))
    );
    create index session_by_account on session (org_id, account_id) where revoked_at is null;
    create table access_token (
      token_hash text primary key,
      org_id text not null,
      session_id text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null,
      foreign key (org_id, session_id) references session (org_id, id)
    );
    create index access_token_by_session on access_token (org_id, session_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table access_token, session`.execute(db);
}
