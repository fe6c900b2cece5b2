// Applies the registered migrations; used by `npm start`, `npm run migrate` and the tests.
import { type Kysely, Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';

/**
 * A migration on a large table, and the wait for another instance's migration lock, may rightly
 * take longer than the server lets a request's statement run (TEAMGRAPH_STATEMENT_TIMEOUT): the
 * migrator runs on one connection with that bound lifted, and puts it back after.
 */
// any: migrations are written against no fixed schema (STYLE: migrations take Kysely<any>).
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
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
