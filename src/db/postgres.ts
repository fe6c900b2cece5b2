// A PostgreSQL server through pg: a pool whose connections prepare repeated statements, the
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
    // pg types getTypeParser as overloads per format; this one answers every format as pg's own does, bigint aside.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  // An idle connection the server closes (restart, drop with force) must not crash the process;
  // the pool discards it and the next query opens a new one.
  pool.on('error', () => {});
  pool.on('connect', prepareRepeatedStatements);
  const scoped = withRequestTransactions(withStorableParameters(withStatementSpans(new PostgresDialect({ pool }))));
  const db = new Kysely<Database>({ dialect: scoped.dialect, ...logTo(onQuery) });
  scoped.register(db);
  const feed = postgresChangeFeed(databaseUrl);
  return {
    db,
    backend: 'postgres',
    changes: feed,
    stats: () => ({
      pool: { max: maxConnections, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
      changeFeedReconnects: feed.reconnects(),
    }),
    close: async () => {
      await feed.close();
      await db.destroy();
    },
  };
}
