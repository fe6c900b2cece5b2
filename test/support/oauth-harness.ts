// The OAuth conformance harness: a test app served over real HTTP, its authorization server
// metadata discovered with oauth4webapi, the twg-cli public client, tenants with password
// accounts, and the two browser steps oauth4webapi does not perform (the login form POST and
// the device page POST). Every other OAuth request goes through oauth4webapi.
import * as oauth from 'oauth4webapi';
import { expect } from 'vitest';
import { asOperator, createTenant, startTestApp, type Tenant, type TestApp } from './app.ts';
import type { TestServer } from './http-server.ts';
import { FormBrowser, formOf } from './form-browser.ts';

export const PASSWORD = 'correct horse battery staple';
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const READ_JIRA = 'read:work-item:jira';
export const WRITE_JIRA = 'write:work-item:jira';
export const READ_CONFLUENCE = 'read:page:confluence';
export const READ_DOCUMENT = 'read:document:graph';

/** The public command-line client: no secret, client_id in the body. */
export const CLI: oauth.Client = { client_id: 'twg-cli', token_endpoint_auth_method: 'none' };
/** Every request here goes to http://127.0.0.1, which oauth4webapi refuses without this. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export const VIEWER_QUERY = '{ viewer { grantedPermissions session { id clientId scopes } } }';

export interface Person {
  accountId: string;
  email: string;
}

export interface PasswordTenant {
  tenant: Tenant;
  orgId: string;
  cloudId: string;
  adminId: string;
  /** A new active member of the tenant's site whose password is PASSWORD. */
  person(): Promise<Person>;
  /** Saves the CLI settings without revoking sessions: 'all' = allow-all, else a selection. */
  allow(keys: string[] | 'all'): Promise<void>;
}

/** Parameters of an authorization request; null leaves a parameter out. */
export type AuthorizationParams = Record<string, string | null>;

export interface PendingAuthorization {
  verifier: string;
  state: string;
  redirectUri: string;
  params: AuthorizationParams;
}

export interface SignedIn extends PendingAuthorization {
  /** The redirect the login answered with, carrying code, state and iss. */
  callback: URL;
}

export interface OAuthFailure {
  status: number;
  error: string;
  description?: string;
  response: Response;
}

export interface GraphqlOverHttp {
  status: number;
  headers: Headers;
  body: any;
}

let emailCounter = 0;

/** A fresh authorization request of twg-cli: PKCE verifier, state, loopback redirect. */
export async function pendingAuthorization(options: { scope?: string[]; redirectUri?: string; verifier?: string } = {}): Promise<PendingAuthorization> {
  const verifier = options.verifier ?? oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const redirectUri = options.redirectUri ?? loopback(49152);
  return {
    verifier,
    state,
    redirectUri,
    params: {
      response_type: 'code',
      client_id: CLI.client_id,
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      scope: options.scope ? options.scope.join(' ') : null,
    },
  };
}

/**
 * `twg login` end to end against a server: the person's form POST on the login page, then the
 * code exchange through oauth4webapi. Returns what passed on the way, for tests that track it.
 */
export async function signInThroughBrowser(as: oauth.AuthorizationServer, email: string): Promise<{ verifier: string; code: string; tokens: oauth.TokenEndpointResponse }> {
  const { verifier, state, redirectUri, params: request } = await pendingAuthorization();
  const answer = await submitLogin(as, request, email, PASSWORD);
  const location = answer.headers.get('location');
  if (answer.status !== 303 || !location) throw new Error(`the login of ${email} answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
  const callback = new URL(location);
  const params = oauth.validateAuthResponse(as, CLI, callback, state);
  const tokens = await oauth.processAuthorizationCodeResponse(as, CLI, await oauth.authorizationCodeGrantRequest(as, CLI, oauth.None(), params, redirectUri, verifier, insecure));
  return { verifier, code: callback.searchParams.get('code')!, tokens };
}

/**
 * The person's browser on the login page: it opens the authorization URL and sends the form with
 * its ticket. A request the server answers with an error page (no form) is sent as it is.
 */
async function submitLogin(as: oauth.AuthorizationServer, params: AuthorizationParams, email: string, password: string): Promise<Response> {
  const browser = new FormBrowser(new URL(as.authorization_endpoint!).origin);
  const pageUrl = new URL(as.authorization_endpoint!);
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) if (value !== null) fields[key] = value;
  pageUrl.search = new URLSearchParams(fields).toString();
  const { html } = await browser.open(pageUrl.toString());
  if (!formOf(html)) return fetch(as.authorization_endpoint!, { method: 'POST', body: new URLSearchParams({ ...fields, email, password }), redirect: 'manual' });
  return browser.submit({ pageUrl: pageUrl.toString(), page: html, fields: { ...fields, email, password } });
}

export function loopback(port: number): string {
  return `http://127.0.0.1:${port}/callback`;
}

export function scopesOf(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean).sort();
}

export function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

/** A syntactically valid code verifier (RFC 7636 unreserved characters) of the given length. */
export function verifierOfLength(length: number): string {
  let value = '';
  while (value.length < length) value += oauth.generateRandomCodeVerifier();
  return value.slice(0, length);
}

