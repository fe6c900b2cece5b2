// ACL cases (PRODUCT §3, §4) through the API with real tokens: for one object and one account,
// whether `objects` lists it, whether `object(id)` returns it, and `viewerCanEdit` /
// `viewerCanDelete`. Each case builds its own organisation, so cases cannot see each other.
import { CLI_CLIENT_ID } from '../../src/modules/session/credentials/client-ids.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker } from '../../src/authz/access-checker.ts';
import type { CompiledAcl } from '../../src/authz/acl.ts';
import { type AclNode, isAllowed } from '../../src/authz/acl-engine.ts';
import { loadViewerPrincipals } from '../../src/authz/viewer-principals.ts';
import { listVisibleObjects } from '../../src/authz/visibility-filter.ts';
import { createTenant, type Tenant, type TestApp, startTestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

// --- principals and permissions as a connection sends them -----------------------------------

type Principal = { type: string; id?: string };
const U = (id: string): Principal => ({ type: 'USER', id });
const G = (id: string): Principal => ({ type: 'GROUP', id });
const W: Principal = { type: 'ATLASSIAN_WORKSPACE' };
const C: Principal = { type: 'CONTAINER' };
type Action = 'VIEW' | 'EDIT' | 'DELETE';
/** One permission object: its controls are ANDed, the principals of a control ORed. */
const perm = (action: Action | null, ...controls: Principal[][]) => ({ ...(action ? { action } : {}), accessControls: controls.map((principals) => ({ principals })) });
const view = (...controls: Principal[][]) => perm('VIEW', ...controls);
const edit = (...controls: Principal[][]) => perm('EDIT', ...controls);
const del = (...controls: Principal[][]) => perm('DELETE', ...controls);

// --- what an account gets ----------------------------------------------------------------------

interface Access {
  /** In `objects` (all pages). */
  listed: boolean;
  /** `object(id)` is not null. */
  view: boolean;
  /** viewerCanEdit / viewerCanDelete, null when the object is null. */
  edit: boolean | null;
  delete: boolean | null;
}
const NONE: Access = { listed: false, view: false, edit: null, delete: null };
const VIEW_ONLY: Access = { listed: true, view: true, edit: false, delete: false };
const VIEW_EDIT: Access = { listed: true, view: true, edit: true, delete: false };
const ALL: Access = { listed: true, view: true, edit: true, delete: true };

/** Every id `objects` lists for the token, paging with cursors. */
async function listAll(token: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const result = await t.graphql(token, 'query($after: String) { objects(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', { after });
    expect(result.body.errors).toBeUndefined();
    ids.push(...result.body.data.objects.edges.map((e: any) => e.node.id));
    if (!result.body.data.objects.pageInfo.hasNextPage) return ids;
    after = result.body.data.objects.pageInfo.endCursor;
  }
  throw new Error('objects kept returning pages');
}

async function access(token: string, objectId: string): Promise<Access> {
  const result = await t.graphql(token, 'query($id: ID!) { object(id: $id) { id viewerCanEdit viewerCanDelete } }', { id: objectId });
  expect(result.status).toBe(200);
  expect(result.body.errors).toBeUndefined();
  const object = result.body.data.object;
  const listed = (await listAll(token)).includes(objectId);
  return { listed, view: object !== null, edit: object?.viewerCanEdit ?? null, delete: object?.viewerCanDelete ?? null };
}

// --- building a case ---------------------------------------------------------------------------

interface Scene {
  tenant: Tenant;
  viewer: { accountId: string; token: string };
  other: { accountId: string; token: string };
  ids: Record<string, string>;
}

function expectAllAccepted(payload: any) {
  expect(payload.results.filter((r: any) => r.status !== 'ACCEPTED')).toEqual([]);
}

async function objectId(tenant: Tenant, externalId: string): Promise<string> {
  const row = await t.db.selectFrom('graph_object').select('id').where('org_id', '=', tenant.orgId).where('external_id', '=', externalId).executeTakeFirstOrThrow();
  return row.id;
}

