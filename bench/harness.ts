// What the benchmarks share: a fresh migrated database on either back end, the app and its
// services built over it as src/main.ts builds them, a timing loop with percentiles, progress on
// stderr and the report on stdout, and the revision measured.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type App, type AppDeps, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { DbHandle, QueryListener } from '../src/db/handle.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { createServices, type Services } from '../src/services.ts';
import { createLogger } from '../src/shared/logger.ts';
import { percentile } from './dataset.ts';

export type Backend = 'pglite' | 'postgres' | 'citus';

/** The servers a back end's databases are made on when no --server is given (citus: the coordinator of ../shared/tools/citus/cluster.sh). */
export const DEFAULT_SERVER: Record<Exclude<Backend, 'pglite'>, string> = {
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
  citus: 'postgres://postgres@127.0.0.1:5440/postgres',
};

/** The workers of that local cluster (host:port), for --citus-workers. */
export const DEFAULT_CITUS_WORKERS = ['127.0.0.1:5441', '127.0.0.1:5442'];

/** The public origin of the benchmarks' apps; the requests they send name it too. */
export const BENCH_ORIGIN = 'http://teamgraph.test';

export interface DatabaseOptions {
  backend: Backend;
  /** A PostgreSQL server URL (on Citus the coordinator's); each run creates its own database there and drops it after. */
  server: string;
  /** Citus: host:port of every worker (default DEFAULT_CITUS_WORKERS), reached as `server`'s user. */
  citusWorkers?: string[];
  /** Called with every statement the handle runs and its time (to count or profile them). */
  onQuery?: QueryListener;
  /** PostgreSQL: the pool's statement timeout (the server's: SERVER_STATEMENT_TIMEOUT_MS); 0 or unset: none. */
  statementTimeoutMs?: number;
  /** PostgreSQL: `name = value` settings made on the database before it is opened (e.g. auto_explain); on Citus on every node. */
  settings?: string[];
}

export const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
export const out = (line = '') => process.stdout.write(`${line}\n`);
export const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);

/**
 * A fresh, migrated database on the chosen back end, closed (and on a server dropped) after.
 * `use` also gets the database's URL (undefined for PGlite; on Citus the coordinator's), for a
 * server process.
 */
