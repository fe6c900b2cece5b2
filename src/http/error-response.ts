// The one shape of an answer the HTTP edge gives itself (PRODUCT §10): a GraphQL-style `errors`
// array with a stable code, an optional sub-code and the request id; never a stack.
import { activeRequest } from '../observability/request-scope.ts';

export function errorResponse(status: number, code: string, message: string, requestId: string, headers: Record<string, string> = {}, subCode?: string): Response {
  // The metrics' outcome and the access log's: the public code, which the status alone does not tell.
  const observed = activeRequest();
  if (observed) observed.errorCode = code;
  const extensions = { code, ...(subCode ? { subCode } : {}), requestId };
  return new Response(JSON.stringify({ errors: [{ message, extensions }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...headers },
  });
}

/** Nothing is served at this path (or not with this method). */
export function notFound(pathname: string, requestId: string): Response {
  return errorResponse(404, 'NOT_FOUND', `Nothing at ${pathname.slice(0, 200)}.`, requestId);
}
