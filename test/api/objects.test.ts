import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INPUT_DEPTH } from '../../src/modules/ingestion/ingestion.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
let alice: { accountId: string; token: string };
let bob: { accountId: string; token: string };
const ids: Record<string, string> = {};

const project = { type: 'jira:project', externalId: 'P' };
const inherit = [
  { accessControls: [{ principals: [{ type: 'CONTAINER' }] }] },
  { action: 'EDIT', accessControls: [{ principals: [{ type: 'CONTAINER' }] }] },
  { action: 'DELETE', accessControls: [{ principals: [{ type: 'CONTAINER' }] }] },
];

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t);
  alice = await tenant.account();
  bob = await tenant.account();
  await tenant.ingest('setUsers', { users: [{ externalId: 'ext-alice', updateSequenceNumber: 1 }] });
  await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'ext-alice', accountId: alice.accountId, updateSequenceNumber: 1 }] });
  const aliceOnly = [
    { accessControls: [{ principals: [userPrincipal('ext-alice')] }] },
    { action: 'EDIT', accessControls: [{ principals: [userPrincipal('ext-alice')] }] },
    { action: 'DELETE', accessControls: [{ principals: [userPrincipal('ext-alice')] }] },
  ];
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('P', { type: 'jira:project', displayName: 'Project P', permissions: aliceOnly, lastUpdatedAt: '2026-01-01T00:00:00Z' }),
      ...Array.from({ length: 30 }, (_, i) =>
        objectInput(`W-${i}`, {
          displayName: `Work item ${i}`,
          description: i === 7 ? 'Mentions the NEEDLE here' : null,
          container: project,
          permissions: inherit,
          lastUpdatedAt: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 60_000).toISOString(),
        }),
      ),
      objectInput('PUBLIC', { displayName: 'Public doc', type: 'graph:document', lastUpdatedAt: '2026-02-01T00:00:00Z' }),
      objectInput('PAGE', { type: 'confluence:page', displayName: 'A page', lastUpdatedAt: '2026-02-02T00:00:00Z' }),
      objectInput('LOCKED', {
        type: 'graph:document',
        displayName: 'Everyone reads, Alice edits',
        lastUpdatedAt: '2025-12-01T00:00:00Z',
        permissions: [
          { accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] },
          { action: 'EDIT', accessControls: [{ principals: [userPrincipal('ext-alice')] }] },
        ],
      }),
    ],
  });
  await tenant.ingest('setRelationships', {
    relationships: [
      { type: 'work-item-mentions-document', from: { type: 'jira:work-item', externalId: 'W-0' }, to: { type: 'graph:document', externalId: 'PUBLIC' }, updateSequenceNumber: 1 },
      { type: 'document-mentions-work-item', from: { type: 'graph:document', externalId: 'PUBLIC' }, to: { type: 'jira:work-item', externalId: 'W-1' }, updateSequenceNumber: 1 },
    ],
  });
  for (const [externalId, type] of [['P', 'jira:project'], ['W-0', 'jira:work-item'], ['PUBLIC', 'graph:document'], ['PAGE', 'confluence:page'], ['LOCKED', 'graph:document']]) {
    const r = await t.graphql(alice.token, 'query($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { id } }', { c: tenant.connectionId, t: type, e: externalId });
    ids[externalId] = r.body.data.objectByExternalId.id;
  }
});
afterAll(() => t.close());

