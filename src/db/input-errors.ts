// Values the database cannot take are the client's mistake, not a fault (issue 15, PRODUCT §10):
// text holding U+0000 is refused before any statement is sent (PostgreSQL text cannot hold it,
// whichever path the value came by: GraphQL, a form, a token), and the data exceptions PostgreSQL
// raises for a value out of its range, and the statement timeout, are mapped to BAD_USER_INPUT.
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';
import { BadUserInputError } from '../shared/errors.ts';

const NUL_REFUSED = 'Text sent to teamgraph may not contain the NUL character (U+0000).';

/** Wraps a dialect so that no statement is sent with a text parameter holding U+0000. */
export function withStorableParameters(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new CheckingDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class CheckingDriver implements Driver {
  private readonly checked = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(private readonly inner: Driver) {}

  init() {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapped = this.checked.get(connection);
    if (!wrapped) {
      wrapped = {
        executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
          refuseNul(query.parameters);
          return connection.executeQuery<R>(query);
        },
        streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => {
          refuseNul(query.parameters);
          return connection.streamQuery<R>(query, chunkSize);
        },
      };
      this.checked.set(connection, wrapped);
      unwrap.set(wrapped, connection);
    }
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: Parameters<Driver['beginTransaction']>[1]) {
    return this.inner.beginTransaction(unwrap.get(connection) ?? connection, settings);
  }

  commitTransaction(connection: DatabaseConnection) {
    return this.inner.commitTransaction(unwrap.get(connection) ?? connection);
  }

  rollbackTransaction(connection: DatabaseConnection) {
    return this.inner.rollbackTransaction(unwrap.get(connection) ?? connection);
  }

  releaseConnection(connection: DatabaseConnection) {
    return this.inner.releaseConnection(unwrap.get(connection) ?? connection);
  }

  destroy() {
    return this.inner.destroy();
  }
}

const unwrap = new WeakMap<DatabaseConnection, DatabaseConnection>();

function refuseNul(parameters: readonly unknown[]): void {
  for (const parameter of parameters) {
    if (typeof parameter === 'string') {
      if (parameter.includes('\u0000')) throw new BadUserInputError('INVALID_CHARACTER', NUL_REFUSED);
    } else if (Array.isArray(parameter)) {
      for (const item of parameter) if (typeof item === 'string' && item.includes('\u0000')) throw new BadUserInputError('INVALID_CHARACTER', NUL_REFUSED);
    }
  }
}

/** SQLSTATEs of values PostgreSQL refuses as data (class 22), and what the client is told. */
const DATA_EXCEPTIONS: Record<string, { subCode: string; message: string }> = {
  '22021': { subCode: 'INVALID_CHARACTER', message: 'A text value holds a character the database cannot store.' },
  '22P05': { subCode: 'INVALID_CHARACTER', message: 'A text value holds a character the database cannot store.' },
  '22008': { subCode: 'VALUE_OUT_OF_RANGE', message: 'A date or time in the request is outside the range the database can store.' },
  '22003': { subCode: 'VALUE_OUT_OF_RANGE', message: 'A number in the request is outside the range the database can store.' },
  '22007': { subCode: 'VALUE_OUT_OF_RANGE', message: 'A date or time in the request is not one the database can read.' },
};

/**
 * The client's mistake behind a database error, as it is told to the client; null for a real
 * fault. The statement timeout bounds every statement a request sends (TEAMGRAPH_STATEMENT_TIMEOUT).
 */
export function databaseInputError(error: unknown): BadUserInputError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === '57014' && /statement timeout/.test(String((error as Error).message))) {
    return new BadUserInputError('QUERY_TIMEOUT', 'The request took longer than the server allows a statement to run and was stopped; narrow it (a filter, a smaller page) or try again later.');
  }
  const known = DATA_EXCEPTIONS[code];
  return known ? new BadUserInputError(known.subCode, known.message) : null;
}
