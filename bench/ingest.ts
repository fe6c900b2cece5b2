// What bench/run.ts needs around the dataset (issue 16): the server it measures (a process of its
// own on PostgreSQL, whose RSS is sampled from /proc; in this process on PGlite), GraphQL over
// real HTTP, an organisation's tenant (site, four connections with their own tokens, directory,
// accounts) created through the services, and ingestion through the API: `setObjects` and
// `setRelationships` batches of 100 from the four connections at once (of one organisation, or of
// several organisations at once).
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DbHandle } from '../src/db/handle.ts';
import type { Services } from '../src/services.ts';
import { createHttpServer } from '../src/http-server.ts';
import type { IngestionPayload } from '../src/modules/ingestion/ingestion.ts';
import { type ConnectionCaller } from '../src/modules/session/caller.ts';
import { BATCH_SIZE, CONNECTIONS, type Dataset, percentile, VIEWERS, type ViewerName } from './dataset.ts';
import { BENCH_RATE_LIMIT_ENV, benchApp, progress } from './harness.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN_TTL_SECONDS = 12 * 3600;

// ---- the server under test ----

export interface BenchServer {
  /** http://127.0.0.1:port */
  url: string;
  /** What the RSS figure covers. */
  rssScope: string;
  /** The largest RSS sampled (every second) since the last call, bytes; resets the maximum. */
  takeMaxRss(): number;
  stop(): Promise<void>;
}

/** Samples `read` every second and keeps the maximum. */
function rssSampler(read: () => number) {
  let max = 0;
  const sample = () => {
    try {
      max = Math.max(max, read());
    } catch {
      // the process is gone
    }
  };
  const timer = setInterval(sample, 1000);
  timer.unref();
  return {
    take: () => {
      sample();
      const value = max;
      max = 0;
      sample();
      return value;
    },
    stop: () => clearInterval(timer),
  };
}

function vmRss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}.`);
  return Number(match[1]) * 1024;
}

/**
 * PostgreSQL: the server as production runs it (README "Operating it"): built by `npm run build`
 * from the current sources, then dist/src/main.js in a process of its own pointed at the bench
 * database: demo off, a fixed secret key (so it writes nothing to .data), listening on a free
 * loopback port. NODE_OPTIONS is not passed on: the server runs with Node's defaults whatever heap
 * the bench asked for itself. `extraEnv` adds to or overrides the server's environment.
 */
export async function startServerProcess(databaseUrl: string, statementTimeoutSeconds: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<BenchServer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    TEAMGRAPH_DEMO: 'off',
    LOG_LEVEL: 'error',
    TEAMGRAPH_SECRET_KEY: randomBytes(32).toString('hex'),
    TEAMGRAPH_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-bench-')),
    TEAMGRAPH_STATEMENT_TIMEOUT: String(statementTimeoutSeconds),
    // As `npm run start:built` runs it (README, Production build).
    NODE_ENV: 'production',
    ...BENCH_RATE_LIMIT_ENV,
    ...extraEnv,
  };
  delete env.NODE_OPTIONS;
  delete env.TEAMGRAPH_PUBLIC_URL;
  const build = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  const child: ChildProcess = spawn(process.execPath, ['dist/src/main.js'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim()) process.stderr.write(`[server] ${line}\n`);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`The server process exited (${code}) before listening: ${output}`)));
  });
  const pid = child.pid!;
  // The server must not outlive the bench, whatever ends it.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  const sampler = rssSampler(() => vmRss(pid));
  progress(`server process ${pid} listening on ${url}`);
  return {
    url,
    rssScope: `server process (pid ${pid}, VmRSS)`,
    takeMaxRss: sampler.take,
    stop: async () => {
      sampler.stop();
      process.removeListener('exit', orphan);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * PGlite: one process owns the database, so the server runs here (its RSS includes the bench's):
 * the app as src/main.ts builds it, on node:http as main.ts serves it.
 */
export async function startServerInProcess(handle: DbHandle): Promise<BenchServer> {
  const { server } = createHttpServer(benchApp(handle));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sampler = rssSampler(() => process.memoryUsage().rss);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rssScope: 'bench process, server in it (PGlite is in-process)',
    takeMaxRss: sampler.take,
    stop: async () => {
      sampler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- GraphQL over HTTP ----

export class GraphqlError extends Error {}

/** A request that has not answered after this long is abandoned (the server's statement timeout plus a margin). */
let requestTimeoutMs = 120_000;
export function setRequestTimeout(ms: number) {
  requestTimeoutMs = ms;
}

/** A request stopped by the server's statement timeout or abandoned by the client. */
export const isTimeout = (error: unknown) => error instanceof Error && (error.name === 'TimeoutError' || /QUERY_TIMEOUT|longer than the server allows/.test(error.message));

export async function graphql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GraphqlError(`GraphQL request failed (${response.status}): ${text.slice(0, 300)}`);
  }
  if (response.status !== 200 || body.errors) throw new GraphqlError(`GraphQL request failed (${response.status}): ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  return body.data;
}

