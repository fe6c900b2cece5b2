// Issue 16, item 6: ACL changes stay cheap at scale. Builds an organisation where one group grants
// N objects (11% name it directly, 89% inherit it through CONTAINER from containers that name it)
// and a container with min(10,000, N/10) descendants three levels deep, then measures, through
// GraphQL with a connector's token on one app instance:
//   (a) setGroups adding a user to the granting group,
//   (b) setObjects moving the big container between a parent the viewer sees and one it does not,
//   (c) mapUsers moving the link of a group member from one account to another,
// and, right after each, the affected account's first `objects(first: 25)` and `object(id)` on a
// SECOND app instance over the same database (its own pool and change feed on PostgreSQL), which
// must already show the change; the bench fails if it does not. Each change's statements are
// counted with the handle's onQuery hook, at N/10 and at N granted objects, to show they do not
// depend on how many objects the change affects. Markdown report on stdout, progress on stderr.
//
//   npm run bench:acl-changes -- [--backend pglite|postgres] [--objects 100000] [--runs 30]
//                                [--members 200] [--stats fresh|never] [--statements]
//                                [--server postgres://postgres@127.0.0.1:5432/postgres]
//
// --members is the granting group's size (setGroups sends the whole member list, PRODUCT §4);
// --stats never skips the ANALYZE after the load; --statements lists each change's statements.
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { App } from '../src/app.ts';
import type { DbHandle } from '../src/db/handle.ts';
import { type ConnectionCaller } from '../src/modules/session/caller.ts';
import type { ObjectInput } from '../src/modules/object/object.service.ts';
import { percentile } from './dataset.ts';
import { type Backend, BENCH_ORIGIN, benchApp, codeRevision, ms, openPool, out, progress, withDatabase } from './harness.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'pglite' },
    objects: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '30' },
    members: { type: 'string', default: '200' },
    stats: { type: 'string', default: 'fresh' },
    statements: { type: 'boolean', default: false },
    server: { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
  strict: true,
});
const backend = values.backend as Backend;
const largest = Number(values.objects);
const runs = Number(values.runs);
const members = Number(values.members);
if (backend !== 'pglite' && backend !== 'postgres') throw new Error(`--backend is pglite or postgres, got ${backend}.`);
// The smaller size is a tenth, in whole blocks of 100 with a moved subtree of at least 100.
if (!Number.isInteger(largest) || largest < 10_000 || largest % 1000 !== 0) throw new Error(`--objects must be a multiple of 1,000 of at least 10,000, got ${values.objects}.`);
if (!Number.isInteger(runs) || runs < 2) throw new Error(`--runs must be at least 2, got ${values.runs}.`);
if (!['fresh', 'never'].includes(values.stats!)) throw new Error(`--stats is fresh or never, got ${values.stats}.`);

const GROUP = 'grp-granting';
const OTHER_GROUP = 'grp-elsewhere';
const JOINER = 'u-joiner';
const MAPPED = 'u-mapped';
const VIEWER = 'u-viewer';
const OTHER = 'u-other';
const PARENTS = [
  { type: 'jira:project', externalId: 'PRJ-SEEN' },
  { type: 'jira:project', externalId: 'PRJ-UNSEEN' },
] as const;
const MOVED = { type: 'confluence:space', externalId: 'SPACE-MOVED' };
const TOKEN_TTL_SECONDS = 6 * 3600;
const MUTATION_TARGET_MS = 50;
/** Untimed rounds of each change before the measured ones. */
const WARMUP = 1;

const LIST = '{ objects(first: 25) { edges { node { id externalId } } } }';
const OBJECT = 'query ($id: ID!) { object(id: $id) { id externalId } }';
const SET_GROUPS = 'mutation ($input: SetGroupsInput!) { setGroups(input: $input) { acceptedCount results { status code message } } }';
const SET_OBJECTS = 'mutation ($input: SetObjectsInput!) { setObjects(input: $input) { acceptedCount results { status code message } } }';
const MAP_USERS = 'mutation ($input: MapUsersInput!) { mapUsers(input: $input) { acceptedCount results { status code message } } }';

