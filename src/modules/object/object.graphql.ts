// GraphObject and the object fields and mutations. Reads go through the ACL: an invisible object
// is null (never an error), and a visible object whose read permission the request lacks is
// RESTRICTED (PRODUCT §3, §5).
import { listVisibleObjects, type ObjectRow } from '../../authz/visibility-filter.ts';
import { builder } from '../../graphql/builder.ts';
import type { RequestContext } from '../../graphql/context.ts';
import { AclActionEnum, PrincipalTypeEnum, ProductEnum } from '../../graphql/enums.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { connectionRefs, toConnection } from '../../graphql/pagination.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../shared/cursor.ts';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../shared/errors.ts';
import { isAdmin } from '../session/caller.ts';
import { ObjectRepository } from './object.repository.ts';

/** Issue 15: a text filter is matched against every candidate row; its cost grows with its length. */
const MAX_TEXT_FILTER = 200;

/** A live object the caller may view, or null. A connection sees its own objects. */
export async function visibleObject(ctx: RequestContext, id: string): Promise<ObjectRow | null> {
  if (ctx.caller.kind === 'connection') {
    const row = await ctx.objectRows.load(id);
    return row?.connection_id === ctx.caller.connectionId ? row : null;
  }
  // The decision's statement also loads the row (and primes objectRows with it).
  if (!(await ctx.access.can(id, 'VIEW'))) return null;
  return ctx.objectRows.load(id);
}

/** As visibleObject, and RESTRICTED when the request may not read objects of its type. */
export async function readableObject(ctx: RequestContext, id: string): Promise<ObjectRow | null> {
  const row = await visibleObject(ctx, id);
  if (row && ctx.caller.kind === 'account') {
    await ctx.gate.requireType(row.type, 'read');
    ctx.audit?.touched(row.type);
  }
  return row;
}

const objectCursor = (row: ObjectRow) => encodeCursor([row.last_updated_at.toISOString(), row.id]);

function afterPosition(after: string | null | undefined) {
  if (!after) return null;
  const [time, id] = decodeCursor(after, ['string', 'string']) as [string, string];
  const lastUpdatedAt = new Date(time);
  // Issue 15: the API writes a stored time as toISOString() does, with a four-digit year; a time
  // out of that form (and of PostgreSQL's range) is not one of its cursors.
  if (!/^\d{4}-/.test(time) || Number.isNaN(lastUpdatedAt.getTime()) || lastUpdatedAt.toISOString() !== time) {
    throw new BadUserInputError('INVALID_CURSOR', 'The cursor is not one this API returned.');
  }
  return { lastUpdatedAt, id };
}

interface ObjectListArgs {
  types: string[];
  cloudIds?: string[] | null;
  containerId?: string | null;
  text?: string | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
  first?: number | null;
  after?: string | null;
}

/** One page of visible objects; the only way objects are listed. */
export async function listObjects(ctx: RequestContext, args: ObjectListArgs) {
  const size = pageSize(args.first);
  const after = afterPosition(args.after);
  if (ctx.caller.kind !== 'account') throw new ForbiddenError('Listing objects needs a signed-in account.');
  const rows = await listVisibleObjects(
    ctx.services.db,
    ctx.caller.orgId,
    await ctx.viewer(),
    { types: args.types, cloudIds: args.cloudIds, containerId: args.containerId, text: args.text, updatedAfter: args.updatedAfter, updatedBefore: args.updatedBefore },
    { after, limit: size + 1 },
  );
  for (const row of rows) ctx.objectRows.prime(row.id, row);
  const connection = toConnection(rows, size, objectCursor);
  if (ctx.audit) {
    for (const { node } of connection.edges) {
      ctx.audit.touched(node.type);
      ctx.audit.used(ctx.catalog.objectType(node.type)!.readPermission);
    }
  }
  return connection;
}

const PrincipalRef = builder.objectRef<{ type: 'USER' | 'GROUP' | 'ATLASSIAN_WORKSPACE' | 'CONTAINER'; id: string | null }>('Principal').implement({
  fields: (t) => ({
    type: t.field({ type: PrincipalTypeEnum, resolve: (p) => p.type }),
    id: t.exposeString('id', { nullable: true }),
  }),
});
export { PrincipalRef };

const AccessControlRef = builder.objectRef<{ principals: { type: any; id: string | null }[] }>('AccessControl').implement({
  fields: (t) => ({ principals: t.field({ type: [PrincipalRef], resolve: (c) => c.principals }) }),
});

const PermissionRef = builder.objectRef<{ action: 'VIEW' | 'EDIT' | 'DELETE'; accessControls: { principals: any[] }[] }>('Permission').implement({
  fields: (t) => ({
    action: t.field({ type: AclActionEnum, resolve: (p) => p.action }),
    accessControls: t.field({ type: [AccessControlRef], resolve: (p) => p.accessControls }),
  }),
});

