// createApp(deps): the service's one fetch handler, the services behind it and its routes.
// /graphql, the audit export and twg connect's link check authenticate (http/authenticate.ts) and
// are audited before they answer (http/audited.ts); the OAuth, account-link and admin pages are
// browser forms; the router (http/router.ts) gives every answer its public shape.
import { randomBytes } from 'node:crypto';
import { createGraphqlHandler } from './graphql/yoga.ts';
import { adminPageRoutes } from './http/admin-page/routes.ts';
import { auditExportRoute } from './http/audit-export.ts';
import { auditedResponses } from './http/audited.ts';
import { authenticator, type RequestInfo } from './http/authenticate.ts';
import { parseTrustedProxies, type TrustedProxies } from './http/client-ip.ts';
import { notFound } from './http/error-response.ts';
import { FormGuard } from './http/form-guard.ts';
import { KnownDevices } from './http/known-device.ts';
import { graphiqlRoutes } from './http/graphiql/routes.ts';
import { graphqlRoute } from './http/graphql-route.ts';
import { healthRoutes } from './http/health.ts';
import { router } from './http/router.ts';
import { linkRoutes } from './http/account-link.ts';
import { oauthRoutes } from './http/oauth/routes.ts';
import { tracedRequests } from './observability/request-span.ts';
import type { Metrics } from './observability/metrics.ts';
import { requestObserver } from './observability/request-observer.ts';
import { createServices, type ServiceDeps, type Services } from './services.ts';

export interface AppDeps extends ServiceDeps {
  /**
   * The service's public origin (e.g. https://teamgraph.example.com): the OAuth issuer and the
   * base of every address the service hands out. Never the Host a request names (issue 15).
   */
  publicUrl: string;
  /** false only in benchmarks that measure the audit log's cost or keep it out of a comparison; main.ts never sets it. */
  auditLog?: boolean;
  /** false only in benchmarks that measure what rate limits cost (issue 21); main.ts never sets it. */
  rateLimits?: boolean;
  /** Peers whose X-Forwarded-For is believed (TEAMGRAPH_TRUSTED_PROXIES); nobody by default. */
  trustedProxies?: TrustedProxies;
  /** True once the process has begun to shut down: /readyz answers 503 (main.ts). */
  draining?: () => boolean;
  /**
   * Headers GraphiQL's Headers tab opens with, e.g. the demo's `{ Authorization: 'Bearer …' }`;
   * asked at every page load (demo tokens are issued after the app is built). Undefined: the page
   * says how to get a token.
   */
  graphiqlHeaders?: () => Record<string, string> | undefined;
}

export interface App {
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  services: Services;
  publicUrl: string;
  /** This app's metrics (its own registry); observability/metrics-server.ts serves them. */
  metrics: Metrics;
}

export function createApp(deps: AppDeps): App {
  const services = createServices(deps);
  const { logger, metrics } = services;
  const authenticate = authenticator(services, { auditLog: deps.auditLog !== false });
  const audited = auditedResponses(services.audit, logger);
  const secretKey = deps.secretKey ?? randomBytes(32);
  const forms = new FormGuard(secretKey, deps.publicUrl);
  const devices = new KnownDevices(secretKey, deps.publicUrl);
  const graphiql = graphiqlRoutes({ headers: deps.graphiqlHeaders });
  const routed = router(
    {
      routes: {
        '/graphql': graphqlRoute(services, createGraphqlHandler(services, logger), authenticate, audited, graphiql.page, { rateLimits: deps.rateLimits !== false }),
        '/admin/audit/export': auditExportRoute(services, authenticate, audited),
        ...healthRoutes({ db: services.db, changes: deps.changes, draining: deps.draining ?? (() => false) }),
        '/': async (request, info) => (request.method === 'GET' ? Response.redirect(`${deps.publicUrl}/graphql`, 302) : notFound('/', info.observed.requestId)),
      },
      pages: {
        oauth: oauthRoutes({ oauth: services.oauth, catalog: services.catalog, accessTokenSeconds: services.sessions.lifetimes.accessTokenSeconds, publicUrl: deps.publicUrl, forms, devices }),
        'account-link': linkRoutes({ links: services.accountLinks, oauth: services.oauth, publicUrl: deps.publicUrl, forms, devices, authenticate, audited }),
        'admin-page': adminPageRoutes(),
        graphiql: graphiql.assets,
      },
    },
    { logger, trustedProxies: deps.trustedProxies ?? parseTrustedProxies(undefined), observe: requestObserver({ metrics, logger }) },
  );
  return { fetch: tracedRequests(routed), services, publicUrl: deps.publicUrl, metrics };
}
