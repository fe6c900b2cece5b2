// The organisation's people and who is signed in (issue 20): Organization.accounts (cursor pages,
// text search, filters, admins only), what each account shows (sites, last sign-in, live twg
// sessions), Account.sessions (address and country), revokeSession and per-account
// revokeCliSessions, and the statements a page of accounts costs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryLookupFromRows } from '../../src/modules/ip-allowlist/country-lookup.ts';
import { sha256 } from '../../src/shared/secrets.ts';
import { createTenant, startTestApp, TEST_ORIGIN, type Tenant, type TestApp } from '../support/app.ts';
import { FormBrowser } from '../support/form-browser.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    // 198.51.100.0/24 is in "DE", 2001:db8:1::/48 in "FR" for this test.
    countries: countryLookupFromRows([
      ['198.51.100.0', '198.51.100.255', 'DE'],
      ['2001:db8:1::', '2001:db8:1:ffff:ffff:ffff:ffff:ffff', 'FR'],
    ]),
  });
});
afterAll(() => t.close());

const IN_GERMANY = '198.51.100.7';
const IN_FRANCE = '2001:db8:1::5';
const NOWHERE_KNOWN = '192.0.2.1';
const PASSWORD = 'people test password';

const ACCOUNT_FIELDS = 'id email displayName active isOrgAdmin lastSignInAt cliSessionCount sites { cloudId name }';
const ACCOUNTS = `query($o: ID!, $f: AccountFilter, $first: Int, $after: String) {
  organization(id: $o) { accounts(filter: $f, first: $first, after: $after) { edges { cursor node { ${ACCOUNT_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`;
const SESSION_FIELDS = 'id clientId scopes createdAt lastUsedAt revokedAt ip country account { id }';
const SESSIONS_OF = `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Account { sessions(first: $first, after: $after) {
  edges { cursor node { ${SESSION_FIELDS} } } pageInfo { hasNextPage endCursor } } } } }`;
const REVOKE_SESSION = `mutation($id: ID!) { revokeSession(id: $id) { ${SESSION_FIELDS} } }`;
const REVOKE_CLI = 'mutation($i: RevokeCliSessionsInput!) { revokeCliSessions(input: $i) { revokedSessionCount account { id email } } }';
const WHO = '{ viewer { account { id } } }';

let names = 0;

async function organisation(name = 'People') {
  const tenant = await createTenant(t, `${name}${++names}`);
  const admin = await tenant.account({ admin: true });
  return { tenant, admin, accounts: (variables: Record<string, unknown>) => t.graphql(admin.token, ACCOUNTS, { o: tenant.orgId, ...variables }) };
}

/** An account, a member of the tenant's site; with `password` it can sign in. */
async function person(tenant: Tenant, email: string, displayName = email.split('@')[0], { admin = false, password = false } = {}) {
  const { accountId } = await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName, password: password ? PASSWORD : undefined, admin, cloudIds: [tenant.cloudId] });
  return { accountId, email };
}

/** A fresh admin page token of the admin: tokens last 10 minutes, and tests move the clock on. */
const adminToken = async (tenant: Tenant, accountId: string) => (await t.app.services.sessions.issue({ orgId: tenant.orgId, accountId }, 'teamgraph-admin', [])).accessToken;

/** A twg session of the account, issued as the operator does (no sign-in). */
const cliToken = async (tenant: Tenant, accountId: string, scopes = ['read:work-item:jira']) =>
  (await t.app.services.sessions.issue({ orgId: tenant.orgId, accountId }, 'twg-cli', scopes)).accessToken;

/** Signs in through the login page and the token endpoint from `from`, as twg login does. */
async function signIn(email: string, from: string): Promise<{ access_token: string; refresh_token: string }> {
  const verifier = 'v'.repeat(50);
  const challenge = Buffer.from(sha256(verifier), 'hex').toString('base64url');
  const params = { response_type: 'code', client_id: 'twg-cli', redirect_uri: 'http://127.0.0.1:5555/callback', code_challenge: challenge, code_challenge_method: 'S256', state: 's' };
  const browser = new FormBrowser(TEST_ORIGIN, (request) => t.app.fetch(request, { clientAddress: from }));
  const answer = await browser.submit({ pageUrl: `${TEST_ORIGIN}/oauth/authorize?${new URLSearchParams(params)}`, fields: { email, password: PASSWORD } });
  expect(answer.status).toBe(303);
  const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
  const body = new URLSearchParams({ grant_type: 'authorization_code', client_id: 'twg-cli', code, redirect_uri: 'http://127.0.0.1:5555/callback', code_verifier: verifier });
  const response = await t.app.fetch(new Request(`${TEST_ORIGIN}/oauth/token`, { method: 'POST', body }), { clientAddress: from });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; refresh_token: string };
}

