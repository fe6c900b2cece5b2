// The Node interface: every id carries its kind, so `node(id)` knows which type it names.
import { type IdKind, idKind } from '../shared/ids.ts';
import { builder } from './builder.ts';
import type { RequestContext } from './context.ts';

export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
});

/** isTypeOf for a Node type: its values are the ones whose id has the kind's prefix. */
export const isNodeOfKind = (kind: IdKind) => (value: unknown) =>
  typeof (value as { id?: unknown })?.id === 'string' && idKind((value as { id: string }).id) === kind;

type NodeLoader = (id: string, ctx: RequestContext) => Promise<{ id: string } | null>;
const loaders = new Map<string, NodeLoader>();

/** Each module registers how to load its nodes, already filtered for the caller. */
export function registerNodeLoader(kind: string, load: NodeLoader): void {
  loaders.set(kind, load);
}

builder.queryField('node', (t) =>
  t.field({
    type: NodeRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const load = loaders.get(idKind(id) ?? '');
      return load ? load(id, ctx) : null;
    },
  }),
);
