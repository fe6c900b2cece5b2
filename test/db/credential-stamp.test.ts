// Issue 18: on Citus a cached credential's barrier is its organisation's credential stamp
// (src/modules/session/credentials/stamp-feed.ts), so every change to a table a credential lookup
// reads must raise the stamp, whoever writes it (migration 027), except a credential's last use
// (migration 028). Each table is changed here straight in the database, as another process would.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inRequestTransaction } from '../../src/db/request-transaction.ts';
import { SessionRepository } from '../../src/modules/session/session.repository.ts';
import { createTenant, isCredentialLookup, startTestApp, type TestApp } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

/** What the session, admin-key and Bitbucket-token lookups read besides principal_version. */
const SOURCES = ['session', 'access_token', 'account', 'connection', 'cli_settings', 'ip_allowlist', 'admin_api_key', 'bitbucket_token', 'rate_limit_setting'];

/** Where a credential's last use is written, and how (migration 028). */
const LAST_USE: Record<string, string> = {
  session: `last_used_at = now(), last_ip = '192.0.2.7'`,
  admin_api_key: 'last_used_at = now()',
  bitbucket_token: 'last_used_at = now()',
};

let t: TestApp;
beforeAll(async () => {
  if (onCitus()) t = await startTestApp();
});
afterAll(() => t?.close());

describe.runIf(onCitus())('the credential stamp on Citus', () => {
  it('rises with a change to each table a credential lookup reads, made outside the server', async () => {
    const tenant = await createTenant(t, 'Stamped');
    const admin = await tenant.account({ admin: true });
    const person = await tenant.account();
    const key = await t.graphql(admin.token, 'mutation($i: CreateAdminApiKeyInput!) { createAdminApiKey(input: $i) { secret } }', { i: { orgId: tenant.orgId, name: 'stamp' } });
    expect(key.body.errors).toBeUndefined();
    const bitbucket = await t.graphql(person.token, 'mutation { createBitbucketToken(input: { label: "stamp", scopes: ["repository:read"] }) { secret } }');
    expect(bitbucket.body.errors).toBeUndefined();
    await sql`insert into cli_settings (org_id, allow_all_by_default, selected_permissions, version, updated_at) values (${tenant.orgId}, true, '{}', 1, now())`.execute(t.db);
    await sql`insert into ip_allowlist (org_id, enabled, rules, locations, version, updated_at, updated_by) values (${tenant.orgId}, false, '[]', '{}', 1, now(), ${admin.accountId})`.execute(t.db);
    await sql`insert into rate_limit_setting (org_id, version, updated_at, updated_by) values (${tenant.orgId}, 1, now(), ${admin.accountId})`.execute(t.db);

    const stamp = () => new SessionRepository(t.db).credentialStamp(tenant.orgId);
    for (const table of SOURCES.filter((source) => !(source in LAST_USE))) {
      // A column outside the key, set to itself: a change of nothing still runs the triggers.
      const { rows } = await sql<{ column: string }>`
        select a.attname as column from pg_attribute a
        where a.attrelid = ${table}::regclass and a.attnum > 0 and not a.attisdropped
          and a.attnum <> all ((select conkey from pg_constraint where conrelid = ${table}::regclass and contype = 'p')::smallint[])
        order by a.attnum limit 1`.execute(t.db);
      const before = await stamp();
      const { numAffectedRows } = await sql`update ${sql.table(table)} set ${sql.ref(rows[0].column)} = ${sql.ref(rows[0].column)} where org_id = ${tenant.orgId}`.execute(t.db);
      expect(Number(numAffectedRows), table).toBeGreaterThan(0);
      expect(await stamp(), table).not.toBe(before);
    }
    // Where a credential's last use is written, an update raises the stamp only when it changes
    // something else (migration 028).
    for (const [table, use] of Object.entries(LAST_USE)) {
      const before = await stamp();
      await sql`update ${sql.table(table)} set ${sql.raw(use)} where org_id = ${tenant.orgId}`.execute(t.db);
      expect(await stamp(), table).toBe(before);
      await sql`update ${sql.table(table)} set revoked_at = now() where org_id = ${tenant.orgId}`.execute(t.db);
      expect(await stamp(), table).not.toBe(before);
    }
    // Inserts and deletes run the same function (migration 027).
    const { rows: triggers } = await sql<{ table: string; count: number }>`
      select tgrelid::regclass::text as table, count(*)::int as count from pg_trigger
      where tgfoid = 'bump_credential_stamp'::regproc group by 1`.execute(t.db);
    expect(Object.fromEntries(triggers.map((r) => [r.table, r.count]))).toEqual(Object.fromEntries(SOURCES.map((table) => [table, 3])));
  });

  it("writes a person's last use while an admin deactivates them, without a deadlock", async () => {
    const tenant = await createTenant(t, 'Deadlock');
    const { accountId } = await tenant.account();
    const { rows } = await sql<{ id: string }>`select id from session where account_id = ${accountId}`.execute(t.db);
    const sessionId = rows[0].id;
    // The last use's own wait only: other test files may be waiting for locks meanwhile.
    const waits = async () => Number((await sql<{ n: number }>`select count(*)::int as n from citus_lock_waits where blocked_statement like '%192.0.2.8%'`.execute(t.db)).rows[0].n);
    // The admin's transaction takes the organisation's stamp first (the account), then the
    // person's sessions; the last use, written meanwhile, takes the session. Had the last use
    // raised the stamp too, it would now wait for the admin, and the admin for it.
    await t.db.transaction().execute(async (admin) => {
      await sql`update account set active = false where org_id = ${tenant.orgId} and id = ${accountId}`.execute(admin);
      const lastUse = sql`update session set last_used_at = now(), last_ip = '192.0.2.8' where org_id = ${tenant.orgId} and id = ${sessionId}`.execute(t.db);
      let settled = false;
      void lastUse.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Until the last use is written or waits for a lock (each poll is a round trip).
      while (!settled && (await waits()) === 0);
      await sql`update session set revoked_at = now() where org_id = ${tenant.orgId} and account_id = ${accountId}`.execute(admin);
      await lastUse;
    });
    const { rows: after } = await sql<{ revoked: boolean; used: string }>`select revoked_at is not null as revoked, last_ip as used from session where id = ${sessionId}`.execute(t.db);
    expect(after[0]).toEqual({ revoked: true, used: '192.0.2.8' });
  });

  it('reads the stamp outside the transaction of the request that asks for it', async () => {
    const tenant = await createTenant(t, 'Outside');
    const { token } = await tenant.account();
    const viewer = '{ viewer { grantedPermissions } }';
    const lookups = () => t.statements.filter(isCredentialLookup).length;
    for (let i = 0; i < 3; i++) expect((await t.graphql(token, viewer)).status).toBe(200);
    // A barrier asked for inside a transaction that raised the stamp and then rolled back: read
    // there, it would have taken the uncommitted stamp as the last one, and the next request's
    // barrier would drop the cached session again.
    await expect(
      inRequestTransaction(t.db, async () => {
        await sql`update session set scopes = scopes where org_id = ${tenant.orgId}`.execute(t.db);
        expect(await t.app.services.credentials.barrier(tenant.orgId)).toBe(true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    t.statements.length = 0;
    expect((await t.graphql(token, viewer)).status).toBe(200);
    expect(lookups()).toBe(0);
  });
});

