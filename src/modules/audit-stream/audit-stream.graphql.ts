// Audit streams in the schema (issue 21): Organization.auditStreams and the mutations that create,
// change, pause, resume and delete one, for admins (an org admin on the admin page or an admin API
// key). The secret goes in and never comes out.
import { builder } from '../../graphql/builder.ts';
import { actingAs, requireOwnOrganization } from '../../graphql/context.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { OrganizationRef } from '../org/org.graphql.ts';
import { actingAccountId, isAdmin } from '../session/caller.ts';
import type { AuditStreamView } from './audit-stream.service.ts';

const AuditStreamFormatEnum = builder.enumType('AuditStreamFormat', {
  values: {
    JSON_LINES: { description: 'Batches of JSON lines, one event per line, signed in the X-Teamgraph-Signature header (HMAC-SHA256 with the stream secret).' },
    SPLUNK_HEC: { description: 'Splunk HTTP Event Collector: the secret is the HEC token, sent as `Authorization: Splunk <token>`.' },
  } as const,
});

const AuditStreamStatusRef = builder.objectRef<AuditStreamView['status']>('AuditStreamStatus').implement({
  description: 'How far delivery has got.',
  fields: (t) => ({
    lastDeliveredEventId: t.exposeID('lastDeliveredEventId', { nullable: true, description: 'The newest event the receiver accepted; null before the first delivery.' }),
    lastDeliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.lastDeliveredAt }),
    lagEvents: t.exposeInt('lagEvents', { description: 'Events appended to the organisation’s audit log that the receiver has not accepted yet.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the latest delivery failed; null once one succeeds.' }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, description: 'When a failed delivery is tried again (exponential backoff).', resolve: (s) => s.nextAttemptAt }),
  }),
});

const AuditStreamRef = builder.objectRef<AuditStreamView>('AuditStream').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('auditStream'),
  description:
    'A receiver of the organisation’s audit log: every event from the stream’s creation on, at least once, in chain order, in batches of up to 500 events or 5 seconds. ' +
    'Each event carries its id, seq and chain hash, so a receiver can deduplicate and verify.',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    format: t.field({ type: AuditStreamFormatEnum, resolve: (s) => s.format }),
    paused: t.exposeBoolean('paused', { description: 'Paused streams deliver nothing; events are kept and delivered in order on resume.' }),
    pauseReason: t.exposeString('pauseReason', { nullable: true, description: 'Who or what paused it: an admin, or delivery failing for 24 hours.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    status: t.field({ type: AuditStreamStatusRef, resolve: (s) => s.status }),
  }),
});

registerNodeLoader('auditStream', async (id, ctx) => (isAdmin(ctx.caller) ? ctx.services.auditStreams.find(ctx.caller.orgId, id) : null));

builder.objectFields(OrganizationRef, (t) => ({
  auditStreams: t.field({
    authScopes: { orgAdmin: true },
    type: [AuditStreamRef],
    description: 'At most three, oldest first.',
    resolve: (org, _args, ctx) => ctx.services.auditStreams.list(org.id),
  }),
}));

const CreateAuditStreamInput = builder.inputType('CreateAuditStreamInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    url: t.string({ required: true, description: 'An https:// URL (plain http only where the operator allows it).' }),
    format: t.field({ type: AuditStreamFormatEnum, required: true }),
    secret: t.string({ required: true, description: 'JSON_LINES: the HMAC key (16 to 1024 characters); SPLUNK_HEC: the HEC token. Sealed; never returned.' }),
  }),
});

const UpdateAuditStreamInput = builder.inputType('UpdateAuditStreamInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    format: t.field({ type: AuditStreamFormatEnum }),
    secret: t.string({ description: 'A new secret (rotation); absent: unchanged.' }),
  }),
});

builder.mutationFields((t) => ({
  createAuditStream: t.field({
    type: AuditStreamRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: CreateAuditStreamInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return ctx.services.auditStreams.create(actingAs(ctx), input.orgId, actingAccountId(ctx.caller)!, input);
    },
  }),
  updateAuditStream: t.field({
    type: AuditStreamRef,
    authScopes: { orgAdmin: true },
    description: 'Points a stream at a new URL or format, or rotates its secret; delivery carries on from where it stood.',
    args: { input: t.arg({ type: UpdateAuditStreamInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.auditStreams.update(actingAs(ctx), ctx.caller.orgId, String(input.id), input),
  }),
  pauseAuditStream: t.field({
    type: AuditStreamRef,
    authScopes: { orgAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.auditStreams.pause(actingAs(ctx), ctx.caller.orgId, String(id)),
  }),
  resumeAuditStream: t.field({
    type: AuditStreamRef,
    authScopes: { orgAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.auditStreams.resume(actingAs(ctx), ctx.caller.orgId, String(id)),
  }),
  deleteAuditStream: t.field({
    type: 'ID',
    authScopes: { orgAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.auditStreams.delete(actingAs(ctx), ctx.caller.orgId, String(id)),
  }),
}));
