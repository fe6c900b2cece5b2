// inRequestTransaction: every statement of the work, however deep, commits or rolls back as one;
// transactions opened inside become savepoints. Runs on both back ends.
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DbHandle } from '../../src/db/handle.ts';
import { inRequestTransaction } from '../../src/db/request-transaction.ts';
import { openTestDatabase } from '../support/database.ts';

let handle: DbHandle;
const db = () => handle.db as any;

beforeAll(async () => {
  handle = await openTestDatabase();
  await sql`create table scratch (id integer primary key)`.execute(handle.db);
});
afterAll(() => handle.close());
beforeEach(async () => {
  await sql`delete from scratch`.execute(handle.db);
});

const insert = (id: number) => db().insertInto('scratch').values({ id }).execute();
const ids = async () => (await db().selectFrom('scratch').select('id').orderBy('id').execute()).map((r: { id: number }) => r.id);

describe('inRequestTransaction', () => {
  it('commits every statement of the work together, including those of inner transactions', async () => {
    const result = await inRequestTransaction(handle.db, async () => {
      await insert(1);
      await db().transaction().execute(async (trx: any) => trx.insertInto('scratch').values({ id: 2 }).execute());
      return 'done';
    });
    expect(result).toBe('done');
    expect(await ids()).toEqual([1, 2]);
  });

  it('rolls back everything, inner transactions included, when the work throws', async () => {
    await expect(
      inRequestTransaction(handle.db, async () => {
        await insert(1);
        await db().transaction().execute(async (trx: any) => trx.insertInto('scratch').values({ id: 2 }).execute());
        await insert(3);
        throw new Error('the audit event could not be written');
      }),
    ).rejects.toThrow('the audit event could not be written');
    expect(await ids()).toEqual([]);
  });

  it('rolls back only an inner transaction that fails, when the work goes on', async () => {
    await inRequestTransaction(handle.db, async () => {
      await insert(1);
      await expect(
        db()
          .transaction()
          .execute(async (trx: any) => {
            await trx.insertInto('scratch').values({ id: 2 }).execute();
            await trx.insertInto('scratch').values({ id: 1 }).execute(); // duplicate key
          }),
      ).rejects.toThrow();
      await insert(3);
    });
    expect(await ids()).toEqual([1, 3]);
  });

  it('keeps uncommitted work invisible to statements outside the scope (PostgreSQL: a second connection)', async () => {
    if (handle.backend !== 'postgres') return; // the embedded database has one connection: outside statements wait for the scope
    let seenOutside: number[] = [];
    let release!: () => void;
    let inserted!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const didInsert = new Promise<void>((resolve) => (inserted = resolve));
    const scope = inRequestTransaction(handle.db, async () => {
      await insert(7);
      inserted();
      await held;
    });
    // This test's own async context is outside the scope: another connection from the pool.
    await didInsert;
    seenOutside = await ids();
    release();
    await scope;
    expect(seenOutside).toEqual([]);
    expect(await ids()).toEqual([7]);
  });

  it('joins an open scope instead of nesting a second one', async () => {
    await expect(
      inRequestTransaction(handle.db, async () => {
        await inRequestTransaction(handle.db, () => insert(1));
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await ids()).toEqual([]);
  });
});
