// twg's side of OAuth 2.1 (PRODUCT §6) through oauth4webapi: discovery, the authorization code
// grant with PKCE on a loopback redirect (RFC 8252), the device grant (RFC 8628), refresh with
// rotation, and revocation (RFC 7009). The public client twg-cli has no secret.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import type { OAuthTokens } from './credentials.ts';
import { CliError, EXIT, loginNeeded } from './exit-codes.ts';
import { type Invocation, requestHeaders } from './invocation.ts';
import { pollUntil } from './poll.ts';

export const CLIENT: oauth.Client = { client_id: 'twg-cli', token_endpoint_auth_method: 'none' };
const NO_SECRET = oauth.None();
/** A browser sign-in that nobody completes ends after this long. */
const BROWSER_LOGIN_TIMEOUT_MS = 5 * 60 * 1000;
/** The share of an access token's lifetime after which twg refreshes it first (issue 6). */
export const REFRESH_AT_SHARE = 0.75;

export interface Printer {
  /** One line for the person, on stderr. */
  tell(line: string): void;
}

function requestOptions(invocation: Invocation) {
  // oauth4webapi refuses http:// unless told; the server URL is the user's explicit choice.
  return { headers: requestHeaders(invocation), ...(invocation.server.startsWith('http:') ? { [oauth.allowInsecureRequests]: true } : {}) };
}

export async function discover(invocation: Invocation): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(invocation.server);
  return withOAuthErrors(invocation, async () => oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...requestOptions(invocation) })));
}

export function tokensFrom(response: oauth.TokenEndpointResponse, requestedScopes: string[], previous?: OAuthTokens): OAuthTokens {
  const issuedAt = Date.now();
  // RFC 6749 §5.1: expires_in is recommended; without it assume the server's default of 10 minutes.
  const lifetimeSeconds = typeof response.expires_in === 'number' ? response.expires_in : 600;
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? null,
    scopes: (response.scope ?? '').split(' ').filter(Boolean),
    issuedAt,
    expiresAt: issuedAt + lifetimeSeconds * 1000,
    signedInAt: previous?.signedInAt ?? issuedAt,
    requestedScopes,
  };
}

export function refreshIsDue(tokens: OAuthTokens, now = Date.now()): boolean {
  return now >= tokens.issuedAt + REFRESH_AT_SHARE * (tokens.expiresAt - tokens.issuedAt);
}