const emailsOf = (result: { body: { data?: any } }) => result.body.data.organization.accounts.edges.map((e: any) => e.node.email);
const codeOf = (result: { body: { errors?: { extensions: Record<string, any> }[] } }) => result.body.errors?.[0].extensions.code;

describe('Organization.accounts', () => {
  it('pages through every account by e-mail, case-insensitively, with cursors', async () => {
    const { tenant, admin, accounts } = await organisation();
    const adminEmail = (await t.app.services.orgs.account(tenant.orgId, admin.accountId))!.email;
    for (const email of ['Carol@paging.test', 'alice@paging.test', 'bob@paging.test', 'dave@paging.test', 'Eve@paging.test']) await person(tenant, email);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result = await accounts({ first: 2, after });
      expect(result.body.errors).toBeUndefined();
      const { edges, pageInfo } = result.body.data.organization.accounts;
      seen.push(...edges.map((e: any) => e.node.email));
      pages++;
      expect(pageInfo.endCursor).toBe(edges.at(-1).cursor);
      if (!pageInfo.hasNextPage) break;
      expect(edges).toHaveLength(2);
      after = pageInfo.endCursor;
    }
    const expected = ['alice@paging.test', 'bob@paging.test', 'Carol@paging.test', 'dave@paging.test', 'Eve@paging.test', adminEmail].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });

  it('finds accounts by part of the e-mail or the name, case-insensitively, and matches % and _ as themselves', async () => {
    const { tenant, accounts } = await organisation();
    await person(tenant, 'dora@search.test', 'Dora 100% Sure');
    await person(tenant, 'ed_under@search.test', 'Ed Score');
    await person(tenant, 'fay@search.test', 'Fay Xylophone');
    await person(tenant, 'GREG@Search.test', 'Greg');
    const search = async (text: string) => {
      const result = await accounts({ f: { text } });
      expect(result.body.errors).toBeUndefined();
      return emailsOf(result);
    };
    expect(await search('XYLO')).toEqual(['fay@search.test']);
    expect(await search('greg@search')).toEqual(['GREG@Search.test']);
    expect(await search('%')).toEqual(['dora@search.test']);
    expect(await search('0% s')).toEqual(['dora@search.test']);
    expect(await search('_')).toEqual(['ed_under@search.test']);
    expect(await search('d%a')).toEqual([]);
    expect(await search('score')).toEqual(['ed_under@search.test']);
    const long = await accounts({ f: { text: 'x'.repeat(201) } });
    expect(long.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'STRING_TOO_LONG' });
  });

  it('filters by status and by the admin flag, alone and with text', async () => {
    const { tenant, admin, accounts } = await organisation();
    const gone = await person(tenant, 'gone@filter.test');
    await person(tenant, 'here@filter.test');
    const boss = await person(tenant, 'boss@filter.test', 'Boss', { admin: true });
    await t.app.services.orgs.setAccountActive(gone.accountId, false);
    const filtered = async (f: Record<string, unknown>) => (await accounts({ f })).body.data.organization.accounts.edges.map((e: any) => e.node);
    expect(await filtered({ active: false })).toEqual([expect.objectContaining({ email: 'gone@filter.test', active: false })]);
    expect((await filtered({ active: true })).map((a: any) => a.email)).not.toContain('gone@filter.test');
    expect((await filtered({ isOrgAdmin: true })).map((a: any) => a.id).sort()).toEqual([admin.accountId, boss.accountId].sort());
    expect((await filtered({ isOrgAdmin: false, text: 'filter.test' })).map((a: any) => a.email)).toEqual(['gone@filter.test', 'here@filter.test']);
    expect(await filtered({ isOrgAdmin: true, active: false })).toEqual([]);
  });

  it('is for admins only: a twg session is FORBIDDEN, even an org admin’s', async () => {
    const { tenant } = await organisation();
    const member = await tenant.account();
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    for (const token of [member.token, adminOnCli.token]) {
      expect(codeOf(await t.graphql(token, ACCOUNTS, { o: tenant.orgId }))).toBe('FORBIDDEN');
      expect(codeOf(await t.graphql(token, 'query($o: ID!) { organization(id: $o) { accountByEmail(email: "x@y.test") { id } } }', { o: tenant.orgId }))).toBe('FORBIDDEN');
    }
    // Another organisation's admin gets no organisation at all.
    const other = await organisation('Elsewhere');
    expect((await t.graphql(other.admin.token, ACCOUNTS, { o: tenant.orgId })).body.data.organization).toBeNull();
  });

  it('refuses a cursor it did not return and a page larger than 100', async () => {
    const { accounts } = await organisation();
    expect((await accounts({ after: 'bm9wZQ' })).body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_CURSOR' });
    expect((await accounts({ first: 101 })).body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'PAGE_SIZE_OUT_OF_RANGE' });
  });

  it('finds an account by e-mail, case-insensitively, for an admin', async () => {
    const { tenant, admin } = await organisation();
    const bob = await person(tenant, 'Bob@byemail.test');
    const byEmail = (email: string) => t.graphql(admin.token, 'query($o: ID!, $e: String!) { organization(id: $o) { accountByEmail(email: $e) { id email } } }', { o: tenant.orgId, e: email });
    expect((await byEmail('bob@BYEMAIL.test')).body.data.organization.accountByEmail).toEqual({ id: bob.accountId, email: 'Bob@byemail.test' });
    expect((await byEmail('nobody@byemail.test')).body.data.organization.accountByEmail).toBeNull();
  });

  it('shows each account’s sites, last sign-in and live twg sessions', async () => {
    const { tenant, admin, accounts } = await organisation();
    const ann = await person(tenant, 'ann@facts.test', 'Ann', { password: true });
    const ben = await person(tenant, 'ben@facts.test');
    const cat = await person(tenant, 'cat@facts.test');
    const { cloudId: second } = await t.app.services.orgs.createSite(tenant.orgId, 'second site');
    await t.app.services.orgs.addSiteMember(second, ann.accountId);

    await signIn(ann.email, IN_GERMANY);
    await signIn(ann.email, IN_GERMANY);
    // Ben's twg session is revoked; an admin page session does not count.
    const revoked = await cliToken(tenant, ben.accountId);
    await t.graphql(admin.token, REVOKE_CLI, { i: { orgId: tenant.orgId, accountId: ben.accountId } });
    await t.app.services.sessions.issue({ orgId: tenant.orgId, accountId: ben.accountId }, 'teamgraph-admin', []);
    expect((await t.graphql(revoked, WHO)).status).toBe(401);
    await cliToken(tenant, cat.accountId);

    const byEmail = async (token?: string) => {
      const result = token ? await t.graphql(token, ACCOUNTS, { o: tenant.orgId, f: { text: 'facts.test' } }) : await accounts({ f: { text: 'facts.test' } });
      expect(result.body.errors).toBeUndefined();
      return Object.fromEntries(result.body.data.organization.accounts.edges.map((e: any) => [e.node.email, e.node]));
    };
    const now = await byEmail();
    expect(now['ann@facts.test']).toMatchObject({ cliSessionCount: 2, sites: [{ cloudId: tenant.cloudId }, { cloudId: second, name: 'second site' }] });
    expect(Date.parse(now['ann@facts.test'].lastSignInAt)).toBeGreaterThan(Date.parse('2026-11-23T08:00:00Z'));
    expect(now['ben@facts.test']).toMatchObject({ cliSessionCount: 0, lastSignInAt: null, sites: [{ cloudId: tenant.cloudId }] });
    expect(now['cat@facts.test']).toMatchObject({ cliSessionCount: 1, lastSignInAt: null });

    // 31 days on, every session unused since has ended by idling; the sign-in is still when it was.
    t.clock.advance(31 * 24 * 3600_000);
    const later = await byEmail(await adminToken(tenant, admin.accountId));
    expect(later['ann@facts.test']).toMatchObject({ cliSessionCount: 0, lastSignInAt: now['ann@facts.test'].lastSignInAt });
    expect(later['cat@facts.test'].cliSessionCount).toBe(0);
  });

  it('counts no live session for a deactivated account', async () => {
    const { tenant, accounts } = await organisation();
    const dan = await person(tenant, 'dan@deactivated.test');
    await cliToken(tenant, dan.accountId);
    await t.app.services.orgs.setAccountActive(dan.accountId, false);
    const [node] = (await accounts({ f: { text: 'dan@' } })).body.data.organization.accounts.edges.map((e: any) => e.node);
    expect(node).toMatchObject({ active: false, cliSessionCount: 0 });
  });
});