interface ObjectDef {
  permissions: object[];
  /** External id of the container (a work item of the same connection). */
  container?: string;
}

async function setObjects(tenant: Tenant, objects: Record<string, ObjectDef>, usn = 1) {
  const entries = Object.entries(objects);
  for (let i = 0; i < entries.length; i += 100) {
    expectAllAccepted(
      await tenant.ingest('setObjects', {
        objects: entries.slice(i, i + 100).map(([externalId, o]) => ({
          type: 'jira:work-item',
          externalId,
          displayName: externalId,
          updateSequenceNumber: usn,
          permissions: o.permissions,
          ...(o.container ? { container: { type: 'jira:work-item', externalId: o.container } } : {}),
        })),
      }),
    );
  }
  const ids: Record<string, string> = {};
  for (const [externalId] of entries) ids[externalId] = await objectId(tenant, externalId);
  return ids;
}

interface SceneDef {
  /** Third-party users of the connection. */
  users?: string[];
  /** Links made by mapUsers (by accountId). */
  links?: Record<string, 'viewer' | 'other'>;
  /** Group -> members, written `user:<id>` or `group:<id>`. */
  groups?: Record<string, string[]>;
  /** Whether the viewer is a member of the site (default yes). */
  member?: boolean;
  objects: Record<string, ObjectDef>;
}

async function scene(def: SceneDef): Promise<Scene> {
  const tenant = await createTenant(t);
  const viewer = await tenant.account({ member: def.member ?? true });
  const other = await tenant.account();
  if (def.users?.length) expectAllAccepted(await tenant.ingest('setUsers', { users: def.users.map((externalId) => ({ externalId, updateSequenceNumber: 1 })) }));
  if (def.groups) {
    const groups = Object.entries(def.groups).map(([externalId, members]) => ({
      externalId,
      updateSequenceNumber: 1,
      members: members.map((m) => {
        const [type, id] = m.split(':');
        return { type: type.toUpperCase(), externalId: id };
      }),
    }));
    expectAllAccepted(await tenant.ingest('setGroups', { groups }));
  }
  if (def.links) {
    const directMappings = Object.entries(def.links).map(([externalId, who]) => ({ externalId, accountId: (who === 'viewer' ? viewer : other).accountId, updateSequenceNumber: 1 }));
    expectAllAccepted(await tenant.ingest('mapUsers', { directMappings }));
  }
  const ids = await setObjects(tenant, def.objects);
  return { tenant, viewer, other, ids };
}

// --- the table ---------------------------------------------------------------------------------

interface AclCase extends SceneDef {
  it: string;
  /** What the viewer gets for object X. */
  expected: Access;
}

