// Ingestion throughput through the API (issue 16, item 5): a real HTTP server, one organisation
// with four connections (connectors), each with its own token and directory and its share of the
// benchmark dataset (bench/dataset.ts: containers first, realistic ACLs), sending `setObjects` batches of 100 over loopback concurrently, one client per
// connection. Reports objects/s overall and per tenth of the load (does it fall as the tables
// grow?), batch p50/p95/p99, statements per batch, and the statements that took the time.
//
//   npm run bench:ingest -- [--objects 100000] [--backend postgres|pglite|citus] [--stats never|fresh]
//                           [--serial] [--drop-index NAME,...] [--explain]
//                           [--server postgres://postgres@127.0.0.1:5432/postgres (citus: :5440, the coordinator)]
//
// bench/run.ts measures the same load among everything else; this one is for finding where an
// ingestion batch's time goes (the server runs in this process, beside the four clients).
//  - --serial: the four clients one after the other, so that no statement waits for a core and
//    its time is its cost.
//  - --drop-index: drops these indexes before the load, to measure what keeping each one costs.
//  - On a PostgreSQL server that preloads pg_stat_statements (shared_preload_libraries), the
//    statements' execution time inside PostgreSQL is listed too, without the round trips.
//
// --stats never: the tables are never analyzed (autovacuum off, as on this machine); fresh:
// ANALYZE after the directory and after each tenth of the load, as autovacuum would (untimed).
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { DbHandle } from '../src/db/handle.ts';
import { createHttpServer } from '../src/http-server.ts';
import { CONNECTIONS, Dataset, percentile } from './dataset.ts';
import { createTenant } from './ingest.ts';
import { type Backend, benchApp, codeRevision, DEFAULT_SERVER, ms, out, progress, SERVER_STATEMENT_TIMEOUT_MS, withDatabase } from './harness.ts';

const BATCH = 100;
const MUTATION = 'mutation Ingest($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount results { status code message } } }';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '100000' },
      backend: { type: 'string', default: 'postgres' },
      stats: { type: 'string', default: 'never' },
      server: { type: 'string' },
      top: { type: 'string', default: '8' },
      serial: { type: 'boolean', default: false },
      'drop-index': { type: 'string', default: '' },
      // PostgreSQL: every statement's plan with its actual times goes to the server's log (auto_explain).
      explain: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.backend !== 'pglite' && values.backend !== 'postgres' && values.backend !== 'citus') throw new Error(`--backend must be pglite, postgres or citus, not ${values.backend}`);
  if (values.stats !== 'never' && values.stats !== 'fresh') throw new Error(`--stats must be never or fresh, not ${values.stats}`);
  const numbers = { objects: Number(values.objects), top: Number(values.top) };
  for (const [name, value] of Object.entries(numbers)) if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  const dropIndexes = values['drop-index']!.split(',').filter(Boolean);
  for (const index of dropIndexes) if (!/^[a-z_][a-z0-9_]*$/.test(index)) throw new Error(`--drop-index takes index names, not ${index}`);
  return { backend: values.backend as Backend, explain: values.explain!, stats: values.stats as 'never' | 'fresh', server: values.server ?? DEFAULT_SERVER[values.backend === 'citus' ? 'citus' : 'postgres'], serial: values.serial!, dropIndexes, ...numbers };
}

interface StatementStats {
  count: number;
  ms: number;
  max: number;
}

/** Counts and times statements by their text, multi-row VALUES lists of any length as one. */
function statementLog() {
  const statements = new Map<string, StatementStats>();
  const onQuery = (text: string, durationMs: number) => {
    const key = text.replace(/\s+/g, ' ').trim().replace(/\$\d+/g, '?').replace(/(\((\?|default)(, (\?|default))*\)(, )?)+/g, '(…)');
    const entry = statements.get(key) ?? { count: 0, ms: 0, max: 0 };
    entry.count++;
    entry.ms += durationMs;
    entry.max = Math.max(entry.max, durationMs);
    statements.set(key, entry);
  };
  return { statements, onQuery };
}

