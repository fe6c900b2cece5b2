// The list-filter benchmark of issue 16 (PERFORMANCE.md): lists that stay fast at a million
// objects whatever the planner knows. It builds the deterministic dataset of bench/dataset.ts,
// ingests it through the API, checks every measured page against the dataset's own model, and
// times each case under each statistics mode. Markdown report on stdout, progress on stderr.
//
//   npm run bench -- [--objects 100000] [--backend pglite|postgres|citus] [--stats never,fresh]
//                    [--orgs 1] [--runs 200] [--warmup 20] [--seed N] [--second-objects N/10]
//                    [--decoy-objects N] [--case-seconds 30] [--statement-timeout 30]
//                    [--full-check-max 20000] [--hub-links 400] [--explain] [--keep]
//                    [--server postgres://postgres@127.0.0.1:5432/postgres (citus: :5440)]
//                    [--citus-workers 127.0.0.1:5441,127.0.0.1:5442]
//
// At a million objects give the bench process a larger heap than Node's default:
//   NODE_OPTIONS=--max-old-space-size=2048 npm run bench -- --objects 1000000 --backend postgres --stats never,fresh,skewed
// (the model is ~12 bytes an object; what the heap holds beyond it is the HTTP client's and the
// services' own; the server process does not inherit NODE_OPTIONS).
//
// Citus (issue 18): ten organisations of 100,000 objects on the local cluster of
// ../shared/tools/citus/cluster.sh, then the same layout on single-node PostgreSQL, for the ratio
// of their p95s per viewer and of their ingestion rates:
//   npm run bench -- --backend citus --orgs 10 --objects 100000
//   npm run bench -- --backend postgres --orgs 10 --objects 100000
// --backend citus makes the bench database on the coordinator (--server) and on every worker
// (--citus-workers) with the citus extension, adds the workers, and migrates: the migrations shard
// the tenant tables by org_id. The server process's DATABASE_URL is the coordinator's database;
// nothing else differs. Its GraphQL queries run on the worker holding their organisation
// (src/db/worker-routing.ts); TEAMGRAPH_CITUS_READS=coordinator in the bench's environment, which
// the server inherits, keeps them on the coordinator. The report says which worker holds the
// measured organisation and how many organisations each holds. On one machine every node shares
// its cores, so the comparison measures what distributing costs (routing, and the Citus planner on
// each node), not capacity the workers add. The two runs are half an hour apart; with --keep,
// `npm run bench:citus-pair` times them again request by request (bench/citus-pair.ts).
//
// What one run does:
//  - Server. On PostgreSQL the server runs as production runs it (`npm run build`, then
//    dist/src/main.js) in a process of its own on the bench database, everything goes through
//    HTTP, and its RSS is read from /proc/<pid>/status every second. On PGlite the server runs in
//    this process (one process owns the embedded database) on a real HTTP port; its RSS includes
//    the bench's.
//  - Tenants. The organisation, its site, four connections (each with its own connector token),
//    the directory on every connection and the viewers' accounts and tokens are created by this
//    process through the services (bench/harness.ts: createServices as the server's app builds
//    them), on the same database; the server reads those credentials there.
//  - Ingestion. `setObjects` batches of 100 as GraphQL over HTTP, the four connections at once,
//    each sending its own share (ACLs compiled and USN-checked by the server as for any
//    connector): objects/s overall and per tenth of the load, batch p50/p95/p99. Then the
//    relationships (`setRelationships`, likewise). Then a second organisation of
//    --second-objects (default N/10, at least 5,000; same generator, seed + 1).
//  - --orgs K > 1: organisations of N objects each (seed + k for the k-th after the first; the
//    second's default size is then N too), the second through the K-th loaded four at a time, each
//    from its own four connections (16 connectors at once), one objects/s per group. Only the first
//    organisation's cases are timed, and the second's pages as before; the others are load on the
//    same tables (and on Citus, on the same workers).
//  - --stats (a comma list, default never,fresh): `never` measures the database exactly as
//    loaded, never analyzed; `fresh` then runs VACUUM ANALYZE (as autovacuum leaves a table) and
//    measures again; `skewed` loads, on a second database, a decoy organisation first
//    (--decoy-objects, default N: all messages any site member sees, no containers, newer than
//    the measured ones), runs ANALYZE, then loads the measured organisations and measures
//    without analyzing again. (PGlite's driver analyzes by itself as tables grow, like
//    autovacuum: there `never` means "as the driver left it".)
//  - Checks before timing, in every mode: each measured page (page 1, and page 2 by page 1's
//    cursor, of every filter) must hold exactly the model's newest 25 (26–50) of what the viewer
//    may see and the filter matches, lastUpdatedAt non-increasing; ties at a page boundary are
//    allowed (server ids break them), so each rank's timestamp must equal the model's and every
//    object on it must be one the model lets the viewer see. In every mode, first, every viewer
//    of both organisations is paged through 100 at a time and compared the same way when it sees at most
//    --full-check-max objects; a larger viewer (wide; chain at 1M) is checked on its newest 2,000.
//    Any difference prints **NO**, and the case is not timed.
//  - Cases per viewer (wide ~100%, narrow ~1%, rare ~0.01%, old ~2% all among the oldest tenth,
//    chain ~10% only through CONTAINER chains 5 deep): `objects(first: 25)` page 1 and 2, each
//    again with `filter: {types: [TYPE_FILTER]}` and with `filter: {text: "roadmap"}`; the wide
//    viewer with the rare word; `object(id)`; `object(id)` after a directory change (wide: the
//    principal set recomputed); `relationships(first: 25)` of the hub object (wide); and pages 1
//    and 2 for each viewer of the second organisation. A case stops after --case-seconds
//    (counting warm-up) once it has 5 samples, and says how many it took.
//  - Plans: for every list case the list filter is also called in this process with its trace
//    object; what it says is printed as it is.
//
// Where this reaches past the services, on purpose: the plan column calls the list filter
// (src/authz/visibility-filter.ts) with the principal set and readable types a request's context
// computes (src/graphql/context.ts), to print the plan the server chose; "principal set
// recomputed" bumps the organisation's principal version with one SQL statement before each
// request, untimed, as the triggers of any directory change do.
//
// --explain prints EXPLAIN (ANALYZE, BUFFERS) of each statement the list filter runs for each
// viewer's unfiltered first page, per stats mode. --keep leaves the PostgreSQL databases (names on
// stderr). --statement-timeout is the server's TEAMGRAPH_STATEMENT_TIMEOUT (default 30 s instead of
// 5 s, so a statement that depends on the planner's luck shows its time instead of a timeout); a
// request stopped by it (or not answered 10 s after it) is reported as **timeout**, not timed.
// Slow cases are bounded: a case whose checked first request took more than a fifth of
// --case-seconds is reported with that one request ("1 run"), and a viewer's full check stops
// after twice --case-seconds (the report says how far it got).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CompiledQuery, type Kysely, type KyselyPlugin, type QueryId, type RootOperationNode, sql } from 'kysely';
import type { Services } from '../src/services.ts';
import { listVisibleObjects, type VisibilityPlanTrace } from '../src/authz/visibility-filter.ts';
import type { DbHandle } from '../src/db/handle.ts';
import type { Database } from '../src/db/database.ts';
import { createRequestContext } from '../src/graphql/context.ts';
import {
  COMMON_WORD,
  Dataset,
  describeDataset,
  externalIdOf,
  indexOfExternalId,
  MIN_OBJECTS,
  type Model,
  type ModelFilter,
  RARE_WORD,
  type RelationshipPlan,
  TYPE_FILTER,
  TYPES,
  typeCode,
  VIEWER_TARGET,
  VIEWERS,
  type ViewerName,
  WORD,
} from './dataset.ts';
import { type Backend, benchServices, codeRevision, DEFAULT_CITUS_WORKERS, DEFAULT_SERVER, ms, out, progress, type Timing, timingOf, withDatabase } from './harness.ts';
import { type BenchServer, createTenant, graphql, type IngestionStats, ingestConcurrently, ingestTenantsConcurrently, isTimeout, setRequestTimeout, startServerInProcess, startServerProcess, type Tenant } from './ingest.ts';

