// How the statements under index plans (src/db/index-plans.ts) are planned. On PostgreSQL each
// execution is planned for its own values; on a Citus coordinator, which plans a statement only to
// route it, each statement keeps one plan per organisation, the organisation being a literal of
// its text. A server back end only: the embedded database has no named statements.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ViewerPrincipals } from '../../src/authz/acl-engine.ts';
import { listVisibleObjects } from '../../src/authz/visibility-filter.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import type { DbHandle } from '../../src/db/handle.ts';
import { onCitus, openTestDatabase, type TestDbHandle } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);

let handle: TestDbHandle;
/** One connection, so that its prepared statements can be read. */
let single: DbHandle;
beforeAll(async () => {
  if (!SERVER) return;
  handle = await openTestDatabase();
  single = openPostgres(handle.url!, 1);
});
afterAll(async () => {
  await single?.close();
  await handle?.close();
});

const viewer: ViewerPrincipals = { active: true, keys: new Set(['u:conn:someone', 'g:conn:team']) };
/** The streams statement of the list filter for an organisation, three times. */
async function listThrice(orgId: string) {
  for (let run = 0; run < 3; run++) {
    const trace = {} as { plan?: string };
    await listVisibleObjects(single.db, orgId, viewer, { types: ['jira:work-item'] }, { limit: 26 }, trace as never, { plan: 'streams' });
    expect(trace.plan).toBe('streams');
  }
}
const streamsStatements = async () =>
  (
    await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
      select statement, generic_plans::int, custom_plans::int from pg_prepared_statements
      where statement like '%tops as materialized%' order by prepare_time`.execute(single.db)
  ).rows;

describe.skipIf(!SERVER)('statements under index plans', () => {
  it(onCitus() ? 'keep one plan per statement and organisation on the Citus coordinator' : 'are planned for their values on every execution', async () => {
    await listThrice('org_index_plans_a');
    await listThrice('org_index_plans_b');
    const statements = await streamsStatements();
    if (onCitus()) {
      // One statement per organisation, named by its literal, each planned once and reused.
      expect(statements.map((s) => s.statement.includes("'org_index_plans_a'") ? 'a' : s.statement.includes("'org_index_plans_b'") ? 'b' : '?')).toEqual(['a', 'b']);
      for (const s of statements) expect([s.generic_plans, s.custom_plans]).toEqual([3, 0]);
    } else {
      // One statement for every organisation, which is a parameter, planned for it each time.
      expect(statements).toHaveLength(1);
      expect(statements[0].statement).not.toContain('org_index_plans');
      expect([statements[0].generic_plans, statements[0].custom_plans]).toEqual([0, 6]);
    }
  });
});
