// What a connection leaves in the database, and a quick way to give it many objects: the
// connection lifecycle tests count every row that names it before and after a deletion.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';

/** Every row anywhere that belongs to the connection: each table with a connection_id column, and the connection itself. */
export async function rowsOf(db: Kysely<Database>, connectionId: string, objectIds: string[]): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.columns where table_schema = current_schema() and column_name = 'connection_id'
  `.execute(db);
  const counts: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table_name)} where connection_id = ${connectionId}`.execute(db);
    counts[table_name] = r.rows[0].n;
  }
  counts.connection = (await sql<{ n: number }>`select count(*)::int as n from connection where id = ${connectionId}`.execute(db)).rows[0].n;
  counts.acl_entry = (await sql<{ n: number }>`select count(*)::int as n from acl_entry where object_id = any(${objectIds}::text[])`.execute(db)).rows[0].n;
  counts.relationship_ends = (await sql<{ n: number }>`select count(*)::int as n from relationship where from_object_id = any(${objectIds}::text[]) or to_object_id = any(${objectIds}::text[])`.execute(db)).rows[0].n;
  return counts;
}

/**
 * Grows the connection to `total` objects by copying its ingested ones (with their ACL entries
 * and relationships) under new ids: ingesting 20,000 through the API would take most of the run.
 */
export async function copyObjects(db: Kysely<Database>, connectionId: string, total: number) {
  const base = (await sql<{ n: number }>`select count(*)::int as n from graph_object where connection_id = ${connectionId}`.execute(db)).rows[0].n;
  const copies = Math.ceil(total / base) - 1;
  await sql`
    insert into graph_object
    select o.org_id, o.id || '-' || g, o.cloud_id, o.connection_id, o.type, o.product, o.external_id || '-' || g, o.display_name, o.description, o.url,
      o.container_type, o.container_external_id || '-' || g, o.container_id || '-' || g, o.properties, o.permissions, o.acl, o.view_keys, o.view_controls,
      o.created_at, o.last_updated_at, o.update_sequence_number, o.deleted, o.has_children
    from graph_object o cross join generate_series(1, ${copies}) g where o.connection_id = ${connectionId}
  `.execute(db);
  await sql`
    insert into acl_entry (org_id, principal_key, object_id, control_no, last_updated_at, on_container)
    select e.org_id, e.principal_key, e.object_id || '-' || g, e.control_no, e.last_updated_at, e.on_container
    from acl_entry e join graph_object o on o.org_id = e.org_id and o.id = e.object_id cross join generate_series(1, ${copies}) g
    where o.connection_id = ${connectionId} and o.id not like '%-%'
  `.execute(db);
  await sql`
    insert into relationship select r.org_id, r.connection_id, r.type, r.from_object_id || '-' || g, r.to_object_id || '-' || g, r.properties, r.update_sequence_number, r.deleted, r.updated_at
    from relationship r cross join generate_series(1, ${copies}) g where r.connection_id = ${connectionId}
  `.execute(db);
  const ids = await sql<{ id: string }>`select id from graph_object where connection_id = ${connectionId}`.execute(db);
  return ids.rows.map((r) => r.id);
}

