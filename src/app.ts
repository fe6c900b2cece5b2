// createApp(deps): one fetch handler for the whole service. /graphql goes to yoga after the
// bearer token is checked and the body size bounded; other paths to the HTTP routes.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServices, type ServiceDeps, type Services } from './services.ts';
import type { ParseMemo } from './graphql/plugins/use-parse-once.ts';
import { createGraphqlHandler } from './graphql/yoga.ts';
import { adminPageRoutes } from './http/admin-page/admin-page.routes.ts';
import { clientAddress, parseTrustedProxies, type TrustedProxies } from './http/client-ip.ts';
import { FormGuard } from './http/form-guard.ts';
import { linkRoutes } from './modules/account-link/account-link.routes.ts';
import { ADMIN_KEY_PREFIX } from './modules/admin-key/admin-key.service.ts';
import { AuditRecorder } from './modules/audit/audit-recorder.ts';
import { parseExportQuery } from './modules/audit/audit-export.ts';
import type { AuditOutcome } from './modules/audit/audit-event.ts';
import { BITBUCKET_CLIENT_ID, type BitbucketAuthentication } from './modules/bitbucket-token/bitbucket-token.service.ts';
import { type Caller, isAdmin, type OrgSnapshot } from './modules/session/caller.ts';
import { oauthRoutes } from './modules/oauth/oauth.routes.ts';
import { createLogger } from './shared/logger.ts';
import { AppError, HTTP_STATUS } from './shared/errors.ts';
import type { Speculation } from './modules/session/credential-cache.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps extends ServiceDeps {
  /**
   * The service's public origin (e.g. https://teamgraph.example.com): the OAuth issuer and the
   * base of every address the service hands out. Never the Host a request names (issue 15).
   */
  publicUrl: string;
  /** false only in benchmarks that measure what the audit log costs; main.ts never sets it. */
  auditLog?: boolean;
  /** Peers whose X-Forwarded-For is believed (TEAMGRAPH_TRUSTED_PROXIES); nobody by default. */
  trustedProxies?: TrustedProxies;
}

/** What the HTTP server knows of a request beyond the Request itself. */
export interface RequestInfo {
  /** The socket peer's IP address; undefined when the app is called without a socket (tests). */
  clientAddress?: string;
}

/** A response not yet sent, with what its audit event needs. */
interface Answer {
  response: Response;
  recorder: AuditRecorder | null;
  /** Overrides the outcome the GraphQL result tells. */
  outcome?: AuditOutcome;
}

type Authenticated = ({ ok: false } & Answer) | { ok: true; caller: Caller; org: OrgSnapshot; recorder: AuditRecorder | null };

export interface App {
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  services: Services;
  publicUrl: string;
}

