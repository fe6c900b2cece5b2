// Applies the registered migrations and says where a database stands against them; used by
// `npm start`, `npm run migrate`, the readiness check and the tests.
import { type Kysely, Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';

/** What a database has applied against what this code knows. */
export interface MigrationStatus {
  /** Known here, not applied yet. */
  pending: string[];
  /** Applied, not known here: a newer version of teamgraph migrated this database. */
  unknown: string[];
}

// any: migrations are written against no fixed schema (STYLE: migrations take Kysely<any>).
export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus> {
  const applied = new Set<string>();
  const table = await sql<{ exists: boolean }>`select to_regclass('kysely_migration') is not null as exists`.execute(db);
  if (table.rows[0].exists) for (const row of (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows) applied.add(row.name);
  const known = Object.keys(migrations);
  return { pending: known.filter((name) => !applied.has(name)), unknown: [...applied].filter((name) => !Object.hasOwn(migrations, name)).sort() };
}

/** Issue 19: a database a newer version migrated is refused in a sentence, before anything runs on it. */
export class NewerDatabaseError extends Error {
  constructor(readonly unknown: string[]) {
    super(
      `The database was migrated by a newer version of teamgraph (it has migration ${unknown.join(', ')}, which this version does not know): ` +
        'run that version, or point DATABASE_URL (or TEAMGRAPH_DATA_DIR) at another database.',
    );
  }
}

/**
 * A migration on a large table, and the wait for another instance's migration lock, may rightly
 * take longer than the server lets a request's statement run (TEAMGRAPH_STATEMENT_TIMEOUT): the
 * migrator runs on one connection with that bound lifted, and puts it back after.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { unknown } = await migrationStatus(db);
  if (unknown.length > 0) throw new NewerDatabaseError(unknown);
  return db.connection().execute(async (connection) => {
    await sql`set statement_timeout = 0`.execute(connection);
    try {
      const migrator = new Migrator({ db: connection, provider: { getMigrations: async () => migrations } });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    } finally {
      await sql`reset statement_timeout`.execute(connection);
    }
  });
}
