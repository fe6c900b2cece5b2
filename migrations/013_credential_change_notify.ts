// Credential lookups may be cached across requests (issue 3, "no stale access"): every change to
// a table an authentication reads notifies channel `teamgraph_credentials` with the organisation
// id, in the changing transaction, so every server process drops that organisation's cached
// credentials when it commits.
import { type Kysely, sql } from 'kysely';

/** What the session, admin-key and Bitbucket-token lookups read. */
const SOURCES = ['session', 'access_token', 'account', 'connection', 'principal_version', 'cli_settings', 'ip_allowlist', 'admin_api_key', 'bitbucket_token'];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Statement-level with a transition table named changed_rows, as in migration 006: one
    -- notification per organisation and statement (PostgreSQL folds repeats within a transaction).
    create function notify_credential_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('teamgraph_credentials', org_id) from (select distinct org_id from changed_rows) changed;
      return null;
    end $$;
  `.execute(db);
  for (const table of SOURCES) {
    await sql`
      create trigger ${sql.raw(`${table}_notify_credentials_i`)} after insert on ${sql.table(table)}
        referencing new table as changed_rows for each statement execute function notify_credential_change();
      create trigger ${sql.raw(`${table}_notify_credentials_u`)} after update on ${sql.table(table)}
        referencing new table as changed_rows for each statement execute function notify_credential_change();
      create trigger ${sql.raw(`${table}_notify_credentials_d`)} after delete on ${sql.table(table)}
        referencing old table as changed_rows for each statement execute function notify_credential_change();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of SOURCES) {
    for (const suffix of ['i', 'u', 'd']) await sql`drop trigger ${sql.raw(`${table}_notify_credentials_${suffix}`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function notify_credential_change()`.execute(db);
}
