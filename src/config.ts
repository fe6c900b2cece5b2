// The only reader of process.env: every variable is validated at once so a bad setting fails fast.
import path from 'node:path';
import { parseTrustedProxies, type TrustedProxies } from './http/client-ip.ts';
import { isLoopbackHost } from './shared/ip-address.ts';
import { DEFAULT_RETENTION_DAYS } from './modules/audit/audit.service.ts';
import { DEFAULT_BUDGETS, type RateLimitBudgets } from './modules/rate-limit/rate-limit.service.ts';
import { DEFAULT_LIFETIMES, type SessionLifetimes } from './modules/session/session.service.ts';
import { parseTracingEnv, type TracingConfig } from './observability/tracing-config.ts';

export interface Config {
  port: number;
  /** TEAMGRAPH_METRICS_PORT: where Prometheus metrics are served, apart from `port`; undefined: not served. */
  metricsPort: number | undefined;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  demo: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  lifetimes: SessionLifetimes;
  /**
   * The service's public origin: the OAuth issuer and the base of every address it hands out.
   * undefined only when the listening address is loopback; the server then uses that address
   * (see publicOrigin). Never taken from a request's Host header (issue 15).
   */
  publicUrl: string | undefined;
  trustedProxies: TrustedProxies;
  auditRetentionDays: number;
  /** 3LO providers may be at loopback, private and link-local addresses (issue 15: off by default). */
  allowPrivateProviderUrls: boolean;
  /** The longest a statement of the server's may run on PostgreSQL (issue 15); 0: no bound. */
  statementTimeoutMs: number;
  /** TEAMGRAPH_CITUS_READS: on a Citus coordinator, read requests go to their organisation's worker (`workers`, the default) or stay on the coordinator (db/worker-routing.ts). */
  citusReadsOnWorkers: boolean;
  /** TEAMGRAPH_SECRET_KEY (32 bytes, base64 or hex); undefined: the key file in the data folder. */
  secretKey: Buffer | undefined;
  /** How long a shutdown waits for the requests in flight (issue 19), ms. */
  shutdownGraceMs: number;
  /** OpenTelemetry traces from the standard OTEL_* variables; off without an OTLP endpoint. */
  tracing: TracingConfig;
  /** Audit streams (issue 21): plain http:// receivers allowed (TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP=1), and the sender's timing. */
  auditStreams: { allowHttp: boolean; flushSeconds: number; leaseSeconds: number };
  /** Points per hour per credential of each kind (issue 21): the most an organisation may set. */
  rateLimitBudgets: RateLimitBudgets;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);
  const metricsRaw = env.TEAMGRAPH_METRICS_PORT?.trim() || undefined;
  const metricsPort = metricsRaw === undefined ? undefined : Number(metricsRaw);
  if (metricsPort !== undefined && (!/^\d+$/.test(metricsRaw!) || metricsPort < 1 || metricsPort > 65535)) problems.push(`TEAMGRAPH_METRICS_PORT must be a port number from 1 to 65535, got "${env.TEAMGRAPH_METRICS_PORT}"`);
  else if (metricsPort !== undefined && metricsPort === port) problems.push(`TEAMGRAPH_METRICS_PORT must differ from PORT (${port}): the metrics are never served on the public port`);
  const demo = (env.TEAMGRAPH_DEMO ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(demo)) problems.push(`TEAMGRAPH_DEMO must be "on" or "off", got "${env.TEAMGRAPH_DEMO}"`);
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) problems.push(`LOG_LEVEL must be debug, info, warn or error, got "${env.LOG_LEVEL}"`);
  const seconds = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value <= 0) problems.push(`${name} must be a positive number of seconds, got "${env[name]}"`);
    return value;
  };
  const lifetimes: SessionLifetimes = {
    accessTokenSeconds: seconds('TEAMGRAPH_ACCESS_TOKEN_TTL', DEFAULT_LIFETIMES.accessTokenSeconds),
    idleSeconds: seconds('TEAMGRAPH_SESSION_IDLE_TTL', DEFAULT_LIFETIMES.idleSeconds),
    absoluteSeconds: seconds('TEAMGRAPH_SESSION_MAX_TTL', DEFAULT_LIFETIMES.absoluteSeconds),
  };
  const publicUrl = parseOrigin(env.TEAMGRAPH_PUBLIC_URL);
  if (publicUrl === null) problems.push(`TEAMGRAPH_PUBLIC_URL must be an origin such as https://teamgraph.example.com, got "${env.TEAMGRAPH_PUBLIC_URL}"`);
  const host = env.HOST ?? '127.0.0.1';
  // Issue 15: an issuer taken from the Host header lets anyone name theirs. On loopback only this
  // machine can reach the server, so its listening address is the origin; elsewhere it is said.
  if (!publicUrl && !isLoopbackHost(host)) {
    problems.push(`TEAMGRAPH_PUBLIC_URL must be set when HOST is not a loopback address (HOST=${host}): it is the address clients use, e.g. https://teamgraph.example.com`);
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  let trustedProxies = parseTrustedProxies(undefined);
  try {
    trustedProxies = parseTrustedProxies(env.TEAMGRAPH_TRUSTED_PROXIES);
  } catch (error) {
    problems.push(`TEAMGRAPH_TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  const auditRetentionDays = Number(env.TEAMGRAPH_AUDIT_RETENTION_DAYS ?? DEFAULT_RETENTION_DAYS);
  if (!Number.isInteger(auditRetentionDays) || auditRetentionDays <= 0) problems.push(`TEAMGRAPH_AUDIT_RETENTION_DAYS must be a positive number of days, got "${env.TEAMGRAPH_AUDIT_RETENTION_DAYS}"`);
  const allowPrivate = env.TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS ?? '0';
  if (!['0', '1'].includes(allowPrivate)) problems.push(`TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS must be 0 or 1, got "${allowPrivate}"`);
  const statementTimeout = Number(env.TEAMGRAPH_STATEMENT_TIMEOUT ?? 5);
  if (!Number.isFinite(statementTimeout) || statementTimeout < 0) problems.push(`TEAMGRAPH_STATEMENT_TIMEOUT must be a number of seconds (0: no bound), got "${env.TEAMGRAPH_STATEMENT_TIMEOUT}"`);
  const shutdownGrace = Number(env.TEAMGRAPH_SHUTDOWN_GRACE_SECONDS ?? 10);
  if (!Number.isFinite(shutdownGrace) || shutdownGrace < 0) problems.push(`TEAMGRAPH_SHUTDOWN_GRACE_SECONDS must be a number of seconds, got "${env.TEAMGRAPH_SHUTDOWN_GRACE_SECONDS}"`);
  const secretKey = parseSecretKey(env.TEAMGRAPH_SECRET_KEY);
  if (secretKey === null) problems.push('TEAMGRAPH_SECRET_KEY must be 32 bytes in base64 or hex (e.g. `openssl rand -base64 32`)');
  const tracing = parseTracingEnv(env, problems);
  const citusReads = env.TEAMGRAPH_CITUS_READS?.trim() || 'workers';
  if (!['workers', 'coordinator'].includes(citusReads)) problems.push(`TEAMGRAPH_CITUS_READS must be "workers" or "coordinator", got "${env.TEAMGRAPH_CITUS_READS}"`);
  const streamHttp = env.TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP ?? '0';
  if (!['0', '1'].includes(streamHttp)) problems.push(`TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP must be 0 or 1, got "${streamHttp}"`);
  const auditStreams = {
    allowHttp: streamHttp === '1',
    flushSeconds: seconds('TEAMGRAPH_AUDIT_STREAM_FLUSH_SECONDS', 5),
    leaseSeconds: seconds('TEAMGRAPH_AUDIT_STREAM_LEASE_SECONDS', 30),
  };
  const points = (name: string, fallback: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < 1 || !Number.isSafeInteger(value)) problems.push(`${name} must be a whole number of points per hour of at least 1, got "${env[name]}"`);
    return value;
  };
  const rateLimitBudgets: RateLimitBudgets = {
    session: points('TEAMGRAPH_RATE_LIMIT_SESSION', DEFAULT_BUDGETS.session),
    adminApiKey: points('TEAMGRAPH_RATE_LIMIT_ADMIN_API_KEY', DEFAULT_BUDGETS.adminApiKey),
    bitbucketToken: points('TEAMGRAPH_RATE_LIMIT_BITBUCKET_TOKEN', DEFAULT_BUDGETS.bitbucketToken),
    connection: points('TEAMGRAPH_RATE_LIMIT_CONNECTION', DEFAULT_BUDGETS.connection),
  };
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    port,
    metricsPort,
    host,
    databaseUrl,
    dataDir: path.resolve(env.TEAMGRAPH_DATA_DIR ?? '.data'),
    demo: demo === 'on',
    logLevel,
    lifetimes,
    publicUrl: publicUrl ?? undefined,
    trustedProxies,
    auditRetentionDays,
    allowPrivateProviderUrls: allowPrivate === '1',
    statementTimeoutMs: statementTimeout * 1000,
    citusReadsOnWorkers: citusReads === 'workers',
    secretKey: secretKey ?? undefined,
    shutdownGraceMs: shutdownGrace * 1000,
    tracing,
    auditStreams,
    rateLimitBudgets,
  };
}

/** An http(s) origin without path, query or credentials; undefined when unset, null when malformed. */
function parseOrigin(raw: string | undefined): string | null | undefined {
  const value = raw?.trim().replace(/\/+$/, '');
  if (!value) return undefined;
  try {
    const url = new URL(value);
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    return /^https?:$/.test(url.protocol) && bare ? url.origin : null;
  } catch {
    return null;
  }
}

/** undefined when unset, null when malformed. */
function parseSecretKey(raw: string | undefined): Buffer | null | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  return key.length === 32 ? key : null;
}

/** The public origin of a server listening on `host`:`port` (TEAMGRAPH_PUBLIC_URL when set). */
export function publicOrigin(config: Pick<Config, 'publicUrl' | 'host'>, port: number): string {
  return config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
}
