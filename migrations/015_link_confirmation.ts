// Issue 15: a 3LO link attempt holds the provider's answer until the account that started it
// confirms it in the same browser. An attempt row with an external id is such an answer, keyed by
// the hash of the confirmation secret its page carries instead of the state's.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table link_attempt add column external_id text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from link_attempt where external_id is not null; alter table link_attempt drop column external_id`.execute(db);
}
