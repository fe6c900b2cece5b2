// How the statements that join or nest tenant tables name their organisation, and so how they are
// planned (src/db/coordinator-plans.ts): on a Citus coordinator as a literal, so that it keeps
// each statement's plan per organisation instead of planning it in full on every execution;
// elsewhere as a parameter. Under index plans (src/db/index-plans.ts) PostgreSQL plans each
// execution for its values, and the coordinator keeps its plan from the first. A server back end
// only: the embedded database has no named statements.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker } from '../../src/authz/access-checker.ts';
import type { ViewerPrincipals } from '../../src/authz/acl-engine.ts';
import { NO_PRINCIPALS } from '../../src/authz/viewer-principals.ts';
import { listVisibleObjects } from '../../src/authz/visibility-filter.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import type { DbHandle } from '../../src/db/handle.ts';
import { RelationshipRepository } from '../../src/modules/relationship/relationship.repository.ts';
import { onCitus, openTestDatabase, type TestDbHandle } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);
const ORGS = ['org_coordinator_plans_a', 'org_coordinator_plans_b'];

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

/** The connection's named statements whose text holds `marker`, oldest first. */
async function prepared(marker: string) {
  const { rows } = await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
    select statement, generic_plans::int, custom_plans::int from pg_prepared_statements
    where statement like ${`%${marker}%`} order by prepare_time`.execute(single.db);
  return rows;
}

/** Which organisation each statement names as a literal ('-': none, a parameter). */
const named = (statements: { statement: string }[]) => statements.map((s) => ORGS.find((org) => s.statement.includes(`'${org}'`)) ?? '-');

describe.skipIf(!SERVER)('statements a Citus coordinator keeps the plan of', () => {
  /** More than the five executions after which PostgreSQL weighs a generic plan. */
  const RUNS = 8;

  async function expectKeptPlans(marker: string) {
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

  it(onCitus() ? 'a single access check names its organisation as a literal' : 'a single access check names its organisation as a parameter', async () => {
    for (const orgId of ORGS) {
      for (let run = 0; run < RUNS; run++) {
        // A new checker each time, as each request makes one; no such object: denied.
        expect(await new AccessChecker(single.db, orgId, async () => NO_PRINCIPALS).can(`obj_missing_${run}`, 'VIEW')).toBe(false);
      }
    }
    await expectKeptPlans('with recursive chain');
  });

  it(onCitus() ? 'a relationships page names its organisation as a literal' : 'a relationships page names its organisation as a parameter', async () => {
    const relationships = new RelationshipRepository(single.db);
    for (const orgId of ORGS) {
      for (let run = 0; run < RUNS; run++) {
        expect(await relationships.listForObjects(orgId, [{ id: `obj_missing_${run}`, after: null }], 'BOTH', null, 26)).toEqual([]);
      }
    }
    await expectKeptPlans('as a(id, after_type, after_other, after_from)');
  });
});

describe.skipIf(!SERVER)('statements under index plans', () => {
  const viewer: ViewerPrincipals = { active: true, keys: new Set(['u:conn:someone', 'g:conn:team']) };

  it(onCitus() ? 'keep one plan per statement and organisation on the Citus coordinator' : 'are planned for their values on every execution', async () => {
    // The streams statement of the list filter, three times for each organisation.
    for (const orgId of ORGS) {
      for (let run = 0; run < 3; run++) {
        const trace = {} as { plan?: string };
        await listVisibleObjects(single.db, orgId, viewer, { types: ['jira:work-item'] }, { limit: 26 }, trace as never, { plan: 'streams' });
        expect(trace.plan).toBe('streams');
      }
    }
    const statements = await prepared('tops as materialized');
    if (onCitus()) {
      // One statement per organisation, named by its literal, each planned once and reused.
      expect(named(statements)).toEqual(ORGS);
      for (const s of statements) expect([s.generic_plans, s.custom_plans]).toEqual([3, 0]);
    } else {
      // One statement for every organisation, which is a parameter, planned for it each time.
      expect(named(statements)).toEqual(['-']);
      expect([statements[0].generic_plans, statements[0].custom_plans]).toEqual([0, 6]);
    }
  });
});
