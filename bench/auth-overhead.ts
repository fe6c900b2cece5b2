// What authentication and the permission check add to a request (issue "OAuth 2.1 sign-in…"):
// a trivial authenticated query through app.fetch with a real twg-cli bearer token, against the
// same query sent to the same GraphQL handler with authentication taken out (the Caller and the
// organisation snapshot of one earlier authentication passed straight in, as app.fetch would).
// The difference is the per-request cost of authentication: as the server runs, the bearer
// parsing and the credential cache, whose barrier (on PostgreSQL one `select 1` on the listening
// connection) runs beside the request and is waited for only before the response leaves; with the
// cache off, the token lookup statement (session, account, CLI settings, principal version,
// allowlist). The permission gate
// runs in both (the query asks for effectivePermissions, which checks every granted scope against
// the organisation's allowed set); its cost alone is measured in memory below.
//
// The apps are the server's (bench/harness.ts), varied only where a case says so: the audit log is
// off except in the audit case, and the uncached case has no change feed. Two internals are used on
// purpose, because they are what is measured: the GraphQL handler as app.ts builds it
// (createGraphqlHandler over the app's services), called without the bearer check in front of it,
// and the PermissionGate on its own.
//
//   npm run bench:auth -- [--backend pglite|postgres] [--runs 2000] [--warmup 200]
//                         [--server postgres://postgres@127.0.0.1:5432/postgres]
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { PermissionGate } from '../src/authz/permission-gate.ts';
import { createGraphqlHandler } from '../src/graphql/yoga.ts';
import { createLogger } from '../src/shared/logger.ts';
import { type Backend, benchApp, codeRevision, measureInterleaved, ms, out, progress, type Timing, withDatabase } from './harness.ts';

const QUERY = '{ viewer { effectivePermissions } }';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'pglite' },
      runs: { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '200' },
      server: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    },
    strict: true,
  });
  if (values.backend !== 'pglite' && values.backend !== 'postgres') throw new Error(`--backend must be pglite or postgres, not ${values.backend}`);
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(runs) || runs < 100 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--runs must be an integer ≥ 100 and --warmup ≥ 0');
  return { backend: values.backend as Backend, runs, warmup, server: values.server! };
}

function request(token?: string): Request {
  return new Request('http://bench.teamgraph.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: QUERY }),
  });
}

async function expectOk(response: Response): Promise<void> {
  const body = (await response.json()) as { errors?: unknown; data?: { viewer?: { effectivePermissions?: string[] } } };
  if (response.status !== 200 || body.errors || !body.data?.viewer?.effectivePermissions?.length) throw new Error(`unexpected answer ${response.status}: ${JSON.stringify(body)}`);
}

async function main() {
  const options = parseOptions();
  const cpus = os.cpus();
  out(`## Authentication and permission-check overhead on ${options.backend}`);
  out();
  out(`- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`);
  out(`- date ${new Date().toISOString()}, code ${codeRevision()}`);
  out(`- query \`${QUERY}\`; ${options.runs} runs after ${options.warmup} warm-up requests per case, the cases in turn (one request of each per round), timed around the handler, JSON parse included`);
  await withDatabase(options, async (handle) => {
    // The audit log is off for the comparison: what it adds (one append per request) is
    // measured on its own below and by bench/audit-overhead.ts.
    // Credential lookups are cached as in the server (they follow the change feed); `uncached`
    // shows what one lookup per request costs.
    const app = benchApp(handle, { auditLog: false });
    const uncached = benchApp(handle, { auditLog: false, credentialCache: false });
    const audited = benchApp(handle);
    const { orgs, sessions, catalog } = app.services;
    const { orgId } = await orgs.createOrganization('Bench');
    const { cloudId } = await orgs.createSite(orgId, 'bench');
    const { accountId } = await orgs.createAccount({ orgId, email: 'bench@bench.test', displayName: 'Bench', cloudIds: [cloudId] });
    const scopes = catalog.permissions.map((p) => p.key);
    const { accessToken } = await sessions.issue({ orgId, accountId }, CLI_CLIENT_ID, scopes, 6 * 3600);

    const auth = await sessions.authenticate(accessToken);
    if (!auth.ok) throw new Error('the bench token did not authenticate');
    // The same handler app.fetch uses, called without the bearer check in front of it.
    const yoga = createGraphqlHandler(app.services, createLogger('error'));
    const withoutAuth = () => yoga.handleRequest(request(), { caller: auth.caller, org: auth.org, requestId: randomUUID() } as any);

    progress('authenticated, taken out, without the cache, and with the audit log, in turn');
    const fetchWith = (target: { fetch: typeof app.fetch }) => async () => expectOk(await target.fetch(request(accessToken)));
    const [on, off, withoutCache, withAudit] = await measureInterleaved(options.runs, options.warmup, [
      fetchWith(app),
      async () => expectOk(await withoutAuth()),
      fetchWith(uncached),
      fetchWith(audited),
    ]);

    // The gate alone: construct it and check every granted scope, as effectivePermissions does.
    const allowed = Promise.resolve(app.services.cliSettings.allowedPermissions(auth.org.cliSettings));
    const gateRuns = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < gateRuns; i++) await new PermissionGate(auth.caller, catalog, () => allowed).effectivePermissions();
    const gateMicros = ((performance.now() - t0) * 1000) / gateRuns;

    const row = (label: string, t: Timing) => out(`| ${label} | ${ms(t.p50)} | ${ms(t.p95)} | **${ms(t.p99)}** | ${ms(t.mean)} |`);
    out();
    out('| case (ms) | p50 | p95 | p99 | mean |');
    out('|---|---|---|---|---|');
    row('with authentication (app.fetch, bearer token)', on);
    row('authentication taken out (same handler)', off);
    row('with authentication, credential cache off (for comparison)', withoutCache);
    row('with authentication and the audit log (for comparison)', withAudit);
    out();
    out(`- added by authentication: p50 **${ms(on.p50 - off.p50)} ms**, p99 **${ms(on.p99 - off.p99)} ms** (target: ≤ 1 ms at p99); without the credential cache p50 ${ms(withoutCache.p50 - off.p50)} ms, p99 ${ms(withoutCache.p99 - off.p99)} ms`);
    out(`- added by the audit log on top (one chained append per request): p50 **${ms(withAudit.p50 - on.p50)} ms**, p99 **${ms(withAudit.p99 - on.p99)} ms**`);
    out(`- the permission gate alone, built and asked for all ${scopes.length} granted scopes: **${gateMicros.toFixed(1)} µs** per request (mean of ${gateRuns.toLocaleString('en')})`);
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
