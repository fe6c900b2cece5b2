// Step 5 of the no-stale-access protocol (told in credential-cache.ts): a request runs first on
// cached credentials and, when their barrier shows one of them changed, again from the database.
import type { CredentialCache } from './credential-cache.ts';
import type { Speculation } from './speculation.ts';

/**
 * `run` with a speculation; its answer stands only once the speculation confirms. `run` must keep
 * its answer unseen until this returns (step 4), and may be called a second time without one.
 */
export async function runOnCurrentCredentials<T>(cache: CredentialCache, run: (speculation?: Speculation) => Promise<T>): Promise<T> {
  const speculation = cache.speculate();
  const answer = await run(speculation);
  if (speculation.relies && !(await speculation.confirm())) return run();
  return answer;
}
