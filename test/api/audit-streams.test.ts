// Audit streams through the API (issue 21, item 1): admins create, change, pause, resume and
// delete up to three per organisation; the secret goes in sealed and never comes out; only
// https:// receivers at public addresses unless the operator allows otherwise; every change audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';

const SECRET = 'correct-horse-battery-staple-42';
const CREATE = 'mutation($i: CreateAuditStreamInput!) { createAuditStream(input: $i) { id url format paused status { lagEvents lastDeliveredEventId lastError } } }';
const LIST = 'query($o: ID!) { organization(id: $o) { auditStreams { id url format paused pauseReason } } }';

let t: TestApp;
beforeAll(async () => {
  // As in production: https only, public addresses only.
  t = await startTestApp({ allowPrivateProviderUrls: false });
});
afterAll(() => t.close());

const codes = (r: { body: { errors?: { extensions: Record<string, any> }[] } }) => r.body.errors?.map((e) => e.extensions.subCode ?? e.extensions.code);

async function adminOf() {
  const tenant = await createTenant(t);
  const admin = await tenant.account({ admin: true });
  const create = (url = 'https://siem.example.com/teamgraph', format = 'JSON_LINES', secret = SECRET) => t.graphql(admin.token, CREATE, { i: { orgId: tenant.orgId, url, format, secret } });
  return { tenant, admin, create };
}

async function actionsOf(orgId: string) {
  const rows = await t.db.selectFrom('audit_event').select(['action', 'event_json']).where('org_id', '=', orgId).where('action', 'like', 'audit-stream.%').orderBy('seq').execute();
  return rows.map((r) => ({ action: r.action, details: JSON.parse(r.event_json).details, json: r.event_json }));
}

