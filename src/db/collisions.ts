// A transaction PostgreSQL refused whole because it collided with another one running at the
// same time: chosen to break a deadlock (40P01, which Citus's distributed deadlock detection also
// raises) or failed to serialize (40001). Nothing of it was kept, and PostgreSQL's documentation
// asks the application to run it again; the HTTP layer does so for a mutation
// (graphql/plugins/use-audit.ts, http/graphql-route.ts). Neither the client's mistake nor a fault,
// one that keeps happening is CONFLICT (PRODUCT §10), not a masked INTERNAL.
const COLLISIONS = new Set(['40P01', '40001']);

/** Whether `error`, or the error a GraphQL error wraps, is such a refusal. */
export function isCollision(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && typeof cause === 'object' && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && COLLISIONS.has(code)) return true;
    cause = (cause as { originalError?: unknown }).originalError;
  }
  return false;
}