describe('Account.sessions', () => {
  it('lists an account’s live sessions newest first, with client, permissions, address and country, in cursor pages', async () => {
    const { tenant, admin } = await organisation();
    const pat = await person(tenant, 'pat@sessions.test');
    const fromGermany = await cliToken(tenant, pat.accountId, ['read:work-item:jira']);
    const fromFrance = await cliToken(tenant, pat.accountId, ['read:page:confluence']);
    const unknownPlace = await cliToken(tenant, pat.accountId);
    const revoked = await cliToken(tenant, pat.accountId);
    await t.graphql(fromGermany, WHO, undefined, {}, IN_GERMANY);
    await t.graphql(fromFrance, WHO, undefined, {}, IN_FRANCE);
    await t.graphql(unknownPlace, WHO, undefined, {}, NOWHERE_KNOWN);
    const revokedId = (await t.graphql(revoked, '{ viewer { session { id } } }')).body.data.viewer.session.id;
    await t.graphql(revoked, REVOKE_SESSION, { id: revokedId });

    const first = await t.graphql(admin.token, SESSIONS_OF, { id: pat.accountId, first: 2 });
    expect(first.body.errors).toBeUndefined();
    const page1 = first.body.data.node.sessions;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await t.graphql(admin.token, SESSIONS_OF, { id: pat.accountId, first: 2, after: page1.pageInfo.endCursor });
    const page2 = second.body.data.node.sessions;
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const sessions = [...page1.edges, ...page2.edges].map((e: any) => e.node);
    expect(sessions.map((s: any) => [s.ip, s.country, s.scopes])).toEqual([
      [NOWHERE_KNOWN, null, ['read:work-item:jira']],
      [IN_FRANCE, 'FR', ['read:page:confluence']],
      [IN_GERMANY, 'DE', ['read:work-item:jira']],
    ]);
    expect(sessions.every((s: any) => s.clientId === 'twg-cli' && s.revokedAt === null && s.lastUsedAt !== null && s.account.id === pat.accountId)).toBe(true);
    expect(sessions.map((s: any) => s.id)).not.toContain(revokedId);
  });

  it('records the address of the sign-in, then of later use at most once a minute', async () => {
    const { tenant, admin } = await organisation();
    const lou = await person(tenant, 'lou@address.test', 'Lou', { password: true });
    const tokens = await signIn(lou.email, IN_GERMANY);
    const where = async () => (await t.graphql(admin.token, SESSIONS_OF, { id: lou.accountId })).body.data.node.sessions.edges.map((e: any) => [e.node.ip, e.node.country]);
    expect(await where()).toEqual([[IN_GERMANY, 'DE']]);
    await t.graphql(tokens.access_token, WHO, undefined, {}, IN_FRANCE);
    expect(await where()).toEqual([[IN_FRANCE, 'FR']]);
    // Within the minute the last use is not written again, nor the address with it.
    await t.graphql(tokens.access_token, WHO, undefined, {}, NOWHERE_KNOWN);
    expect(await where()).toEqual([[IN_FRANCE, 'FR']]);
    t.clock.advance(61_000);
    await t.graphql(tokens.access_token, WHO, undefined, {}, NOWHERE_KNOWN);
    expect(await where()).toEqual([[NOWHERE_KNOWN, null]]);
    // A refresh is a use too.
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'twg-cli', refresh_token: tokens.refresh_token });
    expect((await t.app.fetch(new Request(`${TEST_ORIGIN}/oauth/token`, { method: 'POST', body }), { clientAddress: IN_GERMANY })).status).toBe(200);
    expect(await where()).toEqual([[IN_GERMANY, 'DE']]);
  });

  it('shows an account its own sessions, and refuses another’s to anyone but an admin', async () => {
    const { tenant } = await organisation();
    const member = await tenant.account();
    const other = await tenant.account();
    const own = await t.graphql(member.token, `{ viewer { account { sessions { edges { node { id clientId } } } } } }`);
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data.viewer.account.sessions.edges).toHaveLength(1);
    // A member cannot see another account at all; an org admin on a twg session sees it but not its sessions.
    expect((await t.graphql(member.token, SESSIONS_OF, { id: other.accountId })).body.data.node).toBeNull();
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    const refused = await t.graphql(adminOnCli.token, SESSIONS_OF, { id: other.accountId });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect((await t.graphql(adminOnCli.token, SESSIONS_OF, { id: adminOnCli.accountId })).body.data.node.sessions.edges).toHaveLength(1);
  });
});

