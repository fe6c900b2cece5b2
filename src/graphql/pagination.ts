// The Relay-style Connection, Edge and PageInfo types for the keyset pages of shared/cursor.ts.
import type { OutputRef } from '@pothos/core';
import type { ConnectionShape, PageInfoShape } from '../shared/cursor.ts';
import { builder } from './builder.ts';

export const PageInfoRef = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

export function connectionRefs<T>(name: string, nodeRef: OutputRef<T>) {
  // Pothos cannot work out a field's shape from a type parameter: the edge's node field is
  // declared over the widened ref, and `nodeRef: OutputRef<T>` keeps callers matching T.
  const nodeType: OutputRef<unknown> = nodeRef;
  const EdgeRef = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: nodeType, resolve: (edge) => edge.node }),
    }),
  });
  return builder.objectRef<ConnectionShape<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [EdgeRef], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    }),
  });
}
