// What the audit chain check costs on a long chain (issue 15, item 9): one organisation's chain of
// --events events written in bulk (bench/audit-chain.ts), then one full verification (the
// operator's `audit verify --full`), then verifyAuditChain as an admin calls it, through app.fetch
// with a real token: alone, and four at a time. Between calls 1 to 50 events (uniform, seeded) are
// appended with the append statement requests use, untimed; each call also appends its own
// request's event before it answers, as every audited request does. Every answer must be valid
// and must have checked exactly what was appended since the previous call.
// Target: p95 of a call ≤ 200 ms at 1,000,000 events.
//
// The app is the server's (bench/harness.ts); the appends between calls go through its
// AuditService. The chain itself is written by SQL of the benchmark's own (bench/audit-chain.ts),
// on purpose: a million appends one by one would take longer than the measurement.
//
//   npm run bench:audit-verify -- [--events 1000000] [--backend pglite|postgres] [--runs 200]
//                                 [--server postgres://postgres@127.0.0.1:5432/postgres]
import { ADMIN_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { operatorEvent } from '../src/modules/audit/audit-event.ts';
import { newId } from '../src/shared/ids.ts';
import { loadAuditChain } from './audit-chain.ts';
import { type Backend, benchApp, codeRevision, ms, out, progress, type Timing, timingOf, withDatabase } from './harness.ts';

const VERIFY = 'query Verify($org: ID!) { organization(id: $org) { verifyAuditChain { valid eventsChecked firstBrokenEventId } } }';
const CONCURRENT = 4;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      backend: { type: 'string', default: 'pglite' },
      runs: { type: 'string', default: '200' },
      server: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    },
    strict: true,
  });
  if (values.backend !== 'pglite' && values.backend !== 'postgres') throw new Error(`--backend must be pglite or postgres, not ${values.backend}`);
  const numbers = { events: Number(values.events), runs: Number(values.runs) };
  for (const [name, value] of Object.entries(numbers)) if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return { backend: values.backend as Backend, server: values.server!, ...numbers };
}

