// Issue 18: the same migrations run on Citus (distributed PostgreSQL), where this one shards every
// tenant table by org_id and makes the shared tables reference tables (migrations/distribution.ts).
// Elsewhere it only rewrites the principal-version trigger, which then serves every back end:
//  - Triggers of a sharded table run on the workers, on the shard. There a statement that names a
//    transition table and a sharded table at once fails (Citus plans it without the transition
//    table), so the trigger first reads the organisations it changed into an array.
//  - The credential triggers of migration 013 NOTIFY the change feed. On Citus they would notify
//    on a worker, where no server process listens, and a worker cannot PREPARE a transaction that
//    notified, so any change spanning two nodes would fail. They are dropped there: a server on
//    Citus does not hear of credential changes (its change feed, db/change-feed.ts, never listens
//    there); migration 027 has the same changes counted instead, for its credential cache.
import { type Kysely, sql } from 'kysely';
import { distribute, isCitus } from './distribution.ts';

const CREDENTIAL_SOURCES = ['session', 'access_token', 'account', 'connection', 'principal_version', 'cli_settings', 'ip_allowlist', 'admin_api_key', 'bitbucket_token'];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function bump_principal_version() returns trigger language plpgsql as $$
    declare
      changed_orgs text[];
    begin
      select array_agg(distinct org_id) into changed_orgs from changed_rows;
      insert into principal_version (org_id, version) select unnest(changed_orgs), 1
        on conflict (org_id) do update set version = principal_version.version + 1;
      return null;
    end $$;
  `.execute(db);
  if (!(await isCitus(db))) return;
  for (const table of CREDENTIAL_SOURCES) {
    for (const suffix of ['i', 'u', 'd']) await sql`drop trigger ${sql.raw(`${table}_notify_credentials_${suffix}`)} on ${sql.table(table)}`.execute(db);
  }
  await distribute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await isCitus(db)) throw new Error('A Citus database cannot be taken back to an unsharded schema by a migration; restore from a dump instead.');
  await sql`
    create or replace function bump_principal_version() returns trigger language plpgsql as $$
    begin
      insert into principal_version (org_id, version) select distinct org_id, 1 from changed_rows
        on conflict (org_id) do update set version = principal_version.version + 1;
      return null;
    end $$;
  `.execute(db);
}