describe('audit streams', () => {
  it('creates a stream positioned at the chain head, seals the secret and never returns it', async () => {
    const { tenant, create } = await adminOf();
    const created = await create();
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data.createAuditStream).toMatchObject({ url: 'https://siem.example.com/teamgraph', format: 'JSON_LINES', paused: false, status: { lastDeliveredEventId: null, lastError: null } });
    const row = await t.db.selectFrom('audit_stream').selectAll().where('id', '=', created.body.data.createAuditStream.id).executeTakeFirstOrThrow();
    expect(row.sealed_secret).not.toContain(SECRET);
    const fields = await t.graphql((await tenant.account({ admin: true })).token, '{ __type(name: "AuditStream") { fields { name } } }');
    expect(fields.body.data.__type.fields.map((f: any) => f.name)).not.toContain('secret');
    const [event] = await actionsOf(tenant.orgId);
    expect(event).toMatchObject({ action: 'audit-stream.created', details: { url: 'https://siem.example.com/teamgraph', format: 'JSON_LINES' } });
    expect(event.json).not.toContain(SECRET);
  });

  it('refuses plain http, private addresses, credentials in the URL and short secrets, each with its own code', async () => {
    const { create } = await adminOf();
    expect(codes(await create('http://siem.example.com/x'))).toEqual(['INVALID_URL']);
    expect(codes(await create('https://10.0.0.5/x'))).toEqual(['INVALID_URL']);
    expect(codes(await create('https://[::1]:8088/x'))).toEqual(['INVALID_URL']);
    expect(codes(await create('https://user:pw@siem.example.com/x'))).toEqual(['INVALID_URL']);
    expect(codes(await create('not a url'))).toEqual(['INVALID_URL']);
    expect(codes(await create(undefined, 'JSON_LINES', 'short'))).toEqual(['INVALID_SECRET']);
    expect(codes(await create(undefined, 'XML'))).toEqual(['INVALID_VARIABLES']);
  });

  it('keeps an organisation to three streams', async () => {
    const { create } = await adminOf();
    for (let i = 0; i < 3; i++) expect((await create(`https://siem${i}.example.com/x`)).body.errors).toBeUndefined();
    expect(codes(await create('https://siem4.example.com/x'))).toEqual(['TOO_MANY_STREAMS']);
  });

  it('changes, pauses, resumes and deletes a stream, auditing each with what changed', async () => {
    const { tenant, admin, create } = await adminOf();
    const id = (await create()).body.data.createAuditStream.id;
    const run = (query: string, variables: Record<string, unknown>) => t.graphql(admin.token, query, variables);
    const updated = await run('mutation($i: UpdateAuditStreamInput!) { updateAuditStream(input: $i) { url format } }', { i: { id, url: 'https://hec.example.com:8088/services/collector', format: 'SPLUNK_HEC', secret: 'a-new-hec-token-0000000' } });
    expect(updated.body.data.updateAuditStream).toEqual({ url: 'https://hec.example.com:8088/services/collector', format: 'SPLUNK_HEC' });
    expect((await run('mutation($id: ID!) { pauseAuditStream(id: $id) { paused } }', { id })).body.data.pauseAuditStream.paused).toBe(true);
    expect((await run(LIST, { o: tenant.orgId })).body.data.organization.auditStreams[0]).toMatchObject({ paused: true, pauseReason: 'paused by an admin' });
    expect((await run('mutation($id: ID!) { resumeAuditStream(id: $id) { paused pauseReason } }', { id })).body.data.resumeAuditStream).toEqual({ paused: false, pauseReason: null });
    expect((await run('mutation($id: ID!) { deleteAuditStream(id: $id) }', { id })).body.data.deleteAuditStream).toBe(id);
    expect((await run(LIST, { o: tenant.orgId })).body.data.organization.auditStreams).toEqual([]);
    const events = await actionsOf(tenant.orgId);
    expect(events.map((e) => e.action)).toEqual(['audit-stream.created', 'audit-stream.updated', 'audit-stream.paused', 'audit-stream.resumed', 'audit-stream.deleted']);
    expect(events[1].details).toMatchObject({ before: { format: 'JSON_LINES' }, after: { format: 'SPLUNK_HEC' }, secretChanged: true });
    for (const event of events) expect(event.json).not.toMatch(/a-new-hec-token|correct-horse/);
  });

  it('answers NOT_FOUND for a stream of another organisation and leaves it alone', async () => {
    const theirs = await adminOf();
    const id = (await theirs.create()).body.data.createAuditStream.id;
    const mine = await adminOf();
    for (const mutation of ['pauseAuditStream(id: $id) { id }', 'resumeAuditStream(id: $id) { id }', 'deleteAuditStream(id: $id)']) {
      const result = await t.graphql(mine.admin.token, `mutation($id: ID!) { ${mutation} }`, { id });
      expect(codes(result)).toEqual(['NOT_FOUND']);
    }
    expect((await t.graphql(mine.admin.token, 'query($id: ID!) { node(id: $id) { id } }', { id })).body.data.node).toBeNull();
    expect((await t.graphql(theirs.admin.token, LIST, { o: theirs.tenant.orgId })).body.data.organization.auditStreams).toHaveLength(1);
  });

  it('is for admins only: a CLI session of an admin or a member cannot see or create streams', async () => {
    const { tenant } = await adminOf();
    const member = await tenant.account();
    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    for (const caller of [member, adminOnCli]) {
      const created = await t.graphql(caller.token, CREATE, { i: { orgId: tenant.orgId, url: 'https://siem.example.com/x', format: 'JSON_LINES', secret: SECRET } });
      expect(created.body.data?.createAuditStream ?? null).toBeNull();
      expect(codes(created)?.[0]).toMatch(/RESTRICTED|FORBIDDEN/);
    }
    expect(await t.db.selectFrom('audit_stream').select('id').where('org_id', '=', tenant.orgId).execute()).toEqual([]);
  });

  it('shows the lag: the events appended since the last delivery', async () => {
    const { tenant, admin, create } = await adminOf();
    await create();
    for (let i = 0; i < 3; i++) await t.graphql(admin.token, '{ viewer { account { id } } }');
    const listed = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditStreams { status { lagEvents } } } }', { o: tenant.orgId });
    // The creation's action and request events, and the three requests'.
    expect(listed.body.data.organization.auditStreams[0].status.lagEvents).toBe(5);
  });
});