const LIST_QUERY =
  'query ($filter: ObjectFilter, $after: String, $first: Int) { objects(filter: $filter, first: $first, after: $after) { edges { node { id externalId displayName lastUpdatedAt } } pageInfo { hasNextPage endCursor } } }';
const OBJECT_QUERY = 'query ($id: ID!) { object(id: $id) { id externalId displayName } }';
const BY_EXTERNAL_ID = 'query ($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { id } }';
const RELATIONSHIPS_QUERY =
  'query ($id: ID!, $after: String) { object(id: $id) { relationships(first: 25, after: $after) { edges { node { type from { externalId } to { externalId } } } pageInfo { hasNextPage endCursor } } } }';
const PAGE = 25;
const SAMPLE_RANKS = 2000;
const MIN_SAMPLES = 5;

type Mode = 'never' | 'fresh' | 'skewed';
const MODES: readonly Mode[] = ['never', 'fresh', 'skewed'];
const MODE_LABEL: Record<Mode, string> = { never: 'never analyzed', fresh: 'after VACUUM ANALYZE', skewed: 'skewed statistics' };

interface Options {
  objects: number;
  backend: Backend;
  stats: Mode[];
  runs: number;
  warmup: number;
  seed?: number;
  secondObjects: number;
  decoyObjects: number;
  caseSeconds: number;
  statementTimeout: number;
  fullCheckMax: number;
  hubLinks: number;
  server: string;
  citusWorkers: string[];
  /** Organisations of --objects each (the first measured, the second as the second organisation); 1: the first alone, beside today's smaller second. */
  orgs: number;
  explain: boolean;
  keep: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '100000' },
      orgs: { type: 'string', default: '1' },
      backend: { type: 'string', default: 'pglite' },
      stats: { type: 'string', default: 'never,fresh' },
      runs: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      seed: { type: 'string' },
      'second-objects': { type: 'string' },
      'decoy-objects': { type: 'string' },
      'case-seconds': { type: 'string', default: '30' },
      'statement-timeout': { type: 'string', default: '30' },
      'full-check-max': { type: 'string', default: '20000' },
      'hub-links': { type: 'string', default: '400' },
      server: { type: 'string' },
      'citus-workers': { type: 'string', default: DEFAULT_CITUS_WORKERS.join(',') },
      explain: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const positive = (name: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}.`);
    return n;
  };
  if (values.backend !== 'pglite' && values.backend !== 'postgres' && values.backend !== 'citus') throw new Error(`--backend must be pglite, postgres or citus, got ${values.backend}.`);
  const backend: Backend = values.backend;
  const stats = values.stats!.split(',').map((s) => s.trim());
  for (const s of stats) if (!MODES.includes(s as Mode)) throw new Error(`--stats takes never, fresh and skewed (a comma list), got ${s}.`);
  const objects = positive('objects', values.objects);
  const orgs = positive('orgs', values.orgs);
  return {
    objects,
    backend,
    stats: MODES.filter((m) => stats.includes(m)),
    runs: positive('runs', values.runs),
    warmup: Number(values.warmup) === 0 ? 0 : positive('warmup', values.warmup),
    seed: values.seed === undefined ? undefined : positive('seed', values.seed),
    secondObjects: values['second-objects'] !== undefined ? positive('second-objects', values['second-objects']) : orgs > 1 ? objects : Math.max(MIN_OBJECTS, Math.round(objects / 10)),
    decoyObjects: values['decoy-objects'] === undefined ? objects : positive('decoy-objects', values['decoy-objects']),
    caseSeconds: positive('case-seconds', values['case-seconds']),
    statementTimeout: Number(values['statement-timeout']),
    fullCheckMax: positive('full-check-max', values['full-check-max']),
    hubLinks: positive('hub-links', values['hub-links']),
    server: values.server ?? DEFAULT_SERVER[backend === 'citus' ? 'citus' : 'postgres'],
    citusWorkers: values['citus-workers']!.split(',').map((node) => node.trim()).filter(Boolean),
    orgs,
    explain: values.explain ?? false,
    keep: values.keep ?? false,
  };
}

// ---- cases ----

type FilterName = 'none' | 'types' | 'text' | 'rare-word';

interface ListCase {
  kind: 'list';
  org: 'first' | 'second';
  viewer: ViewerName;
  filter: FilterName;
  page: 1 | 2;
}
type Case = ListCase | { kind: 'object'; viewer: ViewerName } | { kind: 'object-recomputed'; viewer: ViewerName } | { kind: 'relationships'; viewer: ViewerName };

const FILTER_LABEL: Record<FilterName, (v: ViewerName) => string> = {
  none: () => '',
  types: (v) => `, types [${TYPE_FILTER[v]}]`,
  text: () => `, text "${COMMON_WORD}"`,
  'rare-word': () => `, text "${RARE_WORD}"`,
};

function caseLabel(c: Case): string {
  switch (c.kind) {
    case 'list':
      return `${c.org === 'second' ? 'second org: ' : ''}objects page ${c.page}, ${c.viewer}${FILTER_LABEL[c.filter](c.viewer)}`;
    case 'object':
      return `object(id), ${c.viewer}`;
    case 'object-recomputed':
      return `object(id), ${c.viewer}, principal set recomputed`;
    case 'relationships':
      return `relationships(first: 25) of the hub, ${c.viewer}`;
  }
}

function graphqlFilter(viewer: ViewerName, filter: FilterName): Record<string, unknown> | null {
  if (filter === 'types') return { types: [TYPE_FILTER[viewer]] };
  if (filter === 'text') return { text: COMMON_WORD };
  if (filter === 'rare-word') return { text: RARE_WORD };
  return null;
}

function modelFilter(viewer: ViewerName, filter: FilterName): ModelFilter {
  if (filter === 'types') return { type: typeCode(TYPE_FILTER[viewer]) };
  if (filter === 'text') return { word: WORD.common };
  if (filter === 'rare-word') return { word: WORD.rare };
  return {};
}

function allCases(): Case[] {
  const cases: Case[] = [];
  for (const viewer of VIEWERS) {
    for (const filter of ['none', 'types', 'text'] as const) for (const page of [1, 2] as const) cases.push({ kind: 'list', org: 'first', viewer, filter, page });
    if (viewer === 'wide') for (const page of [1, 2] as const) cases.push({ kind: 'list', org: 'first', viewer, filter: 'rare-word', page });
    cases.push({ kind: 'object', viewer });
  }
  cases.push({ kind: 'object-recomputed', viewer: 'wide' });
  cases.push({ kind: 'relationships', viewer: 'wide' });
  for (const viewer of VIEWERS) for (const page of [1, 2] as const) cases.push({ kind: 'list', org: 'second', viewer, filter: 'none', page });
  return cases;
}

// ---- checks against the model ----

/** The model's answer for one viewer and filter, newest first: every rank's timestamp, and the total. */
const expectations = new WeakMap<Model, Map<string, { times: Float64Array; total: number }>>();
function expected(model: Model, viewer: ViewerName, filter: FilterName) {
  const key = `${viewer}/${filter}`;
  if (!expectations.has(model)) expectations.set(model, new Map());
  const byModel = expectations.get(model)!;
  let found = byModel.get(key);
  if (!found) {
    const f = modelFilter(viewer, filter);
    const times: number[] = [];
    for (let i = 0; i < model.n; i++) if (model.matches(viewer, f, i)) times.push(model.lastUpdatedAt[i]);
    const sorted = Float64Array.from(times).sort().reverse();
    found = { times: sorted, total: sorted.length };
    byModel.set(key, found);
  }
  return found;
}

interface Edge {
  id: string;
  externalId: string;
  lastUpdatedAt: string;
}

/** Null when the page holds ranks [offset, offset + edges) of the model's answer; otherwise what differs. */
function checkPage(model: Model, viewer: ViewerName, filter: FilterName, offset: number, size: number, edges: Edge[], hasNextPage: boolean): string | null {
  const want = expected(model, viewer, filter);
  const f = modelFilter(viewer, filter);
  const wanted = Math.max(0, Math.min(size, want.total - offset));
  if (edges.length !== wanted) return `${edges.length} objects at ranks ${offset + 1}–, the model has ${wanted}`;
  const seen = new Set<string>();
  let previous = Number.POSITIVE_INFINITY;
  for (const [k, edge] of edges.entries()) {
    const i = indexOfExternalId(edge.externalId);
    const t = Date.parse(edge.lastUpdatedAt);
    if (!(i >= 0 && i < model.n) || externalIdOf(model.type[i], i) !== edge.externalId) return `${edge.externalId} is no object of the dataset`;
    if (seen.has(edge.externalId)) return `${edge.externalId} twice`;
    seen.add(edge.externalId);
    if (!model.matches(viewer, f, i)) return `${edge.externalId} (rank ${offset + k + 1}) is not one the model lets ${viewer} see${filter === 'none' ? '' : ' with this filter'}`;
    if (t !== model.lastUpdatedAt[i]) return `${edge.externalId}: lastUpdatedAt ${edge.lastUpdatedAt}, the model's ${new Date(model.lastUpdatedAt[i]).toISOString()}`;
    if (t > previous) return `lastUpdatedAt increases at rank ${offset + k + 1}`;
    previous = t;
    if (t !== want.times[offset + k]) return `rank ${offset + k + 1} is ${edge.lastUpdatedAt}, the model's ${new Date(want.times[offset + k]).toISOString()}`;
  }
  if (hasNextPage !== want.total > offset + edges.length) return `hasNextPage ${hasNextPage} after rank ${offset + edges.length} of ${want.total}`;
  return null;
}