const CASES: AclCase[] = [
  // USER
  { it: 'shows an object to the account linked to its USER principal', users: ['e1'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([U('e1')])] } }, expected: ALL },
  { it: 'returns null for an object whose USER principal is linked to nobody', users: ['e1'], objects: { X: { permissions: [view([U('e1')])] } }, expected: NONE },
  { it: 'returns null for an object whose USER principal is linked to another account', users: ['e1'], links: { e1: 'other' }, objects: { X: { permissions: [view([U('e1')])] } }, expected: NONE },
  // GROUP
  { it: 'shows an object to an account linked to a member of its GROUP principal', users: ['e1'], links: { e1: 'viewer' }, groups: { g1: ['user:e1'] }, objects: { X: { permissions: [view([G('g1')])] } }, expected: ALL },
  { it: 'returns null for an object whose GROUP has no user linked to the caller', users: ['e1', 'e2'], links: { e1: 'viewer', e2: 'other' }, groups: { g1: ['user:e2'] }, objects: { X: { permissions: [view([G('g1')])] } }, expected: NONE },
  {
    it: 'shows an object whose GROUP contains the linked user two nested groups down',
    users: ['e1'],
    links: { e1: 'viewer' },
    groups: { top: ['group:middle'], middle: ['group:bottom'], bottom: ['user:e1'] },
    objects: { X: { permissions: [view([G('top')])] } },
    expected: ALL,
  },
  {
    it: 'does not count a group that merely contains the GROUP principal (membership goes down, not up)',
    users: ['e1'],
    links: { e1: 'viewer' },
    groups: { top: ['group:bottom', 'user:e1'], bottom: ['user:e9'] },
    objects: { X: { permissions: [view([G('bottom')])] } },
    expected: NONE,
  },
  {
    it: 'shows an object whose GROUP reaches the linked user through a membership cycle',
    users: ['e1'],
    links: { e1: 'viewer' },
    groups: { g1: ['group:g2'], g2: ['group:g3'], g3: ['group:g1', 'user:e1'] },
    objects: { X: { permissions: [view([G('g1')])] } },
    expected: ALL,
  },
  {
    it: 'returns null, without looping, for an object whose GROUP is a membership cycle without the caller',
    users: ['e1', 'e2'],
    links: { e1: 'viewer' },
    groups: { g1: ['group:g2'], g2: ['group:g1', 'user:e2'], g3: ['user:e1'] },
    objects: { X: { permissions: [view([G('g1')])] } },
    expected: NONE,
  },
  // AND / OR
  { it: 'returns null when only one of two ANDed controls is satisfied', users: ['e1', 'e2'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([W], [U('e2')])] } }, expected: NONE },
  { it: 'shows an object when both ANDed controls are satisfied', users: ['e1'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([W], [U('e1')])] } }, expected: ALL },
  {
    it: 'ANDs the controls of separate VIEW permission objects',
    users: ['e1', 'e2'],
    links: { e1: 'viewer' },
    objects: { X: { permissions: [view([W]), perm(null, [U('e2')])] } },
    expected: NONE,
  },
  { it: 'shows an object when any principal of a control matches (OR)', users: ['e1', 'e2'], links: { e1: 'viewer', e2: 'other' }, objects: { X: { permissions: [view([U('e2'), G('nobody'), U('e1')])] } }, expected: ALL },
  {
    it: 'evaluates ((user OR group) AND group) as in the product example',
    users: ['e1', 'e2'],
    links: { e1: 'viewer' },
    groups: { g456: ['user:e2'], g789: ['user:e1'] },
    objects: { X: { permissions: [view([U('e1'), G('g456')], [G('g789')])] } },
    expected: ALL,
  },
  { it: 'treats a permission without an action as VIEW', objects: { X: { permissions: [perm(null, [W])] } }, expected: ALL },
  // ATLASSIAN_WORKSPACE
  { it: 'shows an object with an ATLASSIAN_WORKSPACE principal to a member of its site', objects: { X: { permissions: [view([W])] } }, expected: ALL },
  { it: 'returns null for an object with an ATLASSIAN_WORKSPACE principal to a non-member', member: false, objects: { X: { permissions: [view([W])] } }, expected: NONE },
  // Unknown principals
  { it: 'returns null for an object whose USER principal names no known user', objects: { X: { permissions: [view([U('ghost')])] } }, expected: NONE },
  { it: 'returns null for an object whose GROUP principal names no known group', users: ['e1'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([G('ghost')])] } }, expected: NONE },
  { it: 'ignores an unknown principal ORed with one that matches', objects: { X: { permissions: [view([U('ghost'), G('ghost'), W])] } }, expected: ALL },
  { it: 'returns null when an unknown principal is ANDed with one that matches', objects: { X: { permissions: [view([W], [G('ghost')])] } }, expected: NONE },
  // EDIT and DELETE
  { it: 'lets whoever may view edit and delete when there are no EDIT or DELETE controls', objects: { X: { permissions: [view([W])] } }, expected: ALL },
  { it: 'denies edit and delete when an EDIT control is not satisfied', users: ['e2'], objects: { X: { permissions: [view([W]), edit([U('e2')])] } }, expected: VIEW_ONLY },
  { it: 'grants edit when every EDIT control is satisfied', users: ['e1'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([W]), edit([U('e1')], [W])] } }, expected: ALL },
  { it: 'denies edit when one of two EDIT controls is not satisfied', users: ['e1', 'e2'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([W]), edit([U('e1')], [U('e2')])] } }, expected: VIEW_ONLY },
  { it: 'denies delete without edit even when the DELETE controls are satisfied', users: ['e2'], objects: { X: { permissions: [view([W]), edit([U('e2')]), del([W])] } }, expected: VIEW_ONLY },
  { it: 'denies delete when a DELETE control is not satisfied', users: ['e2'], objects: { X: { permissions: [view([W]), del([U('e2')])] } }, expected: VIEW_EDIT },
  { it: 'returns null for an object the caller may edit but not view', users: ['e1', 'e2'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([U('e2')]), edit([U('e1')]), del([U('e1')])] } }, expected: NONE },
  // CONTAINER
  { it: 'shows an object whose CONTAINER principal points at a container the caller may view', objects: { P: { permissions: [view([W])] }, X: { permissions: [view([C])], container: 'P' } }, expected: ALL },
  { it: 'returns null for an object whose container the caller may not view', users: ['e2'], objects: { P: { permissions: [view([U('e2')])] }, X: { permissions: [view([C])], container: 'P' } }, expected: NONE },
  { it: 'returns null for an object with a CONTAINER principal and no container', objects: { X: { permissions: [view([C])] } }, expected: NONE },
  { it: 'returns null for an object whose container has not been ingested', objects: { X: { permissions: [view([C])], container: 'later' } }, expected: NONE },
  {
    it: 'inherits EDIT from the container for an EDIT control naming CONTAINER',
    users: ['e1'],
    links: { e1: 'viewer' },
    objects: { P: { permissions: [view([W]), edit([U('e1')])] }, X: { permissions: [view([W]), edit([C]), del([C])], container: 'P' } },
    expected: ALL,
  },
  {
    it: 'denies EDIT for an EDIT control naming CONTAINER when the caller may only view the container',
    users: ['e2'],
    objects: { P: { permissions: [view([W]), edit([U('e2')])] }, X: { permissions: [view([W]), edit([C])], container: 'P' } },
    expected: VIEW_ONLY,
  },
  {
    it: 'inherits DELETE from the container for a DELETE control naming CONTAINER',
    users: ['e2'],
    objects: { P: { permissions: [view([W]), del([U('e2')])] }, X: { permissions: [view([W]), del([C])], container: 'P' } },
    expected: VIEW_EDIT,
  },
];

