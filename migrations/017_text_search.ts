// Issue 16: the list filter's `text` (case-insensitive substring of display name or description,
// PRODUCT §2) at a million objects. A GIN index over the organisation and the trigrams of both
// fields answers `org_id = $1 and (display_name ilike $2 or description ilike $2)` from the
// index alone (btree_gin puts org_id in the same index, so no planner has to choose between it
// and an index on org_id). src/authz/visibility-filter.ts decides when a page reads it.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create extension if not exists pg_trgm;
    create extension if not exists btree_gin;
    create index graph_object_text on graph_object using gin (org_id, display_name gin_trgm_ops, description gin_trgm_ops) where not deleted;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index graph_object_text`.execute(db);
}
