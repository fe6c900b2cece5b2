// 3LO user links (issue 5) end to end: a third-party OAuth provider written here runs on
// loopback; the test plays the browser through the link page, the provider and the callback,
// and checks that principals naming the linked user start and stop matching at once.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProvider, TEST_PROVIDER, type TestProvider } from '../support/oauth-provider.ts';
import { asOperator, createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';
import { FormBrowser } from '../support/form-browser.ts';

const { CLIENT_ID, CLIENT_SECRET } = TEST_PROVIDER;

let t: TestApp;
let provider: TestProvider;
beforeAll(async () => {
  t = await startTestApp();
  provider = await startTestProvider();
});
afterAll(async () => {
  provider.server.close();
  await t.close();
});

const APP = 'http://teamgraph.test';

/** A tenant whose connection uses the loopback provider, with an item only gh-alice's account may see. */
async function linkedTenant(name: string, providerInput: Record<string, unknown> = {}) {
  const tenant = await createTenant(t, name);
  const admin = await tenant.account({ admin: true });
  const saved = await t.graphql(admin.token, 'mutation($i: SetConnectionLinkProviderInput!) { setConnectionLinkProvider(input: $i) { clientId authorizationEndpoint externalIdField } }', {
    i: {
      orgId: tenant.orgId,
      connectionId: tenant.connectionId,
      authorizationEndpoint: `${provider.state.origin}/authorize`,
      tokenEndpoint: `${provider.state.origin}/token`,
      userinfoEndpoint: `${provider.state.origin}/userinfo`,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: ['read:user'],
      externalIdField: 'login',
      ...providerInput,
    },
  });
  expect(saved.body.errors).toBeUndefined();
  await tenant.ingest('setObjects', { objects: [objectInput('SECRET-1', { permissions: viewAcl([userPrincipal('gh-alice')]) })] });
  return { tenant, admin };
}

async function person(tenant: Tenant, email: string) {
  const password = 'correct horse battery staple';
  const { accountId } = await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: email, password, cloudIds: [tenant.cloudId] });
  const { accessToken } = await t.app.services.sessions.issue({ orgId: tenant.orgId, accountId }, 'twg-cli', t.app.services.catalog.permissions.map((p) => p.key));
  return { accountId, email, password, token: accessToken };
}

interface LinkOptions {
  /** Changes the provider's redirect back before the browser follows it. */
  tamper?: (callback: URL) => URL;
  /** The callback is opened in another browser than the one that signed in. */
  otherBrowser?: boolean;
  /** What the person answers on the confirmation page; null stops there. */
  decision?: 'link' | 'cancel' | null;
  browser?: FormBrowser;
}

const newBrowser = () => new FormBrowser(APP, (request) => t.app.fetch(request));

/** Plays the browser: the link page, sign-in, the provider, back to the callback, the confirmation. */
async function linkInBrowser(connectionId: string, who: { email: string; password: string }, { tamper = (u) => u, otherBrowser = false, decision = 'link', browser = newBrowser() }: LinkOptions = {}) {
  const pageUrl = `${APP}/connections/${connectionId}/link`;
  const form = await browser.open(pageUrl);
  expect(form.response.status).toBe(200);
  expect(form.html).toContain(`action="/connections/${connectionId}/link"`);
  const signedIn = await browser.submit({ pageUrl, page: form.html, fields: { email: who.email, password: who.password } });
  if (signedIn.status !== 303) return { status: signedIn.status, text: await signedIn.text() };
  const atProvider = await browser.request(signedIn.headers.get('location')!);
  expect(atProvider.status).toBe(302);
  const callback = tamper(new URL(atProvider.headers.get('location')!)).toString();
  const answered = await (otherBrowser ? newBrowser() : browser).request(callback);
  const text = await answered.text();
  if (answered.status !== 200 || decision === null) return { status: answered.status, text };
  const done = await browser.submit({ pageUrl: callback, page: text, fields: { decision } });
  return { status: done.status, text: await done.text() };
}

