// GraphObject.relationships: edges whose both ends the caller may view (PRODUCT §2); read through
// relationship-read.service.ts.
import { builder } from '../../graphql/builder.ts';
import { RelationshipDirectionEnum } from '../../graphql/enums.ts';
import { connectionRefs } from '../../graphql/pagination.ts';
import { GraphObjectRef } from '../object/object.graphql.ts';
import type { RelationshipShape } from './relationship-read.service.ts';

const RelationshipRef = builder.objectRef<RelationshipShape>('Relationship').implement({
  fields: (t) => ({
    type: t.exposeString('type'),
    from: t.field({ type: GraphObjectRef, resolve: (r) => r.from }),
    to: t.field({ type: GraphObjectRef, resolve: (r) => r.to }),
    properties: t.field({ type: 'JSON', nullable: true, resolve: (r) => r.properties ?? null }),
  }),
});
const RelationshipConnectionRef = connectionRefs<RelationshipShape>('Relationship', RelationshipRef);

builder.objectField(GraphObjectRef, 'relationships', (t) =>
  t.field({
    type: RelationshipConnectionRef,
    args: {
      type: t.arg.string(),
      direction: t.arg({ type: RelationshipDirectionEnum }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (object, args, ctx) => ctx.relationships.page(object.id, args),
  }),
);
