// The embedded database (PGlite), in a data folder one process owns, or in memory.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely } from 'kysely';
import { pgliteChangeFeed } from './change-feed.ts';
import type { Database } from './database.ts';
import { type DbHandle, INT8_OID, logTo, parseInt8, type QueryListener } from './handle.ts';
import { withStorableParameters } from './input-errors.ts';
import { PgliteDialect } from './pglite-dialect.ts';
import { withRequestTransactions } from './request-transaction.ts';
import { withStatementSpans } from './statement-spans.ts';

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
    const dialect = new PgliteDialect(pglite);
    const scoped = withRequestTransactions(withStorableParameters(withStatementSpans(dialect)));
    const db = new Kysely<Database>({ dialect: scoped.dialect, ...logTo(options.onQuery) });
    scoped.register(db);
    return {
      db,
      backend: 'pglite',
      changes: pgliteChangeFeed(pglite),
      // One connection, never lost.
      stats: () => ({ pool: dialect.connectionState(), changeFeedReconnects: 0 }),
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
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
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
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
