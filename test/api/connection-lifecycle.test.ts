// The connection lifecycle (issue 5): a disabled connection's objects are invisible to everyone
// and its ingestion is refused until it is enabled again; a deleted connection leaves no row
// behind, in batches that can be interrupted and resumed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorAuthor } from '../../src/modules/audit/audit-event.ts';
import { copyObjects, rowsOf } from '../support/connection-rows.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const SET_ENABLED = (field: 'disableConnection' | 'enableConnection') =>
  `mutation($i: SetConnectionEnabledInput!) { ${field}(input: $i) { id enabled disabledAt } }`;
const DELETE = 'mutation($i: DeleteConnectionInput!) { deleteConnection(input: $i) { connectionId totalObjects revokedSessionCount } }';
const READ = `query($id: ID!, $c: ID!) {
  object(id: $id) { id }
  node(id: $id) { id }
  byExternal: objectByExternalId(connectionId: $c, type: "jira:work-item", externalId: "P-1") { id }
  objects(filter: { types: ["jira:work-item"] }) { edges { node { id } } }
}`;

async function tokenEndpoint(clientId: string, secret: string) {
  const response = await t.app.fetch(
    new Request('http://teamgraph.test/oauth/token', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    }),
  );
  return { status: response.status, body: (await response.json()) as { access_token?: string; error?: string; error_description?: string } };
}

/** A tenant whose connection holds a parent page and a work item in it, the item visible through a user link. */
async function tenantWithObjects(name: string) {
  const tenant = await createTenant(t, name);
  const admin = await tenant.account({ admin: true });
  const viewer = await tenant.account();
  await tenant.ingest('setUsers', { users: [{ externalId: 'u-1', updateSequenceNumber: 1 }] });
  await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'u-1', accountId: viewer.accountId, updateSequenceNumber: 1 }] });
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('PAGE', { type: 'confluence:page' }),
      objectInput('P-1', { container: { type: 'confluence:page', externalId: 'PAGE' }, permissions: viewAcl([userPrincipal('u-1')]) }),
    ],
  });
  const item = await t.graphql(viewer.token, 'query($c: ID!) { objectByExternalId(connectionId: $c, type: "jira:work-item", externalId: "P-1") { id } }', { c: tenant.connectionId });
  return { tenant, admin, viewer, itemId: item.body.data.objectByExternalId.id as string };
}

/** The organisation's audit events whose action starts with `prefix`, newest first. */
async function adminActions(token: string, orgId: string, prefix: string) {
  const r = await t.graphql(token, 'query($o: ID!) { organization(id: $o) { auditEvents(first: 100) { edges { node { action actor { accountId } event } } } } }', { o: orgId });
  return r.body.data.organization.auditEvents.edges.map((e: any) => e.node).filter((n: any) => n.action.startsWith(prefix));
}

const visibleTo = async (token: string, itemId: string, tenant: Tenant) => (await t.graphql(token, READ, { id: itemId, c: tenant.connectionId })).body.data;