async function listAll(token: string, filter: Record<string, unknown> = {}, first = 7) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const r: any = await t.graphql(token, 'query($f: ObjectFilter, $n: Int, $a: String) { objects(filter: $f, first: $n, after: $a) { edges { cursor node { externalId } } pageInfo { hasNextPage endCursor } } }', { f: filter, n: first, a: after });
    expect(r.body.errors).toBeUndefined();
    seen.push(...r.body.data.objects.edges.map((e: any) => e.node.externalId));
    if (!r.body.data.objects.pageInfo.hasNextPage) return seen;
    after = r.body.data.objects.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('objects', () => {
  it('pages through every visible object newest first without repeats', async () => {
    const all = await listAll(alice.token);
    expect(all).toHaveLength(34);
    expect(new Set(all).size).toBe(34);
    expect(all.slice(0, 3)).toEqual(['W-29', 'W-28', 'W-27']);
    expect(all.at(-1)).toBe('LOCKED');
  });

  it('shows a viewer only what the ACL lets them see', async () => {
    expect(await listAll(bob.token)).toEqual(['PAGE', 'PUBLIC', 'LOCKED']);
  });

  it('applies each filter', async () => {
    expect(await listAll(alice.token, { text: 'needle' })).toEqual(['W-7']);
    expect(await listAll(alice.token, { types: ['jira:project'] })).toEqual(['P']);
    expect(await listAll(alice.token, { products: ['CONFLUENCE'] })).toEqual(['PAGE']);
    expect(await listAll(alice.token, { containerId: ids.P })).toHaveLength(30);
    expect(await listAll(alice.token, { cloudIds: [tenant.cloudId] })).toHaveLength(34);
    expect(await listAll(alice.token, { cloudIds: ['site_other'] })).toEqual([]);
    expect(await listAll(alice.token, { updatedAfter: '2026-03-01T00:27:00Z' })).toEqual(['W-29', 'W-28']);
    expect(await listAll(alice.token, { updatedBefore: '2026-02-01T12:00:00Z' })).toEqual(['PUBLIC', 'P', 'LOCKED']);
  });

  it('returns nothing for children of a container the caller cannot view', async () => {
    expect(await listAll(bob.token, { containerId: ids.P })).toEqual([]);
  });

  it('defaults to 25 per page and refuses more than 100', async () => {
    const r = await t.graphql(alice.token, '{ objects { edges { node { id } } pageInfo { hasNextPage } } }');
    expect(r.body.data.objects.edges).toHaveLength(25);
    const tooMany = await t.graphql(alice.token, '{ objects(first: 101) { edges { node { id } } } }');
    expect(tooMany.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'PAGE_SIZE_OUT_OF_RANGE' });
    const garbage = await t.graphql(alice.token, '{ objects(after: "not-a-cursor") { edges { node { id } } } }');
    expect(garbage.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_CURSOR' });
  });

  it('rejects an unknown type in the filter', async () => {
    const r = await t.graphql(alice.token, '{ objects(filter: { types: ["jira:nope"] }) { edges { node { id } } } }');
    expect(r.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'UNKNOWN_OBJECT_TYPE' });
  });
});

