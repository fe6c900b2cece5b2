// The worlds, the reference model and the checks of the ACL property tests (PRODUCT §3, §4),
// test/authz/acl-property-*.test.ts: a small reference model written from the product rules
// alone; random worlds of accounts, third-party users, nested groups, links and objects are built
// through the services, and what the list filter (SQL) and the batched single checks answer is
// compared, account by account and object by object, with the model. Each property is a file of
// its own, so that the suite's longest work runs on several workers at once.
import { CLI_CLIENT_ID } from '../../src/modules/session/credentials/client-ids.ts';
import fc from 'fast-check';
import { afterAll, beforeAll } from 'vitest';
import { loadViewerPrincipals } from '../../src/authz/viewer-principals.ts';
import { listVisibleObjects, type ObjectRow, type VisibilityPlanTrace, type VisibilityTuning } from '../../src/authz/visibility-filter.ts';
import { type ConnectionCaller } from '../../src/modules/session/caller.ts';
import { startTestApp, type TestApp } from './app.ts';
import { onCitus } from './database.ts';

export const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 0x7fffffff);
// PRODUCT §3: a container chain deeper than this matches nobody. The object at depth d (d
// CONTAINER links below the object whose own principals decide) is visible for d <= 32.
const MAX_HOPS = 32;
const OBJECT_TYPES = ['jira:work-item', 'jira:project', 'confluence:page', 'graph:document'] as const;
// A few instants so that several objects share one (ties are broken by id); the 2020 ones are
// older than the filler of the padded organisation (stamped with the test clock, which starts at
// 2026-11-23T08:00Z), the others newer, yet within the 24 hours ahead that ingestion accepts.
const TIMES = ['2026-11-23T20:00:00.000Z', '2026-11-23T20:00:00.000Z', '2026-11-23T20:00:00.001Z', '2026-11-24T00:00:00.000Z', '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.005Z'];
export const ACTIONS = ['VIEW', 'EDIT', 'DELETE'] as const;
type Action = (typeof ACTIONS)[number];

// ---------------------------------------------------------------------------------------------
// Worlds
// ---------------------------------------------------------------------------------------------

type PrincipalSpec = { type: 'USER'; user: number } | { type: 'GROUP'; group: number } | { type: 'ATLASSIAN_WORKSPACE' } | { type: 'CONTAINER' };
interface PermissionSpec {
  /** null: the action is left out and defaults to VIEW. */
  action: Action | null;
  controls: PrincipalSpec[][];
}
interface ObjectSpec {
  type: (typeof OBJECT_TYPES)[number];
  /** Index of an earlier object (so no cycles), 'missing' for a container never ingested, or none. */
  container: number | 'missing' | null;
  permissions: PermissionSpec[];
  /** An earlier version (lower sequence number) with another ACL and container, overwritten later. */
  previous: { container: number | 'missing' | null; permissions: PermissionSpec[] } | null;
  /** Ingestion batch (0..2): a container may arrive after its children. */
  batch: number;
  time: number;
  deleted: boolean;
}
interface AccountSpec {
  active: boolean;
  member: boolean;
  /** Created after the mappings, so an e-mail mapping to it is pending until then. */
  late: boolean;
}
interface MappingSpec {
  user: number;
  /** An account of the world, or the account of another organisation. */
  target: number | 'foreign';
  by: 'id' | 'email';
  emailCase: 'same' | 'upper' | 'lower';
}
interface GroupSpec {
  members: ({ type: 'USER'; user: number } | { type: 'GROUP'; group: number })[];
  deleted: boolean;
}
interface WorldSpec {
  accounts: AccountSpec[];
  users: { deleted: boolean }[];
  groups: GroupSpec[];
  mappings: MappingSpec[];
  objects: ObjectSpec[];
  pageSize: number;
  /** Whether this run also asks as the account of another organisation (a request per run is costly). */
  checkForeign: boolean;
}

// Indexes past the end of users/groups name principals that do not exist (PRODUCT §3: anything
// unknown denies).
const userIdOf = (world: WorldSpec, user: number) => (user < world.users.length ? `u${user}` : `ghost-user-${user}`);
const groupIdOf = (world: WorldSpec, group: number) => (group < world.groups.length ? `g${group}` : `ghost-group-${group}`);

