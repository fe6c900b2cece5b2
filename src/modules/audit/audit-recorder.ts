// What one request tells the audit log (PRODUCT §9): who, from where, which command, what it
// touched and how it ended. The HTTP layer creates it, the GraphQL layer fills it in, and exactly
// one event per request leaves it.
import { BITBUCKET_CLIENT_ID, CLI_CLIENT_ID } from '../session/credentials/client-ids.ts';
import type { GraphQLError } from 'graphql';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { ActionAuthor, AuditEvent, AuditOutcome } from './audit-event.ts';

/** Whose request it is, as far as the token tells (also for a token that no longer works). */
export interface AuditActor {
  orgId: string;
  accountId: string;
  email: string | null;
  sessionId: string | null;
  clientId: string | null;
  adminApiKeyId?: string | null;
  bitbucketTokenId?: string | null;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const CLI_USER_AGENT = /^twg\/(\S{1,40})/;
const MAX_HEADER = 200;

const header = (headers: Headers, name: string) => {
  const value = headers.get(name)?.trim();
  return value ? value.slice(0, MAX_HEADER) : null;
};

/** `jira workitem get` → `jira.workitem`; an operation name has no family. */
function familyOf(command: string | null, fromHeader: boolean): string | null {
  if (!command || !fromHeader) return null;
  const words = command.split(/\s+/).filter(Boolean);
  return words.length >= 2 ? `${words[0]}.${words[1]}` : (words[0] ?? null);
}

const codeOf = (error: GraphQLError) => (error.extensions?.code ?? (error.originalError as GraphQLError | undefined)?.extensions?.code ?? 'INTERNAL') as string;

/** The outcome an error list stands for: the gravest first. */
export function outcomeOf(errors: readonly GraphQLError[] | undefined): AuditOutcome {
  if (!errors || errors.length === 0) return 'SUCCESS';
  const codes = errors.map(codeOf);
  // A request refused for its rate limit did not run: that is all there is to tell.
  if (codes.includes('RATE_LIMITED')) return 'RATE_LIMITED';
  if (codes.some((c) => c !== 'RESTRICTED' && c !== 'FORBIDDEN')) return 'ERROR';
  if (codes.includes('FORBIDDEN')) return 'DENIED';
  return 'RESTRICTED';
}

export class AuditRecorder implements ActionAuthor {
  readonly startedAt: number;
  actor: AuditActor | null = null;
  operationName: string | null = null;
  operationType: string | null = null;
  outcome: AuditOutcome | null = null;
  readonly permissions = new Set<string>();
  readonly objectTypes = new Set<string>();
  readonly objectIds = new Set<string>();
  readonly restrictedFields = new Set<string>();
  /** Set once the request's event is durable. */
  written = false;

  constructor(
    private readonly request: Request,
    readonly ip: string | null,
    private readonly clock: Clock,
  ) {
    this.startedAt = performance.now();
  }

  /** The permission a field used (it was granted and allowed). */
  used(permission: string): void {
    this.permissions.add(permission);
  }

  touched(type: string, changedId?: string): void {
    this.objectTypes.add(type);
    if (changedId) this.objectIds.add(changedId);
  }

  noteErrors(errors: readonly GraphQLError[] | undefined): void {
    this.outcome ??= outcomeOf(errors);
    for (const error of errors ?? []) if (codeOf(error) === 'RESTRICTED' && error.path) this.restrictedFields.add(error.path.join('.'));
  }

  /** The request's event. `outcome` overrides what the GraphQL result said. */
  event(statusCode: number, outcome?: AuditOutcome, action?: string): AuditEvent {
    const headers = this.request.headers;
    const fromHeader = header(headers, 'x-twg-command');
    const command = fromHeader ?? this.operationName;
    const actor = this.actor!;
    const source = header(headers, 'x-twg-invocation-source')?.toLowerCase();
    const permissions = [...this.permissions].sort();
    const commandType =
      permissions.some((p) => p.startsWith('delete:')) ? 'delete' : this.operationType === 'mutation' || permissions.some((p) => /^(write|manage):/.test(p)) ? 'write' : this.operationType ? 'read' : null;
    return {
      id: newId('auditEvent'),
      orgId: actor.orgId,
      time: this.clock.now().toISOString(),
      // The CLI sends Bitbucket commands with a Bitbucket token alone (PRODUCT §8).
      action: action ?? (actor.clientId === CLI_CLIENT_ID || actor.clientId === BITBUCKET_CLIENT_ID ? 'cli.command.invoked' : 'api.request.invoked'),
      actor: { accountId: actor.accountId, email: actor.email },
      sessionId: actor.sessionId,
      clientId: actor.clientId,
      adminApiKeyId: actor.adminApiKeyId ?? null,
      bitbucketTokenId: actor.bitbucketTokenId ?? null,
      command,
      family: familyOf(command, fromHeader !== null),
      commandType,
      operationName: this.operationName,
      operationType: this.operationType,
      objectTypes: [...this.objectTypes].sort(),
      objectIds: [...this.objectIds].sort(),
      outcome: outcome ?? this.outcome ?? 'SUCCESS',
      statusCode,
      permissions,
      restrictedFields: [...this.restrictedFields].sort(),
      invocationSource: source === 'user' || source === 'agent' ? source : null,
      agentRuntime: header(headers, 'x-twg-agent-runtime'),
      cliVersion: CLI_USER_AGENT.exec(headers.get('user-agent') ?? '')?.[1] ?? null,
      ip: this.ip,
      userAgent: header(headers, 'user-agent'),
      durationMs: Math.round(performance.now() - this.startedAt),
      interrupted: ['1', 'true', 'yes'].includes(header(headers, 'x-twg-interrupted')?.toLowerCase() ?? ''),
      traceId: TRACEPARENT.exec(headers.get('traceparent')?.trim().toLowerCase() ?? '')?.[1] ?? null,
      details: null,
    };
  }

  /** An admin action's own event, beside the request's: what changed, before and after. */
  actionEvent(orgId: string, action: string, details: Record<string, unknown>): AuditEvent {
    return { ...this.event(200, 'SUCCESS', action), orgId, details };
  }
}
