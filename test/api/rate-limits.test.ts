// Issue 21, item 4: each credential spends points from an hourly budget; a request that does not
// fit is refused before it runs (429, RATE_LIMITED, Retry-After) and audited; the budget is one row
// in the database, so two apps over one database share it; an organisation admin lowers budgets.
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { operationCost } from '../../src/graphql/plugins/use-limits.ts';
import { schema } from '../../src/graphql/schema.ts';
import { pointsOf } from '../../src/modules/rate-limit/rate-limit.service.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createTenant, objectInput, startTestApp, TEST_ORIGIN, type TestApp } from '../support/app.ts';

const BUDGETS = { session: 10, adminApiKey: 10, bitbucketToken: 10, connection: 10 };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ rateLimitBudgets: BUDGETS });
});
afterAll(() => t.close());

const RATE = '{ viewer { rateLimit { limit cost remaining resetAt } } }';
const SET = 'mutation($i: SetRateLimitsInput!) { setRateLimits(input: $i) { effective { session connection } defaults { session } custom { session connection } version } }';
const HOUR = 3_600_000;

const codeOf = (r: { body: { errors?: { extensions: Record<string, any> }[] } }) => r.body.errors?.[0]?.extensions.code;

async function spend(token: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) expect((await t.graphql(token, '{ viewer { grantedPermissions } }')).status).toBe(200);
}

async function eventsOf(orgId: string) {
  return (await t.app.services.audit.page(orgId, {}, 100)).map((e) => e.event);
}

