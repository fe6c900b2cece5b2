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
import { type RelationshipRow, RelationshipRepository } from './relationship.repository.ts';

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

/** Visible, readable edges of each object, in (type, other id, from id) order. */
function edgesLoader(ctx: RequestContext, direction: Direction, type: string | null) {
  return requestCached(ctx, `relationships:${direction}:${type ?? ''}`, () =>
    new DataLoader<string, RelationshipShape[]>(async (anchorIds) => {
      const rows = await new RelationshipRepository(ctx.services.db).listForObjects(ctx.caller.orgId, anchorIds, direction, type);
      const readable = new Set(await ctx.gate.readableTypes());
      const others = await Promise.all(rows.map((row) => visibleObject(ctx, row.other_id)));
      const anchors = await Promise.all(rows.map((row) => ctx.objectRows.load(row.anchor_id)));
      const byAnchor = new Map<string, RelationshipShape[]>();
      rows.forEach((row: RelationshipRow, i) => {
        const other = others[i];
        const anchor = anchors[i];
        if (!other || !anchor || !readable.has(other.type)) return;
        const outgoing = row.from_object_id === row.anchor_id;
        const edge: RelationshipShape = {
          type: row.type,
          from: outgoing ? anchor : other,
          to: outgoing ? other : anchor,
          properties: row.properties,
          sortKey: [row.type, row.other_id, row.from_object_id],
        };
        byAnchor.set(row.anchor_id, [...(byAnchor.get(row.anchor_id) ?? []), edge]);
      });
      // Sorted here, not by the database collation, so cursors compare the same way.
      return anchorIds.map((id) => (byAnchor.get(id) ?? []).sort((a, b) => compareKeys(a.sortKey, b.sortKey)));
    }),
  );
}

const compareKeys = (a: string[], b: string[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
};

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
      const after = args.after ? (decodeCursor(args.after, ['string', 'string', 'string']) as string[]) : null;
      if (ctx.caller.kind !== 'account') return toConnection([], size, () => '');
      const edges = await edgesLoader(ctx, args.direction ?? 'BOTH', args.type ?? null).load(object.id);
      const page = (after ? edges.filter((e) => compareKeys(e.sortKey, after) > 0) : edges).slice(0, size + 1);
      return toConnection(page, size, (e) => encodeCursor(e.sortKey));
    },
  }),
);
