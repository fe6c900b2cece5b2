// A mutation whose transaction PostgreSQL refuses for colliding with another (src/db/collisions.ts)
// runs again: the client gets its answer, not a fault, and the audit log one event. The deadlock is
// real: another connection holds a person's session and then asks for the organisation's CLI
// settings, which the mutation has saved and holds while it waits to end that session. A server
// back end only: the embedded database serves one connection at a time.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperator, createTenant, startTestApp, type TestApp } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);
const UPDATE = 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }';

let t: TestApp;
beforeAll(async () => {
  if (SERVER) t = await startTestApp();
});
afterAll(() => t?.close());

/** Whether a statement that ends sessions waits for a lock in this database. */
async function sessionEndWaits(): Promise<boolean> {
  const { rows } = onCitus()
    ? await sql<{ n: number }>`select count(*)::int as n from citus_lock_waits where blocked_statement like 'update "session" set "revoked_at"%'`.execute(t.db)
    : await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and query like 'update "session" set "revoked_at"%'`.execute(t.db);
  return rows[0].n > 0;
}

describe.runIf(SERVER)('a mutation that collides with another transaction', () => {
  it('runs again when PostgreSQL breaks a deadlock by refusing it, answers as if nothing happened and audits it once', async () => {
    const tenant = await createTenant(t, 'Collide');
    const admin = await tenant.account({ admin: true });
    const person = await tenant.account();
    await t.app.services.cliSettings.update(asOperator, tenant.orgId, admin.accountId, { allowAllByDefault: true, revokeSessions: false });
    const { rows: sessions } = await sql<{ id: string }>`select id from session where org_id = ${tenant.orgId} and account_id = ${person.accountId}`.execute(t.db);

    const other = new pg.Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query('begin');
      // This side never checks for the deadlock itself, so the mutation, waiting first, is refused.
      if (onCitus()) await other.query(`set local citus.propagate_set_commands = 'local'`);
      await other.query(`set local deadlock_timeout = '60s'`);
      await other.query('select 1 from session where org_id = $1 and id = $2 for update', [tenant.orgId, sessions[0].id]);
      t.statements.length = 0;
      const answer = t.graphql(admin.token, UPDATE, { i: { orgId: tenant.orgId, allowAllByDefault: false, revokeSessions: true } });
      let settled = false;
      void answer.finally(() => (settled = true));
      while (!settled && !(await sessionEndWaits()));
      expect(settled).toBe(false);
      // The mutation holds the settings it saved and waits for the session: now each waits for the other.
      await other.query('update cli_settings set version = version where org_id = $1', [tenant.orgId]);
      await other.query('commit');

      const { body } = await answer;
      expect(body.errors).toBeUndefined();
      expect(body.data.updateCliPermissions.revokedSessionCount).toBeGreaterThanOrEqual(1);
    } finally {
      await other.end();
    }
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
});
