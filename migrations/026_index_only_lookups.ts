// Issue 16, item 1: a lookup by a whole key stays a lookup whatever the statistics and the
// visibility map say. Once VACUUM (autovacuum; always on a Citus worker's shards) has marked a
// table visible, an index-only scan looks cheaper than an index scan that must visit the heap, and
// org_id has no statistics (migration 016), so the planner believed an organisation's range of an
// index small and took an index-only scan of it with the rest of the key as a filter:
//  - a member's groups (authz/viewer-principals.ts) by the primary key (org, connection, group,
//    member type, member), reading a connection's whole membership at every step of the closure:
//    247 ms for a viewer in 1,000 groups on Citus, against 10 ms;
//  - an active account by account_active_in_id_order (migration 025), reading every active account
//    of the organisation for each one looked up (the principal set, the accessors).
// Each of these lookups now has an index-only scan by its whole key, whose range is never wider.
import { type Kysely, sql } from 'kysely';
import { isCitus } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  // As distribution.ts does for DDL on many shards inside the migration's transaction.
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`drop index group_member_by_member`.execute(db);
  await sql`create index group_member_by_member on group_member (org_id, connection_id, member_type, member_external_id) include (group_external_id)`.execute(db);
  await sql`create index account_standing on account (org_id, id) include (active)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`drop index account_standing`.execute(db);
  await sql`drop index group_member_by_member`.execute(db);
  await sql`create index group_member_by_member on group_member (org_id, connection_id, member_type, member_external_id)`.execute(db);
}
