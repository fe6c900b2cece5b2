// What the audit log and the IP allowlist cost under load (issue "IP and location allowlists,
// the audit log…"): 50 concurrent clients (autocannon, in a process of its own) on loopback send an authenticated
// `objects(first: 25)` to a real HTTP server, first with the audit log off and no allowlist,
// then with both on (an allowlist of 100 CIDR rules and a location rule, every request audited),
// then off again so drift shows. Target: p99 on ≤ 1.5 × p99 off, and no failed request.
// With --stream (issue 21, item 3): the audit log on throughout, and an audit stream paused, then
// delivering to a receiver in a process of its own, alternately (off, on, off, on). Target: p99
// with the stream on ≤ 1.1 × off.
//
//   npm run bench:audit -- [--backend pglite|postgres] [--duration 15] [--connections 50] [--objects 2000]
//                          [--server postgres://postgres@127.0.0.1:5432/postgres] [--stream]
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type autocannon from 'autocannon';
import { sql } from 'kysely';
import type { App } from '../src/app.ts';
import { createHttpServer } from '../src/http-server.ts';
import { type Backend, benchApp, codeRevision, ms, out, progress, withDatabase } from './harness.ts';
import { operatorAuthor } from '../src/modules/audit/audit-event.ts';

/** Setup done as the operator would do it: recorded in the audit log as the operator's (PRODUCT §9). */
const asOperator = operatorAuthor(() => new Date());

const run = promisify(execFile);
const AUTOCANNON = path.join(path.dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js');
const QUERY = '{ objects(first: 25) { edges { node { id displayName } } pageInfo { hasNextPage endCursor } } }';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'pglite' },
      duration: { type: 'string', default: '15' },
      connections: { type: 'string', default: '50' },
      objects: { type: 'string', default: '2000' },
      server: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      stream: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.backend !== 'pglite' && values.backend !== 'postgres') throw new Error(`--backend must be pglite or postgres, not ${values.backend}`);
  const numbers = { duration: Number(values.duration), connections: Number(values.connections), objects: Number(values.objects) };
  for (const [name, value] of Object.entries(numbers)) if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return { backend: values.backend as Backend, server: values.server!, stream: values.stream!, ...numbers };
}

interface LoadResult {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  perSecond: number;
  failed: number;
}

/** autocannon in a process of its own, so the load does not share the server's event loop. */
async function load(url: string, token: string, connections: number, duration: number): Promise<LoadResult> {
  const args = [
    AUTOCANNON, '--json', '--connections', String(connections), '--duration', String(duration), '--method', 'POST',
    '--headers', 'content-type=application/json', '--headers', `authorization=Bearer ${token}`,
    '--headers', 'x-twg-command=graph objects list', '--headers', 'user-agent=twg/0.1.0 bench',
    '--body', JSON.stringify({ query: QUERY }), `${url}/graphql`,
  ];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout) as autocannon.Result;
  return {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    perSecond: result.requests.average,
    failed: result.errors + result.timeouts + result.non2xx,
  };
}

async function main() {
  const options = parseOptions();
  const cpus = os.cpus();
  out(`## Audit log and allowlist overhead on ${options.backend}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`);
  out(`- date ${new Date().toISOString()}, code ${codeRevision()}`);
  out(`- ${options.connections} concurrent clients (autocannon, in a process of its own) for ${options.duration} s per phase, \`${QUERY.slice(0, 40)}…\` over loopback HTTP; ${options.objects} visible objects`);

  await withDatabase(options, async (handle) => {
    // The server's app, and the same with the audit log off: what the log costs is the measurement.
    const audited = benchApp(handle, { auditStreamsToLoopback: options.stream });
    const unaudited = benchApp(handle, { auditLog: false });
    const { orgs, sessions, catalog, ipAllowlist } = audited.services;
    const { orgId } = await orgs.createOrganization('Bench');
    const { cloudId } = await orgs.createSite(orgId, 'bench');
    const { accountId } = await orgs.createAccount({ orgId, email: 'bench@bench.test', displayName: 'Bench', admin: true, cloudIds: [cloudId] });
    const connection = await orgs.createConnection(cloudId, 'jira');
    const connectionToken = (await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [])).accessToken;
    progress(`ingesting ${options.objects} objects`);
    for (let i = 0; i < options.objects; i += 100) {
      const objects = Array.from({ length: Math.min(100, options.objects - i) }, (_, k) => ({
        type: 'jira:work-item',
        externalId: `B-${i + k}`,
        displayName: `Bench item ${i + k}`,
        updateSequenceNumber: 1,
        permissions: [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }],
      }));
      const response = await audited.fetch(
        new Request('http://bench.teamgraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${connectionToken}` },
          body: JSON.stringify({ query: 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', variables: { i: { connectionId: connection.connectionId, objects } } }),
        }),
      );
      if (response.status !== 200) throw new Error(`ingestion failed: ${await response.text()}`);
    }
    // As autovacuum would after a bulk load (the embedded database runs none).
    await sql`analyze`.execute(handle.db);
    const token = (await sessions.issue({ orgId, accountId }, CLI_CLIENT_ID, catalog.permissions.map((p) => p.key), 6 * 3600)).accessToken;
    // 99 office ranges that do not match, then loopback, and a location rule: the matcher does real work.
    const rules = [...Array.from({ length: 99 }, (_, i) => ({ cidr: `10.${i}.0.0/16` })), { cidr: '127.0.0.0/8' }, { cidr: '::1/128' }];

    const serve = async (app: App) => {
      const { server } = createHttpServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    };
    const phases: { label: string; result: LoadResult }[] = [];
    const phase = async (label: string, app: App, allowlistOn: boolean) => {
      await ipAllowlist.update(asOperator, orgId, accountId, { enabled: allowlistOn, rules, locations: ['DE'] }, '127.0.0.1');
      const server = await serve(app);
      await load(server.url, token, options.connections, 5); // warm-up
      progress(`${label}: ${options.duration} s`);
      phases.push({ label, result: await load(server.url, token, options.connections, options.duration) });
      await server.close();
    };
    if (options.stream) return compareStream(audited, { orgId, accountId, token }, options);
    await phase('audit log off, no allowlist', unaudited, false);
    await phase('audit log on, allowlist on (101 rules + 1 country)', audited, true);
    await phase('audit log off, no allowlist (again)', unaudited, false);

    const events = await handle.db.selectFrom('audit_event').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
    out();
    out('| phase | p50 ms | p90 ms | p99 ms | max ms | requests | req/s | failed |');
    out('|---|---|---|---|---|---|---|---|');
    for (const { label, result: r } of phases) out(`| ${label} | ${ms(r.p50)} | ${ms(r.p90)} | **${ms(r.p99)}** | ${ms(r.max)} | ${r.requests.toLocaleString('en')} | ${Math.round(r.perSecond)} | ${r.failed} |`);
    const on = phases[1].result;
    const offWorst = Math.max(phases[0].result.p99, phases[2].result.p99);
    const offBest = Math.min(phases[0].result.p99, phases[2].result.p99);
    out();
    out(`- p99 on ÷ p99 off: **${(on.p99 / offWorst).toFixed(2)}–${(on.p99 / offBest).toFixed(2)}** (target ≤ 1.5); failed requests: **${phases.reduce((n, p) => n + p.result.failed, 0)}** (target 0)`);
    out(`- audit events written in the "on" phase and its warm-up: ${Number(events.n).toLocaleString('en')}`);
  });
}

