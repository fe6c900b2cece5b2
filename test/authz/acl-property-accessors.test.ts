// ACL property (test/support/acl-property.ts): who may view, edit and delete each object
// (listAccessors, issue 20) against the reference model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listAccessors } from '../../src/authz/accessors.ts';
import { ACTIONS, boundaryExample, buildWorld, chainWorldArb, CITUS_SHARE, countCoverage, coverage, newSpace, Reference, resetCoverage, SEED, t, usePropertyApp, worldArb } from '../support/acl-property.ts';

usePropertyApp();

const ACCESSOR_RUNS = Math.round(120 * CITUS_SHARE);

describe('ACL property', () => {
  it('names, for every object and action, exactly the accounts the reference model allows', async () => {
    resetCoverage();
    let listedSome = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: worldArb(12) }, { weight: 1, arbitrary: chainWorldArb }), async (world) => {
        const built = await buildWorld(world, await newSpace());
        const ref = new Reference(world);
        countCoverage(world, ref);
        const indexOf = new Map(built.accounts.map((a, i) => [a.accountId, i]));
        for (const [object, objectId] of built.objectIds.entries()) {
          for (const action of ACTIONS) {
            const want = world.accounts.flatMap((a, i) => (a.active && ref.may(i, object, action) ? [i] : []));
            const listed = await listAccessors(t.db, built.space.orgId, objectId, action, { afterAccountId: null, limit: 1000 });
            const got = listed.map((a) => indexOf.get(a.accountId) ?? `foreign:${a.accountId}`);
            // The other ways of deciding a page, for one action of each object in turn: for all three
            // they made this the suite's longest case (260 s embedded, 160 s on Citus).
            if (ACTIONS.indexOf(action) === object % ACTIONS.length) {
              // The window of one account holds too few: every holder of the keys is read instead.
              expect(await listAccessors(t.db, built.space.orgId, objectId, action, { afterAccountId: null, limit: 1000 }, undefined, 1)).toEqual(listed);
              // Pages of one from windows of two: some answered by the window, some by every holder.
              const paged = [];
              for (let after: string | null = null; ; ) {
                const page = await listAccessors(t.db, built.space.orgId, objectId, action, { afterAccountId: after, limit: 1 }, undefined, 2);
                if (page.length === 0) break;
                paged.push(...page);
                after = page[0]!.accountId;
              }
              expect(paged).toEqual(listed);
            }
            const sorted = [...got].sort((a, b) => String(a).localeCompare(String(b), 'en', { numeric: true }));
            if (JSON.stringify(sorted) !== JSON.stringify(want)) {
              throw new Error(`accessors(o${object}, ${action}) in world ${JSON.stringify(world)}: got accounts ${JSON.stringify(sorted)}, the reference says ${JSON.stringify(want)}`);
            }
            listedSome += want.length;
          }
        }
        t.statements.length = 0;
      }),
      { numRuns: ACCESSOR_RUNS, seed: SEED, examples: [[boundaryExample()]] },
    );
    console.log(`accessors: ${ACCESSOR_RUNS} runs, ${listedSome} accessors listed, coverage ${JSON.stringify(coverage)}`);
    expect(listedSome).toBeGreaterThan(0);
    expect(coverage.needs32Hops).toBeGreaterThan(0);
    expect(coverage.cutAt33Hops).toBeGreaterThan(0);
  }, 600_000);
});
