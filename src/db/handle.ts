// What opening a database gives: the same Kysely<Database> on both back ends, with int8 parsed to
// a JS number, the change feed, and a way to close it. Opened by pglite.ts or postgres.ts; which
// one, client.ts decides from the configuration.
import type { Kysely } from 'kysely';
import { activeRequest } from '../observability/request-scope.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { Database } from './database.ts';

export const INT8_OID = 20;
export const parseInt8 = (value: string) => Number(value);

export interface DbHandle {
  db: Kysely<Database>;
  backend: 'pglite' | 'postgres';
  close(): Promise<void>;
  /** Embedded only: the data folder as a tarball, to start other databases from. */
  dump?(): Promise<Blob>;
  /** Notifications of the database's changes; closed with the handle. */
  changes: ChangeFeed;
  /** What the metrics read at each scrape. */
  stats(): DatabaseStats;
}

export interface DatabaseStats {
  /** The embedded database is one connection: `waiting` counts the statements queued for it. On Citus: the coordinator's pool and the workers' together. */
  pool: { max: number; total: number; idle: number; waiting: number };
  /** Times the change feed came back after being lost. */
  changeFeedReconnects: number;
}


/** Called with every SQL statement run, how long it took and its parameters (tests count and explain statements with it). */
export type QueryListener = (sql: string, durationMs: number, parameters: readonly unknown[]) => void;

/**
 * Kysely's options that report every statement to `listener`, and to the request it runs for (the
 * request's statement count and its debug log; Kysely calls this in the caller's async context).
 */
export const logTo = (listener?: QueryListener) => ({
  log: (event: { query: { sql: string; parameters: readonly unknown[] }; queryDurationMillis: number }) => {
    listener?.(event.query.sql, event.queryDurationMillis, event.query.parameters);
    activeRequest()?.statement(event.query.sql, event.queryDurationMillis);
  },
});
