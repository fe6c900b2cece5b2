// Credential lookups are cached across requests (issue 3's overhead target; on Citus too, issue
// 18), yet a change made anywhere, even by another process writing the database directly, applies
// to the next request.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChangeFeed } from '../../src/db/change-feed.ts';
import { createTenant, isCredentialLookup, isCredentialStampRead, objectInput, startTestApp, type TestApp } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const VIEWER = '{ viewer { effectivePermissions } }';
const lookups = () => t.statements.filter(isCredentialLookup).length;

describe('the credential cache', () => {
  const stampReads = () => t.statements.filter(isCredentialStampRead).length;

  it('serves repeated requests of a token without reading it again', async () => {
    const tenant = await createTenant(t, 'Cached');
    const { token } = await tenant.account();
    // On Citus the organisation's first barrier drops what was cached before it.
    for (let i = 0; i < 2; i++) expect((await t.graphql(token, VIEWER)).status).toBe(200);
    t.statements.length = 0;
    for (let i = 0; i < 5; i++) expect((await t.graphql(token, VIEWER)).status).toBe(200);
    expect(lookups()).toBe(0);
    // On Citus each request's barrier is one read of the organisation's credential stamp.
    expect(stampReads()).toBe(onCitus() ? 5 : 0);
  });

  it("writes a credential's last use once a minute, and that drops nothing (migration 028)", async () => {
    const tenant = await createTenant(t, 'LastUse');
    const { token } = await tenant.account();
    const touches = () => t.statements.filter((s) => s.startsWith('update "session"') && s.includes('"last_used_at"')).length;
    // The first use is written; on Citus the organisation's first barrier drops what it cached.
    for (let i = 0; i < 2; i++) expect((await t.graphql(token, VIEWER)).status).toBe(200);
    t.clock.advance(61_000);
    t.statements.length = 0;
    expect((await t.graphql(token, VIEWER)).status).toBe(200);
    // Written once, and the request ran once: nothing dropped the cached row it ran on.
    expect(touches()).toBe(1);
    expect(lookups()).toBe(0);
    t.statements.length = 0;
    for (let i = 0; i < 3; i++) expect((await t.graphql(token, VIEWER)).status).toBe(200);
    // Neither written again (the cached row took the time written) nor read again (nothing dropped it).
    expect(touches()).toBe(0);
    expect(lookups()).toBe(0);
  });

  it('refuses the next request after a change written straight to the database, as another process would', async () => {
    const tenant = await createTenant(t, 'Direct');
    for (let round = 0; round < 50; round++) {
      const { accountId, token } = await tenant.account();
      expect((await t.graphql(token, VIEWER)).status).toBe(200);
      expect((await t.graphql(token, VIEWER)).status).toBe(200);
      if (round % 2 === 0) await sql`update session set revoked_at = now() where account_id = ${accountId}`.execute(t.db);
      else await sql`update account set active = false where id = ${accountId}`.execute(t.db);
      const next = await t.graphql(token, VIEWER);
      expect(next.status, `round ${round}`).toBe(401);
    }
  });

  it('applies a settings change written straight to the database to the next request', async () => {
    const tenant = await createTenant(t, 'Settings');
    const { token } = await tenant.account({ scopes: ['read:work-item:jira', 'read:page:confluence'] });
    expect((await t.graphql(token, VIEWER)).body.data.viewer.effectivePermissions.sort()).toEqual(['read:page:confluence', 'read:work-item:jira']);
    expect((await t.graphql(token, VIEWER)).status).toBe(200);
    await sql`insert into cli_settings (org_id, allow_all_by_default, selected_permissions, version, updated_at)
      values (${tenant.orgId}, false, ${['read:page:confluence']}::text[], 1, now())`.execute(t.db);
    expect((await t.graphql(token, VIEWER)).body.data.viewer.effectivePermissions).toEqual(['read:page:confluence']);
  });
});