export function createApp(deps: AppDeps): App {
  const logger = deps.logger ?? createLogger();
  const services = createServices(deps);
  const yoga = createGraphqlHandler(services, logger);

  /**
   * Makes the request's audit event durable before its response leaves (PRODUCT §9); if it
   * cannot be written, the response becomes INTERNAL instead.
   */
  async function audited(recorder: AuditRecorder | null, response: Response, outcome?: AuditOutcome, eventOf = (r: AuditRecorder) => r.event(response.status, outcome)): Promise<Response> {
    if (!recorder || recorder.written) return response;
    try {
      await services.audit.append(eventOf(recorder));
      recorder.written = true;
      return response;
    } catch (error) {
      const requestId = response.headers.get('x-request-id') ?? randomUUID();
      logger.error('audit event not written', { error, requestId });
      return errorResponse(500, 'INTERNAL', 'Internal error.', requestId);
    }
  }

  /**
   * The request's credentials as a Caller, with its audit recorder (the audit log follows
   * accounts and the admins behind API keys, not connections); or the refusal to answer, for the
   * caller to record. A bearer token (session or admin API key), an X-Bitbucket-Token (PRODUCT
   * §8), or both of one account. With a `speculation`, cached credentials are used before their
   * barrier has confirmed them: the caller confirms before anything leaves.
   */
  async function authenticate(request: Request, info: RequestInfo, requestId: string, speculation?: Speculation): Promise<Authenticated> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    const bitbucketSecret = request.headers.get('x-bitbucket-token')?.trim() || null;
    if (!token && !bitbucketSecret) {
      return { ok: false, recorder: null, response: errorResponse(401, 'UNAUTHENTICATED', 'Sign in first: send a bearer token (run `twg login`).', requestId, { 'www-authenticate': 'Bearer realm="teamgraph"' }) };
    }
    // Admin API keys and session tokens differ by prefix; both end as a Caller.
    const bearer = token ? (token.startsWith(ADMIN_KEY_PREFIX) ? await services.adminKeys.authenticate(token, speculation) : await services.sessions.authenticate(token, speculation)) : null;
    const bitbucket = bitbucketSecret ? await services.bitbucketTokens.authenticate(bitbucketSecret, speculation) : null;
    const actor = bearer?.actor ? { ...bearer.actor, bitbucketTokenId: bitbucket?.ok ? bitbucket.tokenId : null } : (bitbucket?.actor ?? null);
    const recorder = actor && deps.auditLog !== false ? new AuditRecorder(request, info.clientAddress ?? null, services.clock) : null;
    if (recorder) recorder.actor = actor!;
    const refuse = (status: number, code: string, message: string, outcome: AuditOutcome, headers: Record<string, string> = {}, subCode?: string): Authenticated => ({
      ok: false,
      recorder,
      outcome,
      response: errorResponse(status, code, message, requestId, headers, subCode),
    });

    if (bearer && !bearer.ok && bearer.reason === 'connection-disabled') {
      return refuse(403, 'FORBIDDEN', 'This connection is disabled by an organisation admin: nothing it sends is accepted until it is enabled again.', 'DENIED', {}, 'CONNECTION_DISABLED');
    }
    if (bearer && !bearer.ok) {
      return refuse(401, 'UNAUTHENTICATED', `The token is ${bearer.reason === 'unknown' ? 'not valid' : bearer.reason}. Run \`twg login\` to sign in again.`, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    if (bitbucket && !bitbucket.ok) {
      return refuse(401, 'UNAUTHENTICATED', `The Bitbucket token is ${bitbucket.reason === 'unknown' ? 'not valid' : bitbucket.reason}. Create a new one with createBitbucketToken.`, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    let caller: Caller;
    let org: OrgSnapshot;
    if (bearer?.ok) {
      ({ caller, org } = bearer);
      if (bitbucket?.ok) {
        if (caller.kind !== 'account' || caller.orgId !== bitbucket.orgId || caller.accountId !== bitbucket.accountId) {
          return refuse(403, 'FORBIDDEN', 'The Bitbucket token and the bearer token belong to different accounts; send the tokens of one account.', 'DENIED');
        }
        caller = { ...caller, bitbucket: { tokenId: bitbucket.tokenId, scopes: bitbucket.scopes } };
      }
    } else {
      const b = bitbucket as Extract<BitbucketAuthentication, { ok: true }>;
      caller = { kind: 'account', orgId: b.orgId, accountId: b.accountId, isOrgAdmin: b.isOrgAdmin, sessionId: b.tokenId, clientId: BITBUCKET_CLIENT_ID, scopes: [], bitbucket: { tokenId: b.tokenId, scopes: b.scopes } };
      org = b.org;
    }
    // PRODUCT §7: outside the allowlist, nothing is read for an account or an admin key.
    if (caller.kind !== 'connection' && !services.ipAllowlist.allows(caller.orgId, org.ipAllowlist, info.clientAddress)) {
      return refuse(403, 'IP_NOT_ALLOWED', `Your organisation does not allow requests from ${info.clientAddress ?? 'an unknown address'}.`, 'IP_BLOCKED');
    }
    return { ok: true, caller, org, recorder };
  }

  /** GET /admin/audit/export: every matching event, streamed, for an admin (PRODUCT §9). */
  async function auditExport(request: Request, info: RequestInfo): Promise<Response> {
    const requestId = randomUUID();
    if (request.method !== 'GET') return errorResponse(405, 'BAD_USER_INPUT', 'Use GET.', requestId, { allow: 'GET' }, 'METHOD_NOT_ALLOWED');
    const auth = await authenticate(request, info, requestId);
    if (!auth.ok) return audited(auth.recorder, auth.response, auth.outcome);
    const recorder = auth.recorder;
    if (recorder) recorder.operationName = 'auditExport';
    if (!isAdmin(auth.caller)) {
      return audited(recorder, errorResponse(403, 'FORBIDDEN', 'Exporting the audit log needs an organisation admin on the admin page, or an admin API key.', requestId), 'DENIED');
    }
    const parsed = parseExportQuery(new URL(request.url).searchParams);
    if ('error' in parsed) return audited(recorder, errorResponse(400, 'BAD_USER_INPUT', parsed.error, requestId, {}, 'INVALID_EXPORT_QUERY'), 'ERROR');
    // The export is itself an admin action: recorded (and durable) before the first byte leaves.
    const response = new Response(services.audit.export(auth.caller.orgId, parsed.filter, parsed.format), {
      headers: {
        'content-type': parsed.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${auth.caller.orgId}.${parsed.format}"`,
        'x-request-id': requestId,
      },
    });
    return audited(recorder, response, undefined, (r) => r.adminEvent('audit.exported', { format: parsed.format, filter: parsed.filter }));
  }

  /**
   * A GraphQL request. Cached credentials are used at once while the change feed's barrier runs
   * beside the request (issue 3: on PostgreSQL the barrier is a round trip). Until it confirms
   * them nothing leaves: no response, no audit event, and no mutation starts (useAudit waits for
   * it; query fields only read). Should the barrier show that they changed, the request runs
   * again from the database.
   */
  async function graphql(request: Request, info: RequestInfo): Promise<Response> {
    const requestId = randomUUID();
    const wantsGraphiql = request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html') && !new URL(request.url).searchParams.has('query');
    if (wantsGraphiql) return yoga.handleRequest(request, { requestId } as any);

    const rerunnable = new Rerunnable(request);
    const speculation = services.credentials.speculate();
    let answer = await respond(rerunnable, info, requestId, speculation);
    if (speculation.relies && !(await speculation.confirm())) answer = await respond(rerunnable, info, requestId);
    return audited(answer.recorder, answer.response, answer.outcome);
  }

  async function respond(rerunnable: Rerunnable, info: RequestInfo, requestId: string, speculation?: Speculation): Promise<Answer> {
    const auth = await authenticate(rerunnable.request, info, requestId, speculation);
    if (!auth.ok) return auth;
    const recorder = auth.recorder;
    const bounded = await rerunnable.body();
    if (!bounded) return { recorder, outcome: 'ERROR', response: errorResponse(413, 'BAD_USER_INPUT', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, requestId, {}, 'BODY_TOO_LARGE') };
    const response = await yoga.handleRequest(bounded, {
      caller: auth.caller,
      org: auth.org,
      requestId,
      audit: recorder,
      clientAddress: info.clientAddress,
      credentialsConfirmed: () => speculation?.confirm() ?? Promise.resolve(true),
      parseMemo: rerunnable.parsed,
    });
    response.headers.set('x-request-id', requestId);
    return { recorder, response };
  }

  const forms = new FormGuard(deps.secretKey ?? randomBytes(32), deps.publicUrl);
  const oauthRoute = oauthRoutes({ oauth: services.oauth, catalog: services.catalog, accessTokenSeconds: services.sessions.lifetimes.accessTokenSeconds, publicUrl: deps.publicUrl, forms });

  const linkRoute = linkRoutes({ links: services.accountLinks, oauth: services.oauth, publicUrl: deps.publicUrl, forms });

  const adminPageRoute = adminPageRoutes();

  const trustedProxies = deps.trustedProxies ?? parseTrustedProxies(undefined);

  async function fetch(request: Request, socket: RequestInfo = {}): Promise<Response> {
    // Issue 15: whatever arrives, the answer comes from here, with a public code and no stack.
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(400, 'BAD_USER_INPUT', 'The request target is not a valid URL path.', randomUUID(), {}, 'INVALID_REQUEST_TARGET');
    }
    try {
      // From here on clientAddress is the client's, normalised (PRODUCT §7), not the socket peer's.
      const info: RequestInfo = { clientAddress: clientAddress(socket.clientAddress, request.headers.get('x-forwarded-for'), trustedProxies) };
      if (url.pathname === '/graphql') return await graphql(request, info);
      if (url.pathname === '/admin/audit/export') return await auditExport(request, info);
      const page = oauthRoute(url.pathname) ?? linkRoute(url.pathname) ?? adminPageRoute(url.pathname);
      if (page) {
        const bounded = await boundBody(request);
        if (!bounded) return errorResponse(413, 'BAD_USER_INPUT', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, randomUUID(), {}, 'BODY_TOO_LARGE');
        const response = await page(bounded, info.clientAddress);
        // Sign-out, refresh and sign-in change credentials: this process forgets what it cached
        // at once, before its own notification comes back.
        if (request.method === 'POST') services.credentials.drop();
        return response;
      }
      if (url.pathname === '/healthz') return new Response('ok\n', { headers: { 'content-type': 'text/plain' } });
      if (url.pathname === '/' && request.method === 'GET') return Response.redirect(`${deps.publicUrl}/graphql`, 302);
      return errorResponse(404, 'NOT_FOUND', `Nothing at ${url.pathname.slice(0, 200)}.`, randomUUID());
    } catch (error) {
      const requestId = randomUUID();
      // A client's mistake found deep in a route (text the database cannot hold, say) is answered
      // as such; anything else is a fault (PRODUCT §10).
      if (error instanceof AppError) return errorResponse(HTTP_STATUS[error.code], error.code, error.message, requestId, {}, error.extensions.subCode as string | undefined);
      logger.error('unexpected error', { error, requestId, path: url.pathname });
      return errorResponse(500, 'INTERNAL', 'Internal error.', requestId);
    }
  }

  return { fetch, services, publicUrl: deps.publicUrl };
}

/**
 * A GraphQL request that may run twice: its body is read (and bounded) once, and what yoga parsed
 * from it is kept for the second run (useParseOnce), which cannot read the body again.
 */
class Rerunnable {
  private bounded: Promise<Request | null> | null = null;
  readonly parsed: ParseMemo = {};

  constructor(readonly request: Request) {}

  /** The request to execute; null when its body is over the limit. */
  body(): Promise<Request | null> {
    this.bounded ??= boundBody(this.request);
    return this.bounded;
  }
}

/** Reads at most MAX_BODY_BYTES of the body; null when it is larger. */
async function boundBody(request: Request): Promise<Request | null> {
  const declared = request.headers.get('content-length');
  if (Number(declared ?? 0) > MAX_BODY_BYTES) return null;
  // With a declared length the HTTP parser delivers exactly that many bytes: no need to count.
  if (!request.body || (declared !== null && /^\d+$/.test(declared))) return request;
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
