// How a single object's access check and a relationships page name their organisation
// (src/db/coordinator-plans.ts): on a Citus coordinator as a literal, so that it keeps each
// statement's plan per organisation instead of planning it in full on every execution; elsewhere
// as a parameter. A server back end only: the embedded database has no named statements.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker } from '../../src/authz/access-checker.ts';
import { NO_PRINCIPALS } from '../../src/authz/viewer-principals.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import type { DbHandle } from '../../src/db/handle.ts';
import { RelationshipRepository } from '../../src/modules/relationship/relationship.repository.ts';
import { onCitus, openTestDatabase, type TestDbHandle } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);
const ORGS = ['org_coordinator_plans_a', 'org_coordinator_plans_b'];
/** More than the five executions after which PostgreSQL weighs a generic plan. */
const RUNS = 8;

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

async function prepared(marker: string) {
  const { rows } = await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
    select statement, generic_plans::int, custom_plans::int from pg_prepared_statements
    where statement like ${`%${marker}%`} order by prepare_time`.execute(single.db);
  return rows;
}

/** Which organisation each statement names as a literal ('-': none, a parameter). */
const named = (statements: { statement: string }[]) => statements.map((s) => ORGS.find((org) => s.statement.includes(`'${org}'`)) ?? '-');

async function expectPlans(marker: string) {
  const statements = await prepared(marker);
  if (onCitus()) {
    expect(named(statements)).toEqual(ORGS);
    // The coordinator plans each in full at first, then keeps a plan.
    for (const s of statements) {
      expect(s.custom_plans + s.generic_plans).toBe(RUNS);
      expect(s.generic_plans).toBeGreaterThan(0);
    }
  } else {
    expect(named(statements)).toEqual(['-']);
    expect(statements[0].custom_plans + statements[0].generic_plans).toBe(RUNS * ORGS.length);
  }
}

describe.skipIf(!SERVER)('statements a Citus coordinator keeps the plan of', () => {
  it(onCitus() ? 'a single access check names its organisation as a literal' : 'a single access check names its organisation as a parameter', async () => {
    for (const orgId of ORGS) {
      for (let run = 0; run < RUNS; run++) {
        // A new checker each time, as each request makes one; no such object: denied.
        expect(await new AccessChecker(single.db, orgId, async () => NO_PRINCIPALS).can(`obj_missing_${run}`, 'VIEW')).toBe(false);
      }
    }
    await expectPlans('with recursive chain');
  });

  it(onCitus() ? 'a relationships page names its organisation as a literal' : 'a relationships page names its organisation as a parameter', async () => {
    const relationships = new RelationshipRepository(single.db);
    for (const orgId of ORGS) {
      for (let run = 0; run < RUNS; run++) {
        expect(await relationships.listForObjects(orgId, [{ id: `obj_missing_${run}`, after: null }], 'BOTH', null, 26)).toEqual([]);
      }
    }
    await expectPlans('as a(id, after_type, after_other, after_from)');
  });
});