describe('single objects', () => {
  it('returns null for an object the caller cannot view, exactly as for a missing one', async () => {
    const query = 'query($id: ID!) { object(id: $id) { id } node(id: $id) { id } }';
    const hidden = await t.graphql(bob.token, query, { id: ids.P });
    const missing = await t.graphql(bob.token, query, { id: 'obj_doesnotexist' });
    expect(hidden.body).toEqual({ data: { object: null, node: null } });
    expect(missing.body).toEqual(hidden.body);
    const byExternal = await t.graphql(bob.token, 'query($c: ID!) { objectByExternalId(connectionId: $c, type: "jira:project", externalId: "P") { id } }', { c: tenant.connectionId });
    expect(byExternal.body).toEqual({ data: { objectByExternalId: null } });
  });

  it('resolves container, children and relationships through the ACL', async () => {
    const r = await t.graphql(alice.token, 'query($id: ID!) { object(id: $id) { container { externalId } children(first: 2) { edges { node { externalId } } pageInfo { hasNextPage } } relationships { edges { node { type from { externalId } to { externalId } } } } } }', { id: ids['W-0'] });
    expect(r.body.data.object.container).toEqual({ externalId: 'P' });
    expect(r.body.data.object.children).toEqual({ edges: [], pageInfo: { hasNextPage: false } });
    expect(r.body.data.object.relationships.edges).toEqual([{ node: { type: 'work-item-mentions-document', from: { externalId: 'W-0' }, to: { externalId: 'PUBLIC' } } }]);
    const project = await t.graphql(alice.token, 'query($id: ID!) { object(id: $id) { children(first: 5) { edges { node { externalId } } pageInfo { hasNextPage } } } }', { id: ids.P });
    expect(project.body.data.object.children.edges).toHaveLength(5);
    expect(project.body.data.object.children.pageInfo.hasNextPage).toBe(true);
  });

  it('hides an edge whose other end the caller cannot view', async () => {
    const query = 'query($id: ID!) { object(id: $id) { relationships(direction: BOTH) { edges { node { type } } } } }';
    const forAlice = await t.graphql(alice.token, query, { id: ids.PUBLIC });
    expect(forAlice.body.data.object.relationships.edges).toHaveLength(2);
    const forBob = await t.graphql(bob.token, query, { id: ids.PUBLIC });
    expect(forBob.body.data.object.relationships.edges).toEqual([]);
  });

  it('tells whether the viewer may edit and delete', async () => {
    const query = 'query($id: ID!) { object(id: $id) { viewerCanEdit viewerCanDelete } }';
    expect((await t.graphql(alice.token, query, { id: ids['W-0'] })).body.data.object).toEqual({ viewerCanEdit: true, viewerCanDelete: true });
    expect((await t.graphql(alice.token, query, { id: ids.LOCKED })).body.data.object).toEqual({ viewerCanEdit: true, viewerCanDelete: true });
    expect((await t.graphql(bob.token, query, { id: ids.LOCKED })).body.data.object).toEqual({ viewerCanEdit: false, viewerCanDelete: false });
  });

  it('lets anyone who may view edit an object without EDIT controls (PRODUCT §3)', async () => {
    const r = await t.graphql(bob.token, 'query($id: ID!) { object(id: $id) { viewerCanEdit viewerCanDelete } }', { id: ids.PUBLIC });
    expect(r.body.data.object).toEqual({ viewerCanEdit: true, viewerCanDelete: true });
  });

  it('shows permissions only to org admins on the admin client and to the owning connection', async () => {
    const admin = await tenant.account({ admin: true });
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    const query = 'query($id: ID!) { object(id: $id) { permissions { action accessControls { principals { type id } } } } }';
    expect((await t.graphql(admin.token, query, { id: ids.PUBLIC })).body.data.object.permissions).toEqual([
      { action: 'VIEW', accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE', id: null }] }] },
    ]);
    expect((await t.graphql(adminOnCli.token, query, { id: ids.PUBLIC })).body.data.object.permissions).toBeNull();
    expect((await t.graphql(alice.token, query, { id: ids.PUBLIC })).body.data.object.permissions).toBeNull();
    expect((await t.graphql(tenant.connectionToken, query, { id: ids.PUBLIC })).body.data.object.permissions).toHaveLength(1);
  });
});

describe('permissions of the session', () => {
  it('restricts a visible object whose read permission the session lacks, and lists only readable types', async () => {
    const narrow = await tenant.account({ scopes: ['read:document:graph'] });
    const r = await t.graphql(narrow.token, 'query($a: ID!, $b: ID!) { a: object(id: $a) { id } b: object(id: $b) { displayName } }', { a: ids.PAGE, b: ids.PUBLIC });
    expect(r.body.data).toEqual({ a: null, b: { displayName: 'Public doc' } });
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]).toMatchObject({ path: ['a'], extensions: { code: 'RESTRICTED', permission: 'read:page:confluence', reason: 'NOT_GRANTED_TO_SESSION' } });
    expect(r.body.errors![0].message).toContain('twg login');
    expect(await listAll(narrow.token)).toEqual(['PUBLIC', 'LOCKED']);
    const filtered = await t.graphql(narrow.token, '{ objects(filter: { products: [CONFLUENCE] }) { edges { node { id } } } }');
    expect(filtered.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', permission: 'read:page:confluence' });
  });

  it('answers the rest of a request whose objects list is RESTRICTED: that list is null beside its error', async () => {
    const narrow = await tenant.account({ scopes: ['read:document:graph'] });
    const r = await t.graphql(
      narrow.token,
      'query($b: ID!) { pages: objects(filter: { types: ["confluence:page"] }) { edges { node { id } } } docs: objects(filter: { types: ["graph:document"] }, first: 1) { edges { node { id } } } b: object(id: $b) { displayName } viewer { account { email } } }',
      { b: ids.PUBLIC },
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ pages: null, docs: { edges: [{ node: { id: expect.any(String) } }] }, b: { displayName: 'Public doc' }, viewer: { account: { email: expect.any(String) } } });
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]).toMatchObject({ path: ['pages'], extensions: { code: 'RESTRICTED', permission: 'read:page:confluence' } });
  });

  it('keeps bitbucket objects out of reach of OAuth sessions', async () => {
    await tenant.ingest('setObjects', { objects: [objectInput('REPO', { type: 'bitbucket:repository' })] });
    expect(await listAll(alice.token, { text: 'REPO' })).toEqual([]);
    const r = await t.graphql(alice.token, '{ objects(filter: { types: ["bitbucket:repository"] }) { edges { node { id } } } }');
    expect(r.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', permission: 'repository:read' });
  });
});

