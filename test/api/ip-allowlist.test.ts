// IP and location allowlists through the API (PRODUCT §7): saving (validation, versions, no
// lock-out), enforcement before any data is read on GraphQL, the login page and the token and
// device endpoints, for accounts and admin API keys but not connections; trusted proxies;
// location rules; audit events for blocks and saves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../src/http/client-ip.ts';
import { countryLookupFromRows } from '../../src/modules/ip-allowlist/country-lookup.ts';
import { sha256 } from '../../src/shared/secrets.ts';
import { createTenant, objectInput, startTestApp, TEST_ORIGIN, type TestApp } from '../support/app.ts';
import { FormBrowser } from '../support/form-browser.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    trustedProxies: parseTrustedProxies('10.9.0.0/16'),
    // 198.51.100.0/24 is in "DE", 2001:db8:1::/48 in "FR" for this test.
    countries: countryLookupFromRows([
      ['198.51.100.0', '198.51.100.255', 'DE'],
      ['2001:db8:1::', '2001:db8:1:ffff:ffff:ffff:ffff:ffff', 'FR'],
    ]),
  });
});
afterAll(() => t.close());

const OFFICE = '203.0.113.10';
const HOME = '192.0.2.77';
const UPDATE = 'mutation($i: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $i) { enabled rules { cidr description } locations version updatedAt } }';
const READ = 'query($o: ID!) { organization(id: $o) { ipAllowlist { enabled rules { cidr description } locations version } } }';
const VIEWER = '{ viewer { account { id } } }';
const PASSWORD = 'correct horse battery staple';

async function fencedTenant(name = 'Fenced') {
  const tenant = await createTenant(t, name);
  const admin = await tenant.account({ admin: true });
  const user = await tenant.account();
  const save = (input: Record<string, unknown>, from = OFFICE) => t.graphql(admin.token, UPDATE, { i: { orgId: tenant.orgId, ...input } }, {}, from);
  return { tenant, admin, user, save };
}

describe('saving the allowlist', () => {
  it('normalises and stores rules with versions, and refuses bad input with stable sub-codes', async () => {
    const { tenant, admin, save } = await fencedTenant();
    const saved = await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24', description: ' office ' }, { cidr: '::ffff:192.0.2.0/120' }, { cidr: '2001:DB8::/32' }], locations: ['de'] });
    expect(saved.body.errors).toBeUndefined();
    expect(saved.body.data.updateIpAllowlist).toMatchObject({
      enabled: true,
      rules: [{ cidr: '203.0.113.0/24', description: 'office' }, { cidr: '192.0.2.0/24', description: null }, { cidr: '2001:db8::/32', description: null }],
      locations: ['DE'],
      version: 1,
    });
    const read = await t.graphql(admin.token, READ, { o: tenant.orgId }, {}, OFFICE);
    expect(read.body.data.organization.ipAllowlist).toMatchObject({ enabled: true, version: 1, locations: ['DE'] });

    const cases: [Record<string, unknown>, string][] = [
      [{ enabled: true, rules: [{ cidr: '10.1.2.3/8' }] }, 'INVALID_CIDR'],
      [{ enabled: true, rules: [{ cidr: 'office' }] }, 'INVALID_CIDR'],
      [{ enabled: true, rules: [{ cidr: '203.0.113.0/33' }] }, 'INVALID_CIDR'],
      [{ enabled: true, rules: [{ cidr: '203.0.113.0/24' }], locations: ['Germany'] }, 'INVALID_LOCATION'],
      [{ enabled: true, rules: [{ cidr: '203.0.113.0/24', description: 'x'.repeat(256) }] }, 'INVALID_DESCRIPTION'],
    ];
    for (const [input, subCode] of cases) {
      const bad = await save(input);
      expect(bad.body.errors?.[0].extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', subCode });
    }
    const stale = await save({ enabled: false, rules: [], expectedVersion: 0 });
    expect(stale.body.errors?.[0].extensions.code).toBe('CONFLICT');
    const current = await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24' }], expectedVersion: 1 });
    expect(current.body.data.updateIpAllowlist.version).toBe(2);
  });

  it('refuses a list that would lock out the admin saving it (WOULD_LOCK_OUT)', async () => {
    const { tenant, admin, save } = await fencedTenant();
    const lockout = await save({ enabled: true, rules: [{ cidr: '198.18.0.0/15' }] }, OFFICE);
    expect(lockout.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'WOULD_LOCK_OUT' });
    expect(lockout.body.errors?.[0].message).toContain(OFFICE);
    // Without a socket address nothing can be admitted, so enabling is refused too.
    const unknownAddress = await t.graphql(admin.token, UPDATE, { i: { orgId: tenant.orgId, enabled: true, rules: [{ cidr: '0.0.0.0/0' }] } });
    expect(unknownAddress.body.errors?.[0].extensions.subCode).toBe('WOULD_LOCK_OUT');
    // A disabled list locks out nobody, whatever it holds.
    expect((await save({ enabled: false, rules: [{ cidr: '198.18.0.0/15' }] })).body.errors).toBeUndefined();
  });

  it('records the save with before and after', async () => {
    const { tenant, admin, save } = await fencedTenant();
    await save({ enabled: true, rules: [{ cidr: `${OFFICE}/32` }] });
    const events = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditEvents(filter: { action: "ip-allowlist.updated" }) { edges { node { event } } } } }', { o: tenant.orgId }, {}, OFFICE);
    const [event] = events.body.data.organization.auditEvents.edges.map((e: any) => e.node.event);
    expect(event.details.before).toMatchObject({ enabled: false, version: 0 });
    expect(event.details.after).toMatchObject({ enabled: true, rules: [{ cidr: `${OFFICE}/32`, description: null }], version: 1 });
    expect(event.ip).toBe(OFFICE);
  });
});

