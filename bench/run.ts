// The benchmark of the issue "The graph, its access-control lists…" (PERFORMANCE.md): builds the
// deterministic dataset of bench/dataset.ts on PGlite or a fresh PostgreSQL database, checks what
// each viewer sees through the API against the reference model, then measures through app.fetch
// with real bearer tokens: first and second pages of `objects` for three viewers (~100%, ~1%,
// ~0.01%), `object(id)`, and ingestion throughput. Prints a Markdown report on stdout; progress
// goes to stderr.
//
//   npm run bench -- [--objects 100000] [--backend pglite|postgres] [--runs 200] [--warmup 20]
//                    [--ingest-objects 5000] [--server postgres://postgres@127.0.0.1:5432/postgres]
//                    [--analyze-every N] [--explain] [--keep] [--seed N]
//
// --analyze-every N runs ANALYZE after every N objects while loading, outside the timed batches,
// as autovacuum's auto-analyze would on a production server; a server with autovacuum off (the
// local one) otherwise plans the whole load with empty-table statistics. --explain prints
// EXPLAIN (ANALYZE, BUFFERS) of each statement the list filter runs for each viewer's first
// page. --keep leaves the PostgreSQL database in place (its name is printed) for EXPLAIN
// sessions; drop it by hand afterwards. PGOPTIONS (e.g. '-c jit=off') reaches the server
// through pg as usual.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CompiledQuery, type Kysely, type KyselyPlugin, type QueryId, type RootOperationNode, sql } from 'kysely';
import { createApp, createServices } from '../src/app.ts';
import { listVisibleObjects, type VisibilityPlanTrace } from '../src/authz/visibility-filter.ts';
import type { DbHandle } from '../src/db/client.ts';
import type { Database } from '../src/db/database.ts';
import { createRequestContext } from '../src/graphql/context.ts';
import { CLI_CLIENT_ID } from '../src/modules/session/caller.ts';
import { createLogger } from '../src/shared/logger.ts';
import {
  type DatasetPlan,
  describePlan,
  generateDataset,
  type IngestionStats,
  type LoadedDataset,
  loadDataset,
  VIEWER_TARGET,
  VIEWERS,
  type ViewerName,
} from './dataset.ts';
import { type Backend, codeRevision, measure, ms, out, progress, type Timing, withDatabase, BENCH_ORIGIN } from './harness.ts';

const LIST_QUERY = 'query ($after: String) { objects(first: 25, after: $after) { edges { node { id displayName } } pageInfo { hasNextPage endCursor } } }';
const OBJECT_QUERY = 'query ($id: ID!) { object(id: $id) { id displayName } }';
const COUNT_QUERY = 'query ($after: String) { objects(first: 100, after: $after) { edges { node { externalId } } pageInfo { hasNextPage endCursor } } }';
const TOKEN_TTL_SECONDS = 6 * 3600;


