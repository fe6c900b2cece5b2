// Principal sets are kept across requests (src/authz/viewer-principals.ts), checked against the
// organisation's principal version that each request reads with its session. Two apps over one
// database stand for two server processes: each has its own cache, and a directory change made
// through either must show on the very next request on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createTenant, groupPrincipal, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl, TEST_ORIGIN } from '../support/app.ts';

let t: TestApp;
let other: App;
let tenant: Tenant;
let alice: { accountId: string; token: string };
const ids: Record<string, string> = {};

async function sees(app: App, objectId: string): Promise<{ single: boolean; listed: boolean }> {
  const response = await app.fetch(
    new Request('http://teamgraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'query ($id: ID!) { object(id: $id) { id } objects(first: 100) { edges { node { id } } } }', variables: { id: objectId } }),
    }),
  );
  const body = await response.json();
  expect(body.errors).toBeUndefined();
  return { single: body.data.object?.id === objectId, listed: body.data.objects.edges.some((e: any) => e.node.id === objectId) };
}

/** Asks both processes (so both cache the current set), then again after `change`. */
async function expectOnBothAfter(objectId: string, change: () => Promise<unknown>, visible: boolean) {
  for (const app of [t.app, other]) await sees(app, objectId);
  await change();
  for (const app of [t.app, other]) expect(await sees(app, objectId)).toEqual({ single: visible, listed: visible });
}

const accepted = (payload: any) => expect(payload.results.map((r: any) => r.status)).toEqual(payload.results.map(() => 'ACCEPTED'));
let sequence = 1;
const setGroup = async (externalId: string, members: { type: string; externalId: string }[]) =>
  accepted(await tenant.ingest('setGroups', { groups: [{ externalId, members, updateSequenceNumber: ++sequence }] }));

beforeAll(async () => {
  t = await startTestApp();
  other = createApp({ db: t.db, clock: t.clock, logger: createLogger('error'), publicUrl: TEST_ORIGIN });
  tenant = await createTenant(t);
  alice = await tenant.account({ member: false });
  accepted(await tenant.ingest('setUsers', { users: ['u-alice', 'u-spare'].map((externalId) => ({ externalId, updateSequenceNumber: 1 })) }));
  await setGroup('team', [{ type: 'USER', externalId: 'u-alice' }]);
  await setGroup('department', [{ type: 'GROUP', externalId: 'team' }]);
  accepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'u-alice', accountId: alice.accountId, updateSequenceNumber: 1 }] }));
  const payload = await tenant.ingest('setObjects', {
    objects: [
      objectInput('by-group', { permissions: viewAcl([groupPrincipal('department')]) }),
      objectInput('by-spare', { permissions: viewAcl([userPrincipal('u-spare')]) }),
      objectInput('by-site'),
    ],
  });
  accepted(payload);
  const rows = await t.db.selectFrom('graph_object').select(['id', 'external_id']).where('org_id', '=', tenant.orgId).execute();
  for (const row of rows) ids[row.external_id] = row.id;
});
afterAll(() => t.close());

describe('principal sets kept across requests', () => {
  it('starts from what the directory says', async () => {
    for (const app of [t.app, other]) {
      expect(await sees(app, ids['by-group'])).toEqual({ single: true, listed: true });
      expect(await sees(app, ids['by-spare'])).toEqual({ single: false, listed: false });
      expect(await sees(app, ids['by-site'])).toEqual({ single: false, listed: false });
    }
  });

  it('drops a group at once when the user leaves a nested group', async () => {
    await expectOnBothAfter(ids['by-group'], () => setGroup('team', []), false);
    await expectOnBothAfter(ids['by-group'], () => setGroup('team', [{ type: 'USER', externalId: 'u-alice' }]), true);
  });

  it('drops a group at once when the connection deletes the outer group', async () => {
    await expectOnBothAfter(ids['by-group'], async () => accepted(await tenant.ingest('deleteGroups', { items: [{ externalId: 'department', updateSequenceNumber: ++sequence }] })), false);
    await expectOnBothAfter(ids['by-group'], () => setGroup('department', [{ type: 'GROUP', externalId: 'team' }]), true);
  });

  it('follows a new user link and the deletion of the linked user at once', async () => {
    await expectOnBothAfter(ids['by-spare'], async () => accepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'u-spare', accountId: alice.accountId, updateSequenceNumber: 2 }] })), true);
    await expectOnBothAfter(ids['by-spare'], async () => accepted(await tenant.ingest('deleteUsers', { items: [{ externalId: 'u-spare', updateSequenceNumber: 2 }] })), false);
  });

  it('follows site membership at once', async () => {
    await expectOnBothAfter(ids['by-site'], () => t.app.services.orgs.addSiteMember(tenant.cloudId, alice.accountId), true);
  });

  it('bumps the principal version in the transaction of every change to a source table', async () => {
    const version = async () => Number((await t.db.selectFrom('principal_version').select('version').where('org_id', '=', tenant.orgId).executeTakeFirstOrThrow()).version);
    const bob = await tenant.account({ member: true });
    const before = await version();
    await t.db.updateTable('account').set({ display_name: 'Alice' }).where('id', '=', alice.accountId).execute();
    await t.db.updateTable('group_member').set({ member_external_id: 'u-alice' }).where('org_id', '=', tenant.orgId).execute();
    await t.db.deleteFrom('site_member').where('account_id', '=', bob.accountId).execute();
    await t.db.updateTable('user_link').set({ source: 'DIRECT' }).where('org_id', '=', tenant.orgId).execute();
    await t.db.updateTable('external_user').set({ display_name: 'x' }).where('org_id', '=', tenant.orgId).execute();
    expect(await version()).toBe(before + 5);
    // A rolled-back change leaves it alone.
    await expect(
      t.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('group_member').where('org_id', '=', tenant.orgId).execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await version()).toBe(before + 5);
  });
});
