// The OAuth endpoints over HTTP (RFC 6749, 7636, 8414, 8628, 7009): parsing, client
// authentication, responses and pages. What is granted is decided by OAuthService.
import type { Catalog } from '../../modules/cli-permission/catalog.ts';
import type { SignedIn } from '../../modules/session/session.service.ts';
import { type PublicClient, PUBLIC_CLIENTS } from '../../modules/oauth/clients.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import { BadUserInputError } from '../../shared/errors.ts';
import type { AuthorizationRequest, ConnectionClient, OAuthService, PasswordCheck } from '../../modules/oauth/oauth.service.ts';
import { deviceNotice, devicePage, loginPage, page } from '../pages.ts';
import type { FormGuard } from '../form-guard.ts';
import type { PageHandler, Pages } from '../router.ts';
import { CODE_CHALLENGE, CODE_VERIFIER } from '../../modules/oauth/pkce.ts';
import { displayUserCode } from '../../modules/oauth/user-code.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_GRANT, 'client_credentials'];
const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];
/** The FormGuard purposes of the two forms, and the paths that serve them. */
const LOGIN_FORM = 'oauth-login';
const DEVICE_FORM = 'device';
const FORMS = new Set(['/oauth/authorize', '/device']);
/** The parameters of an authorization request, carried through the login form. */
const AUTHORIZATION_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'scope', 'state'];

export interface OAuthRouteDeps {
  oauth: OAuthService;
  catalog: Catalog;
  accessTokenSeconds: number;
  /** The issuer: the configured public origin, never a request's Host (issue 15). */
  publicUrl: string;
  /** Refuses cross-site posts: the forms' tickets, the endpoints' Origin (issue 15). */
  forms: FormGuard;
}

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
      GET: async (request) => devicePage(200, deps.forms.issue(request, DEVICE_FORM), { userCode: new URL(request.url).searchParams.get('user_code') ?? undefined }),
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
      if (crossSite) return json(403, { error: 'invalid_request', error_description: crossSite.message });
      try {
        return await handler(request, address);
      } catch (error) {
        if (error instanceof OAuthError) return oauthErrorResponse(error, request);
        // Text the database cannot hold (issue 15) is a malformed request, in OAuth's words.
        if (error instanceof BadUserInputError) return oauthErrorResponse(new OAuthError('invalid_request', error.message), request);
        throw error;
      }
    };
  };
}

function metadata(issuer: string, catalog: Catalog) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    scopes_supported: catalog.permissions.map((p) => p.key),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: GRANT_TYPES,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    authorization_response_iss_parameter_supported: true,
  };
}

// --- authorization endpoint and login page ---------------------------------------------------

type ParsedAuthorization = AuthorizationRequest & { state: string | null; formParams: Record<string, string> };

/**
 * Validates an authorization request. Until the client and its redirect are known good, errors
 * are a page (redirecting would hand them to an arbitrary URL); after that, a redirect.
 */
