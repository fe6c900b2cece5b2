// One transaction around a whole piece of work without threading a handle through it: while
// `inRequestTransaction(db, work)` runs, every statement that `work` sends through `db` (from any
// service or repository, however deep) runs on one connection inside one transaction, and a
// transaction a service opens inside becomes a savepoint. The audit log needs this (PRODUCT §9):
// a mutation and its audit event commit together or not at all.
//
// It is a wrapper around a dialect's driver, installed by openPglite and openPostgres. Within
// the scope statements are serialised on the one connection; services must not run two of
// their own transactions concurrently inside one scope (mutation fields run one at a time).
import { AsyncLocalStorage } from 'node:async_hooks';
import { CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type Kysely, type TransactionSettings } from 'kysely';

interface Scope {
  driver: ScopedDriver;
  connection: DatabaseConnection;
  savepoints: number;
  /** The savepoints open on the connection, innermost last. */
  open: string[];
}

const scopes = new AsyncLocalStorage<Scope>();
const drivers = new WeakMap<object, ScopedDriver>();

class ScopedDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  private scope(connection?: DatabaseConnection): Scope | undefined {
    const scope = scopes.getStore();
    return scope && scope.driver === this && (!connection || scope.connection === connection) ? scope : undefined;
  }

  init() {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.scope()?.connection ?? this.inner.acquireConnection();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const scope = this.scope(connection);
    if (!scope) return this.inner.beginTransaction(connection, settings);
    const name = `request_savepoint_${++scope.savepoints}`;
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${name}`));
    scope.open.push(name);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const scope = this.scope(connection);
    if (!scope) return this.inner.commitTransaction(connection);
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${scope.open.pop()}`));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const scope = this.scope(connection);
    if (!scope) return this.inner.rollbackTransaction(connection);
    const name = scope.open.pop();
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`));
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${name}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // The scope's connection is released once, when the scope ends.
    if (!this.scope(connection)) await this.inner.releaseConnection(connection);
  }

  destroy() {
    return this.inner.destroy();
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.scope()) return work();
    const connection = await this.inner.acquireConnection();
    try {
      await this.inner.beginTransaction(connection, {});
      let result: T;
      try {
        result = await scopes.run({ driver: this, connection, savepoints: 0, open: [] }, work);
      } catch (error) {
        await this.inner.rollbackTransaction(connection);
        throw error;
      }
      await this.inner.commitTransaction(connection);
      return result;
    } finally {
      await this.inner.releaseConnection(connection);
    }
  }
}

/** Wraps a dialect so that `inRequestTransaction` works on the Kysely built with it. */
export function withRequestTransactions(dialect: Dialect): { dialect: Dialect; register<DB>(db: Kysely<DB>): void } {
  let driver: ScopedDriver | undefined;
  const wrapped: Dialect = {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => (driver = new ScopedDriver(dialect.createDriver())),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
  return {
    dialect: wrapped,
    register(db) {
      if (!driver) throw new Error('The dialect has not created its driver yet');
      drivers.set(db, driver);
    },
  };
}

/**
 * Runs `work` with every statement sent through `db` in one transaction: committed when `work`
 * resolves, rolled back when it throws. Inside an open scope, `work` simply joins it.
 */
export function inRequestTransaction<DB, T>(db: Kysely<DB>, work: () => Promise<T>): Promise<T> {
  const driver = drivers.get(db);
  if (!driver) throw new Error('This Kysely instance was not opened with request transactions (use openPglite or openPostgres)');
  return driver.run(work);
}

/** Whether the caller runs inside an open request transaction (of any database). */
export function inRequestScope(): boolean {
  return scopes.getStore() !== undefined;
}

/**
 * Runs `work` outside any request transaction, on connections of its own: for work that serves
 * several requests at once, which must not join (nor outlive) the transaction of the one that
 * happened to start it.
 */
export function outsideRequestTransaction<T>(work: () => Promise<T>): Promise<T> {
  return scopes.exit(work);
}
