// The service's log: one JSON line per entry (pino) on stderr, each with the request id and trace id
// of the request it was written for, and with every secret a field could carry redacted.
import pino from 'pino';
import { activeRequest } from '../observability/request-scope.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Whether entries of `level` are written: work done only for them is skipped otherwise. */
  enabled(level: LogLevel): boolean;
}

/**
 * Keys whose values are never written, at any depth up to three: credentials in headers, forms and
 * token responses. Nothing logs headers or bodies today; this holds should anything start to.
 */
const SECRET_KEYS = [
  'authorization', 'cookie', 'set-cookie', 'x-bitbucket-token', 'password', 'token', 'accessToken', 'access_token',
  'refreshToken', 'refresh_token', 'clientSecret', 'client_secret', 'secret', 'apiKey', 'code_verifier', 'device_code',
];
const REDACT = SECRET_KEYS.flatMap((key) => {
  const step = /^[A-Za-z_]+$/.test(key) ? `.${key}` : `["${key}"]`;
  return [step.replace(/^\./, ''), `*${step}`, `*.*${step}`];
});

/** `write` receives each line without its newline (tests collect them); by default they go to stderr. */
export function createLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  const destination = write ? { write: (line: string) => write(line.replace(/\n$/, '')) } : pino.destination({ dest: 2, sync: true });
  const log = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      mixin() {
        const request = activeRequest();
        return request ? { requestId: request.requestId, ...(request.traceId ? { traceId: request.traceId } : {}) } : {};
      },
    },
    destination,
  );
  const entry = (entryLevel: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (!log.isLevelEnabled(entryLevel)) return;
    const serialized = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? pino.stdSerializers.err(v) : v]));
    log[entryLevel](serialized, message);
  };
  return { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error'), enabled: (l) => log.isLevelEnabled(l) };
}
