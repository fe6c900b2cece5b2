// GraphObject.relationships as one request's caller may read them (PRODUCT §2): edges whose both
// ends the caller may view and read, batched across parent objects so a page of objects costs the
// same few statements at any size. Built once per request over the request's object reads.
import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import type { PermissionGate } from '../../authz/permission-gate.ts';
import type { ObjectRow } from '../../authz/visibility-filter.ts';
import type { Database } from '../../db/database.ts';
import { type ConnectionShape, decodeCursor, encodeCursor, pageSize, toConnection } from '../../shared/cursor.ts';
import type { ObjectReadService } from '../object/object-read.service.ts';
import type { Caller } from '../session/caller.ts';
import { type EdgeKey, MAX_EDGES_PER_OBJECT, RelationshipRepository } from './relationship.repository.ts';

export interface RelationshipShape {
  type: string;
  from: ObjectRow;
  to: ObjectRow;
  properties: unknown;
  sortKey: EdgeKey;
}

export type Direction = 'OUTGOING' | 'INCOMING' | 'BOTH';

export interface RelationshipPageArgs {
  type?: string | null;
  direction?: Direction | null;
  first?: number | null;
  after?: string | null;
}

export class RelationshipReadService {
  /** One loader per distinct page asked for, so sibling objects' pages share statements. */
  private readonly loaders = new Map<string, DataLoader<string, RelationshipShape[]>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly caller: Caller,
    private readonly gate: PermissionGate,
    private readonly objects: ObjectReadService,
  ) {}

  async page(objectId: string, args: RelationshipPageArgs): Promise<ConnectionShape<RelationshipShape>> {
    const size = pageSize(args.first);
    const after = args.after ? (decodeCursor(args.after, ['string', 'string', 'string']) as EdgeKey) : null;
    if (this.caller.kind !== 'account') return toConnection([], size, () => '');
    const edges = await this.loader(args.direction ?? 'BOTH', args.type ?? null, size + 1, after).load(objectId);
    return toConnection(edges.slice(0, size + 1), size, (e) => encodeCursor(e.sortKey));
  }

  private loader(direction: Direction, type: string | null, wanted: number, after: EdgeKey | null) {
    const key = `${direction}:${type ?? ''}:${wanted}:${after?.join('\u0000') ?? ''}`;
    let loader = this.loaders.get(key);
    if (!loader) {
      loader = new DataLoader((anchorIds) => this.load(anchorIds, direction, type, wanted, after));
      this.loaders.set(key, loader);
    }
    return loader;
  }

  /**
   * A page of each object's visible, readable edges in (type, other id, from id) order after
   * `after`: edges are read a window at a time and their ends checked, so a page costs about the
   * page, not the object's edges (issue 16); an object whose window held invisible edges is read
   * again past them, all objects of the batch in one statement per round.
   */
  private async load(anchorIds: readonly string[], direction: Direction, type: string | null, wanted: number, after: EdgeKey | null): Promise<RelationshipShape[][]> {
    const repository = new RelationshipRepository(this.db);
    const readable = new Set(await this.gate.readableTypes());
    const found = new Map<string, RelationshipShape[]>(anchorIds.map((id) => [id, []]));
    const examined = new Map<string, number>(anchorIds.map((id) => [id, 0]));
    let pending = anchorIds.map((id) => ({ id, after }));
    for (let window = wanted; pending.length > 0; window = Math.min(window * 4, MAX_EDGES_PER_OBJECT)) {
      const rows = await repository.listForObjects(this.caller.orgId, pending, direction, type, window);
      const others = await Promise.all(rows.map((row) => this.objects.visible(row.other_id)));
      const anchors = await Promise.all(rows.map((row) => this.objects.rows.load(row.anchor_id)));
      const last = new Map<string, EdgeKey>();
      const read = new Map<string, number>();
      rows.forEach((row, i) => {
        const key: EdgeKey = [row.type, row.other_id, row.from_object_id];
        last.set(row.anchor_id, key);
        read.set(row.anchor_id, (read.get(row.anchor_id) ?? 0) + 1);
        const other = others[i];
        const anchor = anchors[i];
        if (!other || !anchor || !readable.has(other.type)) return;
        const outgoing = row.from_object_id === row.anchor_id;
        found.get(row.anchor_id)!.push({ type: row.type, from: outgoing ? anchor : other, to: outgoing ? other : anchor, properties: row.properties, sortKey: key });
      });
      pending = pending.flatMap(({ id }) => {
        const count = read.get(id) ?? 0;
        examined.set(id, examined.get(id)! + count);
        const more = count === window && found.get(id)!.length < wanted && examined.get(id)! < MAX_EDGES_PER_OBJECT;
        return more ? [{ id, after: last.get(id)! }] : [];
      });
    }
    return anchorIds.map((id) => found.get(id)!);
  }
}