export const ObjectTypeRef = builder.objectRef<{ name: string; product: string; description: string }>('ObjectType').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    product: t.field({ type: ProductEnum, resolve: (o) => o.product as any }),
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
    product: t.field({ type: ProductEnum, resolve: (o) => o.product as any }),
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
      resolve: (o, _args, ctx) => (o.container_id ? readableObject(ctx, o.container_id) : null),
    }),
    children: t.field({
      type: GraphObjectConnectionRef,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (o, args, ctx) => listObjects(ctx, { types: await ctx.gate.readableTypes(), containerId: o.id, first: args.first, after: args.after }),
    }),
    permissions: t.field({
      type: [PermissionRef],
      nullable: true,
      description: 'Only for org admins and the owning connection; null otherwise.',
      resolve: (o, _args, ctx) => {
        const caller = ctx.caller;
        const owner = caller.kind === 'connection' && caller.connectionId === o.connection_id;
        return owner || isAdmin(caller) ? (o.permissions as any) : null;
      },
    }),
    viewerCanEdit: t.boolean({ resolve: (o, _args, ctx) => ctx.caller.kind === 'account' && ctx.access.can(o.id, 'EDIT') }),
    viewerCanDelete: t.boolean({ resolve: (o, _args, ctx) => ctx.caller.kind === 'account' && ctx.access.can(o.id, 'DELETE') }),
  }),
});

registerNodeLoader('object', (id, ctx) => readableObject(ctx, id));

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

/** The types a filter names, each checked for read permission; all readable types when unnamed. */
async function typesForFilter(ctx: RequestContext, filter: { types?: string[] | null; products?: string[] | null } | null | undefined): Promise<string[]> {
  const named = new Set<string>();
  for (const name of filter?.types ?? []) {
    if (!ctx.catalog.objectType(name)) throw new BadUserInputError('UNKNOWN_OBJECT_TYPE', `"${name}" is not an object type of the catalogue.`);
    named.add(name);
  }
  for (const product of filter?.products ?? []) {
    for (const type of ctx.catalog.objectTypes) if (type.product === product) named.add(type.name);
  }
  if (!filter?.types?.length && !filter?.products?.length) return ctx.gate.readableTypes();
  // PRODUCT §5: a filter naming something the request may not read is RESTRICTED.
  for (const name of named) await ctx.gate.requireType(name, 'read');
  return filter?.types?.length && filter?.products?.length
    ? [...named].filter((name) => filter.types!.includes(name) && filter.products!.includes(ctx.catalog.objectType(name)!.product))
    : [...named];
}

builder.queryFields((t) => ({
  object: t.field({
    type: GraphObjectRef,
    nullable: true,
    description: 'An object the caller may view; null when it is missing or invisible.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => readableObject(ctx, id),
  }),
  objectByExternalId: t.field({
    type: GraphObjectRef,
    nullable: true,
    args: { connectionId: t.arg.id({ required: true }), type: t.arg.string({ required: true }), externalId: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = await new ObjectRepository(ctx.services.db).findIdByExternalId(ctx.caller.orgId, args.connectionId, args.type, args.externalId);
      return id ? readableObject(ctx, id) : null;
    },
  }),
  objects: t.field({
    type: GraphObjectConnectionRef,
    description: 'Objects the caller may view, newest update first unless the filter says otherwise.',
    authScopes: { account: true },
    args: { filter: t.arg({ type: ObjectFilterInput }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, { filter, first, after }, ctx) => {
      const types = await typesForFilter(ctx, filter);
      if (filter?.containerId && !(await visibleObject(ctx, filter.containerId))) return toConnection([], pageSize(first), objectCursor);
      return listObjects(ctx, { ...filter, types, first, after });
    },
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

/** The object a person changes: visible (else NOT_FOUND), and its type's permission held. */
async function objectToChange(ctx: RequestContext, id: string, action: 'write' | 'delete'): Promise<ObjectRow> {
  const row = await visibleObject(ctx, id);
  if (!row) throw new NotFoundError(`No object ${id}.`);
  await ctx.gate.requireType(row.type, action);
  ctx.audit?.touched(row.type, row.id);
  return row;
}

async function reload(ctx: RequestContext, id: string): Promise<ObjectRow> {
  ctx.objectRows.clear(id);
  const row = await ctx.objectRows.load(id);
  if (!row) throw new NotFoundError(`No object ${id}.`);
  return row;
}

builder.mutationFields((t) => ({
  createObject: t.field({
    type: GraphObjectRef,
    authScopes: { account: true },
    args: { input: t.arg({ type: CreateObjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (!ctx.catalog.objectType(input.type)) throw new BadUserInputError('UNKNOWN_OBJECT_TYPE', `"${input.type}" is not an object type of the catalogue.`);
      await ctx.gate.requireType(input.type, 'write');
      const id = await ctx.services.objects.createObject(ctx.access, ctx.caller.orgId, input);
      ctx.audit?.touched(input.type, id);
      return reload(ctx, id);
    },
  }),
  updateObject: t.field({
    type: GraphObjectRef,
    authScopes: { account: true },
    args: { input: t.arg({ type: UpdateObjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await objectToChange(ctx, input.id, 'write');
      await ctx.services.objects.updateObject(ctx.access, ctx.caller.orgId, input);
      return reload(ctx, input.id);
    },
  }),
  deleteObject: t.field({
    type: DeleteObjectPayloadRef,
    authScopes: { account: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await objectToChange(ctx, id, 'delete');
      await ctx.services.objects.deleteObject(ctx.access, ctx.caller.orgId, id);
      return { deletedObjectId: id };
    },
  }),
}));