/** CPU seconds used so far by the PostgreSQL backends of this database (same machine); 0 on PGlite. */
async function backendCpuSeconds(handle: DbHandle): Promise<number> {
  if (handle.backend !== 'postgres') return 0;
  const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(handle.db);
  const ticks = Number(process.env.CLK_TCK ?? 100);
  let total = 0;
  for (const { pid } of rows) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // not on this machine, or gone
    }
  }
  return total;
}

/** PostgreSQL with pg_stat_statements preloaded: the statements' own execution times in this database; else null. */
async function serverStatementStats(handle: DbHandle) {
  if (handle.backend !== 'postgres') return null;
  const { rows } = await sql<{ preloaded: boolean }>`select 'pg_stat_statements' = any(string_to_array(current_setting('shared_preload_libraries'), ', ')) as preloaded`.execute(handle.db);
  if (!rows[0].preloaded) return null;
  await sql`create extension if not exists pg_stat_statements`.execute(handle.db);
  return {
    reset: () => sql`select pg_stat_statements_reset(0, (select oid from pg_database where datname = current_database()), 0)`.execute(handle.db),
    top: async (n: number) =>
      (
        await sql<{ calls: number; total: number; query: string }>`
          select calls::int, total_exec_time as total, regexp_replace(query, '\\s+', ' ', 'g') as query from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database()) order by total_exec_time desc limit ${n}`.execute(handle.db)
      ).rows,
  };
}

