import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t);
});
afterAll(() => t.close());

const containers = ['P1', 'P2', 'P3'].map((externalId) => ({ type: 'jira:project', externalId }));
const inContainer = (externalId: string, container: (typeof containers)[number], usn = 1) =>
  objectInput(externalId, { container, updateSequenceNumber: usn, permissions: [{ accessControls: [{ principals: [{ type: 'CONTAINER' }] }, { principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }] });

describe('concurrent setObjects batches', () => {
  it('land whole when four batches file into the same containers and rewrite the same objects in other orders', async () => {
    // Containers arrive in the middle of the batches, so some children are filed before their
    // container is stored and must be adopted by the batch that writes it.
    const batches = Array.from({ length: 4 }, (_, b) => {
      const own = Array.from({ length: 30 }, (_, i) => inContainer(`B${b}-${i}`, containers[i % 3]));
      // Every batch rewrites the same shared objects, each batch in its own order and with its own sequence number.
      const shared = Array.from({ length: 10 }, (_, i) => inContainer(`S-${i}`, containers[(i + b) % 3], b + 1));
      const ordered = b % 2 === 0 ? shared : [...shared].reverse();
      return [...own.slice(0, 15), ...ordered, objectInput(containers[b % 3].externalId, { type: 'jira:project', updateSequenceNumber: b + 1 }), ...own.slice(15)];
    });
    const results = await Promise.all(batches.map((objects) => tenant.ingest('setObjects', { objects })));
    for (const result of results) expect(result.rejectedCount).toBe(0);
    const live = await t.db.selectFrom('graph_object').select(['id', 'external_id', 'container_id', 'has_children', 'update_sequence_number', 'acl']).where('org_id', '=', tenant.orgId).execute();
    expect(live).toHaveLength(4 * 30 + 10 + 3);
    const byExternal = new Map(live.map((o) => [o.external_id, o]));
    // The newest write of each shared object won, whichever batch committed last.
    for (let i = 0; i < 10; i++) expect(byExternal.get(`S-${i}`)!.update_sequence_number).toBe(4);
    for (const container of containers) expect(byExternal.get(container.externalId)!.has_children).toBe(true);
    for (const object of live.filter((o) => o.external_id.startsWith('B') || o.external_id.startsWith('S'))) {
      expect(object.container_id, object.external_id).not.toBeNull();
    }
    // The VIEW index holds exactly the compiled controls of every stored object, containers marked.
    const entries = await t.db.selectFrom('acl_entry').select(['object_id', 'control_no', 'principal_key', 'on_container']).where('org_id', '=', tenant.orgId).execute();
    const expected = live.flatMap((o) => (o.acl as { VIEW: string[][] }).VIEW.flatMap((control, n) => control.map((key) => `${o.id} ${n} ${key} ${o.has_children}`)));
    expect(entries.map((e) => `${e.object_id} ${e.control_no} ${e.principal_key} ${e.on_container}`).sort()).toEqual(expected.sort());
  });
});