const view = (...principals: object[]) => [{ accessControls: [{ principals }] }];
const CONTAINER_ONLY = view({ type: 'CONTAINER' });

/** Two app instances over one database: on PostgreSQL each has its own pool and change feed. */
interface Instances {
  first: App;
  second: App;
  /** Statements each instance's handle ran (one shared list on the embedded database). */
  firstStatements: string[];
  secondStatements: string[];
  db: DbHandle['db'];
}

async function withInstances<T>(use: (instances: Instances) => Promise<T>): Promise<T> {
  const firstStatements: string[] = [];
  return withDatabase({ backend, server: values.server!, onQuery: (s) => firstStatements.push(s) }, async (handle: DbHandle, url?: string) => {
    // One process owns the embedded database: the second instance shares its handle and feed.
    if (!url) return use({ first: benchApp(handle), second: benchApp(handle), firstStatements, secondStatements: firstStatements, db: handle.db });
    const secondStatements: string[] = [];
    const second = openPool(url, { onQuery: (s) => secondStatements.push(s) });
    try {
      return await use({ first: benchApp(handle), second: benchApp(second), firstStatements, secondStatements, db: handle.db });
    } finally {
      await second.close();
    }
  });
}

async function graphql(app: App, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await app.fetch(
    new Request(`${BENCH_ORIGIN}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = await response.json();
  if (response.status !== 200 || body.errors) throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

interface Built {
  granted: number;
  descendants: number;
  total: number;
  loadSeconds: number;
  connectionId: string;
  connectionToken: string;
  tokens: { joiner: string; viewer: string; mapped: [string, string] };
  accounts: { mapped: [string, string] };
  /** An object reached through CONTAINER from a container naming the group; the deepest moved leaf. */
  probes: { granted: string; moved: string };
  memberList: { type: 'USER'; externalId: string }[];
}

/** Objects of one size: the granted blocks, a few not granted, the two parents and the moved subtree. */
function planObjects(granted: number): { objects: ObjectInput[]; descendants: number; movedChildren: number } {
  const objects: ObjectInput[] = [];
  const start = Date.UTC(2025, 0, 1);
  let tick = 0;
  const add = (o: Omit<ObjectInput, 'displayName' | 'updateSequenceNumber' | 'lastUpdatedAt'>) =>
    objects.push({ ...o, displayName: `${o.type} ${o.externalId}`, updateSequenceNumber: 1, lastUpdatedAt: new Date(start + 1000 * tick++) } as ObjectInput);
  const group = (id: string) => ({ type: 'GROUP' as const, id });
  // Blocks of 100: a space naming the group, 89 pages inheriting from it, 10 documents naming it.
  for (let b = 0; b < granted / 100; b++) {
    const space = { type: 'confluence:space', externalId: `SPACE-G-${b}` };
    add({ ...space, permissions: view(group(GROUP)) as never });
    for (let p = 0; p < 89; p++) add({ type: 'confluence:page', externalId: `PAGE-G-${b}-${p}`, container: space, permissions: CONTAINER_ONLY as never });
    for (let d = 0; d < 10; d++) add({ type: 'graph:document', externalId: `DOC-G-${b}-${d}`, permissions: view(group(GROUP), { type: 'USER', id: OTHER }) as never });
  }
  // The rest of the organisation, which nobody measured here sees.
  for (let i = 0; i < granted / 20; i++) add({ type: 'graph:message', externalId: `MSG-F-${i}`, permissions: view({ type: 'USER', id: OTHER }) as never });
  add({ ...PARENTS[0], permissions: view({ type: 'USER', id: VIEWER }) as never });
  add({ ...PARENTS[1], permissions: view(group(OTHER_GROUP)) as never });
  // The moved subtree is the newest of all: when the viewer sees it, it fills the first page.
  const descendants = Math.min(10_000, granted / 10);
  const movedChildren = descendants / 100;
  add({ ...MOVED, container: PARENTS[0], permissions: CONTAINER_ONLY as never });
  for (let s = 0; s < movedChildren; s++) {
    const page = { type: 'confluence:page', externalId: `PAGE-MOVED-${s}` };
    add({ ...page, container: MOVED, permissions: CONTAINER_ONLY as never });
    for (let l = 0; l < 99; l++) add({ type: 'confluence:page', externalId: `PAGE-MOVED-${s}-${l}`, container: page, permissions: CONTAINER_ONLY as never });
  }
  return { objects, descendants, movedChildren };
}

async function build(instances: Instances, granted: number): Promise<Built> {
  const started = performance.now();
  const { orgs, sessions, directory, objects: objectService, catalog } = instances.first.services;
  const { orgId } = await orgs.createOrganization(`ACL changes ${granted}`);
  const { cloudId } = await orgs.createSite(orgId, 'acl');
  const connection = await orgs.createConnection(cloudId, 'acl');
  const connectionToken = (await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [], TOKEN_TTL_SECONDS)).accessToken;
  const auth = await sessions.authenticate(connectionToken);
  if (!auth.ok || auth.caller.kind !== 'connection') throw new Error('The bench connection could not authenticate.');
  const caller: ConnectionCaller = auth.caller;
  const connectionId = caller.connectionId;
  const expectAll = (payload: { acceptedCount: number; results: unknown[] }, what: string) => {
    if (payload.acceptedCount !== payload.results.length) throw new Error(`Loading ${what}: ${JSON.stringify(payload.results.find((r: any) => r.status !== 'ACCEPTED'))}`);
  };

  const memberIds = Array.from({ length: members }, (_, i) => `u-member-${String(i + 1).padStart(5, '0')}`);
  const users = [JOINER, MAPPED, VIEWER, OTHER, ...memberIds];
  for (let i = 0; i < users.length; i += 100) {
    expectAll(await directory.setUsers(caller, connectionId, users.slice(i, i + 100).map((externalId) => ({ externalId, updateSequenceNumber: 1 }))), 'users');
  }
  const memberList = [...memberIds, MAPPED].map((externalId) => ({ type: 'USER' as const, externalId }));
  expectAll(
    await directory.setGroups(caller, connectionId, [
      { externalId: GROUP, members: memberList, updateSequenceNumber: 1 },
      { externalId: OTHER_GROUP, members: [{ type: 'USER', externalId: OTHER }], updateSequenceNumber: 1 },
    ]),
    'groups',
  );
  const scopes = catalog.permissions.map((p) => p.key);
  const person = async (name: string, linkedTo?: string) => {
    const { accountId } = await orgs.createAccount({ orgId, email: `${name}-${granted}@acl.bench.test`, displayName: name, cloudIds: [] });
    if (linkedTo) expectAll(await directory.mapUsers(caller, connectionId, [{ externalId: linkedTo, accountId, updateSequenceNumber: 1 }]), 'mappings');
    return { accountId, token: (await sessions.issue({ orgId, accountId }, CLI_CLIENT_ID, scopes, TOKEN_TTL_SECONDS)).accessToken };
  };
  const joiner = await person('joiner', JOINER);
  const viewer = await person('viewer', VIEWER);
  const mappedA = await person('mapped-a');
  const mappedB = await person('mapped-b');

  const plan = planObjects(granted);
  for (let i = 0; i < plan.objects.length; i += 100) {
    expectAll(await objectService.setObjects(caller, connectionId, plan.objects.slice(i, i + 100)), 'objects');
    if (i % 10_000 === 0) progress(`  ${i.toLocaleString('en')} / ${plan.objects.length.toLocaleString('en')} objects`);
  }
  if (values.stats === 'fresh') await sql`vacuum analyze`.execute(instances.db); // as autovacuum leaves the tables
  const idOf = async (externalId: string) =>
    (await instances.db.selectFrom('graph_object').select('id').where('org_id', '=', orgId).where('external_id', '=', externalId).executeTakeFirstOrThrow()).id;
  const lastBlock = granted / 100 - 1;
  return {
    granted,
    descendants: plan.descendants,
    total: plan.objects.length,
    loadSeconds: (performance.now() - started) / 1000,
    connectionId,
    connectionToken,
    tokens: { joiner: joiner.token, viewer: viewer.token, mapped: [mappedA.token, mappedB.token] },
    accounts: { mapped: [mappedA.accountId, mappedB.accountId] },
    probes: { granted: await idOf(`PAGE-G-${lastBlock}-88`), moved: await idOf(`PAGE-MOVED-${plan.movedChildren - 1}-98`) },
    memberList,
  };
}

interface Sample {
  mutationMs: number;
  statements: number;
  statementList: string[];
  listMs: number;
  listStatements: number;
  objectMs: number;
  /** The same list again: what the account's reads cost once nothing has changed. */
  steadyListMs: number;
}

interface CaseResult {
  label: string;
  samples: Sample[];
}

/** Runs `change` on the first instance, then the affected account's first two reads on the second. */
async function sampleOf(instances: Instances, change: () => Promise<void>, reader: string, check: (list: any, object: any) => void, probe: string): Promise<Sample> {
  instances.firstStatements.length = 0;
  const t0 = performance.now();
  await change();
  const mutationMs = performance.now() - t0;
  const statementList = [...instances.firstStatements];
  instances.secondStatements.length = 0;
  const t1 = performance.now();
  const list = await graphql(instances.second, reader, LIST);
  const listMs = performance.now() - t1;
  const listStatements = instances.secondStatements.length;
  const t2 = performance.now();
  const object = await graphql(instances.second, reader, OBJECT, { id: probe });
  const objectMs = performance.now() - t2;
  check(list, object);
  const t3 = performance.now();
  await graphql(instances.second, reader, LIST);
  const steadyListMs = performance.now() - t3;
  return { mutationMs, statements: statementList.length, statementList, listMs, listStatements, objectMs, steadyListMs };
}

function expect(condition: boolean, message: string) {
  if (!condition) throw new Error(`The second instance did not show the change: ${message}`);
}
const externalIds = (list: any): string[] => list.objects.edges.map((e: any) => e.node.externalId);
const allGranted = (list: any) => externalIds(list).length === 25 && externalIds(list).every((id) => /-G-/.test(id));
const sawNothing = (list: any, object: any) => externalIds(list).length === 0 && object.object === null;

async function measureSize(instances: Instances, granted: number): Promise<{ built: Built; cases: CaseResult[] }> {
  progress(`building ${granted.toLocaleString('en')} granted objects on ${backend}`);
  const built = await build(instances, granted);
  progress(`built ${built.total.toLocaleString('en')} objects in ${built.loadSeconds.toFixed(1)} s; measuring ${runs} changes of each kind`);
  const { first, second } = instances;
  const connect = built.connectionToken;
  const accepted = (field: string) => (data: any) => {
    if (data[field].acceptedCount !== 1) throw new Error(`${field}: ${JSON.stringify(data[field].results)}`);
  };
  const read = (token: string, id: string) => Promise.all([graphql(second, token, LIST), graphql(second, token, OBJECT, { id })]);

  // (a) The joiner joins the group (timed), then leaves it again (untimed, and checked too).
  let groupUsn = 1;
  const setMembers = async (withJoiner: boolean) =>
    accepted('setGroups')(
      await graphql(first, connect, SET_GROUPS, {
        input: { connectionId: built.connectionId, groups: [{ externalId: GROUP, members: [...built.memberList, ...(withJoiner ? [{ type: 'USER', externalId: JOINER }] : [])], updateSequenceNumber: ++groupUsn }] },
      }),
    );
  const join: Sample[] = [];
  for (let i = 0; i < runs + WARMUP; i++) {
    // The second instance has the joiner's current principal set and credentials cached.
    const [before, beforeObject] = await read(built.tokens.joiner, built.probes.granted);
    expect(sawNothing(before, beforeObject), 'the joiner saw granted objects before joining');
    join.push(
      await sampleOf(instances, () => setMembers(true), built.tokens.joiner, (list, object) => {
        expect(allGranted(list), `after joining, the joiner's first page was ${JSON.stringify(externalIds(list).slice(0, 5))}…`);
        expect(object.object?.id === built.probes.granted, 'after joining, the joiner could not open an object inherited from a granted space');
      }, built.probes.granted),
    );
    await setMembers(false);
  }

  // (b) The moved space alternates between a parent the viewer sees and one it does not.
  let movedUsn = 1;
  const move: Sample[] = [];
  for (let i = 0; i < runs + WARMUP; i++) {
    await read(built.tokens.viewer, built.probes.moved);
    const parent = PARENTS[(i + 1) % 2];
    const seen = parent === PARENTS[0];
    move.push(
      await sampleOf(
        instances,
        async () =>
          accepted('setObjects')(
            await graphql(first, connect, SET_OBJECTS, {
              input: { connectionId: built.connectionId, objects: [{ ...MOVED, displayName: 'Moved space', container: parent, permissions: CONTAINER_ONLY, updateSequenceNumber: ++movedUsn }] },
            }),
          ),
        built.tokens.viewer,
        (list, object) => {
          const ids = externalIds(list);
          if (seen) {
            expect(ids.length === 25 && ids.every((id) => id.includes('MOVED')), `under the seen parent the viewer's first page was ${JSON.stringify(ids.slice(0, 5))}…`);
            expect(object.object?.id === built.probes.moved, 'under the seen parent the viewer could not open the deepest moved page');
          } else {
            expect(ids.length === 1 && ids[0] === PARENTS[0].externalId, `under the unseen parent the viewer's first page was ${JSON.stringify(ids.slice(0, 5))}`);
            expect(object.object === null, 'under the unseen parent the viewer could still open the deepest moved page');
          }
        },
        built.probes.moved,
      ),
    );
  }

  // (c) A member of the group is mapped to one account, then the other: the link moves.
  let mapUsn = 1;
  const map: Sample[] = [];
  for (let i = 0; i < runs + WARMUP; i++) {
    const to = i % 2;
    const from = 1 - to;
    for (const token of built.tokens.mapped) await read(token, built.probes.granted);
    map.push(
      await sampleOf(
        instances,
        async () =>
          accepted('mapUsers')(
            await graphql(first, connect, MAP_USERS, { input: { connectionId: built.connectionId, directMappings: [{ externalId: MAPPED, accountId: built.accounts.mapped[to], updateSequenceNumber: ++mapUsn }] } }),
          ),
        built.tokens.mapped[to],
        (list, object) => {
          expect(allGranted(list), `the newly linked account's first page was ${JSON.stringify(externalIds(list).slice(0, 5))}…`);
          expect(object.object?.id === built.probes.granted, 'the newly linked account could not open an object inherited from a granted space');
        },
        built.probes.granted,
      ),
    );
    // The account the link moved away from sees nothing any more, on the second instance too.
    if (i > 0) {
      const [list, object] = await read(built.tokens.mapped[from], built.probes.granted);
      expect(sawNothing(list, object), 'the account the link moved away from still saw granted objects');
    }
  }
  return {
    built,
    // The warm-up round is the first move into the parent never used as a container, which marks
    // it as one (two statements more, once), and the link's first insert.
    cases: [
      { label: `(a) setGroups: a user joins the group granting ${granted.toLocaleString('en')} objects`, samples: join.slice(WARMUP) },
      { label: `(b) setObjects: the space with ${built.descendants.toLocaleString('en')} descendants moves parent`, samples: move.slice(WARMUP) },
      { label: `(c) mapUsers: a member of that group is linked to another account`, samples: map.slice(WARMUP) },
    ],
  };
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] };
};
const timing = (values: number[]) => {
  const s = stats(values);
  return `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.max)}`;
};
const range = (values: number[]) => (Math.min(...values) === Math.max(...values) ? String(values[0]) : `${Math.min(...values)}–${Math.max(...values)}`);
/** A statement with its parameters' places, shortened for the report. */
const shape = (statement: string) => statement.replace(/\s+/g, ' ').slice(0, 110);

