// The table of OAuth paths (RFC 6749, 7636, 8414, 8628, 7009) to their handlers, with the cross-site refusal and error answers they share; what is granted is decided by OAuthService.
import { isCollision } from '../../db/collisions.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import { BadUserInputError } from '../../shared/errors.ts';
import type { PageHandler, Pages } from '../router.ts';
import { authorizeGet, authorizePost } from './authorize.ts';
import { deviceAuthorization, deviceDecision, deviceVerificationPage } from './device.ts';
import { metadata } from './metadata.ts';
import { json, type OAuthRouteDeps, oauthErrorResponse } from './oauth-http.ts';
import { revocation } from './revoke.ts';
import { tokenEndpoint } from './token.ts';

/** The paths of the two forms, which check their own FormGuard tickets. */
const FORMS = new Set(['/oauth/authorize', '/device']);

/** The handler for an OAuth path, or undefined when the path is not one. */
export function oauthRoutes(deps: OAuthRouteDeps): Pages {
  const routes: Record<string, Partial<Record<'GET' | 'POST', PageHandler>>> = {
    '/.well-known/oauth-authorization-server': { GET: async () => json(200, metadata(deps.publicUrl, deps.catalog)) },
    '/oauth/authorize': {
      GET: async (request) => authorizeGet(deps, request),
      POST: async (request, address) => authorizePost(deps, request, address),
    },
    '/oauth/token': { POST: (request, address) => tokenEndpoint(deps, request, address) },
    '/oauth/device_authorization': { POST: (request) => deviceAuthorization(deps, request) },
    '/oauth/revoke': { POST: (request) => revocation(deps, request) },
    '/device': {
      GET: async (request) => deviceVerificationPage(deps, request),
      POST: (request, address) => deviceDecision(deps, request, address),
    },
  };
  return (pathname) => {
    const methods = routes[pathname];
    if (!methods) return undefined;
    return async (request, address) => {
      const handler = methods[request.method as 'GET' | 'POST'];
      if (!handler) return new Response(null, { status: 405, headers: { allow: Object.keys(methods).join(', ') } });
      // The forms check their own tickets (and answer with the form again); the endpoints that
      // programs call are refused here when a browser says another site sent them.
      const crossSite = request.method === 'POST' && !FORMS.has(pathname) ? deps.forms.checkSite(request) : null;
      if (crossSite) return oauthErrorResponse(new OAuthError('invalid_request', crossSite.message, 403), request);
      try {
        return await handler(request, address);
      } catch (error) {
        if (error instanceof OAuthError) return oauthErrorResponse(error, request);
        // Text the database cannot hold (issue 15) is a malformed request, in OAuth's words.
        if (error instanceof BadUserInputError) return oauthErrorResponse(new OAuthError('invalid_request', error.message), request);
        // Refused for a collision in every run (db/collisions.ts): nothing was kept, and the same request may succeed.
        if (isCollision(error)) return oauthErrorResponse(new OAuthError('temporarily_unavailable', 'The request collided with others made at the same time and nothing of it was kept; send it again.', 503), request);
        throw error;
      }
    };
  };
}