/**
 * Hands notifications over as late as PostgreSQL may: only at the next barrier. The app then goes
 * ahead on a cached row that a change committed before the request has already made stale, as it
 * does on PostgreSQL when the notification is still on its way.
 */
function lateFeed(changes: ChangeFeed): ChangeFeed & { held: number } {
  const held: (() => void)[] = [];
  return {
    get held() {
      return held.length;
    },
    listen: (channel, onMessage, onState) => changes.listen(channel, (payload) => held.push(() => onMessage(payload)), onState),
    async sync(orgId) {
      await changes.sync(orgId);
      for (const deliver of held.splice(0)) deliver();
    },
    state: () => changes.state(),
  };
}

describe.skipIf(onCitus())('credentials used before their barrier confirms them', () => {
  let late: TestApp;
  let feed: ReturnType<typeof lateFeed>;
  beforeAll(async () => {
    late = await startTestApp({ feed: (changes) => (feed = lateFeed(changes)) });
    // On PostgreSQL the feed connects once the app follows it; a barrier before then finds it down.
    await vi.waitFor(() => expect(feed.state()).not.toBe('down'), { timeout: 10_000 });
  });
  afterAll(() => late.close());

  const OBJECT = 'query ($id: ID!) { object(id: $id) { displayName } }';
  const CREATE_TOKEN = 'mutation { createBitbucketToken(input: { label: "late", scopes: ["repository:read"] }) { secret } }';
  const events = async (accountId: string) =>
    (await sql<{ outcome: string; status: number }>`select outcome, (event_json::jsonb ->> 'statusCode')::int as status from audit_event where actor_account_id = ${accountId} order by seq`.execute(late.db)).rows;
  const chainReads = () => late.statements.filter((s) => s.includes('with recursive chain')).length;

  /** An account whose token's row is cached, with nothing held back; an object it sees; its audit events so far. */
  async function cachedAccount(name: string) {
    const tenant = await createTenant(late, name);
    await tenant.ingest('setObjects', { objects: [objectInput(`${name}-1`)] });
    const { accountId, token } = await tenant.account();
    // The first request caches the row; once nothing is held back, the next one relies on it.
    expect((await late.graphql(token, VIEWER)).status).toBe(200);
    await feed.sync(tenant.orgId);
    const id = (await late.graphql(token, '{ objects(first: 1) { edges { node { id } } } }')).body.data.objects.edges[0].node.id;
    expect(feed.held).toBe(0);
    return { tenant, accountId, token, id, before: (await events(accountId)).length };
  }

  /** A change written straight to the database, as another process would, whose notification is on its way. */
  async function changeElsewhere(change: { execute(db: TestApp['db']): Promise<unknown> }) {
    await change.execute(late.db);
    // Heard by this process (at once on the embedded database) and held back.
    await expect.poll(() => feed.held).toBeGreaterThan(0);
    late.statements.length = 0;
  }

  it('answers 401, and audits only that, when the barrier shows the session was revoked', async () => {
    const { accountId, token, id, before } = await cachedAccount('LateRevoke');
    await changeElsewhere(sql`update session set revoked_at = now() where account_id = ${accountId}`);
    const refused = await late.graphql(token, OBJECT, { id });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    // The request did run on the stale row, and its answer was thrown away.
    expect(chainReads()).toBe(1);
    expect((await events(accountId)).slice(before)).toEqual([{ outcome: 'UNAUTHENTICATED', status: 401 }]);
  });

  it('runs no mutation on a stale row', async () => {
    const { accountId, token } = await cachedAccount('LateMutation');
    await changeElsewhere(sql`update account set active = false where id = ${accountId}`);
    const refused = await late.graphql(token, CREATE_TOKEN);
    expect(refused.status).toBe(401);
    expect(await late.db.selectFrom('bitbucket_token').select('id').where('account_id', '=', accountId).execute()).toEqual([]);
  });

  it('charges a request it runs twice to the rate limit once', async () => {
    const { tenant, token, id } = await cachedAccount('LateCharge');
    const query = 'query ($id: ID!) { viewer { rateLimit { cost remaining } } object(id: $id) { displayName } }';
    const first = (await late.graphql(token, query, { id })).body.data.viewer.rateLimit;
    await changeElsewhere(sql`insert into cli_settings (org_id, allow_all_by_default, selected_permissions, version, updated_at)
      values (${tenant.orgId}, false, ${['read:page:confluence']}::text[], 1, now())`);
    const again = await late.graphql(token, query, { id });
    expect(chainReads()).toBe(2);
    expect(again.body.data.viewer.rateLimit).toEqual({ cost: first.cost, remaining: first.remaining - first.cost });
    expect(again.headers.get('ratelimit-remaining')).toBe(String(first.remaining - first.cost));
  });

  it('tells a request it runs twice after its budget was lowered against the new budget, charged once', async () => {
    const query = 'query ($id: ID!) { viewer { rateLimit { limit remaining } } object(id: $id) { displayName } }';
    // Lowered to `budget(spent)` while the request's first run goes ahead under the old budget.
    const lowered = async (name: string, budget: (spent: number) => number) => {
      const { tenant, accountId, token, id } = await cachedAccount(name);
      const used = async () => (await sql<{ used: number }>`select used from rate_limit_usage where org_id = ${tenant.orgId} and credential_kind = 'session'`.execute(late.db)).rows[0].used;
      const spent = await used();
      await changeElsewhere(sql`insert into rate_limit_setting (org_id, session_points, version, updated_at, updated_by) values (${tenant.orgId}, ${budget(spent)}, 1, now(), ${accountId})`);
      const response = await late.graphql(token, query, { id });
      return { response, spent, after: await used() };
    };
    // To what this request brings it to: it fits, with nothing left.
    const fits = await lowered('LateBudgetFits', (spent) => spent + 1);
    // Run on the old budget, this answer would tell the operator's default.
    expect(fits.response.body.data.viewer.rateLimit).toEqual({ limit: fits.spent + 1, remaining: 0 });
    expect(fits.after).toBe(fits.spent + 1);
    // Below it: refused on the second run, and the point the first run spent is not charged twice.
    const over = await lowered('LateBudgetOver', (spent) => spent);
    expect(over.response.status).toBe(429);
    expect(over.after).toBe(over.spent + 1);
  });

  it('runs the request again from what it parsed when the change leaves the token working', async () => {
    const { tenant, accountId, token, id, before } = await cachedAccount('LateSettings');
    // Work items are no longer allowed; pages still are.
    await changeElsewhere(sql`insert into cli_settings (org_id, allow_all_by_default, selected_permissions, version, updated_at)
      values (${tenant.orgId}, false, ${['read:page:confluence']}::text[], 1, now())`);
    const restricted = await late.graphql(token, OBJECT, { id });
    expect(restricted.status).toBe(200);
    expect(restricted.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', reason: 'NOT_ALLOWED_BY_ORGANIZATION' });
    expect(chainReads()).toBe(2);
    expect((await events(accountId)).slice(before)).toEqual([{ outcome: 'RESTRICTED', status: 200 }]);

    // A body that does not parse fails the same way on the second run, audited once.
    await changeElsewhere(sql`update cli_settings set version = 2 where org_id = ${tenant.orgId}`);
    const malformed = await late.app.fetch(
      new Request('http://teamgraph.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"query": ' }),
    );
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await events(accountId)).slice(before + 1)).toEqual([{ outcome: 'ERROR', status: 400 }]);

    // A mutation runs once, on the fresh row.
    await changeElsewhere(sql`update cli_settings set allow_all_by_default = true, version = 3 where org_id = ${tenant.orgId}`);
    const created = await late.graphql(token, CREATE_TOKEN);
    expect(created.body.errors).toBeUndefined();
    expect(await late.db.selectFrom('bitbucket_token').select('id').where('account_id', '=', accountId).execute()).toHaveLength(1);
  });
});
