// OAuth 2.1 conformance of the authorization server (PRODUCT §5–6) as oauth4webapi sees it over
// real HTTP: metadata, the authorization endpoint and its loopback redirects, PKCE, the login
// page, the code, refresh and client-credentials grants, scope intersection with the
// organisation's CLI settings, and RFC 7009 revocation. The device grant is in device.test.ts.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  DEVICE_GRANT,
  expectHtmlPage,
  expectNoStore,
  insecure,
  loopback,
  OAuthHarness,
  oauthError,
  PASSWORD,
  type PasswordTenant,
  type Person,
  READ_CONFLUENCE,
  READ_DOCUMENT,
  READ_JIRA,
  scopesOf,
  sorted,
  verifierOfLength,
  WRITE_JIRA,
} from '../support/oauth-harness.ts';

const PORT_A = 49152;
const PORT_B = 61234;

let h: OAuthHarness;
let acme: PasswordTenant;
let alice: Person;
/** Allows only the two Jira work-item permissions. */
let narrow: PasswordTenant;
let nina: Person;
/** Allow-all off and nothing selected: no CLI login can succeed. */
let blocked: PasswordTenant;
let bruno: Person;
let catalogue: string[];

beforeAll(async () => {
  h = await OAuthHarness.start();
  catalogue = h.t.app.services.catalog.permissions.map((p) => p.key);
  acme = await h.tenant('Acme');
  alice = await acme.person();
  narrow = await h.tenant('Narrow');
  await narrow.allow([READ_JIRA, WRITE_JIRA]);
  nina = await narrow.person();
  blocked = await h.tenant('Blocked');
  await blocked.allow([]);
  bruno = await blocked.person();
});
afterAll(() => h?.close());

