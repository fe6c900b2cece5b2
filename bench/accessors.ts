// Issue 20, item 4: "who can see this object?" for an object granted to a group of --members
// accounts (default 10,000, the issue's figure), among --objects objects of the organisation (the
// statements read the object's container chain by key, so the count should not show). Measures
// Organization.objectAccessors(first: 25) over GraphQL (app.fetch, an admin-page token): the first
// page, a page in the middle and the object's container, whose formula is the same group through
// CONTAINER; the first page right after a directory change, when nothing read for an earlier
// version of the directory counts; and an object granted to the group AND one member, so sparse
// that every holder of the group is read (kept under the organisation's principal version after).
// Every page is checked against the expected accounts. Markdown on stdout.
//
//   npm run bench:accessors -- [--backend pglite|postgres] [--members 10000] [--objects 100000]
//                              [--runs 50] [--stats never|fresh]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { ADMIN_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import type { ConnectionCaller } from '../src/modules/session/caller.ts';
import { type Backend, BENCH_ORIGIN, benchApp, codeRevision, DEFAULT_SERVER, measure, ms, out, progress, withDatabase } from './harness.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'postgres' },
    members: { type: 'string', default: '10000' },
    objects: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '50' },
    stats: { type: 'string', default: 'never' },
  },
  strict: true,
});
const backend = values.backend as Backend;
if (backend !== 'pglite' && backend !== 'postgres') throw new Error(`--backend is pglite or postgres, got ${backend}.`);
const members = Number(values.members);
const objects = Number(values.objects);
const runs = Number(values.runs);
if (!Number.isInteger(members) || members < 100 || members > 10_000 || members % 100 !== 0) throw new Error('--members is a multiple of 100 up to 10,000 (PRODUCT §4: a group holds at most 10,000).');
if (!Number.isInteger(objects) || objects < 100 || objects % 100 !== 0) throw new Error('--objects is a multiple of 100.');
if (!['never', 'fresh'].includes(values.stats!)) throw new Error('--stats is never or fresh.');

const PAGE = 'query($org: ID!, $id: ID!, $after: String) { organization(id: $org) { objectAccessors(objectId: $id, first: 25, after: $after) { edges { cursor node { account { email } via } } pageInfo { hasNextPage endCursor } } } }';
const BATCH = 100;