// ---- measuring ----

interface Measured {
  timing?: Timing & { samples: number };
  /** A difference from the model, or an error. */
  problem?: string;
  /** The request did not answer within the statement timeout. */
  timedOut?: boolean;
  plan?: string;
}

/** Times one request. */
async function timed<T>(once: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await once();
  return { value, ms: performance.now() - t0 };
}

/** The check's own request, when it was too slow to repeat within the case's budget. */
const single = (msTaken: number): Timing & { samples: number } => ({ ...timingOf([msTaken]), samples: 1 });

/** Like harness.measure, but a case stops after `budgetMs` (warm-up included) once it has MIN_SAMPLES. */
async function measureWithin(runs: number, warmup: number, budgetMs: number, once: () => Promise<unknown>, before?: () => Promise<void>): Promise<Timing & { samples: number }> {
  const started = performance.now();
  for (let i = 0; i < warmup && performance.now() - started < budgetMs / 4; i++) {
    await before?.();
    await once();
  }
  const samples: number[] = [];
  while (samples.length < runs && (samples.length < MIN_SAMPLES || performance.now() - started < budgetMs)) {
    await before?.();
    const t0 = performance.now();
    await once();
    samples.push(performance.now() - t0);
  }
  return { ...timingOf(samples), samples: samples.length };
}

const planText = (trace: Partial<VisibilityPlanTrace> & Record<string, unknown>) =>
  trace.plan === undefined ? 'n/a' : `${String(trace.plan)}${typeof trace.statements === 'number' ? `, ${trace.statements} st.` : ''}`;

