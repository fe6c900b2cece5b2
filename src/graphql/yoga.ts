// The GraphQL handler: the schema, the per-request context, limits and the error policy.
import { createYoga } from 'graphql-yoga';
import type { Caller, OrgSnapshot } from '../modules/session/caller.ts';
import type { Logger } from '../shared/logger.ts';
import { createRequestContext, type Services } from './context.ts';
import { useErrorPolicy, maskError } from './plugins/use-error-policy.ts';
import { useLimits } from './plugins/use-limits.ts';
import { schema } from './schema.ts';

export interface GraphqlServerContext {
  caller: Caller;
  org: OrgSnapshot;
  requestId: string;
}

export function createGraphqlHandler(services: Services, logger: Logger) {
  return createYoga<GraphqlServerContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: false,
    graphiql: { title: 'teamgraph GraphiQL', defaultQuery: '{\n  viewer {\n    account { email displayName }\n    grantedPermissions\n  }\n  objects(first: 10) {\n    edges { node { id type displayName container { displayName } } }\n  }\n}\n' },
    maskedErrors: { maskError: maskError(logger) },
    context: ({ caller, org, requestId }) => createRequestContext(services, caller, org, requestId),
    plugins: [...useLimits(), useErrorPolicy()],
  });
}