/** Authorization code + PKCE: a one-shot listener on 127.0.0.1 receives the redirect. */
export async function loginWithBrowser(invocation: Invocation, as: oauth.AuthorizationServer, scopes: string[], printer: Printer): Promise<oauth.TokenEndpointResponse> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);

  let settle!: { resolve: (value: oauth.TokenEndpointResponse) => void; reject: (error: unknown) => void };
  const outcome = new Promise<oauth.TokenEndpointResponse>((resolve, reject) => (settle = { resolve, reject }));
  let redirectUri = '';
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', redirectUri);
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    const page = (status: number, title: string, text: string) => {
      // connection: close, so the listener can shut down once this page has gone out whole.
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
      response.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text}</p>`);
    };
    // Another sign-in's redirect (an old tab, a stray request) is not this one's: keep waiting.
    if (url.searchParams.get('state') !== state) {
      page(400, 'Sign-in failed', 'This is not the sign-in twg is waiting for. Use the address twg printed last.');
      return;
    }
    try {
      const params = oauth.validateAuthResponse(as, CLIENT, url, state);
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        CLIENT,
        await oauth.authorizationCodeGrantRequest(as, CLIENT, NO_SECRET, params, redirectUri, verifier, requestOptions(invocation)),
      );
      page(200, 'Signed in', 'twg is signed in. You can close this tab and return to the terminal.');
      settle.resolve(tokens);
    } catch (error) {
      page(400, 'Sign-in failed', 'twg could not sign in; the terminal says why.');
      settle.reject(error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;

  const authorizationUrl = new URL(as.authorization_endpoint!);
  authorizationUrl.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.client_id,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
  }).toString();
  printer.tell('Open this address in a browser to sign in:');
  printer.tell(authorizationUrl.href);
  openInBrowser(invocation.env, authorizationUrl.href);

  const timeout = setTimeout(() => settle.reject(new CliError(EXIT.notSignedIn, 'sign-in timed out: nobody completed it in the browser within 5 minutes')), BROWSER_LOGIN_TIMEOUT_MS);
  try {
    return await withOAuthErrors(invocation, () => outcome);
  } finally {
    clearTimeout(timeout);
    server.close();
    server.closeIdleConnections();
  }
}

/**
 * Opens the address in the person's browser when it can. Tests and scripts set TWG_NO_BROWSER=1;
 * without a terminal nobody would see the browser anyway. Callers always print the address too.
 */
export function openInBrowser(env: NodeJS.ProcessEnv, url: string): void {
  if (env.TWG_NO_BROWSER || !process.stderr.isTTY) return;
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {}); // No opener: the printed address is enough.
  child.unref();
}

/**
 * The device grant: prints the code and the address, then polls at the server's interval. A line
 * on stdin (Enter) polls at once, for the person who has just approved.
 */
export async function loginWithDevice(invocation: Invocation, as: oauth.AuthorizationServer, scopes: string[], printer: Printer): Promise<oauth.TokenEndpointResponse> {
  return withOAuthErrors(invocation, async () => {
    const device = await oauth.processDeviceAuthorizationResponse(
      as,
      CLIENT,
      await oauth.deviceAuthorizationRequest(as, CLIENT, NO_SECRET, scopes.length > 0 ? { scope: scopes.join(' ') } : {}, requestOptions(invocation)),
    );
    printer.tell(`To sign in, open ${device.verification_uri} and enter the code ${device.user_code}`);
    if (device.verification_uri_complete) printer.tell(`(or open ${device.verification_uri_complete})`);
    printer.tell('Waiting for approval; press Enter to check now.');

    let intervalMs = (device.interval ?? 5) * 1000;
    return pollUntil(
      async () => {
        try {
          return await oauth.processDeviceCodeResponse(as, CLIENT, await oauth.deviceCodeGrantRequest(as, CLIENT, NO_SECRET, device.device_code, requestOptions(invocation)));
        } catch (error) {
          if (!(error instanceof oauth.ResponseBodyError)) throw error;
          if (error.error === 'authorization_pending') return undefined;
          if (error.error === 'slow_down') {
            intervalMs += 5000; // RFC 8628 §3.5
            return undefined;
          }
          throw error;
        }
      },
      {
        intervalMs: () => intervalMs,
        deadline: Date.now() + device.expires_in * 1000,
        expired: () => new CliError(EXIT.notSignedIn, 'the code expired before it was approved; run twg login --device again'),
      },
    );
  });
}

export async function refreshTokens(invocation: Invocation, as: oauth.AuthorizationServer, refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  return withOAuthErrors(invocation, async () => oauth.processRefreshTokenResponse(as, CLIENT, await oauth.refreshTokenGrantRequest(as, CLIENT, NO_SECRET, refreshToken, requestOptions(invocation))));
}

export async function revokeToken(invocation: Invocation, as: oauth.AuthorizationServer, token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
  await withOAuthErrors(invocation, async () =>
    oauth.processRevocationResponse(await oauth.revocationRequest(as, CLIENT, NO_SECRET, token, { ...requestOptions(invocation), additionalParameters: { token_type_hint: hint } })),
  );
}

/** OAuth failures in the words and exit codes of twg. */
async function withOAuthErrors<T>(invocation: Invocation, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
      const description = error.error_description ? `: ${error.error_description}` : '';
      if (error.error === 'invalid_grant') throw loginNeeded(`the session has ended (${error.error}${description})`);
      if (error.error === 'access_denied') throw new CliError(EXIT.restricted, `sign-in refused${description}`, [], { code: 'ACCESS_DENIED', error: error.error });
      if (error.error === 'expired_token') throw new CliError(EXIT.notSignedIn, `the code expired before it was approved; run twg login --device again`);
      if (error.error === 'invalid_scope') throw new CliError(EXIT.usage, `sign-in refused: ${error.error}${description}`, [], { code: 'INVALID_SCOPE' });
      throw new CliError(EXIT.restricted, `sign-in refused: ${error.error}${description}`, [], { code: 'OAUTH_ERROR', error: error.error });
    }
    if (error instanceof TypeError) throw new CliError(EXIT.unavailable, `cannot reach ${invocation.server}: ${(error.cause as Error | undefined)?.message ?? error.message}`);
    if (error instanceof oauth.OperationProcessingError) throw new CliError(EXIT.unavailable, `the server's OAuth answer was not usable: ${error.message}`);
    throw error;
  }
}
