// Applies the registered migrations; used by `npm start`, `npm run migrate` and the tests.
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';

// Kysely runs the pending migrations in one transaction; a migration on a large table may take
// longer than the server lets a request's statement run (TEAMGRAPH_STATEMENT_TIMEOUT), so it lifts
// that bound for its own transaction only.
const unbounded: Record<string, Migration> = Object.fromEntries(
  Object.entries(migrations).map(([name, migration]) => [
    name,
    {
      up: async (db: Kysely<any>) => {
        await sql`set local statement_timeout = 0`.execute(db);
        await migration.up(db);
      },
      down: migration.down,
    },
  ]),
);

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => unbounded } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
