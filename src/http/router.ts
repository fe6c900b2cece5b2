// The service's one fetch handler: the client address (PRODUCT §7), a table of routes, and the
// error policy of issue 15: whatever arrives, the answer comes from here, with a public code and
// no stack. Every request passes the one per-request hook (observability/request-observer.ts),
// which gives it its id and logs and counts it.
import type { ObserveRequest } from '../observability/request-observer.ts';
import type { ObservedRequest } from '../observability/request-scope.ts';
import { AppError, HTTP_STATUS } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { RequestInfo } from './authenticate.ts';
import { bodyTooLarge, boundBody } from './body-limit.ts';
import { clientAddress, type TrustedProxies } from './client-ip.ts';
import { errorResponse, notFound } from './error-response.ts';

/** What a route is told of its request: the client's address and the request's observation (its id, who called). */
export type RoutedInfo = RequestInfo & { observed: ObservedRequest };
/** A route that reads the request itself (its credentials, its body). */
export type Route = (request: Request, info: RoutedInfo) => Promise<Response>;
/** A browser page or form: its body arrives bounded. */
export type PageHandler = (request: Request, clientAddress: string | undefined) => Promise<Response>;
/** The pages of one area (OAuth, account links, the admin page), by path; undefined for a path it does not own. */
export type Pages = (pathname: string) => PageHandler | undefined;

export interface Routes {
  /** By exact path. */
  routes: Record<string, Route>;
  /** Asked in order for any other path, by the area's name (the metrics' route label). */
  pages: Record<string, Pages>;
}

export function router({ routes, pages }: Routes, deps: { logger: Logger; trustedProxies: TrustedProxies; observe: ObserveRequest }) {
  const { logger, trustedProxies, observe } = deps;
  const areas = Object.entries(pages);
  return (request: Request, socket: RequestInfo = {}): Promise<Response> =>
    observe(request, async (observed) => {
      const { requestId } = observed;
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return errorResponse(400, 'BAD_USER_INPUT', 'The request target is not a valid URL path.', requestId, {}, 'INVALID_REQUEST_TARGET');
      }
      try {
        // From here on clientAddress is the client's, normalised (PRODUCT §7), not the socket peer's.
        const info: RoutedInfo = { clientAddress: clientAddress(socket.clientAddress, request.headers.get('x-forwarded-for'), trustedProxies), observed };
        observed.clientAddress = info.clientAddress;
        const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
        if (route) {
          observed.route = url.pathname;
          return await route(request, info);
        }
        for (const [area, owner] of areas) {
          const page = owner(url.pathname);
          if (!page) continue;
          observed.route = area;
          const bounded = await boundBody(request);
          if (!bounded) return bodyTooLarge(requestId);
          return await page(bounded, info.clientAddress);
        }
        return notFound(url.pathname, requestId);
      } catch (error) {
        // A client's mistake found deep in a route (text the database cannot hold, say) is answered
        // as such; anything else is a fault (PRODUCT §10).
        if (error instanceof AppError) return errorResponse(HTTP_STATUS[error.code], error.code, error.message, requestId, {}, error.extensions.subCode as string | undefined);
        logger.error('unexpected error', { error, path: url.pathname });
        return errorResponse(500, 'INTERNAL', 'Internal error.', requestId);
      }
    });
}
