// The audit event (PRODUCT §9) as it is recorded and hashed: one JSON object, canonicalised with
// RFC 8785 so the chain can be recomputed byte for byte from what is stored.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { newId } from '../../shared/ids.ts';

// canonicalize 2.x is CommonJS (3.x and later need Node 22) and its types claim an ES default export.
const canonicalize: (input: unknown) => string | undefined = createRequire(import.meta.url)('canonicalize');

/** RATE_LIMITED (issue 21): the request was over its credential's budget and did not run. */
export type AuditOutcome = 'SUCCESS' | 'RESTRICTED' | 'DENIED' | 'IP_BLOCKED' | 'UNAUTHENTICATED' | 'RATE_LIMITED' | 'ERROR';

export interface AuditEvent {
  id: string;
  orgId: string;
  /** ISO 8601 with milliseconds. */
  time: string;
  action: string;
  /** Always the account (for an admin API key, the admin who created it), never an agent. */
  actor: { accountId: string | null; email: string | null };
  sessionId: string | null;
  clientId: string | null;
  adminApiKeyId: string | null;
  bitbucketTokenId: string | null;
  command: string | null;
  family: string | null;
  commandType: 'read' | 'write' | 'delete' | null;
  operationName: string | null;
  operationType: string | null;
  objectTypes: string[];
  objectIds: string[];
  outcome: AuditOutcome;
  statusCode: number | null;
  permissions: string[];
  /** Response paths of the fields that were RESTRICTED (null in a partial result), e.g. `objects` or `w.container`. */
  restrictedFields: string[];
  invocationSource: 'user' | 'agent' | null;
  agentRuntime: string | null;
  cliVersion: string | null;
  ip: string | null;
  userAgent: string | null;
  durationMs: number | null;
  interrupted: boolean;
  traceId: string | null;
  /** What an admin action changed: before and after, or what it affected. */
  details: Record<string, unknown> | null;
}

export function canonicalJson(event: AuditEvent): string {
  const text = canonicalize(event);
  if (text === undefined) throw new Error('An audit event must be a JSON object');
  return text;
}

/** The chain link: sha256(previous hash || canonical JSON), hex. The append statement computes the same in SQL. */
export function chainHash(previousHash: string, eventJson: string): string {
  return createHash('sha256').update(previousHash + eventJson, 'utf8').digest('hex');
}

/**
 * An event no request stands behind: the operator's command line, or work the server carries on
 * by itself (a connection deletion resumed after a restart). No actor, no session, no address.
 */
export function operatorEvent(orgId: string, action: string, details: Record<string, unknown>, id: string, now: Date): AuditEvent {
  return {
    id,
    orgId,
    time: now.toISOString(),
    action,
    actor: { accountId: null, email: null },
    sessionId: null,
    clientId: null,
    adminApiKeyId: null,
    bitbucketTokenId: null,
    command: null,
    family: null,
    commandType: null,
    operationName: null,
    operationType: null,
    objectTypes: [],
    objectIds: [],
    outcome: 'SUCCESS',
    statusCode: null,
    permissions: [],
    restrictedFields: [],
    invocationSource: null,
    agentRuntime: null,
    cliVersion: null,
    ip: null,
    userAgent: null,
    durationMs: null,
    interrupted: false,
    traceId: null,
    details,
  };
}

/**
 * Who an admin action is recorded as (PRODUCT §5, §9): a request's caller (its AuditRecorder), or
 * the operator. The service that performs the action asks it for the action's event and appends
 * it in the action's own transaction, so the change and its record commit together.
 */
export interface ActionAuthor {
  actionEvent(orgId: string, action: string, details: Record<string, unknown>): AuditEvent;
}

/** The operator's command line or the server's own work; `actor` names an account a flow acted for (a 3LO link). */
export function operatorAuthor(now: () => Date, actor?: AuditEvent['actor']): ActionAuthor {
  return {
    actionEvent: (orgId, action, details) => ({ ...operatorEvent(orgId, action, details, newId('auditEvent'), now()), ...(actor ? { actor } : {}) }),
  };
}
