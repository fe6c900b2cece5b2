// Issue 16, item 6: an ACL change costs the same whatever it affects, and shows at once on every
// server process. Two apps over one database stand for two processes (on PostgreSQL each has its
// own pool and change feed, as two servers would; the embedded database is one process's, so
// there they share the handle). Two organisations of different sizes take the same changes: a
// user joins a group that grants many objects, a container with many descendants moves to
// another parent, a group member's link moves to another account. After each, the affected
// account's very next request on the other app must show it, and the change must have run as many
// statements in the large organisation as in the small one.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.ts';
import type { DbHandle } from '../../src/db/handle.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import type { ChangeFeed } from '../../src/db/change-feed.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createTenant, groupPrincipal, isCredentialLookup, isCredentialStampRead, startTestApp, TEST_ORIGIN, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

const GROUP = 'grp-granting';
const SEEN = { type: 'jira:project', externalId: 'PRJ-SEEN' };
const UNSEEN = { type: 'jira:project', externalId: 'PRJ-UNSEEN' };
const MOVED = { type: 'confluence:space', externalId: 'SPACE-MOVED' };
const CONTAINER_ONLY = viewAcl([{ type: 'CONTAINER' }]);
const MEMBERS = Array.from({ length: 20 }, (_, i) => ({ type: 'USER', externalId: `u-member-${i}` }));

let t: TestApp;
let other: App;
let otherHandle: DbHandle | undefined;
const small = { granted: 50 } as Org;
const large = { granted: 300 } as Org;

interface Org {
  granted: number;
  tenant: Tenant;
  joiner: string;
  viewer: string;
  mapped: { accountId: string; token: string }[];
  /** Inherited from a space that names the group; the deepest moved page. */
  probes: { granted: string; moved: string };
  movedSubtree: string[];
  usn: { group: number; moved: number; map: number };
}

