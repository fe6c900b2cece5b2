// The authorization endpoint and its login form (RFC 6749 §4.1, with PKCE S256 per RFC 7636).
import { PUBLIC_CLIENTS } from '../../modules/oauth/clients.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import type { AuthorizationRequest } from '../../modules/oauth/oauth.service.ts';
import { CODE_CHALLENGE } from '../../modules/oauth/pkce.ts';
import { loginPage, page } from '../pages.ts';
import { checkSignIn, refused } from '../known-device.ts';
import { type OAuthRouteDeps, readForm } from './oauth-http.ts';

/** The FormGuard purpose of the login form. */
const LOGIN_FORM = 'oauth-login';
/** The parameters of an authorization request, carried through the login form. */
const AUTHORIZATION_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'scope', 'state'];

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

export function authorizeGet(deps: OAuthRouteDeps, request: Request): Response {
  const parsed = parseAuthorization(deps, new URL(request.url).searchParams);
  if (parsed instanceof Response) return parsed;
  return loginPage(200, parsed.formParams, deps.forms.issue(request, LOGIN_FORM), { scopes: parsed.scopes, adminPage: parsed.client.adminsOnly });
}

export async function authorizePost(deps: OAuthRouteDeps, request: Request, address: string | undefined): Promise<Response> {
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
  const check = await checkSignIn(deps, request, form, address);
  if (!check.ok) return refused(again, check);
  try {
    const code = await deps.oauth.authorize(parsed, check.account, address);
    const redirect = authorizationRedirect(parsed.redirectUri, { code, state: parsed.state, iss: issuer });
    redirect.headers.append('set-cookie', check.rememberDevice);
    return redirect;
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
