// What the rate-limit charge adds to a request (issue 21): a trivial authenticated query through
// app.fetch with a real twg-cli bearer token, with the charge (one upsert on the credential's
// rate_limit_usage row before the operation runs) and without it (AppDeps.rateLimits = false),
// measured in turn. Then one credential asked by many requests at once, with and without the
// charge: every charge of one credential takes that row's lock, so its requests queue there.
//
// The apps are the server's (bench/harness.ts), audit log off in both so that the difference is
// the charge alone (bench/audit-overhead.ts measures the audit log).
//
//   npm run bench:rate-limit -- [--backend pglite|postgres] [--runs 2000] [--warmup 200]
//                               [--concurrency 16] [--server postgres://postgres@127.0.0.1:5432/postgres]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import { type Backend, benchApp, codeRevision, measureInterleaved, ms, out, progress, type Timing, timingOf, withDatabase } from './harness.ts';

const QUERY = '{ viewer { grantedPermissions } }';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'pglite' },
      runs: { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '16' },
      server: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    },
    strict: true,
  });
  if (values.backend !== 'pglite' && values.backend !== 'postgres') throw new Error(`--backend must be pglite or postgres, not ${values.backend}`);
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(runs) || runs < 100 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--runs must be an integer ≥ 100 and --warmup ≥ 0');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a positive integer');
  return { backend: values.backend as Backend, runs, warmup, concurrency, server: values.server! };
}

function request(token: string): Request {
  return new Request('http://bench.teamgraph.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY }),
  });
}

async function expectOk(response: Response): Promise<void> {
  const body = (await response.json()) as { errors?: unknown; data?: { viewer?: { grantedPermissions?: string[] } } };
  if (response.status !== 200 || body.errors || !body.data?.viewer?.grantedPermissions?.length) throw new Error(`unexpected answer ${response.status}: ${JSON.stringify(body)}`);
}

async function main() {
  const options = parseOptions();
  const cpus = os.cpus();
  out(`## What the rate-limit charge adds, on ${options.backend}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`);
  out(`- date ${new Date().toISOString()}, code ${codeRevision()}`);
  out(`- query \`${QUERY}\`; ${options.runs} runs after ${options.warmup} warm-up requests per case, the cases in turn, timed around app.fetch, JSON parse included; audit log off in both`);
  await withDatabase(options, async (handle) => {
    const charged = benchApp(handle, { auditLog: false });
    const free = benchApp(handle, { auditLog: false, rateLimits: false });
    const { orgs, sessions, catalog } = charged.services;
    const { orgId } = await orgs.createOrganization('Bench');
    const { cloudId } = await orgs.createSite(orgId, 'bench');
    const { accountId } = await orgs.createAccount({ orgId, email: 'bench@bench.test', displayName: 'Bench', cloudIds: [cloudId] });
    const scopes = catalog.permissions.map((p) => p.key);
    const { accessToken } = await sessions.issue({ orgId, accountId }, CLI_CLIENT_ID, scopes, 6 * 3600);

    progress('one request at a time: with the charge and without, in turn');
    const [on, off] = await measureInterleaved(options.runs, options.warmup, [
      async () => expectOk(await charged.fetch(request(accessToken))),
      async () => expectOk(await free.fetch(request(accessToken))),
    ]);

    // Many requests of one credential in flight at once: each charge waits for the row lock of the
    // one before it (on the embedded database every statement queues on its one connection anyway).
    const burst = async (app: typeof charged) => {
      const samples: number[] = [];
      const started = performance.now();
      let sent = 0;
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (sent < options.runs) {
            sent++;
            const t0 = performance.now();
            await expectOk(await app.fetch(request(accessToken)));
            samples.push(performance.now() - t0);
          }
        }),
      );
      return { timing: timingOf(samples), perSecond: (samples.length * 1000) / (performance.now() - started) };
    };
    progress(`${options.concurrency} requests of one credential in flight: with the charge, then without, then with again`);
    await burst(charged);
    const burstOn = await burst(charged);
    const burstOff = await burst(free);

    const row = (label: string, t: Timing, extra = '') => out(`| ${label} | ${ms(t.p50)} | ${ms(t.p95)} | **${ms(t.p99)}** | ${ms(t.mean)} |${extra}`);
    out();
    out('| case (ms) | p50 | p95 | p99 | mean | requests/s |');
    out('|---|---|---|---|---|---|');
    row('one at a time, charged', on, ' |');
    row('one at a time, not charged', off, ' |');
    row(`${options.concurrency} in flight on one credential, charged`, burstOn.timing, ` ${burstOn.perSecond.toFixed(0)} |`);
    row(`${options.concurrency} in flight on one credential, not charged`, burstOff.timing, ` ${burstOff.perSecond.toFixed(0)} |`);
    out();
    out(`- added by the charge: p50 **${ms(on.p50 - off.p50)} ms**, p99 **${ms(on.p99 - off.p99)} ms** one at a time; throughput of one credential with ${options.concurrency} in flight ${burstOn.perSecond.toFixed(0)}/s charged against ${burstOff.perSecond.toFixed(0)}/s not`);
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
