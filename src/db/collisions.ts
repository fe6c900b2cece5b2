// A transaction PostgreSQL refused whole because it collided with another one running at the
// same time: chosen to break a deadlock (40P01, which Citus's distributed deadlock detection also
// raises) or failed to serialize (40001). Nothing of it was kept, and PostgreSQL's documentation
// asks the application to run it again. The HTTP layer does so for a mutation that runs in one
// request transaction (graphql/plugins/use-audit.ts, http/graphql-route.ts); a connection's
// mutation, whose writes commit field by field, is told to send it again. Neither the client's
// mistake nor a fault: CONFLICT (PRODUCT §10), not a masked INTERNAL. A transaction of its own
// outside any request transaction (the OAuth token endpoint's) runs again in place
// (runAgainAfterCollisions).
import { ConflictError } from '../shared/errors.ts';
import { inRequestScope } from './request-transaction.ts';

/** A collision is rare and one rarely follows another: three runs in all, then the client is told. */
export const RUNS_AFTER_COLLISIONS = 3;

const COLLISIONS = new Set(['40P01', '40001']);

/** What the client is told when the change was refused for a collision and not run again. */
export const collisionRefused = () => new ConflictError('The change collided with another made at the same time and nothing of it was kept; send it again.');

/** Whether `error`, or the error a GraphQL error wraps, is such a refusal. */
export function isCollision(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && typeof cause === 'object' && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && COLLISIONS.has(code)) return true;
    cause = (cause as { originalError?: unknown }).originalError;
  }
  return false;
}

/**
 * Runs `work` again while PostgreSQL refuses it for a collision, up to RUNS_AFTER_COLLISIONS runs
 * in all; the last refusal is thrown. `work` must be one transaction of its own (or one statement)
 * whose only effects are in the database, so that a refused run left nothing behind. Inside a
 * request transaction it runs once: the refusal ended that whole transaction, which only the
 * request's route can run again.
 */
export async function runAgainAfterCollisions<T>(work: () => Promise<T>): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await work();
    } catch (error) {
      if (run >= RUNS_AFTER_COLLISIONS || !isCollision(error) || inRequestScope()) throw error;
    }
  }
}