/** A receiver that accepts every batch, in a process of its own as a real collector would be. */
async function startReceiver(): Promise<{ url: string; batches: () => Promise<number>; stop: () => void }> {
  const script = `let n = 0; const s = require('http').createServer((q, r) => { q.resume(); q.on('end', () => { if (q.method === 'GET') return r.end(String(n)); n++; r.end('ok'); }); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk) => resolve(String(chunk).trim())));
  const url = `http://127.0.0.1:${port}/collect`;
  return { url, batches: async () => Number(await (await fetch(url)).text()), stop: () => child.kill() };
}

async function compareStream(app: App, who: { orgId: string; accountId: string; token: string }, options: ReturnType<typeof parseOptions>) {
  const receiver = await startReceiver();
  const streams = app.services.auditStreams;
  const stream = await streams.create(asOperator, who.orgId, who.accountId, { url: receiver.url, format: 'JSON_LINES', secret: 'bench-secret-0123456789' });
  app.services.auditStreamSender.start();
  const { server } = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await load(url, who.token, options.connections, 5); // warm-up
  const phases: { label: string; result: LoadResult }[] = [];
  for (const on of [false, true, false, true]) {
    if (on) await streams.resume(asOperator, who.orgId, stream.id);
    else await streams.pause(asOperator, who.orgId, stream.id);
    const label = on ? 'audit log on, a stream delivering' : 'audit log on, the stream paused';
    progress(`${label}: ${options.duration} s`);
    phases.push({ label, result: await load(url, who.token, options.connections, options.duration) });
  }
  // What the last phase appended is delivered before the figures are read: the stream kept up.
  await streams.resume(asOperator, who.orgId, stream.id);
  const started = performance.now();
  while ((await streams.find(who.orgId, stream.id))!.status.lagEvents > 0 && performance.now() - started < 60_000) await new Promise((r) => setTimeout(r, 200));
  const status = (await streams.find(who.orgId, stream.id))!.status;
  await app.services.auditStreamSender.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const batches = await receiver.batches();
  receiver.stop();
  out();
  out('| phase | p50 ms | p90 ms | p99 ms | max ms | requests | req/s | failed |');
  out('|---|---|---|---|---|---|---|---|');
  for (const { label, result: r } of phases) out(`| ${label} | ${ms(r.p50)} | ${ms(r.p90)} | **${ms(r.p99)}** | ${ms(r.max)} | ${r.requests.toLocaleString('en')} | ${Math.round(r.perSecond)} | ${r.failed} |`);
  const off = phases.filter((_, i) => i % 2 === 0).map((p) => p.result.p99);
  const on = phases.filter((_, i) => i % 2 === 1).map((p) => p.result.p99);
  out();
  out(`- p99 with the stream on ÷ off, each "on" phase against the "off" phase before it: **${on.map((p, i) => (p / off[i]).toFixed(2)).join(', ')}** (target ≤ 1.1)`);
  out(`- the receiver accepted ${batches.toLocaleString('en')} batches; lag at the end ${status.lagEvents} events (${status.lastError ?? 'no error'})`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
