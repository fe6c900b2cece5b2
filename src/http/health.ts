// /healthz and /readyz (issue 19): whether the process answers, and whether it should be sent
// traffic — its database reachable, its migrations current, its change feed listening, and not
// shutting down.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { migrationStatus } from '../db/migrator.ts';
import type { Route } from './router.ts';

/** A readiness check that takes longer than this fails: a load balancer is waiting on it. */
const DATABASE_CHECK_MS = 2000;

export interface HealthDeps {
  db: Kysely<Database>;
  /** Absent where credentials are not cached (some tests): nothing to follow. */
  changes?: ChangeFeed;
  /** True once the process has begun to shut down (main.ts). */
  draining: () => boolean;
}

export function healthRoutes({ db, changes, draining }: HealthDeps): Record<string, Route> {
  return {
    // Unchanged since version one (twg doctor and probes read it): the process answers.
    '/healthz': async () => new Response('ok\n', { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } }),
    '/readyz': async () => {
      const reason = await notReadyBecause();
      return reason ? answer(503, { status: 'not ready', reason }) : answer(200, { status: 'ready', changeFeed: changes?.state() ?? 'not used' });
    },
  };

  async function notReadyBecause(): Promise<string | null> {
    if (draining()) return 'shutting down';
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_CHECK_MS} ms`)), DATABASE_CHECK_MS);
      });
      const { pending, unknown } = await Promise.race([sql`select 1`.execute(db).then(() => migrationStatus(db)), late]);
      if (pending.length > 0) return `migrations not applied: ${pending.join(', ')}`;
      if (unknown.length > 0) return `the database has migrations this version does not know: ${unknown.join(', ')}`;
    } catch (error) {
      return `database unreachable: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
    // Deaf to changes, the process caches nothing and reads every credential from the database: slow, so out of rotation until the feed reconnects.
    if (changes?.state() === 'down') return 'change feed not listening';
    return null;
  }
}

function answer(status: number, body: Record<string, string>): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}
