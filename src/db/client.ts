// Opens the database the configuration names: a PostgreSQL server (DATABASE_URL, postgres.ts)
// or the embedded one in a data folder (pglite.ts).
import type { DbHandle } from './handle.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** The embedded database runs one statement at a time in this process and has no statement timeout. */
export function openDatabase(config: { databaseUrl?: string; dataDir: string }, options: { statementTimeoutMs?: number } = {}): Promise<DbHandle> {
  return config.databaseUrl ? Promise.resolve(openPostgres(config.databaseUrl, 10, undefined, options.statementTimeoutMs)) : openPglite({ dataDir: config.dataDir });
}
