// A GraphQL query reads its caller's organisation only and takes no advisory lock, so on a Citus
// cluster its statements may run on the worker that holds that organisation (db/worker-routing.ts,
// issue 18). Said before the rate-limit charge (use-rate-limit.ts), the request's first statement;
// a mutation is never routed.
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { readsOrganisation } from '../../db/worker-routing.ts';
import type { RequestContext } from '../context.ts';

export function useReadRouting(): Plugin<RequestContext> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as RequestContext;
      if (getOperationAST(args.document, args.operationName)?.operation === 'query') readsOrganisation(context.caller.orgId);
    },
  };
}