/** The value `yes` times in `yes + no`, else null. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, yes: number, no: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: no, arbitrary: fc.constant(null) }, { weight: yes, arbitrary });

const principalArb = (containerWeight: number): fc.Arbitrary<PrincipalSpec> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ type: fc.constant('USER' as const), user: fc.nat({ max: 4 }) }) },
    { weight: 3, arbitrary: fc.record({ type: fc.constant('GROUP' as const), group: fc.nat({ max: 3 }) }) },
    { weight: 3, arbitrary: fc.constant({ type: 'ATLASSIAN_WORKSPACE' as const }) },
    { weight: containerWeight, arbitrary: fc.constant({ type: 'CONTAINER' as const }) },
  );
const controlArb = (containerWeight: number) => fc.array(principalArb(containerWeight), { minLength: 1, maxLength: 3 });

/** 1–2 VIEW permission objects (1–3 controls in all), and sometimes EDIT and DELETE ones (1–2). */
const permissionsArb = (containerWeight: number): fc.Arbitrary<PermissionSpec[]> =>
  fc
    .record({
      view: fc.record({ action: fc.constantFrom<Action | null>('VIEW', null), controls: fc.array(controlArb(containerWeight), { minLength: 1, maxLength: 2 }) }),
      moreView: sometimes(fc.record({ action: fc.constantFrom<Action | null>('VIEW', null), control: controlArb(containerWeight) }), 1, 3),
      edit: sometimes(fc.array(controlArb(containerWeight), { minLength: 1, maxLength: 2 }), 1, 1),
      del: sometimes(fc.array(controlArb(containerWeight), { minLength: 1, maxLength: 2 }), 1, 1),
    })
    .map(({ view, moreView, edit, del }) => [
      view,
      ...(moreView ? [{ action: moreView.action, controls: [moreView.control] }] : []),
      ...(edit ? [{ action: 'EDIT' as const, controls: edit }] : []),
      ...(del ? [{ action: 'DELETE' as const, controls: del }] : []),
    ])
    .map(limitContainerControls);

/**
 * At most two controls per action name CONTAINER. The engine in src evaluates every CONTAINER
 * control again up the whole chain (exponential in depth, see acl-cases.test.ts); more would only
 * make some runs slow without testing anything else.
 */
function limitContainerControls(permissions: PermissionSpec[]): PermissionSpec[] {
  const seen: Record<Action, number> = { VIEW: 0, EDIT: 0, DELETE: 0 };
  return permissions.map((p) => ({
    action: p.action,
    controls: p.controls.map((control) => {
      if (!control.some((pr) => pr.type === 'CONTAINER')) return control;
      if (++seen[p.action ?? 'VIEW'] <= 2) return control;
      const rest = control.filter((pr) => pr.type !== 'CONTAINER');
      return rest.length > 0 ? rest : [{ type: 'ATLASSIAN_WORKSPACE' as const }];
    }),
  }));
}

const containerChoiceArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant('missing' as const) },
  { weight: 6, arbitrary: fc.nat({ max: 1000 }) },
);
const fixContainer = (choice: number | 'missing' | null, index: number) => (typeof choice === 'number' ? (index === 0 ? null : choice % index) : choice);

export const worldArb = (maxObjects: number): fc.Arbitrary<WorldSpec> =>
  fc
    .record({
      accounts: fc.array(
        fc.record({ active: fc.nat({ max: 4 }).map((n) => n !== 0), member: fc.nat({ max: 2 }).map((n) => n !== 0), late: fc.nat({ max: 3 }).map((n) => n === 0) }),
        { minLength: 1, maxLength: 4 },
      ),
      users: fc.array(fc.record({ deleted: fc.nat({ max: 6 }).map((n) => n === 0) }), { maxLength: 4 }),
      groups: fc.array(
        fc.record({
          members: fc.array(
            fc.oneof(fc.record({ type: fc.constant('USER' as const), user: fc.nat({ max: 4 }) }), fc.record({ type: fc.constant('GROUP' as const), group: fc.nat({ max: 3 }) })),
            { maxLength: 4 },
          ),
          deleted: fc.nat({ max: 8 }).map((n) => n === 0),
        }),
        { maxLength: 3 },
      ),
      mappings: fc.array(
        fc.record({
          user: fc.nat({ max: 4 }),
          target: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.constant('foreign' as const) }),
          by: fc.constantFrom('id' as const, 'email' as const),
          emailCase: fc.constantFrom('same' as const, 'upper' as const, 'lower' as const),
        }),
        { maxLength: 8 },
      ),
      objects: fc.array(
        fc.record({
          type: fc.constantFrom(...OBJECT_TYPES),
          container: containerChoiceArb,
          permissions: permissionsArb(3),
          previous: sometimes(fc.record({ container: containerChoiceArb, permissions: permissionsArb(3) }), 1, 4),
          batch: fc.nat({ max: 2 }),
          time: fc.nat({ max: TIMES.length - 1 }),
          deleted: fc.nat({ max: 10 }).map((n) => n === 0),
        }),
        { minLength: 1, maxLength: maxObjects },
      ),
      pageSize: fc.integer({ min: 1, max: 8 }),
      checkForeign: fc.nat({ max: 7 }).map((n) => n === 0),
      // Ingesting in several batches costs a few statements each: one world in three does.
      staged: fc.nat({ max: 2 }).map((n) => n === 0),
    })
    .map(({ staged, ...w }) => ({
      ...w,
      mappings: w.mappings.map((m) => ({ ...m, target: m.target === 'foreign' ? m.target : m.target % w.accounts.length })),
      objects: w.objects.map((o, i) => ({
        ...o,
        batch: staged ? o.batch : 0,
        container: fixContainer(o.container, i),
        previous: o.previous ? { ...o.previous, container: fixContainer(o.previous.container, i) } : null,
      })),
    }));

