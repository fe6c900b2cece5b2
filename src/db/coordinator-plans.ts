// How a statement names its organisation so that a Citus coordinator keeps its plan (issue 18).
// The coordinator plans a statement that joins or nests tenant tables (a router query, not a
// single-table lookup, which Citus routes without planning) in full on every execution, only to
// learn which node holds its organisation; that node then plans it again. With the organisation
// as a literal of the statement's text, the coordinator keeps one generic plan per statement and
// organisation (PostgreSQL picks it after five executions, or at once under index-plans.ts), while
// the worker, which receives the other values as parameters, plans for them every time. A single
// object's access check takes about half a millisecond less of two (0.3 ms on its worker alone;
// bench/RESULTS.md). With the organisation a parameter, Citus keeps no plan ("could not create
// distributed plan" under a generic plan). Elsewhere the organisation is a parameter like any
// value. A GraphQL query's statements are sent to the worker holding its organisation instead
// (worker-routing.ts), which plans them as the coordinator would, so the same holds there.
// prepared-statements.ts bounds how many such statements a connection keeps.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { isCitus } from '../../migrations/distribution.ts';
import type { Database } from './database.ts';

/**
 * Whether each database is a Citus coordinator, asked once: keyed by the dialect's adapter, which a
 * Kysely instance shares with the transactions it opens (each a Kysely instance of its own).
 */
const distributed = new WeakMap<object, Promise<boolean>>();

export function onCitusCoordinator(db: Kysely<Database>): Promise<boolean> {
  const key = db.getExecutor().adapter;
  let answer = distributed.get(key);
  if (!answer) {
    answer = isCitus(db);
    distributed.set(key, answer);
    // A failed question is asked again by the next caller.
    answer.catch(() => distributed.delete(key));
  }
  return answer;
}

/** The organisation as a statement should name it: a literal on a Citus coordinator, a parameter elsewhere. */
export async function organisationInStatement(db: Kysely<Database>, orgId: string): Promise<RawBuilder<string>> {
  return (await onCitusCoordinator(db)) ? sql.lit(orgId) : sql<string>`${orgId}`;
}
