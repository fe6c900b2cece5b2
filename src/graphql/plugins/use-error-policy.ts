// The error policy (PRODUCT §10): every error leaves with a code from the fixed list. A client's
// mistake is BAD_USER_INPUT with a sub-code and its own message: GraphQL's parse, validation and
// variable errors, a body or parameter that is not JSON, a domain error (AppError), a value the
// database refuses as data. A transaction refused for colliding with another is CONFLICT
// (db/collisions.ts). Only a real fault is INTERNAL: masked, with the request id, and logged at
// error level; a client's mistake is not an error in the server's log (issue 15).
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AppError, BadUserInputError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { collisionRefused, isCollision } from '../../db/collisions.ts';
import { databaseInputError } from '../../db/input-errors.ts';

export function maskError(logger: Logger) {
  return (error: unknown, _message: string, isDev?: boolean): Error => {
    const graphqlError = error instanceof GraphQLError ? error : null;
    // GraphQL's own parse and validation errors and yoga's request errors carry no original
    // error: they describe the request, not the server; useErrorPolicy gives them a public code.
    if (graphqlError && !graphqlError.originalError) return graphqlError;
    const original = graphqlError?.originalError ?? error;
    if (original instanceof AppError) {
      // graphql-js prefixes a variable's error with where it is ("Variable "$input" got invalid
      // value … at "input.objects[3].updateSequenceNumber""): that message names the item.
      if (graphqlError && graphqlError !== original) {
        return new GraphQLError(graphqlError.message, { nodes: graphqlError.nodes, path: graphqlError.path, extensions: original.extensions });
      }
      return original;
    }
    // A variable graphql-js could not coerce (a wrong type, a list for an object, a missing field,
    // a bad enum value): its scalar or coercion threw a GraphQLError, before anything executed.
    if (graphqlError && !graphqlError.path && original instanceof GraphQLError) {
      return new GraphQLError(graphqlError.message, { nodes: graphqlError.nodes, extensions: { code: 'BAD_USER_INPUT', subCode: 'INVALID_VARIABLES' } });
    }
    // A connection's mutation refused for a collision (db/collisions.ts): the connector sends it again.
    if (isCollision(original)) {
      const conflict = collisionRefused();
      return new GraphQLError(conflict.message, { nodes: graphqlError?.nodes, path: graphqlError?.path, extensions: conflict.extensions });
    }
    const refused = databaseInputError(original);
    // A stopped statement may be a costly request or a stalled server: the operator should see it.
    if (refused?.extensions.subCode === 'QUERY_TIMEOUT') logger.warn('statement timeout', { path: graphqlError?.path });
    if (refused) return new GraphQLError(refused.message, { nodes: graphqlError?.nodes, path: graphqlError?.path, extensions: refused.extensions });
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
 * their own code as sub-code, adds the request id to every error (issue 19: the one a client
 * quotes, the same as the x-request-id header and the log's), and makes what yoga's request
 * parser refuses (a body or a `variables` parameter that is not JSON) a client's mistake whose
 * message does not echo the JSON parser's.
 */
export function useErrorPolicy(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError && !error.extensions?.originalError) throw error;
          throw requestError(error instanceof GraphQLError ? error.message : 'The request’s query, variables or extensions parameter is not valid JSON.');
        }
      });
    },
    onResultProcess({ result, setResult, serverContext }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors) return;
      const requestId = (serverContext as { requestId?: string }).requestId;
      setResult({ ...result, errors: result.errors.map((e) => withCode(e, requestId)) });
    },
  };
}

/** A request yoga could not read; `http.status` is yoga's way of answering it with a 400. */
function requestError(message: string): BadUserInputError {
  const error = new BadUserInputError('BAD_REQUEST', message);
  error.extensions.http = { status: 400 };
  return error;
}

function withCode(error: GraphQLError, requestId: string | undefined): GraphQLError {
  const code = error.extensions?.code;
  const id = requestId && !error.extensions?.requestId ? { requestId } : null;
  const rebuild = (extensions: Record<string, unknown>) =>
    new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, ...extensions } });
  if (typeof code === 'string' && PUBLIC_CODES.has(code)) return id ? rebuild(id) : error;
  return rebuild({ code: 'BAD_USER_INPUT', subCode: typeof code === 'string' ? code : 'GRAPHQL_VALIDATION_FAILED', ...id });
}