/**
 * A chain of 28–36 objects, each in the one before (object i is at depth i below the root), with
 * one control per action naming CONTAINER (plus other principals now and then, which may end the
 * inheritance early), and a few loose objects.
 */
export const chainWorldArb: fc.Arbitrary<WorldSpec> = fc
  .record({
    base: worldArb(3),
    length: fc.oneof(fc.integer({ min: 28, max: 36 }), fc.integer({ min: 31, max: 34 })),
    root: permissionsArb(0),
    links: fc.array(
      fc.record({
        extra: sometimes(principalArb(0), 1, 7),
        edit: fc.nat({ max: 3 }),
        del: fc.nat({ max: 3 }),
        time: fc.nat({ max: TIMES.length - 1 }),
        batch: fc.nat({ max: 2 }),
      }),
      { minLength: 36, maxLength: 36 },
    ),
  })
  .map(({ base, length, root, links }) => {
    const chain: ObjectSpec[] = [{ type: 'jira:project', container: null, permissions: root, previous: null, batch: links[0].batch, time: links[0].time, deleted: false }];
    for (let i = 1; i < length; i++) {
      const link = links[i];
      const inherit: PrincipalSpec[] = link.extra ? [{ type: 'CONTAINER' }, link.extra] : [{ type: 'CONTAINER' }];
      const permissions: PermissionSpec[] = [{ action: null, controls: [inherit] }];
      // EDIT and DELETE: none (follows VIEW), inherited, or a workspace control.
      if (link.edit === 1) permissions.push({ action: 'EDIT', controls: [[{ type: 'CONTAINER' }]] });
      if (link.edit === 2) permissions.push({ action: 'EDIT', controls: [[{ type: 'ATLASSIAN_WORKSPACE' }]] });
      if (link.del === 1) permissions.push({ action: 'DELETE', controls: [[{ type: 'CONTAINER' }]] });
      if (link.del === 2) permissions.push({ action: 'DELETE', controls: [[{ type: 'USER', user: 0 }]] });
      chain.push({ type: 'jira:work-item', container: i - 1, permissions, previous: null, batch: link.batch, time: link.time, deleted: false });
    }
    const loose = base.objects.map((o) => ({ ...o, container: typeof o.container === 'number' ? o.container + length : o.container, previous: null }));
    return { ...base, objects: [...chain, ...loose], pageSize: base.pageSize + 6 };
  });

// ---------------------------------------------------------------------------------------------
// The reference model: PRODUCT §3 and §4, independent of src/authz.
// ---------------------------------------------------------------------------------------------

export class Reference {
  /** Final link of each existing third-party user: an account index, or none. */
  private readonly links = new Map<number, number>();
  private readonly memo = new Map<string, boolean>();

  constructor(
    private readonly world: WorldSpec,
    private readonly maxHops = MAX_HOPS,
  ) {
    for (const m of world.mappings) {
      if (m.user >= world.users.length) continue;
      // PRODUCT §1: an account of another organisation is unknown here. By id the mapping is
      // rejected and changes nothing; by e-mail it waits for an account of this organisation.
      if (m.target === 'foreign') {
        if (m.by === 'email') this.links.delete(m.user);
      } else this.links.set(m.user, m.target);
    }
    // PRODUCT §4: deleting a user removes its link.
    world.users.forEach((u, i) => u.deleted && this.links.delete(i));
  }

  private accountLinkedTo(user: number): number | undefined {
    if (user >= this.world.users.length || this.world.users[user].deleted) return undefined;
    return this.links.get(user);
  }

  /** GROUP(g): g contains, directly or through nested groups, a user linked to the account. */
  private groupHasAccount(group: number, account: number): boolean {
    const seen = new Set<number>();
    const visit = (g: number): boolean => {
      if (g >= this.world.groups.length || this.world.groups[g].deleted || seen.has(g)) return false;
      seen.add(g);
      return this.world.groups[g].members.some((m) =>
        m.type === 'USER' ? this.accountLinkedTo(m.user) === account : m.group < this.world.groups.length && !this.world.groups[m.group].deleted && visit(m.group),
      );
    };
    return visit(group);
  }

