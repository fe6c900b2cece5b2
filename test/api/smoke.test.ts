import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, objectInput, startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('smoke', () => {
  it('ingests and lists', async () => {
    const tenant = await createTenant(t);
    const alice = await tenant.account();
    const payload = await tenant.ingest('setObjects', { objects: [objectInput('A-1'), objectInput('A-2')] });
    expect(payload.acceptedCount).toBe(2);
    const result = await t.graphql(alice.token, '{ viewer { account { email } grantedPermissions } objects { edges { node { id externalId container { id } viewerCanEdit relationships { edges { cursor } } } } pageInfo { hasNextPage } } }');
    console.log(JSON.stringify(result.body, null, 1));
    expect(result.body.data.objects.edges).toHaveLength(2);
  });
});
