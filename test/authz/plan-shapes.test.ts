// Issue 16: the statements of a request keep their shape whatever the planner knows. On a database
// that was never analyzed, and again after ANALYZE ran while another organisation dominated the
// tables, EXPLAIN of every statement a narrow viewer's requests run (its principal set, the list
// filter's probe, forward window and streams, with and without filters, a children page, a
// single-object check, relationships) shows no sequential scan of graph_object or acl_entry, and
// no scan of them that reads a good part of the organisation (an index read whole, then sorted).
import { CompiledQuery, type Kysely, type KyselyPlugin, type QueryId, type RootOperationNode, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker } from '../../src/authz/access-checker.ts';
import type { ViewerPrincipals } from '../../src/authz/acl-engine.ts';
import { loadViewerPrincipals } from '../../src/authz/viewer-principals.ts';
import { type ListPosition, listVisibleObjects, type ObjectListFilter, type VisibilityTuning } from '../../src/authz/visibility-filter.ts';
import type { Database } from '../../src/db/database.ts';
import { RelationshipRepository } from '../../src/modules/relationship/relationship.repository.ts';
import { createTenant, groupPrincipal, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

const TYPES = ['jira:work-item', 'jira:project', 'confluence:space', 'confluence:page'];
const OBJECTS = 3000;
const CONTAINER = [{ type: 'CONTAINER' }];

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  // A server with autovacuum on must not analyze behind the test's back.
  for (const table of ['graph_object', 'acl_entry', 'relationship', 'group_member', 'user_link']) {
    await sql`alter table ${sql.table(table)} set (autovacuum_enabled = false)`.execute(t.db).catch(() => {});
  }
});
afterAll(() => t.close());

/** An organisation of OBJECTS objects in which `narrow` sees about 1%, by every kind of grant. */
async function narrowWorld(name: string) {
  const tenant = await createTenant(t, name);
  const narrow = await tenant.account({ member: false });
  await tenant.ingest('setUsers', { users: ['n', 'x'].map((externalId) => ({ externalId, displayName: externalId, updateSequenceNumber: 1 })) });
  await tenant.ingest('setGroups', {
    groups: [
      { externalId: 'team', members: [{ type: 'USER', externalId: 'n' }], updateSequenceNumber: 1 },
      { externalId: 'dept', members: [{ type: 'GROUP', externalId: 'team' }], updateSequenceNumber: 1 },
    ],
  });
  await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'n', accountId: narrow.accountId, updateSequenceNumber: 1 }] });
  const space = { type: 'confluence:space', externalId: 'S' };
  const project = { type: 'jira:project', externalId: 'P' };
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('S', { type: 'confluence:space', permissions: viewAcl([groupPrincipal('dept')]) }),
      objectInput('P', { type: 'jira:project', permissions: viewAcl([userPrincipal('x')]) }),
      // A chain of pages three deep under the space.
      ...[1, 2, 3].map((level) =>
        objectInput(`L${level}`, { type: 'confluence:page', container: level === 1 ? space : { type: 'confluence:page', externalId: `L${level - 1}` }, permissions: viewAcl(CONTAINER) }),
      ),
    ],
  });
  const start = Date.parse('2026-01-01T00:00:00Z');
  const objects = Array.from({ length: OBJECTS }, (_, i) => {
    const lastUpdatedAt = new Date(start + i * 60_000).toISOString();
    const shape = i % 100;
    if (shape === 0) return objectInput(`N-${i}`, { lastUpdatedAt, permissions: viewAcl([userPrincipal('n')]) });
    if (shape === 1) return objectInput(`N-${i}`, { type: 'confluence:page', lastUpdatedAt, container: { type: 'confluence:page', externalId: 'L3' }, permissions: viewAcl(CONTAINER) });
    if (shape === 2) return objectInput(`N-${i}`, { lastUpdatedAt, container: project, permissions: viewAcl([groupPrincipal('team')], [userPrincipal('n'), userPrincipal('x')]) });
    if (shape < 50) return objectInput(`X-${i}`, { lastUpdatedAt, container: project, permissions: viewAcl(CONTAINER) });
    return objectInput(`X-${i}`, { lastUpdatedAt, permissions: viewAcl([userPrincipal('x')]) });
  });
  for (let i = 0; i < objects.length; i += 100) await tenant.ingest('setObjects', { objects: objects.slice(i, i + 100) });
  await tenant.ingest('setRelationships', {
    relationships: Array.from({ length: 30 }, (_, i) => ({
      type: 'work-item-links-work-item',
      from: { type: 'jira:work-item', externalId: 'N-0' },
      to: { type: 'jira:work-item', externalId: `X-${50 + i}` },
      updateSequenceNumber: 1,
    })),
  });
  return { tenant, narrow };
}

