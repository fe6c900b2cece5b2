// runAgainAfterCollisions (src/db/collisions.ts) on real refusals: each run of the work is a
// repeatable-read transaction that reads a row, which another connection then changes, so its
// own change of the row fails to serialize (40001). A server back end only: the embedded database
// serves one connection at a time.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCollision, RUNS_AFTER_COLLISIONS, runAgainAfterCollisions } from '../../src/db/collisions.ts';
import { inRequestTransaction } from '../../src/db/request-transaction.ts';
import { openTestDatabase, type TestDbHandle } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);

let handle: TestDbHandle;
let other: pg.Client;
const db = () => handle.db as any;

beforeAll(async () => {
  if (!SERVER) return;
  handle = await openTestDatabase();
  await sql`create table scratch (id integer primary key, n integer not null)`.execute(handle.db);
  other = new pg.Client({ connectionString: handle.url });
  await other.connect();
});
afterAll(async () => {
  await other?.end();
  await handle?.close();
});

/**
 * A run of the work: it reads row `id`, the other connection changes it when `interfere` says
 * so, then the work adds one to it. Counts its runs.
 */
function work(id: number, interfere: (run: number) => boolean) {
  let runs = 0;
  const run = () =>
    db()
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx: any) => {
        runs++;
        await trx.selectFrom('scratch').select('n').where('id', '=', id).executeTakeFirstOrThrow();
        if (interfere(runs)) await other.query('update scratch set n = n + 100 where id = $1', [id]);
        await trx.updateTable('scratch').set({ n: sql`n + 1` }).where('id', '=', id).execute();
        return runs;
      });
  return { run, runs: () => runs };
}

const valueOf = async (id: number) => (await db().selectFrom('scratch').select('n').where('id', '=', id).executeTakeFirstOrThrow()).n;

describe.runIf(SERVER)('runAgainAfterCollisions', () => {
  it('runs a transaction refused for a collision again, and answers what the run that went through answers', async () => {
    await sql`insert into scratch values (1, 0)`.execute(handle.db);
    const { run } = work(1, (runs) => runs === 1);
    expect(await runAgainAfterCollisions(run)).toBe(2);
    // The other's change and the second run's; nothing of the refused first run.
    expect(await valueOf(1)).toBe(101);
  });

  it(`gives up after ${RUNS_AFTER_COLLISIONS} runs with the last refusal`, async () => {
    await sql`insert into scratch values (2, 0)`.execute(handle.db);
    const { run, runs } = work(2, () => true);
    const refusal = await runAgainAfterCollisions(run).catch((error: unknown) => error);
    expect(isCollision(refusal)).toBe(true);
    expect(runs()).toBe(RUNS_AFTER_COLLISIONS);
    expect(await valueOf(2)).toBe(100 * RUNS_AFTER_COLLISIONS);
  });

  it('does not run again what failed for another reason', async () => {
    let runs = 0;
    const failure = await runAgainAfterCollisions(async () => {
      runs++;
      await sql`insert into scratch values (3, 0), (3, 0)`.execute(handle.db);
    }).catch((error: unknown) => error);
    expect((failure as { code?: string }).code).toBe('23505');
    expect(runs).toBe(1);
  });

  it("runs once inside a request transaction, whose refusal only the request's owner can run again", async () => {
    await sql`insert into scratch values (4, 0)`.execute(handle.db);
    const { run, runs } = work(4, () => true);
    const refusal = await inRequestTransaction(handle.db, async () => {
      // The request transaction reads at repeatable read too, so that the work's savepoint collides.
      await sql`set transaction isolation level repeatable read`.execute(handle.db);
      return runAgainAfterCollisions(run);
    }).catch((error: unknown) => error);
    expect(isCollision(refusal)).toBe(true);
    expect(runs()).toBe(1);
  });
});
