// The OTEL_* settings of OpenTelemetry traces, as config.ts reads them: where spans are exported,
// the service's resource and the sampler. Loads no SDK: most processes never trace.
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
type SamplerName = (typeof SAMPLERS)[number];

export interface TracingConfig {
  /** Where spans go; null: tracing is off (no endpoint, OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true). */
  exporter: { url: string; protocol: 'http/protobuf' | 'http/json'; headers: Record<string, string>; timeoutMillis: number } | null;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES; service.name comes from serviceName. */
  resourceAttributes: Record<string, string>;
  sampler: { name: SamplerName; ratio: number };
}

/**
 * The standard OTEL_* variables of OTLP over HTTP (opentelemetry.io/docs/specs/otel/configuration/
 * sdk-environment-variables and protocol/exporter), each problem appended to `problems`. Unlike
 * the specification's default endpoint (localhost:4318) no endpoint means no traces: a server
 * must not send its spans anywhere unasked.
 */
export function parseTracingEnv(env: Readonly<Record<string, string | undefined>>, problems: string[]): TracingConfig {
  const value = (name: string) => env[name]?.trim() || undefined;
  const disabled = (value('OTEL_SDK_DISABLED') ?? 'false').toLowerCase();
  if (!['true', 'false'].includes(disabled)) problems.push(`OTEL_SDK_DISABLED must be true or false, got "${env.OTEL_SDK_DISABLED}"`);
  const exporterName = (value('OTEL_TRACES_EXPORTER') ?? 'otlp').toLowerCase();
  if (!['otlp', 'none'].includes(exporterName)) problems.push(`OTEL_TRACES_EXPORTER must be otlp or none, got "${env.OTEL_TRACES_EXPORTER}"`);

  const signalUrl = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseUrl = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  // The signal's own endpoint is used as given; the shared one gets the signal's path appended.
  const url = signalUrl ?? (baseUrl ? `${baseUrl.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (url && !/^https?:$/.test(URL.canParse(url) ? new URL(url).protocol : '')) {
    problems.push(`${signalUrl ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http or https URL, got "${signalUrl ?? baseUrl}"`);
  }
  const protocolName = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolName) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') problems.push(`${protocolName} must be http/protobuf or http/json (grpc is not supported), got "${protocol}"`);
  const headers = {
    ...parseKeyValues('OTEL_EXPORTER_OTLP_HEADERS', env.OTEL_EXPORTER_OTLP_HEADERS, problems),
    ...parseKeyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS', env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, problems),
  };
  const timeoutName = value('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const timeoutMillis = Number(value(timeoutName) ?? 10_000);
  if (!Number.isInteger(timeoutMillis) || timeoutMillis <= 0) problems.push(`${timeoutName} must be a positive number of milliseconds, got "${env[timeoutName]}"`);

  const samplerName = (value('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase() as SamplerName;
  if (!SAMPLERS.includes(samplerName)) problems.push(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got "${env.OTEL_TRACES_SAMPLER}"`);
  const ratio = Number(value('OTEL_TRACES_SAMPLER_ARG') ?? 1);
  if (samplerName.endsWith('traceidratio') && !(ratio >= 0 && ratio <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got "${env.OTEL_TRACES_SAMPLER_ARG}"`);

  return {
    exporter: disabled === 'true' || exporterName === 'none' || !url ? null : { url, protocol: protocol as 'http/protobuf' | 'http/json', headers, timeoutMillis },
    serviceName: value('OTEL_SERVICE_NAME') ?? 'teamgraph',
    resourceAttributes: parseKeyValues('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES, problems),
    sampler: { name: samplerName, ratio },
  };
}

/** `key1=value1,key2=value2` with percent-encoded values, as the W3C Baggage header writes them. */
function parseKeyValues(name: string, raw: string | undefined, problems: string[]): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (raw ?? '').split(',')) {
    if (!item.trim()) continue;
    const at = item.indexOf('=');
    const key = item.slice(0, at).trim();
    if (at < 1 || !key) {
      // The item may be a credential: name its position, not its text.
      problems.push(`${name} must be a comma-separated list of key=value, and an item is not`);
      continue;
    }
    try {
      pairs[key] = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      problems.push(`${name}: the value of "${key}" is not valid percent-encoding`);
    }
  }
  return pairs;
}
