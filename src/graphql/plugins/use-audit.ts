// The audit log's part in GraphQL (PRODUCT §9): names the operation on the request's recorder,
// and runs a mutation inside one request transaction that also appends the event, so a change
// and its audit event commit together or not at all. Queries and requests that never execute
// (parse and validation errors) are recorded by the HTTP layer once the response is ready.
// Tasks a mutation queued in `afterCommit` start once its transaction committed. A mutation starts
// only once the caller's credentials are confirmed current (step 4 of the no-stale-access
// protocol, modules/session/credentials/credential-cache.ts). A mutation whose transaction
// PostgreSQL refused for colliding with another (db/collisions.ts) is rolled back whole, its
// event too, and the HTTP layer runs the request again.
import { type ExecutionResult, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { collisionRefused, isCollision } from '../../db/collisions.ts';
import { inRequestTransaction } from '../../db/request-transaction.ts';
import { UnauthenticatedError } from '../../shared/errors.ts';
import type { Services } from '../../services.ts';
import { type RequestContext, requireCurrentCredentials } from '../context.ts';
import type { GraphqlServerContext } from '../yoga.ts';

export function useAudit(services: Services): Plugin<RequestContext> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const context = args.contextValue as RequestContext;
      const recorder = context.audit;
      const operation = getOperationAST(args.document, args.operationName);
      if (recorder) {
        recorder.operationName = operation?.name?.value ?? args.operationName ?? null;
        recorder.operationType = operation?.operation ?? null;
      }
      if (operation?.operation !== 'mutation') return;
      setExecuteFn(async (executionArgs) => {
        try {
          await requireCurrentCredentials(context);
        } catch (error) {
          return { errors: [error as UnauthenticatedError] };
        }
        let result: ExecutionResult;
        try {
          result = recorder
            ? await inRequestTransaction(services.db, async () => {
                const executed = (await executeFn(executionArgs)) as ExecutionResult;
                // Thrown, so that the transaction rolls back whole rather than commit what ran before.
                const collision = executed.errors?.find(isCollision);
                if (collision) throw collision;
                recorder.noteErrors(executed.errors);
                await services.audit.append(recorder.event(200));
                return executed;
              })
            : ((await executeFn(executionArgs)) as ExecutionResult);
        } catch (error) {
          if (!isCollision(error)) throw error;
          context.collided();
          return { errors: [collisionRefused()] };
        }
        if (recorder) recorder.written = true;
        // Committed: what the mutation asked to start afterwards may see its changes now.
        for (const task of context.afterCommit.splice(0)) task();
        return result;
      });
    },
    onResultProcess({ result, serverContext }) {
      const recorder = (serverContext as unknown as GraphqlServerContext).audit;
      if (recorder && !Array.isArray(result)) recorder.noteErrors((result as ExecutionResult).errors);
    },
  };
}
