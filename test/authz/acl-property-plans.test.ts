// ACL property (test/support/acl-property.ts): the list filter's forward and streams plans, forced
// and chosen, in an organisation padded with objects nobody may view.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundaryExample, buildWorld, chainWorldArb, checkWorld, coverage, expectAll, newSpace, planCounts, resetCoverage, SEED, streamRounds, t, usePropertyApp, worldArb } from '../support/acl-property.ts';

usePropertyApp();

const PADDED_RUNS = 60;

describe('ACL property', () => {
  it('lists the same objects with the forward and the streams plan of the list filter', async () => {
    // PRODUCT §3 through both SQL plans: an organisation holding 300 objects nobody may view
    // fills the forward probe (64 rows and more) of any page the viewer cannot fill, so the last
    // page of every list, and any page of objects older than the filler, comes from the streams
    // (or from a wider forward window when the probe found half a page or more). Each run
    // is a new site and connection of that organisation, with new accounts: what earlier runs
    // stored is invisible to them and only adds filler.
    const { orgId } = await newSpace();
    const filler = await newSpace(orgId);
    for (let batch = 0; batch < 3; batch++) {
      const items = Array.from({ length: 100 }, (_, i) => ({
        type: 'jira:work-item',
        externalId: `filler-${batch * 100 + i}`,
        displayName: 'Filler',
        updateSequenceNumber: 1,
        permissions: [{ accessControls: [{ principals: [{ type: 'USER' as const, id: 'nobody' }] }] }],
      }));
      expectAll(await t.app.services.objects.setObjects(filler.caller, filler.connectionId, items), 'ACCEPTED', 'filler');
    }
    planCounts.forward = planCounts.streams = planCounts.text = 0;
    streamRounds.one = streamRounds.more = 0;
    resetCoverage();
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: worldArb(12) }, { weight: 1, arbitrary: chainWorldArb }), async (world) => {
        const built = await buildWorld(world, await newSpace(orgId));
        await checkWorld(world, built, 'filter');
        t.statements.length = 0;
      }),
      { numRuns: PADDED_RUNS, seed: SEED, examples: [[boundaryExample()]] },
    );
    console.log(`padded organisation: ${PADDED_RUNS} runs, list filter plans ${JSON.stringify(planCounts)}, capped stream rounds ${JSON.stringify(streamRounds)}, coverage ${JSON.stringify(coverage)}`);
    expect(planCounts.forward).toBeGreaterThan(0);
    expect(planCounts.streams).toBeGreaterThan(0);
    // Both ways out of a capped round: complete at once, and stopped walks taken up again.
    expect(streamRounds.one).toBeGreaterThan(0);
    expect(streamRounds.more).toBeGreaterThan(0);
    expect(coverage.cutAt33Hops).toBeGreaterThan(0);
  }, 600_000);
});
