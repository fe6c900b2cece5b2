// The audit log (PRODUCT §9): types of the public contract; events are written and read from the
// audit issue on.
import { builder } from '../../graphql/builder.ts';
import type { RequestContext } from '../../graphql/context.ts';
import { AuditOutcomeEnum } from '../../graphql/enums.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { connectionRefs } from '../../graphql/pagination.ts';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../../shared/cursor.ts';
import { BadUserInputError } from '../../shared/errors.ts';
import { normalizeAddress } from '../../shared/ip-address.ts';
import { isAdmin } from '../session/caller.ts';
import type { AuditEvent, AuditOutcome } from './audit-event.ts';
import type { AuditFilter } from './audit.repository.ts';

export interface AuditEventShape {
  id: string;
  time: Date;
  action: string;
  actor: { accountId: string | null; email: string | null };
  command: string | null;
  family: string | null;
  commandType: string | null;
  invocationSource: string | null;
  agentRuntime: string | null;
  cliVersion: string | null;
  traceId: string | null;
  statusCode: number | null;
  operationName: string | null;
  operationType: string | null;
  objectTypes: string[];
  objectIds: string[];
  outcome: AuditOutcome;
  permissions: string[];
  restrictedFields: string[];
  ip: string | null;
  userAgent: string | null;
  durationMs: number | null;
  sessionId: string | null;
  clientId: string | null;
  event: unknown;
}

const AuditActorRef = builder.objectRef<AuditEventShape['actor']>('AuditActor').implement({
  fields: (t) => ({ accountId: t.exposeID('accountId', { nullable: true }), email: t.exposeString('email', { nullable: true }) }),
});

const AuditEventRef = builder.objectRef<AuditEventShape>('AuditEvent').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('auditEvent'),
  fields: (t) => ({
    id: t.exposeID('id'),
    time: t.field({ type: 'DateTime', resolve: (e) => e.time }),
    action: t.exposeString('action', { description: 'What happened, e.g. cli.command.invoked or cli.settings.updated.' }),
    actor: t.field({ type: AuditActorRef, resolve: (e) => e.actor }),
    command: t.exposeString('command', { nullable: true }),
    family: t.exposeString('family', { nullable: true, description: 'The command family, e.g. jira.workitem.' }),
    commandType: t.exposeString('commandType', { nullable: true, description: 'read, write or delete.' }),
    invocationSource: t.exposeString('invocationSource', { nullable: true, description: 'user or agent.' }),
    agentRuntime: t.exposeString('agentRuntime', { nullable: true }),
    cliVersion: t.exposeString('cliVersion', { nullable: true }),
    traceId: t.exposeString('traceId', { nullable: true }),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    operationName: t.exposeString('operationName', { nullable: true }),
    operationType: t.exposeString('operationType', { nullable: true }),
    objectTypes: t.exposeStringList('objectTypes'),
    objectIds: t.exposeIDList('objectIds'),
    outcome: t.field({ type: AuditOutcomeEnum, resolve: (e) => e.outcome }),
    permissions: t.exposeStringList('permissions'),
    restrictedFields: t.exposeStringList('restrictedFields', {
      description: 'Response paths of the fields that were RESTRICTED, e.g. objects: each is null in the response, beside its error, and the rest of the request resolved.',
    }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    sessionId: t.exposeID('sessionId', { nullable: true }),
    clientId: t.exposeString('clientId', { nullable: true }),
    event: t.field({ type: 'JSON', description: 'The whole event as recorded.', resolve: (e) => e.event }),
  }),
});

export const AuditEventConnectionRef = connectionRefs<AuditEventShape>('AuditEvent', AuditEventRef);

export const AuditEventFilterInput = builder.inputType('AuditEventFilter', {
  fields: (t) => ({
    action: t.string(),
    actorAccountId: t.id(),
    command: t.string(),
    objectType: t.string(),
    outcome: t.field({ type: AuditOutcomeEnum }),
    ip: t.string(),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
  }),
});

export const AuditChainVerificationRef = builder
  .objectRef<{ valid: boolean; eventsChecked: number; firstBrokenEventId: string | null }>('AuditChainVerification')
  .implement({
    description:
      'One check of the organisation\'s audit hash chain, up to the newest event when the check began. ' +
      'It walks the events appended since the last check that found the chain intact and confirms that the last event that check verified is unchanged; ' +
      'earlier events are not walked again (the operator command `audit verify --full` walks the whole chain).',
    fields: (t) => ({
      valid: t.exposeBoolean('valid', { description: 'Whether every event checked chains from its predecessor, matches its recorded hash, and the last one is the chain head.' }),
      eventsChecked: t.exposeInt('eventsChecked', { description: 'How many events this check walked: those appended since the last check that found the chain intact.' }),
      firstBrokenEventId: t.exposeID('firstBrokenEventId', {
        nullable: true,
        description: 'The first event that does not follow from its predecessor: it, or an event before it, was changed or removed. Null when valid.',
      }),
    }),
  });

function toShape(event: AuditEvent): AuditEventShape {
  // Events recorded before restrictedFields existed name none.
  return { ...event, restrictedFields: event.restrictedFields ?? [], time: new Date(event.time), actor: event.actor, event };
}

/** Organization.auditEvents: newest first, keyset cursors over the chain position. */
export async function auditEventsOf(ctx: RequestContext, orgId: string, args: { filter?: AuditFilter | null; first?: number | null; after?: string | null }) {
  const size = pageSize(args.first);
  const beforeSeq = args.after ? (decodeCursor(args.after, ['number'])[0] as number) : undefined;
  const filter = { ...args.filter };
  if (filter.ip) {
    const address = normalizeAddress(filter.ip);
    if (!address) throw new BadUserInputError('INVALID_IP', `filter.ip must be an IP address, got "${filter.ip}".`);
    filter.ip = address;
  }
  const rows = await ctx.services.audit.page(orgId, filter, size + 1, beforeSeq);
  const page = toConnection(rows, size, (row) => encodeCursor([row.seq]));
  return { ...page, edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toShape(edge.node.event) })) };
}

registerNodeLoader('auditEvent', async (id, ctx) => {
  if (!isAdmin(ctx.caller)) return null;
  const event = await ctx.services.audit.find(ctx.caller.orgId, id);
  return event ? toShape(event) : null;
});
