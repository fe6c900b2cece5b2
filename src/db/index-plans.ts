// Statements whose cost must not depend on what the planner knows (issue 16). Tables here are
// analyzed late or never (a bulk load outruns autovacuum's ANALYZE; a small organisation inside a
// large table gets the large tenants' estimates), and a planner that believes an organisation
// small reads it whole and sorts or hashes it. Inside withIndexPlans a statement may use only index
// scans, nested loops, and a sort only where no index gives the order, planned for its own
// parameters; written as index-driven lookups, it then runs the same whatever the statistics say.
// The list filter (src/authz/visibility-filter.ts), the viewer's principal set and the accessors'
// lookups run this way.
//
// On Citus (issue 18) these statements name their organisation as coordinator-plans.ts says (the
// `org` that withIndexPlans hands them), and plan_cache_mode = force_generic_plan is set on the
// coordinator alone: it keeps one plan per statement and organisation, while the worker still
// plans each statement for its values. Elsewhere every plan is made for its values. A query's
// statements run on the worker holding its organisation (worker-routing.ts), where the setting then
// applies beside the shard itself; the index-only settings above bound the plan's shape there too
// (the ten-organisation bench, never analyzed: every page as the model says, lists within 0.9–1.4 ×
// PostgreSQL's p95), but whether Citus plans the local shard query for its values there is not checked.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { onCitusCoordinator, organisationInStatement } from './coordinator-plans.ts';
import type { Database } from './database.ts';

// plan_cache_mode: a prepared statement (src/db/prepared-statements.ts names them) is planned for the values
// at hand every time, never once for all organisations and viewers. At 1,000,000 objects under
// skewed statistics the bench's own list calls ran for minutes on one connection; a generic plan
// was suspected but not reproduced elsewhere, and this rules it out. On Citus the workers keep
// that rule by themselves: what they receive are unnamed statements, planned for their values.
const INDEX_PLANS = {
  enable_seqscan: 'off',
  enable_bitmapscan: 'off',
  enable_sort: 'off',
  enable_hashjoin: 'off',
  enable_mergejoin: 'off',
};

/**
 * The settings as SET LOCAL statements, sent in one round trip (no parameters: the simple
 * protocol, which takes several statements). On Citus a worker plans each statement, and SET
 * LOCAL reaches it once Citus is told to pass it on (issue 18); what is set before that stays on
 * the coordinator. Elsewhere citus.propagate_set_commands is a setting nobody reads. jit goes
 * with them: the server turns it off for its own connections (db/postgres.ts), which on Citus are
 * the coordinator's only, and a disabled node adds so much to a plan's estimate that a worker
 * compiled every list statement (586 ms of a 588 ms first page of 100 objects).
 */
const setIndexPlans = (planCacheMode: 'force_custom_plan' | 'force_generic_plan') =>
  [
    `set local plan_cache_mode = ${planCacheMode}`,
    `set local citus.propagate_set_commands = 'local'`,
    ...Object.entries({ ...INDEX_PLANS, jit: 'off' }).map(([name, value]) => `set local ${name} = ${value}`),
  ].join('; ');
const SET_INDEX_PLANS = setIndexPlans('force_custom_plan');
const SET_INDEX_PLANS_ON_CITUS = setIndexPlans('force_generic_plan');

/**
 * Runs `work` in a transaction with the index-only planner settings; the transaction is rolled
 * back, which ends the settings with it, also when it is a savepoint of a request's transaction.
 * `work` must only read, and must name the organisation `orgId` as `org` in every statement that
 * reads its rows (on Citus a statement that names it as a parameter is refused).
 */
export async function withIndexPlans<T>(db: Kysely<Database>, orgId: string, work: (trx: Kysely<Database>, org: RawBuilder<string>) => Promise<T>): Promise<T> {
  const [citus, org] = await Promise.all([onCitusCoordinator(db), organisationInStatement(db, orgId)]);
  const trx = await db.startTransaction().execute();
  try {
    await sql.raw(citus ? SET_INDEX_PLANS_ON_CITUS : SET_INDEX_PLANS).execute(trx);
    return await work(trx, org);
  } finally {
    await trx.rollback().execute();
  }
}

/**
 * Within withIndexPlans, before a search of the trigram index: lets the rest of the transaction
 * read GIN indexes, which only bitmap scans read, and plan each statement for its values again.
 * That search asks every shard on Citus, and Citus keeps no plan of such a statement with parameters.
 */
export async function allowTextSearch(trx: Kysely<Database>): Promise<void> {
  await sql.raw('set local enable_bitmapscan = on; set local plan_cache_mode = force_custom_plan').execute(trx);
}