describe('rate limits', () => {
  it("shows a request's own cost and what is left after it, in viewer.rateLimit and the RateLimit headers", async () => {
    const tenant = await createTenant(t);
    const { token } = await tenant.account();
    const first = await t.graphql(token, RATE);
    const startedAt = Date.parse(first.body.data.viewer.rateLimit.resetAt) - HOUR;
    expect(first.body.data.viewer.rateLimit).toMatchObject({ limit: 10, cost: 1, remaining: 9 });
    expect(startedAt).toBeGreaterThanOrEqual(Date.parse('2026-11-23T08:00:00Z'));
    expect(first.headers.get('ratelimit-limit')).toBe('10');
    expect(first.headers.get('ratelimit-remaining')).toBe('9');
    expect(Number(first.headers.get('ratelimit-reset'))).toBe(3600);
    t.clock.advance(300_000);
    const second = await t.graphql(token, RATE);
    expect(second.body.data.viewer.rateLimit).toMatchObject({ cost: 1, remaining: 8, resetAt: first.body.data.viewer.rateLimit.resetAt });
    expect(Number(second.headers.get('ratelimit-reset'))).toBe(3300);
  });

  it("charges a query's cost as the cost limit computes it, in points of 100 units", async () => {
    const tenant = await createTenant(t);
    const { token } = await tenant.account();
    const query = '{ viewer { rateLimit { cost remaining } } objects(first: 20) { edges { node { id displayName } } } }';
    const points = pointsOf(operationCost(schema, parse(query)));
    expect(points).toBeGreaterThan(1);
    const r = await t.graphql(token, query);
    expect(r.body.data.viewer.rateLimit).toEqual({ cost: points, remaining: 10 - points });
    // The same query again: yoga answers its validation from a cache, and the cost is charged all the same.
    const again = await t.graphql(token, query);
    expect(again.body.data.viewer.rateLimit).toEqual({ cost: points, remaining: 10 - 2 * points });
  });

  it('counts a page size given as a variable as the cost limit counts one written in the query', async () => {
    const tenant = await createTenant(t);
    const { token } = await tenant.account();
    const literal = pointsOf(operationCost(schema, parse('{ viewer { rateLimit { cost } } objects(first: 20) { edges { node { id displayName } } } }')));
    const query = 'query($n: Int) { viewer { rateLimit { cost } } objects(first: $n) { edges { node { id displayName } } } }';
    expect((await t.graphql(token, query, { n: 20 })).body.data.viewer.rateLimit.cost).toBe(literal);
    const byDefault = 'query($m: Int = 20) { viewer { rateLimit { cost } } objects(first: $m) { edges { node { id displayName } } } }';
    expect((await t.graphql(token, byDefault)).body.data.viewer.rateLimit.cost).toBe(literal);
    expect((await t.graphql(token, query, { n: 1 })).body.data.viewer.rateLimit.cost).toBe(1);
  });

  it('refuses a request over the budget with 429, RATE_LIMITED and Retry-After, before it runs, and audits it', async () => {
    const tenant = await createTenant(t);
    const { token, accountId } = await tenant.account();
    await spend(token, 10);
    t.clock.advance(60_000);
    const refused = await t.graphql(token, '{ viewer { grantedPermissions } }', undefined, { 'x-twg-command': 'whoami' });
    expect(refused.status).toBe(429);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors).toHaveLength(1);
    expect(refused.body.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 10, cost: 1, remaining: 0, retryAfter: 3540 });
    expect(refused.body.errors![0].message).toMatch(/spent its budget of 10 points per hour .* try again in 3540 s/);
    expect(refused.headers.get('retry-after')).toBe('3540');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-reset')).toBe('3540');
    const [event] = await eventsOf(tenant.orgId);
    expect(event).toMatchObject({ action: 'cli.command.invoked', command: 'whoami', outcome: 'RATE_LIMITED', statusCode: 429, actor: { accountId } });
  });

  it('changes nothing for a mutation it refuses', async () => {
    const tenant = await createTenant(t);
    await tenant.ingest('setObjects', { objects: [objectInput('A-1')] });
    for (let i = 0; i < 9; i++) await t.graphql(tenant.connectionToken, '{ viewer { grantedPermissions } }');
    const refused = await t.graphql(tenant.connectionToken, 'mutation($input: SetObjectsInput!) { setObjects(input: $input) { acceptedCount } }', {
      input: { connectionId: tenant.connectionId, objects: [objectInput('A-2')] },
    });
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    const stored = await t.db.selectFrom('graph_object').select('external_id').where('org_id', '=', tenant.orgId).execute();
    expect(stored.map((o) => o.external_id)).toEqual(['A-1']);
  });

  it('gives the whole budget back when the hour since the first charge has passed', async () => {
    const tenant = await createTenant(t);
    const admin = await tenant.account({ admin: true });
    // An admin API key: it outlives the hour, as an access token does not.
    const key = await t.graphql(admin.token, 'mutation($i: CreateAdminApiKeyInput!) { createAdminApiKey(input: $i) { secret } }', { i: { orgId: tenant.orgId, name: 'ops' } });
    const token = key.body.data.createAdminApiKey.secret as string;
    await spend(token, 10);
    expect((await t.graphql(token, RATE)).status).toBe(429);
    t.clock.advance(HOUR);
    const after = await t.graphql(token, RATE);
    expect(after.status).toBe(200);
    expect(after.body.data.viewer.rateLimit).toMatchObject({ limit: 10, cost: 1, remaining: 9 });
    expect(Number(after.headers.get('ratelimit-reset'))).toBe(3600);
  });

  it('forgets the rows of windows that have ended, and only those', async () => {
    const tenant = await createTenant(t);
    const ended = await tenant.account();
    await spend(ended.token, 1);
    t.clock.advance(HOUR / 2);
    const current = await tenant.account();
    await spend(current.token, 1);
    t.clock.advance(HOUR / 2);
    await t.app.services.rateLimits.purgeEnded();
    const rows = await t.db.selectFrom('rate_limit_usage').select('used').where('org_id', '=', tenant.orgId).execute();
    expect(rows).toEqual([{ used: 1 }]);
  });

  it('refuses a request costing more than the whole budget without a Retry-After, since waiting cannot help', async () => {
    const tenant = await createTenant(t);
    const { token } = await tenant.account();
    const refused = await t.graphql(token, '{ objects(first: 100) { edges { node { id displayName description url } } } }');
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: null, remaining: 10 });
    expect(refused.body.errors![0].message).toMatch(/more than the whole budget/);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect((await t.graphql(token, RATE)).body.data.viewer.rateLimit.remaining).toBe(9);
  });

  it('charges an audit export its own points, refusing it over the budget with 429 and auditing that', async () => {
    const tenant = await createTenant(t);
    const admin = await tenant.account({ admin: true });
    const refused = await t.app.fetch(new Request(`${TEST_ORIGIN}/admin/audit/export?format=ndjson`, { headers: { authorization: `Bearer ${admin.token}` } }));
    expect(refused.status).toBe(429);
    expect((await refused.json()).errors[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' }, message: expect.stringMatching(/costs 500 points, more than the whole budget of 10/) });
    expect(refused.headers.get('ratelimit-remaining')).toBe('10');
    expect(refused.headers.get('retry-after')).toBeNull();
    const [event] = await eventsOf(tenant.orgId);
    expect(event).toMatchObject({ operationName: 'auditExport', outcome: 'RATE_LIMITED', statusCode: 429 });
  });

  it('keeps a budget per credential: sessions, Bitbucket tokens, admin API keys and connections each have their own', async () => {
    const tenant = await createTenant(t);
    const admin = await tenant.account({ admin: true });
    const one = await tenant.account();
    const other = await tenant.account();
    const bitbucket = await t.graphql(one.token, 'mutation { createBitbucketToken(input: { label: "ci", scopes: ["repository:read"] }) { secret } }');
    const key = await t.graphql(admin.token, 'mutation($i: CreateAdminApiKeyInput!) { createAdminApiKey(input: $i) { secret } }', { i: { orgId: tenant.orgId, name: 'ops' } });
    await spend(one.token, 8);
    expect((await t.graphql(other.token, RATE)).body.data.viewer.rateLimit.remaining).toBe(9);
    const viaToken = await t.graphql(null, RATE, undefined, { 'x-bitbucket-token': bitbucket.body.data.createBitbucketToken.secret });
    expect(viaToken.body.data.viewer.rateLimit.remaining).toBe(9);
    expect((await t.graphql(key.body.data.createAdminApiKey.secret, RATE)).body.data.viewer.rateLimit.remaining).toBe(9);
    expect((await t.graphql(tenant.connectionToken, RATE)).body.data.viewer.rateLimit.remaining).toBe(9);
    // A Bitbucket token beside the bearer token: the session's budget pays.
    const both = await t.graphql(one.token, RATE, undefined, { 'x-bitbucket-token': bitbucket.body.data.createBitbucketToken.secret });
    expect(both.body.data.viewer.rateLimit.remaining).toBe(0);
  });

  it('lets an organisation admin lower a budget, applied from the next request, and audits it', async () => {
    const tenant = await createTenant(t);
    const admin = await tenant.account({ admin: true });
    const person = await tenant.account();
    await spend(person.token, 2);
    const set = await t.graphql(admin.token, SET, { i: { orgId: tenant.orgId, session: 3, connection: 5 } });
    expect(set.body.errors).toBeUndefined();
    expect(set.body.data.setRateLimits).toEqual({ effective: { session: 3, connection: 5 }, defaults: { session: 10 }, custom: { session: 3, connection: 5 }, version: 1 });
    expect((await t.graphql(person.token, RATE)).body.data.viewer.rateLimit).toMatchObject({ limit: 3, remaining: 0 });
    expect((await t.graphql(person.token, RATE)).status).toBe(429);
    expect((await t.graphql(tenant.connectionToken, RATE)).body.data.viewer.rateLimit.limit).toBe(5);
    const [updated] = (await eventsOf(tenant.orgId)).filter((e) => e.action === 'rate-limits.updated');
    expect(updated).toMatchObject({ actor: { accountId: admin.accountId }, details: { before: { session: null }, after: { session: 3, connection: 5 } } });
    // Back to the operator's default.
    const cleared = await t.graphql(admin.token, SET, { i: { orgId: tenant.orgId, expectedVersion: 1 } });
    expect(cleared.body.data.setRateLimits.effective).toEqual({ session: 10, connection: 10 });
    expect((await t.graphql(person.token, RATE)).body.data.viewer.rateLimit).toMatchObject({ limit: 10, remaining: 6 });
  });

  it("refuses a budget above the operator's default, a stale version, and anyone but an organisation admin", async () => {
    const tenant = await createTenant(t);
    const admin = await tenant.account({ admin: true });
    const above = await t.graphql(admin.token, SET, { i: { orgId: tenant.orgId, session: 11 } });
    expect(above.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'ABOVE_DEFAULT_RATE_LIMIT' });
    const zero = await t.graphql(admin.token, SET, { i: { orgId: tenant.orgId, session: 0 } });
    expect(zero.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_RATE_LIMIT' });
    const stale = await t.graphql(admin.token, SET, { i: { orgId: tenant.orgId, session: 5, expectedVersion: 3 } });
    expect(codeOf(stale)).toBe('CONFLICT');
    const person = await tenant.account();
    expect(codeOf(await t.graphql(person.token, SET, { i: { orgId: tenant.orgId, session: 1 } }))).toBe('FORBIDDEN');
    // An admin's twg session does not reach admin fields either (PRODUCT §5).
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    expect(codeOf(await t.graphql(adminOnCli.token, SET, { i: { orgId: tenant.orgId, session: 1 } }))).toBe('FORBIDDEN');
    const other = await createTenant(t, 'Other');
    expect(codeOf(await t.graphql(admin.token, SET, { i: { orgId: other.orgId, session: 1 } }))).toBe('FORBIDDEN');
    const read = await t.graphql(admin.token, 'query($id: ID!) { organization(id: $id) { rateLimits { effective { session } version } } }', { id: tenant.orgId });
    expect(read.body.data.organization.rateLimits).toEqual({ effective: { session: 10 }, version: 0 });
  });

  it('shares one budget between two apps over one database, also when they are asked at once', async () => {
    const second = createApp({ db: t.db, changes: t.handle.changes, clock: t.clock, publicUrl: TEST_ORIGIN, rateLimitBudgets: BUDGETS, logger: createLogger('error', () => {}) });
    const ask = (app: typeof second, token: string) =>
      app.fetch(new Request(`${TEST_ORIGIN}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: RATE }) }));
    const tenant = await createTenant(t);
    const { token } = await tenant.account();
    const taking = [];
    for (let i = 0; i < 8; i++) taking.push(ask(t.app, token), ask(second, token));
    const statuses = (await Promise.all(taking)).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    expect((await ask(second, token)).status).toBe(429);
    expect((await ask(t.app, token)).status).toBe(429);
  });
});

describe('the operator\'s defaults', () => {
  it('reads TEAMGRAPH_RATE_LIMIT_* and refuses a budget that is not a whole number of points of at least 1', () => {
    expect(loadConfig({}).rateLimitBudgets).toEqual({ session: 5000, adminApiKey: 5000, bitbucketToken: 5000, connection: 15000 });
    expect(loadConfig({ TEAMGRAPH_RATE_LIMIT_SESSION: '800', TEAMGRAPH_RATE_LIMIT_CONNECTION: '40000' }).rateLimitBudgets).toMatchObject({ session: 800, connection: 40000, adminApiKey: 5000 });
    for (const bad of ['0', '-5', '1.5', 'lots']) {
      expect(() => loadConfig({ TEAMGRAPH_RATE_LIMIT_ADMIN_API_KEY: bad }), bad).toThrow(/TEAMGRAPH_RATE_LIMIT_ADMIN_API_KEY must be a whole number of points per hour of at least 1/);
    }
  });
});
