// Issue 21: fair-use rate limits. Each credential (session, admin API key, Bitbucket token,
// connection) spends points from an hourly budget; what it spent is counted here, in the database,
// so that every server process charges the same row. An organisation admin may lower the
// operator's default budgets; those lower budgets are read with the credential, so a change to
// them notifies the credential change feed (migration 013) where that feed exists (not on Citus,
// see migration 020).
import { type Kysely, sql } from 'kysely';
import { distribute, isCitus } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table rate_limit_usage (
      org_id text not null,
      -- session, admin-api-key, bitbucket-token or connection
      credential_kind text not null,
      credential_id text not null,
      -- the window starts with the first request charged after the previous one ended, and lasts an hour
      window_start timestamptz not null,
      used integer not null,
      primary key (org_id, credential_kind, credential_id)
    );
    create table rate_limit_setting (
      org_id text primary key references organization (id),
      -- points per hour; null: the operator's default
      session_points integer,
      admin_api_key_points integer,
      bitbucket_token_points integer,
      connection_points integer,
      version integer not null,
      updated_at timestamptz not null,
      updated_by text not null
    );
  `.execute(db);
  if (await isCitus(db)) {
    await distribute(db);
    return;
  }
  for (const suffix of ['i', 'u', 'd']) {
    const event = { i: 'insert', u: 'update', d: 'delete' }[suffix]!;
    const transition = suffix === 'd' ? 'old' : 'new';
    await sql`
      create trigger ${sql.raw(`rate_limit_setting_notify_credentials_${suffix}`)} after ${sql.raw(event)} on rate_limit_setting
        referencing ${sql.raw(transition)} table as changed_rows for each statement execute function notify_credential_change();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table rate_limit_setting`.execute(db);
  await sql`drop table rate_limit_usage`.execute(db);
}