  private live(object: number): boolean {
    return object >= 0 && object < this.world.objects.length && !this.world.objects[object].deleted;
  }

  /** May the account perform the action on the object, reached through `hops` CONTAINER links? */
  may(account: number, object: number, action: Action, hops = 0): boolean {
    const key = `${account}:${object}:${action}:${hops}`;
    let result = this.memo.get(key);
    if (result === undefined) {
      result = this.decide(account, object, action, hops);
      this.memo.set(key, result);
    }
    return result;
  }

  private decide(account: number, object: number, action: Action, hops: number): boolean {
    const a = this.world.accounts[account];
    if (!a.active) return false; // a deactivated account matches nothing
    if (!this.live(object)) return false;
    // EDIT needs VIEW; DELETE needs EDIT.
    if (action === 'EDIT' && !this.may(account, object, 'VIEW', hops)) return false;
    if (action === 'DELETE' && !this.may(account, object, 'EDIT', hops)) return false;
    const o = this.world.objects[object];
    const controls = o.permissions.filter((p) => (p.action ?? 'VIEW') === action).flatMap((p) => p.controls);
    if (action === 'VIEW' && controls.length === 0) return false;
    // AND over controls, OR over the principals of a control.
    return controls.every((control) =>
      control.some((p) => {
        switch (p.type) {
          case 'USER':
            return this.accountLinkedTo(p.user) === account;
          case 'GROUP':
            return this.groupHasAccount(p.group, account);
          case 'ATLASSIAN_WORKSPACE':
            return a.member;
          case 'CONTAINER':
            return typeof o.container === 'number' && this.live(o.container) && hops + 1 <= this.maxHops && this.may(account, o.container, action, hops + 1);
        }
      }),
    );
  }

  visible(account: number): Set<number> {
    return new Set(this.world.objects.flatMap((_, i) => (this.may(account, i, 'VIEW') ? [i] : [])));
  }
}

// ---------------------------------------------------------------------------------------------
// Building a world through the services
// ---------------------------------------------------------------------------------------------

export let t: TestApp;
let scopes: string[];
let readableTypes: string[];
let runNumber = 0;
let foreign: { orgId: string; accountId: string; email: string; token: string };

interface Space {
  orgId: string;
  cloudId: string;
  connectionId: string;
  caller: ConnectionCaller;
}

interface BuiltWorld {
  space: Space;
  accounts: { accountId: string; token: string; email: string }[];
  /** Object index -> id (deleted ones keep their id). */
  objectIds: string[];
}

export async function newSpace(orgId?: string): Promise<Space> {
  const { orgs } = t.app.services;
  const org = orgId ?? (await orgs.createOrganization(`Property ${runNumber}`)).orgId;
  const { cloudId } = await orgs.createSite(org, `site ${runNumber}`);
  const { connectionId, clientId } = await orgs.createConnection(cloudId, 'jira');
  return { orgId: org, cloudId, connectionId, caller: { kind: 'connection', orgId: org, connectionId, cloudId, clientId, sessionId: 'property-test', scopes: [] } };
}

async function newAccount(space: Space, email: string, member: boolean) {
  const { orgs, sessions } = t.app.services;
  const { accountId } = await orgs.createAccount({ orgId: space.orgId, email, displayName: email.split('@')[0], cloudIds: member ? [space.cloudId] : [] });
  const { accessToken } = await sessions.issue({ orgId: space.orgId, accountId }, CLI_CLIENT_ID, scopes);
  return { accountId, token: accessToken, email };
}

export function expectAll(payload: { results: { status: string; code: string | null; message: string | null }[] }, status: string, what: string) {
  const odd = payload.results.filter((r) => r.status !== status);
  if (odd.length > 0) throw new Error(`${what}: expected every item ${status}, got ${JSON.stringify(odd)}`);
}

function principalInput(world: WorldSpec, p: PrincipalSpec) {
  switch (p.type) {
    case 'USER':
      return { type: 'USER' as const, id: userIdOf(world, p.user) };
    case 'GROUP':
      return { type: 'GROUP' as const, id: groupIdOf(world, p.group) };
    default:
      return { type: p.type };
  }
}

function objectInput(world: WorldSpec, index: number, version: { container: number | 'missing' | null; permissions: PermissionSpec[] }, usn: number) {
  const o = world.objects[index];
  const container = version.container;
  return {
    type: o.type,
    externalId: `o${index}`,
    displayName: `Object ${index}`,
    updateSequenceNumber: usn,
    lastUpdatedAt: new Date(TIMES[o.time]),
    container: container === null ? null : container === 'missing' ? { type: 'jira:project', externalId: `missing-${index}` } : { type: world.objects[container].type, externalId: `o${container}` },
    permissions: version.permissions.map((p) => ({ action: p.action, accessControls: p.controls.map((c) => ({ principals: c.map((pr) => principalInput(world, pr)) })) })),
  };
}

