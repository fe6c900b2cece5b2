// What the per-request hook (observability/request-observer.ts) learns from GraphQL: the operation
// that ran, named by the schema's root fields so that it can be a metric label, and the public code
// of the first error the result carries (a 200 response's outcome).
import { type ExecutionResult, getOperationAST, Kind, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphqlServerContext } from '../yoga.ts';

export function useObservation(): Plugin {
  return {
    onExecute({ args }) {
      const observed = (args.contextValue as Partial<GraphqlServerContext>).observed;
      const operation = getOperationAST(args.document, args.operationName);
      if (!observed || !operation) return;
      observed.operation = { name: operation.name?.value ?? args.operationName ?? null, type: operation.operation, label: rootFieldLabel(operation) };
    },
    onResultProcess({ result, serverContext }) {
      const observed = (serverContext as Partial<GraphqlServerContext>).observed;
      if (!observed || Array.isArray(result)) return;
      const code = (result as ExecutionResult).errors?.[0]?.extensions?.code;
      if (typeof code === 'string') observed.errorCode = code;
    },
  };
}

/** Runs only on a validated document, whose root fields are the schema's: a bounded set. */
function rootFieldLabel(operation: OperationDefinitionNode): string {
  const fields = [...new Set(operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])))].sort();
  if (fields.length === 0) return operation.operation;
  return fields.length > 1 ? `${fields[0]}+` : fields[0];
}
