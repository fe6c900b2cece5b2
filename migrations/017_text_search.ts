// Issue 16: the list filter's `text` (case-insensitive substring of display name or description,
// PRODUCT §2) at a million objects: trigram (pg_trgm) GIN indexes over each field prefixed with the
// organisation, `org_id || ' ' || display_name`. A search for `<org> %text%` then needs the
// organisation's trigrams and the text's together, so it reads only that organisation's matches:
// another tenant's objects holding the word cost nothing and tell nothing. Why not org_id as its
// own index column (btree_gin): without statistics the planner then read the whole organisation
// through it (est. 0.5% of the table) instead of the trigrams (measured: 20,408 rows read for a
// text nobody held). New entries wait in a pending list until a vacuum or the list's limit merges
// them, and every search reads the whole list: 256 kB instead of the default 4 MB bounds that
// (measured: 11.8 ms for a search on a list never merged, autovacuum off). src/authz/visibility-
// filter.ts decides when a page reads these indexes.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create extension if not exists pg_trgm;
    create index graph_object_name_text on graph_object using gin ((org_id || ' ' || display_name) gin_trgm_ops) with (gin_pending_list_limit = 256) where not deleted;
    create index graph_object_description_text on graph_object using gin ((org_id || ' ' || coalesce(description, '')) gin_trgm_ops) with (gin_pending_list_limit = 256) where not deleted;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index graph_object_name_text; drop index graph_object_description_text`.execute(db);
}
