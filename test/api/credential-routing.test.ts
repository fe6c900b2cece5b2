// Issue 18: a credential names its organisation, so its lookup reads that organisation's rows only
// (one shard on Citus); one issued before credentials named it is still found, in any organisation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOrgSecret, orgIdIn, sha256 } from '../../src/shared/secrets.ts';
import { createTenant, startTestApp, type Tenant, type TestApp } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t);
});
afterAll(() => t.close());

const VIEWER = '{ viewer { account { id } } }';

describe('credentials that name their organisation', () => {
  it('issues tokens that name the organisation, and refuses one whose organisation part was changed', async () => {
    const { accountId, token } = await tenant.account();
    expect(token).toMatch(new RegExp(`^twg_${tenant.orgId}\\.[A-Za-z0-9_-]{43}$`));
    expect((await t.graphql(token, VIEWER)).body.data.viewer.account.id).toBe(accountId);

    const other = await createTenant(t, 'Other');
    const moved = token.replace(tenant.orgId, other.orgId);
    const refused = await t.graphql(moved, VIEWER);
    expect(refused.status).toBe(401);
  });

  it('still accepts a token issued before tokens named their organisation', async () => {
    const { accountId, token } = await tenant.account();
    const legacy = `twg_${token.slice(token.indexOf('.') + 1)}`;
    // Re-key the stored token as the earlier format stored it: the hash of the whole presented string.
    await t.db.updateTable('access_token').set({ token_hash: sha256(legacy) }).where('token_hash', '=', sha256(token)).execute();
    expect((await t.graphql(legacy, VIEWER)).body.data.viewer.account.id).toBe(accountId);
    expect((await t.graphql(token, VIEWER)).status).toBe(401);
  });
});

describe('orgIdIn', () => {
  const org = 'org_M2bL1RKTZu4XUMBfbUO-Fw';
  it('finds the organisation a secret or a client id names, and none in an older credential', () => {
    expect(orgIdIn(newOrgSecret('twg_', org))).toBe(org);
    expect(orgIdIn(newOrgSecret('', org))).toBe(org);
    expect(orgIdIn(`jira-${org}.conn_FF91C3HKeDOkB3omnD1yCQ`)).toBe(org);
    expect(orgIdIn('twg_Q2hlZXNlIGFuZCBjcmFja2Vycy4uLiBhbmQgbW9yZQ')).toBeNull();
    expect(orgIdIn('jira-conn_FF91C3HKeDOkB3omnD1yCQ')).toBeNull();
    expect(orgIdIn(`${org}.`)).toBeNull();
    expect(orgIdIn(`twg_${org}.a.b`)).toBeNull();
    expect(orgIdIn(`${`${org}.`.repeat(500)}x y`)).toBeNull();
  });
});