/** Records the statements a piece of code runs, compiled with their parameters. */
function statementRecorder(db: Kysely<Database>) {
  const nodes: { node: RootOperationNode; queryId: QueryId }[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      nodes.push({ node: args.node, queryId: args.queryId });
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const recording = db.withPlugin(plugin);
  return { db: recording, statements: () => nodes.map(({ node, queryId }) => recording.getExecutor().compileQuery(node, queryId)) };
}

interface OrgUnderTest {
  tenant: Tenant;
  model: Model;
}

interface World {
  options: Options;
  handle: DbHandle;
  services: Services;
  server: BenchServer;
  first: OrgUnderTest;
  second: OrgUnderTest;
  relationships: RelationshipPlan;
}

/** The viewer's principal set as the resolver computes it, for calling the list filter directly. */
async function directViewer(world: World, org: OrgUnderTest, viewer: ViewerName) {
  const auth = await world.services.sessions.authenticate(org.tenant.tokens[viewer]);
  if (!auth.ok || auth.caller.kind !== 'account') throw new Error(`The ${viewer} viewer could not authenticate.`);
  const context = createRequestContext(world.services, auth.caller, auth.org, `bench-${viewer}`);
  return { principals: await context.viewer(), readable: await context.gate.readableTypes() };
}

/** The plans the list filter chooses for page 1 and page 2 of a viewer and filter. */
async function plansFor(world: World, org: OrgUnderTest, viewer: ViewerName, filter: FilterName): Promise<[string, string]> {
  const { principals, readable } = await directViewer(world, org, viewer);
  const f = graphqlFilter(viewer, filter);
  const listFilter = { types: f?.types ? (f.types as string[]).filter((t) => readable.includes(t)) : readable, text: (f?.text as string | undefined) ?? null };
  const first = {} as VisibilityPlanTrace;
  const rows = await listVisibleObjects(world.handle.db, org.tenant.orgId, principals, listFilter, { limit: PAGE + 1 }, first);
  const second = {} as VisibilityPlanTrace;
  const last = rows[Math.min(PAGE - 1, rows.length - 1)];
  if (last) await listVisibleObjects(world.handle.db, org.tenant.orgId, principals, listFilter, { after: { lastUpdatedAt: last.last_updated_at, id: last.id }, limit: PAGE + 1 }, second);
  return [planText(first as any), last ? planText(second as any) : 'n/a'];
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of each statement the list filter ran, in one transaction as it ran
 * them: its SET LOCAL statements (the index-only planner settings, src/db/index-plans.ts) are run
 * as they are, each other statement is explained under them. Rolled back, as the filter's is.
 */
async function explainFirstPage(world: World, viewer: ViewerName, mode: Mode) {
  const { principals, readable } = await directViewer(world, world.first, viewer);
  const recorder = statementRecorder(world.handle.db);
  await listVisibleObjects(recorder.db, world.first.tenant.orgId, principals, { types: readable }, { limit: PAGE + 1 });
  const trx = await world.handle.db.startTransaction().execute();
  try {
    let index = 0;
    for (const statement of recorder.statements()) {
      if (/^\s*set\s/i.test(statement.sql)) {
        await trx.executeQuery(CompiledQuery.raw(statement.sql, [...statement.parameters]));
        continue;
      }
      const result = await trx.executeQuery(CompiledQuery.raw(`explain (analyze, buffers) ${statement.sql}`, [...statement.parameters]));
      out(`\n#### EXPLAIN, ${MODE_LABEL[mode]}, ${viewer} viewer, first page, statement ${++index}\n\n\`\`\`\n${result.rows.map((r: any) => r['QUERY PLAN']).join('\n')}\n\`\`\``);
    }
  } finally {
    await trx.rollback().execute();
  }
}

interface FullCheck {
  checked: number;
  of: number;
  problem: string | null;
  /** Seconds after which the check stopped unfinished. */
  stoppedAfter?: number;
  timedOut?: boolean;
}

/** Pages through the viewer's objects 100 at a time, each page checked against the model's ranks. */
async function fullCheck(world: World, org: OrgUnderTest, viewer: ViewerName): Promise<FullCheck> {
  const total = expected(org.model, viewer, 'none').total;
  const limit = total <= world.options.fullCheckMax ? total : SAMPLE_RANKS;
  let after: string | null = null;
  let offset = 0;
  const started = performance.now();
  const budget = 2 * world.options.caseSeconds * 1000;
  for (;;) {
    if (performance.now() - started > budget) return { checked: offset, of: total, problem: null, stoppedAfter: Math.round((performance.now() - started) / 1000) };
    let data: any;
    try {
      data = await graphql(world.server.url, org.tenant.tokens[viewer], LIST_QUERY, { after, first: 100 });
    } catch (error) {
      if (isTimeout(error)) return { checked: offset, of: total, problem: null, timedOut: true };
      throw error;
    }
    const edges: Edge[] = data.objects.edges.map((e: any) => e.node);
    const problem = checkPage(org.model, viewer, 'none', offset, 100, edges, data.objects.pageInfo.hasNextPage);
    offset += edges.length;
    if (problem) return { checked: offset, of: total, problem };
    if (!data.objects.pageInfo.hasNextPage || offset >= limit) return { checked: offset, of: total, problem: null };
    after = data.objects.pageInfo.endCursor;
  }
}

/** Checks then times every case in one stats mode. */
async function measureMode(world: World, mode: Mode, fullChecks: boolean, results: Map<string, Map<Mode, Measured>>, checks: Map<string, Map<Mode, FullCheck>>) {
  const { options, server } = world;
  const budget = options.caseSeconds * 1000;
  if (fullChecks) {
    for (const [orgName, org] of [['first', world.first], ['second', world.second]] as const) {
      for (const viewer of VIEWERS) {
        const t0 = performance.now();
        const check = await fullCheck(world, org, viewer).catch((error: Error): FullCheck => ({ checked: 0, of: 0, problem: error.message }));
        progress(`${MODE_LABEL[mode]}: ${orgName} org, ${viewer}: ${check.checked} of ${check.of} checked against the model in ${((performance.now() - t0) / 1000).toFixed(1)} s${check.problem ? `: NO, ${check.problem}` : check.timedOut ? ': timeout' : check.stoppedAfter ? ' (stopped: too slow)' : ''}`);
        const key = `${orgName}/${viewer}`;
        if (!checks.has(key)) checks.set(key, new Map());
        checks.get(key)!.set(mode, check);
      }
    }
  }
  if (options.explain) for (const viewer of VIEWERS) await explainFirstPage(world, viewer, mode);

  const cursors = new Map<string, { cursor: string | null; secondPlan: string }>();
  const hubId = (await graphql(server.url, world.first.tenant.tokens.wide, BY_EXTERNAL_ID, {
    c: world.first.tenant.connections[world.relationships.hubConnection].connectionId,
    t: world.relationships.hubRef.type,
    e: world.relationships.hubRef.externalId,
  })).objectByExternalId?.id as string | undefined;

  for (const c of allCases()) {
    const label = caseLabel(c);
    const result: Measured = {};
    if (!results.has(label)) results.set(label, new Map());
    results.get(label)!.set(mode, result);
    progress(`${MODE_LABEL[mode]}: ${label}`);
    try {
      if (c.kind === 'list') {
        const org = c.org === 'first' ? world.first : world.second;
        const token = org.tenant.tokens[c.viewer];
        const key = `${c.org}/${c.viewer}/${c.filter}`;
        if (c.page === 2 && !cursors.has(key)) {
          // Page 1 gave no cursor: it timed out (then so does this) or differed from the model.
          const firstPage = results.get(caseLabel({ ...c, page: 1 }))?.get(mode);
          if (firstPage?.timedOut) result.timedOut = true;
          else result.plan = 'n/a (page 1 differed)';
          continue;
        }
        const variables = { filter: graphqlFilter(c.viewer, c.filter), first: PAGE, after: c.page === 1 ? null : cursors.get(key)!.cursor };
        if (c.page === 2 && variables.after === null) {
          result.plan = 'n/a (one page)';
          continue;
        }
        const { value: data, ms: firstMs } = await timed(() => graphql(server.url, token, LIST_QUERY, variables));
        const edges: Edge[] = data.objects.edges.map((e: any) => e.node);
        const problem = checkPage(org.model, c.viewer, c.filter, (c.page - 1) * PAGE, PAGE, edges, data.objects.pageInfo.hasNextPage);
        if (problem) {
          result.problem = problem;
          continue;
        }
        if (c.page === 1) {
          const [first, second] = await plansFor(world, org, c.viewer, c.filter);
          result.plan = first;
          cursors.set(key, { cursor: data.objects.pageInfo.hasNextPage ? data.objects.pageInfo.endCursor : null, secondPlan: second });
        } else result.plan = cursors.get(key)!.secondPlan;
        result.timing = firstMs > budget / MIN_SAMPLES ? single(firstMs) : await measureWithin(options.runs, options.warmup, budget, () => graphql(server.url, token, LIST_QUERY, variables));
      } else if (c.kind === 'object' || c.kind === 'object-recomputed') {
        const token = world.first.tenant.tokens[c.viewer];
        // The viewer's newest object by the model, found by its externalId (a single-object read,
        // so this case does not depend on a list answering).
        const { model, tenant } = world.first;
        const i = model.newestIndex(c.viewer);
        const found = await graphql(server.url, token, BY_EXTERNAL_ID, { c: tenant.connections[model.connection[i]].connectionId, t: TYPES[model.type[i]], e: externalIdOf(model.type[i], i) });
        const id = found.objectByExternalId?.id as string | undefined;
        if (!id) {
          result.problem = `objectByExternalId did not find ${externalIdOf(model.type[i], i)}, which the model lets ${c.viewer} see`;
          continue;
        }
        const { value: data, ms: firstMs } = await timed(() => graphql(server.url, token, OBJECT_QUERY, { id }));
        if (data.object?.id !== id) {
          result.problem = `object(id) of the first page's first object answered ${JSON.stringify(data.object)}`;
          continue;
        }
        // A directory change before each request, so the kept principal set cannot be used.
        const directoryChange =
          c.kind === 'object-recomputed'
            ? async () => {
                await sql`update principal_version set version = version + 1 where org_id = ${world.first.tenant.orgId}`.execute(world.handle.db);
              }
            : undefined;
        result.timing = firstMs > budget / MIN_SAMPLES ? single(firstMs) : await measureWithin(options.runs, options.warmup, budget, () => graphql(server.url, token, OBJECT_QUERY, { id }), directoryChange);
      } else {
        const token = world.first.tenant.tokens[c.viewer];
        if (!hubId) {
          result.problem = `the hub ${world.relationships.hubRef.externalId} is not visible to ${c.viewer}`;
          continue;
        }
        const problem = await checkRelationships(world, c.viewer, hubId);
        if (problem) {
          result.problem = problem;
          continue;
        }
        result.timing = await measureWithin(options.runs, options.warmup, budget, () => graphql(server.url, token, RELATIONSHIPS_QUERY, { id: hubId, after: null }));
      }
    } catch (error) {
      if (isTimeout(error)) result.timedOut = true;
      else result.problem = `error: ${(error as Error).message.slice(0, 300)}`;
    }
    if (result.timedOut) progress(`  timeout`);
    else if (result.problem) progress(`  NO: ${result.problem}`);
    else if (result.timing) progress(`  p50 ${ms(result.timing.p50)} p95 ${ms(result.timing.p95)} ms (${result.timing.samples} samples), plan ${result.plan ?? ''}`);
  }
}

/** Every edge of the hub, paged 25 at a time, must be one of the model's with an end the viewer sees. */
async function checkRelationships(world: World, viewer: ViewerName, hubId: string): Promise<string | null> {
  const { model } = world.first;
  const plan = world.relationships;
  const neighbours = new Set(plan.hubNeighbours);
  const bit = 1 << VIEWERS.indexOf(viewer);
  let expectedCount = 0;
  for (const j of neighbours) if (model.visible[j] & bit) expectedCount++;
  const seen = new Set<string>();
  let after: string | null = null;
  for (;;) {
    const data = await graphql(world.server.url, world.first.tenant.tokens[viewer], RELATIONSHIPS_QUERY, { id: hubId, after });
    const connection = data.object.relationships;
    if (connection.edges.length > PAGE) return `a page of ${connection.edges.length} edges`;
    for (const { node } of connection.edges) {
      const other = node.from.externalId === plan.hubRef.externalId ? node.to.externalId : node.from.externalId;
      const j = indexOfExternalId(other);
      if (!neighbours.has(j) || !(model.visible[j] & bit)) return `edge to ${other}, which the model does not link to the hub or lets ${viewer} see`;
      if (seen.has(other)) return `edge to ${other} twice`;
      seen.add(other);
    }
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return seen.size === expectedCount ? null : `${seen.size} edges through the API, the model has ${expectedCount}`;
}

// ---- Citus ----

interface ShardPlacement {
  orgs: { label: string; orgId: string; node: string }[];
  /** Every node that may hold shards (host:port). */
  workers: string[];
}

/**
 * Citus: the node that holds each organisation's shard of graph_object (every tenant table is
 * co-located with it, so that node holds all of the organisation's rows and answers its requests).
 */
async function shardPlacement(handle: DbHandle, orgs: { label: string; tenant: Tenant }[]): Promise<ShardPlacement> {
  const placed: ShardPlacement['orgs'] = [];
  for (const { label, tenant } of orgs) {
    const { rows } = await sql<{ node: string }>`
      select nodename || ':' || nodeport as node from pg_dist_shard_placement
      where shardid = get_shard_id_for_distribution_column('graph_object', ${tenant.orgId}::text)`.execute(handle.db);
    placed.push({ label, orgId: tenant.orgId, node: rows.map((r) => r.node).join(' and ') });
  }
  const { rows } = await sql<{ node: string }>`
    select nodename || ':' || nodeport as node from pg_dist_node where noderole = 'primary' and shouldhaveshards order by nodename, nodeport`.execute(handle.db);
  return { orgs: placed, workers: rows.map((r) => r.node) };
}

// ---- the run ----

interface LoadRecord {
  label: string;
  stats: IngestionStats;
  what: 'objects' | 'relationships';
}

async function main() {
  const options = parseOptions();
  setRequestTimeout(options.statementTimeout > 0 ? (options.statementTimeout + 10) * 1000 : 3600_000);
  const started = new Date();
  const cpus = os.cpus();
  const defaultSeed = new Dataset({ objects: MIN_OBJECTS }).seed;
  const seed = options.seed ?? defaultSeed;

  progress(`model of the first organisation: ${options.objects.toLocaleString('en')} objects`);
  const firstSet = new Dataset({ objects: options.objects, seed, tag: 'first' });
  const firstModel = firstSet.buildModel((done) => progress(`  model: ${done.toLocaleString('en')} objects`));
  const secondSet = new Dataset({ objects: options.secondObjects, seed: seed + 1, tag: 'second' });
  const secondModel = secondSet.buildModel();
  // --orgs: organisations 3 and on are load on the same tables (on Citus, on the same workers) and
  // are never read, so they need no model. The decoy's seed follows all of theirs.
  const otherSets = Array.from({ length: Math.max(0, options.orgs - 2) }, (_, k) => new Dataset({ objects: options.objects, seed: seed + 2 + k, tag: `org${3 + k}` }));
  const decoySeed = seed + Math.max(2, options.orgs);
  const relationships = firstSet.relationshipPlan(options.hubLinks);

  const results = new Map<string, Map<Mode, Measured>>();
  const checks = new Map<string, Map<Mode, FullCheck>>();
  const loads: LoadRecord[] = [];
  const memory: { label: string; bytes: number; scope: string }[] = [];
  const placements: { where: string; shards: ShardPlacement }[] = [];
  let serverVersion = '';
  let benchHeapMax = 0;
  const heapTimer = setInterval(() => {
    benchHeapMax = Math.max(benchHeapMax, process.memoryUsage().heapUsed);
  }, 1000);
  heapTimer.unref();

  const databases: { modes: Mode[]; decoy: boolean }[] = [];
  const plain = options.stats.filter((m) => m !== 'skewed');
  if (plain.length > 0) databases.push({ modes: plain, decoy: false });
  if (options.stats.includes('skewed')) databases.push({ modes: ['skewed'], decoy: true });

  for (const { modes, decoy } of databases) {
    await withDatabase(
      options,
      async (handle, url) => {
        if (options.backend === 'pglite') serverVersion = `PGlite: ${(await sql<{ version: string }>`select version()`.execute(handle.db)).rows[0].version.split(',')[0]}`;
        else serverVersion = `PostgreSQL server ${(await sql<{ server_version: string }>`show server_version`.execute(handle.db)).rows[0].server_version}`;
        if (options.backend === 'citus') serverVersion += `, Citus ${(await sql<{ version: string }>`select extversion as version from pg_extension where extname = 'citus'`.execute(handle.db)).rows[0].version}`;
        const server = options.backend !== 'pglite' ? await startServerProcess(url!, options.statementTimeout) : await startServerInProcess(handle);
        const services = benchServices(handle);
        const where = decoy ? 'skewed database' : 'database';
        try {
          server.takeMaxRss();
          // The organisations loaded besides the first two, for where Citus put them.
          const others: { label: string; tenant: Tenant }[] = [];
          if (decoy) {
            const decoySet = new Dataset({ objects: options.decoyObjects, seed: decoySeed, shape: 'decoy', tag: 'decoy' });
            const decoyTenant = await createTenant(services, decoySet, 'Decoy Org');
            others.push({ label: 'decoy', tenant: decoyTenant });
            progress(`loading the decoy organisation: ${options.decoyObjects.toLocaleString('en')} objects`);
            const stats = await ingestConcurrently(server.url, decoyTenant, 'objects', (c) => decoySet.batchesOf(c), decoySet.n, 'decoy');
            loads.push({ label: `decoy organisation (${where}), empty tables`, stats, what: 'objects' });
            const t0 = performance.now();
            await sql`analyze`.execute(handle.db);
            progress(`ANALYZE with the decoy loaded: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          }
          const firstTenant = await createTenant(services, firstSet, 'Bench Org');
          progress(`loading the first organisation: ${firstSet.n.toLocaleString('en')} objects (${where})`);
          const firstStats = await ingestConcurrently(server.url, firstTenant, 'objects', (c) => firstSet.batchesOf(c), firstSet.n, 'first org');
          loads.push({ label: `first organisation (${where}${decoy ? ', after the decoy and ANALYZE' : ''})`, stats: firstStats, what: 'objects' });
          const relStats = await ingestConcurrently(server.url, firstTenant, 'relationships', (c) => relationships.batchesOf(c), relationships.estimatedCount, 'relationships');
          loads.push({ label: `first organisation's relationships (${where})`, stats: relStats, what: 'relationships' });
          let secondTenant: Tenant;
          if (options.orgs === 1) {
            secondTenant = await createTenant(services, secondSet, 'Second Org');
            progress(`loading the second organisation: ${secondSet.n.toLocaleString('en')} objects (${where})`);
            const secondStats = await ingestConcurrently(server.url, secondTenant, 'objects', (c) => secondSet.batchesOf(c), secondSet.n, 'second org');
            loads.push({ label: `second organisation, loaded after the first (${where})`, stats: secondStats, what: 'objects' });
          } else {
            // The rest four organisations at a time, each from its own four connections: on Citus
            // their rows go to different workers at once, which is what ingestion across
            // organisations gains or loses there (issue 18). A last group may be smaller.
            const sets = [secondSet, ...otherSets];
            const tenants: Tenant[] = [];
            for (let g = 0; g < sets.length; g += 4) {
              const group = sets.slice(g, g + 4);
              const numbers = group.length === 1 ? `organisation ${g + 2}` : `organisations ${g + 2}–${g + group.length + 1}`;
              const groupTenants: Tenant[] = [];
              for (const [k, set] of group.entries()) groupTenants.push(await createTenant(services, set, g + k === 0 ? 'Second Org' : `Bench Org ${g + k + 2}`));
              const total = group.reduce((sum, set) => sum + set.n, 0);
              progress(`loading ${numbers}${group.length > 1 ? ' at once' : ''}: ${total.toLocaleString('en')} objects (${where})`);
              const stats = await ingestTenantsConcurrently(server.url, groupTenants.map((tenant, k) => ({ tenant, batchesOf: (c: number) => group[k].batchesOf(c) })), 'objects', total, numbers);
              loads.push({ label: `${numbers}${group.length > 1 ? `, ${group.length} at once (${4 * group.length} connections)` : ''} (${where})`, stats, what: 'objects' });
              tenants.push(...groupTenants);
            }
            secondTenant = tenants[0];
            others.push(...tenants.slice(1).map((tenant, k) => ({ label: `org ${k + 3}`, tenant })));
          }
          if (options.backend === 'citus') {
            const orgs = [{ label: 'first (measured)', tenant: firstTenant }, { label: 'second', tenant: secondTenant }, ...others];
            placements.push({ where, shards: await shardPlacement(handle, orgs) });
          }
          memory.push({ label: `${where}: through the loads`, bytes: server.takeMaxRss(), scope: server.rssScope });

          const world: World = { options, handle, services, server, first: { tenant: firstTenant, model: firstModel }, second: { tenant: secondTenant, model: secondModel }, relationships };
          for (const mode of modes) {
            if (mode === 'fresh') {
              // As autovacuum leaves a table: statistics, and a visibility map that makes
              // index-only scans look cheap (migration 026).
              const t0 = performance.now();
              await sql`vacuum analyze`.execute(handle.db);
              progress(`VACUUM ANALYZE: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
            }
            await measureMode(world, mode, true, results, checks);
            memory.push({ label: `${where}: measurements, ${MODE_LABEL[mode]}`, bytes: server.takeMaxRss(), scope: server.rssScope });
          }
        } finally {
          await server.stop();
        }
      },
      options.keep && options.backend !== 'pglite',
    );
  }
  clearInterval(heapTimer);
  benchHeapMax = Math.max(benchHeapMax, process.memoryUsage().heapUsed);

  // ---- the report ----
  out(`## teamgraph list benchmark: ${options.orgs > 1 ? `${options.orgs} organisations of ` : ''}${options.objects.toLocaleString('en')} objects on ${options.backend}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`);
  const hosting = {
    pglite: ', in memory, server in the bench process',
    postgres: ` (${new URL(options.server).host}), server in its own process`,
    citus: ` (coordinator ${new URL(options.server).host}, workers ${options.citusWorkers.join(', ')}), server in its own process (DATABASE_URL: the coordinator's database)`,
  }[options.backend];
  out(`- Node ${process.version}, ${serverVersion}${hosting}`);
  if (options.backend === 'citus') {
    out(
      `- every node of the cluster, the server process and this bench share this machine's ${cpus.length} cores: compared with single-node PostgreSQL on the same machine (\`--backend postgres\` with the same --orgs and --objects), this measures what distributing costs (routing, and the Citus planner on each node), not capacity the workers add`,
    );
  }
  out(`- date ${started.toISOString()}, code ${codeRevision()}`);
  out(`- command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``);
  if (options.backend === 'pglite') out("- PGlite's driver runs ANALYZE by itself as tables grow (the embedded database has no autovacuum): \"never analyzed\" there means as the driver left it");
  out(`- up to ${options.runs} runs after up to ${options.warmup} warm-up requests per case, at most ${options.caseSeconds} s a case (then at least ${MIN_SAMPLES} samples); ms, client-side around one HTTP request on loopback, JSON parse included`);

  out();
  out('### Dataset');
  out();
  const d1 = describeDataset(firstSet);
  out(`First organisation: seed ${seed}; ${d1.objects.toLocaleString('en')} objects (${d1.containers} containers, ${d1.chainRoots} chain roots of 121 containers each), ${d1.users.toLocaleString('en')} third-party users and ${d1.groups} groups on each of 4 connections, ${d1.accounts} accounts; ${relationships.hubNeighbours.length} relationships on the hub ${relationships.hubRef.externalId}.`);
  out();
  out(`ACL mix: ${Object.entries(firstModel.mix).map(([kind, count]) => `${kind} ${count}`).join(', ')}`);
  out();
  out(`Second organisation: seed ${seed + 1}, ${secondSet.n.toLocaleString('en')} objects, same generator. ${options.stats.includes('skewed') ? `Decoy (skewed mode only): ${options.decoyObjects.toLocaleString('en')} workspace-visible messages of 2025, seed ${decoySeed}.` : ''}`);
  if (otherSets.length > 0) {
    out();
    out(
      `${otherSets.length === 1 ? `Organisation 3: seed ${seed + 2}` : `Organisations 3–${options.orgs}: seeds ${seed + 2}–${seed + options.orgs - 1}`}, ${options.objects.toLocaleString('en')} objects each, same generator; load on the same tables, not read. Only the first organisation (and the second's pages) is measured below.`,
    );
  }
  const oldRank = firstModel.newestRank('old');
  out();
  out(`Old viewer: its newest object is number ${(oldRank + 1).toLocaleString('en')} of ${options.objects.toLocaleString('en')} newest first (the oldest tenth starts at ${(Math.floor(options.objects * 0.9) + 1).toLocaleString('en')}).`);

  if (placements.length > 0) {
    out();
    out('### Where Citus put the organisations');
    out();
    out('The node of each organisation\'s shard of `graph_object` (every tenant table is co-located with it, so that node holds all its rows).');
    for (const { where, shards } of placements) {
      out();
      const measured = shards.orgs[0];
      const byNode = shards.workers.map((node) => ({ node, orgs: shards.orgs.filter((o) => o.node === node).map((o) => o.label) }));
      const elsewhere = shards.orgs.filter((o) => !shards.workers.includes(o.node));
      out(
        `${where[0].toUpperCase()}${where.slice(1)}: the measured organisation (${measured.orgId}) is on **${measured.node}**. Organisations per node: ${byNode.map(({ node, orgs }) => `${node}: ${orgs.length} (${orgs.join(', ') || 'none'})`).join('; ')}${elsewhere.length > 0 ? `; elsewhere: ${elsewhere.map((o) => `${o.label} on ${o.node}`).join(', ')}` : ''}.`,
      );
    }
  }

  out();
  out('### Viewers');
  out();
  const checkModes = options.stats.filter((m) => [...checks.values()].some((byMode) => byMode.has(m)));
  out(`| org | viewer | designed | sees (model) | share | types filter: matches | text "${COMMON_WORD}": matches | ${checkModes.map((m) => `API = model, ${MODE_LABEL[m]}`).join(' | ')} |`);
  out(`|---|---|---|---|---|---|---|${checkModes.map(() => '---|').join('')}`);
  for (const [orgName, model] of [['first', firstModel], ['second', secondModel]] as const) {
    for (const viewer of VIEWERS) {
      const total = model.count(viewer);
      const cells = checkModes.map((m) => {
        const check = checks.get(`${orgName}/${viewer}`)?.get(m);
        if (!check) return '';
        if (check.problem) return `**NO**: ${check.problem}`;
        if (check.timedOut) return `**timeout** after ${check.checked.toLocaleString('en')} (of ${check.of.toLocaleString('en')}), all equal`;
        if (check.stoppedAfter) return `yes, newest ${check.checked.toLocaleString('en')} (of ${check.of.toLocaleString('en')}; stopped after ${check.stoppedAfter} s)`;
        return check.checked === check.of ? `yes, all ${check.of.toLocaleString('en')}` : `yes, newest ${check.checked.toLocaleString('en')} (of ${check.of.toLocaleString('en')})`;
      });
      out(
        `| ${orgName} | ${viewer} | ${VIEWER_TARGET[viewer]} | ${total.toLocaleString('en')} | ${((100 * total) / model.n).toFixed(3)}% | ${TYPE_FILTER[viewer]}: ${model.count(viewer, { type: typeCode(TYPE_FILTER[viewer]) }).toLocaleString('en')} | ${model.count(viewer, { word: WORD.common }).toLocaleString('en')} | ${cells.join(' | ')} |`,
      );
    }
  }
  out();
  out(`The wide viewer's rare word "${RARE_WORD}" matches ${firstModel.count('wide', { word: WORD.rare })} objects.`);

  const failures: string[] = [];
  for (const [key, byMode] of checks) for (const [mode, check] of byMode) if (check.problem) failures.push(`${key}, ${MODE_LABEL[mode]}: ${check.problem}`);
  for (const [label, byMode] of results) for (const [mode, r] of byMode) if (r.problem) failures.push(`${label}, ${MODE_LABEL[mode]}: ${r.problem}`);
  const timeouts: string[] = [];
  for (const [key, byMode] of checks) for (const [mode, check] of byMode) if (check.timedOut) timeouts.push(`full check of ${key}, ${MODE_LABEL[mode]}`);
  for (const [label, byMode] of results) for (const [mode, r] of byMode) if (r.timedOut) timeouts.push(`${label}, ${MODE_LABEL[mode]}`);

  out();
  out(`### Reads: p50 / p95 ms`);
  out();
  out(`| case | ${options.stats.map((m) => MODE_LABEL[m]).join(' | ')} |`);
  out(`|---|${options.stats.map(() => '---|').join('')}`);
  for (const [label, byMode] of results) {
    const cells = options.stats.map((m) => {
      const r = byMode.get(m);
      if (!r) return '';
      if (r.problem) return '**NO**';
      if (r.timedOut) return `**timeout** (> ${options.statementTimeout} s)`;
      if (!r.timing) return 'n/a';
      return `${ms(r.timing.p50)} / **${ms(r.timing.p95)}**${r.timing.samples < options.runs ? ` (${r.timing.samples} run${r.timing.samples > 1 ? 's' : ''})` : ''}`;
    });
    out(`| ${label} | ${cells.join(' | ')} |`);
  }
  out();
  out(
    failures.length === 0
      ? `Every page above and every viewer's listing equals the model (${[...results.values()].reduce((n, m) => n + [...m.values()].filter((r) => r.timing).length, 0)} timed cases, each checked before timing; n/a: a page 2 where page 1 was the last).`
      : `**NO**: ${failures.length} difference${failures.length > 1 ? 's' : ''} from the model:\n\n${failures.map((f) => `- ${f}`).join('\n')}`,
  );
  if (timeouts.length > 0) {
    out();
    out(`**Timeouts** (no answer within the server's statement timeout of ${options.statementTimeout} s; not checked, not timed): ${timeouts.join('; ')}.`);
  }

  out();
  out('### Plans the list filter chose (its trace, as printed)');
  out();
  out(`| case | ${options.stats.map((m) => MODE_LABEL[m]).join(' | ')} |`);
  out(`|---|${options.stats.map(() => '---|').join('')}`);
  for (const [label, byMode] of results) {
    if (!label.includes('objects page')) continue;
    out(`| ${label} | ${options.stats.map((m) => byMode.get(m)?.plan ?? '').join(' | ')} |`);
  }

  out();
  out('### Ingestion through the API');
  out();
  out(
    `\`setObjects\` / \`setRelationships\` batches of 100, GraphQL over HTTP, 4 connections at once (each its own token and share)${options.orgs > 1 ? '; organisations loaded together send from all their connections at once, 4 each, and their row is of all of them' : ''}. Rates per tenth of the load, in order.`,
  );
  out();
  out('| load | items | seconds | items/s | items/s per tenth | batch p50 / p95 / p99 ms |');
  out('|---|---|---|---|---|---|');
  for (const { label, stats, what } of loads) {
    out(
      `| ${label} | ${stats.items.toLocaleString('en')} ${what} | ${stats.seconds.toFixed(1)} | **${Math.round(stats.perSecond).toLocaleString('en')}** | ${stats.tenths.map((r) => Math.round(r).toLocaleString('en')).join(', ')} | ${ms(stats.batchMs.p50)} / ${ms(stats.batchMs.p95)} / ${ms(stats.batchMs.p99)} |`,
    );
  }

  out();
  out('### Memory');
  out();
  out('| phase | max RSS | of |');
  out('|---|---|---|');
  for (const { label, bytes, scope } of memory) out(`| ${label} | **${Math.round(bytes / 2 ** 20)} MB** | ${scope} |`);
  out();
  out(`Bench process heap (model, client): at most ${Math.round(benchHeapMax / 2 ** 20)} MB used.`);
  progress(`done in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
  if (failures.length > 0) process.exitCode = 2;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