async function main() {
  const started = new Date();
  const cpus = os.cpus();
  const sizes = [largest / 10, largest];
  out(`## teamgraph benchmark: ACL changes at ${sizes.map((s) => s.toLocaleString('en')).join(' and ')} granted objects on ${backend}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, load average ${os.loadavg()[0].toFixed(1)} at start`);
  out(`- Node ${process.version}, back end ${backend}${backend === 'postgres' ? ` (${new URL(values.server!).host}, two pools with their own change feeds)` : ' (in memory, two app instances on one handle)'}`);
  out(`- date ${started.toISOString()}, code ${codeRevision()}`);
  out(`- command: npm run bench:acl-changes -- ${process.argv.slice(2).join(' ')}`);
  out(`- ${runs} changes of each kind per size after ${WARMUP} untimed round, statistics ${values.stats === 'fresh' ? 'fresh (VACUUM ANALYZE after the load)' : 'never analyzed'}, the group has ${members + 1} members; times are client-side around app.fetch (JSON parse included), p50 / p95 / max in ms`);
  out(`- each change runs on instance 1; "first list" and "first object" are the affected account's very next \`objects(first: 25)\` and \`object(id)\` on instance 2, whose caches held that account's state from before the change; every one was checked to show the change`);

  const results: { built: Built; cases: CaseResult[] }[] = [];
  for (const size of sizes) results.push(await withInstances((instances) => measureSize(instances, size)));

  for (const { built, cases } of results) {
    out();
    out(`### ${built.granted.toLocaleString('en')} objects granted by the group (${built.total.toLocaleString('en')} objects in all, loaded in ${built.loadSeconds.toFixed(0)} s)`);
    out();
    out('| change | statements | change, ms | first list on instance 2, ms | first object on instance 2, ms | the same list again, ms |');
    out('|---|---|---|---|---|---|');
    for (const c of cases) {
      const target = stats(c.samples.map((s) => s.mutationMs)).p95 <= MUTATION_TARGET_MS ? '' : ' (over 50)';
      out(`| ${c.label} | ${range(c.samples.map((s) => s.statements))} | ${timing(c.samples.map((s) => s.mutationMs))}${target} | ${timing(c.samples.map((s) => s.listMs))} | ${timing(c.samples.map((s) => s.objectMs))} | ${timing(c.samples.map((s) => s.steadyListMs))} |`);
    }
  }
  out();
  out('### Statements per change at each size');
  out();
  out(`| change | ${results.map((r) => `${r.built.granted.toLocaleString('en')} granted`).join(' | ')} | first list's statements on instance 2 |`);
  out(`|---|${results.map(() => '---|').join('')}---|`);
  const kinds = ['(a) setGroups', '(b) setObjects', '(c) mapUsers'];
  kinds.forEach((kind, k) => {
    out(`| ${kind} | ${results.map((r) => range(r.cases[k].samples.map((s) => s.statements))).join(' | ')} | ${results.map((r) => range(r.cases[k].samples.map((s) => s.listStatements))).join(' / ')} |`);
  });
  const constant = kinds.every((_, k) => new Set(results.flatMap((r) => r.cases[k].samples.map((s) => s.statements))).size === 1);
  out();
  out(constant ? 'Every change ran the same number of statements at both sizes and on every repetition.' : '**Some change ran a different number of statements between sizes or repetitions.**');
  if (values.statements) {
    const last = results[results.length - 1];
    for (const c of last.cases) {
      out();
      out(`${c.label}, statements of the last repetition:`);
      out();
      for (const s of c.samples[c.samples.length - 1].statementList) out(`    ${shape(s)}`);
    }
  }
  progress('done');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
