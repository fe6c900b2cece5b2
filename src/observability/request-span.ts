// The server span of every HTTP request: it continues the caller's W3C `traceparent` (a `twg`
// command and the server's work form one trace) and is the active span everything the request
// does runs under. It names the path and route, never the query string (codes, tokens, variables).
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, type TextMapGetter } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL } from '@opentelemetry/semantic-conventions';
import { isTracing, tracer } from './spans.ts';

type Fetch<Info> = (request: Request, info?: Info) => Promise<Response>;

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** Paths that carry an id, by the template a route names them with (a span name must not grow with ids). */
const TEMPLATES: [RegExp, string][] = [[/^\/connections\/[^/]+\/link(\/callback|\/confirm)?$/, '/connections/{connectionId}/link']];

/** The route a request took; undefined when no route answered (404: any path may be asked for). */
function routeOf(path: string, status: number): string | undefined {
  if (status === 404) return undefined;
  for (const [pattern, template] of TEMPLATES) {
    const match = pattern.exec(path);
    if (match) return template + (match[1] ?? '');
  }
  return path;
}

export function tracedRequests<Info>(fetch: Fetch<Info>): Fetch<Info> {
  return (request, info) => {
    if (!isTracing()) return fetch(request, info);
    const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
    const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
    const method = request.method;
    return tracer().startActiveSpan(method, { kind: SpanKind.SERVER }, parent, async (span) => {
      try {
        const response = await fetch(request, info);
        if (span.isRecording()) {
          const route = url && routeOf(url.pathname, response.status);
          if (route) span.updateName(`${method} ${route}`);
          span.setAttributes({
            [ATTR_HTTP_REQUEST_METHOD]: method,
            ...(url ? { [ATTR_URL_PATH]: url.pathname, [ATTR_URL_SCHEME]: url.protocol.slice(0, -1) } : {}),
            ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
            [ATTR_HTTP_RESPONSE_STATUS_CODE]: response.status,
            ...(request.headers.has('user-agent') ? { [ATTR_USER_AGENT_ORIGINAL]: request.headers.get('user-agent')! } : {}),
            ...(response.headers.has('x-request-id') ? { 'teamgraph.request_id': response.headers.get('x-request-id')! } : {}),
          });
          // A server span is an error only for the server's faults; 4xx are the client's.
          if (response.status >= 500) {
            span.setAttribute('error.type', String(response.status));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        }
        return response;
      } finally {
        span.end();
      }
    });
  };
}
