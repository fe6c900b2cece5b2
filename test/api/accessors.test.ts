// Who can see an object (issue 20, item 4): GraphObject.accessors and Organization.objectAccessors
// over the API, with how each account gets in; a property test
// (test/authz/acl-property-accessors.test.ts) checks the sets against the reference model.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
let admin: { accountId: string; token: string };
let cliAdmin: { accountId: string; token: string };
const people: Record<string, { accountId: string; token: string }> = {};
const ids: Record<string, string> = {};

const group = (id: string) => ({ type: 'GROUP', id });
const ACCESSORS = `query($id: ID!, $action: AclAction, $first: Int, $after: String) {
  object(id: $id) { accessors(action: $action, first: $first, after: $after) { edges { cursor node { account { email } via } } pageInfo { hasNextPage endCursor } } } }`;
const ORG_ACCESSORS = `query($org: ID!, $id: ID!, $action: AclAction) {
  organization(id: $org) { objectAccessors(objectId: $id, action: $action) { edges { node { account { email } via } } } } }`;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t, 'Accessed');
  admin = await tenant.account({ admin: true, email: 'admin@accessed.test' });
  cliAdmin = await tenant.account({ admin: true, client: 'twg-cli', email: 'cli-admin@accessed.test' });
  for (const name of ['ann', 'ben', 'cat', 'dan', 'eve']) people[name] = await tenant.account({ email: `${name}@accessed.test`, member: name !== 'eve' });
  await tenant.ingest('setUsers', { users: ['ann', 'ben', 'cat', 'dan', 'eve'].map((name) => ({ externalId: `ext-${name}`, updateSequenceNumber: 1 })) });
  await tenant.ingest('mapUsers', { directMappings: ['ann', 'ben', 'cat', 'dan', 'eve'].map((name) => ({ externalId: `ext-${name}`, accountId: people[name].accountId, updateSequenceNumber: 1 })) });
  await tenant.ingest('setGroups', {
    groups: [
      { externalId: 'engineering', updateSequenceNumber: 1, members: [{ type: 'USER', externalId: 'ext-ben' }, { type: 'GROUP', externalId: 'backend' }] },
      { externalId: 'backend', updateSequenceNumber: 1, members: [{ type: 'USER', externalId: 'ext-cat' }, { type: 'GROUP', externalId: 'engineering' }] },
    ],
  });
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('P', { type: 'jira:project', permissions: [{ accessControls: [{ principals: [userPrincipal('ext-ann'), group('engineering')] }] }, { action: 'EDIT', accessControls: [{ principals: [userPrincipal('ext-ann')] }] }] }),
      objectInput('W', { container: { type: 'jira:project', externalId: 'P' }, permissions: [{ accessControls: [{ principals: [{ type: 'CONTAINER' }] }] }] }),
      // (workspace) AND (engineering): eve is linked to nobody in the group and not a member of the site.
      objectInput('BOTH', { permissions: [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }, { principals: [group('backend'), userPrincipal('ext-eve')] }] }] }),
      objectInput('SITE', { permissions: [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }] }),
      objectInput('NOBODY', { permissions: [{ accessControls: [{ principals: [userPrincipal('ext-nobody')] }] }] }),
    ],
  });
  for (const externalId of ['P', 'W', 'BOTH', 'SITE', 'NOBODY']) {
    const type = externalId === 'P' ? 'jira:project' : 'jira:work-item';
    const r = await t.graphql(admin.token, 'query($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { id } }', { c: tenant.connectionId, t: type, e: externalId });
    ids[externalId] = r.body.data?.objectByExternalId?.id ?? (await t.db.selectFrom('graph_object').select('id').where('org_id', '=', tenant.orgId).where('external_id', '=', externalId).executeTakeFirstOrThrow()).id;
  }
});
afterAll(() => t.close());

const accessorsOf = async (id: string, variables: Record<string, unknown> = {}, token = admin.token) => {
  const r = await t.graphql(token, ORG_ACCESSORS, { org: tenant.orgId, id, ...variables });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.organization.objectAccessors.edges.map((e: any) => [e.node.account.email, e.node.via]);
};