describe('ACL cases', () => {
  for (const c of CASES) {
    it(c.it, async () => {
      const { viewer, ids } = await scene(c);
      expect(await access(viewer.token, ids.X)).toEqual(c.expected);
    });
  }
});

// --- cases that change the world between two looks ---------------------------------------------

describe('user links', () => {
  it('links a mapping by e-mail to the account with that e-mail whatever its case', async () => {
    const tenant = await createTenant(t);
    const viewer = await tenant.account({ email: 'Mixed.Case@Acme.test', member: false });
    await tenant.ingest('setUsers', { users: [{ externalId: 'e1', updateSequenceNumber: 1 }] });
    const { X } = await setObjects(tenant, { X: { permissions: [view([U('e1')])] } });
    expectAllAccepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e1', externalEmailAddress: 'mixed.case@ACME.TEST', updateSequenceNumber: 1 }] }));
    expect(await access(viewer.token, X)).toEqual(ALL);
  });

  it('links an e-mail mapping made before the account exists once the account is created', async () => {
    const tenant = await createTenant(t);
    await tenant.ingest('setUsers', { users: [{ externalId: 'e1', updateSequenceNumber: 1 }] });
    const { X } = await setObjects(tenant, { X: { permissions: [view([U('e1')])] } });
    expectAllAccepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e1', externalEmailAddress: 'Late.Comer@acme.test', updateSequenceNumber: 1 }] }));
    const bystander = await tenant.account();
    expect(await access(bystander.token, X)).toEqual(NONE);

    const { orgs, sessions, catalog } = t.app.services;
    const { accountId } = await orgs.createAccount({ orgId: tenant.orgId, email: 'late.comer@ACME.test', displayName: 'Late', cloudIds: [] });
    const { accessToken } = await sessions.issue({ orgId: tenant.orgId, accountId }, CLI_CLIENT_ID, catalog.permissions.map((p) => p.key));
    expect(await access(accessToken, X)).toEqual(ALL);
    expect(await access(bystander.token, X)).toEqual(NONE);
  });

  it('moves the link when a user is mapped again with a newer sequence number, and ignores an older one', async () => {
    const { tenant, viewer, other, ids } = await scene({ users: ['e1'], links: { e1: 'viewer' }, member: false, objects: { X: { permissions: [view([U('e1')])] } } });
    const remap = (accountId: string, usn: number) => tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e1', accountId, updateSequenceNumber: usn }] });
    expect((await remap(other.accountId, 2)).acceptedCount).toBe(1);
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
    expect(await access(other.token, ids.X)).toEqual(ALL);
    expect((await remap(viewer.accountId, 1)).staleCount).toBe(1);
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
  });

  it('removes a deleted user from its groups and its link', async () => {
    const { tenant, viewer, ids } = await scene({
      users: ['e1'],
      links: { e1: 'viewer' },
      groups: { g1: ['user:e1'] },
      member: false,
      objects: { byUser: { permissions: [view([U('e1')])] }, byGroup: { permissions: [view([G('g1')])] } },
    });
    expect(await access(viewer.token, ids.byUser)).toEqual(ALL);
    expect(await access(viewer.token, ids.byGroup)).toEqual(ALL);

    expectAllAccepted(await tenant.ingest('deleteUsers', { items: [{ externalId: 'e1', updateSequenceNumber: 2 }] }));
    expect(await access(viewer.token, ids.byUser)).toEqual(NONE);
    expect(await access(viewer.token, ids.byGroup)).toEqual(NONE);

    // Brought back and linked again, the user is no longer in the group it was removed from.
    expectAllAccepted(await tenant.ingest('setUsers', { users: [{ externalId: 'e1', updateSequenceNumber: 3 }] }));
    expectAllAccepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e1', accountId: viewer.accountId, updateSequenceNumber: 3 }] }));
    expect(await access(viewer.token, ids.byUser)).toEqual(ALL);
    expect(await access(viewer.token, ids.byGroup)).toEqual(NONE);
  });

  it('ignores a mapping made to a user while the connection has it deleted', async () => {
    const { tenant, viewer, ids } = await scene({ users: ['e1'], member: false, objects: { X: { permissions: [view([U('e1')])] } } });
    expectAllAccepted(await tenant.ingest('deleteUsers', { items: [{ externalId: 'e1', updateSequenceNumber: 2 }] }));
    expectAllAccepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e1', accountId: viewer.accountId, updateSequenceNumber: 3 }] }));
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
    expectAllAccepted(await tenant.ingest('setUsers', { users: [{ externalId: 'e1', updateSequenceNumber: 4 }] }));
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
  });

  it('takes a group membership change into account on the next request', async () => {
    const { tenant, viewer, ids } = await scene({ users: ['e1'], links: { e1: 'viewer' }, groups: { g1: ['user:e1'] }, member: false, objects: { X: { permissions: [view([G('g1')])] } } });
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
    expectAllAccepted(await tenant.ingest('setGroups', { groups: [{ externalId: 'g1', updateSequenceNumber: 2, members: [] }] }));
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
  });
});

