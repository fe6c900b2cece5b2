// The real twg binary against a traced server (issue 19): every request of one command carries the
// command's trace id, so the server's spans for all of them form one trace under the command.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startTracing, type Tracing } from '../../src/observability/tracing.ts';
import { CliHarness } from '../support/cli-harness.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts';

let receiver: OtlpReceiver;
let tracing: Tracing;
let h: CliHarness;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  tracing = await startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing);
  h = await CliHarness.start();
});

afterAll(async () => {
  await tracing?.shutdown();
  await h?.close();
  await receiver?.close();
});

it('continues the trace of a twg command in the server spans of each of its requests', async () => {
  const acme = await h.tenant('TraceAcme');
  const person = await acme.person();
  const machine = h.machine();
  await machine.signIn(person.email);

  // doctor asks /healthz, then GraphQL.
  const result = await machine.run(['doctor']);
  expect(result.code, result.stderr).toBe(0);
  const [event] = await h.auditEvents(acme.orgId, { command: 'doctor' });
  expect(event.traceId).toMatch(/^[0-9a-f]{32}$/);

  await tracing.forceFlush();
  const spans = receiver.spans().filter((span) => span.traceId === event.traceId);
  const requests = spans.filter((span) => span.kind === 2);
  expect(requests.map((span) => span.name)).toEqual(expect.arrayContaining(['GET /healthz', 'POST /graphql']));
  const ours = new Set(spans.map((span) => span.spanId));
  for (const request of requests) {
    // Its parent is twg's span for that request: in the trace, but not one the server made.
    expect(request.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(ours.has(request.parentSpanId)).toBe(false);
  }
  expect(new Set(requests.map((span) => span.parentSpanId)).size).toBe(requests.length);
  const graphql = requests.find((span) => span.name === 'POST /graphql')!;
  expect(spans.some((span) => span.name === 'graphql.execute' && span.parentSpanId === graphql.spanId)).toBe(true);
});