async function graphql(app: App, token: string, query: string, variables?: Record<string, unknown>) {
  const response = await app.fetch(
    new Request(`${TEST_ORIGIN}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = await response.json();
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** What an account's next request on `app` shows: a page of 100 and one object. */
async function sees(app: App, token: string, id: string): Promise<{ listed: string[]; opens: boolean }> {
  const data = await graphql(app, token, 'query ($id: ID!) { objects(first: 100) { edges { node { externalId } } } object(id: $id) { id } }', { id });
  return { listed: data.objects.edges.map((e: any) => e.node.externalId).sort(), opens: data.object?.id === id };
}

const accepted = (payload: any) => expect(payload.results.map((r: any) => r.status)).toEqual(payload.results.map(() => 'ACCEPTED'));

/**
 * The statements the first app runs for `change` (on the embedded database both apps share the
 * list; nothing else runs meanwhile), less reading the caller's credentials (a lookup, or on Citus the
 * stamp that confirms a cached one), which is the credential cache's business, not the change's.
 */
async function counted(change: () => Promise<unknown>): Promise<number> {
  t.statements.length = 0;
  await change();
  return t.statements.filter((statement) => !isCredentialLookup(statement) && !isCredentialStampRead(statement)).length;
}

/**
 * Blocks of ten granted objects (a space naming the group, eight pages inheriting from it, a
 * document naming it), then the two parents and the moved space with granted/5 descendants two
 * levels down, newer than everything else.
 */
async function build(org: Org, name: string) {
  const tenant = (org.tenant = await createTenant(t, name));
  accepted(await tenant.ingest('setUsers', { users: ['u-joiner', 'u-viewer', 'u-mapped', 'u-other', ...MEMBERS.map((m) => m.externalId)].map((externalId) => ({ externalId, updateSequenceNumber: 1 })) }));
  org.usn = { group: 1, moved: 1, map: 0 };
  accepted(
    await tenant.ingest('setGroups', {
      groups: [
        { externalId: GROUP, members: [...MEMBERS, { type: 'USER', externalId: 'u-mapped' }], updateSequenceNumber: 1 },
        { externalId: 'grp-elsewhere', members: [{ type: 'USER', externalId: 'u-other' }], updateSequenceNumber: 1 },
      ],
    }),
  );
  const joiner = await tenant.account({ member: false });
  const viewer = await tenant.account({ member: false });
  org.joiner = joiner.token;
  org.viewer = viewer.token;
  org.mapped = [await tenant.account({ member: false }), await tenant.account({ member: false })];
  accepted(
    await tenant.ingest('mapUsers', {
      directMappings: [
        { externalId: 'u-joiner', accountId: joiner.accountId, updateSequenceNumber: 1 },
        { externalId: 'u-viewer', accountId: viewer.accountId, updateSequenceNumber: 1 },
      ],
    }),
  );

  const objects: object[] = [];
  let minute = 0;
  const add = (o: Record<string, unknown>) =>
    objects.push({ displayName: `${o.externalId}`, updateSequenceNumber: 1, lastUpdatedAt: new Date(Date.UTC(2025, 0, 1, 0, minute++)).toISOString(), ...o });
  for (let b = 0; b < org.granted / 10; b++) {
    const space = { type: 'confluence:space', externalId: `SPACE-G-${b}` };
    add({ ...space, permissions: viewAcl([groupPrincipal(GROUP)]) });
    for (let p = 0; p < 8; p++) add({ type: 'confluence:page', externalId: `PAGE-G-${b}-${p}`, container: space, permissions: CONTAINER_ONLY });
    add({ type: 'graph:document', externalId: `DOC-G-${b}`, permissions: viewAcl([groupPrincipal(GROUP), userPrincipal('u-other')]) });
  }
  add({ ...SEEN, permissions: viewAcl([userPrincipal('u-viewer')]) });
  add({ ...UNSEEN, permissions: viewAcl([groupPrincipal('grp-elsewhere')]) });
  add({ ...MOVED, container: SEEN, permissions: CONTAINER_ONLY });
  org.movedSubtree = [MOVED.externalId];
  for (let s = 0; s < org.granted / 50; s++) {
    const page = { type: 'confluence:page', externalId: `PAGE-MOVED-${s}` };
    add({ ...page, container: MOVED, permissions: CONTAINER_ONLY });
    org.movedSubtree.push(page.externalId);
    for (let l = 0; l < 9; l++) {
      add({ type: 'confluence:page', externalId: `PAGE-MOVED-${s}-${l}`, container: page, permissions: CONTAINER_ONLY });
      org.movedSubtree.push(`PAGE-MOVED-${s}-${l}`);
    }
  }
  for (let i = 0; i < objects.length; i += 100) accepted(await tenant.ingest('setObjects', { objects: objects.slice(i, i + 100) }));
  const idOf = async (externalId: string) =>
    (await t.db.selectFrom('graph_object').select('id').where('org_id', '=', tenant.orgId).where('external_id', '=', externalId).executeTakeFirstOrThrow()).id;
  org.probes = { granted: await idOf(`PAGE-G-${org.granted / 10 - 1}-7`), moved: await idOf(org.movedSubtree[org.movedSubtree.length - 1]) };
}

/** A page of granted objects only, as full as the page allows, and the probe opens. */
function expectGrantedPage(seen: { listed: string[]; opens: boolean }, org: Org) {
  expect(seen.opens).toBe(true);
  expect(seen.listed).toHaveLength(Math.min(100, org.granted));
  expect(seen.listed.filter((id) => !/-G-/.test(id))).toEqual([]);
}
const nothing = { listed: [], opens: false };

beforeAll(async () => {
  let changes: ChangeFeed | undefined;
  t = await startTestApp({ feed: (feed) => (changes = feed) });
  const logger = createLogger('error');
  if (t.databaseUrl) {
    // Another server process: its own pool, its own change feed, its own caches.
    otherHandle = openPostgres(t.databaseUrl, 4);
    other = createApp({ db: otherHandle.db, changes: otherHandle.changes, clock: t.clock, logger, publicUrl: TEST_ORIGIN });
  } else {
    other = createApp({ db: t.db, changes, clock: t.clock, logger, publicUrl: TEST_ORIGIN });
  }
  await build(small, 'Small');
  await build(large, 'Large');
});
afterAll(async () => {
  await otherHandle?.close();
  await t.close();
});

describe('ACL changes at scale', () => {
  it('shows a user who joins or leaves a granting group on the other instance at once, in as many statements at either size', async () => {
    const counts: Record<string, number[]> = {};
    for (const org of [small, large]) {
      const setMembers = (joined: boolean) =>
        org.tenant.ingest('setGroups', {
          groups: [{ externalId: GROUP, members: [...MEMBERS, { type: 'USER', externalId: 'u-mapped' }, ...(joined ? [{ type: 'USER', externalId: 'u-joiner' }] : [])], updateSequenceNumber: ++org.usn.group }],
        });
      // Both instances have the joiner's current principal set cached.
      for (const app of [t.app, other]) expect(await sees(app, org.joiner, org.probes.granted)).toEqual(nothing);
      const joins = await counted(async () => accepted(await setMembers(true)));
      expectGrantedPage(await sees(other, org.joiner, org.probes.granted), org);
      expectGrantedPage(await sees(t.app, org.joiner, org.probes.granted), org);
      const leaves = await counted(async () => accepted(await setMembers(false)));
      expect(await sees(other, org.joiner, org.probes.granted)).toEqual(nothing);
      counts[org.granted] = [joins, leaves];
    }
    expect(counts[large.granted]).toEqual(counts[small.granted]);
  });

  it('shows a container with its descendants under its new parent on the other instance at once, in as many statements at either size', async () => {
    const counts: Record<string, number[]> = {};
    for (const org of [small, large]) {
      const moveTo = (parent: typeof SEEN) =>
        org.tenant.ingest('setObjects', { objects: [{ ...MOVED, displayName: 'Moved', container: parent, permissions: CONTAINER_ONLY, updateSequenceNumber: ++org.usn.moved }] });
      const underSeen = { listed: [SEEN.externalId, ...org.movedSubtree].sort(), opens: true };
      const underUnseen = { listed: [SEEN.externalId], opens: false };
      for (const app of [t.app, other]) expect(await sees(app, org.viewer, org.probes.moved)).toEqual(underSeen);
      counts[org.granted] = [];
      // The first move into the other parent also marks it as a container; the later ones do not.
      for (const parent of [UNSEEN, SEEN, UNSEEN, SEEN]) {
        counts[org.granted].push(await counted(async () => accepted(await moveTo(parent))));
        const expected = parent === SEEN ? underSeen : underUnseen;
        expect(await sees(other, org.viewer, org.probes.moved)).toEqual(expected);
        expect(await sees(t.app, org.viewer, org.probes.moved)).toEqual(expected);
      }
    }
    expect(counts[large.granted]).toEqual(counts[small.granted]);
  });

  it('adds a user to a group of 5,000 members in as many statements as to a group of 20, leaving the other rows where they were', async () => {
    const counts: number[] = [];
    for (const size of [20, 5000]) {
      const members = Array.from({ length: size }, (_, i) => ({ type: 'USER', externalId: `u-big-${i}` }));
      const group = `grp-size-${size}`;
      accepted(await large.tenant.ingest('setGroups', { groups: [{ externalId: group, members, updateSequenceNumber: 1 }] }));
      // A row's ctid is where it lies: a row deleted and inserted again lies elsewhere.
      const rows = async () =>
        new Map(
          (await sql<{ id: string; at: string }>`select member_external_id as id, ctid::text as at from group_member where org_id = ${large.tenant.orgId} and group_external_id = ${group}`.execute(t.db)).rows.map(
            (r) => [r.id, r.at],
          ),
        );
      const before = await rows();
      counts.push(await counted(async () => accepted(await large.tenant.ingest('setGroups', { groups: [{ externalId: group, members: [...members, { type: 'USER', externalId: 'u-joiner' }], updateSequenceNumber: 2 }] }))));
      const after = await rows();
      expect([...after.keys()].filter((id) => !before.has(id))).toEqual(['u-joiner']);
      expect([...before].filter(([id, at]) => after.get(id) !== at)).toEqual([]);
    }
    expect(counts[1]).toBe(counts[0]);
  });

  it('shows a moved user link on the other instance at once, to both accounts, in as many statements at either size', async () => {
    const counts: Record<string, number[]> = {};
    for (const org of [small, large]) {
      counts[org.granted] = [];
      for (const to of [0, 1, 0]) {
        for (const app of [t.app, other]) for (const account of org.mapped) await sees(app, account.token, org.probes.granted);
        counts[org.granted].push(
          await counted(async () =>
            accepted(await org.tenant.ingest('mapUsers', { directMappings: [{ externalId: 'u-mapped', accountId: org.mapped[to].accountId, updateSequenceNumber: ++org.usn.map }] })),
          ),
        );
        expectGrantedPage(await sees(other, org.mapped[to].token, org.probes.granted), org);
        expect(await sees(other, org.mapped[1 - to].token, org.probes.granted)).toEqual(nothing);
      }
    }
    expect(counts[large.granted]).toEqual(counts[small.granted]);
  });
});