/** mulberry32: the same appends between calls on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const row = (name: string, t: Timing) => `| ${name} | ${ms(t.p50)} | **${ms(t.p95)}** | ${ms(t.p99)} | ${ms(t.mean)} |`;

async function main() {
  const options = parseOptions();
  out(`# audit chain verification, ${options.events.toLocaleString('en')} events, ${options.backend}`);
  out(`revision ${codeRevision()}; ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}; node ${process.version}; ${new Date().toISOString()}`);
  await withDatabase(options, async (handle) => {
    const app = benchApp(handle);
    const { orgs, sessions, catalog, audit } = app.services;
    const { orgId } = await orgs.createOrganization('Bench');
    const { cloudId } = await orgs.createSite(orgId, 'bench');
    const { accountId } = await orgs.createAccount({ orgId, email: 'admin@bench.test', displayName: 'Admin', admin: true, cloudIds: [cloudId] });
    const token = (await sessions.issue({ orgId, accountId }, ADMIN_CLIENT_ID, catalog.permissions.map((p) => p.key), 24 * 3600)).accessToken;

    const loadStart = performance.now();
    let lastReport = 0;
    await loadAuditChain(handle.db, orgId, options.events, {
      onProgress: (loaded) => {
        if (loaded - lastReport < 100_000 && loaded < options.events) return;
        lastReport = loaded;
        progress(`loaded ${loaded.toLocaleString('en')} events (${((loaded / (performance.now() - loadStart)) * 1000).toFixed(0)}/s)`);
      },
    });
    const loadSeconds = (performance.now() - loadStart) / 1000;
    out(`loaded ${options.events.toLocaleString('en')} events in ${loadSeconds.toFixed(1)} s; no ANALYZE run by the benchmark`);

    // The statements the check runs, planned as they are (on PostgreSQL with autovacuum off, on
    // statistics that have never seen the chain).
    const explain = async (label: string, query: ReturnType<typeof sql>) => {
      const plan = (await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(handle.db)).rows.map((r) => r['QUERY PLAN']);
      out(`plan of ${label}: ${plan.map((line) => line.trim()).join(' / ')}`);
    };
    await explain('a walk batch', sql`select * from audit_event where org_id = ${orgId} and seq > ${options.events - 50} and seq <= ${options.events} order by seq limit 500`);
    await explain('the checkpointed event', sql`select * from audit_event where org_id = ${orgId} and seq = ${options.events}`);

    const fullStart = performance.now();
    let lastFull = 0;
    const full = await audit.verifyFull(orgId, ({ checked, total }) => {
      if (checked - lastFull < 100_000 && checked < total) return;
      lastFull = checked;
      progress(`full verification: ${checked.toLocaleString('en')}/${total.toLocaleString('en')}`);
    });
    const fullSeconds = (performance.now() - fullStart) / 1000;
    if (!full.valid || full.eventsChecked !== options.events) throw new Error(`The full verification answered ${JSON.stringify(full)}`);
    out(`full verification (audit verify --full): ${fullSeconds.toFixed(1)} s for ${full.eventsChecked.toLocaleString('en')} events`);

    const next = random(20261203);
    let appended = 0;
    const appendSome = async () => {
      const count = 1 + Math.floor(next() * 50);
      for (let i = 0; i < count; i++) await audit.append(operatorEvent(orgId, 'bench.filler', { i }, newId('auditEvent'), new Date()));
      appended += count;
      return count;
    };
    const call = async () => {
      const t0 = performance.now();
      const response = await app.fetch(
        new Request('http://teamgraph.bench/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: VERIFY, variables: { org: orgId } }),
        }),
      );
      const body = await response.json();
      const elapsed = performance.now() - t0;
      const result = body.data?.organization?.verifyAuditChain;
      if (!result?.valid) throw new Error(`verifyAuditChain answered ${JSON.stringify(body)}`);
      return { elapsed, checked: result.eventsChecked as number };
    };

    // The first call finds only its predecessor's (none yet) and the appends: warm-up, untimed.
    for (let i = 0; i < 20; i++) {
      await appendSome();
      await call();
    }
    const single: number[] = [];
    let checkedTotal = 0;
    for (let i = 0; i < options.runs; i++) {
      // What this call must check: the appends, and the previous call's own event.
      const expected = (await appendSome()) + 1;
      const { elapsed, checked } = await call();
      if (checked !== expected) throw new Error(`call ${i} checked ${checked} events, expected ${expected}`);
      checkedTotal += checked;
      single.push(elapsed);
    }
    const concurrent: number[] = [];
    for (let i = 0; i < Math.ceil(options.runs / CONCURRENT); i++) {
      await appendSome();
      for (const { elapsed } of await Promise.all(Array.from({ length: CONCURRENT }, call))) concurrent.push(elapsed);
    }
    // The service alone, without the request around it (authentication, GraphQL, the audit event).
    const service: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      await appendSome();
      const t0 = performance.now();
      const result = await audit.verify(orgId);
      service.push(performance.now() - t0);
      if (!result.valid) throw new Error(`verify answered ${JSON.stringify(result)}`);
    }
    const chainLength = Number((await sql<{ n: number }>`select last_seq as n from audit_chain where org_id = ${orgId}`.execute(handle.db)).rows[0].n);
    out(`appended ${appended.toLocaleString('en')} events between calls (1-50 each, mean ${(appended / (20 + 2 * options.runs + Math.ceil(options.runs / CONCURRENT))).toFixed(1)}); chain now ${chainLength.toLocaleString('en')} events`);
    out(`single calls checked ${(checkedTotal / options.runs).toFixed(1)} events each on average`);
    out();
    out('| verifyAuditChain through app.fetch (ms) | p50 | p95 | p99 | mean |');
    out('|---|---|---|---|---|');
    out(row(`one call at a time (${options.runs} calls)`, timingOf(single)));
    out(row(`${CONCURRENT} concurrent calls (${concurrent.length} calls)`, timingOf(concurrent)));
    out(row(`AuditService.verify alone (${options.runs} calls)`, timingOf(service)));
    const p95 = timingOf(single).p95;
    out();
    out(`target p95 ≤ 200 ms: ${p95 <= 200 ? 'met' : 'MISSED'} (${ms(p95)} ms)`);
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
