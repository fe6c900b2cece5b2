// A span per SQL statement, wrapped around the dialect's own driver so that every statement is
// seen: Kysely's queries, raw sql, the request transactions' savepoints and the drivers' own
// begin/commit/rollback. The span carries the statement's text, never its parameters: values are
// customers' data and credentials (a token's hash, a password's), and spans leave the process.
// Nor its string literals (observability/statement-text.ts).
import { SpanKind } from '@opentelemetry/api';
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { failSpan, inSpan, isTracing, tracer } from '../observability/spans.ts';
import { statementText } from '../observability/statement-text.ts';

// OpenTelemetry's database conventions as the tracing back ends widely read them.
const DB_SYSTEM = 'db.system';
const DB_STATEMENT = 'db.statement';
const DB_OPERATION = 'db.operation.name';

/** The statement's first keyword, upper-cased: the span's name (SELECT, INSERT, WITH…). */
function operationOf(sql: string): string {
  return /^\s*([a-z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
}

const attributesOf = (operation: string, sql?: string) => ({ [DB_SYSTEM]: 'postgresql', [DB_OPERATION]: operation, ...(sql === undefined ? {} : { [DB_STATEMENT]: statementText(sql) }) });

function statementSpan<T>(sql: string, run: () => Promise<T>): Promise<T> {
  if (!isTracing()) return run();
  const operation = operationOf(sql);
  return inSpan(operation, { kind: SpanKind.CLIENT, attributes: attributesOf(operation, sql) }, run);
}

/** Begin, commit, rollback: the driver writes their text (with an isolation level, say), so only the operation is named. */
function transactionSpan(operation: string, run: () => Promise<void>): Promise<void> {
  return inSpan(operation, { kind: SpanKind.CLIENT, attributes: attributesOf(operation) }, run);
}

/** The same dialect, its driver's statements traced. */
export function withStatementSpans(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new TracingDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class TracingDriver implements Driver {
  private readonly traced = new WeakMap<DatabaseConnection, DatabaseConnection>();
  private readonly unwrap = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(private readonly inner: Driver) {}

  init() {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapped = this.traced.get(connection);
    if (!wrapped) {
      wrapped = {
        executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => statementSpan(query.sql, () => connection.executeQuery<R>(query)),
        streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => streamSpan(query.sql, connection.streamQuery<R>(query, chunkSize)),
      };
      this.traced.set(connection, wrapped);
      this.unwrap.set(wrapped, connection);
    }
    return wrapped;
  }

  // The drivers send these on their own connection object, past the wrapper.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    return transactionSpan('BEGIN', () => this.inner.beginTransaction(this.unwrapped(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection) {
    return transactionSpan('COMMIT', () => this.inner.commitTransaction(this.unwrapped(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection) {
    return transactionSpan('ROLLBACK', () => this.inner.rollbackTransaction(this.unwrapped(connection)));
  }

  releaseConnection(connection: DatabaseConnection) {
    return this.inner.releaseConnection(this.unwrapped(connection));
  }

  destroy() {
    return this.inner.destroy();
  }

  private unwrapped(connection: DatabaseConnection): DatabaseConnection {
    return this.unwrap.get(connection) ?? connection;
  }
}

/** A streamed statement's span lasts until its last chunk is read (or the reader stops). */
async function* streamSpan<R>(sql: string, rows: AsyncIterableIterator<QueryResult<R>>): AsyncIterableIterator<QueryResult<R>> {
  if (!isTracing()) return yield* rows;
  const operation = operationOf(sql);
  const span = tracer().startSpan(operation, { kind: SpanKind.CLIENT, attributes: attributesOf(operation, sql) });
  try {
    yield* rows;
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