describe('enforcement', () => {
  it('refuses GraphQL from outside the rules with 403 IP_NOT_ALLOWED, for accounts and admin keys, and records it', async () => {
    const { tenant, admin, user, save } = await fencedTenant();
    await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24' }] });
    expect((await t.graphql(user.token, VIEWER, {}, {}, OFFICE)).status).toBe(200);
    const blocked = await t.graphql(user.token, VIEWER, {}, {}, HOME);
    expect(blocked.status).toBe(403);
    expect(blocked.body.errors?.[0].extensions.code).toBe('IP_NOT_ALLOWED');
    expect(blocked.body.data).toBeUndefined();
    expect((await t.graphql(user.token, VIEWER)).status).toBe(403); // no address known: refused

    const key = await t.graphql(admin.token, 'mutation($i: CreateAdminApiKeyInput!) { createAdminApiKey(input: $i) { secret } }', { i: { orgId: tenant.orgId, name: 'script' } }, {}, OFFICE);
    const secret = key.body.data.createAdminApiKey.secret;
    expect((await t.graphql(secret, READ, { o: tenant.orgId }, {}, HOME)).status).toBe(403);
    expect((await t.graphql(secret, READ, { o: tenant.orgId }, {}, OFFICE)).status).toBe(200);

    const events = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditEvents(filter: { outcome: IP_BLOCKED }) { edges { node { ip statusCode actor { accountId } } } } } }', { o: tenant.orgId }, {}, OFFICE);
    expect(events.body.data.organization.auditEvents.edges.map((e: any) => e.node)).toEqual([
      { ip: HOME, statusCode: 403, actor: { accountId: admin.accountId } },
      { ip: null, statusCode: 403, actor: { accountId: user.accountId } },
      { ip: HOME, statusCode: 403, actor: { accountId: user.accountId } },
    ]);
  });

  it("leaves connections' ingestion alone", async () => {
    const { tenant, save } = await fencedTenant();
    await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24' }] });
    const ingest = await t.graphql(tenant.connectionToken, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', { i: { connectionId: tenant.connectionId, objects: [objectInput('F-1')] } }, {}, HOME);
    expect(ingest.body.data.setObjects.acceptedCount).toBe(1);
  });

  it('believes X-Forwarded-For only from trusted proxies', async () => {
    const { user, save } = await fencedTenant();
    await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24' }] });
    const viaProxy = (peer: string, forwarded: string) => t.graphql(user.token, VIEWER, {}, { 'x-forwarded-for': forwarded }, peer);
    expect((await viaProxy('10.9.1.1', `${OFFICE}`)).status).toBe(200);
    expect((await viaProxy('10.9.1.1', `${OFFICE}, 10.9.2.2`)).status).toBe(200);
    expect((await viaProxy('10.9.1.1', `${HOME}`)).status).toBe(403);
    // A client that is not a proxy cannot claim to be at the office.
    expect((await viaProxy(HOME, OFFICE)).status).toBe(403);
    // Behind a proxy, a spoofed entry left of a real client is not read.
    expect((await viaProxy('10.9.1.1', `${OFFICE}, ${HOME}`)).status).toBe(403);
  });

  it('admits addresses of the listed countries, IPv4 and IPv6', async () => {
    const { user, save } = await fencedTenant();
    await save({ enabled: true, rules: [{ cidr: `${OFFICE}/32` }], locations: ['DE', 'FR'] });
    expect((await t.graphql(user.token, VIEWER, {}, {}, '198.51.100.20')).status).toBe(200);
    expect((await t.graphql(user.token, VIEWER, {}, {}, '::ffff:198.51.100.20')).status).toBe(200);
    expect((await t.graphql(user.token, VIEWER, {}, {}, '2001:db8:1::5')).status).toBe(200);
    expect((await t.graphql(user.token, VIEWER, {}, {}, '2001:db8:2::5')).status).toBe(403);
    expect((await t.graphql(user.token, VIEWER, {}, {}, '198.51.101.20')).status).toBe(403);
  });

  it('applies to the next request after a save, and not at all once disabled', async () => {
    const { user, save } = await fencedTenant();
    expect((await t.graphql(user.token, VIEWER, {}, {}, HOME)).status).toBe(200);
    await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24' }] });
    expect((await t.graphql(user.token, VIEWER, {}, {}, HOME)).status).toBe(403);
    await save({ enabled: false, rules: [{ cidr: '203.0.113.0/24' }] });
    expect((await t.graphql(user.token, VIEWER, {}, {}, HOME)).status).toBe(200);
  });
});

