// Real deadlocks for the tests of src/db/collisions.ts: another connection holds a row the
// request will wait for, then asks for one the request holds. A server back end only: the
// embedded database serves one connection at a time.
import { sql } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import { onCitus } from './database.ts';

/** Whether a statement starting with `start` waits for a lock in the test app's database. */
async function waits(t: TestApp, start: string): Promise<boolean> {
  const pattern = `${start}%`;
  const { rows } = onCitus()
    ? await sql<{ n: number }>`select count(*)::int as n from citus_lock_waits where btrim(blocked_statement, E' \n\t') like ${pattern}`.execute(t.db)
    : await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and btrim(query, E' \n\t') like ${pattern}`.execute(t.db);
  return rows[0].n > 0;
}

/**
 * Another connection that holds a lock the request will wait for (`hold`), and, once the request
 * waits for it (its statement starts with `waiting`), asks for one the request holds (`ask`):
 * a deadlock. This side never checks for it itself, so the request, waiting first, is refused.
 */
export async function collide<T>(t: TestApp, hold: [string, unknown[]], request: () => Promise<T>, waiting: string, ask: [string, unknown[]]): Promise<T> {
  const other = new pg.Client({ connectionString: t.databaseUrl });
  await other.connect();
  try {
    await other.query('begin');
    if (onCitus()) await other.query(`set local citus.propagate_set_commands = 'local'`);
    await other.query(`set local deadlock_timeout = '60s'`);
    await other.query(...hold);
    const answer = request();
    let settled = false;
    void answer.finally(() => (settled = true));
    while (!settled && !(await waits(t, waiting)));
    expect(settled).toBe(false);
    await other.query(...ask);
    await other.query('commit');
    return await answer;
  } finally {
    await other.end();
  }
}
