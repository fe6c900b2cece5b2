// Kysely's statements as named prepared statements on PostgreSQL connections, in bounded numbers:
// a named statement holds its parsed form in the server's backend (the list filter's, about 0.3 MB
// each) and, on Citus, the coordinator's cached plan too (another 0.4 MB), whose texts there are
// one per organisation (coordinator-plans.ts). So both the texts this process names and the statements
// each connection keeps are bounded, the least recently used going first.
import type pg from 'pg';

/** Statement texts this process gives a name; past this, the one used longest ago loses its name. */
const MAX_NAMED_TEXTS = 1000;
/** Named statements one connection keeps; past this, it deallocates the one it used longest ago. */
export const MAX_PREPARED_PER_CONNECTION = 100;
/** Statements with more parameters than this are mostly batches of varying size: not worth a name. */
const MAX_PREPARED_PARAMETERS = 64;

/** Text to name, least recently used first (a Map keeps insertion order). A name is never given to another text. */
const statementNames = new Map<string, string>();
let namesGiven = 0;

function nameOf(text: string): string {
  let name = statementNames.get(text);
  statementNames.delete(text);
  name ??= `tg_${++namesGiven}`;
  statementNames.set(text, name);
  if (statementNames.size > MAX_NAMED_TEXTS) statementNames.delete(statementNames.keys().next().value!);
  return name;
}

/**
 * Sends Kysely's statements as named prepared statements, so that a connection parses and plans
 * each one once instead of on every execution. Planning dominated the hot statements: the session
 * lookup planned in 0.6 ms and ran in 0.1 ms. Only the extended-protocol calls Kysely makes
 * (text plus a non-empty parameter array) are named; anything else passes through.
 */
export function prepareRepeatedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  // pg's record of the statements it parsed on this connection: a deallocated name must leave it,
  // or pg would bind the name without parsing it again. Should pg stop exposing it, the connection
  // keeps the statements it has and runs new ones unnamed.
  const parsed = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection?.parsedStatements;
  /** This connection's names, least recently used first; `leaving` are being deallocated. */
  const kept = new Map<string, true>();
  const leaving = new Set<string>();
  /** Deallocates the connection's least recently used statement; false when it cannot. */
  const makeRoom = (): boolean => {
    const oldest = kept.keys().next().value!;
    if (!parsed) return false;
    kept.delete(oldest);
    // Its parse failed (or is still on its way): nothing to deallocate, and a failed DEALLOCATE
    // inside a transaction would abort it.
    if (parsed[oldest] === undefined) return true;
    leaving.add(oldest);
    // Queued on the connection like any statement, so it runs after those that use the name now.
    (query(`deallocate ${oldest}`) as Promise<unknown>)
      .then(
        () => delete parsed[oldest],
        // Still prepared (the transaction had failed): kept, to be deallocated another time.
        () => kept.set(oldest, true),
      )
      .finally(() => leaving.delete(oldest));
    return true;
  };
  /** Whether `name` may be used on this connection now, as the most recently used. */
  const keep = (name: string): boolean => {
    if (leaving.has(name)) return false;
    if (!kept.delete(name) && kept.size >= MAX_PREPARED_PER_CONNECTION && !makeRoom()) return false;
    kept.set(name, true);
    return true;
  };
  // pg types query() as a set of overloads no single function implements; this one forwards each call as it came.
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    // Without parameters pg uses the simple protocol, which also runs several statements (migrations).
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || values.length > MAX_PREPARED_PARAMETERS) return query(text, values, callback);
    const name = nameOf(text);
    return keep(name) ? query({ name, text, values }, callback) : query(text, values, callback);
  };
}