/** Runs an oauth4webapi request + process pair that must fail, and returns the OAuth error. */
export async function oauthError(work: Promise<unknown>): Promise<OAuthFailure> {
  try {
    await work;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      return { status: error.status, error: error.error, description: error.error_description, response: error.response };
    }
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      // A 401 with a challenge (client_secret_basic failures): the JSON body is still unread.
      const body = (await error.response.json().catch(() => ({}))) as Record<string, string>;
      const fromChallenge = error.cause.find((c) => c.parameters.error)?.parameters.error;
      return { status: error.status, error: body.error ?? fromChallenge ?? '', description: body.error_description, response: error.response };
    }
    throw error;
  }
  throw new Error('expected an OAuth error response, but the request succeeded');
}

export function expectNoStore(response: Response): void {
  expect(response.headers.get('cache-control') ?? '').toMatch(/\bno-store\b/i);
}

/** An HTML page with the given status and no redirect. */
export async function expectHtmlPage(response: Response, status: number | number[]): Promise<string> {
  const text = await response.text();
  const statuses = Array.isArray(status) ? status : [status];
  expect(statuses, `status ${response.status}, body: ${text.slice(0, 300)}`).toContain(response.status);
  expect(response.headers.get('content-type') ?? '').toMatch(/^text\/html/i);
  expect(response.headers.get('location')).toBeNull();
  return text;
}

export class OAuthHarness {
  private constructor(
    readonly t: TestApp,
    readonly server: TestServer,
    readonly as: oauth.AuthorizationServer,
  ) {}

