// Relationships: typed directed edges between two objects, with sequence numbers and tombstones.
import { type Kysely, sql } from 'kysely';
import { organisationInStatement } from '../../db/coordinator-plans.ts';
import type { Database } from '../../db/database.ts';

export interface RelationshipRow {
  type: string;
  from_object_id: string;
  to_object_id: string;
  properties: unknown;
  /** The object on the other side of `anchor_id`. */
  anchor_id: string;
  other_id: string;
}

/** Edges examined per object and page at most: a page of an object whose edges are mostly invisible ends there. */
export const MAX_EDGES_PER_OBJECT = 1000;

/** An edge's place in an object's list: type, the other end's id, the from end's id. */
export type EdgeKey = [string, string, string];

export class RelationshipRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Writes (or tombstones) an edge unless a newer version is stored; true if written. */
  async upsert(row: { orgId: string; connectionId: string; type: string; fromId: string; toId: string; properties: unknown; usn: number; deleted: boolean; now: Date }): Promise<boolean> {
    const values = {
      org_id: row.orgId,
      connection_id: row.connectionId,
      type: row.type,
      from_object_id: row.fromId,
      to_object_id: row.toId,
      properties: row.properties === null || row.properties === undefined ? null : JSON.stringify(row.properties),
      update_sequence_number: row.usn,
      deleted: row.deleted,
      updated_at: row.now,
    };
    // The key is not set again: Citus refuses an update that names the distribution column.
    const { org_id: _org, from_object_id: _from, type: _type, to_object_id: _to, ...changes } = values;
    const result = await this.db
      .insertInto('relationship')
      .values(values)
      .onConflict((c) => c.columns(['org_id', 'from_object_id', 'type', 'to_object_id']).doUpdateSet(changes).where('relationship.update_sequence_number', '<', row.usn))
      .returning('type')
      .executeTakeFirst();
    return result !== undefined;
  }

  /**
   * Live edges touching the given objects, in the given direction, in (type, other id, from id)
   * order compared byte by byte (collation "C", as the API's cursors compare), each object's after
   * its own position (none: from the start), at most `limit` per object. One statement for any
   * number of objects, whose plan a Citus coordinator keeps (db/coordinator-plans.ts).
   */
  async listForObjects(
    orgId: string,
    anchors: readonly { id: string; after: EdgeKey | null }[],
    direction: 'OUTGOING' | 'INCOMING' | 'BOTH',
    type: string | null,
    limit: number,
  ): Promise<RelationshipRow[]> {
    const org = await organisationInStatement(this.db, orgId);
    const typeCondition = type === null ? sql`` : sql`and r.type = ${type}`;
    const outgoing = sql`
      select r.type, r.from_object_id, r.to_object_id, r.properties, r.from_object_id as anchor_id, r.to_object_id as other_id
      from relationship r where r.org_id = ${org} and r.from_object_id = a.id and not r.deleted ${typeCondition}`;
    const incoming = sql`
      select r.type, r.from_object_id, r.to_object_id, r.properties, r.to_object_id as anchor_id, r.from_object_id as other_id
      from relationship r where r.org_id = ${org} and r.to_object_id = a.id and not r.deleted ${typeCondition}`;
    const edges = direction === 'OUTGOING' ? outgoing : direction === 'INCOMING' ? incoming : sql`${outgoing} union all ${incoming}`;
    const result = await sql<RelationshipRow>`
      select e.* from unnest(
        ${anchors.map((a) => a.id)}::text[], ${anchors.map((a) => a.after?.[0] ?? null)}::text[],
        ${anchors.map((a) => a.after?.[1] ?? null)}::text[], ${anchors.map((a) => a.after?.[2] ?? null)}::text[]
      ) as a(id, after_type, after_other, after_from)
      cross join lateral (
        select * from (${edges}) edge
        where a.after_type is null
          or (edge.type collate "C", edge.other_id collate "C", edge.from_object_id collate "C") > (a.after_type, a.after_other, a.after_from)
        order by edge.type collate "C", edge.other_id collate "C", edge.from_object_id collate "C"
        limit ${limit}
      ) e
    `.execute(this.db);
    return result.rows;
  }
}