await withDatabase({ backend, server: DEFAULT_SERVER.postgres }, async (handle) => {
  const app = benchApp(handle);
  const { orgs, sessions, directory, objects: objectService } = app.services;
  const { orgId } = await orgs.createOrganization('Accessors');
  const { cloudId } = await orgs.createSite(orgId, 'accessors');
  const admin = await orgs.createAccount({ orgId, email: 'admin@accessors.bench', displayName: 'Admin', admin: true, cloudIds: [cloudId] });
  const token = (await sessions.issue({ orgId, accountId: admin.accountId }, ADMIN_CLIENT_ID, [], 6 * 3600)).accessToken;
  const connection = await orgs.createConnection(cloudId, 'jira');
  const auth = await sessions.authenticate((await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [])).accessToken);
  if (!auth.ok || auth.caller.kind !== 'connection') throw new Error('the connection did not authenticate');
  const caller = auth.caller as ConnectionCaller;

  progress(`${members} accounts, third-party users and links; one group of them all`);
  const emails: string[] = [];
  for (let i = 0; i < members; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, async (_, j) => {
        const email = `member${String(i + j).padStart(5, '0')}@accessors.bench`;
        emails[i + j] = email;
        await orgs.createAccount({ orgId, email, displayName: `Member ${i + j}`, cloudIds: [cloudId] });
      }),
    );
  }
  for (let i = 0; i < members; i += BATCH) {
    const slice = emails.slice(i, i + BATCH);
    await directory.setUsers(caller, connection.connectionId, slice.map((email) => ({ externalId: `ext-${email}`, displayName: email, updateSequenceNumber: 1 })));
    await directory.mapUsers(caller, connection.connectionId, slice.map((email) => ({ externalId: `ext-${email}`, externalEmailAddress: email, updateSequenceNumber: 1 })));
  }
  await directory.setGroups(caller, connection.connectionId, [
    { externalId: 'everyone-who-builds', displayName: 'Builders', updateSequenceNumber: 1, members: emails.map((email) => ({ type: 'USER' as const, externalId: `ext-${email}` })) },
  ]);

  progress(`${objects} objects: a project granted to the group, the rest inside it (CONTAINER)`);
  const grant = [{ accessControls: [{ principals: [{ type: 'GROUP' as const, id: 'everyone-who-builds' }] }] }];
  const inherit = [{ accessControls: [{ principals: [{ type: 'CONTAINER' as const }] }] }];
  await objectService.setObjects(caller, connection.connectionId, [{ type: 'jira:project', externalId: 'PRJ', displayName: 'Project', updateSequenceNumber: 1, permissions: grant }]);
  for (let i = 1; i < objects; i += BATCH) {
    const count = Math.min(BATCH, objects - i);
    await objectService.setObjects(
      caller,
      connection.connectionId,
      Array.from({ length: count }, (_, j) => ({ type: 'jira:work-item', externalId: `W-${i + j}`, displayName: `Item ${i + j}`, updateSequenceNumber: 1, container: { type: 'jira:project', externalId: 'PRJ' }, permissions: inherit })),
    );
    if ((i - 1) % 100_000 === 0 && i > 1) progress(`${i - 1} objects`);
  }
  // Sparse: the group AND one of its members lets one account in, too few for the first accounts
  // after the cursor to answer, so every holder of the group is read (authz/accessors.ts).
  const both = [{ accessControls: [{ principals: [{ type: 'GROUP' as const, id: 'everyone-who-builds' }] }, { principals: [{ type: 'USER' as const, id: `ext-${emails[0]}` }] }] }];
  await objectService.setObjects(caller, connection.connectionId, [{ type: 'jira:project', externalId: 'ONE', displayName: 'One member', updateSequenceNumber: 1, permissions: both }]);
  if (values.stats === 'fresh') await sql`vacuum analyze`.execute(handle.db); // as autovacuum leaves the tables
  const idOf = async (externalId: string) => (await handle.db.selectFrom('graph_object').select('id').where('org_id', '=', orgId).where('external_id', '=', externalId).executeTakeFirstOrThrow()).id;
  const project = await idOf('PRJ');
  const item = await idOf(`W-${Math.floor(objects / 2)}`);
  const sparse = await idOf('ONE');

  const expected = [...emails].sort();
  const ask = async (id: string, after: string | null) => {
    const response = await app.fetch(new Request(`${BENCH_ORIGIN}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: PAGE, variables: { org: orgId, id, after } }) }));
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data.organization.objectAccessors;
  };
  // Account ids are random: which accounts a page holds is checked by walking every page once.
  progress('checking every page of the project against the group');
  const seen: string[] = [];
  let after: string | null = null;
  let middle: string | null = null;
  for (let page = 0; ; page++) {
    const connection = await ask(project, after);
    seen.push(...connection.edges.map((e: { node: { account: { email: string } } }) => e.node.account.email));
    if (page === Math.floor(members / 50)) middle = after;
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  if (JSON.stringify(seen.sort()) !== JSON.stringify(expected)) throw new Error(`the pages named ${seen.length} accounts, not the group's ${expected.length}`);
  const one = (await ask(sparse, null)).edges.map((e: { node: { account: { email: string } } }) => e.node.account.email);
  if (JSON.stringify(one) !== JSON.stringify([emails[0]])) throw new Error(`the sparse object named ${JSON.stringify(one)}, not ${emails[0]}`);

  // A directory change moves the organisation's principal version: the next request finds who
  // holds the group afresh (cold); otherwise the holders found by an earlier request count (warm).
  let touched = 0;
  const touchDirectory = async () => void (await directory.setUsers(caller, connection.connectionId, [{ externalId: 'ext-bystander', displayName: `Bystander ${++touched}`, updateSequenceNumber: touched }]));
  const cases: [string, () => Promise<unknown>, (() => Promise<void>)?][] = [
    ['project, first page, after a directory change (cold)', () => ask(project, null), touchDirectory],
    ['project, first page', () => ask(project, null)],
    ['project, a page in the middle', () => ask(project, middle)],
    ['work item inside it (CONTAINER), first page', () => ask(item, null)],
    ['group AND one member (one accessor), after a directory change (cold)', () => ask(sparse, null), touchDirectory],
    ['group AND one member (one accessor)', () => ask(sparse, null)],
  ];
  out(`## Accessors of an object granted to a group of ${members.toLocaleString('en')} — \`npm run bench:accessors\``);
  out();
  out(`- ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores; Node ${process.version}; ${backend}; ${objects.toLocaleString('en')} objects; statistics ${values.stats}; code ${codeRevision()}; ${new Date().toISOString()}`);
  out(`- \`npm run bench:accessors -- --backend ${backend} --members ${members} --objects ${objects} --runs ${runs} --stats ${values.stats}\``);
  out();
  out('| case | p50 ms | p95 ms | p99 ms |');
  out('|---|---|---|---|');
  for (const [name, once, before] of cases) {
    const timing = await measure(runs, 5, async () => void (await once()), before);
    out(`| ${name} | ${ms(timing.p50)} | **${ms(timing.p95)}** | ${ms(timing.p99)} |`);
  }
});
