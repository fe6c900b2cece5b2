import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { createCatalog, defaultCatalog } from '../../src/modules/cli-permission/catalog.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, TEST_ORIGIN } from '../support/app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const SETTINGS = '{ allowAllByDefault selectedPermissions effectivePermissions version categories { category permissions { permission { key } allowed } } }';
const UPDATE = `mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount settings ${SETTINGS} } }`;
const ALL = defaultCatalog.permissions.map((p) => p.key);

async function setup() {
  const tenant = await createTenant(t);
  const admin = await tenant.account({ admin: true });
  const user = await tenant.account();
  await tenant.ingest('setObjects', { objects: [objectInput('W-1'), objectInput('DOC', { type: 'graph:document' })] });
  const ids = (await t.graphql(user.token, '{ objects { edges { node { id type } } } }')).body.data.objects.edges.map((e: any) => e.node);
  return { tenant, admin, user, workItem: ids.find((o: any) => o.type === 'jira:work-item').id, document: ids.find((o: any) => o.type === 'graph:document').id };
}

function save(tenant: Tenant, token: string, input: Record<string, unknown>) {
  return t.graphql(token, UPDATE, { i: { orgId: tenant.orgId, revokeSessions: false, ...input } });
}

describe('CLI permission settings', () => {
  it('allows the whole catalogue by default', async () => {
    const { tenant, admin } = await setup();
    const r = await t.graphql(admin.token, `query($id: ID!) { organization(id: $id) { cliSettings ${SETTINGS} } }`, { id: tenant.orgId });
    const settings = r.body.data.organization.cliSettings;
    expect(settings).toMatchObject({ allowAllByDefault: true, selectedPermissions: [], version: 0 });
    expect(settings.effectivePermissions).toEqual(ALL);
    expect(settings.categories.map((c: any) => c.category)).toEqual(['READ', 'WRITE_AND_MANAGE', 'DELETE']);
    expect(settings.categories.flatMap((c: any) => c.permissions).every((p: any) => p.allowed)).toBe(true);
  });

  it('starts the selection as the whole catalogue when allow-all is first turned off', async () => {
    const { tenant, admin, user, workItem } = await setup();
    const r = await save(tenant, admin.token, { allowAllByDefault: false, expectedVersion: 0 });
    expect(r.body.data.updateCliPermissions.settings).toMatchObject({ allowAllByDefault: false, selectedPermissions: ALL, effectivePermissions: ALL, version: 1 });
    expect((await t.graphql(user.token, 'query($id: ID!) { object(id: $id) { id } }', { id: workItem })).body.data.object).not.toBeNull();
  });

  it('restricts a permission the organisation removed on the next request of an existing session, and nothing else', async () => {
    const { tenant, admin, user, workItem, document } = await setup();
    const selection = ALL.filter((key) => key !== 'read:work-item:jira');
    await save(tenant, admin.token, { allowAllByDefault: false, selectedPermissions: selection });
    const r = await t.graphql(user.token, 'query($w: ID!, $d: ID!) { w: object(id: $w) { id } d: object(id: $d) { id } objects { edges { node { type } } } viewer { effectivePermissions } }', { w: workItem, d: document });
    expect(r.body.data.w).toBeNull();
    expect(r.body.data.d).toEqual({ id: document });
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]).toMatchObject({ path: ['w'], extensions: { code: 'RESTRICTED', permission: 'read:work-item:jira', reason: 'NOT_ALLOWED_BY_ORGANIZATION' } });
    expect(r.body.errors![0].message).toContain('will not help');
    expect(r.body.data.objects.edges.map((e: any) => e.node.type)).toEqual(['graph:document']);
    expect(r.body.data.viewer.effectivePermissions).not.toContain('read:work-item:jira');
    const adminPage = await t.graphql(admin.token, 'query($w: ID!) { object(id: $w) { id } }', { w: workItem });
    expect(adminPage.body.data.object).toEqual({ id: workItem });
  });

  it('holds an admin-page session to the settings once its account is not an org admin', async () => {
    const { tenant, admin, workItem } = await setup();
    const demoted = await tenant.account({ admin: true });
    await save(tenant, admin.token, { allowAllByDefault: false, selectedPermissions: ALL.filter((key) => key !== 'read:work-item:jira') });
    const read = (token: string) => t.graphql(token, 'query($w: ID!) { object(id: $w) { id } }', { w: workItem });
    expect((await read(demoted.token)).body.data.object).toEqual({ id: workItem });
    await t.app.services.orgs.setOrgAdmin(demoted.accountId, false);
    const after = await read(demoted.token);
    expect(after.body.data.object).toBeNull();
    expect(after.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', reason: 'NOT_ALLOWED_BY_ORGANIZATION' });
  });

  it('refuses a stale expectedVersion with CONFLICT and unknown keys with BAD_USER_INPUT', async () => {
    const { tenant, admin } = await setup();
    await save(tenant, admin.token, { allowAllByDefault: false });
    const stale = await save(tenant, admin.token, { allowAllByDefault: true, expectedVersion: 0 });
    expect(stale.body.errors?.[0].extensions.code).toBe('CONFLICT');
    const unknown = await save(tenant, admin.token, { allowAllByDefault: false, selectedPermissions: ['read:everything:jira'] });
    expect(unknown.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'UNKNOWN_PERMISSION' });
  });

  it('ends every CLI session at once on save and revoke, keeping admin-page sessions', async () => {
    const { tenant, admin, user } = await setup();
    const other = await tenant.account();
    const r = await save(tenant, admin.token, { allowAllByDefault: false, selectedPermissions: [], revokeSessions: true });
    expect(r.body.data.updateCliPermissions.revokedSessionCount).toBe(2);
    for (const token of [user.token, other.token]) {
      const refused = await t.graphql(token, '{ viewer { grantedPermissions } }');
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    expect((await t.graphql(admin.token, '{ viewer { grantedPermissions } }')).status).toBe(200);
  });

  it("revokes one account's CLI sessions", async () => {
    const { tenant, admin, user } = await setup();
    const other = await tenant.account();
    const r = await t.graphql(admin.token, 'mutation($i: RevokeCliSessionsInput!) { revokeCliSessions(input: $i) { revokedSessionCount } }', { i: { orgId: tenant.orgId, accountId: user.accountId } });
    expect(r.body.data.revokeCliSessions.revokedSessionCount).toBe(1);
    expect((await t.graphql(user.token, '{ viewer { grantedPermissions } }')).status).toBe(401);
    expect((await t.graphql(other.token, '{ viewer { grantedPermissions } }')).status).toBe(200);
  });

  it("keeps admin mutations from an admin's CLI session, from non-admins and from other organisations", async () => {
    const { tenant, admin, user } = await setup();
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    expect((await save(tenant, adminOnCli.token, { allowAllByDefault: false })).body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await save(tenant, user.token, { allowAllByDefault: false })).body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const other = await createTenant(t, 'Other');
    expect((await save(other, admin.token, { allowAllByDefault: false })).body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('allows permissions added to the catalogue later only while allow-all is on', async () => {
    const { tenant, admin } = await setup();
    const custom = await createTenant(t, 'Custom');
    const customAdmin = await custom.account({ admin: true });
    await save(custom, customAdmin.token, { allowAllByDefault: false });
    const extra = { key: 'read:comment:jira', category: 'READ' as const, product: 'jira' as const, description: 'Read comments.', introducedInCatalogVersion: 3 };
    const later = createApp({ db: t.db, clock: t.clock, publicUrl: TEST_ORIGIN, catalog: createCatalog(defaultCatalog.objectTypes, [...defaultCatalog.permissions, extra]) });
    const settingsOf = async (orgId: string, token: string) => {
      const response = await later.fetch(
        new Request('http://teamgraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: 'query($id: ID!) { organization(id: $id) { cliSettings { effectivePermissions } } }', variables: { id: orgId } }),
        }),
      );
      return (await response.json()).data.organization.cliSettings.effectivePermissions as string[];
    };
    expect(await settingsOf(tenant.orgId, admin.token)).toContain('read:comment:jira');
    expect(await settingsOf(custom.orgId, customAdmin.token)).not.toContain('read:comment:jira');
  });
});