export async function buildWorld(world: WorldSpec, space: Space): Promise<BuiltWorld> {
  const { orgs, directory, objects } = t.app.services;
  const caller = space.caller;
  const run = ++runNumber;
  const emailOf = (i: number) => `Person${i}.run${run}@Prop.test`;
  const accounts: BuiltWorld['accounts'] = [];
  for (const [i, a] of world.accounts.entries()) if (!a.late) accounts[i] = await newAccount(space, emailOf(i), a.member);

  if (world.users.length > 0) {
    expectAll(await directory.setUsers(caller, space.connectionId, world.users.map((_, i) => ({ externalId: `u${i}`, displayName: `User ${i}`, updateSequenceNumber: 1 }))), 'ACCEPTED', 'setUsers');
  }
  if (world.groups.length > 0) {
    const groups = world.groups.map((g, i) => ({
      externalId: `g${i}`,
      updateSequenceNumber: 1,
      members: g.members.map((m) => (m.type === 'USER' ? { type: 'USER' as const, externalId: userIdOf(world, m.user) } : { type: 'GROUP' as const, externalId: groupIdOf(world, m.group) })),
    }));
    expectAll(await directory.setGroups(caller, space.connectionId, groups), 'ACCEPTED', 'setGroups');
  }

  const mappings = world.mappings
    .filter((m) => m.user < world.users.length)
    .map((m, i) => {
      const usn = i + 1;
      const externalId = `u${m.user}`;
      const email = m.target === 'foreign' ? foreign.email : emailOf(m.target);
      const cased = m.emailCase === 'upper' ? email.toUpperCase() : m.emailCase === 'lower' ? email.toLowerCase() : email;
      if (m.by === 'id' && m.target === 'foreign') return { externalId, accountId: foreign.accountId, updateSequenceNumber: usn };
      // An account created later has no id yet: it can only be named by e-mail.
      if (m.by === 'id' && m.target !== 'foreign' && !world.accounts[m.target].late) return { externalId, accountId: accounts[m.target].accountId, updateSequenceNumber: usn };
      return { externalId, externalEmailAddress: cased, updateSequenceNumber: usn };
    });
  if (mappings.length > 0) {
    const payload = await directory.mapUsers(caller, space.connectionId, mappings);
    payload.results.forEach((r, i) => {
      const expected = mappings[i].accountId === foreign.accountId ? 'REJECTED' : 'ACCEPTED';
      if (r.status !== expected) throw new Error(`mapUsers item ${i}: expected ${expected}, got ${JSON.stringify(r)}`);
    });
  }
  // PRODUCT §4: an e-mail mapping made before the account exists links when it is created.
  for (const [i, a] of world.accounts.entries()) if (a.late) accounts[i] = await newAccount(space, emailOf(i), a.member);

  const deletedUsers = world.users.flatMap((u, i) => (u.deleted ? [{ externalId: `u${i}`, updateSequenceNumber: 2 }] : []));
  if (deletedUsers.length > 0) expectAll(await directory.deleteUsers(caller, space.connectionId, deletedUsers), 'ACCEPTED', 'deleteUsers');
  const deletedGroups = world.groups.flatMap((g, i) => (g.deleted ? [{ externalId: `g${i}`, updateSequenceNumber: 2 }] : []));
  if (deletedGroups.length > 0) expectAll(await directory.deleteGroups(caller, space.connectionId, deletedGroups), 'ACCEPTED', 'deleteGroups');

  for (let batch = 0; batch <= 2; batch++) {
    const items = world.objects.flatMap((o, i) => {
      if (o.batch !== batch) return [];
      const final = objectInput(world, i, o, 2);
      return o.previous ? [objectInput(world, i, o.previous, 1), final] : [final];
    });
    for (let i = 0; i < items.length; i += 100) expectAll(await objects.setObjects(caller, space.connectionId, items.slice(i, i + 100)), 'ACCEPTED', 'setObjects');
  }
  const deletedObjects = world.objects.flatMap((o, i) => (o.deleted ? [{ type: o.type, externalId: `o${i}`, updateSequenceNumber: 3 }] : []));
  if (deletedObjects.length > 0) expectAll(await objects.deleteObjects(caller, space.connectionId, deletedObjects), 'ACCEPTED', 'deleteObjects');

  for (const [i, a] of world.accounts.entries()) if (!a.active) await orgs.setAccountActive(accounts[i].accountId, false);

  const rows = await t.db.selectFrom('graph_object').select(['id', 'external_id']).where('org_id', '=', space.orgId).where('connection_id', '=', space.connectionId).execute();
  const idByExternal = new Map(rows.map((r) => [r.external_id, r.id]));
  const objectIds = world.objects.map((_, i) => idByExternal.get(`o${i}`)!);
  return { space, accounts, objectIds };
}