describe('changes by people', () => {
  it('creates an object in a container the caller may edit, inheriting its ACL', async () => {
    const r = await t.graphql(alice.token, 'mutation($i: CreateObjectInput!) { createObject(input: $i) { id type displayName container { externalId } viewerCanEdit } }', {
      i: { containerId: ids.P, type: 'jira:work-item', displayName: 'Made by Alice', properties: { priority: 'high' } },
    });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.createObject).toMatchObject({ type: 'jira:work-item', displayName: 'Made by Alice', container: { externalId: 'P' }, viewerCanEdit: true });
    const forBob = await t.graphql(bob.token, 'query($id: ID!) { object(id: $id) { id } }', { id: r.body.data.createObject.id });
    expect(forBob.body.data.object).toBeNull();
  });

  it('answers NOT_FOUND for an invisible container and FORBIDDEN for a visible one the caller cannot edit', async () => {
    const input = (containerId: string) => ({ i: { containerId, type: 'jira:work-item', displayName: 'x' } });
    const mutation = 'mutation($i: CreateObjectInput!) { createObject(input: $i) { id } }';
    expect((await t.graphql(bob.token, mutation, input(ids.P))).body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await t.graphql(bob.token, mutation, input('obj_missing'))).body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await t.graphql(bob.token, mutation, input(ids.LOCKED))).body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('needs the write permission of the type', async () => {
    const readOnly = await tenant.account({ scopes: ['read:work-item:jira'] });
    await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'ext-alice', accountId: readOnly.accountId, updateSequenceNumber: 2 }] });
    const r = await t.graphql(readOnly.token, 'mutation($i: UpdateObjectInput!) { updateObject(input: $i) { id } }', { i: { id: ids['W-0'], displayName: 'nope' } });
    expect(r.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', permission: 'write:work-item:jira' });
    await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'ext-alice', accountId: alice.accountId, updateSequenceNumber: 3 }] });
  });

  it('refuses U+0000 and properties nested deeper than the limit as bad input, before they reach the database', async () => {
    const create = 'mutation($i: CreateObjectInput!) { createObject(input: $i) { id } }';
    const update = 'mutation($i: UpdateObjectInput!) { updateObject(input: $i) { id } }';
    const tooDeep = JSON.parse(`${'{"a":'.repeat(MAX_INPUT_DEPTH + 1)}1${'}'.repeat(MAX_INPUT_DEPTH + 1)}`);
    const refusals = [
      await t.graphql(alice.token, create, { i: { containerId: ids.P, type: 'jira:work-item', displayName: 'Bad\u0000name' } }),
      await t.graphql(alice.token, create, { i: { containerId: `${ids.P}\u0000`, type: 'jira:work-item', displayName: 'x' } }),
      await t.graphql(alice.token, update, { i: { id: ids.P, properties: { 'k\u0000': 1 } } }),
      await t.graphql(alice.token, update, { i: { id: ids.P, properties: tooDeep } }),
    ];
    const id = (i: number) => refusals[i].headers.get('x-request-id');
    expect(refusals.map((r) => r.body.errors?.[0].extensions)).toEqual([
      { code: 'BAD_USER_INPUT', subCode: 'INVALID_CHARACTER', requestId: id(0) },
      { code: 'BAD_USER_INPUT', subCode: 'INVALID_CHARACTER', requestId: id(1) },
      { code: 'BAD_USER_INPUT', subCode: 'INVALID_CHARACTER', requestId: id(2) },
      { code: 'BAD_USER_INPUT', subCode: 'PROPERTIES_TOO_DEEP', requestId: id(3) },
    ]);
    expect(refusals[0].body.errors?.[0].message).toContain('displayName');
    expect(refusals[1].body.errors?.[0].message).toContain('containerId');
  });

  it('updates and deletes with EDIT and DELETE', async () => {
    const updated = await t.graphql(alice.token, 'mutation($i: UpdateObjectInput!) { updateObject(input: $i) { displayName description } }', { i: { id: ids['W-0'], displayName: 'Renamed', description: 'New text' } });
    expect(updated.body.data.updateObject).toEqual({ displayName: 'Renamed', description: 'New text' });
    const invalid = await t.graphql(alice.token, 'mutation($i: UpdateObjectInput!) { updateObject(input: $i) { id } }', { i: { id: ids['W-0'], displayName: '' } });
    expect(invalid.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_DISPLAY_NAME' });
    const byBob = await t.graphql(bob.token, 'mutation($id: ID!) { deleteObject(id: $id) { deletedObjectId } }', { id: ids['W-0'] });
    expect(byBob.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const deleted = await t.graphql(alice.token, 'mutation($id: ID!) { deleteObject(id: $id) { deletedObjectId } }', { id: ids['W-0'] });
    expect(deleted.body.data.deleteObject).toEqual({ deletedObjectId: ids['W-0'] });
    expect((await t.graphql(alice.token, 'query($id: ID!) { object(id: $id) { id } }', { id: ids['W-0'] })).body.data.object).toBeNull();
  });
});

