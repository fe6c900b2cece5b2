// The OTEL_* configuration and the SDK it starts, without a database: what is read and refused,
// that off registers nothing, and that the default protocol is protobuf.
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { inSpan } from '../../src/observability/spans.ts';
import { startTracing } from '../../src/observability/tracing.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts';

let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver?.close());

const tracingOf = (env: Record<string, string>) => loadConfig(env).tracing;

describe('configuration', () => {
  it('is off without an endpoint, with OTEL_TRACES_EXPORTER=none and with OTEL_SDK_DISABLED=true', () => {
    expect(tracingOf({}).exporter).toBeNull();
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).exporter).toBeNull();
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).exporter).toBeNull();
  });

  it('appends /v1/traces to the shared endpoint and takes the traces endpoint as it is', () => {
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).exporter).toMatchObject({ url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf' });
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces' }).exporter?.url).toBe('https://b/otlp/traces');
  });

  it('reads headers, the service name, resource attributes and the sampler', () => {
    const config = tracingOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20abc,x-tenant=acme',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=traces',
      OTEL_SERVICE_NAME: 'teamgraph-eu',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(config).toMatchObject({
      exporter: { headers: { authorization: 'Basic abc', 'x-tenant': 'traces' } },
      serviceName: 'teamgraph-eu',
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
    });
  });

  it('refuses what it cannot honour, naming each variable, and never echoes a header', () => {
    const refused = () =>
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_OTLP_HEADERS: 'Bearer-s3cr3t',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_TRACES_SAMPLER: 'traceidratio',
      });
    expect(refused).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http or https URL/);
    expect(refused).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/);
    expect(refused).toThrow(/OTEL_TRACES_EXPORTER must be otlp or none/);
    expect(refused).toThrow(/OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list/);
    expect(refused).toThrow(/OTEL_TRACES_SAMPLER_ARG must be a ratio/);
    expect(refused).not.toThrow(/s3cr3t/);
  });
});

describe('the SDK', () => {
  it('registers nothing when off: spans record nothing', async () => {
    const off = await startTracing(tracingOf({}));
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    await off.shutdown();
  });

  it('exports protobuf by default, with the service name, and stops recording once shut down', async () => {
    const tracing = await startTracing(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'teamgraph-proto' }));
    inSpan('probe-span', {}, () => {});
    await tracing.forceFlush();
    const [sent] = receiver.exports;
    expect(sent.contentType).toBe('application/x-protobuf');
    // Protobuf keeps strings as UTF-8 bytes.
    expect(sent.body.includes('probe-span')).toBe(true);
    expect(sent.body.includes('teamgraph-proto')).toBe(true);
    await tracing.shutdown();
    inSpan('after-shutdown', {}, (span) => expect(span.isRecording()).toBe(false));
  });
});