it('names each account that may view an object, with the link or the group path that lets it in', async () => {
  expect(new Map(await accessorsOf(ids.P))).toEqual(
    new Map([
      ['ann@accessed.test', 'linked to third-party user ext-ann'],
      ['ben@accessed.test', 'linked to third-party user ext-ben in group engineering'],
      ['cat@accessed.test', 'linked to third-party user ext-cat in group engineering (through nested group backend)'],
    ]),
  );
  expect(new Map(await accessorsOf(ids.P, { action: 'EDIT' }))).toEqual(new Map([['ann@accessed.test', 'linked to third-party user ext-ann']]));
});

it('follows CONTAINER to the container’s accessors and needs every control satisfied', async () => {
  const inherited = new Map(await accessorsOf(ids.W));
  expect([...inherited.keys()].sort()).toEqual(['ann@accessed.test', 'ben@accessed.test', 'cat@accessed.test']);
  expect(inherited.get('ann@accessed.test')).toBe(`may VIEW the container ${ids.P}: linked to third-party user ext-ann`);
  // BOTH: site members (not eve) who are also in backend (cat, and ben through the cycle back to engineering… which backend holds).
  const both = new Map(await accessorsOf(ids.BOTH));
  expect([...both.keys()].sort()).toEqual(['ben@accessed.test', 'cat@accessed.test']);
  expect(both.get('cat@accessed.test')).toBe('an active member of site ' + tenant.cloudId + '; linked to third-party user ext-cat in group backend');
  expect(await accessorsOf(ids.NOBODY)).toEqual([]);
});

it('leaves out a deactivated account and takes it back when it is active again', async () => {
  await t.app.services.orgs.setAccountActive(people.ben.accountId, false);
  expect((await accessorsOf(ids.P)).map(([email]: string[]) => email)).not.toContain('ben@accessed.test');
  await t.app.services.orgs.setAccountActive(people.ben.accountId, true);
  expect((await accessorsOf(ids.P)).map(([email]: string[]) => email)).toContain('ben@accessed.test');
});

it('pages by cursor with a constant number of statements', async () => {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 5; page++) {
    const r = await t.graphql(admin.token, ACCESSORS, { id: ids.SITE, first: 2, after });
    const connection = r.body.data.object.accessors;
    seen.push(...connection.edges.map((e: any) => e.node.account.email));
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  expect(seen.sort()).toEqual(['admin@accessed.test', 'ann@accessed.test', 'ben@accessed.test', 'cat@accessed.test', 'cli-admin@accessed.test', 'dan@accessed.test']);
  // Warm caches alike (credentials, principal sets), then a page of 2 and a page of 100.
  const statementsFor = async (first: number) => {
    t.statements.length = 0;
    await t.graphql(admin.token, ACCESSORS, { id: ids.SITE, first });
    return t.statements.length;
  };
  await statementsFor(2);
  expect(await statementsFor(100)).toBe(await statementsFor(2));
});

it('is for admins only: null on the object for anyone else, FORBIDDEN on the organisation', async () => {
  const onCli = await t.graphql(cliAdmin.token, ACCESSORS, { id: ids.SITE });
  expect(onCli.body.data.object.accessors).toBeNull();
  const person = await t.graphql(people.ann.token, ACCESSORS, { id: ids.SITE });
  expect(person.body.data.object.accessors).toBeNull();
  const denied = await t.graphql(people.ann.token, ORG_ACCESSORS, { org: tenant.orgId, id: ids.P });
  expect(denied.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
});

it('answers for an object the admin cannot view, and NOT_FOUND for none', async () => {
  expect(await accessorsOf(ids.NOBODY)).toEqual([]);
  const missing = await t.graphql(admin.token, ORG_ACCESSORS, { org: tenant.orgId, id: 'obj_nope' });
  expect(missing.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
});
