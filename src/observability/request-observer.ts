// The one per-request hook (issue 19): it knows when a request arrived and how it ended, and from
// what the routes told its ObservedRequest (caller, operation, error code) writes both the access
// log line and the request metrics, and gives every response its x-request-id.
import { randomUUID } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from './metrics.ts';
import { ObservedRequest, runObserved } from './request-scope.ts';
import { statementText } from './statement-text.ts';

export type ObserveRequest = (request: Request, handle: (observed: ObservedRequest) => Promise<Response>) => Promise<Response>;

export function requestObserver({ metrics, logger }: { metrics: Metrics; logger: Logger }): ObserveRequest {
  const statementLog = logger.enabled('debug') ? (_: ObservedRequest, sql: string, durationMs: number) => logger.debug('sql', { sql: statementText(sql), durationMs: Math.round(durationMs * 1000) / 1000 }) : undefined;
  return (request, handle) => {
    const observed = new ObservedRequest(randomUUID(), statementLog);
    observed.traceId = traceIdOf(request);
    return runObserved(observed, async () => {
      let response = await handle(observed);
      response = withRequestId(response, observed.requestId);
      const seconds = (performance.now() - observed.startedAt) / 1000;
      const operation = observed.operation?.label ?? '';
      const outcome = observed.errorCode ?? (response.status >= 400 ? `http_${response.status}` : 'ok');
      metrics.requestDuration.observe({ route: observed.route, operation, client: observed.client, outcome }, seconds);
      metrics.statementsPerRequest.observe({ route: observed.route, operation }, observed.statements);
      // Its request id and trace id come with every line of the request (shared/logger.ts).
      logger.info('request', {
        method: request.method,
        // Never the query string: an OAuth callback carries its authorization code there.
        path: pathOf(request.url),
        route: observed.route,
        status: response.status,
        durationMs: Math.round(seconds * 100_000) / 100,
        outcome,
        orgId: observed.orgId,
        client: observed.client,
        operationName: observed.operation?.name?.slice(0, 100),
        operationType: observed.operation?.type,
        operation: observed.operation?.label,
        command: request.headers.get('x-twg-command')?.slice(0, 100),
        statements: observed.statements,
        clientAddress: observed.clientAddress,
        userAgent: request.headers.get('user-agent')?.slice(0, 200),
      });
      return response;
    });
  };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The request span's trace (observability/request-span.ts continues the caller's); without tracing, the caller's traceparent. */
function traceIdOf(request: Request): string | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) return span.traceId;
  return TRACEPARENT.exec(request.headers.get('traceparent')?.trim().toLowerCase() ?? '')?.[1];
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 200);
  } catch {
    return '(invalid)';
  }
}

/** Some responses (Response.redirect) have immutable headers: those are copied. */
function withRequestId(response: Response, requestId: string): Response {
  try {
    response.headers.set('x-request-id', requestId);
    return response;
  } catch {
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    copy.headers.set('x-request-id', requestId);
    return copy;
  }
}