interface Options {
  objects: number;
  backend: Backend;
  runs: number;
  warmup: number;
  ingestObjects: number;
  server: string;
  analyzeEvery: number;
  explain: boolean;
  keep: boolean;
  seed?: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '100000' },
      backend: { type: 'string', default: 'pglite' },
      runs: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      'ingest-objects': { type: 'string', default: '5000' },
      server: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      'analyze-every': { type: 'string', default: '0' },
      explain: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      seed: { type: 'string' },
    },
    strict: true,
  });
  const positive = (name: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}.`);
    return n;
  };
  if (values.backend !== 'pglite' && values.backend !== 'postgres') throw new Error(`--backend must be pglite or postgres, got ${values.backend}.`);
  return {
    objects: positive('objects', values.objects),
    backend: values.backend,
    runs: positive('runs', values.runs),
    warmup: positive('warmup', values.warmup),
    ingestObjects: positive('ingest-objects', values['ingest-objects']),
    server: values.server!,
    analyzeEvery: values['analyze-every'] === '0' ? 0 : positive('analyze-every', values['analyze-every']),
    explain: values.explain ?? false,
    keep: values.keep ?? false,
    seed: values.seed === undefined ? undefined : positive('seed', values.seed),
  };
}




type Fetch = (request: Request) => Promise<Response>;

async function graphql(fetch: Fetch, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(
    new Request('http://bench.teamgraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = await response.json();
  if (response.status !== 200 || body.errors) throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** Every object the viewer sees, page by page through the API (100 per page). */
async function visibleThroughApi(fetch: Fetch, token: string): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data = await graphql(fetch, token, COUNT_QUERY, { after });
    for (const edge of data.objects.edges) seen.push(edge.node.externalId);
    if (!data.objects.pageInfo.hasNextPage) return seen;
    after = data.objects.pageInfo.endCursor;
  }
}

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

interface ViewerSetup {
  name: ViewerName;
  token: string;
  principals: number;
  visible: number;
  matchesModel: boolean;
  firstCursor: string;
  visibleObjectId: string;
  planFirst: VisibilityPlanTrace;
  planSecond: VisibilityPlanTrace;
}

async function setUpViewer(handle: DbHandle, app: ReturnType<typeof createApp>, plan: DatasetPlan, loaded: LoadedDataset, name: ViewerName, explain: boolean): Promise<ViewerSetup> {
  const { services } = app;
  const scopes = services.catalog.permissions.map((p) => p.key);
  const { accessToken: token } = await services.sessions.issue({ orgId: loaded.orgId, accountId: loaded.accounts[name] }, CLI_CLIENT_ID, scopes, TOKEN_TTL_SECONDS);

  const t0 = performance.now();
  const visible = await visibleThroughApi(app.fetch, token);
  const expected = plan.expected[name];
  const matchesModel = visible.length === expected.size && new Set(visible).size === visible.length && visible.every((id) => expected.has(id));
  progress(`${name}: ${visible.length} objects visible through the API (model: ${expected.size}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const first = await graphql(app.fetch, token, LIST_QUERY);
  const firstCursor: string = first.objects.pageInfo.endCursor;
  const visibleObjectId: string = first.objects.edges[0].node.id;

  // The plan the list filter chose, called directly with what the resolver passes: the request
  // context's principal set and readable types.
  const auth = await services.sessions.authenticate(token);
  if (!auth.ok || auth.caller.kind !== 'account') throw new Error(`The ${name} viewer could not authenticate.`);
  const context = createRequestContext(services, auth.caller, auth.org, `bench-${name}`);
  const viewer = await context.viewer();
  const types = await context.gate.readableTypes();
  const planFirst = { plan: 'forward', statements: 0 } as VisibilityPlanTrace;
  const firstRows = await listVisibleObjects(handle.db, loaded.orgId, viewer, { types }, { limit: 26 }, planFirst);
  // The API's endCursor: the 25th row, or the last one when the page is not full.
  const last = firstRows[Math.min(24, firstRows.length - 1)];
  const planSecond = { plan: 'forward', statements: 0 } as VisibilityPlanTrace;
  if (last) await listVisibleObjects(handle.db, loaded.orgId, viewer, { types }, { after: { lastUpdatedAt: last.last_updated_at, id: last.id }, limit: 26 }, planSecond);

  if (explain) {
    const recorder = statementRecorder(handle.db);
    await listVisibleObjects(recorder.db, loaded.orgId, viewer, { types }, { limit: 26 });
    for (const [index, statement] of recorder.statements().entries()) {
      const result = await handle.db.executeQuery(CompiledQuery.raw(`explain (analyze, buffers) ${statement.sql}`, [...statement.parameters]));
      out(`\n#### EXPLAIN, ${name} viewer, first page, statement ${index + 1}\n\n\`\`\`\n${result.rows.map((r: any) => r['QUERY PLAN']).join('\n')}\n\`\`\``);
    }
  }
  return { name, token, principals: viewer.keys.size, visible: visible.length, matchesModel, firstCursor, visibleObjectId, planFirst, planSecond };
}


// `windows` counts the SQL statements the plan choice took (probe, inverted, wider windows).
const planText = (trace: VisibilityPlanTrace) => (trace.statements === 0 ? 'n/a' : `${trace.plan}, ${trace.statements} statement${trace.statements > 1 ? 's' : ''}`);

