// The request being served, as the per-request hook (request-observer.ts) records it: its id, who
// called, what ran, how it ended. It is held in AsyncLocalStorage so that what a request causes
// deep down (its SQL statements, its log lines) finds it without being handed it; everything else
// is told explicitly (RequestInfo.observed, the GraphQL server context).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Caller } from '../modules/session/caller.ts';
import { ADMIN_CLIENT_ID, BITBUCKET_CLIENT_ID, CLI_CLIENT_ID } from '../modules/session/credentials/client-ids.ts';

/** Who calls, as the metrics and the access log name it (PRODUCT §5, §6, §8); a closed set, so it can be a label. */
export type ClientKind = 'twg-cli' | 'admin-page' | 'connection' | 'admin-api-key' | 'bitbucket-token' | 'anonymous' | 'other';

export function clientKind(caller: Caller | undefined): ClientKind {
  if (!caller) return 'anonymous';
  if (caller.kind === 'connection') return 'connection';
  if (caller.kind === 'adminKey') return 'admin-api-key';
  // A bearer token sent with an X-Bitbucket-Token keeps the bearer's client; the token alone is its own.
  if (caller.clientId === CLI_CLIENT_ID) return 'twg-cli';
  if (caller.clientId === ADMIN_CLIENT_ID) return 'admin-page';
  if (caller.clientId === BITBUCKET_CLIENT_ID) return 'bitbucket-token';
  return 'other';
}

export interface GraphqlOperation {
  /** What the client named it (unbounded: the access log only). */
  name: string | null;
  type: 'query' | 'mutation' | 'subscription' | null;
  /**
   * The schema's name for it, bounded so that it can be a metric label: the first root field in
   * alphabetical order, with `+` when there are others (`objects`, `setObjects`, `objects+`).
   */
  label: string;
}

export class ObservedRequest {
  readonly startedAt = performance.now();
  /** The routing table's name for what answered (`/graphql`, `oauth`, …): bounded, unlike the path. */
  route = 'none';
  /** The client's address (PRODUCT §7), once the router has it. */
  clientAddress: string | undefined;
  orgId: string | undefined;
  client: ClientKind = 'anonymous';
  operation: GraphqlOperation | undefined;
  /** The public code of the error the answer carries (PRODUCT §10), when it carries one. */
  errorCode: string | undefined;
  /** The trace this request belongs to; the tracing set-up fills it from the active span. */
  traceId: string | undefined;
  statements = 0;

  constructor(
    readonly requestId: string,
    /** Called for each SQL statement the request runs (see db/handle.ts). */
    private readonly onStatement: (request: ObservedRequest, sql: string, durationMs: number) => void = () => {},
  ) {}

  identify(caller: Caller): void {
    this.orgId = caller.orgId;
    this.client = clientKind(caller);
  }

  statement(sql: string, durationMs: number): void {
    this.statements++;
    this.onStatement(this, sql, durationMs);
  }
}

const scope = new AsyncLocalStorage<ObservedRequest>();

/** The request whose work is running, if any. */
export const activeRequest = (): ObservedRequest | undefined => scope.getStore();

export const runObserved = <T>(request: ObservedRequest, work: () => T): T => scope.run(request, work);
