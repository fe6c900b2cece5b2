// ACL property (test/support/acl-property.ts): inheritance through CONTAINER stops after 32 links
// (PRODUCT §3), in long chains.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundaryExample, chainWorldArb, checkOverApi, coverage, resetCoverage, SEED, usePropertyApp } from '../support/acl-property.ts';

usePropertyApp();

const CHAIN_RUNS = 40;

describe('ACL property', () => {
  it('stops inheriting through CONTAINER after 32 links in long chains', async () => {
    resetCoverage();
    await fc.assert(fc.asyncProperty(chainWorldArb, checkOverApi), { numRuns: CHAIN_RUNS, seed: SEED, examples: [[boundaryExample()]] });
    console.log(`long chains: ${CHAIN_RUNS} runs, coverage ${JSON.stringify(coverage)}`);
    expect(coverage.needs32Hops).toBeGreaterThan(0);
    expect(coverage.cutAt33Hops).toBeGreaterThan(0);
  }, 600_000);
});
