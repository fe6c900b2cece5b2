// OpenTelemetry traces (issue 19): requests over real HTTP with a caller's traceparent, exported by
// the SDK over OTLP/HTTP (JSON) to a receiver in this process, read back as a tree of spans.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startTracing, type Tracing } from '../../src/observability/tracing.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp } from '../support/app.ts';
import { type ExportedSpan, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts';

let receiver: OtlpReceiver;
let tracing: Tracing;
let t: TestApp;
let tenant: Tenant;
let alice: { accountId: string; token: string };
let objectId: string;

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const caller = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });

/** The spans of one trace, exported once the provider has flushed. */
async function exportedTrace(traceId: string): Promise<ExportedSpan[]> {
  await tracing.forceFlush();
  return receiver.spans().filter((span) => span.traceId === traceId);
}

function isDescendant(spans: ExportedSpan[], span: ExportedSpan, ancestor: ExportedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) if (parent === ancestor) return true;
  return false;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  tracing = await startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'teamgraph-test' }).tracing);
  t = await startTestApp({ serve: true });
  tenant = await createTenant(t);
  alice = await tenant.account();
  await tenant.ingest('setObjects', { objects: [objectInput('PLAN-7', { displayName: 'Quarterly plan 7f3a' })] });
  const found = await t.graphql(alice.token, 'query($c: ID!) { objectByExternalId(connectionId: $c, type: "jira:work-item", externalId: "PLAN-7") { id } }', { c: tenant.connectionId });
  objectId = found.body.data.objectByExternalId.id;
});

afterAll(async () => {
  await tracing?.shutdown();
  await t?.close();
  await receiver?.close();
});

