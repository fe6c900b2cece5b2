// Opens the database: PGlite in a data folder (embedded default) or a PostgreSQL server via pg.
// Both return the same Kysely<Database>, with int8 parsed to a JS number on both back ends.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';
import { PgliteDialect } from './pglite-dialect.ts';
import { withStorableParameters } from './input-errors.ts';
import { withRequestTransactions } from './request-transaction.ts';

const INT8_OID = 20;
const parseInt8 = (value: string) => Number(value);

export interface DbHandle {
  db: Kysely<Database>;
  backend: 'pglite' | 'postgres';
  close(): Promise<void>;
  /** Embedded only: the data folder as a tarball, to start other databases from. */
  dump?(): Promise<Blob>;
  /** Notifications of the database's changes; closed with the handle. */
  changes: ChangeFeed;
}

/**
 * LISTEN for one channel. `onState(true)` once listening; `onState(false)` while the feed is
 * down (a lost connection), when anything may have changed unseen, until it is up again.
 */
export interface ChangeFeed {
  listen(channel: string, onMessage: (payload: string) => void, onState: (listening: boolean) => void): Promise<void>;
  /**
   * Resolves once every notification of a transaction committed before the call has reached the
   * listeners; rejects when the feed is down.
   */
  sync(): Promise<void>;
}

/** Called with every SQL statement run and how long it took (tests count statements with it). */
export type QueryListener = (sql: string, durationMs: number) => void;

const logTo = (listener?: QueryListener) =>
  listener ? { log: (event: { query: { sql: string }; queryDurationMillis: number }) => listener(event.query.sql, event.queryDurationMillis) } : {};

/**
 * `statementTimeoutMs` bounds every statement of the pool's connections (the server's: issue 15,
 * no single request may hold a connection for long); 0 or undefined: no bound (operator tools).
 * It is the sessions' default rather than a SET LOCAL per request because most requests are
 * queries outside any transaction; what may rightly run longer lifts it for its own transaction.
 */
export function openPostgres(databaseUrl: string, maxConnections = 10, onQuery?: QueryListener, statementTimeoutMs = 0): DbHandle {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: maxConnections,
    // The list filter's recursive statements are estimated above the JIT threshold; compiling
    // them costs more than running them (the benchmark saw 62 of 83 ms spent compiling).
    options: `-c jit=off${statementTimeoutMs > 0 ? ` -c statement_timeout=${Math.round(statementTimeoutMs)}` : ''}`,
    types: { getTypeParser: (oid: number, format?: any) => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) } as any,
  });
  // An idle connection the server closes (restart, drop with force) must not crash the process;
  // the pool discards it and the next query opens a new one.
  pool.on('error', () => {});
  pool.on('connect', prepareRepeatedStatements);
  const scoped = withRequestTransactions(withStorableParameters(new PostgresDialect({ pool })));
  const db = new Kysely<Database>({ dialect: scoped.dialect, ...logTo(onQuery) });
  scoped.register(db);
  const feed = postgresChangeFeed(databaseUrl);
  return {
    db,
    backend: 'postgres',
    changes: feed,
    close: async () => {
      await feed.close();
      await db.destroy();
    },
  };
}

/** One dedicated connection LISTENs; when it is lost, the listeners hear so and it reconnects. */
function postgresChangeFeed(databaseUrl: string): ChangeFeed & { close(): Promise<void> } {
  type Listener = { onMessage: (payload: string) => void; onState: (listening: boolean) => void };
  const channels = new Map<string, Listener[]>();
  const everyone = () => [...channels.values()].flat();
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const down = () => {
    for (const listener of everyone()) listener.onState(false);
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1000);
    retry.unref();
  };
  const connect = async () => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on('error', () => {});
    next.on('end', () => {
      if (client === next) client = null;
      down();
    });
    next.on('notification', (message) => {
      for (const listener of channels.get(message.channel) ?? []) listener.onMessage(message.payload ?? '');
    });
    try {
      await next.connect();
      for (const name of channels.keys()) await next.query(`listen ${pg.escapeIdentifier(name)}`);
      if (closed) return void (await next.end());
      client = next;
      for (const listener of everyone()) listener.onState(true);
    } catch {
      await next.end().catch(() => {});
      down();
    }
  };
  // PostgreSQL sends a listening session the notifications of every transaction committed before
  // its own statement finishes, ahead of that statement's result: a round trip on the listening
  // connection is a barrier. Callers that arrive while one is in flight wait for the next, and
  // share it.
  let inFlight: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const roundTrip = async () => {
    if (!client) throw new Error('The change feed is down.');
    await client.query('select 1');
  };
  const sync = (): Promise<void> => {
    if (!inFlight) {
      inFlight = roundTrip().finally(() => {
        inFlight = null;
      });
      return inFlight;
    }
    queued ??= inFlight
      .catch(() => {})
      .then(() => {
        queued = null;
        return sync();
      });
    return queued;
  };
  return {
    sync,
    async listen(channel, onMessage, onState) {
      const known = channels.has(channel);
      channels.set(channel, [...(channels.get(channel) ?? []), { onMessage, onState }]);
      onState(false);
      if (!client) return connect();
      if (!known) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      onState(true);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end();
    },
  };
}