describe('authorization server metadata (RFC 8414)', () => {
  it('publishes its endpoints under the issuer, which is the origin the request came to', async () => {
    expect(h.as.issuer).toBe(h.url);
    expect(h.as).toMatchObject({
      authorization_endpoint: `${h.url}/oauth/authorize`,
      token_endpoint: `${h.url}/oauth/token`,
      device_authorization_endpoint: `${h.url}/oauth/device_authorization`,
      revocation_endpoint: `${h.url}/oauth/revoke`,
    });
  });

  it('advertises the code flow with S256 PKCE only, the four grants, the client authentication methods and the iss parameter', () => {
    expect(h.as.response_types_supported).toEqual(['code']);
    expect(h.as.code_challenge_methods_supported).toEqual(['S256']);
    expect(sorted(h.as.grant_types_supported ?? [])).toEqual(sorted(['authorization_code', 'refresh_token', DEVICE_GRANT, 'client_credentials']));
    expect(sorted(h.as.token_endpoint_auth_methods_supported ?? [])).toEqual(sorted(['none', 'client_secret_basic', 'client_secret_post']));
    expect(sorted(h.as.revocation_endpoint_auth_methods_supported ?? [])).toEqual(sorted(['none', 'client_secret_basic', 'client_secret_post']));
    expect(h.as.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('lists every permission of the catalogue, and nothing else, in scopes_supported', () => {
    expect(sorted(h.as.scopes_supported ?? [])).toEqual(sorted(catalogue));
  });
});

describe('authorization endpoint: client and redirect URI', () => {
  it.each([
    ['a loopback port', loopback(PORT_A)],
    ['another loopback port', loopback(PORT_B)],
    ['the IPv6 loopback address', `http://[::1]:${PORT_A}/callback`],
  ])('accepts %s: serves the login form and sends the code to exactly that URI', async (_name, redirectUri) => {
    const pending = await h.pending({ redirectUri });
    const page = await expectHtmlPage(await h.getAuthorize(pending.params), 200);
    expect(page).toMatch(/<form/i);
    const signedIn = await h.signIn(alice.email, { redirectUri });
    expect(`${signedIn.callback.origin}${signedIn.callback.pathname}`).toBe(redirectUri);
    expect(signedIn.callback.searchParams.get('code')).toBeTruthy();
  });

  it.each([
    ['localhost instead of a loopback address', `http://localhost:${PORT_A}/callback`],
    ['the https scheme', `https://127.0.0.1:${PORT_A}/callback`],
    ['a trailing slash on the path', `http://127.0.0.1:${PORT_A}/callback/`],
    ['another path', `http://127.0.0.1:${PORT_A}/cb`],
    ['a query string', `http://127.0.0.1:${PORT_A}/callback?next=1`],
    ['a fragment', `http://127.0.0.1:${PORT_A}/callback#top`],
    ['no port', 'http://127.0.0.1/callback'],
    ['another host', `http://192.168.1.10:${PORT_A}/callback`],
    ['a public domain', `http://evil.example:${PORT_A}/callback`],
    ['no redirect_uri at all', null],
  ])('refuses a redirect URI with %s with a 400 page and never redirects', async (_name, redirectUri) => {
    const pending = await h.pending();
    const params = { ...pending.params, redirect_uri: redirectUri };
    await expectHtmlPage(await h.getAuthorize(params), 400);
    // Even an otherwise erroneous request must not bounce to an unchecked URI.
    await expectHtmlPage(await h.getAuthorize({ ...params, response_type: 'token' }), 400);
  });

  it('refuses an unknown client_id with a 400 page and never redirects', async () => {
    const pending = await h.pending();
    await expectHtmlPage(await h.getAuthorize({ ...pending.params, client_id: 'no-such-client' }), 400);
    await expectHtmlPage(await h.getAuthorize({ ...pending.params, client_id: null }), 400);
  });

  it('refuses a bad redirect URI on the login form POST too, even with good credentials', async () => {
    const pending = await h.pending();
    const response = await h.postAuthorize({ ...pending.params, redirect_uri: `http://evil.example:${PORT_A}/callback` }, alice.email, PASSWORD);
    await expectHtmlPage(response, 400);
  });
});

describe('authorization endpoint: request errors redirect with state and iss', () => {
  it('redirects unsupported_response_type for response_type=token', async () => {
    const pending = await h.pending();
    const error = h.expectErrorRedirect(await h.getAuthorize({ ...pending.params, response_type: 'token' }), pending);
    expect(error.error).toBe('unsupported_response_type');
  });

  it('redirects invalid_request when code_challenge is missing', async () => {
    const pending = await h.pending();
    const error = h.expectErrorRedirect(await h.getAuthorize({ ...pending.params, code_challenge: null }), pending);
    expect(error.error).toBe('invalid_request');
  });

  it('redirects invalid_request when code_challenge_method is missing', async () => {
    const pending = await h.pending();
    const error = h.expectErrorRedirect(await h.getAuthorize({ ...pending.params, code_challenge_method: null }), pending);
    expect(error.error).toBe('invalid_request');
  });

  it('redirects invalid_request for the plain PKCE method', async () => {
    const pending = await h.pending();
    const error = h.expectErrorRedirect(await h.getAuthorize({ ...pending.params, code_challenge: pending.verifier, code_challenge_method: 'plain' }), pending);
    expect(error.error).toBe('invalid_request');
  });

  it('redirects invalid_scope for a scope outside the catalogue', async () => {
    const pending = await h.pending({ scope: [READ_JIRA, 'read:nothing:nowhere'] });
    const error = h.expectErrorRedirect(await h.getAuthorize(pending.params), pending);
    expect(error.error).toBe('invalid_scope');
  });
});

describe('login page', () => {
  it('serves an HTML login form asking for e-mail and password', async () => {
    const pending = await h.pending({ scope: [READ_JIRA] });
    const page = await expectHtmlPage(await h.getAuthorize(pending.params), 200);
    expect(page).toMatch(/<form/i);
    expect(page).toMatch(/name=["']?email/i);
    expect(page).toMatch(/name=["']?password/i);
  });

  it('redirects to the callback with a code, the same state and the issuer after a good login', async () => {
    const pending = await h.pending({ scope: [READ_JIRA] });
    const response = await h.postAuthorize(pending.params, alice.email, PASSWORD);
    expect(response.status).toBe(303);
    const callback = new URL(response.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe(pending.state);
    expect(callback.searchParams.get('iss')).toBe(h.as.issuer);
    const params = oauth.validateAuthResponse(h.as, CLI, callback, pending.state);
    expect(params.get('code')).toBeTruthy();
  });

  it('answers a wrong password with a 401 page and no redirect', async () => {
    const pending = await h.pending();
    await expectHtmlPage(await h.postAuthorize(pending.params, alice.email, 'not the password'), 401);
  });

  it('answers an unknown e-mail with a 401 page and no redirect', async () => {
    const pending = await h.pending();
    await expectHtmlPage(await h.postAuthorize(pending.params, 'nobody@acme.test', PASSWORD), 401);
  });

  it('answers a deactivated account with a 401 page and no redirect, even with its right password', async () => {
    const leaver = await acme.person();
    await h.t.app.services.orgs.setAccountActive(leaver.accountId, false);
    const pending = await h.pending();
    await expectHtmlPage(await h.postAuthorize(pending.params, leaver.email, PASSWORD), 401);
  });
});

describe('authorization code grant', () => {
  it('answers with a twg_ bearer token for 600 s, a refresh token and the scope, not to be cached', async () => {
    const { tokens, response, raw } = await h.login(alice.email, { scope: [READ_JIRA, READ_CONFLUENCE] });
    expect(response.status).toBe(200);
    expectNoStore(response);
    expect(raw.token_type).toMatch(/^bearer$/i);
    expect(tokens.access_token).toMatch(/^twg_/);
    expect(tokens.expires_in).toBe(600);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).not.toBe(tokens.access_token);
    expect(scopesOf(tokens.scope)).toEqual(sorted([READ_JIRA, READ_CONFLUENCE]));
  });

  it('issues an access token that works on /graphql as a twg-cli session with the granted scopes', async () => {
    const { tokens } = await h.login(alice.email, { scope: [READ_JIRA, WRITE_JIRA] });
    const r = await h.expectTokenWorks(tokens.access_token);
    expect(sorted(r.body.data.viewer.grantedPermissions)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
    expect(r.body.data.viewer.session).toMatchObject({ id: expect.any(String), clientId: 'twg-cli' });
    expect(sorted(r.body.data.viewer.session.scopes)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
  });

  it('refuses a code_verifier that does not match the challenge with invalid_grant', async () => {
    const signedIn = await h.signIn(alice.email);
    const failure = await h.exchangeFails(signedIn, { verifier: oauth.generateRandomCodeVerifier() });
    expect(failure).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses a matching code_verifier of 42 characters', async () => {
    const verifier = verifierOfLength(42);
    const signedIn = await h.signIn(alice.email, { verifier });
    const failure = await h.exchangeFails(signedIn);
    expect(failure.status).toBe(400);
    expect(['invalid_request', 'invalid_grant']).toContain(failure.error);
  });

  it('refuses a matching code_verifier of 129 characters', async () => {
    const verifier = verifierOfLength(129);
    const signedIn = await h.signIn(alice.email, { verifier });
    const failure = await h.exchangeFails(signedIn);
    expect(failure.status).toBe(400);
    expect(['invalid_request', 'invalid_grant']).toContain(failure.error);
  });

  it.each([43, 128])('accepts a matching code_verifier of %i characters', async (length) => {
    const { tokens } = await h.login(alice.email, { verifier: verifierOfLength(length) });
    expect(tokens.access_token).toMatch(/^twg_/);
  });

  it('refuses a code exchanged without any code_verifier', async () => {
    const signedIn = await h.signIn(alice.email);
    const failure = await h.exchangeFails(signedIn, { verifier: oauth.nopkce });
    expect(failure.status).toBe(400);
    expect(['invalid_request', 'invalid_grant']).toContain(failure.error);
  });

  it('refuses a code used twice with invalid_grant and revokes the tokens issued from it', async () => {
    const signedIn = await h.signIn(alice.email);
    const first = await h.processCode(await h.exchange(signedIn));
    await h.expectTokenWorks(first.access_token);
    expect(await h.exchangeFails(signedIn)).toMatchObject({ status: 400, error: 'invalid_grant' });
    await h.expectTokenRefused(first.access_token);
    expect(await h.refreshFails(first.refresh_token!)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses a code after its 60 s lifetime with invalid_grant', async () => {
    const signedIn = await h.signIn(alice.email);
    h.clock.advance(61_000);
    expect(await h.exchangeFails(signedIn)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('still accepts a code 59 s after it was issued', async () => {
    const signedIn = await h.signIn(alice.email);
    h.clock.advance(59_000);
    const tokens = await h.processCode(await h.exchange(signedIn));
    expect(tokens.access_token).toMatch(/^twg_/);
  });

  it('refuses a redirect_uri that differs from the authorization request with invalid_grant', async () => {
    const signedIn = await h.signIn(alice.email, { redirectUri: loopback(PORT_A) });
    expect(await h.exchangeFails(signedIn, { redirectUri: loopback(PORT_B) })).toMatchObject({ status: 400, error: 'invalid_grant' });
  });
});

describe('scopes against the organisation settings (PRODUCT §5–6)', () => {
  it('grants the intersection of the requested scopes and what the organisation allows', async () => {
    const { tokens } = await h.login(nina.email, { scope: [READ_JIRA, WRITE_JIRA, READ_CONFLUENCE] });
    expect(scopesOf(tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
    const r = await h.expectTokenWorks(tokens.access_token);
    expect(sorted(r.body.data.viewer.grantedPermissions)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
  });

  it('grants everything the organisation allows when no scope is requested', async () => {
    const { tokens } = await h.login(nina.email);
    expect(scopesOf(tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
  });

  it('grants the whole catalogue to an allow-all organisation when no scope is requested', async () => {
    const { tokens } = await h.login(alice.email);
    expect(scopesOf(tokens.scope)).toEqual(sorted(catalogue));
    const r = await h.expectTokenWorks(tokens.access_token);
    expect(sorted(r.body.data.viewer.grantedPermissions)).toEqual(sorted(catalogue));
  });

  it('refuses the login with access_denied naming the organisation when it allows none of the requested scopes', async () => {
    const pending = await h.pending({ scope: [READ_CONFLUENCE, READ_DOCUMENT] });
    const error = h.expectErrorRedirect(await h.postAuthorize(pending.params, nina.email, PASSWORD), pending);
    expect(error.error).toBe('access_denied');
    expect(error.error_description ?? '').toMatch(/organi[sz]ation/i);
  });

  it('refuses every login of a blocking organisation (allow-all off, nothing selected)', async () => {
    for (const scope of [undefined, [READ_JIRA]]) {
      const pending = await h.pending({ scope });
      const error = h.expectErrorRedirect(await h.postAuthorize(pending.params, bruno.email, PASSWORD), pending);
      expect(error.error).toBe('access_denied');
      expect(error.error_description ?? '').toMatch(/organi[sz]ation/i);
    }
  });
});

describe('refresh token grant', () => {
  it('rotates the refresh token on every use and answers with a working access token, not to be cached', async () => {
    const first = await h.login(alice.email, { scope: [READ_JIRA] });
    const second = await h.refresh(first.tokens.refresh_token!);
    expect(second.response.status).toBe(200);
    expectNoStore(second.response);
    expect(second.tokens.access_token).toMatch(/^twg_/);
    expect(second.tokens.expires_in).toBe(600);
    expect(second.tokens.refresh_token).toEqual(expect.any(String));
    expect(second.tokens.refresh_token).not.toBe(first.tokens.refresh_token);
    expect(second.tokens.access_token).not.toBe(first.tokens.access_token);
    expect(scopesOf(second.tokens.scope)).toEqual([READ_JIRA]);
    await h.expectTokenWorks(second.tokens.access_token);
    const third = await h.refresh(second.tokens.refresh_token!);
    expect(third.tokens.refresh_token).not.toBe(second.tokens.refresh_token);
    await h.expectTokenWorks(third.tokens.access_token);
  });

  it('keeps the session: a refreshed token belongs to the same session as the login', async () => {
    const first = await h.login(alice.email, { scope: [READ_JIRA] });
    const before = await h.expectTokenWorks(first.tokens.access_token);
    const second = await h.refresh(first.tokens.refresh_token!);
    const after = await h.expectTokenWorks(second.tokens.access_token);
    expect(after.body.data.viewer.session.id).toBe(before.body.data.viewer.session.id);
  });

  it('refuses a used refresh token with invalid_grant and revokes the whole session', async () => {
    const first = await h.login(alice.email, { scope: [READ_JIRA] });
    const second = await h.refresh(first.tokens.refresh_token!);
    await h.expectTokenWorks(second.tokens.access_token);
    expect(await h.refreshFails(first.tokens.refresh_token!)).toMatchObject({ status: 400, error: 'invalid_grant' });
    await h.expectTokenRefused(second.tokens.access_token);
    expect(await h.refreshFails(second.tokens.refresh_token!)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses an unknown refresh token with invalid_grant', async () => {
    expect(await h.refreshFails('twg_not-a-refresh-token')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('narrows the refreshed scope to what the organisation still allows after the admin narrows the settings', async () => {
    const shifting = await h.tenant('Shifting');
    const sam = await shifting.person();
    const login = await h.login(sam.email, { scope: [READ_JIRA, WRITE_JIRA, READ_CONFLUENCE] });
    expect(scopesOf(login.tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA, READ_CONFLUENCE]));
    await shifting.allow([READ_JIRA, WRITE_JIRA, READ_DOCUMENT]);
    const refreshed = await h.refresh(login.tokens.refresh_token!);
    expect(scopesOf(refreshed.tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
    const r = await h.expectTokenWorks(refreshed.tokens.access_token);
    expect(sorted(r.body.data.viewer.grantedPermissions)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
  });

  it('refuses the refresh with invalid_grant when the organisation no longer allows any of the session scopes', async () => {
    const shrinking = await h.tenant('Shrinking');
    const sue = await shrinking.person();
    const login = await h.login(sue.email, { scope: [READ_CONFLUENCE] });
    await shrinking.allow([READ_JIRA]);
    expect(await h.refreshFails(login.tokens.refresh_token!)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('lets the access token expire after expires_in while the refresh token still brings a working one', async () => {
    const login = await h.login(alice.email, { scope: [READ_JIRA] });
    h.clock.advance(601_000);
    await h.expectTokenRefused(login.tokens.access_token);
    const refreshed = await h.refresh(login.tokens.refresh_token!);
    await h.expectTokenWorks(refreshed.tokens.access_token);
  });
});

describe('client credentials grant (connections)', () => {
  async function connection() {
    return h.t.app.services.orgs.createConnection(acme.cloudId, 'jira');
  }

  it.each([
    ['client_secret_basic', oauth.ClientSecretBasic],
    ['client_secret_post', oauth.ClientSecretPost],
  ])('issues a connection token for %s: 600 s, no refresh token, not to be cached, working on /graphql', async (_name, auth) => {
    const { clientId, clientSecret } = await connection();
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.clientCredentialsGrantRequest(h.as, client, auth(clientSecret), {}, insecure);
    expect(response.status).toBe(200);
    expectNoStore(response);
    const tokens = await oauth.processClientCredentialsResponse(h.as, client, response);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.access_token).toMatch(/^twg_/);
    expect(tokens.expires_in).toBe(600);
    expect(tokens.refresh_token).toBeUndefined();
    const r = await h.graphql(tokens.access_token, '{ viewer { grantedPermissions account { id } session { clientId } } }');
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.viewer.account).toBeNull();
    expect(r.body.data.viewer.session.clientId).toBe(clientId);
  });

  it.each([
    ['client_secret_basic', oauth.ClientSecretBasic],
    ['client_secret_post', oauth.ClientSecretPost],
  ])('refuses a wrong secret sent with %s with 401 invalid_client', async (_name, auth) => {
    const { clientId } = await connection();
    const client: oauth.Client = { client_id: clientId };
    const failure = await oauthError(
      oauth.clientCredentialsGrantRequest(h.as, client, auth('twgcs_wrong'), {}, insecure).then((r) => oauth.processClientCredentialsResponse(h.as, client, r)),
    );
    expect(failure).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses an unknown client with 401 invalid_client', async () => {
    const client: oauth.Client = { client_id: 'jira-conn_unknown' };
    const failure = await oauthError(
      oauth.clientCredentialsGrantRequest(h.as, client, oauth.ClientSecretBasic('twgcs_whatever'), {}, insecure).then((r) => oauth.processClientCredentialsResponse(h.as, client, r)),
    );
    expect(failure).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses client_credentials for the public twg-cli client', async () => {
    const failure = await oauthError(oauth.clientCredentialsGrantRequest(h.as, CLI, oauth.None(), {}, insecure).then((r) => oauth.processClientCredentialsResponse(h.as, CLI, r)));
    expect([400, 401]).toContain(failure.status);
    expect(['unauthorized_client', 'invalid_client']).toContain(failure.error);
  });
});

describe('token endpoint: grant types', () => {
  it.each(['password', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])('answers grant_type=%s with 400 unsupported_grant_type', async (grantType) => {
    const failure = await oauthError(
      oauth
        .genericTokenEndpointRequest(h.as, CLI, oauth.None(), grantType, { username: alice.email, password: PASSWORD }, insecure)
        .then((r) => oauth.processGenericTokenEndpointResponse(h.as, CLI, r)),
    );
    expect(failure).toMatchObject({ status: 400, error: 'unsupported_grant_type' });
  });
});

describe('revocation (RFC 7009)', () => {
  it('ends the session when its access token is revoked', async () => {
    const { tokens } = await h.login(alice.email, { scope: [READ_JIRA] });
    const response = await h.revokeRequest(tokens.access_token, 'access_token');
    expect(response.status).toBe(200);
    await oauth.processRevocationResponse(response);
    await h.expectTokenRefused(tokens.access_token);
    expect(await h.refreshFails(tokens.refresh_token!)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('ends the session when its refresh token is revoked', async () => {
    const { tokens } = await h.login(alice.email, { scope: [READ_JIRA] });
    const response = await h.revokeRequest(tokens.refresh_token!, 'refresh_token');
    expect(response.status).toBe(200);
    await oauth.processRevocationResponse(response);
    await h.expectTokenRefused(tokens.access_token);
    expect(await h.refreshFails(tokens.refresh_token!)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('finds the token without a hint or with a wrong hint', async () => {
    const one = await h.login(alice.email, { scope: [READ_JIRA] });
    expect((await h.revokeRequest(one.tokens.refresh_token!)).status).toBe(200);
    await h.expectTokenRefused(one.tokens.access_token);
    const two = await h.login(alice.email, { scope: [READ_JIRA] });
    expect((await h.revokeRequest(two.tokens.access_token, 'refresh_token')).status).toBe(200);
    await h.expectTokenRefused(two.tokens.access_token);
  });

  it('answers 200 for an unknown token and leaves other sessions alone', async () => {
    const { tokens } = await h.login(alice.email, { scope: [READ_JIRA] });
    const response = await h.revokeRequest('twg_never-issued', 'access_token');
    expect(response.status).toBe(200);
    await oauth.processRevocationResponse(response);
    await h.expectTokenWorks(tokens.access_token);
  });

  it('answers 200 again for a token already revoked', async () => {
    const { tokens } = await h.login(alice.email, { scope: [READ_JIRA] });
    expect((await h.revokeRequest(tokens.access_token)).status).toBe(200);
    expect((await h.revokeRequest(tokens.access_token)).status).toBe(200);
  });
});
