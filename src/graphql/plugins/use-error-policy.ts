// The error policy (PRODUCT §10): every error leaves with a code from the fixed list. Domain
// errors (AppError) pass as they are; GraphQL's own parse and validation errors become
// BAD_USER_INPUT; anything else is masked to INTERNAL with the request id and logged in full.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';

export function maskError(logger: Logger) {
  return (error: unknown, _message: string, isDev?: boolean): Error => {
    const graphqlError = error instanceof GraphQLError ? error : null;
    // GraphQL's own parse and validation errors carry no original error: they describe the
    // request, not the server, and useErrorPolicy gives them a public code.
    if (graphqlError && !graphqlError.originalError) return graphqlError;
    const original = graphqlError?.originalError ?? error;
    if (original instanceof AppError) {
      if (graphqlError && graphqlError !== original) {
        return new GraphQLError(original.message, { nodes: graphqlError.nodes, path: graphqlError.path, extensions: original.extensions });
      }
      return original;
    }
    logger.error('unexpected error', { error: original, path: graphqlError?.path });
    return new GraphQLError('Internal error.', {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: { code: 'INTERNAL', ...(isDev ? { detail: String(original) } : {}) },
    });
  };
}

const PUBLIC_CODES = new Set(['BAD_USER_INPUT', 'UNAUTHENTICATED', 'RESTRICTED', 'FORBIDDEN', 'IP_NOT_ALLOWED', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'INTERNAL']);

/**
 * Gives GraphQL's own errors (syntax, unknown fields, bad variables) the code BAD_USER_INPUT with
 * their own code as sub-code, and adds the request id to masked errors.
 */
export function useErrorPolicy(): Plugin {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      const single = result as { errors?: readonly GraphQLError[] };
      if (Array.isArray(result) || !single.errors) return;
      const requestId = (serverContext as { requestId?: string }).requestId;
      setResult({ ...single, errors: single.errors.map((e) => withCode(e, requestId)) } as any);
    },
  };
}

function withCode(error: GraphQLError, requestId: string | undefined): GraphQLError {
  const code = error.extensions?.code;
  const rebuild = (extensions: Record<string, unknown>) =>
    new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, ...extensions } });
  if (typeof code === 'string' && PUBLIC_CODES.has(code)) {
    return code === 'INTERNAL' && requestId && !error.extensions.requestId ? rebuild({ requestId }) : error;
  }
  return rebuild({ code: 'BAD_USER_INPUT', subCode: typeof code === 'string' ? code : 'GRAPHQL_VALIDATION_FAILED' });
}
