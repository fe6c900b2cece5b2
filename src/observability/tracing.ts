// Starts the OpenTelemetry SDK from the OTEL_* configuration (tracing-config.ts): OTLP over HTTP,
// AsyncLocalStorage as the context manager and the W3C trace context propagator.
import { context, propagation, trace } from '@opentelemetry/api';
import { setTracing } from './spans.ts';
import type { TracingConfig } from './tracing-config.ts';

export interface Tracing {
  /** Sends the spans ended so far. */
  forceFlush(): Promise<void>;
  /** Sends what is left and stops; spans started afterwards are dropped. */
  shutdown(): Promise<void>;
}

/**
 * Registers the SDK as the API's global tracer provider, so that spans.ts's spans record, with
 * AsyncLocalStorage as the context manager (a statement's span finds its request's) and the W3C
 * trace context propagator. Off (config.exporter null): registers nothing and loads no SDK (it
 * takes ~170 ms to load), and every span stays a no-op.
 */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  if (!config.exporter) return { forceFlush: async () => {}, shutdown: async () => {} };
  const [{ W3CTraceContextPropagator }, json, protobuf, { defaultResource, resourceFromAttributes }, sdk, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const { url, protocol, headers, timeoutMillis } = config.exporter;
  const exporter = new (protocol === 'http/json' ? json : protobuf).OTLPTraceExporter({ url, headers, timeoutMillis });
  const { name, ratio } = config.sampler;
  const root = name.endsWith('always_on') ? new sdk.AlwaysOnSampler() : name.endsWith('always_off') ? new sdk.AlwaysOffSampler() : new sdk.TraceIdRatioBasedSampler(ratio);
  const provider = new sdk.NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName })),
    sampler: name.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root }) : root,
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  setTracing(true);
  return {
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      setTracing(false);
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