function parseAuthorization(deps: OAuthRouteDeps, params: URLSearchParams): ParsedAuthorization | Response {
  const issuer = deps.publicUrl;
  const repeated = AUTHORIZATION_PARAMS.filter((name) => params.getAll(name).length > 1);
  const client = PUBLIC_CLIENTS.get(params.get('client_id') ?? '');
  if (!client || params.getAll('client_id').length > 1) return page(400, 'Sign-in failed', '<p>The application asked to sign in with an unknown client_id. Nothing was sent to it.</p>');
  const redirectUri = params.get('redirect_uri') ?? '';
  if (!client.acceptsRedirect(redirectUri, issuer) || params.getAll('redirect_uri').length > 1) {
    return page(400, 'Sign-in failed', '<p>The application asked to return to an address it may not use (twg uses http://127.0.0.1:&lt;port&gt;/callback). Nothing was sent to it.</p>');
  }
  const state = params.get('state');
  const fail = (error: string, description: string) => authorizationRedirect(redirectUri, { error, error_description: description, state, iss: issuer });
  if (repeated.length > 0) return fail('invalid_request', `Parameters given more than once: ${repeated.join(', ')}.`);
  const responseType = params.get('response_type');
  if (!responseType) return fail('invalid_request', 'response_type is missing; it must be code.');
  if (responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
  if (params.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'PKCE is required with code_challenge_method=S256 (plain is not accepted).');
  const codeChallenge = params.get('code_challenge') ?? '';
  if (!CODE_CHALLENGE.test(codeChallenge)) return fail('invalid_request', 'code_challenge must be the unpadded base64url SHA-256 of the code verifier (43 characters).');
  let scopes: string[] | null;
  try {
    scopes = deps.oauth.parseScope(params.get('scope'));
  } catch (error) {
    if (error instanceof OAuthError) return fail(error.error, error.description);
    throw error;
  }
  const formParams: Record<string, string> = {};
  for (const name of AUTHORIZATION_PARAMS) {
    const value = params.get(name);
    if (value !== null) formParams[name] = value;
  }
  return { client, redirectUri, codeChallenge, scopes, state, formParams };
}

function authorizeGet(deps: OAuthRouteDeps, request: Request): Response {
  const parsed = parseAuthorization(deps, new URL(request.url).searchParams);
  if (parsed instanceof Response) return parsed;
  return loginPage(200, parsed.formParams, deps.forms.issue(request, LOGIN_FORM), { scopes: parsed.scopes, adminPage: parsed.client.adminsOnly });
}

async function authorizePost(deps: OAuthRouteDeps, request: Request, address: string | undefined): Promise<Response> {
  const issuer = deps.publicUrl;
  const form = await readForm(request);
  const parsed = parseAuthorization(deps, form);
  if (parsed instanceof Response) return parsed;
  const email = form.get('email') ?? '';
  const again = (status: number, error: string) =>
    loginPage(status, parsed.formParams, deps.forms.issue(request, LOGIN_FORM), { email, scopes: parsed.scopes, adminPage: parsed.client.adminsOnly, error });
  // Issue 15: a sign-in forged by another site would sign the browser in as the forger.
  const refusal = deps.forms.checkForm(request, form, LOGIN_FORM);
  if (refusal) return again(403, refusal.message);
  const check = await deps.oauth.checkPassword(email, form.get('password') ?? '');
  if (!check.ok) return again(check.reason === 'throttled' ? 429 : 401, passwordMessage(check));
  try {
    const code = await deps.oauth.authorize(parsed, check.account, address);
    return authorizationRedirect(parsed.redirectUri, { code, state: parsed.state, iss: issuer });
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    // Outside the allowlist the person sees why here; the client learns nothing of the address.
    if (error.status === 403) return again(403, error.description);
    return authorizationRedirect(parsed.redirectUri, { error: error.error, error_description: error.description, state: parsed.state, iss: issuer });
  }
}

function authorizationRedirect(redirectUri: string, params: Record<string, string | null>): Response {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== null) target.searchParams.set(name, value);
  return new Response(null, { status: 303, headers: { location: target.toString(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
}

const passwordMessage = (check: Exclude<PasswordCheck, { ok: true }>) =>
  check.reason === 'throttled' ? 'Too many wrong passwords for this e-mail. Wait 15 minutes and try again.' : 'Wrong e-mail or password, or the account is deactivated.';

// --- token, device authorization and revocation endpoints ------------------------------------

type AuthenticatedClient = { kind: 'public'; client: PublicClient } | { kind: 'connection'; connection: ConnectionClient };

/** client_secret_basic, client_secret_post, or a public client naming itself (RFC 6749 §2.3). */
async function authenticateClient(deps: OAuthRouteDeps, request: Request, form: URLSearchParams): Promise<AuthenticatedClient> {
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (basic) {
    if (form.has('client_secret')) throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials.');
    const clientId = safeDecode(decoded.slice(0, colon));
    return { kind: 'connection', connection: await deps.oauth.authenticateConnection(clientId, safeDecode(decoded.slice(colon + 1))) };
  }
  const clientId = single(form, 'client_id');
  if (!clientId) throw new OAuthError('invalid_client', 'client_id is missing.');
  const secret = single(form, 'client_secret');
  if (secret !== null) {
    return { kind: 'connection', connection: await deps.oauth.authenticateConnection(clientId, secret) };
  }
  const client = PUBLIC_CLIENTS.get(clientId);
  if (!client) throw new OAuthError('invalid_client', 'Unknown client, or a confidential client without its secret.');
  return { kind: 'public', client };
}

async function tokenEndpoint(deps: OAuthRouteDeps, request: Request, address: string | undefined): Promise<Response> {
  const form = await readForm(request);
  const grantType = single(form, 'grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is missing.');
  if (!GRANT_TYPES.includes(grantType)) throw new OAuthError('unsupported_grant_type', `Unsupported grant_type ${grantType}.`);
  const client = await authenticateClient(deps, request, form);
  if (client.kind === 'connection') {
    if (grantType !== 'client_credentials') throw new OAuthError('unauthorized_client', 'Connections use the client_credentials grant.');
    return tokenResponse(deps, await deps.oauth.clientCredentials(client.connection));
  }
  const required = (name: string) => {
    const value = single(form, name);
    if (!value) throw new OAuthError('invalid_request', `${name} is missing.`);
    return value;
  };
  switch (grantType) {
    case 'authorization_code': {
      const codeVerifier = required('code_verifier');
      if (!CODE_VERIFIER.test(codeVerifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.');
      return tokenResponse(deps, await deps.oauth.exchangeCode({ code: required('code'), redirectUri: required('redirect_uri'), codeVerifier, client: client.client, address }));
    }
    case 'refresh_token':
      return tokenResponse(deps, await deps.oauth.refresh(required('refresh_token'), client.client, address));
    case DEVICE_GRANT:
      return tokenResponse(deps, await deps.oauth.pollDevice(required('device_code'), client.client, address));
    default:
      throw new OAuthError('unauthorized_client', `${client.client.id} is a public client and may not use ${grantType}.`);
  }
}

function tokenResponse(deps: OAuthRouteDeps, issued: { accessToken: string; scopes: string[]; refreshToken?: string } | SignedIn): Response {
  return json(200, {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    expires_in: deps.accessTokenSeconds,
    ...('refreshToken' in issued && issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
    ...(issued.scopes.length > 0 ? { scope: issued.scopes.join(' ') } : {}),
  });
}

async function deviceAuthorization(deps: OAuthRouteDeps, request: Request): Promise<Response> {
  const issuer = deps.publicUrl;
  const form = await readForm(request);
  const client = await authenticateClient(deps, request, form);
  if (client.kind !== 'public') throw new OAuthError('unauthorized_client', 'Connections use the client_credentials grant.');
  if (client.client.adminsOnly) throw new OAuthError('unauthorized_client', `${client.client.id} signs in with the authorization code flow only.`);
  const started = await deps.oauth.startDevice(client.client, deps.oauth.parseScope(single(form, 'scope')));
  const userCode = displayUserCode(started.userCode);
  return json(200, {
    device_code: started.deviceCode,
    user_code: userCode,
    verification_uri: `${issuer}/device`,
    verification_uri_complete: `${issuer}/device?user_code=${userCode}`,
    expires_in: started.expiresIn,
    interval: started.interval,
  });
}

async function revocation(deps: OAuthRouteDeps, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(deps, request, form);
  const token = single(form, 'token');
  if (!token) throw new OAuthError('invalid_request', 'token is missing.');
  await deps.oauth.revoke(token, client.kind === 'public' ? client.client.id : client.connection.client_id);
  // RFC 7009 §2.2: 200 whether or not the token was known.
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}

// --- device verification page ----------------------------------------------------------------

async function deviceDecision(deps: OAuthRouteDeps, request: Request, address: string | undefined): Promise<Response> {
  const form = await readForm(request);
  const userCode = form.get('user_code') ?? '';
  const email = form.get('email') ?? '';
  const again = (status: number, error: string) => devicePage(status, deps.forms.issue(request, DEVICE_FORM), { userCode, email, error });
  // Issue 15: an approval forged by another site would sign the forger's terminal in.
  const refusal = deps.forms.checkForm(request, form, DEVICE_FORM);
  if (refusal) return again(403, refusal.message);
  if (!(await deps.oauth.mayTryUserCode(address ?? 'unknown'))) return again(429, 'Too many wrong codes from this address. Wait 15 minutes, then try again.');
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'deny') return again(400, 'Choose Approve or Deny.');
  let check: PasswordCheck | undefined;
  const outcome = await deps.oauth.decideDevice(
    userCode,
    address,
    async () => {
      check = await deps.oauth.checkPassword(email, form.get('password') ?? '');
      return check.ok ? check.account : null;
    },
    decision === 'approve',
  );
  if (outcome === 'unknown-code') return again(400, 'That code is not valid: it may be mistyped, expired or already used.');
  if (outcome === 'wrong-credentials') {
    const failed = check as Exclude<PasswordCheck, { ok: true }>;
    return again(failed.reason === 'throttled' ? 429 : 401, passwordMessage(failed));
  }
  if (outcome === 'approved') return deviceNotice(200, 'Approved. Return to your terminal: it is now signed in.');
  if (outcome === 'denied') return deviceNotice(200, 'Denied. The terminal will not be signed in.');
  return deviceNotice(403, outcome.description);
}

// --- helpers ------------------------------------------------------------------------------------

async function readForm(request: Request): Promise<URLSearchParams> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
  return new URLSearchParams(await request.text());
}

/** A parameter that must not repeat (RFC 6749 §3.1); null when absent. */
function single(form: URLSearchParams, name: string): string | null {
  const values = form.getAll(name);
  if (values.length > 1) throw new OAuthError('invalid_request', `${name} is given more than once.`);
  return values[0] ?? null;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new OAuthError('invalid_client', 'Malformed Basic credentials.');
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache', ...headers } });
}

function oauthErrorResponse(error: OAuthError, request: Request): Response {
  const basic = /^Basic\s/i.test(request.headers.get('authorization') ?? '');
  const headers: Record<string, string> = error.status === 401 && basic ? { 'www-authenticate': 'Basic realm="teamgraph"' } : {};
  return json(error.status, { error: error.error, error_description: error.description }, headers);
}
