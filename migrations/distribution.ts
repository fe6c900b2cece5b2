// Which tables belong to one organisation and which all of them share (issue 18). On Citus
// (distributed PostgreSQL) a tenant table is sharded by org_id, co-located with every other, so
// that all of one organisation's rows live on one node and each request is answered there; a
// shared table is a reference table, a copy on every node. Every table with an org_id column is
// a tenant table unless it is named here. The rules a tenant table's keys must follow for that
// are checked on every back end by test/db/tenant-keys.test.ts.
import { type Kysely, sql } from 'kysely';

/** Tables every organisation shares: written rarely, read by sign-in and the device flow before an organisation is known. */
export const SHARED_TABLES = ['organization', 'account_email', 'device_authorization', 'sign_in_failure'] as const;

/** The migrator's own bookkeeping stays on the coordinator. */
export const MIGRATOR_TABLES = ['kysely_migration', 'kysely_migration_lock'] as const;

/** The tenant table the others are co-located with. */
export const COLOCATION_ANCHOR = 'principal_version';

/** Whether the citus extension is in the database: one statement, for Kysely (isCitus) and for bare pg connections (db/worker-routing.ts, db/change-feed.ts, the tests' set-up). */
export const CITUS_PRESENT_SQL = `select exists (select 1 from pg_extension where extname = 'citus') as found`;

export async function isCitus(db: Kysely<any>): Promise<boolean> {
  const { rows } = await sql.raw<{ found: boolean }>(CITUS_PRESENT_SQL).execute(db);
  return rows[0].found;
}

/** The tables of the public schema with an org_id column that are not shared: the tenant tables. */
export async function tenantTables(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ table: string }>`
    select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p')
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped)
    order by 1`.execute(db);
  return rows.map((r) => r.table).filter((table) => !(SHARED_TABLES as readonly string[]).includes(table));
}

/**
 * On Citus: makes every shared table a reference table and distributes every tenant table by
 * org_id, skipping those done already, so a later migration that adds a table calls it again.
 * Elsewhere it does nothing.
 */
export async function distribute(db: Kysely<any>): Promise<void> {
  if (!(await isCitus(db))) return;
  // Triggers on sharded tables run on the workers' shards (migration 020 says which may).
  await sql`set local citus.enable_unsafe_triggers = on`.execute(db);
  // DDL on many shards inside the migration's transaction: one connection per node.
  await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  const done = new Set(
    (await sql<{ table: string }>`select logicalrelid::regclass::text as table from pg_dist_partition`.execute(db)).rows.map((r) => r.table),
  );
  for (const table of SHARED_TABLES) {
    if (!done.has(table)) await sql`select create_reference_table(${table})`.execute(db);
  }
  const tenants = await tenantTables(db);
  const undistributed = tenants.filter((table) => !done.has(table));
  if (undistributed.length === 0) return;
  // Citus refuses a foreign key between a distributed and a local table, which each step of the
  // loop below would leave behind: the keys between tenant tables go while it runs and come back
  // after, now between co-located shards.
  const { rows: keys } = await sql<{ table: string; name: string; definition: string }>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
    where contype = 'f' and connamespace = 'public'::regnamespace
      and conrelid::regclass::text = any(${tenants}::text[]) and confrelid::regclass::text = any(${tenants}::text[])
      and (conrelid::regclass::text = any(${undistributed}::text[]) or confrelid::regclass::text = any(${undistributed}::text[]))`.execute(db);
  for (const key of keys) await sql`alter table ${sql.table(key.table)} drop constraint ${sql.id(key.name)}`.execute(db);
  const ordered = [COLOCATION_ANCHOR, ...undistributed.filter((table) => table !== COLOCATION_ANCHOR)].filter((table) => undistributed.includes(table));
  for (const table of ordered) {
    const colocateWith = table === COLOCATION_ANCHOR ? 'default' : COLOCATION_ANCHOR;
    await sql`select create_distributed_table(${table}, 'org_id', colocate_with => ${colocateWith})`.execute(db);
  }
  for (const key of keys) await sql`alter table ${sql.table(key.table)} add constraint ${sql.id(key.name)} ${sql.raw(key.definition)}`.execute(db);
}
