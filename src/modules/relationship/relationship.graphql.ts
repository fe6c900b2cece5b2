// GraphObject.relationships: edges whose both ends the caller may view (PRODUCT §2), batched
// across parent objects so a page of objects costs the same few statements at any size.
import DataLoader from 'dataloader';
import type { ObjectRow } from '../../authz/visibility-filter.ts';
import { builder } from '../../graphql/builder.ts';
import { type RequestContext, requestCached } from '../../graphql/context.ts';
import { RelationshipDirectionEnum } from '../../graphql/enums.ts';
import { connectionRefs, toConnection } from '../../graphql/pagination.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../shared/cursor.ts';
import { GraphObjectRef, visibleObject } from '../object/object.graphql.ts';
import { type EdgeKey, MAX_EDGES_PER_OBJECT, type RelationshipRow, RelationshipRepository } from './relationship.repository.ts';

interface RelationshipShape {
  type: string;
  from: ObjectRow;
  to: ObjectRow;
  properties: unknown;
  sortKey: [string, string, string];
}

const RelationshipRef = builder.objectRef<RelationshipShape>('Relationship').implement({
  fields: (t) => ({
    type: t.exposeString('type'),
    from: t.field({ type: GraphObjectRef, resolve: (r) => r.from }),
    to: t.field({ type: GraphObjectRef, resolve: (r) => r.to }),
    properties: t.field({ type: 'JSON', nullable: true, resolve: (r) => r.properties ?? null }),
  }),
});
const RelationshipConnectionRef = connectionRefs<RelationshipShape>('Relationship', RelationshipRef);

type Direction = 'OUTGOING' | 'INCOMING' | 'BOTH';

/**
 * A page of each object's visible, readable edges in (type, other id, from id) order after
 * `after`: edges are read a window at a time and their ends checked, so a page costs about the
 * page, not the object's edges (issue 16); an object whose window held invisible edges is read
 * again past them, all objects of the batch in one statement per round.
 */
function edgesLoader(ctx: RequestContext, direction: Direction, type: string | null, wanted: number, after: EdgeKey | null) {
  return requestCached(ctx, `relationships:${direction}:${type ?? ''}:${wanted}:${after?.join('\u0000') ?? ''}`, () =>
    new DataLoader<string, RelationshipShape[]>(async (anchorIds) => {
      const repository = new RelationshipRepository(ctx.services.db);
      const readable = new Set(await ctx.gate.readableTypes());
      const found = new Map<string, RelationshipShape[]>(anchorIds.map((id) => [id, []]));
      const examined = new Map<string, number>(anchorIds.map((id) => [id, 0]));
      let pending = anchorIds.map((id) => ({ id, after }));
      for (let window = wanted; pending.length > 0; window = Math.min(window * 4, MAX_EDGES_PER_OBJECT)) {
        const rows = await repository.listForObjects(ctx.caller.orgId, pending, direction, type, window);
        const others = await Promise.all(rows.map((row) => visibleObject(ctx, row.other_id)));
        const anchors = await Promise.all(rows.map((row) => ctx.objectRows.load(row.anchor_id)));
        const last = new Map<string, EdgeKey>();
        const read = new Map<string, number>();
        rows.forEach((row: RelationshipRow, i) => {
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
    }),
  );
}

builder.objectField(GraphObjectRef, 'relationships', (t) =>
  t.field({
    type: RelationshipConnectionRef,
    args: {
      type: t.arg.string(),
      direction: t.arg({ type: RelationshipDirectionEnum }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (object, args, ctx) => {
      const size = pageSize(args.first);
      const after = args.after ? (decodeCursor(args.after, ['string', 'string', 'string']) as EdgeKey) : null;
      if (ctx.caller.kind !== 'account') return toConnection([], size, () => '');
      const page = await edgesLoader(ctx, args.direction ?? 'BOTH', args.type ?? null, size + 1, after).load(object.id);
      return toConnection(page.slice(0, size + 1), size, (e) => encodeCursor(e.sortKey));
    },
  }),
);
