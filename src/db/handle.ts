// What opening a database gives: the same Kysely<Database> on both back ends, with int8 parsed to
// a JS number, the change feed, and a way to close it. Opened by pglite.ts or postgres.ts; which
// one, client.ts decides from the configuration.
import type { Kysely } from 'kysely';
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
}


/** Called with every SQL statement run, how long it took and its parameters (tests count and explain statements with it). */
export type QueryListener = (sql: string, durationMs: number, parameters: readonly unknown[]) => void;

/** Kysely's options that report every statement to `listener`. */
export const logTo = (listener?: QueryListener) =>
  listener
    ? { log: (event: { query: { sql: string; parameters: readonly unknown[] }; queryDurationMillis: number }) => listener(event.query.sql, event.queryDurationMillis, event.query.parameters) }
    : {};