// ---- the tenant ----

export interface Tenant {
  dataset: Dataset;
  orgId: string;
  cloudId: string;
  connections: { connectionId: string; token: string }[];
  accounts: Record<ViewerName, string>;
  /** Access tokens of the viewers' accounts (twg-cli, every permission of the catalogue). */
  tokens: Record<ViewerName, string>;
  /** Seconds to create the tenant and the directory on the four connections. */
  directorySeconds: number;
}

/**
 * Creates the organisation, its site, four connections with their own tokens, the accounts, and
 * on every connection the same directory and mappings. Through the services (not measured); the
 * tokens work in the server process too: it reads credentials from the database.
 */
export async function createTenant(services: Services, dataset: Dataset, name: string): Promise<Tenant> {
  const started = performance.now();
  const { orgs, sessions, directory, catalog } = services;
  const { orgId } = await orgs.createOrganization(name);
  const { cloudId } = await orgs.createSite(orgId, 'bench');
  const connections: Tenant['connections'] = [];
  const callers: ConnectionCaller[] = [];
  for (let c = 0; c < CONNECTIONS; c++) {
    const connection = await orgs.createConnection(cloudId, `bench-${c + 1}`);
    const { accessToken } = await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [], TOKEN_TTL_SECONDS);
    const auth = await sessions.authenticate(accessToken);
    if (!auth.ok || auth.caller.kind !== 'connection') throw new Error('A bench connection could not authenticate.');
    connections.push({ connectionId: connection.connectionId, token: accessToken });
    callers.push(auth.caller);
  }
  const accountIds = new Map<string, string>();
  for (const spec of [...Object.values(dataset.viewers), ...dataset.fillerAccounts]) {
    const { accountId } = await orgs.createAccount({ orgId, email: spec.email, displayName: spec.displayName, cloudIds: spec.siteMember ? [cloudId] : [] });
    accountIds.set(spec.externalUserId, accountId);
  }
  const mappings = [...accountIds].map(([externalId, accountId]) => ({ externalId, accountId, updateSequenceNumber: 1 }));
  for (const [c, caller] of callers.entries()) {
    const connectionId = connections[c].connectionId;
    for (const batch of chunks(dataset.users)) expectAccepted(await directory.setUsers(caller, connectionId, batch), 'users');
    for (const batch of chunks(dataset.groups)) expectAccepted(await directory.setGroups(caller, connectionId, batch), 'groups');
    for (const batch of chunks(mappings)) expectAccepted(await directory.mapUsers(caller, connectionId, batch), 'mappings');
  }
  const scopes = catalog.permissions.map((p) => p.key);
  const accounts = {} as Record<ViewerName, string>;
  const tokens = {} as Record<ViewerName, string>;
  for (const name of VIEWERS) {
    accounts[name] = accountIds.get(dataset.viewers[name].externalUserId)!;
    tokens[name] = (await sessions.issue({ orgId, accountId: accounts[name] }, CLI_CLIENT_ID, scopes, TOKEN_TTL_SECONDS)).accessToken;
  }
  return { dataset, orgId, cloudId, connections, accounts, tokens, directorySeconds: (performance.now() - started) / 1000 };
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) result.push(items.slice(i, i + BATCH_SIZE));
  return result;
}

