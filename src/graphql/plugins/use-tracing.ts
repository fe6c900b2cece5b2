// Spans of GraphQL's phases: graphql.parse, graphql.validate and graphql.execute, children of the
// request's span, each naming the operation. Execute's span is active while resolvers run, so the
// statements they send nest under it. The document and variables are not recorded (a document may
// hold values inline); errors are recorded by their public codes only.
import { trace } from '@opentelemetry/api';
import { type DocumentNode, type ExecutionResult, getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { databaseInputError } from '../../db/input-errors.ts';
import { failSpan, inSpan } from '../../observability/spans.ts';

const OPERATION_NAME = 'graphql.operation.name';
const OPERATION_TYPE = 'graphql.operation.type';

/** Names the active span's operation, when the document says which one runs. */
function nameOperation(document: DocumentNode | null | undefined, operationName: string | null | undefined): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  const operation = document ? getOperationAST(document, operationName) : null;
  const name = operation?.name?.value ?? operationName ?? undefined;
  span.setAttributes({ ...(name ? { [OPERATION_NAME]: name } : {}), ...(operation ? { [OPERATION_TYPE]: operation.operation } : {}) });
}

/** The public code an error leaves with (useErrorPolicy's, PRODUCT §10); INTERNAL for a fault. */
function codeOf(error: GraphQLError): string {
  const code = error.extensions?.code;
  if (typeof code === 'string') return code;
  return databaseInputError(error.originalError) ? 'BAD_USER_INPUT' : 'INTERNAL';
}

export function useTracing(): Plugin<{ params?: { operationName?: string | null } }> {
  return {
    instrumentation: {
      // A syntax error is the client's mistake (BAD_USER_INPUT), not the server's fault.
      parse: ({ context }, parse) => inSpan('graphql.parse', { attributes: context.params?.operationName ? { [OPERATION_NAME]: context.params.operationName } : {} }, parse, (error) => !(error instanceof GraphQLError)),
      validate: (_payload, validate) => inSpan('graphql.validate', {}, validate),
      execute: (_payload, execute) => inSpan('graphql.execute', {}, () => execute()),
    },
    onParse({ context }) {
      return ({ result }) => {
        if (!(result instanceof Error) && result) nameOperation(result as DocumentNode, context.params?.operationName);
      };
    },
    onValidate({ params, context }) {
      nameOperation(params.documentAST as DocumentNode, context.params?.operationName);
      return ({ valid, result }) => {
        const span = trace.getActiveSpan();
        // A request that does not validate is the client's mistake: the span says so without failing.
        if (!valid && span?.isRecording()) span.setAttribute('graphql.validation.error_count', result.length);
      };
    },
    onExecute({ args }) {
      nameOperation(args.document, args.operationName);
      const span = trace.getActiveSpan();
      return {
        onExecuteDone({ result }) {
          if (!span?.isRecording() || Symbol.asyncIterator in result) return;
          const errors = (result as ExecutionResult).errors ?? [];
          if (errors.length === 0) return;
          const codes = [...new Set(errors.map(codeOf))].sort();
          span.setAttribute('teamgraph.error_codes', codes);
          // As with HTTP statuses, only the server's faults fail the span.
          const fault = errors.find((error) => codeOf(error) === 'INTERNAL');
          if (fault) failSpan(span, fault.originalError ?? fault);
        },
      };
    },
  };
}
