// A PostgreSQL server through pg: a pool whose connections prepare repeated statements (on a Citus
// coordinator, with a pool per worker for read requests: worker-routing.ts), the
// request transactions, storable-parameter checks and statement spans around Kysely, and the
// LISTEN change feed.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { postgresChangeFeed } from './change-feed.ts';
import type { Database } from './database.ts';
import { type DbHandle, INT8_OID, logTo, parseInt8, type QueryListener } from './handle.ts';
import { withStorableParameters } from './input-errors.ts';
import { prepareRepeatedStatements } from './prepared-statements.ts';
import { withRequestTransactions } from './request-transaction.ts';
import { withStatementSpans } from './statement-spans.ts';
import { citusLocator, type NodeAddress, type OnUnreachable, RoutingPool } from './worker-routing.ts';

const WORKER_CONNECT_TIMEOUT_MS = 2000;

/** A pool of connections to one node; `application_name` tells the service's connections from Citus's own in pg_stat_activity. */
function openPool(url: string, maxConnections: number, statementTimeoutMs: number, connectTimeoutMs = 0): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    application_name: 'teamgraph',
    connectionTimeoutMillis: connectTimeoutMs,
    // The list filter's recursive statements are estimated above the JIT threshold; compiling
    // them costs more than running them (the benchmark saw 62 of 83 ms spent compiling).
    options: `-c jit=off${statementTimeoutMs > 0 ? ` -c statement_timeout=${Math.round(statementTimeoutMs)}` : ''}`,
    // pg types getTypeParser as overloads per format; this one answers every format as pg's own does, bigint aside.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  // An idle connection the server closes (restart, drop with force) must not crash the process;
  // the pool discards it and the next query opens a new one.
  pool.on('error', () => {});
  pool.on('connect', prepareRepeatedStatements);
  return pool;
}

/**
 * `statementTimeoutMs` bounds every statement of the pool's connections (the server's: issue 15,
 * no single request may hold a connection for long); 0 or undefined: no bound (operator tools).
 * It is the sessions' default rather than a SET LOCAL per request because most requests are
 * queries outside any transaction; what may rightly run longer lifts it for its own transaction.
 * `readsOnWorkers`: on a Citus coordinator, a read request's statements go to the worker that
 * holds its organisation (worker-routing.ts), through a pool of the same size per worker.
 */
export function openPostgres(
  databaseUrl: string,
  maxConnections = 10,
  onQuery?: QueryListener,
  statementTimeoutMs = 0,
  { readsOnWorkers = true, onWorkerUnreachable }: { readsOnWorkers?: boolean; onWorkerUnreachable?: OnUnreachable } = {},
): DbHandle {
  const pool = openPool(databaseUrl, maxConnections, statementTimeoutMs);
  const workerPool = ({ host, port }: NodeAddress) => {
    const url = new URL(databaseUrl);
    url.hostname = host;
    url.port = String(port);
    // A worker that does not answer soon sends the request back to the coordinator (worker-routing.ts).
    return openPool(url.toString(), maxConnections, statementTimeoutMs, WORKER_CONNECT_TIMEOUT_MS);
  };
  const routing = readsOnWorkers ? new RoutingPool(pool, workerPool, citusLocator(pool), onWorkerUnreachable) : null;
  const scoped = withRequestTransactions(withStorableParameters(withStatementSpans(new PostgresDialect({ pool: routing ?? pool }))));
  const db = new Kysely<Database>({ dialect: scoped.dialect, ...logTo(onQuery) });
  scoped.register(db);
  const feed = postgresChangeFeed(databaseUrl);
  return {
    db,
    backend: 'postgres',
    changes: feed,
    stats: () => {
      // The coordinator's pool and, on Citus, the workers' opened so far, together.
      const pools = [pool, ...(routing?.workerPools().values() ?? [])];
      const sum = (count: (p: pg.Pool) => number) => pools.reduce((n, p) => n + count(p), 0);
      return {
        pool: { max: maxConnections * pools.length, total: sum((p) => p.totalCount), idle: sum((p) => p.idleCount), waiting: sum((p) => p.waitingCount) },
        changeFeedReconnects: feed.reconnects(),
      };
    },
    close: async () => {
      await feed.close();
      await db.destroy();
    },
  };
}