async function main() {
  const options = parseOptions();
  const cpus = os.cpus();
  out(`## Ingestion through the API on ${options.backend}, statistics ${options.stats}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`);
  out(`- date ${new Date().toISOString()}, code ${codeRevision()}`);
  out(`- ${options.objects.toLocaleString('en')} objects from ${CONNECTIONS} connections of one organisation, \`setObjects\` batches of ${BATCH} over loopback HTTP, one client per connection`);

  const { statements, onQuery } = statementLog();
  // PostgreSQL: the pool as the server opens it (10 connections, its statement timeout); --explain:
  // every statement's plan with its actual times goes to the server's log.
  const settings = options.explain ? [`session_preload_libraries = 'auto_explain'`, 'auto_explain.log_min_duration = 0', 'auto_explain.log_analyze = on', 'auto_explain.log_buffers = on'] : [];
  await withDatabase({ ...options, onQuery, statementTimeoutMs: SERVER_STATEMENT_TIMEOUT_MS, settings }, async (handle) => {
    const app = benchApp(handle);
    const dataset = new Dataset({ objects: options.objects });
    progress(`tenant and directory on ${CONNECTIONS} connections`);
    const tenant = await createTenant(app.services, dataset, 'Ingest Bench');
    const clients = tenant.connections.map((connection, c) => ({ ...connection, batches: [...dataset.batchesOf(c)] as unknown[][] }));
    const analyze = async () => {
      if (options.stats === 'fresh') await sql`analyze`.execute(handle.db);
    };
    await analyze();
    for (const index of options.dropIndexes) await sql`drop index ${sql.id(index)}`.execute(handle.db);
    if (options.dropIndexes.length > 0) out(`- without the indexes ${options.dropIndexes.join(', ')}`);
    out(`- the clients ${options.serial ? 'one after the other (--serial)' : 'at once'}`);
    const serverStatements = await serverStatementStats(handle);

    const { server } = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const send = async (client: (typeof clients)[number], objects: unknown[]) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${client.token}`, 'x-twg-command': 'bench ingest' },
        body: JSON.stringify({ query: MUTATION, variables: { i: { connectionId: client.connectionId, objects } } }),
      });
      const body = (await response.json()) as any;
      if (response.status !== 200 || body.errors || body.data.setObjects.acceptedCount !== objects.length) {
        const problem = body.errors?.[0] ?? body.data?.setObjects.results.find((r: any) => r.status !== 'ACCEPTED');
        throw new Error(`A batch was not accepted whole: ${JSON.stringify(problem).slice(0, 500)}`);
      }
    };

    const batchMs: number[] = [];
    const tenths: { objects: number; seconds: number; statements: number; batches: number }[] = [];
    const totalBatches = Math.max(...clients.map((c) => c.batches.length));
    const perTenth = Math.ceil(totalBatches / 10);
    const countStatements = () => [...statements.values()].reduce((n, s) => n + s.count, 0);
    statements.clear();
    await serverStatements?.reset();
    const nodeCpu0 = process.cpuUsage();
    const pgCpu0 = await backendCpuSeconds(handle);
    let loadSeconds = 0;
    for (let tenth = 0; tenth < 10; tenth++) {
      const from = tenth * perTenth;
      const to = Math.min(totalBatches, from + perTenth);
      if (from >= to) break;
      const statementsBefore = countStatements();
      let objects = 0;
      let batches = 0;
      const t0 = performance.now();
      const run = async (client: (typeof clients)[number]) => {
        for (const batch of client.batches.slice(from, to)) {
          const b0 = performance.now();
          await send(client, batch);
          batchMs.push(performance.now() - b0);
          objects += batch.length;
          batches++;
        }
      };
      if (options.serial) for (const client of clients) await run(client);
      else await Promise.all(clients.map(run));
      const seconds = (performance.now() - t0) / 1000;
      loadSeconds += seconds;
      tenths.push({ objects, seconds, statements: countStatements() - statementsBefore, batches });
      progress(`tenth ${tenth + 1}: ${objects} objects in ${seconds.toFixed(1)} s, ${Math.round(objects / seconds)}/s`);
      await analyze();
    }
    const nodeCpu = process.cpuUsage(nodeCpu0);
    const pgCpu = (await backendCpuSeconds(handle)) - pgCpu0;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const total = tenths.reduce((n, t) => n + t.objects, 0);
    const sorted = [...batchMs].sort((a, b) => a - b);
    const allStatements = tenths.reduce((n, t) => n + t.statements, 0);
    out();
    out(`| objects | seconds | objects/s | batch p50 ms | p95 ms | p99 ms | statements per batch |`);
    out(`|---|---|---|---|---|---|---|`);
    out(`| ${total.toLocaleString('en')} | ${loadSeconds.toFixed(1)} | **${Math.round(total / loadSeconds).toLocaleString('en')}** | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 95))} | ${ms(percentile(sorted, 99))} | ${(allStatements / batchMs.length).toFixed(1)} |`);
    out();
    const perBatch = (seconds: number) => `${((seconds * 1000) / batchMs.length).toFixed(1)} ms`;
    out(`CPU per batch: this process (server and clients) ${perBatch((nodeCpu.user + nodeCpu.system) / 1e6)}${options.backend === 'postgres' ? `, PostgreSQL backends of the pool ${perBatch(pgCpu)}` : ''}`);
    out();
    out(`objects/s per tenth of the load: ${tenths.map((t) => Math.round(t.objects / t.seconds).toLocaleString('en')).join(' · ')}`);
    out();
    out(`Statements by total time (the client's view: round trip, lock waits included):`);
    out();
    out('| calls | total ms | mean ms | max ms | statement |');
    out('|---|---|---|---|---|');
    const top = [...statements.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, options.top);
    for (const [text, s] of top) out(`| ${s.count} | ${Math.round(s.ms)} | ${ms(s.ms / s.count)} | ${ms(s.max)} | \`${text.slice(0, 140).replace(/\|/g, '\\|')}\` |`);
    if (serverStatements) {
      out();
      out('The same statements inside PostgreSQL (pg_stat_statements: execution only, no round trip):');
      out();
      out('| calls | total ms | mean ms | per batch ms | statement |');
      out('|---|---|---|---|---|');
      for (const r of await serverStatements.top(options.top)) {
        out(`| ${r.calls} | ${Math.round(r.total)} | ${ms(r.total / r.calls)} | ${ms(r.total / batchMs.length)} | \`${r.query.slice(0, 140).replace(/\|/g, '\\|')}\` |`);
      }
    }
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