/** Named (prepared) statements per server process; past this many, statements run unnamed. */
const MAX_PREPARED = 1000;
/** Statements with more parameters than this are mostly batches of varying size: not worth a name. */
const MAX_PREPARED_PARAMETERS = 64;
const statementNames = new Map<string, string>();

/**
 * Sends Kysely's statements as named prepared statements, so that a connection parses and plans
 * each one once instead of on every execution. Planning dominated the hot statements: the session
 * lookup planned in 0.6 ms and ran in 0.1 ms. Only the extended-protocol calls Kysely makes
 * (text plus a non-empty parameter array) are named; anything else passes through.
 */
function prepareRepeatedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as any).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // Without parameters pg uses the simple protocol, which also runs several statements (migrations).
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || values.length > MAX_PREPARED_PARAMETERS) return query(text, values, callback);
    let name = statementNames.get(text);
    if (!name && statementNames.size < MAX_PREPARED) {
      name = `tg_${statementNames.size + 1}`;
      statementNames.set(text, name);
    }
    return name ? query({ name, text, values }, callback) : query(text, values, callback);
  };
}

/** An embedded database; `dataDir` undefined keeps it in memory, `template` starts from a dump. */
export async function openPglite(options: { dataDir?: string; template?: Blob; onQuery?: QueryListener } = {}): Promise<DbHandle> {
  const releaseLock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  try {
    const pglite = new PGlite({
      dataDir: options.dataDir,
      loadDataDir: options.template,
      parsers: { [INT8_OID]: parseInt8 },
      // The text filter's index (migrations 017, 018) is a trigram GIN index.
      extensions: { pg_trgm },
    });
    await pglite.waitReady;
    const scoped = withRequestTransactions(withStorableParameters(new PgliteDialect(pglite)));
    const db = new Kysely<Database>({ dialect: scoped.dialect, ...logTo(options.onQuery) });
    scoped.register(db);
    return {
      db,
      backend: 'pglite',
      // One process owns the embedded database, and PGlite hands a transaction's notifications
      // to listeners as its commit returns: the feed is never down.
      changes: {
        async listen(channel, onMessage, onState) {
          await pglite.listen(channel, onMessage);
          onState(true);
        },
        sync: async () => {},
      },
      close: async () => {
        await db.destroy();
        releaseLock();
      },
      dump: () => pglite.dumpDataDir('none'),
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * A lock file beside the folder names the holder; a lock left by a dead process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const lockFile = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (error: any) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockFile, 'utf8'));
      if (holder && isAlive(holder)) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${holder}. ` +
            'Stop that process, or set TEAMGRAPH_DATA_DIR to another folder, or DATABASE_URL to a PostgreSQL server.',
        );
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock ${lockFile}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: any) {
    return error.code === 'EPERM';
  }
}

/** The embedded database runs one statement at a time in this process and has no statement timeout. */
export function openDatabase(config: { databaseUrl?: string; dataDir: string }, options: { statementTimeoutMs?: number } = {}): Promise<DbHandle> {
  return config.databaseUrl ? Promise.resolve(openPostgres(config.databaseUrl, 10, undefined, options.statementTimeoutMs)) : openPglite({ dataDir: config.dataDir });
}
