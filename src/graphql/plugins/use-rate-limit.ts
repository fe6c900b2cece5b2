// Rate limits (issue 21) in GraphQL: once a request has been validated, and before anything of it
// runs, its operation's cost (plugins/use-limits.ts) is charged in points to the caller's
// credential. A request that does not fit does nothing: its answer is RATE_LIMITED, which the HTTP
// layer (http/graphql-route.ts) sends as a 429 with Retry-After, audited with that outcome.
import type { Plugin } from 'graphql-yoga';
import { rateLimitedError } from '../../modules/rate-limit/rate-limit.service.ts';
import type { Services } from '../../services.ts';
import type { RequestContext } from '../context.ts';
import { operationCost } from './use-limits.ts';

export function useRateLimit(services: Services): Plugin<RequestContext> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as RequestContext;
      if (!context.rateLimit.metered) return;
      const status = await context.rateLimit.charge(operationCost(args.schema, args.document, args.operationName, args.variableValues ?? undefined));
      if (!status.granted) setResultAndStopExecution({ errors: [rateLimitedError(status, services.clock.now())] });
    },
  };
}
