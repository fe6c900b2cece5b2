// The ingestion mutations: a connection's own token writes objects, relationships, users,
// groups and user mappings, in batches reported item by item (PRODUCT §2, §4).
import { builder } from '../../graphql/builder.ts';
import { AclActionEnum, GroupMemberTypeEnum, IngestionStatusEnum, PrincipalTypeEnum } from '../../graphql/enums.ts';
import { EARLIEST_TIME, LIMITS } from '../object/object.service.ts';
import type { ConnectionCaller } from '../session/caller.ts';
import { type IngestionItemResult, type IngestionPayload, MAX_BATCH, MAX_INPUT_DEPTH } from './ingestion.ts';
import { VALIDATED_PER_ITEM } from '../../graphql/plugins/use-input-bounds.ts';

// Client-facing statements of the limits ingestion enforces item by item (PRODUCT §2, §10).
const NO_NUL = 'No string or key of an item may contain U+0000 or an unpaired UTF-16 surrogate (the item is REJECTED, INVALID_CHARACTER).';
const JSON_LIMITS = `A JSON object of at most ${LIMITS.propertiesBytes / 1024} KiB encoded (PROPERTIES_TOO_LARGE), nesting objects and arrays at most ${MAX_INPUT_DEPTH} levels deep, the object itself being the first (PROPERTIES_TOO_DEEP).`;
const TIME_LIMITS = `At most ${LIMITS.futureTimeMs / 3_600_000} hours after the server's clock (TIME_IN_FUTURE) and not before year ${new Date(EARLIEST_TIME).getUTCFullYear()} (TIME_TOO_EARLY).`;

const IngestionItemResultRef = builder.objectRef<IngestionItemResult>('IngestionItemResult').implement({
  description: 'What became of one item of an ingestion call; every item is reported, in the order sent.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'The position of the item in the call, from 0.' }),
    externalId: t.exposeString('externalId', { nullable: true }),
    status: t.field({ type: IngestionStatusEnum, resolve: (r) => r.status }),
    code: t.exposeString('code', {
      nullable: true,
      description:
        'Why a REJECTED item was refused, e.g. INVALID_CHARACTER, PROPERTIES_TOO_DEEP, PROPERTIES_TOO_LARGE, INVALID_URL, TIME_IN_FUTURE, TIME_TOO_EARLY, INVALID_EXTERNAL_ID, UNKNOWN_OBJECT_TYPE.',
    }),
    message: t.exposeString('message', { nullable: true, description: 'One sentence naming the field and, where it helps, the limit.' }),
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
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
  fields: (t) => ({
    type: t.string({ required: true }),
    externalId: t.string({ required: true }),
    displayName: t.string({ required: true }),
    description: t.string(),
    url: t.string({
      description: `An http or https address of at most ${LIMITS.url.toLocaleString('en')} characters once normalised; control characters (U+0000–U+001F, U+007F–U+009F) anywhere refuse it (INVALID_URL). Stored and returned normalised: HTTPS://Ok.Example/a/../b becomes https://ok.example/b.`,
    }),
    container: t.field({ type: ObjectRefInput }),
    properties: t.field({ type: 'JSON', description: JSON_LIMITS }),
    createdAt: t.field({ type: 'DateTime', description: `${TIME_LIMITS} Default: when the object was first stored.` }),
    lastUpdatedAt: t.field({ type: 'DateTime', description: `${TIME_LIMITS} Default: when this write is stored.` }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
    permissions: t.field({ type: [PermissionInput], required: true }),
  }),
});
const SetObjectsInput = builder.inputType('SetObjectsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), objects: t.field({ type: [ObjectInput], required: true }) }),
});
const DeleteObjectRefInput = builder.inputType('DeleteObjectRefInput', {
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
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
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
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
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
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
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
  fields: (t) => ({ externalId: t.string({ required: true }), updateSequenceNumber: t.field({ type: 'SafeInt', required: true }) }),
});
const DeleteExternalInput = builder.inputType('DeleteExternalInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), items: t.field({ type: [ExternalRefInput], required: true }) }),
});
const UserMappingInput = builder.inputType('UserMappingInput', {
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
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
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
  fields: (t) => ({
    type: t.string({ required: true }),
    from: t.field({ type: ObjectRefInput, required: true }),
    to: t.field({ type: ObjectRefInput, required: true }),
    properties: t.field({ type: 'JSON', description: JSON_LIMITS }),
    updateSequenceNumber: t.field({ type: 'SafeInt', required: true }),
  }),
});
const SetRelationshipsInput = builder.inputType('SetRelationshipsInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), relationships: t.field({ type: [RelationshipInput], required: true }) }),
});
const RelationshipRefInput = builder.inputType('RelationshipRefInput', {
  description: NO_NUL,
  extensions: VALIDATED_PER_ITEM,
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
  const ingestion = {
    description: `At most ${MAX_BATCH} items per call (BATCH_TOO_LARGE refuses the whole call). Each item is ACCEPTED, STALE or REJECTED on its own; a rejected item changes nothing and the others are stored.`,
    type: IngestionPayloadRef,
    authScopes: { connection: true },
  } as const;
  return {
    setObjects: t.field({
      ...ingestion,
      args: { input: t.arg({ type: SetObjectsInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.objects.setObjects(asConnection(ctx.caller), input.connectionId, input.objects),
    }),
    deleteObjects: t.field({
      ...ingestion,
      args: { input: t.arg({ type: DeleteObjectsInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.objects.deleteObjects(asConnection(ctx.caller), input.connectionId, input.objects),
    }),
    setUsers: t.field({
      ...ingestion,
      args: { input: t.arg({ type: SetUsersInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.directory.setUsers(asConnection(ctx.caller), input.connectionId, input.users),
    }),
    deleteUsers: t.field({
      ...ingestion,
      args: { input: t.arg({ type: DeleteExternalInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.directory.deleteUsers(asConnection(ctx.caller), input.connectionId, input.items),
    }),
    setGroups: t.field({
      ...ingestion,
      args: { input: t.arg({ type: SetGroupsInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.directory.setGroups(asConnection(ctx.caller), input.connectionId, input.groups),
    }),
    deleteGroups: t.field({
      ...ingestion,
      args: { input: t.arg({ type: DeleteExternalInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.directory.deleteGroups(asConnection(ctx.caller), input.connectionId, input.items),
    }),
    mapUsers: t.field({
      ...ingestion,
      args: { input: t.arg({ type: MapUsersInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.directory.mapUsers(asConnection(ctx.caller), input.connectionId, input.directMappings),
    }),
    setRelationships: t.field({
      ...ingestion,
      args: { input: t.arg({ type: SetRelationshipsInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.relationships.setRelationships(asConnection(ctx.caller), input.connectionId, input.relationships),
    }),
    deleteRelationships: t.field({
      ...ingestion,
      args: { input: t.arg({ type: DeleteRelationshipsInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.relationships.deleteRelationships(asConnection(ctx.caller), input.connectionId, input.relationships),
    }),
  };
});
