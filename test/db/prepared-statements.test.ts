// How many named statements a connection keeps (src/db/prepared-statements.ts): past
// MAX_PREPARED_PER_CONNECTION it deallocates the one it used longest ago, and a statement it let
// go is prepared again when it comes back. A server back end only: the embedded database has no
// named statements.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PREPARED_PER_CONNECTION, prepareRepeatedStatements } from '../../src/db/prepared-statements.ts';
import { openTestDatabase, type TestDbHandle } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);

let handle: TestDbHandle;
let client: pg.Client;
beforeAll(async () => {
  if (!SERVER) return;
  handle = await openTestDatabase();
  client = new pg.Client({ connectionString: handle.url });
  await client.connect();
  prepareRepeatedStatements(client as unknown as pg.PoolClient);
});
afterAll(async () => {
  await client?.end();
  await handle?.close();
});

/** The n-th of as many distinct statements as a test needs; each answers its own number plus the parameter. */
const nth = async (n: number, plus = 1) => (await client.query(`select ${n} + $1::int as answer`, [plus])).rows[0].answer;
const preparedHere = async () => (await client.query<{ statement: string }>('select statement from pg_prepared_statements')).rows.map((r) => r.statement);

describe.skipIf(!SERVER)('named statements of a connection', () => {
  it('keeps at most its bound, dropping the one used longest ago, and prepares a dropped one again', async () => {
    const count = MAX_PREPARED_PER_CONNECTION + 20;
    for (let n = 1; n <= count; n++) expect(await nth(n)).toBe(n + 1);
    const prepared = await preparedHere();
    expect(prepared.length).toBe(MAX_PREPARED_PER_CONNECTION);
    expect(prepared).not.toContain('select 1 + $1::int as answer');
    expect(prepared).toContain(`select ${count} + $1::int as answer`);
    // The first statements were dropped; they come back prepared and answer with their new values.
    for (let n = 1; n <= 5; n++) expect(await nth(n, 10)).toBe(n + 10);
    const again = await preparedHere();
    expect(again.length).toBe(MAX_PREPARED_PER_CONNECTION);
    expect(again).toContain('select 1 + $1::int as answer');
  });

  it('leaves a failed transaction to its rollback, and the connection keeps working after it', async () => {
    await client.query('begin');
    await expect(client.query('select 1 / $1::int', [0])).rejects.toThrow(/division by zero/);
    // A statement new to the connection, in the failed transaction: it fails as any statement would there.
    await expect(nth(10_000)).rejects.toThrow(/current transaction is aborted/);
    await client.query('rollback');
    for (let n = 10_001; n <= 10_000 + MAX_PREPARED_PER_CONNECTION; n++) expect(await nth(n)).toBe(n + 1);
    expect(await nth(10_000)).toBe(10_001);
    expect((await preparedHere()).length).toBeLessThanOrEqual(MAX_PREPARED_PER_CONNECTION + 1);
  });
});
