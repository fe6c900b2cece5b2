// Credential lookups are cached across requests (issue 3's overhead target), yet a change made
// anywhere, even by another process writing the database directly, applies to the next request.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const VIEWER = '{ viewer { effectivePermissions } }';
const lookups = () => t.statements.filter((s) => s.includes('"access_token"') && s.includes('token_hash')).length;

describe('the credential cache', () => {
  it('serves repeated requests of a token without reading it again', async () => {
    const tenant = await createTenant(t, 'Cached');
    const { token } = await tenant.account();
    // The first request writes the session's first use, which drops it again.
    expect((await t.graphql(token, VIEWER)).status).toBe(200);
    expect((await t.graphql(token, VIEWER)).status).toBe(200);
    t.statements.length = 0;
    for (let i = 0; i < 5; i++) expect((await t.graphql(token, VIEWER)).status).toBe(200);
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
