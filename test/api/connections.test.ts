// Connections for admins (issue 5, first part): listing, and rotating a client secret so that the
// old one is refused at once, with the connection's sessions ended and the rotation audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, objectInput, startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ROTATE = 'mutation($i: RotateConnectionSecretInput!) { rotateConnectionSecret(input: $i) { clientId clientSecret revokedSessionCount } }';

/** client_credentials at the token endpoint, as a connector does. */
async function clientCredentials(clientId: string, secret: string) {
  const response = await t.app.fetch(
    new Request('http://teamgraph.test/oauth/token', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    }),
  );
  return { status: response.status, body: (await response.json()) as { access_token?: string; error?: string } };
}

const ingest = (token: string, connectionId: string, externalId: string) =>
  t.graphql(token, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', { i: { connectionId, objects: [objectInput(externalId)] } });

describe('connections for admins', () => {
  it('lists the organisation’s connections for an admin, and for nobody else', async () => {
    const tenant = await createTenant(t, 'Conn');
    const admin = await tenant.account({ admin: true });
    const listed = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { connections { id cloudId provider clientId } } }', { o: tenant.orgId });
    expect(listed.body.data.organization.connections).toEqual([{ id: tenant.connectionId, cloudId: tenant.cloudId, provider: 'jira', clientId: `jira-${tenant.orgId}.${tenant.connectionId}` }]);
    const member = await tenant.account();
    const refused = await t.graphql(member.token, 'query($o: ID!) { organization(id: $o) { connections { id } } }', { o: tenant.orgId });
    expect(refused.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('rotates the client secret: the old one is refused at once, its tokens end, the new one works, and it is audited', async () => {
    const tenant = await createTenant(t, 'Rotate');
    const admin = await tenant.account({ admin: true });
    const { connectionId, clientId, clientSecret: oldSecret } = await t.app.services.orgs.createConnection(tenant.cloudId, 'github');
    const before = await clientCredentials(clientId, oldSecret);
    expect(before.status).toBe(200);
    expect((await ingest(before.body.access_token!, connectionId, 'G-1')).body.data.setObjects.acceptedCount).toBe(1);

    const rotated = await t.graphql(admin.token, ROTATE, { i: { orgId: tenant.orgId, connectionId } });
    expect(rotated.body.errors).toBeUndefined();
    const { clientSecret: newSecret, revokedSessionCount } = rotated.body.data.rotateConnectionSecret;
    expect(newSecret).not.toBe(oldSecret);
    expect(revokedSessionCount).toBe(1);

    const withOld = await clientCredentials(clientId, oldSecret);
    expect(withOld).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await ingest(before.body.access_token!, connectionId, 'G-2')).status).toBe(401);
    const withNew = await clientCredentials(clientId, newSecret);
    expect(withNew.status).toBe(200);
    expect((await ingest(withNew.body.access_token!, connectionId, 'G-3')).body.data.setObjects.acceptedCount).toBe(1);
    // The tenant's other connection is untouched.
    expect((await ingest(tenant.connectionToken, tenant.connectionId, 'J-1')).body.data.setObjects.acceptedCount).toBe(1);

    const events = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditEvents(filter: { action: "connection.secret-rotated" }) { edges { node { actor { accountId } event } } } } }', { o: tenant.orgId });
    const [event] = events.body.data.organization.auditEvents.edges.map((e: any) => e.node);
    expect(event.actor.accountId).toBe(admin.accountId);
    expect(event.event.details).toEqual({ connectionId, revokedSessionCount: 1 });
    expect(JSON.stringify(event.event)).not.toContain(newSecret.slice(6));
  });

  it('answers NOT_FOUND for another organisation’s connection', async () => {
    const tenant = await createTenant(t, 'Mine');
    const other = await createTenant(t, 'Theirs');
    const admin = await tenant.account({ admin: true });
    const r = await t.graphql(admin.token, ROTATE, { i: { orgId: tenant.orgId, connectionId: other.connectionId } });
    expect(r.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await ingest(other.connectionToken, other.connectionId, 'T-1')).body.data.setObjects.acceptedCount).toBe(1);
  });
});
