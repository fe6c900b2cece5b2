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
   * The stored objects (live or tombstones) at the given keys and above them, each with its id and
   * container reference, followed up through stored objects (cycles cannot be stored, and the walk
   * stops after 1,000 levels regardless).
   */
  async findContainerChains(orgId: string, connectionId: string, starts: ObjectKey[]): Promise<Map<string, { id: string; container: ObjectKey | null }>> {
    if (starts.length === 0) return new Map();
    const rows = await sql<{ id: string; type: string; external_id: string; container_type: string | null; container_external_id: string | null }>`
      with recursive up (id, type, external_id, container_type, container_external_id, depth) as (
        select o.id, o.type, o.external_id, o.container_type, o.container_external_id, 0
        from unnest(${starts.map((k) => k.type)}::text[], ${starts.map((k) => k.externalId)}::text[]) as k(type, external_id)
        cross join lateral (${byKey(orgId, connectionId, sql`k.type`, sql`k.external_id`)}) o
        union all
        select o.id, o.type, o.external_id, o.container_type, o.container_external_id, up.depth + 1
        from up cross join lateral (${byKey(orgId, connectionId, sql`up.container_type`, sql`up.container_external_id`)}) o
        where up.depth < 1000
      )
      select distinct id, type, external_id, container_type, container_external_id from up
    `.execute(this.db);
    return new Map(
      rows.rows.map((r) => [
        keyOf(r.type, r.external_id),
        { id: r.id, container: r.container_type && r.container_external_id ? { type: r.container_type, externalId: r.container_external_id } : null },
      ]),
    );
  }

  /**
   * Writes objects whose sequence number is newer than the stored one (a concurrent newer write
   * wins) and returns the ids actually written. Also rewrites their ACL index.
   */
  async upsert(writes: ObjectWrite[], previouslyStored: ReadonlySet<string> = new Set()): Promise<Set<string>> {
    if (writes.length === 0) return new Set();
    const rows = writes.map((w) => ({
      org_id: w.orgId,
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
      properties: w.properties === null || w.properties === undefined ? null : JSON.stringify(w.properties),
      permissions: JSON.stringify(w.permissions),
      acl: JSON.stringify(w.acl),
      view_keys: w.acl.VIEW.flat(),
      view_controls: w.acl.VIEW.length,
      created_at: w.createdAt,
      last_updated_at: w.lastUpdatedAt,
      update_sequence_number: w.usn,
      deleted: false,
    }));
    const written = await this.db
      .insertInto('graph_object')
      .values(rows)
      .onConflict((c) =>
        c
          .columns(['org_id', 'connection_id', 'type', 'external_id'])
          .doUpdateSet((eb) => ({
            display_name: eb.ref('excluded.display_name'),
            description: eb.ref('excluded.description'),
            url: eb.ref('excluded.url'),
            container_type: eb.ref('excluded.container_type'),
            container_external_id: eb.ref('excluded.container_external_id'),
            container_id: eb.ref('excluded.container_id'),
            properties: eb.ref('excluded.properties'),
            permissions: eb.ref('excluded.permissions'),
            acl: eb.ref('excluded.acl'),
            view_keys: eb.ref('excluded.view_keys'),
            view_controls: eb.ref('excluded.view_controls'),
            created_at: eb.ref('excluded.created_at'),
            last_updated_at: eb.ref('excluded.last_updated_at'),
            update_sequence_number: eb.ref('excluded.update_sequence_number'),
            deleted: false,
          }))
          .whereRef('graph_object.update_sequence_number', '<', 'excluded.update_sequence_number'),
      )
      .returning(['id', 'has_children'])
      .execute();
    const ids = new Set(written.map((r) => r.id));
    const containers = new Set(written.filter((r) => r.has_children).map((r) => r.id));
    const stored = writes.filter((w) => ids.has(w.id));
    await this.replaceAclEntries(stored, previouslyStored, containers);
    const adopters = await this.adoptWaitingChildren(stored);
    await this.markContainers(stored[0]?.orgId, [...stored.flatMap((w) => (w.containerId ? [w.containerId] : [])), ...adopters]);
    return ids;
  }

  /** Updates the fields a person may change; ACL and identity stay, the VIEW index follows the time. */
  async updateFields(orgId: string, id: string, fields: { display_name?: string; description?: string | null; properties?: string | null; last_updated_at: Date }) {
    await this.db.updateTable('graph_object').set(fields).where('org_id', '=', orgId).where('id', '=', id).where('deleted', '=', false).execute();
    await this.db.updateTable('acl_entry').set({ last_updated_at: fields.last_updated_at }).where('org_id', '=', orgId).where('object_id', '=', id).execute();
  }

  /**
   * Marks the given objects, and their VIEW entries, as containers (migration 016); tombstones too,
   * since children keep pointing at a deleted container that may come back. Rows already
   * marked are not touched, so concurrent batches filing into one container do not queue on its
   * row; a concurrent rewrite of the container's entries waits for the row and then sees the mark.
   */
  private async markContainers(orgId: string | undefined, ids: string[]) {
    if (!orgId || ids.length === 0) return;
    const marked = await sql<{ id: string }>`
      update graph_object set has_children = true
      where org_id = ${orgId} and id = any(${[...new Set(ids)]}::text[]) and not has_children
      returning id
    `.execute(this.db);
    if (marked.rows.length === 0) return;
    await sql`
      update acl_entry set on_container = true
      where org_id = ${orgId} and object_id = any(${marked.rows.map((r) => r.id)}::text[])
    `.execute(this.db);
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

  /**
   * Rewrites the VIEW index of the written objects (migration 016: the list filter's streams read
   * it newest first); new objects have no entries to remove.
   */
  private async replaceAclEntries(writes: ObjectWrite[], previouslyStored: ReadonlySet<string>, containers: ReadonlySet<string>) {
    if (writes.length === 0) return;
    const orgId = writes[0].orgId;
    const replaced = writes.filter((w) => previouslyStored.has(w.id)).map((w) => w.id);
    if (replaced.length > 0) await this.db.deleteFrom('acl_entry').where('org_id', '=', orgId).where('object_id', 'in', replaced).execute();
    const entries = writes.flatMap((w) =>
      w.acl.VIEW.flatMap((control, controlNo) =>
        control.map((principalKey) => ({
          org_id: orgId,
          principal_key: principalKey,
          object_id: w.id,
          control_no: controlNo,
          last_updated_at: w.lastUpdatedAt,
          on_container: containers.has(w.id),
        })),
      ),
    );
    for (let i = 0; i < entries.length; i += 5000) {
      await this.db.insertInto('acl_entry').values(entries.slice(i, i + 5000)).execute();
    }
  }

  /**
   * Points children that were ingested before their container at the written objects. Drives from
   * the written keys through the partial index of waiting children, so it costs the same at any size.
   * Returns the containers that adopted children.
   */
  private async adoptWaitingChildren(writes: ObjectWrite[]): Promise<string[]> {
    if (writes.length === 0) return [];
    const { orgId, connectionId } = writes[0];
    const adopted = await sql<{ container_id: string }>`
      update graph_object c set container_id = waiting.container_id
      from unnest(${writes.map((w) => w.id)}::text[], ${writes.map((w) => w.type)}::text[], ${writes.map((w) => w.externalId)}::text[]) as w(id, type, external_id)
      cross join lateral (
        select child.id, w.id as container_id from graph_object child
        where child.org_id = ${orgId} and child.connection_id = ${connectionId} and child.container_id is null
          and child.container_external_id is not null and child.container_type = w.type and child.container_external_id = w.external_id
        offset 0
      ) waiting
      where c.org_id = ${orgId} and c.id = waiting.id
      returning c.container_id
    `.execute(this.db);
    return adopted.rows.map((r) => r.container_id);
  }
}

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
