// GraphObject and the object fields and mutations. Reads go through the request's
// ObjectReadService (the ACL and the request's permissions, PRODUCT §3, §5); changes through
// ObjectService with it.
import type { ExplainedPrincipal, RawPermission } from '../../authz/acl-engine.ts';
import type { ObjectRow } from '../../authz/visibility-filter.ts';
import type { Product } from '../cli-permission/catalog.ts';
import { builder } from '../../graphql/builder.ts';
import { AclActionEnum, PrincipalTypeEnum, ProductEnum } from '../../graphql/enums.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { connectionRefs } from '../../graphql/pagination.ts';
import { isAdmin } from '../session/caller.ts';
import { MAX_TEXT_FILTER } from './object-read.service.ts';

const PrincipalRef = builder.objectRef<ExplainedPrincipal>('Principal').implement({
  fields: (t) => ({
    type: t.field({ type: PrincipalTypeEnum, resolve: (p) => p.type }),
    id: t.exposeString('id', { nullable: true }),
  }),
});
export { PrincipalRef };

const AccessControlRef = builder.objectRef<RawPermission['accessControls'][number]>('AccessControl').implement({
  fields: (t) => ({ principals: t.field({ type: [PrincipalRef], resolve: (c) => c.principals }) }),
});

const PermissionRef = builder.objectRef<RawPermission>('Permission').implement({
  fields: (t) => ({
    action: t.field({ type: AclActionEnum, resolve: (p) => p.action }),
    accessControls: t.field({ type: [AccessControlRef], resolve: (p) => p.accessControls }),
  }),
});

export const ObjectTypeRef = builder.objectRef<{ name: string; product: Product; description: string }>('ObjectType').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    product: t.field({ type: ProductEnum, resolve: (o) => o.product }),
    description: t.exposeString('description'),
  }),
});

export const GraphObjectRef = builder.objectRef<ObjectRow>('GraphObject');
export const GraphObjectConnectionRef = connectionRefs<ObjectRow>('GraphObject', GraphObjectRef);

GraphObjectRef.implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('object'),
  fields: (t) => ({
    id: t.exposeID('id'),
    cloudId: t.exposeID('cloud_id'),
    connectionId: t.exposeID('connection_id'),
    type: t.exposeString('type'),
    // Stored from the catalogue's type at ingestion (graph_object.product is text).
    product: t.field({ type: ProductEnum, resolve: (o) => o.product as Product }),
    externalId: t.exposeString('external_id'),
    displayName: t.exposeString('display_name'),
    description: t.exposeString('description', { nullable: true }),
    url: t.exposeString('url', { nullable: true }),
    properties: t.field({ type: 'JSON', nullable: true, resolve: (o) => o.properties ?? null }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (o) => o.created_at }),
    lastUpdatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (o) => o.last_updated_at }),
    updateSequenceNumber: t.field({ type: 'SafeInt', resolve: (o) => o.update_sequence_number }),
    container: t.field({
      type: GraphObjectRef,
      nullable: true,
      description: 'Null when there is none or the caller may not view it.',
      resolve: (o, _args, ctx) => (o.container_id ? ctx.objects.readable(o.container_id) : null),
    }),
    children: t.field({
      type: GraphObjectConnectionRef,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: (o, args, ctx) => ctx.objects.children(o.id, args),
    }),
    permissions: t.field({
      type: [PermissionRef],
      nullable: true,
      description: 'Only for org admins and the owning connection; null otherwise.',
      resolve: (o, _args, ctx) => {
        const caller = ctx.caller;
        const owner = caller.kind === 'connection' && caller.connectionId === o.connection_id;
        // Stored normalised at ingestion (normalizePermissions), as JSON.
        return owner || isAdmin(caller) ? (o.permissions as RawPermission[]) : null;
      },
    }),
    viewerCanEdit: t.boolean({ resolve: (o, _args, ctx) => ctx.objects.can(o.id, 'EDIT') }),
    viewerCanDelete: t.boolean({ resolve: (o, _args, ctx) => ctx.objects.can(o.id, 'DELETE') }),
  }),
});

registerNodeLoader('object', (id, ctx) => ctx.objects.readable(id));

const ObjectFilterInput = builder.inputType('ObjectFilter', {
  fields: (t) => ({
    cloudIds: t.idList(),
    types: t.stringList(),
    products: t.field({ type: [ProductEnum] }),
    containerId: t.id(),
    text: t.string({
      description: `Case-insensitive match on display name and description; at most ${MAX_TEXT_FILTER} characters (longer: BAD_USER_INPUT STRING_TOO_LONG).`,
      extensions: { maxLength: MAX_TEXT_FILTER },
    }),
    updatedAfter: t.field({ type: 'DateTime' }),
    updatedBefore: t.field({ type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  object: t.field({
    type: GraphObjectRef,
    nullable: true,
    description: 'An object the caller may view; null when it is missing or invisible.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.objects.readable(id),
  }),
  objectByExternalId: t.field({
    type: GraphObjectRef,
    nullable: true,
    args: { connectionId: t.arg.id({ required: true }), type: t.arg.string({ required: true }), externalId: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.objects.byExternalId(args.connectionId, args.type, args.externalId),
  }),
  objects: t.field({
    type: GraphObjectConnectionRef,
    // PRODUCT §5: a RESTRICTED list is null with its error; the request's other fields still resolve.
    nullable: true,
    description: 'Objects the caller may view, newest update first unless the filter says otherwise. Null, with a RESTRICTED error, when the filter names a type the request may not read.',
    authScopes: { account: true },
    args: { filter: t.arg({ type: ObjectFilterInput }), first: t.arg.int(), after: t.arg.string() },
    resolve: (_root, { filter, first, after }, ctx) => ctx.objects.list(filter, { first, after }),
  }),
  objectTypes: t.field({
    type: [ObjectTypeRef],
    resolve: (_root, _args, ctx) => [...ctx.catalog.objectTypes],
  }),
}));

const CreateObjectInput = builder.inputType('CreateObjectInput', {
  fields: (t) => ({
    containerId: t.id({ required: true, description: 'The container (a project, a space, a folder) the new object goes into.' }),
    type: t.string({ required: true }),
    displayName: t.string({ required: true }),
    description: t.string(),
    properties: t.field({ type: 'JSON' }),
  }),
});

const UpdateObjectInput = builder.inputType('UpdateObjectInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    displayName: t.string(),
    description: t.string(),
    properties: t.field({ type: 'JSON' }),
  }),
});

const DeleteObjectPayloadRef = builder.objectRef<{ deletedObjectId: string }>('DeleteObjectPayload').implement({
  fields: (t) => ({ deletedObjectId: t.exposeID('deletedObjectId') }),
});

builder.mutationFields((t) => ({
  createObject: t.field({
    type: GraphObjectRef,
    authScopes: { account: true },
    args: { input: t.arg({ type: CreateObjectInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.objects.createObject(ctx.objects, input),
  }),
  updateObject: t.field({
    type: GraphObjectRef,
    authScopes: { account: true },
    args: { input: t.arg({ type: UpdateObjectInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.objects.updateObject(ctx.objects, input),
  }),
  deleteObject: t.field({
    type: DeleteObjectPayloadRef,
    authScopes: { account: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await ctx.services.objects.deleteObject(ctx.objects, id);
      return { deletedObjectId: id };
    },
  }),
}));