describe('disabling and enabling a connection', () => {
  it('hides its objects from everyone and refuses its ingestion until it is enabled again', async () => {
    const { tenant, admin, viewer, itemId } = await tenantWithObjects('Disable');
    // A second connection of the same site stays visible throughout.
    const other = await t.app.services.orgs.createConnection(tenant.cloudId, 'github');
    const otherToken = (await t.app.services.sessions.issue({ orgId: tenant.orgId, connectionId: other.connectionId }, other.clientId, [])).accessToken;
    await t.graphql(otherToken, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', { i: { connectionId: other.connectionId, objects: [objectInput('G-1')] } });
    const before = await visibleTo(viewer.token, itemId, tenant);
    expect(before.object).toEqual({ id: itemId });
    expect(before.objects.edges).toHaveLength(2);

    const disabled = await t.graphql(admin.token, SET_ENABLED('disableConnection'), { i: { orgId: tenant.orgId, connectionId: tenant.connectionId } });
    expect(disabled.body.data.disableConnection).toMatchObject({ id: tenant.connectionId, enabled: false });

    const hidden = await visibleTo(viewer.token, itemId, tenant);
    expect(hidden).toMatchObject({ object: null, node: null, byExternal: null });
    expect(hidden.objects.edges).toHaveLength(1);
    expect(hidden.objects.edges.map((e: any) => e.node.id)).not.toContain(itemId);
    // Admins do not see it either, not even the permissions.
    expect((await t.graphql(admin.token, 'query($id: ID!) { object(id: $id) { id } }', { id: itemId })).body.data.object).toBeNull();

    const refused = await tenant.ingest('setObjects', { objects: [objectInput('P-2')] }).catch((error: Error) => error.message);
    expect(refused).toContain('CONNECTION_DISABLED');
    const token = await tokenEndpoint(`jira-${tenant.orgId}.${tenant.connectionId}`, 'wrong-secret');
    expect(token.status).toBe(401);
    const listed = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { connections { id enabled } } }', { o: tenant.orgId });
    expect(listed.body.data.organization.connections).toContainEqual({ id: tenant.connectionId, enabled: false });

    await t.graphql(admin.token, SET_ENABLED('enableConnection'), { i: { orgId: tenant.orgId, connectionId: tenant.connectionId } });
    const back = await visibleTo(viewer.token, itemId, tenant);
    expect(back.object).toEqual({ id: itemId });
    expect(back.objects.edges).toHaveLength(2);
    expect((await tenant.ingest('setObjects', { objects: [objectInput('P-2')] })).acceptedCount).toBe(1);

    const events = await adminActions(admin.token, tenant.orgId, 'connection.');
    expect(events.map((e: any) => [e.action, e.event.details])).toEqual([
      ['connection.enabled', { connectionId: tenant.connectionId }],
      ['connection.disabled', { connectionId: tenant.connectionId }],
    ]);
  });

  it('issues no client-credentials token to a disabled connection, and says why', async () => {
    const tenant = await createTenant(t, 'NoToken');
    const admin = await tenant.account({ admin: true });
    const connection = await t.app.services.orgs.createConnection(tenant.cloudId, 'github');
    await t.graphql(admin.token, SET_ENABLED('disableConnection'), { i: { orgId: tenant.orgId, connectionId: connection.connectionId } });
    const refused = await tokenEndpoint(connection.clientId, connection.clientSecret);
    expect(refused).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    expect(refused.body.error_description).toContain('CONNECTION_DISABLED');
    await t.graphql(admin.token, SET_ENABLED('enableConnection'), { i: { orgId: tenant.orgId, connectionId: connection.connectionId } });
    expect((await tokenEndpoint(connection.clientId, connection.clientSecret)).status).toBe(200);
  });

  it('is for admins only', async () => {
    const { tenant, viewer } = await tenantWithObjects('NotAdmin');
    const refused = await t.graphql(viewer.token, SET_ENABLED('disableConnection'), { i: { orgId: tenant.orgId, connectionId: tenant.connectionId } });
    expect(refused.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await tenant.ingest('setObjects', { objects: [objectInput('P-3')] })).acceptedCount).toBe(1);
  });
});