// ---------------------------------------------------------------------------------------------
// Observing what the implementation answers
// ---------------------------------------------------------------------------------------------

const PAGE_FIELDS = 'edges { cursor node { id lastUpdatedAt } } pageInfo { hasNextPage endCursor }';
const MAX_ALIASES_PER_REQUEST = 25;

interface Observed {
  listed: string[];
  single: Map<string, { edit: boolean; del: boolean } | null>;
}

const checksOf = (ids: string[]) => ids.map((id, i) => `o${i}: object(id: ${JSON.stringify(id)}) { id viewerCanEdit viewerCanDelete }`).join(' ');

function recordChecks(ids: string[], data: any, into: Observed['single']) {
  ids.forEach((id, i) => into.set(id, data[`o${i}`] ? { edit: data[`o${i}`].viewerCanEdit, del: data[`o${i}`].viewerCanDelete } : null));
}

/**
 * Over the API: pages through `objects(first: k)` with cursors (unless `list` is false) and asks
 * `object(id) { viewerCanEdit viewerCanDelete }` for every id (the first chunk rides on the first page).
 */
async function observeThroughApi(token: string, pageSize: number, ids: string[], list = true): Promise<Observed> {
  const single: Observed['single'] = new Map();
  const listed: string[] = [];
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += MAX_ALIASES_PER_REQUEST) chunks.push(ids.slice(i, i + MAX_ALIASES_PER_REQUEST));
  let after: string | null = null;
  let lastTime = Infinity;
  for (let page = 0; list; page++) {
    if (page > 200) throw new Error('objects kept returning pages');
    const checks = page === 0 ? checksOf(chunks[0] ?? []) : '';
    const result = await t.graphql(token, `query($first: Int!, $after: String) { objects(first: $first, after: $after) { ${PAGE_FIELDS} } ${checks} }`, { first: pageSize, after });
    if (result.status !== 200 || result.body.errors) throw new Error(`objects failed: ${result.status} ${JSON.stringify(result.body.errors)}`);
    if (page === 0) recordChecks(chunks.shift() ?? [], result.body.data, single);
    const connection = result.body.data.objects;
    for (const edge of connection.edges) {
      const time = Date.parse(edge.node.lastUpdatedAt);
      if (time > lastTime) throw new Error(`objects is not newest first: ${edge.node.lastUpdatedAt} after an older one`);
      lastTime = time;
      listed.push(edge.node.id);
    }
    if (!connection.pageInfo.hasNextPage) break;
    if (connection.edges.length !== pageSize) throw new Error(`a page before the last holds ${connection.edges.length} of ${pageSize} objects`);
    after = connection.pageInfo.endCursor;
  }
  for (const chunk of chunks) {
    const result = await t.graphql(token, `{ ${checksOf(chunk)} }`);
    if (result.status !== 200 || result.body.errors) throw new Error(`object failed: ${result.status} ${JSON.stringify(result.body.errors)}`);
    recordChecks(chunk, result.body.data, single);
  }
  return { listed, single };
}

export const planCounts = { forward: 0, streams: 0, text: 0 };
/** Pages of the streams plan with capped walks, by how many rounds they took. */
export const streamRounds = { one: 0, more: 0 };

/** What the worlds exercised, to show the properties are not vacuous. */
export const coverage = { view: 0, noView: 0, edit: 0, noEdit: 0, del: 0, noDel: 0, needs32Hops: 0, cutAt33Hops: 0 };

export function countCoverage(world: WorldSpec, ref: Reference) {
  const unlimited = new Reference(world, Infinity);
  const shorter = new Reference(world, MAX_HOPS - 1);
  world.accounts.forEach((a, account) => {
    if (!a.active) return;
    world.objects.forEach((_, object) => {
      const view = ref.may(account, object, 'VIEW');
      coverage[view ? 'view' : 'noView']++;
      if (view) coverage[ref.may(account, object, 'EDIT') ? 'edit' : 'noEdit']++;
      if (ref.may(account, object, 'EDIT')) coverage[ref.may(account, object, 'DELETE') ? 'del' : 'noDel']++;
      if (view && !shorter.may(account, object, 'VIEW')) coverage.needs32Hops++;
      if (!view && unlimited.may(account, object, 'VIEW')) coverage.cutAt33Hops++;
    });
  });
}

export function resetCoverage() {
  for (const key of Object.keys(coverage) as (keyof typeof coverage)[]) coverage[key] = 0;
}

/**
 * Pages through the SQL list filter directly, as `objects` does, recording the plan it chose; or
 * with one plan forced, so that each statement shape is checked on every world.
 */