function expectAccepted(payload: Pick<IngestionPayload, 'acceptedCount' | 'results'>, what: string) {
  if (payload.acceptedCount === payload.results.length) return;
  const problem = payload.results.find((r) => r.status !== 'ACCEPTED');
  throw new Error(`Ingesting ${what}: ${problem?.externalId} was ${problem?.status} (${problem?.code ?? ''} ${problem?.message ?? ''}).`);
}

// ---- ingestion through the API ----

export interface IngestionStats {
  items: number;
  batches: number;
  seconds: number;
  perSecond: number;
  /** Items per second over each tenth of the load, in order (is it flat as the tables grow?). */
  tenths: number[];
  /** Per batch of 100, milliseconds, client-side around the HTTP request. */
  batchMs: { p50: number; p95: number; p99: number };
}

const SET_OBJECTS = 'mutation ($input: SetObjectsInput!) { setObjects(input: $input) { acceptedCount results { externalId status code message } } }';
const SET_RELATIONSHIPS = 'mutation ($input: SetRelationshipsInput!) { setRelationships(input: $input) { acceptedCount results { externalId status code message } } }';

/**
 * Sends every connection's batches from that connection, the four at once, each waiting for its
 * previous batch (a connector's loop). `total` (for progress and tenths) may be an estimate.
 */
export function ingestConcurrently(
  url: string,
  tenant: Tenant,
  what: 'objects' | 'relationships',
  batchesOf: (connection: number) => Iterable<unknown[]>,
  total: number,
  label: string,
): Promise<IngestionStats> {
  return ingestTenantsConcurrently(url, [{ tenant, batchesOf }], what, total, label);
}

/**
 * Several organisations loaded at once, each as ingestConcurrently loads one (its four
 * connections at once): as many connectors as they have, all sending to the one server, which is
 * how their rows reach different nodes of a Citus cluster at the same time. The figures are of
 * all of them together; `total` is theirs together.
 */
export async function ingestTenantsConcurrently(
  url: string,
  loads: { tenant: Tenant; batchesOf: (connection: number) => Iterable<unknown[]> }[],
  what: 'objects' | 'relationships',
  total: number,
  label: string,
): Promise<IngestionStats> {
  const batchMs: number[] = [];
  const completions: { at: number; items: number }[] = [];
  let done = 0;
  let nextReport = total / 10;
  const started = performance.now();
  const worker = async ({ tenant, batchesOf }: (typeof loads)[number], c: number) => {
    const { connectionId, token } = tenant.connections[c];
    for (const batch of batchesOf(c)) {
      const t0 = performance.now();
      const data = await graphql(url, token, what === 'objects' ? SET_OBJECTS : SET_RELATIONSHIPS, { input: { connectionId, [what]: batch } });
      const at = performance.now();
      batchMs.push(at - t0);
      completions.push({ at, items: batch.length });
      expectAccepted(what === 'objects' ? data.setObjects : data.setRelationships, what);
      done += batch.length;
      if (done >= nextReport) {
        progress(`${label}: ${done.toLocaleString('en')} of ${what === 'objects' ? '' : '~'}${total.toLocaleString('en')} ${what}, ${Math.round((done * 1000) / (at - started))}/s`);
        nextReport += total / 10;
      }
    }
  };
  await Promise.all(loads.flatMap((load) => Array.from({ length: CONNECTIONS }, (_, c) => worker(load, c))));
  const seconds = (performance.now() - started) / 1000;
  // Tenths of the load: the batches in order of completion, cut into ten runs of consecutive
  // batches; each tenth's rate is its items over the time from the previous tenth's last
  // completion to its own (the first from the start).
  const tenths: number[] = [];
  const groups = Math.min(10, completions.length);
  let previousEnd = started;
  for (let g = 0; g < groups; g++) {
    const slice = completions.slice(Math.floor((g * completions.length) / groups), Math.floor(((g + 1) * completions.length) / groups));
    const end = slice[slice.length - 1].at;
    tenths.push((slice.reduce((sum, c) => sum + c.items, 0) * 1000) / Math.max(1, end - previousEnd));
    previousEnd = end;
  }
  const sorted = [...batchMs].sort((a, b) => a - b);
  return {
    items: done,
    batches: batchMs.length,
    seconds,
    perSecond: done / seconds,
    tenths,
    batchMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) },
  };
}