  static async start(): Promise<OAuthHarness> {
    const t = await startTestApp({ serve: true });
    const server = t.server!;
    try {
      const issuer = new URL(server.url);
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
      const as = await oauth.processDiscoveryResponse(issuer, response);
      return new OAuthHarness(t, server, as);
    } catch (error) {
      await server.close();
      await t.close();
      throw new Error(`authorization server metadata discovery failed, and every OAuth test depends on it: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  get url(): string {
    return this.server.url;
  }

  get clock() {
    return this.t.clock;
  }

  async close(): Promise<void> {
    await this.server.close();
    await this.t.close();
  }

  async tenant(name: string): Promise<PasswordTenant> {
    const tenant = await createTenant(this.t, name);
    const { orgs, cliSettings } = this.t.app.services;
    const newPerson = async (admin: boolean): Promise<Person> => {
      const email = `${admin ? 'admin' : 'person'}${++emailCounter}-${Math.random().toString(36).slice(2, 8)}@${name.toLowerCase()}.test`;
      const { accountId } = await orgs.createAccount({ orgId: tenant.orgId, email, displayName: email.split('@')[0], password: PASSWORD, cloudIds: [tenant.cloudId], admin });
      return { accountId, email };
    };
    const admin = await newPerson(true);
    return {
      tenant,
      orgId: tenant.orgId,
      cloudId: tenant.cloudId,
      adminId: admin.accountId,
      person: () => newPerson(false),
      allow: async (keys) => {
        await cliSettings.update(asOperator, tenant.orgId, admin.accountId, keys === 'all' ? { allowAllByDefault: true, revokeSessions: false } : { allowAllByDefault: false, selectedPermissions: keys, revokeSessions: false });
      },
    };
  }

  // --- authorization endpoint (browser steps) ---

  pending(options: { scope?: string[]; redirectUri?: string; verifier?: string } = {}): Promise<PendingAuthorization> {
    return pendingAuthorization(options);
  }

  authorizationUrl(params: AuthorizationParams): URL {
    const url = new URL(this.as.authorization_endpoint!);
    for (const [key, value] of Object.entries(params)) if (value !== null) url.searchParams.set(key, value);
    return url;
  }

  /** What the browser does when the CLI opens the authorization URL. */
  getAuthorize(params: AuthorizationParams): Promise<Response> {
    return fetch(this.authorizationUrl(params), { redirect: 'manual' });
  }

  /** What the browser does when the person submits the login form. */
  postAuthorize(params: AuthorizationParams, email: string, password: string): Promise<Response> {
    return submitLogin(this.as, params, email, password);
  }

  /** Signs in through the login form and returns the redirect to the loopback callback. */
  async signIn(email: string, options: { scope?: string[]; redirectUri?: string; verifier?: string } = {}): Promise<SignedIn> {
    const pending = await this.pending(options);
    const response = await this.postAuthorize(pending.params, email, PASSWORD);
    const location = response.headers.get('location');
    expect(response.status, `login answered ${response.status}: ${(await response.text()).slice(0, 300)}`).toBe(303);
    expect(location).toBeTruthy();
    return { ...pending, callback: new URL(location!) };
  }

  /** Checks an error redirect of the authorization endpoint and returns its error. */
  expectErrorRedirect(response: Response, pending: PendingAuthorization): oauth.AuthorizationResponseError {
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') ?? 'about:blank');
    expect(`${location.origin}${location.pathname}`).toBe(pending.redirectUri);
    expect(location.searchParams.get('code')).toBeNull();
    expect(location.searchParams.get('state')).toBe(pending.state);
    expect(location.searchParams.get('iss')).toBe(this.as.issuer);
    try {
      oauth.validateAuthResponse(this.as, CLI, location, pending.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) return error;
      throw error;
    }
    throw new Error(`expected an error redirect, got ${location.href}`);
  }

  // --- token endpoint ---

  /** The authorization code grant for a callback (validated with state and iss first). */
  exchange(signedIn: SignedIn, overrides: { redirectUri?: string; verifier?: string | typeof oauth.nopkce } = {}): Promise<Response> {
    const params = oauth.validateAuthResponse(this.as, CLI, signedIn.callback, signedIn.state);
    return oauth.authorizationCodeGrantRequest(this.as, CLI, oauth.None(), params, overrides.redirectUri ?? signedIn.redirectUri, overrides.verifier ?? signedIn.verifier, insecure);
  }

  async exchangeFails(signedIn: SignedIn, overrides: { redirectUri?: string; verifier?: string | typeof oauth.nopkce } = {}): Promise<OAuthFailure> {
    return oauthError(this.exchange(signedIn, overrides).then((r) => oauth.processAuthorizationCodeResponse(this.as, CLI, r)));
  }

  async processCode(response: Response): Promise<oauth.TokenEndpointResponse> {
    return oauth.processAuthorizationCodeResponse(this.as, CLI, response);
  }

  /** The whole browser login: sign in, exchange the code, return the tokens and the raw response. */
  async login(email: string, options: { scope?: string[]; redirectUri?: string; verifier?: string } = {}) {
    const signedIn = await this.signIn(email, options);
    const response = await this.exchange(signedIn);
    const raw = await response.clone().json().catch(() => null);
    const tokens = await this.processCode(response);
    return { ...signedIn, tokens, response, raw };
  }

  refreshRequest(refreshToken: string): Promise<Response> {
    return oauth.refreshTokenGrantRequest(this.as, CLI, oauth.None(), refreshToken, insecure);
  }

  async refresh(refreshToken: string): Promise<{ tokens: oauth.TokenEndpointResponse; response: Response }> {
    const response = await this.refreshRequest(refreshToken);
    const tokens = await oauth.processRefreshTokenResponse(this.as, CLI, response);
    return { tokens, response };
  }

  refreshFails(refreshToken: string): Promise<OAuthFailure> {
    return oauthError(this.refreshRequest(refreshToken).then((r) => oauth.processRefreshTokenResponse(this.as, CLI, r)));
  }

  // --- device authorization grant ---

  async deviceAuthorization(scope?: string[]) {
    const response = await oauth.deviceAuthorizationRequest(this.as, CLI, oauth.None(), scope ? { scope: scope.join(' ') } : {}, insecure);
    const raw = await response.clone().json().catch(() => null);
    const device = await oauth.processDeviceAuthorizationResponse(this.as, CLI, response);
    return { device, raw, response };
  }

  /** One poll (never oauth4webapi's waiting loop: the server measures intervals on the test clock). */
  pollRequest(deviceCode: string): Promise<Response> {
    return oauth.deviceCodeGrantRequest(this.as, CLI, oauth.None(), deviceCode, insecure);
  }

  async poll(deviceCode: string): Promise<{ tokens: oauth.TokenEndpointResponse; response: Response }> {
    const response = await this.pollRequest(deviceCode);
    const tokens = await oauth.processDeviceCodeResponse(this.as, CLI, response);
    return { tokens, response };
  }

  pollFails(deviceCode: string): Promise<OAuthFailure> {
    return oauthError(this.pollRequest(deviceCode).then((r) => oauth.processDeviceCodeResponse(this.as, CLI, r)));
  }

  /** What the browser does when the person submits the device page. */
  postDevice(fields: { user_code: string; email: string; password: string; decision: 'approve' | 'deny' }, verificationUri = `${this.url}/device`): Promise<Response> {
    return new FormBrowser(this.url).submit({ pageUrl: verificationUri, fields });
  }

  // --- revocation ---

  revokeRequest(token: string, hint?: 'access_token' | 'refresh_token'): Promise<Response> {
    return oauth.revocationRequest(this.as, CLI, oauth.None(), token, { ...insecure, additionalParameters: hint ? { token_type_hint: hint } : {} });
  }

  // --- the protected resource ---

  async graphql(token: string, query: string, variables?: Record<string, unknown>): Promise<GraphqlOverHttp> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  viewer(token: string): Promise<GraphqlOverHttp> {
    return this.graphql(token, VIEWER_QUERY);
  }

  /** The token is refused as revoked or unknown, the way PRODUCT §6 describes. */
  async expectTokenRefused(token: string): Promise<void> {
    const r = await this.viewer(token);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate') ?? '').toMatch(/^Bearer\b.*error="invalid_token"/);
  }

  async expectTokenWorks(token: string): Promise<GraphqlOverHttp> {
    const r = await this.viewer(token);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.errors).toBeUndefined();
    return r;
  }
}