async function listThroughFilter(orgId: string, accountId: string, pageSize: number, tuning: VisibilityTuning = {}): Promise<string[]> {
  const viewer = await loadViewerPrincipals(t.db, orgId, accountId);
  const listed: string[] = [];
  let after: { lastUpdatedAt: Date; id: string } | null = null;
  for (let page = 0; page < 200; page++) {
    const trace = {} as VisibilityPlanTrace;
    const rows: ObjectRow[] = await listVisibleObjects(t.db, orgId, viewer, { types: readableTypes }, { after, limit: pageSize + 1 }, trace, tuning);
    if (trace.plan && !tuning.plan) planCounts[trace.plan]++;
    if (tuning.streamCap) streamRounds[trace.statements > 1 ? 'more' : 'one']++;
    const shown = rows.slice(0, pageSize);
    listed.push(...shown.map((r) => r.id));
    if (rows.length <= pageSize) return listed;
    const last = shown.at(-1)!;
    after = { lastUpdatedAt: last.last_updated_at, id: last.id };
  }
  throw new Error('the list filter kept returning pages');
}

function describeWorld(world: WorldSpec, built: BuiltWorld, account: number) {
  return `account ${account} (${JSON.stringify(world.accounts[account])}); object ids ${JSON.stringify(built.objectIds.map((id, i) => `o${i}=${id}`))}`;
}

function compareList(world: WorldSpec, built: BuiltWorld, account: number, listed: string[], expected: Set<number>, how: string) {
  const indexOf = new Map(built.objectIds.map((id, i) => [id, i]));
  if (new Set(listed).size !== listed.length) throw new Error(`${how} lists an object twice for ${describeWorld(world, built, account)}: ${listed.join(', ')}`);
  const got = listed.map((id) => indexOf.get(id) ?? `foreign:${id}`);
  const want = [...expected].sort((a, b) => a - b);
  const gotSorted = [...got].sort((a, b) => String(a).localeCompare(String(b), 'en', { numeric: true }));
  if (JSON.stringify(gotSorted) !== JSON.stringify(want)) {
    throw new Error(`${how} for ${describeWorld(world, built, account)}: listed objects ${JSON.stringify(gotSorted)}, the reference says ${JSON.stringify(want)}`);
  }
}

function compareSingles(world: WorldSpec, built: BuiltWorld, ref: Reference, account: number, single: Observed['single']) {
  built.objectIds.forEach((id, i) => {
    const got = single.get(id);
    const want = ref.may(account, i, 'VIEW') ? { edit: ref.may(account, i, 'EDIT'), del: ref.may(account, i, 'DELETE') } : null;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`object(o${i}) for ${describeWorld(world, built, account)}: got ${JSON.stringify(got)} (viewerCanEdit/viewerCanDelete), the reference says ${JSON.stringify(want)}`);
    }
  });
}

export async function checkForeignAccount(built: BuiltWorld) {
  const observed = await observeThroughApi(foreign.token, 100, built.objectIds);
  const leaked = observed.listed.filter((id) => built.objectIds.includes(id));
  if (leaked.length > 0) throw new Error(`an account of another organisation lists ${leaked.join(', ')}`);
  for (const id of built.objectIds) if (observed.single.get(id) !== null) throw new Error(`an account of another organisation sees object ${id}`);
}

/**
 * Compares, for every account of the world, the list (over the API, or by calling the SQL list
 * filter directly) and every single check with the reference.
 */
export async function checkWorld(world: WorldSpec, built: BuiltWorld, list: 'api' | 'filter') {
  const ref = new Reference(world);
  countCoverage(world, ref);
  for (const [i, a] of world.accounts.entries()) {
    const { accountId, token } = built.accounts[i];
    if (!a.active) {
      // PRODUCT §1: a deactivated account's sessions stop working at once; it sees nothing.
      const refused = await t.graphql(token, '{ objects(first: 1) { edges { node { id } } } }');
      if (refused.status !== 401) throw new Error(`a deactivated account got HTTP ${refused.status}`);
      const viewer = await loadViewerPrincipals(t.db, built.space.orgId, accountId);
      if (viewer.active || viewer.keys.size > 0) throw new Error('a deactivated account has principals');
      continue;
    }
    const expected = ref.visible(i);
    const observed = await observeThroughApi(token, world.pageSize, built.objectIds, list === 'api');
    if (list === 'api') compareList(world, built, i, observed.listed, expected, 'objects (API)');
    else {
      compareList(world, built, i, await listThroughFilter(built.space.orgId, accountId, world.pageSize), expected, 'listVisibleObjects');
      // The streams plan also in rounds whose walks stop after one entry, eight, 64, then not at all.
      const forced: VisibilityTuning[] = [{ plan: 'forward' }, { plan: 'streams' }, { plan: 'streams', streamCap: 1 }, { plan: 'text' }];
      for (const tuning of forced) {
        compareList(world, built, i, await listThroughFilter(built.space.orgId, accountId, world.pageSize, tuning), expected, `listVisibleObjects, ${JSON.stringify(tuning)}`);
      }
      // `children` is the same filter restricted to one container: a few containers per account.
      const containers = [...new Set(world.objects.flatMap((o) => (typeof o.container === 'number' ? [o.container] : [])))].slice(0, 3);
      for (const container of containers) {
        const children = new Set([...expected].filter((j) => world.objects[j].container === container));
        const viewer = await loadViewerPrincipals(t.db, built.space.orgId, accountId);
        for (const plan of [undefined, 'forward', 'streams'] as const) {
          const rows = await listVisibleObjects(t.db, built.space.orgId, viewer, { types: readableTypes, containerId: built.objectIds[container] }, { limit: 100 }, undefined, { plan });
          compareList(world, built, i, rows.map((r) => r.id), children, `listVisibleObjects with containerId o${container}, ${plan ?? 'chosen'} plan`);
        }
      }
    }
    compareSingles(world, built, ref, i, observed.single);
  }
}