describe('revokeSession', () => {
  async function audited(tenant: Tenant, adminToken: string) {
    const result = await t.graphql(adminToken, 'query($o: ID!) { organization(id: $o) { auditEvents(filter: { action: "session.revoked" }) { edges { node { actor { accountId } event } } } } }', { o: tenant.orgId });
    return result.body.data.organization.auditEvents.edges.map((e: any) => e.node);
  }

  it('ends the owner’s own session at once, audited; their other sessions keep working', async () => {
    const { tenant, admin } = await organisation();
    const member = await tenant.account();
    const laptop = await cliToken(tenant, member.accountId);
    const laptopId = (await t.graphql(laptop, '{ viewer { session { id } } }')).body.data.viewer.session.id;
    const revoked = await t.graphql(member.token, REVOKE_SESSION, { id: laptopId });
    expect(revoked.body.errors).toBeUndefined();
    expect(revoked.body.data.revokeSession).toMatchObject({ id: laptopId, revokedAt: expect.any(String), account: { id: member.accountId } });
    const refused = await t.graphql(laptop, WHO);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await t.graphql(member.token, WHO)).status).toBe(200);
    expect(await audited(tenant, admin.token)).toEqual([
      { actor: { accountId: member.accountId }, event: expect.objectContaining({ details: { sessionId: laptopId, accountId: member.accountId, connectionId: null, clientId: 'twg-cli', revoked: true } }) },
    ]);
  });

  it('lets an admin end any session of the organisation', async () => {
    const { tenant, admin } = await organisation();
    const member = await tenant.account();
    const sessionId = (await t.graphql(member.token, '{ viewer { session { id } } }')).body.data.viewer.session.id;
    const revoked = await t.graphql(admin.token, REVOKE_SESSION, { id: sessionId });
    expect(revoked.body.data.revokeSession.revokedAt).not.toBeNull();
    expect((await t.graphql(member.token, WHO)).status).toBe(401);
    expect(await audited(tenant, admin.token)).toEqual([{ actor: { accountId: admin.accountId }, event: expect.objectContaining({ details: expect.objectContaining({ sessionId, revoked: true }) }) }]);
    // Again: the session is returned as it is, and nothing more ends.
    expect((await t.graphql(admin.token, REVOKE_SESSION, { id: sessionId })).body.data.revokeSession.revokedAt).toBe(revoked.body.data.revokeSession.revokedAt);
  });

  it('is NOT_FOUND for someone else’s session, an unknown id and another organisation’s session', async () => {
    const { tenant, admin } = await organisation();
    const member = await tenant.account();
    const stranger = await tenant.account();
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    const sessionId = (await t.graphql(member.token, '{ viewer { session { id } } }')).body.data.viewer.session.id;
    const elsewhere = await organisation('Foreign');
    for (const [token, id] of [
      [stranger.token, sessionId],
      [adminOnCli.token, sessionId],
      [admin.token, 'sess_nothing'],
      [elsewhere.admin.token, sessionId],
    ]) {
      expect(codeOf(await t.graphql(token, REVOKE_SESSION, { id }))).toBe('NOT_FOUND');
    }
    expect((await t.graphql(member.token, WHO)).status).toBe(200);
    // A connection is no account: it may not end sessions.
    expect(codeOf(await t.graphql(tenant.connectionToken, REVOKE_SESSION, { id: sessionId }))).toBe('FORBIDDEN');
  });
});

