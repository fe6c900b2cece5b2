// The service's one fetch handler: the client address (PRODUCT §7), a table of routes, and the
// error policy of issue 15: whatever arrives, the answer comes from here, with a public code and
// no stack.
import { randomUUID } from 'node:crypto';
import type { Services } from '../services.ts';
import { AppError, HTTP_STATUS } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { RequestInfo } from './authenticate.ts';
import { bodyTooLarge, boundBody } from './body-limit.ts';
import { clientAddress, type TrustedProxies } from './client-ip.ts';
import { errorResponse, notFound } from './error-response.ts';

/** A route that reads the request itself (its credentials, its body). */
export type Route = (request: Request, info: RequestInfo) => Promise<Response>;
/** A browser page or form: its body arrives bounded. */
export type PageHandler = (request: Request, clientAddress: string | undefined) => Promise<Response>;
/** The pages of one area (OAuth, account links, the admin page), by path; undefined for a path it does not own. */
export type Pages = (pathname: string) => PageHandler | undefined;

export interface Routes {
  /** By exact path. */
  routes: Record<string, Route>;
  /** Asked in order for any other path. */
  pages: Pages[];
}

export function router({ routes, pages }: Routes, deps: { services: Services; logger: Logger; trustedProxies: TrustedProxies }) {
  const { services, logger, trustedProxies } = deps;
  return async function fetch(request: Request, socket: RequestInfo = {}): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(400, 'BAD_USER_INPUT', 'The request target is not a valid URL path.', randomUUID(), {}, 'INVALID_REQUEST_TARGET');
    }
    try {
      // From here on clientAddress is the client's, normalised (PRODUCT §7), not the socket peer's.
      const info: RequestInfo = { clientAddress: clientAddress(socket.clientAddress, request.headers.get('x-forwarded-for'), trustedProxies) };
      const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
      if (route) return await route(request, info);
      const page = pages.reduce<PageHandler | undefined>((found, owner) => found ?? owner(url.pathname), undefined);
      if (page) {
        const bounded = await boundBody(request);
        if (!bounded) return bodyTooLarge(randomUUID());
        const response = await page(bounded, info.clientAddress);
        // Sign-out, refresh and sign-in change credentials: this process forgets what it cached
        // at once, before its own notification comes back.
        if (request.method === 'POST') services.credentials.drop();
        return response;
      }
      return notFound(url.pathname);
    } catch (error) {
      const requestId = randomUUID();
      // A client's mistake found deep in a route (text the database cannot hold, say) is answered
      // as such; anything else is a fault (PRODUCT §10).
      if (error instanceof AppError) return errorResponse(HTTP_STATUS[error.code], error.code, error.message, requestId, {}, error.extensions.subCode as string | undefined);
      logger.error('unexpected error', { error, requestId, path: url.pathname });
      return errorResponse(500, 'INTERNAL', 'Internal error.', requestId);
    }
  };
}
