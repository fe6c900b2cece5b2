// Issue 20, item 4: the active accounts of an organisation in byte order of their ids, the order
// the accessors of an object are paged in (authz/accessors.ts compares ids as JavaScript does). An
// index in the database's own collation gives that order only where the collation is bytewise, so
// this one says "C" whatever the database was created with.
import { type Kysely, sql } from 'kysely';
import { isCitus } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  // As distribution.ts does for DDL on many shards inside the migration's transaction.
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`create index account_active_in_id_order on account (org_id, id collate "C") where active`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`drop index account_active_in_id_order`.execute(db);
}
