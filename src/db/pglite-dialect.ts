// A Kysely dialect over one in-process PGlite instance. PGlite is a single connection, so the
// driver hands it out to one holder at a time: a transaction keeps it until commit or rollback.
// PGlite runs no autovacuum, so without help the planner keeps the statistics of an empty
// database and picks plans that scan whole tables as they grow; the driver therefore runs
// ANALYZE itself once the rows written since the last one reach a fifth of all rows written
// (and at least 5,000).
import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

const WRITE = /^\s*(insert|update|delete)\b/i;

/** Decides when the embedded database is due an ANALYZE, like autovacuum's analyze threshold. */
export class AnalyzeSchedule {
  private written = 0;
  private sinceAnalyze = 0;

  // A full ANALYZE costs a few hundred milliseconds at 100,000 objects: not worth it for less.
  constructor(private readonly minimum = 5000) {}

  noteWrites(rows: number): void {
    this.written += rows;
    this.sinceAnalyze += rows;
  }

  due(): boolean {
    return this.sinceAnalyze >= Math.max(this.minimum, this.written / 5);
  }

  analyzed(): void {
    this.sinceAnalyze = 0;
  }
}

class PgliteConnection implements DatabaseConnection {
  constructor(
    private readonly pglite: PGlite,
    private readonly schedule: AnalyzeSchedule,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    // Without parameters the simple protocol runs, which accepts several statements (migrations).
    const result =
      compiled.parameters.length === 0
        ? ((await this.pglite.exec(compiled.sql)).at(-1) ?? { rows: [], affectedRows: 0 })
        : await this.pglite.query<R>(compiled.sql, compiled.parameters as unknown[]);
    const affected = result.affectedRows;
    if (affected && WRITE.test(compiled.sql)) this.schedule.noteWrites(affected);
    return {
      rows: result.rows as R[],
      numAffectedRows: affected === undefined ? undefined : BigInt(affected),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not supported on the embedded database');
  }
}

class PgliteDriver implements Driver {
  private readonly connection: PgliteConnection;
  private readonly schedule = new AnalyzeSchedule();
  private queue: Promise<void> = Promise.resolve();
  private release: (() => void) | null = null;
  private inTransaction = false;
  /** Acquirers queued behind the holder (the metrics' waiting). */
  waiting = 0;

  constructor(private readonly pglite: PGlite) {
    this.connection = new PgliteConnection(pglite, this.schedule);
  }

  async init(): Promise<void> {
    await this.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // PGlite answers without real I/O, so a queue of statements would drain in one turn of the
    // event loop and starve the sockets (responses unsent, requests unread; under 50 clients some
    // waited 10 s): yield once per statement. Yielding only under contention, or only every 2 ms,
    // left 2-5 s tails (bench/RESULTS.md).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    this.waiting++;
    await previous;
    this.waiting--;
    this.release = release;
    return this.connection;
  }

  holding(): boolean {
    return this.release !== null;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`));
    this.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
    this.inTransaction = false;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
    this.inTransaction = false;
  }

  async releaseConnection(): Promise<void> {
    if (this.schedule.due() && !this.inTransaction) {
      this.schedule.analyzed();
      await this.pglite.exec('analyze');
    }
    const release = this.release;
    this.release = null;
    release?.();
  }

  async destroy(): Promise<void> {
    await this.queue;
    if (!this.pglite.closed) await this.pglite.close();
  }
}

export class PgliteDialect implements Dialect {
  private driver: PgliteDriver | null = null;

  constructor(private readonly pglite: PGlite) {}

  /** The one connection as a pool of one: in use or idle, and how many wait for it. */
  connectionState(): { max: number; total: number; idle: number; waiting: number } {
    const held = this.driver?.holding() ?? false;
    return { max: 1, total: 1, idle: held ? 0 : 1, waiting: this.driver?.waiting ?? 0 };
  }

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return (this.driver = new PgliteDriver(this.pglite));
  }
  // any: Kysely's Dialect interface declares this parameter so.
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}
