// The GraphQL handler: the schema, the per-request context, limits and the error policy.
import { createYoga } from 'graphql-yoga';
import type { AuditRecorder } from '../modules/audit/audit-recorder.ts';
import type { RateLimitMeter } from '../modules/rate-limit/rate-limit-meter.ts';
import type { Caller, OrgSnapshot } from '../modules/session/caller.ts';
import type { ObservedRequest } from '../observability/request-scope.ts';
import type { Logger } from '../shared/logger.ts';
import type { Services } from '../services.ts';
import { createRequestContext } from './context.ts';
import { useErrorPolicy, maskError } from './plugins/use-error-policy.ts';
import { useAudit } from './plugins/use-audit.ts';
import { useInputBounds } from './plugins/use-input-bounds.ts';
import { useLimits } from './plugins/use-limits.ts';
import { useTracing } from './plugins/use-tracing.ts';
import { useObservation } from './plugins/use-observation.ts';
import { useRateLimit } from './plugins/use-rate-limit.ts';
import { useReadRouting } from './plugins/use-read-routing.ts';
import { type ParseMemo, useParseOnce } from '../modules/session/credentials/use-parse-once.ts';
import { schema } from './schema.ts';

export interface GraphqlServerContext {
  caller: Caller;
  org: OrgSnapshot;
  requestId: string;
  /** What the request's access log line and metrics are told (see use-observation.ts); absent outside the HTTP edge. */
  observed?: ObservedRequest;
  /** Null for callers the audit log does not follow (connections). */
  audit: AuditRecorder | null;
  /** The client's address (PRODUCT §7); undefined when unknown. */
  clientAddress?: string;
  /** Resolves true once the credentials the caller came from are known current; see RequestContext. */
  credentialsConfirmed?: () => Promise<boolean>;
  /** Called when the mutation's transaction collided with another; the HTTP layer then runs the request again. */
  collided?: () => void;
  /** Shared by the runs of a request the HTTP layer may run twice; see useParseOnce. */
  parseMemo?: ParseMemo;
  /** The request's rate-limit charge, shared by its runs; absent: not charged (see use-rate-limit.ts). */
  rateLimit?: RateLimitMeter;
}

export function createGraphqlHandler(services: Services, logger: Logger) {
  return createYoga<GraphqlServerContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // http/graphql-route.ts bounds the body before it reaches yoga (MAX_BODY_BYTES); a second limit would only
    // wrap every body in another stream.
    maxRequestBodySize: false,
    logging: false,
    // http/graphiql/routes.ts serves GraphiQL from this server; yoga's own loads it from a CDN.
    graphiql: false,
    maskedErrors: { maskError: maskError(logger) },
    context: ({ caller, org, requestId, audit, clientAddress, credentialsConfirmed, collided, rateLimit }) =>
      createRequestContext(services, caller, org, requestId, { audit, clientAddress, credentialsConfirmed, collided, rateLimit }),
    // useTracing first: its spans wrap every other plugin's part of each phase. useRateLimit after
    // useAudit, which names the operation for the audit event even when the charge refuses it, and
    // after useReadRouting, which says where a query's statements, the charge first, may run.
    plugins: [useTracing(), useParseOnce(), useInputBounds(), ...useLimits(), useErrorPolicy(), useObservation(), useAudit(services), useReadRouting(), useRateLimit(services)],
  });
}
