// Graph objects: batched lookups, sequence-guarded upserts and tombstones, the ACL index
// (acl_entry) kept in step with each object's compiled ACL, and container resolution.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { ACTION_NUMBER, ACTIONS, type CompiledAcl } from '../../authz/acl.ts';
import type { ObjectRow } from '../../authz/visibility-filter.ts';
import type { Database } from '../../db/database.ts';

export interface ObjectKey {
  type: string;
  externalId: string;
}

export interface ObjectWrite {
  id: string;
  orgId: string;
  cloudId: string;
  connectionId: string;
  type: string;
  product: string;
  externalId: string;
  displayName: string;
  description: string | null;
  url: string | null;
  container: ObjectKey | null;
  /** The container's id when it is stored already (or written in the same batch). */
  containerId: string | null;
  properties: unknown;
  permissions: unknown;
  acl: CompiledAcl;
  createdAt: Date;
  lastUpdatedAt: Date;
  usn: number;
}

export interface StoredVersion {
  id: string;
  type: string;
  external_id: string;
  update_sequence_number: number;
  deleted: boolean;
  container_type: string | null;
  container_external_id: string | null;
  created_at: Date;
}

const keyOf = (type: string, externalId: string) => `${type}\u0000${externalId}`;
export { keyOf as objectKeyString };

