// GraphObject.relationships is paged in SQL a window at a time (issue 16): a page costs about the
// page, and edges whose other end the caller cannot see are skipped, window after window, without
// repeats or gaps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, objectInput, startTestApp, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

let t: TestApp;
let viewer: { accountId: string; token: string };
let hubId: string;
const EDGES = 90;
// Every fifth edge leads to an object the viewer sees; the others to objects nobody sees.
const visible = (i: number) => i % 5 === 0;

beforeAll(async () => {
  t = await startTestApp();
  const tenant = await createTenant(t);
  viewer = await tenant.account({ member: false });
  await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'v', accountId: viewer.accountId, updateSequenceNumber: 1 }] });
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('HUB', { permissions: viewAcl([userPrincipal('v')]) }),
      ...Array.from({ length: EDGES }, (_, i) => objectInput(`E-${String(i).padStart(3, '0')}`, { permissions: viewAcl([userPrincipal(visible(i) ? 'v' : 'nobody')]) })),
    ],
  });
  await tenant.ingest('setRelationships', {
    relationships: Array.from({ length: EDGES }, (_, i) => ({
      type: i % 2 ? 'work-item-links-work-item' : 'work-item-blocks-work-item',
      from: { type: 'jira:work-item', externalId: 'HUB' },
      to: { type: 'jira:work-item', externalId: `E-${String(i).padStart(3, '0')}` },
      updateSequenceNumber: 1,
    })),
  });
  const r = await t.graphql(viewer.token, '{ objects(first: 100) { edges { node { id externalId } } } }');
  hubId = r.body.data.objects.edges.find((e: any) => e.node.externalId === 'HUB').node.id;
});
afterAll(() => t.close());

async function pageThrough(first: number) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const r = await t.graphql(viewer.token, 'query($id: ID!, $first: Int, $after: String) { object(id: $id) { relationships(first: $first, after: $after) { edges { node { type to { externalId } } } pageInfo { hasNextPage endCursor } } } }', { id: hubId, first, after });
    expect(r.body.errors).toBeUndefined();
    const connection = r.body.data.object.relationships;
    seen.push(...connection.edges.map((e: any) => `${e.node.type} ${e.node.to.externalId}`));
    if (!connection.pageInfo.hasNextPage) return seen;
    after = connection.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('relationship pages', () => {
  it('lists every visible edge once, in (type, other end) order, through windows of invisible ones', async () => {
    const expected = Array.from({ length: EDGES }, (_, i) => i)
      .filter(visible)
      .map((i) => ({ type: i % 2 ? 'work-item-links-work-item' : 'work-item-blocks-work-item', externalId: `E-${String(i).padStart(3, '0')}` }));
    for (const first of [1, 3, 7, 25]) {
      const seen = await pageThrough(first);
      expect(seen.length, `first: ${first}`).toBe(expected.length);
      expect(new Set(seen).size).toBe(seen.length);
      // By type, then by the other end's id (server ids follow no order of external ids).
      expect(seen.map((s) => s.split(' ')[0])).toEqual([...seen.map((s) => s.split(' ')[0])].sort());
      expect(new Set(seen)).toEqual(new Set(expected.map((e) => `${e.type} ${e.externalId}`)));
    }
  });
});