describe('deleting a connection', () => {
  it('removes 20,000 objects and everything else of the connection, resuming after an interruption', async () => {
    const { tenant, admin, viewer, itemId } = await tenantWithObjects('Delete');
    await tenant.ingest('setGroups', { groups: [{ externalId: 'g-1', members: [{ type: 'USER', externalId: 'u-1' }], updateSequenceNumber: 1 }] });
    await tenant.ingest('setObjects', { objects: Array.from({ length: 48 }, (_, i) => objectInput(`B-${i}`, { permissions: viewAcl([{ type: 'GROUP', id: 'g-1' }]) })) });
    await tenant.ingest('setRelationships', {
      relationships: [{ type: 'issue-links', from: { type: 'jira:work-item', externalId: 'P-1' }, to: { type: 'jira:work-item', externalId: 'B-0' }, updateSequenceNumber: 1 }],
    });
    const objectIds = await copyObjects(t.db, tenant.connectionId, 20_000);
    expect(objectIds.length).toBeGreaterThanOrEqual(20_000);
    // Another tenant's connection is not touched.
    const bystander = await tenantWithObjects('Bystander');

    const started = await t.app.services.connections.startDeletion(operatorAuthor(() => new Date()), tenant.connectionId, tenant.orgId);
    expect(started.totalObjects).toBe(objectIds.length);
    // From the start of the deletion nothing of it is visible, and its token is refused.
    expect((await visibleTo(viewer.token, itemId, tenant)).object).toBeNull();
    expect((await t.graphql(tenant.connectionToken, '{ viewer { grantedPermissions } }')).status).toBe(401);

    const interrupt = new AbortController();
    const seen: number[] = [];
    const interrupted = await t.app.services.connections
      .runDeletion(tenant.connectionId, {
        batchSize: 2000,
        signal: interrupt.signal,
        onProgress: (p) => {
          seen.push(p.deletedObjects);
          if (p.deletedObjects >= 6000) interrupt.abort();
        },
      })
      .catch((error: Error) => error.name);
    expect(interrupted).toBe('AbortError');
    expect(seen).toEqual([0, 2000, 4000, 6000]);
    const halfway = await rowsOf(t.db, tenant.connectionId, objectIds);
    expect(halfway.graph_object).toBe(objectIds.length - 6000);
    expect(halfway.connection).toBe(1);

    const progress: string[] = [];
    const finished = await t.app.services.connections.runDeletion(tenant.connectionId, {
      onProgress: (p) => progress.push(`${p.deletedObjects}/${p.totalObjects}${p.done ? ' done' : ''}`),
    });
    expect(finished).toMatchObject({ deletedObjects: objectIds.length - 6000, done: true });
    expect(progress[0]).toBe(`0/${objectIds.length - 6000}`);
    expect(progress.at(-1)).toBe(`${objectIds.length - 6000}/${objectIds.length - 6000} done`);

    const left = await rowsOf(t.db, tenant.connectionId, objectIds);
    expect(Object.entries(left).filter(([, n]) => n > 0)).toEqual([]);
    expect(Object.keys(left)).toEqual(expect.arrayContaining(['graph_object', 'relationship', 'external_user', 'external_group', 'group_member', 'user_link', 'session']));

    const theirs = await visibleTo(bystander.viewer.token, bystander.itemId, bystander.tenant);
    expect(theirs.object).toEqual({ id: bystander.itemId });
    const events = await adminActions(admin.token, tenant.orgId, 'connection.deleted');
    expect(events.map((e: any) => e.event.details.connectionId)).toEqual([tenant.connectionId]);
  });

  it('starts through deleteConnection for an admin, audited, and finishes in the background', async () => {
    const { tenant, admin, viewer, itemId } = await tenantWithObjects('DeleteApi');
    const r = await t.graphql(admin.token, DELETE, { i: { orgId: tenant.orgId, connectionId: tenant.connectionId } });
    expect(r.body.data.deleteConnection).toEqual({ connectionId: tenant.connectionId, totalObjects: 2, revokedSessionCount: 1 });
    expect((await visibleTo(viewer.token, itemId, tenant)).object).toBeNull();
    const listed = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { connections { id } } }', { o: tenant.orgId });
    expect(listed.body.data.organization.connections).toEqual([]);
    // The background run the mutation started; waiting on it is what a test can do, a client cannot.
    await t.app.services.connections.resumeDeletions();
    expect(Object.entries(await rowsOf(t.db, tenant.connectionId, [itemId])).filter(([, n]) => n > 0)).toEqual([]);
    const again = await t.graphql(admin.token, DELETE, { i: { orgId: tenant.orgId, connectionId: tenant.connectionId } });
    expect(again.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const events = await adminActions(admin.token, tenant.orgId, 'connection.');
    expect(events.map((e: any) => [e.action, e.actor.accountId])).toEqual([
      ['connection.deleted', null],
      ['connection.deletion-started', admin.accountId],
    ]);
  });
});
