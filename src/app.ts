// createApp(deps): one fetch handler for the whole service. /graphql goes to yoga after the
// bearer token is checked and the body size bounded; other paths to the HTTP routes.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './db/database.ts';
import type { Services } from './graphql/context.ts';
import { PrincipalCache } from './authz/viewer-principals.ts';
import { createGraphqlHandler } from './graphql/yoga.ts';
import { type Catalog, defaultCatalog } from './modules/cli-permission/catalog.ts';
import { ADMIN_KEY_PREFIX, AdminKeyService } from './modules/admin-key/admin-key.service.ts';
import { CliSettingsService } from './modules/cli-permission/cli-settings.service.ts';
import { DirectoryService } from './modules/directory/directory.service.ts';
import { oauthRoutes } from './modules/oauth/oauth.routes.ts';
import { OAuthService } from './modules/oauth/oauth.service.ts';
import { ObjectService } from './modules/object/object.service.ts';
import { OrgService } from './modules/org/org.service.ts';
import { RelationshipService } from './modules/relationship/relationship.service.ts';
import { type SessionLifetimes, SessionService } from './modules/session/session.service.ts';
import { type Clock, systemClock } from './shared/clock.ts';
import { createLogger, type Logger } from './shared/logger.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps {
  db: Kysely<Database>;
  clock?: Clock;
  catalog?: Catalog;
  logger?: Logger;
  lifetimes?: SessionLifetimes;
  /** The OAuth issuer; undefined: the origin each request came to. */
  publicUrl?: string;
}

/** What the HTTP server knows of a request beyond the Request itself. */
export interface RequestInfo {
  /** The peer's IP address; undefined when the app is called without a socket (tests). */
  clientAddress?: string;
}

export interface App {
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  services: Services;
}

export function createServices(deps: AppDeps): Services {
  const clock = deps.clock ?? systemClock;
  const catalog = deps.catalog ?? defaultCatalog;
  const sessions = new SessionService(deps.db, clock, deps.lifetimes);
  const cliSettings = new CliSettingsService(deps.db, clock, catalog);
  return {
    db: deps.db,
    clock,
    catalog,
    orgs: new OrgService(deps.db, clock),
    sessions,
    objects: new ObjectService(deps.db, clock, catalog),
    directory: new DirectoryService(deps.db, clock),
    relationships: new RelationshipService(deps.db, clock),
    cliSettings,
    principals: new PrincipalCache(deps.db),
    oauth: new OAuthService(deps.db, clock, catalog, sessions, cliSettings),
    adminKeys: new AdminKeyService(deps.db, clock),
  };
}

export function createApp(deps: AppDeps): App {
  const logger = deps.logger ?? createLogger();
  const services = createServices(deps);
  const yoga = createGraphqlHandler(services, logger);

  async function graphql(request: Request): Promise<Response> {
    const requestId = randomUUID();
    const wantsGraphiql = request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html') && !new URL(request.url).searchParams.has('query');
    if (wantsGraphiql) return yoga.handleRequest(request, { requestId } as any);

    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    if (!token) {
      return errorResponse(401, 'UNAUTHENTICATED', 'Sign in first: send a bearer token (run `twg login`).', requestId, { 'www-authenticate': 'Bearer realm="teamgraph"' });
    }
    // Admin API keys and session tokens differ by prefix; both end as a Caller.
    const auth = token.startsWith(ADMIN_KEY_PREFIX) ? await services.adminKeys.authenticate(token) : await services.sessions.authenticate(token);
    if (!auth.ok) {
      return errorResponse(401, 'UNAUTHENTICATED', `The token is ${auth.reason === 'unknown' ? 'not valid' : auth.reason}. Run \`twg login\` to sign in again.`, requestId, {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    const bounded = await boundBody(request);
    if (!bounded) return errorResponse(413, 'BAD_USER_INPUT', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, requestId, {}, 'BODY_TOO_LARGE');
    const response = await yoga.handleRequest(bounded, { caller: auth.caller, org: auth.org, requestId });
    response.headers.set('x-request-id', requestId);
    return response;
  }

  const oauthRoute = oauthRoutes({ oauth: services.oauth, catalog: services.catalog, accessTokenSeconds: services.sessions.lifetimes.accessTokenSeconds, publicUrl: deps.publicUrl });

  async function fetch(request: Request, info: RequestInfo = {}): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/graphql') return await graphql(request);
      const oauth = oauthRoute(url.pathname);
      if (oauth) {
        const bounded = await boundBody(request);
        if (!bounded) return errorResponse(413, 'BAD_USER_INPUT', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, randomUUID(), {}, 'BODY_TOO_LARGE');
        return await oauth(bounded, info.clientAddress ?? 'unknown');
      }
      if (url.pathname === '/healthz') return new Response('ok\n', { headers: { 'content-type': 'text/plain' } });
      if (url.pathname === '/' && request.method === 'GET') return Response.redirect(new URL('/graphql', url), 302);
      return errorResponse(404, 'NOT_FOUND', `Nothing at ${url.pathname}.`, randomUUID());
    } catch (error) {
      const requestId = randomUUID();
      logger.error('unexpected error', { error, requestId, path: url.pathname });
      return errorResponse(500, 'INTERNAL', 'Internal error.', requestId);
    }
  }

  return { fetch, services };
}

/** Reads at most MAX_BODY_BYTES of the body; null when it is larger. */
async function boundBody(request: Request): Promise<Request | null> {
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return null;
  if (!request.body) return request;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: Buffer.concat(chunks) });
}

function errorResponse(status: number, code: string, message: string, requestId: string, headers: Record<string, string> = {}, subCode?: string): Response {
  const extensions = { code, ...(subCode ? { subCode } : {}), requestId };
  return new Response(JSON.stringify({ errors: [{ message, extensions }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...headers },
  });
}