/** Records the statements a piece of code runs, compiled with their parameters. */
function recording(db: Kysely<Database>) {
  const nodes: { node: RootOperationNode; queryId: QueryId }[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      nodes.push({ node: args.node, queryId: args.queryId });
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const db2 = db.withPlugin(plugin);
  return { db: db2, statements: () => nodes.map(({ node, queryId }) => db2.getExecutor().compileQuery(node, queryId)) };
}

/** Statements that run under src/db/index-plans.ts: the list filter's and the principal set's. */
const UNDER_INDEX_PLANS = [/\bwith recursive\b[\s\S]*viewer as materialized/, /\bwith recursive\b[\s\S]*closure \(connection_id, group_id\)/];

/** Every statement of the narrow viewer's reads, each with the plan PostgreSQL chose for it. */
async function plansOf(world: { tenant: Tenant; narrow: { accountId: string } }, forced: 'streams' | 'forward' = 'streams') {
  const { orgId } = world.tenant;
  const recorder = recording(t.db);
  const viewer: ViewerPrincipals = await loadViewerPrincipals(recorder.db, orgId, world.narrow.accountId);
  expect(viewer.keys.size).toBeGreaterThan(1);
  const list = (filter: Partial<ObjectListFilter>, position: ListPosition = { limit: 26 }, tuning: VisibilityTuning = {}) =>
    listVisibleObjects(recorder.db, orgId, viewer, { types: TYPES, ...filter }, position, undefined, tuning);
  const first = await list({});
  expect(first.length).toBe(26);
  const last = first[24];
  await list({}, { limit: 26, after: { lastUpdatedAt: last.last_updated_at, id: last.id } });
  await list({ types: ['confluence:page'] });
  await list({ text: 'item' });
  await list({ containerId: first.find((r) => r.container_id)!.container_id });
  // The text plan reads the trigram index: a rare text costs its matches.
  expect((await list({ text: 'X-1234' }, { limit: 26 }, { plan: 'text' })).length).toBe(0);
  expect((await list({ text: 'N-1200' }, { limit: 26 }, { plan: 'text' })).map((r) => r.external_id)).toEqual(['N-1200']);
  for (const plan of [forced] as const) {
    await list({}, { limit: 26 }, { plan });
    await list({ types: ['confluence:page'] }, { limit: 26 }, { plan });
    await list({ text: 'item' }, { limit: 26 }, { plan });
    await list({ containerId: first.find((r) => r.container_id)!.container_id }, { limit: 26 }, { plan });
  }
  const checker = new AccessChecker(recorder.db, orgId, async () => viewer);
  expect(await checker.can(first[0].id, 'VIEW')).toBe(true);
  // A batch of checks (a relationships page's other ends) reads each object by its key.
  const batch = new AccessChecker(recorder.db, orgId, async () => viewer);
  expect(await Promise.all(first.slice(1).map((row) => batch.can(row.id, 'VIEW')))).toEqual(first.slice(1).map(() => true));
  await new RelationshipRepository(recorder.db).listForObjects(orgId, [{ id: first.find((r) => r.external_id === 'N-0')?.id ?? first[0].id, after: null }], 'BOTH', null, 26);
  return explainRecorded(recorder, orgId);
}

/** Each recorded statement with its plan, explained as it ran: after the planner settings its transaction made, if any. */
async function explainRecorded(recorder: ReturnType<typeof recording>, orgId: string) {
  const shards = await shardsOf(orgId);
  const plans: { statement: string; plan: string }[] = [];
  let settings: CompiledQuery[] = [];
  for (const statement of recorder.statements()) {
    if (/^\s*set local /.test(statement.sql)) {
      // A list's transaction starts with all its settings in one round trip; a later one changes one of them.
      settings = statement.sql.includes(';') ? [statement] : [...settings, statement];
      continue;
    }
    const explain = CompiledQuery.raw(`explain (analyze, costs off, timing off, summary off) ${statement.sql}`, [...statement.parameters]);
    const result = await t.db.transaction().execute(async (trx) => {
      await sql.raw('set local citus.explain_all_tasks = on').execute(trx);
      if (UNDER_INDEX_PLANS.some((pattern) => pattern.test(statement.sql))) for (const setting of settings) await trx.executeQuery(setting);
      return trx.executeQuery<{ 'QUERY PLAN': string }>(explain);
    });
    // On Citus the worker's plan names each table and index by its shard (graph_object_102008).
    const plan = tasksOf(result.rows.map((r) => r['QUERY PLAN']).join('\n'), shards);
    plans.push({ statement: statement.sql, plan: plan.replace(/_\d{6}\b/g, '') });
  }
  return plans;
}

/** On Citus, the shards of graph_object and acl_entry that hold the organisation; elsewhere none. */
async function shardsOf(orgId: string): Promise<string[]> {
  if (!onCitus()) return [];
  const { rows } = await sql<{ g: string; a: string }>`
    select get_shard_id_for_distribution_column('graph_object', ${orgId}::text)::text as g,
           get_shard_id_for_distribution_column('acl_entry', ${orgId}::text)::text as a`.execute(t.db);
  return [rows[0].g, rows[0].a];
}

/**
 * A Citus plan of a statement that asks every shard (the text plan's probe, visibility-filter.ts)
 * reduced to the tasks on the organisation's shards: the other shards hold none of its rows, and
 * whatever their planner does with an empty shard says nothing of this statement's cost.
 */
function tasksOf(plan: string, shards: string[]): string {
  const tasks = plan.split(/\n(?=\s*->  Task\n)/);
  if (shards.length === 0 || tasks.length <= 2) return plan;
  return [tasks[0], ...tasks.slice(1).filter((task) => shards.some((shard) => new RegExp(`_${shard}\\b`).test(task)))].join('\n');
}

/** Rows a scan node of graph_object or acl_entry produced over all its loops. */
function rowsRead(plan: string): number[] {
  return [...plan.matchAll(/Scan (?:using \w+ )?on (?:graph_object|acl_entry)\b.*\(actual rows=([\d.]+) loops=(\d+)\)/g)].map((m) => Number(m[1]) * Number(m[2]));
}

function expectNoSequentialScans(plans: { statement: string; plan: string }[], { boundedReads = true } = {}) {
  expect(plans.filter(({ plan }) => rowsRead(plan).length > 0).length).toBeGreaterThan(12);
  // The principal set walks the directory by its indexes, whatever the tables hold (issue 16: a
  // never-analyzed planner hashed the membership tables, 180 ms at 1,000,000 objects).
  const principalSet = plans.filter(({ statement }) => UNDER_INDEX_PLANS[1].test(statement));
  expect(principalSet.length).toBeGreaterThan(0);
  for (const { statement, plan } of principalSet) expect(plan, `${statement}\n\n${plan}`).not.toMatch(/Seq Scan|Hash Join|Hash\b|Join Filter/);
  // The streams read objects by container (graph_object_children) and by key, never along the
  // organisation's time order: a bounded page 2 once walked graph_object_recent from the cursor
  // to the bound for every container (issue 16, skewed statistics at 1,000,000 objects).
  const streams = plans.filter(({ statement }) => /\btops as materialized\b/.test(statement));
  expect(streams.length).toBeGreaterThan(0);
  for (const { statement, plan } of streams) expect(plan, `${statement}\n\n${plan}`).not.toMatch(/graph_object_recent/);
  // The text plan finds its rows through the trigram index alone: the organisation's equality
  // (which Citus needs to route the statement, issue 18) must not draw in a btree that reads the
  // whole organisation, alone or ANDed with the trigram index.
  const texts = plans.filter(({ statement }) => /left\(md5\(o\.org_id\), 4\)/.test(statement));
  expect(texts.length).toBeGreaterThan(0);
  for (const { statement, plan } of texts) {
    expect(plan, `${statement}\n\n${plan}`).toMatch(/Bitmap Index Scan on graph_object_text/);
    expect(plan, `${statement}\n\n${plan}`).not.toMatch(/BitmapAnd|Index Scan on graph_object_(?!text)|Index Scan using graph_object_\w+ on graph_object o\b/);
  }
  for (const { statement, plan } of plans) {
    expect(plan, `${statement}\n\n${plan}`).not.toMatch(/Seq Scan on (graph_object|acl_entry)\b/);
    // The viewer sees about 40 of the organisation's 3,000 objects; a page reads a few hundred rows.
    if (boundedReads) expect(Math.max(0, ...rowsRead(plan)), `${statement}\n\n${plan}`).toBeLessThan(OBJECTS / 4);
  }
}

describe('statement shapes without statistics', () => {
  it('reads a stream that holds none of the filtered type only down to the page\'s end', async () => {
    // The viewer's own stream holds 2,000 work items; its group's stream 40 pages among the
    // newest of them. A page of pages needs the first only down to the 26th page: the streams'
    // walks stop at their cap, and the round is complete (issue 16: such a stream was read to
    // its end, 4,164 entries for the narrow viewer at 1,000,000 objects).
    const tenant = await createTenant(t, 'Types');
    const viewer = await tenant.account({ member: false });
    await tenant.ingest('setUsers', { users: [{ externalId: 'n', displayName: 'n', updateSequenceNumber: 1 }] });
    await tenant.ingest('setGroups', { groups: [{ externalId: 'team', members: [{ type: 'USER', externalId: 'n' }], updateSequenceNumber: 1 }] });
    await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'n', accountId: viewer.accountId, updateSequenceNumber: 1 }] });
    const start = Date.parse('2026-01-01T00:00:00Z');
    const objects = [
      ...Array.from({ length: 2000 }, (_, i) => objectInput(`W-${i}`, { lastUpdatedAt: new Date(start + i * 60_000).toISOString(), permissions: viewAcl([userPrincipal('n')]) })),
      ...Array.from({ length: 40 }, (_, k) =>
        objectInput(`P-${k}`, { type: 'confluence:page', lastUpdatedAt: new Date(start + (1999 - 2 * k) * 60_000 + 30_000).toISOString(), permissions: viewAcl([groupPrincipal('team')]) }),
      ),
    ];
    for (let i = 0; i < objects.length; i += 100) await tenant.ingest('setObjects', { objects: objects.slice(i, i + 100) });
    const recorder = recording(t.db);
    const principals = await loadViewerPrincipals(recorder.db, tenant.orgId, viewer.accountId);
    const page = await listVisibleObjects(recorder.db, tenant.orgId, principals, { types: ['confluence:page'] }, { limit: 26 }, undefined, { plan: 'streams' });
    expect(page.map((r) => r.external_id)).toEqual(Array.from({ length: 26 }, (_, k) => `P-${k}`));
    const streams = (await explainRecorded(recorder, tenant.orgId)).filter(({ statement }) => /\btops as materialized\b/.test(statement));
    expect(streams).toHaveLength(1);
    expect(Math.max(...rowsRead(streams[0].plan)), streams[0].plan).toBeLessThan(500);
  });

  it('scans no table whole for a narrow viewer on a never-analyzed database', async () => {
    const world = await narrowWorld('NeverAnalyzed');
    // The embedded database's driver analyzes after bulk writes (src/db/pglite-dialect.ts), and a
    // server may have autovacuum on: forget what either learned, as a fresh server knows nothing.
    await sql`
      delete from pg_statistic where starelid in (select oid from pg_class where relname in ('graph_object', 'acl_entry', 'relationship'));
      update pg_class set reltuples = -1 where relname in ('graph_object', 'acl_entry', 'relationship')`.execute(t.db);
    const analyzed = await sql<{ n: number }>`
      select count(*)::int as n from pg_stats where tablename in ('graph_object', 'acl_entry')`.execute(t.db);
    expect(analyzed.rows[0].n).toBe(0);
    expectNoSequentialScans(await plansOf(world));
    // Forced on this viewer, the forward plan reads growing windows by design, but by index.
    expectNoSequentialScans(await plansOf(world, 'forward'), { boundedReads: false });
  });

  it('looks up a member\'s groups by the member index once VACUUM has marked the memberships visible', async () => {
    // What autovacuum does (and does on a Citus worker's shards): with statistics and a visibility
    // map, an index-only scan of the primary key (connection, group, member) filtered by member
    // looked cheaper than the member index, and read a connection's whole membership for each
    // step of the closure (issue 18: 247 ms for a principal set of 1,000 groups on Citus).
    const tenant = await createTenant(t, 'Vacuumed');
    const viewer = await tenant.account({ member: false });
    const users = Array.from({ length: 100 }, (_, u) => ({ externalId: `u${u}`, displayName: `u${u}`, updateSequenceNumber: 1 }));
    await tenant.ingest('setUsers', { users });
    // 300 groups of 40 users each; the viewer's user is in g0, and g(k) is a member of g(k+1).
    const groups = Array.from({ length: 300 }, (_, g) => ({
      externalId: `g${g}`,
      members: [...Array.from({ length: 40 }, (_, m) => ({ type: 'USER', externalId: `u${(g + m) % 100}` })), ...(g > 0 ? [{ type: 'GROUP', externalId: `g${g - 1}` }] : [])],
      updateSequenceNumber: 1,
    }));
    for (let i = 0; i < groups.length; i += 100) await tenant.ingest('setGroups', { groups: groups.slice(i, i + 100) });
    await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'u0', accountId: viewer.accountId, updateSequenceNumber: 1 }] });
    // Other connections with memberships of their own, as in any organisation with several: the
    // planner then believes one connection's share of the table small.
    for (let k = 0; k < 8; k++) {
      const other = await createTenant(t, `Vacuumed ${k}`);
      await other.ingest('setGroups', { groups: [{ externalId: 'g', members: [{ type: 'USER', externalId: 'u' }], updateSequenceNumber: 1 }] });
    }
    await sql`vacuum analyze group_member`.execute(t.db);
    const recorder = recording(t.db);
    const principals = await loadViewerPrincipals(recorder.db, tenant.orgId, viewer.accountId);
    expect(principals.keys.has(`g:${tenant.connectionId}:g299`)).toBe(true);
    const plans = (await explainRecorded(recorder, tenant.orgId)).filter(({ statement }) => UNDER_INDEX_PLANS[1].test(statement));
    expect(plans).toHaveLength(1);
    expect(plans[0].plan).toMatch(/group_member_by_member/);
    expect(plans[0].plan).not.toMatch(/group_member_pkey/);
  });

  it('scans no table whole after VACUUM ANALYZE, as autovacuum leaves the tables', async () => {
    // A visibility map makes index-only scans look cheap: no statement may take one that reads
    // a good part of the organisation.
    const world = await narrowWorld('VacuumedWorld');
    await sql`vacuum analyze`.execute(t.db);
    expectNoSequentialScans(await plansOf(world));
  });

  it('scans no table whole after ANALYZE ran while another organisation filled the tables', async () => {
    // The decoy: everything visible to its site, then statistics, then the narrow organisation.
    const decoy = await createTenant(t, 'Decoy');
    const objects = Array.from({ length: OBJECTS }, (_, i) => objectInput(`D-${i}`));
    for (let i = 0; i < objects.length; i += 100) await decoy.ingest('setObjects', { objects: objects.slice(i, i + 100) });
    await sql`analyze`.execute(t.db);
    expectNoSequentialScans(await plansOf(await narrowWorld('Skewed')));
  });
});
