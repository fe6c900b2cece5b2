// The Prometheus metrics (issue 19): real requests through app.fetch, then the metrics server on an
// ephemeral port, scraped over HTTP; each series is checked by how much it grew.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { serveMetrics, type MetricsServer } from '../../src/observability/metrics-server.ts';
import { createTenant, objectInput, startTestApp, type Tenant, TEST_ORIGIN, type TestApp } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

let t: TestApp;
let tenant: Tenant;
let server: MetricsServer;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t, 'Measured');
  await tenant.ingest('setObjects', { objects: [objectInput('m-1'), objectInput('m-2')] });
  server = await serveMetrics(t.app.metrics, { port: 0, host: '127.0.0.1', database: t.handle });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const samples: Sample[] = [];
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
const total = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

const grew = (before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);

describe('the metrics server', () => {
  it('counts each request by route, operation, client kind and outcome', async () => {
    const alice = await tenant.account();
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await t.graphql(alice.token, '{ objects(first: 5) { edges { node { id } } } }')).status).toBe(200);
    expect((await t.graphql(null, '{ viewer { grantedPermissions } }')).status).toBe(401);
    expect((await t.app.fetch(new Request(`${TEST_ORIGIN}/.well-known/oauth-authorization-server`))).status).toBe(200);
    expect((await t.app.fetch(new Request(`${TEST_ORIGIN}/no/such/page`))).status).toBe(404);
    const after = await scrape();

    const requests = 'teamgraph_http_request_duration_seconds_count';
    expect(grew(before, after, requests)).toBe(6);
    expect(grew(before, after, requests, { route: '/graphql', operation: 'objects', client: 'twg-cli', outcome: 'ok' })).toBe(3);
    expect(grew(before, after, requests, { route: '/graphql', operation: '', client: 'anonymous', outcome: 'UNAUTHENTICATED' })).toBe(1);
    expect(grew(before, after, requests, { route: 'oauth', client: 'anonymous', outcome: 'ok' })).toBe(1);
    expect(grew(before, after, requests, { route: 'none', outcome: 'NOT_FOUND' })).toBe(1);
  });

  it('names the client kind of a connection, the admin page and an admin API key', async () => {
    const admin = await tenant.account({ admin: true });
    const key = await t.graphql(admin.token, 'mutation($i: CreateAdminApiKeyInput!) { createAdminApiKey(input: $i) { secret } }', { i: { orgId: tenant.orgId, name: 'metrics' } });
    expect(key.body.errors).toBeUndefined();
    const before = await scrape();
    await t.graphql(key.body.data.createAdminApiKey.secret, '{ viewer { grantedPermissions } }');
    await t.graphql(admin.token, '{ viewer { grantedPermissions } }');
    await t.graphql(tenant.connectionToken, '{ objects { edges { node { id } } } }');
    const after = await scrape();
    const requests = 'teamgraph_http_request_duration_seconds_count';
    expect(grew(before, after, requests, { client: 'admin-api-key', operation: 'viewer' })).toBe(1);
    expect(grew(before, after, requests, { client: 'admin-page', operation: 'viewer', outcome: 'ok' })).toBe(1);
    expect(grew(before, after, requests, { client: 'connection', operation: 'objects', outcome: 'FORBIDDEN' })).toBe(1);
  });

  it('counts the list plan, the statements, the audit appends and the caches of each list request', async () => {
    const bob = await tenant.account();
    // Settled credentials: on Citus the organisation's first barrier drops what was cached before
    // it and would make that request run again (credential-cache.ts, step 5), counting its list twice.
    for (let i = 0; i < 3; i++) await t.graphql(bob.token, '{ viewer { grantedPermissions } }');
    const before = await scrape();
    t.statements.length = 0;
    for (let i = 0; i < 2; i++) expect((await t.graphql(bob.token, '{ objects(first: 5) { edges { node { id } } } }')).body.errors).toBeUndefined();
    const statements = t.statements.length;
    const after = await scrape();

    const plans = after.filter((s) => s.name === 'teamgraph_list_plan_total' && s.value > total(before, s.name, s.labels));
    expect(plans.map((s) => s.labels.plan).every((plan) => ['forward', 'streams', 'text'].includes(plan))).toBe(true);
    expect(grew(before, after, 'teamgraph_list_plan_total')).toBe(2);

    // Every statement the database ran was counted against one of the two requests.
    expect(grew(before, after, 'teamgraph_sql_statements_per_request_count', { route: '/graphql', operation: 'objects' })).toBe(2);
    expect(grew(before, after, 'teamgraph_sql_statements_per_request_sum', { route: '/graphql', operation: 'objects' })).toBe(statements);
    expect(statements).toBeGreaterThan(0);

    expect(grew(before, after, 'teamgraph_audit_append_duration_seconds_count')).toBe(2);
    expect(grew(before, after, 'teamgraph_principal_cache_lookups_total', { result: 'miss' })).toBe(1);
    expect(grew(before, after, 'teamgraph_principal_cache_lookups_total', { result: 'hit' })).toBe(1);
  });

  it('counts credential cache hits and misses', async () => {
    const carol = await tenant.account();
    const viewer = '{ viewer { grantedPermissions } }';
    const first = await scrape();
    // Settled: on Citus the organisation's first barrier drops what was cached before it.
    for (let i = 0; i < 3; i++) await t.graphql(carol.token, viewer);
    const before = await scrape();
    for (let i = 0; i < 3; i++) await t.graphql(carol.token, viewer);
    const after = await scrape();
    expect(grew(before, after, 'teamgraph_credential_cache_lookups_total', { result: 'hit' })).toBe(3);
    expect(grew(before, after, 'teamgraph_credential_cache_lookups_total')).toBe(3);
    expect(grew(first, before, 'teamgraph_credential_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
  });

  it('reports the database pool, the change feed and the process', async () => {
    const samples = await scrape();
    const max = total(samples, 'teamgraph_db_pool_max');
    expect(max).toBeGreaterThanOrEqual(1);
    const inUse = total(samples, 'teamgraph_db_pool_connections', { state: 'in_use' });
    const idle = total(samples, 'teamgraph_db_pool_connections', { state: 'idle' });
    expect(inUse).toBeGreaterThanOrEqual(0);
    expect(inUse + idle).toBeLessThanOrEqual(max);
    expect(total(samples, 'teamgraph_db_pool_waiting')).toBe(0);
    expect(samples.some((s) => s.name === 'teamgraph_change_feed_reconnects_total' && s.value === 0)).toBe(true);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('answers GET /metrics only', async () => {
    const other = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(other.status).toBe(404);
    await other.text();
    const post = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.text();
  });

  it('keeps each app’s series apart from another app’s in the same process', async () => {
    const other = await startTestApp();
    try {
      await other.app.fetch(new Request(`${TEST_ORIGIN}/healthz`));
      const mine = await t.app.metrics.registry.getSingleMetricAsString('teamgraph_http_request_duration_seconds');
      const theirs = await other.app.metrics.registry.getSingleMetricAsString('teamgraph_http_request_duration_seconds');
      expect(theirs).toContain('route="/healthz"');
      expect(mine).not.toContain('route="/healthz"');
    } finally {
      await other.close();
    }
  });
});

describe('TEAMGRAPH_METRICS_PORT', () => {
  it('is off unless set, and must be a port other than the public one', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ TEAMGRAPH_METRICS_PORT: '' }).metricsPort).toBeUndefined();
    expect(loadConfig({ TEAMGRAPH_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    for (const bad of ['metrics', '0', '70000', '94.5']) {
      expect(() => loadConfig({ TEAMGRAPH_METRICS_PORT: bad }), bad).toThrow(/TEAMGRAPH_METRICS_PORT must be a port number from 1 to 65535/);
    }
    expect(() => loadConfig({ PORT: '8080', TEAMGRAPH_METRICS_PORT: '8080' })).toThrow(/TEAMGRAPH_METRICS_PORT must differ from PORT \(8080\)/);
  });
});