describe('viewer, organisation and explanations', () => {
  it('describes the viewer and its session', async () => {
    const r = await t.graphql(alice.token, '{ viewer { account { id active isOrgAdmin } organization { id sites { cloudId } } session { clientId scopes } grantedPermissions effectivePermissions bitbucketTokens { id } } }');
    expect(r.body.data.viewer).toMatchObject({
      account: { id: alice.accountId, active: true, isOrgAdmin: false },
      organization: { id: tenant.orgId, sites: [{ cloudId: tenant.cloudId }] },
      session: { clientId: 'twg-cli' },
      bitbucketTokens: [],
    });
    expect(r.body.data.viewer.grantedPermissions).toContain('read:work-item:jira');
  });

  it('returns null for another organisation, and for its site', async () => {
    const other = await createTenant(t, 'Them');
    const r = await t.graphql(alice.token, 'query($id: ID!) { organization(id: $id) { id } node(id: $id) { id } }', { id: other.orgId });
    expect(r.body.data).toEqual({ organization: null, node: null });
    const site = 'query($id: ID!) { node(id: $id) { id ... on Site { cloudId } } }';
    expect((await t.graphql(alice.token, site, { id: tenant.cloudId })).body.data).toEqual({ node: { id: tenant.cloudId, cloudId: tenant.cloudId } });
    expect((await t.graphql(alice.token, site, { id: other.cloudId })).body.data).toEqual({ node: null });
  });

  it('explains to an admin why an account can or cannot view an object', async () => {
    const admin = await tenant.account({ admin: true });
    const query = 'query($org: ID!, $obj: ID!, $acc: ID!) { organization(id: $org) { accessExplanation(objectId: $obj, accountId: $acc) { allowed action summary controls { action satisfied matchedPrincipal { type id } via } } } }';
    const yes = await t.graphql(admin.token, query, { org: tenant.orgId, obj: ids.P, acc: alice.accountId });
    expect(yes.body.data.organization.accessExplanation).toMatchObject({ allowed: true, action: 'VIEW', controls: [{ action: 'VIEW', satisfied: true, matchedPrincipal: { type: 'USER', id: 'ext-alice' } }] });
    const no = await t.graphql(admin.token, query, { org: tenant.orgId, obj: ids.P, acc: bob.accountId });
    expect(no.body.data.organization.accessExplanation).toMatchObject({ allowed: false, controls: [{ satisfied: false, matchedPrincipal: null }] });
    const notAdmin = await t.graphql(alice.token, query, { org: tenant.orgId, obj: ids.P, acc: bob.accountId });
    expect(notAdmin.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });
});