describe('sign-in and tokens', () => {
  async function fencedPerson() {
    const fenced = await fencedTenant('Signin');
    const email = `p-${Math.random().toString(36).slice(2, 8)}@signin.test`;
    await t.app.services.orgs.createAccount({ orgId: fenced.tenant.orgId, email, displayName: 'P', password: PASSWORD, cloudIds: [fenced.tenant.cloudId] });
    return { ...fenced, email };
  }

  const form = (path: string, body: Record<string, string>, from: string) =>
    t.app.fetch(new Request(`http://teamgraph.test${path}`, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' }), { clientAddress: from });
  /** A person's browser at address `from`, submitting one of the sign-in pages. */
  const browserAt = (from: string) => new FormBrowser(TEST_ORIGIN, (request) => t.app.fetch(request, { clientAddress: from }));

  async function login(email: string, from: string) {
    const verifier = 'v'.repeat(50);
    const challenge = Buffer.from(sha256Bytes(verifier)).toString('base64url');
    const params = { response_type: 'code', client_id: 'twg-cli', redirect_uri: 'http://127.0.0.1:5555/callback', code_challenge: challenge, code_challenge_method: 'S256', state: 's' };
    return browserAt(from).submit({ pageUrl: `${TEST_ORIGIN}/oauth/authorize?${new URLSearchParams(params)}`, fields: { email, password: PASSWORD } });
  }

  it('refuses the login page, the code exchange, refresh and device approval from outside the rules', async () => {
    const { email, save } = await fencedPerson();
    // Signed in from the office first: a code, then tokens.
    const answer = await login(email, OFFICE);
    expect(answer.status).toBe(303);
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    await save({ enabled: true, rules: [{ cidr: '203.0.113.0/24' }] });

    const fromHome = await login(email, HOME);
    expect(fromHome.status).toBe(403);
    expect(await fromHome.text()).toContain('IP_NOT_ALLOWED');

    const exchange = (from: string) => form('/oauth/token', { grant_type: 'authorization_code', client_id: 'twg-cli', code, redirect_uri: 'http://127.0.0.1:5555/callback', code_verifier: 'v'.repeat(50) }, from);
    const refused = await exchange(HOME);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'access_denied', error_description: expect.stringContaining('IP_NOT_ALLOWED') });
    const tokens = (await (await exchange(OFFICE)).json()) as { refresh_token: string; access_token: string };
    expect(tokens.access_token).toMatch(/^twg_/);

    const refresh = (from: string) => form('/oauth/token', { grant_type: 'refresh_token', client_id: 'twg-cli', refresh_token: tokens.refresh_token }, from);
    expect((await refresh(HOME)).status).toBe(403);
    expect((await refresh(OFFICE)).status).toBe(200);

    const device = (await (await form('/oauth/device_authorization', { client_id: 'twg-cli' }, HOME)).json()) as { user_code: string };
    const approval = await browserAt(HOME).submit({ pageUrl: `${TEST_ORIGIN}/device`, fields: { user_code: device.user_code, email, password: PASSWORD, decision: 'approve' } });
    expect(approval.status).toBe(403);
    expect(await approval.text()).toContain('IP_NOT_ALLOWED');
  });
});

function sha256Bytes(value: string): Buffer {
  return Buffer.from(sha256(value), 'hex');
}