describe('a GraphQL request', () => {
  let spans: ExportedSpan[];
  let request: ExportedSpan;
  let from: ReturnType<typeof caller>;
  let parameters: unknown[];

  beforeAll(async () => {
    from = caller();
    const before = t.queries.length;
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}`, traceparent: `00-${from.traceId}-${from.spanId}-01` },
      body: JSON.stringify({ query: 'query ObjectById($id: ID!) { object(id: $id) { id displayName } }', variables: { id: objectId }, operationName: 'ObjectById' }),
    });
    expect(await response.json()).toEqual({ data: { object: { id: objectId, displayName: 'Quarterly plan 7f3a' } } });
    parameters = t.queries.slice(before).flatMap((query) => query.parameters);
    spans = await exportedTrace(from.traceId);
    request = spans.find((span) => span.kind === SERVER)!;
  });

  it('is one server span that continues the caller’s trace', () => {
    expect(spans.filter((span) => span.kind === SERVER)).toHaveLength(1);
    expect(request).toMatchObject({
      traceId: from.traceId,
      parentSpanId: from.spanId,
      name: 'POST /graphql',
      attributes: { 'http.request.method': 'POST', 'http.route': '/graphql', 'url.path': '/graphql', 'http.response.status_code': 200 },
      resource: { 'service.name': 'teamgraph-test' },
    });
    expect(request.attributes['teamgraph.request_id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('has the parse, validate and execute spans as children of the request span, naming the operation', () => {
    for (const name of ['graphql.parse', 'graphql.validate', 'graphql.execute']) {
      const phase = spans.find((span) => span.name === name);
      expect(phase, name).toMatchObject({ parentSpanId: request.spanId, attributes: { 'graphql.operation.name': 'ObjectById' } });
    }
    expect(spans.find((span) => span.name === 'graphql.execute')!.attributes['graphql.operation.type']).toBe('query');
  });

  it('has a span per SQL statement under the request, with the statement’s text', () => {
    const statements = spans.filter((span) => span.attributes['db.system'] === 'postgresql');
    expect(statements.length).toBeGreaterThan(1);
    for (const statement of statements) {
      expect(statement.kind).toBe(CLIENT);
      expect(isDescendant(spans, statement, request)).toBe(true);
    }
    const execute = spans.find((span) => span.name === 'graphql.execute')!;
    // The object's own lookup runs while the resolvers do.
    expect(statements.some((span) => isDescendant(spans, span, execute) && /from "?graph_object"?/.test(String(span.attributes['db.statement'])))).toBe(true);
    expect(statements.every((span) => /\$1|^(select|begin|commit)/i.test(String(span.attributes['db.statement'] ?? 'begin')))).toBe(true);
  });

  it('has the audit append, its statement beneath it', () => {
    const append = spans.find((span) => span.name === 'audit.append')!;
    expect(append).toMatchObject({ attributes: { 'teamgraph.audit.outcome': 'SUCCESS' } });
    expect(isDescendant(spans, append, request)).toBe(true);
    expect(spans.find((span) => span.parentSpanId === append.spanId)?.attributes['db.statement']).toMatch(/^select audit_append\(\$1,/);
  });

  it('exports no parameter value, variable, answer or credential', () => {
    const payload = receiver.exports.map((e) => e.body.toString('utf8')).join('\n');
    // The spans name the operation and the audit event's action and outcome on purpose; the audit
    // event's statement takes them as parameters too.
    const named = new Set(['ObjectById', ...Object.values(spans.find((span) => span.name === 'audit.append')!.attributes)]);
    const values = parameters.filter((value): value is string => typeof value === 'string' && value.length >= 8 && !named.has(value));
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(payload, value).not.toContain(value);
    for (const secret of [alice.token, objectId, 'Quarterly plan 7f3a']) expect(payload).not.toContain(secret);
  });
});

describe('a request the client got wrong', () => {
  async function traced(token: string, query: string) {
    const from = caller();
    await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent: `00-${from.traceId}-${from.spanId}-01` },
      body: JSON.stringify({ query }),
    });
    return exportedTrace(from.traceId);
  }

  it('names a syntax error on the parse span without failing a span', async () => {
    const spans = await traced(alice.token, '{ viewer { ');
    expect(spans.find((span) => span.name === 'graphql.parse')).toMatchObject({ attributes: { 'error.type': 'GraphQLError' } });
    expect(spans.filter((span) => span.status === ERROR)).toEqual([]);
  });

  it('names the public codes of its errors on the execute span without failing it', async () => {
    const restricted = await tenant.account({ scopes: [] });
    const spans = await traced(restricted.token, `{ object(id: "${objectId}") { id } }`);
    expect(spans.find((span) => span.name === 'graphql.execute')).toMatchObject({ attributes: { 'teamgraph.error_codes': ['RESTRICTED'] } });
    expect(spans.filter((span) => span.status === ERROR)).toEqual([]);
  });
});

it('names the path and route without the query string', async () => {
  const from = caller();
  await fetch(`${t.url}/healthz?code=secret-code-4711`, { headers: { traceparent: `00-${from.traceId}-${from.spanId}-01` } });
  const [span] = await exportedTrace(from.traceId);
  expect(span).toMatchObject({ name: 'GET /healthz', parentSpanId: from.spanId, attributes: { 'url.path': '/healthz', 'http.route': '/healthz', 'http.response.status_code': 200 } });
  expect(receiver.exports.map((e) => e.body.toString('utf8')).join('\n')).not.toContain('secret-code-4711');
});

it('starts a trace of its own for a request without a traceparent, and names no route for an unknown path', async () => {
  const before = new Set(receiver.spans().map((span) => span.spanId));
  await fetch(`${t.url}/no/such/path`);
  await tracing.forceFlush();
  const [span] = receiver.spans().filter((s) => !before.has(s.spanId) && s.kind === SERVER);
  expect(span).toMatchObject({ name: 'GET', parentSpanId: '', attributes: { 'http.response.status_code': 404, 'url.path': '/no/such/path' } });
  expect(span.attributes['http.route']).toBeUndefined();
});
