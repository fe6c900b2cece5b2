// The list filter's plan choice: each way through it returns exactly the visible objects, newest
// first, page after page. Small limits stand in for the production sizes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadViewerPrincipals } from '../../src/authz/viewer-principals.ts';
import { listVisibleObjects, type ObjectRow, type VisibilityPlanTrace, type VisibilityTuning } from '../../src/authz/visibility-filter.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
let viewer: { accountId: string };
const TYPES = ['jira:work-item', 'jira:project'];

// 120 objects, newest last: every 10th is visible to the viewer (by user, or by inheriting from a
// visible project), the others to nobody.
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t);
  viewer = await tenant.account({ member: false });
  await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'v', accountId: viewer.accountId, updateSequenceNumber: 1 }] });
  const project = { type: 'jira:project', externalId: 'P' };
  await tenant.ingest('setObjects', { objects: [objectInput('P', { type: 'jira:project', permissions: viewAcl([userPrincipal('v')]), lastUpdatedAt: '2026-01-01T00:00:00Z' })] });
  const objects = Array.from({ length: 120 }, (_, i) =>
    objectInput(`O-${String(i).padStart(3, '0')}`, {
      lastUpdatedAt: new Date(Date.parse('2026-02-01T00:00:00Z') + i * 1000).toISOString(),
      ...(i % 20 === 0 ? { permissions: viewAcl([userPrincipal('v')]) } : i % 20 === 10 ? { container: project, permissions: viewAcl([{ type: 'CONTAINER' }]) } : { permissions: viewAcl([userPrincipal('nobody')]) }),
    }),
  );
  for (let i = 0; i < objects.length; i += 100) await tenant.ingest('setObjects', { objects: objects.slice(i, i + 100) });
});
afterAll(() => t.close());

const EXPECTED = [...Array.from({ length: 12 }, (_, k) => `O-${String(110 - k * 10).padStart(3, '0')}`), 'P'];

async function pageThrough(limit: number, tuning: VisibilityTuning) {
  const principals = await loadViewerPrincipals(t.db, tenant.orgId, viewer.accountId);
  const seen: string[] = [];
  const plans = new Set<string>();
  let after: { lastUpdatedAt: Date; id: string } | null = null;
  for (let page = 0; page < 50; page++) {
    const trace = {} as VisibilityPlanTrace;
    const rows: ObjectRow[] = await listVisibleObjects(t.db, tenant.orgId, principals, { types: TYPES }, { after, limit: limit + 1 }, trace, tuning);
    plans.add(`${trace.plan}:${trace.statements}`);
    seen.push(...rows.slice(0, limit).map((r) => r.external_id));
    if (rows.length <= limit) return { seen, plans };
    const last = rows[limit - 1];
    after = { lastUpdatedAt: last.last_updated_at, id: last.id };
  }
  throw new Error('too many pages');
}

describe('the list filter plans', () => {
  it('answers from the forward probe when the newest objects fill the page', async () => {
    const { seen, plans } = await pageThrough(2, { probeWindow: 200 });
    expect(seen).toEqual(EXPECTED);
    expect(plans).toEqual(new Set(['forward:1']));
  });

  it('answers from the streams when the probe finds almost nothing', async () => {
    const { seen, plans } = await pageThrough(3, { probeWindow: 4 });
    expect(seen).toEqual(EXPECTED);
    expect(plans).toContain('streams:2');
  });

  it('tries one wider forward window when the probe finds a few, then the streams', async () => {
    const { seen, plans } = await pageThrough(2, { probeWindow: 25 });
    expect(seen).toEqual(EXPECTED);
    expect(plans.has('forward:2')).toBe(true);
    const capped = await pageThrough(2, { probeWindow: 25, maxWindow: 30 });
    expect(capped.seen).toEqual(EXPECTED);
    expect(capped.plans.has('streams:2')).toBe(true);
  });

  it('gives the same pages with either plan forced', async () => {
    for (const plan of ['forward', 'streams', 'text'] as const) {
      for (const limit of [1, 2, 5, 13]) {
        const { seen, plans } = await pageThrough(limit, { plan });
        expect(seen, `${plan} ${limit}`).toEqual(EXPECTED);
        expect([...plans].every((p) => p.startsWith(`${plan}:`)), [...plans].join()).toBe(true);
      }
    }
  });
});

