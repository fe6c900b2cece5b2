// A mutation whose transaction PostgreSQL refuses for colliding with another (src/db/collisions.ts)
// runs again: the client gets its answer, not a fault, and the audit log one event; a connection's
// mutation, which is not run again, answers CONFLICT and keeps nothing. The deadlocks are real
// (test/support/collisions.ts). A server back end only.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperator, createTenant, objectInput, startTestApp, type TestApp } from '../support/app.ts';
import { collide } from '../support/collisions.ts';

const SERVER = Boolean(process.env.DATABASE_URL);
const UPDATE = 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }';
const INGEST = 'mutation($input: SetObjectsInput!) { setObjects(input: $input) { acceptedCount } }';

let t: TestApp;
beforeAll(async () => {
  if (SERVER) t = await startTestApp();
});
afterAll(() => t?.close());

describe.runIf(SERVER)('a mutation that collides with another transaction', () => {
  it('runs again when PostgreSQL breaks a deadlock by refusing it, answers as if nothing happened and audits it once', async () => {
    const tenant = await createTenant(t, 'Collide');
    const admin = await tenant.account({ admin: true });
    const person = await tenant.account();
    await t.app.services.cliSettings.update(asOperator, tenant.orgId, admin.accountId, { allowAllByDefault: true, revokeSessions: false });
    const { rows: sessions } = await sql<{ id: string }>`select id from session where org_id = ${tenant.orgId} and account_id = ${person.accountId}`.execute(t.db);

    t.statements.length = 0;
    // The mutation saves the settings, then waits for the session the other holds.
    const { body } = await collide(
      t,
      ['select 1 from session where org_id = $1 and id = $2 for update', [tenant.orgId, sessions[0].id]],
      () => t.graphql(admin.token, UPDATE, { i: { orgId: tenant.orgId, allowAllByDefault: false, revokeSessions: true } }),
      'update "session" set "revoked_at"',
      ['update cli_settings set version = version where org_id = $1', [tenant.orgId]],
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.updateCliPermissions.revokedSessionCount).toBeGreaterThanOrEqual(1);
    // It ran twice: the settings were saved twice, the first time rolled back.
    expect(t.statements.filter((s) => /^update "cli_settings"/.test(s))).toHaveLength(2);
    expect(t.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    const settings = await t.app.services.cliSettings.get(tenant.orgId);
    expect(settings.allowAllByDefault).toBe(false);
    const { rows: events } = await sql<{ n: number }>`
      select count(*)::int as n from audit_event where org_id = ${tenant.orgId} and action = 'cli.settings.updated' and actor_account_id = ${admin.accountId}`.execute(t.db);
    expect(events[0].n).toBe(1);
    const { rows: live } = await sql<{ n: number }>`select count(*)::int as n from session where org_id = ${tenant.orgId} and account_id = ${person.accountId} and revoked_at is null`.execute(t.db);
    expect(live[0].n).toBe(0);
  });

  it("answers CONFLICT to a connection whose batch a deadlock refused, which it sends again; nothing of it was kept", async () => {
    const tenant = await createTenant(t, 'Collide ingestion');
    await tenant.ingest('setObjects', { objects: [objectInput('A'), objectInput('B')] });
    const rewrite = { objects: [objectInput('A', { updateSequenceNumber: 2, displayName: 'A again' }), objectInput('B', { updateSequenceNumber: 2, displayName: 'B again' })] };
    // The batch writes its objects in the order of their keys: it takes A, then waits for B.
    const { body } = await collide(
      t,
      ['select 1 from graph_object where org_id = $1 and external_id = $2 for update', [tenant.orgId, 'B']],
      () => t.graphql(tenant.connectionToken, INGEST, { input: { connectionId: tenant.connectionId, ...rewrite } }),
      'insert into graph_object',
      ['update graph_object set display_name = display_name where org_id = $1 and external_id = $2', [tenant.orgId, 'A']],
    );
    expect(body.errors?.map((e) => e.extensions.code)).toEqual(['CONFLICT']);
    expect(t.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    const names = async () => (await sql<{ display_name: string }>`select display_name from graph_object where org_id = ${tenant.orgId} order by external_id`.execute(t.db)).rows.map((r) => r.display_name);
    expect(await names()).toEqual(['Item A', 'Item B']);
    const again = await t.graphql(tenant.connectionToken, INGEST, { input: { connectionId: tenant.connectionId, ...rewrite } });
    expect(again.body.data.setObjects.acceptedCount).toBe(2);
    expect(await names()).toEqual(['A again', 'B again']);
  });
});
