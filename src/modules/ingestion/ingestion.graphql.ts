// The ingestion mutations: a connection's own token writes objects, relationships, users,
// groups and user mappings, in batches reported item by item (PRODUCT §2, §4).
import { builder } from '../../graphql/builder.ts';
import { AclActionEnum, GroupMemberTypeEnum, IngestionStatusEnum, PrincipalTypeEnum } from '../../graphql/enums.ts';
import type { ConnectionCaller } from '../session/caller.ts';
import type { IngestionItemResult, IngestionPayload } from './ingestion.ts';

const IngestionItemResultRef = builder.objectRef<IngestionItemResult>('IngestionItemResult').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    externalId: t.exposeString('externalId', { nullable: true }),
    status: t.field({ type: IngestionStatusEnum, resolve: (r) => r.status }),
    code: t.exposeString('code', { nullable: true }),
    message: t.exposeString('message', { nullable: true }),
  }),
});

export const IngestionPayloadRef = builder.objectRef<IngestionPayload>('IngestionPayload').implement({
  fields: (t) => ({
    results: t.field({ type: [IngestionItemResultRef], resolve: (p) => p.results }),
    acceptedCount: t.exposeInt('acceptedCount'),
    staleCount: t.exposeInt('staleCount'),
    rejectedCount: t.exposeInt('rejectedCount'),
  }),
});

const ObjectRefInput = builder.inputType('ObjectRefInput', {
  fields: (t) => ({ type: t.string({ required: true }), externalId: t.string({ required: true }) }),
});
const PrincipalInput = builder.inputType('PrincipalInput', {
  fields: (t) => ({ type: t.field({ type: PrincipalTypeEnum, required: true }), id: t.string() }),
});
const AccessControlInput = builder.inputType('AccessControlInput', {
  fields: (t) => ({ principals: t.field({ type: [PrincipalInput], required: true }) }),
});
const PermissionInput = builder.inputType('PermissionInput', {
  fields: (t) => ({
    action: t.field({ type: AclActionEnum }),
    accessControls: t.field({ type: [AccessControlInput], required: true }),
  }),
});
const ObjectInput = builder.inputType('ObjectInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    externalId: t.string({ required: true }),
    displayName: t.string({ required: true }),
    description: t.string(),
    url: t.string(),
    container: t.field({ type: ObjectRefInput }),
    properties: t.field({ type: 'JSON' }),
    createdAt: t.field({ type: 'DateTime' }),
    lastUpdatedAt: t.field({ type: 'DateTime' }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
    permissions: t.field({ type: [PermissionInput], required: true }),
  }),
});
const SetObjectsInput = builder.inputType('SetObjectsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), objects: t.field({ type: [ObjectInput], required: true }) }),
});
const DeleteObjectRefInput = builder.inputType('DeleteObjectRefInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    externalId: t.string({ required: true }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const DeleteObjectsInput = builder.inputType('DeleteObjectsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), objects: t.field({ type: [DeleteObjectRefInput], required: true }) }),
});
const ExternalUserInput = builder.inputType('ExternalUserInput', {
  fields: (t) => ({
    externalId: t.string({ required: true }),
    displayName: t.string(),
    email: t.string(),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const SetUsersInput = builder.inputType('SetUsersInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), users: t.field({ type: [ExternalUserInput], required: true }) }),
});
const GroupMemberInput = builder.inputType('GroupMemberInput', {
  fields: (t) => ({ type: t.field({ type: GroupMemberTypeEnum, required: true }), externalId: t.string({ required: true }) }),
});
const ExternalGroupInput = builder.inputType('ExternalGroupInput', {
  fields: (t) => ({
    externalId: t.string({ required: true }),
    displayName: t.string(),
    members: t.field({ type: [GroupMemberInput], required: true }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const SetGroupsInput = builder.inputType('SetGroupsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), groups: t.field({ type: [ExternalGroupInput], required: true }) }),
});
const ExternalRefInput = builder.inputType('ExternalRefInput', {
  fields: (t) => ({ externalId: t.string({ required: true }), updateSequenceNumber: t.field({ type: 'SafeInt', required: true }) }),
});
const DeleteExternalInput = builder.inputType('DeleteExternalInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), items: t.field({ type: [ExternalRefInput], required: true }) }),
});
const UserMappingInput = builder.inputType('UserMappingInput', {
  fields: (t) => ({
    externalId: t.string({ required: true }),
    accountId: t.id(),
    externalEmailAddress: t.string(),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const MapUsersInput = builder.inputType('MapUsersInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), directMappings: t.field({ type: [UserMappingInput], required: true }) }),
});
const RelationshipInput = builder.inputType('RelationshipInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    from: t.field({ type: ObjectRefInput, required: true }),
    to: t.field({ type: ObjectRefInput, required: true }),
    properties: t.field({ type: 'JSON' }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const SetRelationshipsInput = builder.inputType('SetRelationshipsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), relationships: t.field({ type: [RelationshipInput], required: true }) }),
});
const RelationshipRefInput = builder.inputType('RelationshipRefInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    from: t.field({ type: ObjectRefInput, required: true }),
    to: t.field({ type: ObjectRefInput, required: true }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const DeleteRelationshipsInput = builder.inputType('DeleteRelationshipsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), relationships: t.field({ type: [RelationshipRefInput], required: true }) }),
});

const asConnection = (caller: unknown) => caller as ConnectionCaller;

builder.mutationFields((t) => {
  const ingestion = <Input>(input: Input) => ({
    type: IngestionPayloadRef,
    authScopes: { connection: true },
    args: { input: t.arg({ type: input as any, required: true }) },
  });
  return {
    setObjects: t.field({
      ...ingestion(SetObjectsInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.objects.setObjects(asConnection(ctx.caller), input.connectionId, input.objects),
    }),
    deleteObjects: t.field({
      ...ingestion(DeleteObjectsInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.objects.deleteObjects(asConnection(ctx.caller), input.connectionId, input.objects),
    }),
    setUsers: t.field({
      ...ingestion(SetUsersInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.directory.setUsers(asConnection(ctx.caller), input.connectionId, input.users),
    }),
    deleteUsers: t.field({
      ...ingestion(DeleteExternalInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.directory.deleteUsers(asConnection(ctx.caller), input.connectionId, input.items),
    }),
    setGroups: t.field({
      ...ingestion(SetGroupsInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.directory.setGroups(asConnection(ctx.caller), input.connectionId, input.groups),
    }),
    deleteGroups: t.field({
      ...ingestion(DeleteExternalInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.directory.deleteGroups(asConnection(ctx.caller), input.connectionId, input.items),
    }),
    mapUsers: t.field({
      ...ingestion(MapUsersInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.directory.mapUsers(asConnection(ctx.caller), input.connectionId, input.directMappings),
    }),
    setRelationships: t.field({
      ...ingestion(SetRelationshipsInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.relationships.setRelationships(asConnection(ctx.caller), input.connectionId, input.relationships),
    }),
    deleteRelationships: t.field({
      ...ingestion(DeleteRelationshipsInput),
      resolve: (_root, { input }: any, ctx) => ctx.services.relationships.deleteRelationships(asConnection(ctx.caller), input.connectionId, input.relationships),
    }),
  };
});
