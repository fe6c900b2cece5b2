// Issue 18, item 5: credentials cached on Citus too. There a change to what a credential lookup
// reads cannot notify a listening server (migration 020), so on Citus the same triggers count it
// instead: principal_version.credentials goes up by one for each statement that changed an
// organisation's sessions, tokens, accounts, connections, CLI settings, IP allowlist, admin API
// keys, Bitbucket tokens or rate limits, in the changing transaction and on the organisation's
// own node. With principal_version.version (the directory, migration 006) it makes the
// organisation's credential stamp, which a server reads in one single-shard statement as the
// barrier of a cached credential (src/modules/session/credentials/stamp-feed.ts). Elsewhere the
// column stays 0: PostgreSQL and PGlite notify instead (migration 013), at no cost per request.
import { type Kysely, sql } from 'kysely';
import { isCitus } from './distribution.ts';

/** What a credential lookup reads besides principal_version (migrations 013 and 024). */
const CREDENTIAL_SOURCES = ['session', 'access_token', 'account', 'connection', 'cli_settings', 'ip_allowlist', 'admin_api_key', 'bitbucket_token', 'rate_limit_setting'];

export async function up(db: Kysely<any>): Promise<void> {
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`alter table principal_version add column credentials bigint not null default 0`.execute(db);
  if (!(await isCitus(db))) return;
  // As bump_principal_version (migration 020): on a worker's shard a statement may not name the
  // transition table and a sharded table at once, so the organisations are read first.
  await sql`
    create function bump_credential_stamp() returns trigger language plpgsql as $$
    declare
      changed_orgs text[];
    begin
      select array_agg(distinct org_id) into changed_orgs from changed_rows;
      insert into principal_version (org_id, version, credentials) select unnest(changed_orgs), 1, 1
        on conflict (org_id) do update set credentials = principal_version.credentials + 1;
      return null;
    end $$;
  `.execute(db);
  // Triggers of a sharded table run on its shards (distribution.ts).
  await sql`set local citus.enable_unsafe_triggers = on`.execute(db);
  for (const table of CREDENTIAL_SOURCES) {
    for (const [suffix, event, transition] of [
      ['i', 'insert', 'new'],
      ['u', 'update', 'new'],
      ['d', 'delete', 'old'],
    ]) {
      await sql`
        create trigger ${sql.raw(`${table}_credential_stamp_${suffix}`)} after ${sql.raw(event)} on ${sql.table(table)}
          referencing ${sql.raw(transition)} table as changed_rows for each statement execute function bump_credential_stamp();
      `.execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await isCitus(db)) {
    await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
    for (const table of CREDENTIAL_SOURCES) {
      for (const suffix of ['i', 'u', 'd']) await sql`drop trigger ${sql.raw(`${table}_credential_stamp_${suffix}`)} on ${sql.table(table)}`.execute(db);
    }
    await sql`drop function bump_credential_stamp()`.execute(db);
  }
  await sql`alter table principal_version drop column credentials`.execute(db);
}
