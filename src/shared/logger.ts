// A small structured logger writing one JSON line per entry to stderr.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const log = (entryLevel: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[entryLevel] < ORDER[level]) return;
    const serialized = Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? { message: v.message, stack: v.stack } : v]),
    );
    write(JSON.stringify({ time: new Date().toISOString(), level: entryLevel, message, ...serialized }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