describe('revokeCliSessions for one account', () => {
  it('names the account it revoked for, in the answer and the audit log', async () => {
    const { tenant, admin } = await organisation();
    const bob = await person(tenant, 'bob@revoke.test');
    const bobToken = await cliToken(tenant, bob.accountId);
    const bystander = await tenant.account();
    const result = await t.graphql(admin.token, REVOKE_CLI, { i: { orgId: tenant.orgId, accountId: bob.accountId } });
    expect(result.body.data.revokeCliSessions).toEqual({ revokedSessionCount: 1, account: { id: bob.accountId, email: 'bob@revoke.test' } });
    expect((await t.graphql(bobToken, WHO)).status).toBe(401);
    expect((await t.graphql(bystander.token, WHO)).status).toBe(200);
    const events = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditEvents(filter: { action: "cli.sessions.revoked" }) { edges { node { event } } } } }', { o: tenant.orgId });
    expect(events.body.data.organization.auditEvents.edges[0].node.event.details).toEqual({ accountId: bob.accountId, accountEmail: 'bob@revoke.test', revokedSessionCount: 1 });
    const everyone = await t.graphql(admin.token, REVOKE_CLI, { i: { orgId: tenant.orgId } });
    expect(everyone.body.data.revokeCliSessions).toEqual({ revokedSessionCount: 1, account: null });
  });

  it('refuses an account the organisation does not have, such as an e-mail, and revokes nothing', async () => {
    const { tenant, admin } = await organisation();
    const bob = await person(tenant, 'bob@unknown-revoke.test');
    const bobToken = await cliToken(tenant, bob.accountId);
    const foreign = await (await organisation('Foreign')).tenant.account();
    for (const accountId of [bob.email, 'acc_nobody', '', foreign.accountId]) {
      const result = await t.graphql(admin.token, REVOKE_CLI, { i: { orgId: tenant.orgId, accountId } });
      expect(codeOf(result)).toBe('NOT_FOUND');
    }
    const byEmail = await t.graphql(admin.token, REVOKE_CLI, { i: { orgId: tenant.orgId, accountId: bob.email } });
    expect(byEmail.body.errors?.[0].message).toMatch(/accountByEmail/);
    expect((await t.graphql(bobToken, WHO)).status).toBe(200);
    expect((await t.graphql(foreign.token, WHO)).status).toBe(200);
  });
});