// ---------------------------------------------------------------------------------------------

/** The app and another organisation's account for a property file; call at its top. */
export function usePropertyApp(): void {
  beforeAll(async () => {
    t = await startTestApp();
    const { orgs, sessions, catalog } = t.app.services;
    scopes = catalog.permissions.map((p) => p.key);
    readableTypes = catalog.objectTypes.filter((type) => type.authority === 'oauth').map((type) => type.name);
    const { orgId } = await orgs.createOrganization('Elsewhere');
    const space = await newSpace(orgId);
    const email = 'Someone@Elsewhere.test';
    const { accountId } = await orgs.createAccount({ orgId, email, displayName: 'Someone', cloudIds: [space.cloudId] });
    // A long-lived token: the test clock advances with every reading.
    const { accessToken } = await sessions.issue({ orgId, accountId }, CLI_CLIENT_ID, scopes, 30 * 24 * 3600);
    await t.app.services.objects.setObjects(space.caller, space.connectionId, [
      { type: 'jira:work-item', externalId: 'theirs', displayName: 'Theirs', updateSequenceNumber: 1, permissions: [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }] },
    ]);
    foreign = { orgId, accountId, email, token: accessToken };
    console.log(`fast-check seed ${SEED} (rerun with FC_SEED=${SEED})`);
  });
  afterAll(() => t?.close());
}

/**
 * Always run first (fast-check `examples`): a chain of 35 under a root every member may view, so
 * that objects at depth 32 (visible) and 33 (not) occur whatever the seed. The non-member is
 * linked to u0, which may edit the root, and inherits nothing below it.
 */
export function boundaryExample(): WorldSpec {
  const objects: ObjectSpec[] = [
    {
      type: 'jira:project',
      container: null,
      permissions: [
        { action: 'VIEW', controls: [[{ type: 'ATLASSIAN_WORKSPACE' }, { type: 'USER', user: 0 }]] },
        { action: 'EDIT', controls: [[{ type: 'USER', user: 0 }, { type: 'ATLASSIAN_WORKSPACE' }]] },
      ],
      previous: null,
      batch: 0,
      time: 4,
      deleted: false,
    },
  ];
  for (let i = 1; i < 35; i++) {
    objects.push({
      type: 'jira:work-item',
      container: i - 1,
      permissions: [
        { action: null, controls: [[{ type: 'CONTAINER' }]] },
        { action: 'EDIT', controls: [[{ type: 'CONTAINER' }]] },
      ],
      previous: null,
      batch: i % 2,
      time: i % TIMES.length,
      deleted: false,
    });
  }
  return {
    accounts: [
      { active: true, member: true, late: false },
      { active: true, member: false, late: false },
    ],
    users: [{ deleted: false }],
    groups: [],
    mappings: [{ user: 0, target: 1, by: 'id', emailCase: 'same' }],
    objects,
    pageSize: 8,
    checkForeign: true,
  };
}

// On Citus the same statements run, routed to one worker: a third of the worlds checks them there,
// while the embedded and PostgreSQL passes explore the rules with all of them (a small world
// takes 0.08 s on PostgreSQL, 0.44 s on Citus beside the rest of CI, which ran out of time). The
// seed differs from run to run, so each run explores other worlds.
export const CITUS_SHARE = onCitus() ? 1 / 3 : 1;

/** A world built through the services and checked over the API, also as another organisation's account. */
export async function checkOverApi(world: WorldSpec): Promise<void> {
  const built = await buildWorld(world, await newSpace());
  await checkWorld(world, built, 'api');
  if (world.checkForeign) await checkForeignAccount(built);
  t.statements.length = 0;
}
