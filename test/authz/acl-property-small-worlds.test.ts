// ACL property (test/support/acl-property.ts): lists and single checks over the API against the
// reference model, in small worlds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOverApi, CITUS_SHARE, coverage, resetCoverage, SEED, usePropertyApp, worldArb } from '../support/acl-property.ts';

usePropertyApp();

const SMALL_RUNS = Math.round(900 * CITUS_SHARE);

describe('ACL property', () => {
  it('lists and checks exactly the objects the reference model allows, in small worlds', async () => {
    resetCoverage();
    await fc.assert(fc.asyncProperty(worldArb(12), checkOverApi), { numRuns: SMALL_RUNS, seed: SEED });
    console.log(`small worlds: ${SMALL_RUNS} runs, coverage ${JSON.stringify(coverage)}`);
    for (const key of ['view', 'noView', 'edit', 'noEdit', 'del', 'noDel'] as const) expect(coverage[key]).toBeGreaterThan(0);
  }, 600_000);
});