describe('a text filter', () => {
  it('takes the same plan, in as many statements, for a text only invisible objects hold as for one nothing holds', async () => {
    // Issue 15: the plan (and so the time) must not tell a viewer whether objects it may not see match.
    const other = await createTenant(t, 'TextTiming');
    const reader = await other.account({ member: false });
    await other.ingest('mapUsers', { directMappings: [{ externalId: 'r', accountId: reader.accountId, updateSequenceNumber: 1 }] });
    const objects = Array.from({ length: 90 }, (_, i) =>
      objectInput(`T-${i}`, {
        displayName: i % 10 === 0 ? `visible ${i}` : i % 2 ? `needle ${i}` : `hay ${i}`,
        lastUpdatedAt: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 1000).toISOString(),
        permissions: viewAcl([userPrincipal(i % 10 === 0 ? 'r' : 'nobody')]),
      }),
    );
    await other.ingest('setObjects', { objects });
    const principals = await loadViewerPrincipals(t.db, other.orgId, reader.accountId);
    for (const tuning of [{ probeWindow: 8 }, { probeWindow: 40, maxWindow: 50 }, { probeWindow: 40 }] as VisibilityTuning[]) {
      const plans = [];
      for (const text of ['needle', 'absent', 'visible 8']) {
        const trace = {} as VisibilityPlanTrace;
        const rows = await listVisibleObjects(t.db, other.orgId, principals, { types: TYPES, text }, { limit: 3 }, trace, tuning);
        plans.push({ text, plan: `${trace.plan}:${trace.statements}`, found: rows.map((r) => r.external_id) });
      }
      expect(plans[0].found).toEqual([]);
      expect(plans[1].found).toEqual([]);
      expect(plans[2].found).toEqual(['T-80']);
      expect(plans[0].plan, JSON.stringify(tuning)).toBe(plans[1].plan);
    }
  });
});

describe('a text rare among what a wide viewer sees', () => {
  it('is read from the text index, in the same plan whether or not invisible objects hold it', async () => {
    const other = await createTenant(t, 'WideText');
    const reader = await other.account({ member: true });
    const objects = Array.from({ length: 150 }, (_, i) =>
      objectInput(`W-${i}`, {
        displayName: `plain ${i}`,
        description: i === 7 ? 'holds the Rare-Token somewhere' : i === 9 ? 'a secret-token nobody may see' : 'nothing here',
        lastUpdatedAt: new Date(Date.parse('2026-04-01T00:00:00Z') + i * 1000).toISOString(),
        // The workspace sees all but one object.
        ...(i === 9 ? { permissions: viewAcl([userPrincipal('nobody')]) } : {}),
      }),
    );
    for (let i = 0; i < objects.length; i += 100) await other.ingest('setObjects', { objects: objects.slice(i, i + 100) });
    const principals = await loadViewerPrincipals(t.db, other.orgId, reader.accountId);
    const run = async (text: string) => {
      const trace = {} as VisibilityPlanTrace;
      const rows = await listVisibleObjects(t.db, other.orgId, principals, { types: TYPES, text }, { limit: 3 }, trace, { probeWindow: 20 });
      return { plan: `${trace.plan}:${trace.statements}`, found: rows.map((r) => r.external_id) };
    };
    expect(await run('rare-token')).toEqual({ plan: 'text:2', found: ['W-7'] });
    expect(await run('secret-token')).toEqual({ plan: 'text:2', found: [] });
    expect(await run('absent-token')).toEqual({ plan: 'text:2', found: [] });
    // Another organisation's objects holding the text are not this one's (the index holds both).
    const neighbour = await createTenant(t, 'NeighbourText');
    await neighbour.ingest('setObjects', { objects: [objectInput('N-1', { description: 'also a rare-token' })] });
    expect(await run('rare-token')).toEqual({ plan: 'text:2', found: ['W-7'] });
    // A common text is answered by the newest objects.
    expect((await run('plain 14')).plan).toBe('forward:1');
  });
});