export async function withDatabase<T>(options: DatabaseOptions, use: (handle: DbHandle, url?: string) => Promise<T>, keep = false): Promise<T> {
  if (options.backend === 'pglite') {
    const handle = await openPglite({ onQuery: options.onQuery });
    try {
      await migrateToLatest(handle.db);
      return await use(handle);
    } finally {
      await handle.close();
    }
  }
  const name = `teamgraph_bench_${process.pid}_${Date.now()}`;
  // On Citus a cluster database is one database of that name on every node: the coordinator's
  // first, so it is dropped first and its connections to the workers' go with it.
  const nodes = options.backend === 'citus' ? [options.server, ...(options.citusWorkers ?? DEFAULT_CITUS_WORKERS).map((node) => nodeUrl(options.server, node, 'postgres'))] : [options.server];
  const admins: pg.Client[] = [];
  try {
    for (const node of nodes) {
      const admin = new pg.Client({ connectionString: node });
      await admin.connect();
      admins.push(admin);
      await admin.query(`create database ${name}`);
    }
    // On Citus on every node: the workers plan and run the statements, and a connection to a
    // database without the extension (the admins') passes nothing on.
    for (const admin of admins) for (const setting of options.settings ?? []) await admin.query(`alter database ${name} set ${setting}`);
    if (options.settings?.length) progress(`database ${name}: ${options.settings.join(', ')}`);
    if (options.backend === 'citus') await joinCluster(name, nodes);
    const url = inDatabase(options.server, name);
    const handle = openPool(url, options);
    try {
      // With the citus extension in the database the migrations shard the tenant tables by org_id
      // (migrations/distribution.ts): nothing else differs from PostgreSQL from here on.
      await migrateToLatest(handle.db);
      return await use(handle, url);
    } finally {
      await handle.close();
    }
  } finally {
    if (keep) progress(`kept database ${name}${nodes.length > 1 ? ` on ${nodes.map((node) => new URL(node).host).join(', ')}` : ''}`);
    for (const admin of admins) {
      if (!keep) await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
}

/**
 * What `../shared/tools/citus/cluster.sh createdb` does once the database exists on every node:
 * the citus extension in each, then on the coordinator its own address (the workers connect back
 * to it by that) and every worker added. `nodes`: admin URLs, the coordinator's first.
 */
async function joinCluster(name: string, nodes: string[]) {
  for (const node of nodes) {
    const client = new pg.Client({ connectionString: inDatabase(node, name) });
    await client.connect();
    try {
      await client.query('create extension if not exists citus');
    } finally {
      await client.end();
    }
  }
  const client = new pg.Client({ connectionString: inDatabase(nodes[0], name) });
  const [coordinator, ...workers] = nodes.map((node) => new URL(node));
  await client.connect();
  try {
    await client.query('select citus_set_coordinator_host($1, $2)', [coordinator.hostname, Number(coordinator.port || 5432)]);
    for (const worker of workers) await client.query('select citus_add_node($1, $2)', [worker.hostname, Number(worker.port || 5432)]);
  } finally {
    await client.end();
  }
  progress(`database ${name} on the Citus cluster: coordinator ${coordinator.host}, workers ${workers.map((w) => w.host).join(', ')}`);
}

/** `url` with another database: the same server, the same user. */
function inDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** `url` with another host:port and database: another node of the same cluster, as the same user. */
function nodeUrl(url: string, host: string, database: string): string {
  const parsed = new URL(inDatabase(url, database));
  parsed.host = host;
  return parsed.toString();
}

/**
 * A pool on a PostgreSQL database as the server opens one (src/db/client.ts: 10 connections):
 * withDatabase's own, or a second one on the same database standing for another server process.
 */
export function openPool(url: string, options: Pick<DatabaseOptions, 'onQuery' | 'statementTimeoutMs'> = {}): DbHandle {
  return openPostgres(url, 10, options.onQuery, options.statementTimeoutMs ?? 0);
}

/** The statement timeout the server sets on its PostgreSQL pool (TEAMGRAPH_STATEMENT_TIMEOUT unset). */
export const SERVER_STATEMENT_TIMEOUT_MS = loadConfig({}).statementTimeoutMs;

/**
 * Rate-limit budgets no benchmark spends (issue 21): a benchmark sends far more through one token
 * than an hour's default budget, and measures the service, not its refusals. Every request is still
 * charged (one statement), as in the server; bench/rate-limit-overhead.ts measures that charge.
 */
export const BENCH_RATE_LIMIT_POINTS = 1_000_000_000;
const BENCH_BUDGETS = { session: BENCH_RATE_LIMIT_POINTS, adminApiKey: BENCH_RATE_LIMIT_POINTS, bitbucketToken: BENCH_RATE_LIMIT_POINTS, connection: BENCH_RATE_LIMIT_POINTS };

/** The environment that gives a server process (src/main.ts) those budgets. */
export const BENCH_RATE_LIMIT_ENV = {
  TEAMGRAPH_RATE_LIMIT_SESSION: String(BENCH_RATE_LIMIT_POINTS),
  TEAMGRAPH_RATE_LIMIT_ADMIN_API_KEY: String(BENCH_RATE_LIMIT_POINTS),
  TEAMGRAPH_RATE_LIMIT_BITBUCKET_TOKEN: String(BENCH_RATE_LIMIT_POINTS),
  TEAMGRAPH_RATE_LIMIT_CONNECTION: String(BENCH_RATE_LIMIT_POINTS),
};

/** One key for every app of a run, as the server processes of one deployment share theirs. */
const RUN_KEY = randomBytes(32);

/**
 * What src/main.ts passes createApp, over a database a benchmark opened: the configuration's
 * defaults (loadConfig of an empty environment: session lifetimes, audit retention, no trusted
 * proxies, no private provider addresses), the database's change feed (credentials cached as in
 * the server), the run's key, the benchmarks' origin, a logger that reports errors only, and
 * rate-limit budgets no benchmark spends (BENCH_RATE_LIMIT_POINTS).
 */
function serverDeps(handle: DbHandle): AppDeps {
  const config = loadConfig({});
  return {
    db: handle.db,
    changes: handle.changes,
    logger: createLogger('error'),
    lifetimes: config.lifetimes,
    auditRetentionDays: config.auditRetentionDays,
    trustedProxies: config.trustedProxies,
    allowPrivateProviderUrls: config.allowPrivateProviderUrls,
    secretKey: config.secretKey ?? RUN_KEY,
    publicUrl: BENCH_ORIGIN,
    rateLimitBudgets: BENCH_BUDGETS,
  };
}

/** What a benchmark may change on purpose from the server's app; where it does, it says why. */
export interface AppVariation {
  /** false: no audit event per request (AppDeps.auditLog). */
  auditLog?: boolean;
  /** false: no change feed, so every request looks its credentials up in the database. */
  credentialCache?: boolean;
  /** true: audit streams may post to plain http:// on loopback, where the benchmark's receiver listens. */
  auditStreamsToLoopback?: boolean;
  /** false: no rate-limit charge per request (AppDeps.rateLimits). */
  rateLimits?: boolean;
}

/** The app as src/main.ts builds it: createApp, whose services come from createServices. */
export function benchApp(handle: DbHandle, variation: AppVariation = {}): App {
  const deps = serverDeps(handle);
  return createApp({
    ...deps,
    changes: variation.credentialCache === false ? undefined : deps.changes,
    ...(variation.auditLog === false ? { auditLog: false } : {}),
    ...(variation.auditStreamsToLoopback ? { auditStreamAllowHttp: true, allowPrivateProviderUrls: true } : {}),
    ...(variation.rateLimits === false ? { rateLimits: false } : {}),
  });
}

/** The services alone, as that app's (createServices), for work a benchmark does without HTTP. */
export function benchServices(handle: DbHandle): Services {
  return createServices(serverDeps(handle));
}

export interface Timing {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

/** `before` runs ahead of each request, outside the timed part. */
export async function measure(runs: number, warmup: number, once: () => Promise<void>, before?: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await before?.();
    const t0 = performance.now();
    await once();
    samples.push(performance.now() - t0);
  }
  return timingOf(samples);
}

/**
 * Several cases measured in turn, one request of each per round, so that garbage collection and
 * drift over the run fall on every case alike; a comparison of their p99s is then fair. `before`
 * runs ahead of each request, outside the timed part.
 */
export async function measureInterleaved(runs: number, warmup: number, cases: (() => Promise<void>)[], before?: () => Promise<void>): Promise<Timing[]> {
  for (let i = 0; i < warmup; i++) for (const once of cases) await once();
  const samples = cases.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [index, once] of cases.entries()) {
      await before?.();
      const t0 = performance.now();
      await once();
      samples[index].push(performance.now() - t0);
    }
  }
  return samples.map(timingOf);
}

export function timingOf(samples: number[]): Timing {
  const sorted = samples.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

/** The commit measured, and whether the code under test differs from it. */
export function codeRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} with uncommitted changes in src/ or migrations/` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
