// Opens the database the configuration names: a PostgreSQL server (DATABASE_URL, postgres.ts)
// or the embedded one in a data folder (pglite.ts). Issue 19: a server that cannot be used is
// said in one sentence with the fix, before anything runs on it.
import { sql } from 'kysely';
import type { DbHandle } from './handle.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { OnUnreachable } from './worker-routing.ts';

/** The embedded database runs one statement at a time in this process and has no statement timeout. */
export async function openDatabase(
  config: { databaseUrl?: string; dataDir: string },
  options: { statementTimeoutMs?: number; readsOnWorkers?: boolean; onWorkerUnreachable?: OnUnreachable } = {},
): Promise<DbHandle> {
  if (!config.databaseUrl) return openPglite({ dataDir: config.dataDir });
  const handle = openPostgres(config.databaseUrl, 10, undefined, options.statementTimeoutMs, { readsOnWorkers: options.readsOnWorkers, onWorkerUnreachable: options.onWorkerUnreachable });
  try {
    await sql`select 1`.execute(handle.db);
    return handle;
  } catch (error) {
    await handle.close().catch(() => {});
    throw new Error(unreachable(config.databaseUrl, error as Error & { code?: string }));
  }
}

/** The sentence for a PostgreSQL server that did not take the first statement; never the URL's password. */
function unreachable(databaseUrl: string, error: Error & { code?: string }): string {
  const url = new URL(databaseUrl);
  const server = `${url.hostname}:${url.port || 5432}`;
  const database = decodeURIComponent(url.pathname.slice(1)) || url.username || 'postgres';
  const user = decodeURIComponent(url.username) || 'the default user';
  switch (error.code) {
    case 'ECONNREFUSED':
      return `Nothing answers at ${server} (DATABASE_URL): start PostgreSQL there, fix DATABASE_URL, or unset it to use the embedded database.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host ${url.hostname} in DATABASE_URL cannot be resolved: fix DATABASE_URL, or unset it to use the embedded database.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `PostgreSQL at ${server} (DATABASE_URL) cannot be reached (${error.code}): check the network and firewall, or fix DATABASE_URL.`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${server} refused ${user} (${error.message}): fix the user or password in DATABASE_URL, or the server's pg_hba.conf.`;
    case '3D000':
      return `The database "${database}" does not exist on ${server}: create it (createdb -h ${url.hostname} -p ${url.port || 5432} ${database}) or fix DATABASE_URL.`;
    case '57P03':
      return `PostgreSQL at ${server} is starting up or shutting down: start teamgraph again once it accepts connections.`;
    default:
      return `PostgreSQL at ${server} (DATABASE_URL) could not be used: ${error.message}.`;
  }
}