export class ObjectRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findByIds(orgId: string, ids: readonly string[]): Promise<ObjectRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('graph_object').selectAll().where('org_id', '=', orgId).where('id', 'in', [...ids]).where('deleted', '=', false).execute();
  }

  async findIdByExternalId(orgId: string, connectionId: string, type: string, externalId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('graph_object')
      .select('id')
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where('type', '=', type)
      .where('external_id', '=', externalId)
      .where('deleted', '=', false)
      .executeTakeFirst();
    return row?.id;
  }

  /**
   * Serialises the writing transactions of one connection (PRODUCT §2: a connection's objects and
   * container references are its own, so batches of different connections never share a row).
   * Two concurrent batches of one connection would otherwise lock shared objects and containers
   * in different orders (deadlocks), and a child and its container written by two uncommitted
   * batches would each miss the other, leaving the child waiting for a container that is there.
   */
  async lockConnection(orgId: string, connectionId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`graph_object ${orgId} ${connectionId}`}, 0))`.execute(this.db);
  }

  /** Stored versions (live or tombstones) of the given keys in one connection. */
  async findVersions(orgId: string, connectionId: string, keys: ObjectKey[]): Promise<Map<string, StoredVersion>> {
    if (keys.length === 0) return new Map();
    const rows = await sql<StoredVersion>`
      select o.id, o.type, o.external_id, o.update_sequence_number, o.deleted, o.container_type, o.container_external_id, o.created_at
      from unnest(${keys.map((k) => k.type)}::text[], ${keys.map((k) => k.externalId)}::text[]) as k(type, external_id)
      cross join lateral (${byKey(orgId, connectionId, sql`k.type`, sql`k.external_id`)}) o
    `.execute(this.db);
    return new Map(rows.rows.map((r) => [keyOf(r.type, r.external_id), r]));
  }

  /**
   * In one statement: the stored versions of `keys` (as findVersions), and the stored objects at
   * `containers` and above them, each with its container reference,
   * followed up through stored objects (cycles cannot be stored, and the walk stops after 1,000
   * levels regardless).
   */
  async findVersionsAndChains(
    orgId: string,
    connectionId: string,
    keys: ObjectKey[],
    containers: ObjectKey[],
  ): Promise<{ versions: Map<string, StoredVersion>; chains: Map<string, { id: string; container: ObjectKey | null }> }> {
    const starts = [...keys, ...containers];
    if (starts.length === 0) return { versions: new Map(), chains: new Map() };
    const rows = await sql<StoredVersion>`
      with recursive up (id, type, external_id, update_sequence_number, deleted, container_type, container_external_id, created_at, climb, depth) as (
        select o.id, o.type, o.external_id, o.update_sequence_number, o.deleted, o.container_type, o.container_external_id, o.created_at, k.climb, 0
        from unnest(${starts.map((k) => k.type)}::text[], ${starts.map((k) => k.externalId)}::text[], ${starts.map((_, i) => i >= keys.length)}::boolean[]) as k(type, external_id, climb)
        cross join lateral (${byKey(orgId, connectionId, sql`k.type`, sql`k.external_id`)}) o
        union all
        select o.id, o.type, o.external_id, o.update_sequence_number, o.deleted, o.container_type, o.container_external_id, o.created_at, true, up.depth + 1
        from up cross join lateral (${byKey(orgId, connectionId, sql`up.container_type`, sql`up.container_external_id`)}) o
        where up.climb and up.depth < 1000
      )
      select distinct on (id) id, type, external_id, update_sequence_number, deleted, container_type, container_external_id, created_at from up
    `.execute(this.db);
    const wanted = new Set(keys.map((k) => keyOf(k.type, k.externalId)));
    const versions = new Map<string, StoredVersion>();
    const chains = new Map<string, { id: string; container: ObjectKey | null }>();
    for (const r of rows.rows) {
      const key = keyOf(r.type, r.external_id);
      if (wanted.has(key)) versions.set(key, r);
      chains.set(key, { id: r.id, container: r.container_type && r.container_external_id ? { type: r.container_type, externalId: r.container_external_id } : null });
    }
    return { versions, chains };
  }

  /**
   * Writes objects whose sequence number is newer than the stored one (a concurrent newer write
   * wins) and returns the ids actually written: the rows, the children that were waiting for a
   * written container, the container marks and the VIEW index of the written objects
   * (migration 016). At most six statements of fixed texts whatever the batch's size (three for
   * new objects that name no stored container), each a prepared
   * statement planned once per connection: the rows and index entries travel as one JSON
   * parameter rather than thousands (issue 16). Each touches one organisation's rows only, so
   * Citus plans each for the node that holds them (issue 18; Citus cannot plan the one statement
   * with data-modifying steps that this once was).
   *
   * The caller holds the connection's lock (lockConnection): no other batch writes these rows or
   * their containers meanwhile (PRODUCT §2: a connection's objects and container references are
   * its own). Every read of graph_object and acl_entry is a lookup of one key per row (a LATERAL
   * step with OFFSET 0, the rows to change then addressed by ctid): with org_id unanalyzed
   * (migration 016) a join would let the planner scan the organisation's rows, a plan that a
   * prepared statement keeps as the table grows.
   */
  async upsert(writes: ObjectWrite[]): Promise<Set<string>> {
    if (writes.length === 0) return new Set();
    const orgId = writes[0].orgId;
    if (writes.some((w) => w.orgId !== orgId)) throw new Error('One upsert writes the objects of one organisation');
    const sorted = [...writes].sort((a, b) => compareKeys(a.connectionId, b.connectionId) || compareKeys(a.type, b.type) || compareKeys(a.externalId, b.externalId));
    // Containers named by the batch: those written in it carry their mark in their own row.
    const named = new Set(sorted.flatMap((w) => (w.containerId ? [w.containerId] : [])));
    const rows = sorted.map((w) => ({
      id: w.id,
      cloud_id: w.cloudId,
      connection_id: w.connectionId,
      type: w.type,
      product: w.product,
      external_id: w.externalId,
      display_name: w.displayName,
      description: w.description,
      url: w.url,
      container_type: w.container?.type ?? null,
      container_external_id: w.container?.externalId ?? null,
      container_id: w.containerId,
      properties: w.properties === undefined ? null : w.properties,
      permissions: w.permissions,
      acl: w.acl,
      view_keys: w.acl.VIEW.flat(),
      view_controls: w.acl.VIEW.length,
      created_at: w.createdAt,
      last_updated_at: w.lastUpdatedAt,
      update_sequence_number: w.usn,
      has_children: named.has(w.id),
    }));
    // jsonb_to_recordset, not json_to_recordset: from json text, each jsonb column of each row is
    // parsed on its own, 6.0 of the statement's 15.9 ms (auto_explain, medians of 202 batches of
    // 100); the batch parsed to jsonb once takes 0.25 ms.
    const { rows: written } = await sql<{ id: string; has_children: boolean; rewritten: boolean }>`
      insert into graph_object as o (org_id, id, cloud_id, connection_id, type, product, external_id, display_name, description, url,
        container_type, container_external_id, container_id, properties, permissions, acl, view_keys, view_controls,
        created_at, last_updated_at, update_sequence_number, deleted, has_children)
      select ${orgId}, r.id, r.cloud_id, r.connection_id, r.type, r.product, r.external_id, r.display_name, r.description, r.url,
        r.container_type, r.container_external_id, r.container_id, r.properties, r.permissions, r.acl, r.view_keys, r.view_controls,
        r.created_at, r.last_updated_at, r.update_sequence_number, false, r.has_children
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
        id text, cloud_id text, connection_id text, type text, product text, external_id text, display_name text,
        description text, url text, container_type text, container_external_id text, container_id text,
        properties jsonb, permissions jsonb, acl jsonb, view_keys text[], view_controls smallint,
        created_at timestamptz, last_updated_at timestamptz, update_sequence_number bigint, has_children boolean)
      order by r.connection_id, r.type, r.external_id
      on conflict (org_id, connection_id, type, external_id) do update set
        display_name = excluded.display_name, description = excluded.description, url = excluded.url,
        container_type = excluded.container_type, container_external_id = excluded.container_external_id,
        container_id = excluded.container_id, properties = excluded.properties, permissions = excluded.permissions,
        acl = excluded.acl, view_keys = excluded.view_keys, view_controls = excluded.view_controls,
        created_at = excluded.created_at, last_updated_at = excluded.last_updated_at,
        update_sequence_number = excluded.update_sequence_number, deleted = false,
        has_children = o.has_children or excluded.has_children
      where o.update_sequence_number < excluded.update_sequence_number
      -- xmax is 0 in a row this statement inserted, and set in one it updated (a rewrite).
      returning o.id, o.has_children, o.xmax <> 0 as rewritten
    `.execute(this.db);
    if (written.length === 0) return new Set();
    const writtenIds = new Set(written.map((w) => w.id));
    const byId = new Map(sorted.map((w) => [w.id, w]));
    // Stored children that were waiting for a written container move into it.
    const { rows: adopted } = await sql<{ container_id: string }>`
      update graph_object g set container_id = x.container_id
      from (
        select child.ctid, w.id as container_id
        from unnest(${[...writtenIds]}::text[], ${[...writtenIds].map((id) => byId.get(id)!.connectionId)}::text[],
                    ${[...writtenIds].map((id) => byId.get(id)!.type)}::text[], ${[...writtenIds].map((id) => byId.get(id)!.externalId)}::text[]) as w(id, connection_id, type, external_id)
        cross join lateral (
          select ctid from graph_object child
          where child.org_id = ${orgId} and child.connection_id = w.connection_id and child.container_id is null
            and child.container_external_id is not null and child.container_type = w.type and child.container_external_id = w.external_id
          offset 0
        ) child
      ) x
      where g.org_id = ${orgId} and g.ctid = x.ctid
      returning x.container_id
    `.execute(this.db);
    // Containers that now have children and were not marked: those the batch names and those that adopted.
    const markedWritten = new Set(written.filter((w) => w.has_children).map((w) => w.id));
    const toMark = [...new Set([...named, ...adopted.map((a) => a.container_id)])].filter((id) => !markedWritten.has(id)).sort();
    const { rows: marked } =
      toMark.length === 0
        ? { rows: [] as { id: string }[] }
        : await sql<{ id: string }>`
            update graph_object g set has_children = true
            from (select m.id, x.ctid from unnest(${toMark}::text[]) as m(id)
                  cross join lateral (select ctid from graph_object where org_id = ${orgId} and id = m.id and not has_children offset 0) x) t
            where g.org_id = ${orgId} and g.ctid = t.ctid
            returning g.id
          `.execute(this.db);
    const containers = new Set([...markedWritten, ...marked.map((m) => m.id)]);
    // The VIEW index: entries no longer in a written object's ACL go, the others are upserted;
    // a stored container marked just now has its entries flagged.
    const entries = [...writtenIds].flatMap((id) => {
      const w = byId.get(id)!;
      return w.acl.VIEW.flatMap((control, controlNo) =>
        control.map((principalKey) => ({ object_id: id, control_no: controlNo, principal_key: principalKey, last_updated_at: w.lastUpdatedAt, on_container: containers.has(id) })),
      );
    });
    // Only a rewritten object can have entries its new ACL no longer holds: a bulk load of new
    // objects skips the statement.
    const rewritten = written.filter((w) => w.rewritten).map((w) => w.id);
    if (rewritten.length > 0) {
      await sql`
      delete from acl_entry e
      where e.org_id = ${orgId} and e.ctid = any(array(
        select x.ctid from unnest(${rewritten}::text[]) as w(id)
        cross join lateral (select ctid, control_no, principal_key from acl_entry where org_id = ${orgId} and object_id = w.id offset 0) x
        where not exists (
          select 1 from json_to_recordset(${JSON.stringify(entries)}::json) as n(object_id text, control_no smallint, principal_key text)
          where n.object_id = w.id and n.control_no = x.control_no and n.principal_key = x.principal_key)
      ))
    `.execute(this.db);
    }
    if (entries.length > 0) {
      await sql`
        insert into acl_entry (org_id, principal_key, object_id, control_no, last_updated_at, on_container)
        select ${orgId}, n.principal_key, n.object_id, n.control_no, n.last_updated_at, n.on_container
        from json_to_recordset(${JSON.stringify(entries)}::json) as n(object_id text, control_no smallint, principal_key text, last_updated_at timestamptz, on_container boolean)
        order by n.object_id, n.control_no, n.principal_key
        on conflict (org_id, object_id, control_no, principal_key) do update set
          last_updated_at = excluded.last_updated_at, on_container = excluded.on_container
      `.execute(this.db);
    }
    const markedStored = marked.map((m) => m.id).filter((id) => !writtenIds.has(id));
    if (markedStored.length > 0) {
      await sql`update acl_entry set on_container = true where org_id = ${orgId} and object_id = any(${markedStored}::text[]) and not on_container`.execute(this.db);
    }
    return writtenIds;
  }

  /** Updates the fields a person may change; ACL and identity stay, the VIEW index follows the time. */
  async updateFields(orgId: string, id: string, fields: { display_name?: string; description?: string | null; properties?: string | null; last_updated_at: Date }) {
    await this.db.updateTable('graph_object').set(fields).where('org_id', '=', orgId).where('id', '=', id).where('deleted', '=', false).execute();
    await this.db.updateTable('acl_entry').set({ last_updated_at: fields.last_updated_at }).where('org_id', '=', orgId).where('object_id', '=', id).execute();
  }

  /** Tombstones existing objects whose sequence number is older; returns the ids deleted. */
  async tombstone(orgId: string, items: { id: string; usn: number }[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const rows = await sql<{ id: string }>`
      update graph_object o set deleted = true, update_sequence_number = d.usn
      from unnest(${items.map((i) => i.id)}::text[], ${items.map((i) => i.usn)}::bigint[]) as d(id, usn)
      where o.org_id = ${orgId} and o.id = d.id and o.update_sequence_number < d.usn
      returning o.id
    `.execute(this.db);
    const ids = rows.rows.map((r) => r.id);
    if (ids.length > 0) await this.db.deleteFrom('acl_entry').where('org_id', '=', orgId).where('object_id', 'in', ids).execute();
    return new Set(ids);
  }

  /** A tombstone for an object never stored, so an older write cannot create it later. */
  async insertTombstones(rows: { orgId: string; id: string; cloudId: string; connectionId: string; type: string; product: string; externalId: string; usn: number; now: Date }[]) {
    if (rows.length === 0) return new Set<string>();
    const written = await this.db
      .insertInto('graph_object')
      .values(
        rows.map((r) => ({
          org_id: r.orgId,
          id: r.id,
          cloud_id: r.cloudId,
          connection_id: r.connectionId,
          type: r.type,
          product: r.product,
          external_id: r.externalId,
          display_name: '',
          permissions: '[]',
          acl: JSON.stringify({ VIEW: [], EDIT: [], DELETE: [] }),
          view_keys: [],
          view_controls: 0,
          created_at: r.now,
          last_updated_at: r.now,
          update_sequence_number: r.usn,
          deleted: true,
        })),
      )
      .onConflict((c) => c.columns(['org_id', 'connection_id', 'type', 'external_id']).doNothing())
      .returning('id')
      .execute();
    return new Set(written.map((r) => r.id));
  }

}

const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The object of one connection with a given type and external id. `limit 1` keeps the planner
 * from flattening the lateral step into a join, so each key is one unique-index lookup whatever
 * the table statistics say (a bulk load outruns autovacuum's ANALYZE).
 */
function byKey(orgId: string, connectionId: string, type: RawBuilder<unknown>, externalId: RawBuilder<unknown>) {
  return sql`
    select * from graph_object
    where org_id = ${orgId} and connection_id = ${connectionId} and type = ${type} and external_id = ${externalId}
    limit 1`;
}
