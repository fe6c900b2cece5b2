// Admin API keys (PRODUCT §5): created by an org admin on the admin page, the secret shown once
// and stored hashed, optional expiry, revocable; a key reaches admin fields only and is not
// governed by the CLI permission settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/shared/secrets.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const CREATE = 'mutation($i: CreateAdminApiKeyInput!) { createAdminApiKey(input: $i) { secret apiKey { id name expiresAt revokedAt createdBy { id } } } }';
const REVOKE = 'mutation($i: RevokeAdminApiKeyInput!) { revokeAdminApiKey(input: $i) { apiKey { id revokedAt } } }';
const SETTINGS = 'query($id: ID!) { organization(id: $id) { cliSettings { allowAllByDefault version updatedBy { id } } } }';
const UPDATE = 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount settings { version } } }';

async function tenantWithKey(expiresAt?: string) {
  const tenant = await createTenant(t);
  const admin = await tenant.account({ admin: true });
  const created = await t.graphql(admin.token, CREATE, { i: { orgId: tenant.orgId, name: 'nightly export', ...(expiresAt ? { expiresAt } : {}) } });
  expect(created.body.errors).toBeUndefined();
  return { tenant, admin, key: created.body.data.createAdminApiKey as { secret: string; apiKey: { id: string; createdBy: { id: string } } } };
}

const codeOf = (r: { body: { errors?: { extensions: Record<string, any> }[] } }) => r.body.errors?.[0]?.extensions.code;

describe('admin API keys', () => {
  it('returns the secret once, stores only its SHA-256, and lists the key without it', async () => {
    const { tenant, admin, key } = await tenantWithKey();
    expect(key.secret).toMatch(/^twgk_org_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(key.apiKey.createdBy.id).toBe(admin.accountId);
    const row = await t.db.selectFrom('admin_api_key').selectAll().where('id', '=', key.apiKey.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(sha256(key.secret));
    expect(JSON.stringify(row)).not.toContain(key.secret.slice(5));
    const listed = await t.graphql(admin.token, 'query($id: ID!) { organization(id: $id) { adminApiKeys { id name lastUsedAt } } }', { id: tenant.orgId });
    expect(listed.body.data.organization.adminApiKeys).toEqual([{ id: key.apiKey.id, name: 'nightly export', lastUsedAt: null }]);
    const fields = await t.graphql(admin.token, '{ __type(name: "AdminApiKey") { fields { name } } }');
    expect(fields.body.data.__type.fields.map((f: any) => f.name)).not.toContain('secret');
  });

  it('reaches admin fields and mutations, acting for the admin who created it', async () => {
    const { tenant, admin, key } = await tenantWithKey();
    const saved = await t.graphql(key.secret, UPDATE, { i: { orgId: tenant.orgId, allowAllByDefault: false, revokeSessions: false } });
    expect(saved.body.errors).toBeUndefined();
    const read = await t.graphql(key.secret, SETTINGS, { id: tenant.orgId });
    expect(read.body.data.organization.cliSettings).toEqual({ allowAllByDefault: false, version: 1, updatedBy: { id: admin.accountId } });
    const listed = await t.graphql(admin.token, 'query($id: ID!) { organization(id: $id) { adminApiKeys { lastUsedAt } } }', { id: tenant.orgId });
    expect(listed.body.data.organization.adminApiKeys[0].lastUsedAt).not.toBeNull();
  });

  it('is not governed by the CLI permission settings, even when they block everything', async () => {
    const { tenant, admin, key } = await tenantWithKey();
    const blocked = await t.graphql(admin.token, UPDATE, { i: { orgId: tenant.orgId, allowAllByDefault: false, selectedPermissions: [], revokeSessions: true } });
    expect(blocked.body.errors).toBeUndefined();
    const read = await t.graphql(key.secret, SETTINGS, { id: tenant.orgId });
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data.organization.cliSettings.allowAllByDefault).toBe(false);
  });

  it('reaches nothing but admin fields: no objects, no ingestion, no other organisation', async () => {
    const { tenant, key } = await tenantWithKey();
    const user = await tenant.account();
    await tenant.ingest('setObjects', { objects: [objectInput('K-1')] });
    const objectId = (await t.graphql(user.token, '{ objects { edges { node { id } } } }')).body.data.objects.edges[0].node.id;
    const list = await t.graphql(key.secret, '{ objects { edges { node { id } } } }');
    expect(list.body.data?.objects ?? null).toBeNull();
    expect(['FORBIDDEN', 'RESTRICTED']).toContain(codeOf(list));
    const single = await t.graphql(key.secret, 'query($id: ID!) { object(id: $id) { id } }', { id: objectId });
    expect(single.body.data?.object ?? null).toBeNull();
    const ingest = await t.graphql(key.secret, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', {
      i: { connectionId: tenant.connectionId, objects: [objectInput('K-2')] },
    });
    expect(codeOf(ingest)).toBe('FORBIDDEN');
    const other: Tenant = await createTenant(t, 'Other');
    const foreign = await t.graphql(key.secret, SETTINGS, { id: other.orgId });
    expect(foreign.body.data?.organization ?? null).toBeNull();
  });

  it('is created only by a person: not by a key, a twg-cli session or a non-admin', async () => {
    const { tenant, admin, key } = await tenantWithKey();
    const input = { i: { orgId: tenant.orgId, name: 'second' } };
    expect(codeOf(await t.graphql(key.secret, CREATE, input))).toBe('FORBIDDEN');
    const adminCli = await tenant.account({ admin: true, client: 'twg-cli' });
    expect(codeOf(await t.graphql(adminCli.token, CREATE, input))).toBe('FORBIDDEN');
    const member = await tenant.account({ client: 'teamgraph-admin' });
    expect(codeOf(await t.graphql(member.token, CREATE, input))).toBe('FORBIDDEN');
    const bad = await t.graphql(admin.token, CREATE, { i: { orgId: tenant.orgId, name: '   ' } });
    expect(bad.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_NAME' });
  });

  it('stops working when the admin who created it is deactivated', async () => {
    const { tenant, admin, key } = await tenantWithKey();
    expect((await t.graphql(key.secret, SETTINGS, { id: tenant.orgId })).status).toBe(200);
    await t.app.services.orgs.setAccountActive(admin.accountId, false);
    const after = await t.graphql(key.secret, SETTINGS, { id: tenant.orgId });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('stops working at once when revoked, and at its expiry', async () => {
    const { tenant, admin, key } = await tenantWithKey();
    const revoked = await t.graphql(admin.token, REVOKE, { i: { orgId: tenant.orgId, id: key.apiKey.id } });
    expect(revoked.body.data.revokeAdminApiKey.apiKey.revokedAt).not.toBeNull();
    const after = await t.graphql(key.secret, SETTINGS, { id: tenant.orgId });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

    const past = await t.graphql(admin.token, CREATE, { i: { orgId: tenant.orgId, name: 'old', expiresAt: '2020-01-01T00:00:00Z' } });
    expect(past.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_EXPIRY' });

    const inAnHour = new Date(t.clock.now().getTime() + 3600_000).toISOString();
    const { tenant: second, key: expiring } = await tenantWithKey(inAnHour);
    expect((await t.graphql(expiring.secret, SETTINGS, { id: second.orgId })).status).toBe(200);
    t.clock.advance(3600_000);
    expect((await t.graphql(expiring.secret, SETTINGS, { id: second.orgId })).status).toBe(401);
  });
});