describe('accounts', () => {
  it('shows nothing to a deactivated account, whose token stops working at once', async () => {
    const { tenant, viewer, ids } = await scene({ users: ['e1'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([W], [U('e1')])] } } });
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
    await t.app.services.orgs.setAccountActive(viewer.accountId, false);

    const refused = await t.graphql(viewer.token, 'query($id: ID!) { object(id: $id) { id } }', { id: ids.X });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    // Below the session check too: the principal set is empty, the list filter and the single
    // check deny.
    const principals = () => loadViewerPrincipals(t.db, tenant.orgId, viewer.accountId);
    expect(await principals()).toEqual({ active: false, keys: new Set() });
    expect(await listVisibleObjects(t.db, tenant.orgId, await principals(), { types: ['jira:work-item'] }, { limit: 10 })).toEqual([]);
    expect(await new AccessChecker(t.db, tenant.orgId, principals).can(ids.X, 'VIEW')).toBe(false);

    await t.app.services.orgs.setAccountActive(viewer.accountId, true);
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
  });

  it('shows nothing to an account of another organisation, however the connection maps it', async () => {
    const { tenant, ids } = await scene({ users: ['e1', 'e2'], objects: { X: { permissions: [view([W])] }, Y: { permissions: [view([U('e1')])] }, Z: { permissions: [view([U('e2')])] } } });
    const elsewhere = await createTenant(t, 'Globex');
    const stranger = await elsewhere.account({ email: 'stranger@globex.test' });
    await setObjects(elsewhere, { theirs: { permissions: [view([W])] } });

    const byId = await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e1', accountId: stranger.accountId, updateSequenceNumber: 1 }] });
    expect(byId.results[0]).toMatchObject({ status: 'REJECTED', code: 'UNKNOWN_ACCOUNT' });
    expectAllAccepted(await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'e2', externalEmailAddress: 'stranger@globex.test', updateSequenceNumber: 1 }] }));

    for (const id of [ids.X, ids.Y, ids.Z]) expect(await access(stranger.token, id)).toEqual(NONE);
    const byExternalId = await t.graphql(stranger.token, 'query($c: ID!) { objectByExternalId(connectionId: $c, type: "jira:work-item", externalId: "X") { id } }', { c: tenant.connectionId });
    expect(byExternalId.body).toEqual({ data: { objectByExternalId: null } });
    expect(await listAll(stranger.token)).toHaveLength(1);
  });

  it('does not match an ATLASSIAN_WORKSPACE principal for a member of another site of the organisation', async () => {
    const { tenant, viewer, ids } = await scene({ member: false, objects: { X: { permissions: [view([W])] } } });
    const { cloudId } = await t.app.services.orgs.createSite(tenant.orgId, 'Second site');
    await t.app.services.orgs.addSiteMember(cloudId, viewer.accountId);
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
    await t.app.services.orgs.addSiteMember(tenant.cloudId, viewer.accountId);
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
  });
});