describe('statements per page of accounts', () => {
  it('does not grow with the page size for accounts with their sites, session counts and sessions', async () => {
    const { tenant, admin } = await organisation();
    for (let i = 0; i < 30; i++) {
      const { accountId } = await person(tenant, `p${String(i).padStart(2, '0')}@count.test`);
      await cliToken(tenant, accountId);
      await t.app.services.sessions.issue({ orgId: tenant.orgId, accountId }, 'teamgraph-admin', []);
    }
    const query = `query($o: ID!, $first: Int) { organization(id: $o) { accounts(first: $first, filter: { text: "count.test" }) { edges { node {
      ${ACCOUNT_FIELDS} sessions(first: 5) { edges { node { ${SESSION_FIELDS} } } } } } } } }`;
    const statementsFor = async (first: number) => {
      t.statements.length = 0;
      const result = await t.graphql(admin.token, query, { o: tenant.orgId, first });
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data.organization.accounts.edges).toHaveLength(first);
      expect(result.body.data.organization.accounts.edges.every((e: any) => e.node.sessions.edges.length === 2 && e.node.cliSessionCount === 1)).toBe(true);
      return t.statements.length;
    };
    // Settled credentials: on Citus the organisation's first barrier drops what was cached before
    // it, and that request runs twice.
    for (let i = 0; i < 3; i++) await statementsFor(1);
    const small = await statementsFor(3);
    const large = await statementsFor(30);
    expect(large).toBe(small);
    // the page, sites, session counts, sessions, the sessions' accounts, the rate-limit charge, the
    // audit event; on Citus the credential stamp's read too
    expect(large).toBeLessThanOrEqual(9);
  });
});
