// /healthz and /readyz (issue 19, item 2): alive, and ready only with the database reachable,
// its migrations current, the change feed listening and no shutdown begun.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHANGE_FEED_APPLICATION } from '../../src/db/change-feed.ts';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

let t: TestApp;
let draining = false;
beforeAll(async () => {
  t = await startTestApp({ draining: () => draining });
});
afterAll(() => t.close());

const get = async (path: string) => {
  const response = await t.app.fetch(new Request(`${TEST_ORIGIN}${path}`));
  return { status: response.status, text: await response.text(), cacheControl: response.headers.get('cache-control') };
};
const readiness = async () => {
  const { status, text } = await get('/readyz');
  return { http: status, ...JSON.parse(text) };
};

it('answers /healthz while the process runs', async () => {
  expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n', cacheControl: 'no-store' });
});

it('is ready with the database reachable, migrated and followed', async () => {
  // On PostgreSQL the change feed connects once the app starts following it: ready from then on.
  await expect.poll(readiness).toEqual({ http: 200, status: 'ready', changeFeed: onCitus() ? 'not used' : 'listening' });
});

it('is not ready once shutdown has begun', async () => {
  draining = true;
  try {
    expect(await readiness()).toEqual({ http: 503, status: 'not ready', reason: 'shutting down' });
  } finally {
    draining = false;
  }
});

it('is not ready while a migration is not applied, and names it', async () => {
  const [last] = (await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name desc limit 1`.execute(t.db)).rows;
  await sql`delete from kysely_migration where name = ${last.name}`.execute(t.db);
  try {
    expect(await readiness()).toEqual({ http: 503, status: 'not ready', reason: `migrations not applied: ${last.name}` });
  } finally {
    await sql`insert into kysely_migration (name, timestamp) values (${last.name}, ${last.timestamp})`.execute(t.db);
  }
  expect((await readiness()).http).toBe(200);
});

it.runIf(process.env.DATABASE_URL && !onCitus())('is not ready while the change feed is down, and ready again once it reconnects', async () => {
  const admin = new pg.Client({ connectionString: t.databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query(`select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = current_database() and application_name = $1`, [CHANGE_FEED_APPLICATION]);
    expect(rows).toEqual([{ ended: true }]);
    await expect.poll(readiness).toEqual({ http: 503, status: 'not ready', reason: 'change feed not listening' });
    await expect.poll(readiness, { timeout: 10_000 }).toEqual({ http: 200, status: 'ready', changeFeed: 'listening' });
  } finally {
    await admin.end();
  }
});
