// The only reader of process.env: every variable is validated at once so a bad setting fails fast.
import path from 'node:path';
import { parseTrustedProxies, type TrustedProxies } from './http/client-ip.ts';
import { DEFAULT_RETENTION_DAYS } from './modules/audit/audit.service.ts';
import { DEFAULT_LIFETIMES, type SessionLifetimes } from './modules/session/session.service.ts';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  demo: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  lifetimes: SessionLifetimes;
  /** The OAuth issuer; undefined: the origin each request came to. */
  publicUrl: string | undefined;
  trustedProxies: TrustedProxies;
  auditRetentionDays: number;
  /** TEAMGRAPH_SECRET_KEY (32 bytes, base64 or hex); undefined: the key file in the data folder. */
  secretKey: Buffer | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);
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
  const publicUrl = env.TEAMGRAPH_PUBLIC_URL?.trim().replace(/\/+$/, '') || undefined;
  if (publicUrl && !/^https?:\/\/[^/]+$/.test(publicUrl)) problems.push(`TEAMGRAPH_PUBLIC_URL must be an origin such as https://teamgraph.example.com, got "${env.TEAMGRAPH_PUBLIC_URL}"`);
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
  const secretKey = parseSecretKey(env.TEAMGRAPH_SECRET_KEY);
  if (secretKey === null) problems.push('TEAMGRAPH_SECRET_KEY must be 32 bytes in base64 or hex (e.g. `openssl rand -base64 32`)');
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(env.TEAMGRAPH_DATA_DIR ?? '.data'),
    demo: demo === 'on',
    logLevel,
    lifetimes,
    publicUrl,
    trustedProxies,
    auditRetentionDays,
    secretKey: secretKey ?? undefined,
  };
}

/** undefined when unset, null when malformed. */
function parseSecretKey(raw: string | undefined): Buffer | null | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  return key.length === 32 ? key : null;
}