const sees = async (token: string, tenant: Tenant) =>
  (await t.graphql(token, 'query($c: ID!) { objectByExternalId(connectionId: $c, type: "jira:work-item", externalId: "SECRET-1") { id } }', { c: tenant.connectionId })).body.data.objectByExternalId !== null;
const linksOf = async (token: string) => (await t.graphql(token, '{ viewer { userLinks { connectionId provider externalId source } } }')).body.data.viewer.userLinks;

describe('linking an account through the connection’s OAuth provider', () => {
  it('links the external id the provider reports, which matches USER principals from the next request, until unlinked', async () => {
    const { tenant } = await linkedTenant('Link');
    const alice = await person(tenant, 'alice@link.test');
    expect(await sees(alice.token, tenant)).toBe(false);

    provider.state.signedIn = 'gh-alice';
    const done = await linkInBrowser(tenant.connectionId, alice);
    expect(done.status).toBe(200);
    expect(done.text).toContain('gh-alice');
    expect(await linksOf(alice.token)).toEqual([{ connectionId: tenant.connectionId, provider: 'jira', externalId: 'gh-alice', source: 'OAUTH_3LO' }]);
    expect(await sees(alice.token, tenant)).toBe(true);

    const unlinked = await t.graphql(alice.token, 'mutation($i: UnlinkExternalUserInput!) { unlinkExternalUser(input: $i) }', { i: { connectionId: tenant.connectionId, externalId: 'gh-alice' } });
    expect(unlinked.body.data.unlinkExternalUser).toBe(true);
    expect(await linksOf(alice.token)).toEqual([]);
    expect(await sees(alice.token, tenant)).toBe(false);
    const again = await t.graphql(alice.token, 'mutation($i: UnlinkExternalUserInput!) { unlinkExternalUser(input: $i) }', { i: { connectionId: tenant.connectionId, externalId: 'gh-alice' } });
    expect(again.body.errors?.[0].extensions.code).toBe('NOT_FOUND');

    const events = await t.graphql((await tenant.account({ admin: true })).token, 'query($o: ID!) { organization(id: $o) { auditEvents(first: 50) { edges { node { action actor { accountId } event } } } } }', { o: tenant.orgId });
    const actions = events.body.data.organization.auditEvents.edges.map((e: any) => e.node).filter((n: any) => n.action.startsWith('user-link.'));
    expect(actions.map((n: any) => [n.action, n.actor.accountId, n.event.details.externalId])).toEqual([
      ['user-link.removed', alice.accountId, 'gh-alice'],
      ['user-link.created', alice.accountId, 'gh-alice'],
    ]);
  });

  it('moves a link of the same external user from another account, which stops matching at once', async () => {
    const { tenant } = await linkedTenant('Move');
    const alice = await person(tenant, 'alice@move.test');
    const bob = await person(tenant, 'bob@move.test');
    provider.state.signedIn = 'gh-alice';
    expect((await linkInBrowser(tenant.connectionId, alice)).status).toBe(200);
    expect(await sees(alice.token, tenant)).toBe(true);
    // Bob proves to be gh-alice at the provider (say, the identity changed hands).
    expect((await linkInBrowser(tenant.connectionId, bob)).status).toBe(200);
    expect(await sees(bob.token, tenant)).toBe(true);
    expect(await sees(alice.token, tenant)).toBe(false);
    expect(await linksOf(alice.token)).toEqual([]);
  });

  it('refuses the login CSRF of issue 15: another site cannot sign someone’s browser in to link the forger', async () => {
    const { tenant } = await linkedTenant('Csrf');
    const dave = await person(tenant, 'dave@csrf.test');
    const carol = await person(tenant, 'carol@csrf.test');
    provider.state.signedIn = 'gh-carol';
    // Carol's browser has been on the link page before; Dave's page posts his credentials to it.
    const carolsBrowser = newBrowser();
    await carolsBrowser.open(`${APP}/connections/${tenant.connectionId}/link`);
    const forged = await carolsBrowser.request(`${APP}/connections/${tenant.connectionId}/link`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://dave.example', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ email: dave.email, password: dave.password }),
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();
    expect(carolsBrowser.cookie(`twg_link_${tenant.connectionId}`)).toBeUndefined();
    expect(await linksOf(dave.token)).toEqual([]);
    expect(await linksOf(carol.token)).toEqual([]);
  });

  it('binds the provider’s answer to the account that started the link, which must confirm it: cancelling links nothing', async () => {
    const { tenant } = await linkedTenant('Confirm');
    const dave = await person(tenant, 'dave@confirm.test');
    // Dave's sign-in in a browser where the provider knows Carol (as if a forged sign-in had got through).
    provider.state.signedIn = 'gh-carol';
    const browser = newBrowser();
    const shown = await linkInBrowser(tenant.connectionId, dave, { browser, decision: null });
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('dave@confirm.test');
    expect(shown.text).toContain('gh-carol');
    expect(browser.cookie(`twg_link_${tenant.connectionId}`)).toBeDefined();
    expect(await linksOf(dave.token)).toEqual([]);
    const callbackPage = shown.text;
    const cancelled = await browser.submit({ pageUrl: `${APP}/connections/${tenant.connectionId}/link/callback`, page: callbackPage, fields: { decision: 'cancel' } });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.text()).toContain('Nothing linked');
    expect(browser.cookie(`twg_link_${tenant.connectionId}`)).toBeUndefined();
    expect(await linksOf(dave.token)).toEqual([]);
    // The confirmation is single use: the same page cannot link afterwards.
    const late = await browser.submit({ pageUrl: `${APP}/connections/${tenant.connectionId}/link/callback`, page: callbackPage, fields: { decision: 'link' } });
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('INVALID_STATE');
    expect(await linksOf(dave.token)).toEqual([]);
  });

  it('links nothing when the account was deactivated between its sign-in and its confirmation', async () => {
    const { tenant } = await linkedTenant('Deactivated');
    const gus = await person(tenant, 'gus@deactivated.test');
    provider.state.signedIn = 'gh-alice';
    const browser = newBrowser();
    const shown = await linkInBrowser(tenant.connectionId, gus, { browser, decision: null });
    await t.app.services.orgs.setAccountActive(gus.accountId, false);
    const refused = await browser.submit({ pageUrl: `${APP}/connections/${tenant.connectionId}/link/callback`, page: shown.text, fields: { decision: 'link' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('ACCOUNT_INACTIVE');
    const links = await t.db.selectFrom('user_link').select('external_id').where('org_id', '=', tenant.orgId).execute();
    expect(links).toEqual([]);
  });

  it('accepts the confirmation only in the browser that started the link, and not from another site', async () => {
    const { tenant } = await linkedTenant('SameBrowser');
    const erin = await person(tenant, 'erin@samebrowser.test');
    provider.state.signedIn = 'gh-alice';
    const mine = newBrowser();
    const shown = await linkInBrowser(tenant.connectionId, erin, { browser: mine, decision: null });
    const callback = `${APP}/connections/${tenant.connectionId}/link/callback`;
    // Another browser with a ticket of its own (its own attempt) and this page's confirmation secret.
    const other = newBrowser();
    const otherShown = await linkInBrowser(tenant.connectionId, erin, { browser: other, decision: null });
    const stolen = shown.text.match(/name="confirmation" value="([^"]+)"/)![1];
    const copied = await other.submit({ pageUrl: callback, page: otherShown.text, fields: { decision: 'link', confirmation: stolen } });
    expect(copied.status).toBe(400);
    expect(await copied.text()).toContain('INVALID_STATE');
    const crossSite = await mine.submit({ pageUrl: callback, page: shown.text, fields: { decision: 'link' }, from: { origin: 'https://elsewhere.example', site: 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(await linksOf(erin.token)).toEqual([]);
    // The refused attempts consumed nothing of this browser's: its own confirmation still links.
    const linked = await mine.submit({ pageUrl: callback, page: shown.text, fields: { decision: 'link' } });
    expect(linked.status).toBe(200);
    expect(await linksOf(erin.token)).toEqual([{ connectionId: tenant.connectionId, provider: 'jira', externalId: 'gh-alice', source: 'OAUTH_3LO' }]);
  });

  it('refuses a callback with a wrong state, or from a browser that did not start the attempt', async () => {
    const { tenant } = await linkedTenant('State');
    const carol = await person(tenant, 'carol@state.test');
    const before = provider.state.exchanges;
    const wrongState = await linkInBrowser(tenant.connectionId, carol, {
      tamper: (u) => {
        u.searchParams.set('state', 'not-the-state');
        return u;
      },
    });
    expect(wrongState.status).toBe(400);
    expect(wrongState.text).toContain('INVALID_STATE');
    const otherBrowser = await linkInBrowser(tenant.connectionId, carol, { otherBrowser: true });
    expect(otherBrowser.status).toBe(400);
    expect(otherBrowser.text).toContain('INVALID_STATE');
    // No code was exchanged and nothing linked.
    expect(provider.state.exchanges).toBe(before);
    expect(await linksOf(carol.token)).toEqual([]);
  });

  it('shows the provider’s refusal and links nothing', async () => {
    const { tenant } = await linkedTenant('Deny');
    const dan = await person(tenant, 'dan@deny.test');
    provider.state.deny = true;
    const denied = await linkInBrowser(tenant.connectionId, dan).finally(() => {
      provider.state.deny = false;
    });
    expect(denied.status).toBe(502);
    expect(denied.text).toContain('access_denied');
    expect(denied.text).toContain('PROVIDER_ERROR');
    expect(await linksOf(dan.token)).toEqual([]);
  });

  it('refuses an account of another organisation, and a wrong password', async () => {
    const { tenant } = await linkedTenant('Mine');
    const other = await createTenant(t, 'Other');
    const eve = await person(other, 'eve@other.test');
    const refused = await linkInBrowser(tenant.connectionId, eve);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('OTHER_ORGANIZATION');
    const wrong = await linkInBrowser(tenant.connectionId, { email: eve.email, password: 'wrong' });
    expect(wrong.status).toBe(401);
  });

  it('discovers the endpoints from an issuer, and never returns or stores the client secret in the clear', async () => {
    const tenant = await createTenant(t, 'Discover');
    const admin = await tenant.account({ admin: true });
    const saved = await t.graphql(
      admin.token,
      'mutation($i: SetConnectionLinkProviderInput!) { setConnectionLinkProvider(input: $i) { issuer authorizationEndpoint tokenEndpoint userinfoEndpoint externalIdField } }',
      { i: { orgId: tenant.orgId, connectionId: tenant.connectionId, issuer: provider.state.origin, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: [] } },
    );
    expect(saved.body.data.setConnectionLinkProvider).toEqual({
      issuer: provider.state.origin,
      authorizationEndpoint: `${provider.state.origin}/authorize`,
      tokenEndpoint: `${provider.state.origin}/token`,
      userinfoEndpoint: `${provider.state.origin}/userinfo`,
      externalIdField: 'sub',
    });
    const stored = await sql<{ sealed: string }>`select client_secret_sealed as sealed from connection_link_provider where connection_id = ${tenant.connectionId}`.execute(t.db);
    expect(stored.rows[0].sealed).not.toContain(CLIENT_SECRET);
    const listed = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { connections { linkUrl linkProvider { clientId scopes } } } }', { o: tenant.orgId });
    expect(listed.body.data.organization.connections[0]).toEqual({ linkUrl: `/connections/${tenant.connectionId}/link`, linkProvider: { clientId: CLIENT_ID, scopes: [] } });
    expect(JSON.stringify(listed.body)).not.toContain(CLIENT_SECRET);
    // The default external id is `sub`.
    const frank = await person(tenant, 'frank@discover.test');
    provider.state.signedIn = 'gh-frank';
    expect((await linkInBrowser(tenant.connectionId, frank)).status).toBe(200);
    expect((await linksOf(frank.token)).map((l: any) => l.externalId)).toEqual(['sub-gh-frank']);
  });

  it('refuses a provider endpoint that is plain http off loopback, and a non-admin', async () => {
    const tenant = await createTenant(t, 'Insecure');
    const admin = await tenant.account({ admin: true });
    const input = { orgId: tenant.orgId, connectionId: tenant.connectionId, authorizationEndpoint: 'http://provider.example/authorize', tokenEndpoint: 'https://provider.example/token', userinfoEndpoint: 'https://provider.example/me', clientId: 'x', clientSecret: 'y', scopes: [] };
    const insecure = await t.graphql(admin.token, 'mutation($i: SetConnectionLinkProviderInput!) { setConnectionLinkProvider(input: $i) { clientId } }', { i: input });
    expect(insecure.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_LINK_PROVIDER' });
    const member = await tenant.account();
    const refused = await t.graphql(member.token, 'mutation($i: SetConnectionLinkProviderInput!) { setConnectionLinkProvider(input: $i) { clientId } }', { i: { ...input, authorizationEndpoint: 'https://provider.example/authorize' } });
    expect(refused.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });
  it('answers twg connect’s check at once: the link page, or why linking cannot start, for the caller’s account only', async () => {
    const { tenant } = await linkedTenant('Checked');
    const alice = await person(tenant, 'alice@checked.test');
    const check = (connectionId: string, token: string | null, method = 'GET') =>
      t.app.fetch(new Request(`${APP}/connections/${connectionId}/link/check`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} }));
    const errorOf = async (response: Response) => ({ status: response.status, ...(await response.json()).errors[0].extensions, requestId: undefined });

    const ready = await check(tenant.connectionId, alice.token);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ connectionId: tenant.connectionId, provider: 'jira', linkUrl: `${APP}/connections/${tenant.connectionId}/link` });
    const missing = await check('conn_nope', alice.token);
    const refusal = (await missing.clone().json()).errors[0].extensions;
    expect(refusal.requestId).toBe(missing.headers.get('x-request-id'));
    expect(await errorOf(missing)).toMatchObject({ status: 404, code: 'NOT_FOUND', subCode: 'UNKNOWN_CONNECTION' });
    const other = await linkedTenant('CheckedOther');
    expect(await errorOf(await check(other.tenant.connectionId, alice.token))).toMatchObject({ status: 404, subCode: 'UNKNOWN_CONNECTION' });
    expect((await check(tenant.connectionId, null)).status).toBe(401);
    expect((await check(tenant.connectionId, alice.token, 'POST')).status).toBe(405);
    // A connection's own token links no one.
    expect(await errorOf(await check(tenant.connectionId, tenant.connectionToken))).toMatchObject({ status: 403, code: 'FORBIDDEN' });

    const admin = await tenant.account({ admin: true });
    await t.graphql(admin.token, 'mutation($i: RemoveConnectionLinkProviderInput!) { removeConnectionLinkProvider(input: $i) }', { i: { orgId: tenant.orgId, connectionId: tenant.connectionId } });
    expect(await errorOf(await check(tenant.connectionId, alice.token))).toMatchObject({ status: 404, code: 'NOT_FOUND', subCode: 'NO_PROVIDER' });
    await t.app.services.connections.setEnabled(asOperator, tenant.connectionId, false);
    expect(await errorOf(await check(tenant.connectionId, alice.token))).toMatchObject({ status: 403, code: 'FORBIDDEN', subCode: 'CONNECTION_DISABLED' });

    const events = await t.db.selectFrom('audit_event').select('event_json').where('org_id', '=', tenant.orgId).orderBy('seq').execute();
    const checks = events.map((e) => JSON.parse(e.event_json)).filter((e) => e.operationName === 'connectionLinkCheck');
    expect(checks.map((e) => [e.outcome, e.statusCode, e.actor.accountId])).toEqual([
      ['SUCCESS', 200, alice.accountId],
      ['ERROR', 404, alice.accountId],
      ['ERROR', 404, alice.accountId],
      ['ERROR', 404, alice.accountId],
      ['DENIED', 403, alice.accountId],
    ]);
  });
});