function ingestionLine(label: string, stats: IngestionStats) {
  return `| ${label} | ${stats.objects.toLocaleString('en')} | ${stats.seconds.toFixed(1)} | **${Math.round(stats.objectsPerSecond).toLocaleString('en')}** | ${Math.round(stats.firstTenthPerSecond).toLocaleString('en')} / ${Math.round(stats.lastTenthPerSecond).toLocaleString('en')} | ${ms(stats.batchMs.p50)} / ${ms(stats.batchMs.p95)} / ${ms(stats.batchMs.p99)} |`;
}

async function main() {
  const options = parseOptions();
  const started = new Date();
  const cpus = os.cpus();
  out(`## teamgraph benchmark: ${options.objects.toLocaleString('en')} objects on ${options.backend}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`);
  out(`- Node ${process.version}, back end ${options.backend}${options.backend === 'postgres' ? ` (${new URL(options.server).host})` : ' (in memory)'}`);
  out(`- date ${started.toISOString()}, code ${codeRevision()}`);
  out(`- runs ${options.runs} after ${options.warmup} warm-up requests per case; times are client-side around app.fetch, JSON parse included`);

  // Ingestion on its own: a fresh database and a fresh, smaller dataset.
  progress(`fresh ingestion run: ${options.ingestObjects} objects on ${options.backend}`);
  const freshStats = await withDatabase(options, async (handle) => {
    const services = createServices({ db: handle.db });
    return (await loadDataset(services, generateDataset({ objects: options.ingestObjects, seed: options.seed }))).ingestion;
  });

  await withDatabase(options, async (handle) => {
    if (options.backend === 'postgres') {
      const version = await sql<{ server_version: string }>`show server_version`.execute(handle.db);
      out(`- PostgreSQL server ${version.rows[0].server_version}`);
    } else {
      const version = await sql<{ version: string }>`select version()`.execute(handle.db);
      out(`- PGlite: ${version.rows[0].version.split(',')[0]}`);
    }
    // As the server runs: credential lookups follow the change feed.
    const app = createApp({ db: handle.db, changes: handle.changes, logger: createLogger('error'), publicUrl: BENCH_ORIGIN });
    const unaudited = createApp({ db: handle.db, changes: handle.changes, logger: createLogger('error'), auditLog: false, publicUrl: BENCH_ORIGIN });
    progress(`generating ${options.objects} objects`);
    let plan: DatasetPlan | null = generateDataset({ objects: options.objects, seed: options.seed });
    const description = describePlan(plan);
    progress(`loading: ${JSON.stringify({ users: description.users, groups: description.groups, containers: description.containers })}`);
    let analyzeMs = 0;
    const loaded = await loadDataset(app.services, plan, async (done, total) => {
      if (done % 10_000 === 0 || done >= total) progress(`ingested ${done}/${total}`);
      if (options.analyzeEvery > 0 && done % options.analyzeEvery === 0 && done < total) {
        const t0 = performance.now();
        await sql`analyze`.execute(handle.db);
        analyzeMs += performance.now() - t0;
      }
    });
    const analyzeStart = performance.now();
    await sql`analyze`.execute(handle.db);
    progress(`analyze took ${((performance.now() - analyzeStart) / 1000).toFixed(1)} s`);

    out();
    out('### Dataset');
    out();
    out(`seed ${plan.seed}; ${description.objects.toLocaleString('en')} objects (${description.containers} containers), ${description.users.toLocaleString('en')} third-party users, ${description.groups} groups (3 levels of nesting and a cycle), ${description.accounts} accounts`);
    out();
    out(`ACL mix: ${Object.entries(plan.mix).map(([kind, count]) => `${kind} ${count}`).join(', ')}`);

    const viewers: ViewerSetup[] = [];
    for (const name of VIEWERS) viewers.push(await setUpViewer(handle, app, plan, loaded, name, options.explain));
    // The model of 100,000 objects holds about 140 MB of this process's heap, which a server does
    // not: kept through the measurements, every major collection would walk it on the server's time.
    plan = null;

    out();
    out('### Viewers');
    out();
    out('| viewer | designed | principals | visible through the API | share | = reference model | plan, page 1 | plan, page 2 |');
    out('|---|---|---|---|---|---|---|---|');
    for (const v of viewers) {
      out(`| ${v.name} | ${VIEWER_TARGET[v.name]} | ${v.principals} | ${v.visible.toLocaleString('en')} | ${((100 * v.visible) / options.objects).toFixed(3)}% | ${v.matchesModel ? 'yes' : '**NO**'} | ${planText(v.planFirst)} | ${planText(v.planSecond)} |`);
    }

    const rows: { label: string; timing: Timing }[] = [];
    for (const v of viewers) {
      progress(`measuring ${v.name}`);
      rows.push({ label: `objects(first: 25), page 1, ${v.name} (${VIEWER_TARGET[v.name]})`, timing: await measure(options.runs, options.warmup, () => graphql(app.fetch, v.token, LIST_QUERY)) });
      rows.push({
        label: `objects(first: 25), page 2, ${v.name} (${VIEWER_TARGET[v.name]})`,
        timing: await measure(options.runs, options.warmup, () => graphql(app.fetch, v.token, LIST_QUERY, { after: v.firstCursor })),
      });
      rows.push({ label: `object(id), ${v.name}`, timing: await measure(options.runs, options.warmup, () => graphql(app.fetch, v.token, OBJECT_QUERY, { id: v.visibleObjectId })) });
      // What the read costs without its audit event (one chained append, PRODUCT §9).
      rows.push({
        label: `object(id), ${v.name}, audit log off`,
        timing: await measure(options.runs, options.warmup, () => graphql(unaudited.fetch, v.token, OBJECT_QUERY, { id: v.visibleObjectId })),
      });
      // The same after a directory change, so the kept principal set cannot be used.
      const directoryChange = async () => {
        await sql`update principal_version set version = version + 1 where org_id = ${loaded.orgId}`.execute(handle.db);
      };
      rows.push({
        label: `object(id), ${v.name}, principal set recomputed`,
        timing: await measure(options.runs, options.warmup, () => graphql(app.fetch, v.token, OBJECT_QUERY, { id: v.visibleObjectId }), directoryChange),
      });
    }

    out();
    out('### Reads (ms)');
    out();
    out('| case | p50 | p95 | p99 | mean |');
    out('|---|---|---|---|---|');
    for (const { label, timing } of rows) out(`| ${label} | ${ms(timing.p50)} | **${ms(timing.p95)}** | ${ms(timing.p99)} | ${ms(timing.mean)} |`);
    const p95 = (label: string) => rows.find((r) => r.label === label)!.timing.p95;
    const ratio = (page: number) => p95(`objects(first: 25), page ${page}, rare (${VIEWER_TARGET.rare})`) / p95(`objects(first: 25), page ${page}, wide (${VIEWER_TARGET.wide})`);
    out();
    out(`p95 ratio rare ÷ wide: page 1 **${ratio(1).toFixed(2)}**, page 2 **${ratio(2).toFixed(2)}** (target ≤ 2)`);

    out();
    out('### Ingestion (setObjects through the service, batches of 100)');
    out();
    out(`Directory (tenant, ${description.users.toLocaleString('en')} users, ${description.groups} groups, mappings) before the objects: ${loaded.directorySeconds.toFixed(1)} s.`);
    out();
    out('| run | objects | seconds | objects/s | objects/s first / last tenth | batch p50 / p95 / p99 ms |');
    out('|---|---|---|---|---|---|');
    const analyzed = options.analyzeEvery > 0 ? `, ANALYZE every ${options.analyzeEvery.toLocaleString('en')} objects (${(analyzeMs / 1000).toFixed(1)} s, not counted)` : ', no ANALYZE while loading';
    out(ingestionLine(`while building the dataset${analyzed}`, loaded.ingestion));
    out(ingestionLine('fresh database, no ANALYZE while loading', freshStats));
  }, options.keep && options.backend === 'postgres');
  progress(`done in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
