// The Node interface: every id carries its kind, so `node(id)` knows which type it names.
import { idKind } from '../shared/ids.ts';
import { builder } from './builder.ts';
import type { RequestContext } from './context.ts';

const TYPE_OF_KIND: Record<string, string> = {
  object: 'GraphObject',
  account: 'Account',
  organization: 'Organization',
  site: 'Site',
  session: 'Session',
};

export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  resolveType: (value) => TYPE_OF_KIND[idKind(value.id) ?? ''] ?? null,
  fields: (t) => ({ id: t.exposeID('id') }),
});

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
