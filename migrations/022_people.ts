// Issue 20: what the organisation's directory and its list of who is signed in show. An account
// records when it last signed in through an OAuth grant; a session records the client address of
// its latest recorded use (written with last_used_at, so at most a minute old). Nullable columns
// only: on Citus they are added to every shard of the distributed tables.
import { type Kysely, sql } from 'kysely';
import { isCitus } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  // As distribution.ts does for DDL on many shards inside the migration's transaction.
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`alter table account add column last_sign_in_at timestamptz`.execute(db);
  await sql`alter table session add column last_ip text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await isCitus(db)) await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  await sql`alter table session drop column last_ip`.execute(db);
  await sql`alter table account drop column last_sign_in_at`.execute(db);
}