describe('mutations', () => {
  it('answers NOT_FOUND when editing an object the caller may edit but not view', async () => {
    const { viewer, ids } = await scene({ users: ['e1', 'e2'], links: { e1: 'viewer' }, objects: { X: { permissions: [view([U('e2')]), edit([U('e1')])] } } });
    const result = await t.graphql(viewer.token, 'mutation($id: ID!) { updateObject(input: { id: $id, displayName: "changed" }) { id } }', { id: ids.X });
    expect(result.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
  });

  it('answers FORBIDDEN when deleting an object the caller may view and edit but not delete', async () => {
    const { viewer, ids } = await scene({ users: ['e2'], objects: { X: { permissions: [view([W]), del([U('e2')])] } } });
    const result = await t.graphql(viewer.token, 'mutation($id: ID!) { deleteObject(id: $id) { deletedObjectId } }', { id: ids.X });
    expect(result.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(await access(viewer.token, ids.X)).toEqual(VIEW_EDIT);
  });
});

describe('CONTAINER', () => {
  it('shows an object once its missing container is ingested', async () => {
    const { tenant, viewer, ids } = await scene({ objects: { X: { permissions: [view([C])], container: 'P' } } });
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
    await setObjects(tenant, { P: { permissions: [view([W])] } });
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
  });

  it('returns null for an object whose container was deleted', async () => {
    const { tenant, viewer, ids } = await scene({ objects: { P: { permissions: [view([W])] }, X: { permissions: [view([C])], container: 'P' } } });
    expect(await access(viewer.token, ids.X)).toEqual(ALL);
    expectAllAccepted(await tenant.ingest('deleteObjects', { objects: [{ type: 'jira:work-item', externalId: 'P', updateSequenceNumber: 2 }] }));
    expect(await access(viewer.token, ids.P)).toEqual(NONE);
    expect(await access(viewer.token, ids.X)).toEqual(NONE);
  });

  // The object at depth d inherits through d CONTAINER links: c0 is visible by its own
  // principals, c1 is in c0, …, c33 in c32. PRODUCT §3: a chain deeper than 32 matches nobody.
  async function chain(length: number, extra: Record<string, ObjectDef> = {}) {
    const objects: Record<string, ObjectDef> = { c0: { permissions: [view([W])] } };
    for (let d = 1; d < length; d++) objects[`c${d}`] = { permissions: [view([C]), edit([C])], container: `c${d - 1}` };
    return scene({ objects: { ...objects, ...extra } });
  }

  it('shows an object 32 CONTAINER links below the object that grants access', async () => {
    const { viewer, ids } = await chain(34);
    expect(await access(viewer.token, ids.c32)).toEqual(ALL);
  });

  it('returns null for an object 33 CONTAINER links below the object that grants access', async () => {
    const { viewer, ids } = await chain(34);
    expect(await access(viewer.token, ids.c33)).toEqual(NONE);
    const listed = new Set(await listAll(viewer.token));
    expect(Object.keys(ids).filter((key) => listed.has(ids[key]))).toEqual(Array.from({ length: 33 }, (_, d) => `c${d}`));
  });

  it('counts the links from the nearest container that grants access by its own principals', async () => {
    // c20 also names the workspace: c40 is 20 links below it, though 40 below the root.
    const objects: Record<string, ObjectDef> = { c0: { permissions: [view([W])] } };
    for (let d = 1; d <= 53; d++) objects[`c${d}`] = { permissions: [view(d === 20 ? [C, W] : [C])], container: `c${d - 1}` };
    const { viewer, ids } = await scene({ objects });
    expect(await access(viewer.token, ids.c40)).toEqual(ALL);
    expect(await access(viewer.token, ids.c52)).toEqual(ALL);
    expect(await access(viewer.token, ids.c53)).toEqual(NONE);
  });

  it('lists an inheriting object among the children of its container', async () => {
    const { viewer, ids } = await scene({ users: ['e2'], objects: { P: { permissions: [view([W])] }, X: { permissions: [view([C])], container: 'P' }, Y: { permissions: [view([U('e2')])], container: 'P' } } });
    const result = await t.graphql(viewer.token, 'query($id: ID!) { object(id: $id) { children(first: 10) { edges { node { id } } } } }', { id: ids.P });
    expect(result.body.data.object.children.edges.map((e: any) => e.node.id)).toEqual([ids.X]);
  });
});

describe('evaluation cost', () => {
  // A chain whose every object has two VIEW controls naming CONTAINER (e.g. [[CONTAINER, USER a],
  // [CONTAINER, USER b]]) is legal input. Deciding VIEW on its deepest object should read each
  // object of the chain a bounded number of times, not once per path through the controls.
  it('decides an object deep in a chain with two CONTAINER controls per object in time linear in the depth', () => {
    const depth = 16;
    const nodes = new Map<string, AclNode>();
    const acl = (VIEW: string[][]): CompiledAcl => ({ VIEW, EDIT: [], DELETE: [] });
    nodes.set('n0', { acl: acl([['w:site']]), containerId: null });
    for (let d = 1; d <= depth; d++) nodes.set(`n${d}`, { acl: acl([['c', 'u:conn:a'], ['c', 'u:conn:b']]), containerId: `n${d - 1}` });
    let lookups = 0;
    const facts = (id: string) => {
      lookups++;
      return nodes.get(id);
    };
    expect(isAllowed({ active: true, keys: new Set(['w:site']) }, facts, `n${depth}`, 'DELETE')).toBe(true);
    // Three actions, a handful of reads per object each; the engine in src reads 2^(depth+1).
    expect(lookups).toBeLessThanOrEqual(10 * (depth + 1));
  });
});
