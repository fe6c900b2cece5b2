import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadAuditChain } from '../../bench/audit-chain.ts';
import { createApp } from '../../src/app.ts';
import { createServices } from '../../src/services.ts';
import { TEST_ORIGIN } from '../support/app.ts';
import { onCitus, openTestDatabase } from '../support/database.ts';
import { openPglite } from '../../src/db/pglite.ts';
import type { Database } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/** Runs the operator command line as a newcomer would, on its own embedded database. */
async function admin(dataDir: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: '', TEAMGRAPH_DATA_DIR: dataDir },
    });
    return { code: 0, stdout, stderr };
  } catch (error: any) {
    return { code: error.code as number, stdout: error.stdout as string, stderr: error.stderr as string };
  }
}

/** Opens the command line's data folder in this process, between two runs of it. */
async function withDataDir<T>(dataDir: string, use: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const handle = await openPglite({ dataDir });
  try {
    return await use(handle.db);
  } finally {
    await handle.close();
  }
}

// The command line always runs on an embedded data folder of its own (DATABASE_URL is emptied for
// it), so the PostgreSQL pass would repeat this file exactly; it runs once, in the embedded pass.
describe.skipIf(Boolean(process.env.DATABASE_URL))('the operator command line', () => {
  it('bootstraps an organisation whose ids and token work against the API', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-admin-')), 'data');
    const org = await admin(dataDir, 'org', 'create', '--name', 'Acme');
    expect(org.code).toBe(0);
    const { orgId } = JSON.parse(org.stdout);
    const { cloudId } = JSON.parse((await admin(dataDir, 'site', 'create', '--org', orgId, '--name', 'acme')).stdout);
    const created = await admin(dataDir, 'account', 'create', '--org', orgId, '--email', 'Ada@Acme.test', '--name', 'Ada', '--admin', '--site', cloudId);
    const { accountId } = JSON.parse(created.stdout);
    const issued = await admin(dataDir, 'token', '--account', accountId, '--scope', 'read:work-item:jira');
    const token = JSON.parse(issued.stdout);
    expect(Object.keys(token).sort()).toEqual(['accessToken', 'expiresAt', 'scopes', 'sessionId']);
    expect(token.scopes).toEqual(['read:work-item:jira']);
    expect(issued.stdout.trim().split('\n')).toHaveLength(1);

    const viewer = async () => {
      const handle = await openPglite({ dataDir });
      try {
        const response = await createApp({ db: handle.db, publicUrl: TEST_ORIGIN }).fetch(
          new Request('http://teamgraph.test/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token.accessToken}` },
            body: JSON.stringify({ query: '{ viewer { account { id email isOrgAdmin } organization { id sites { cloudId } } grantedPermissions } }' }),
          }),
        );
        return { status: response.status, body: await response.json() };
      } finally {
        await handle.close();
      }
    };
    expect((await viewer()).body.data.viewer).toEqual({
      account: { id: accountId, email: 'Ada@Acme.test', isOrgAdmin: true },
      organization: { id: orgId, sites: [{ cloudId }] },
      grantedPermissions: ['read:work-item:jira'],
    });
    const connection = JSON.parse((await admin(dataDir, 'connection', 'create', '--site', cloudId, '--provider', 'jira')).stdout);
    const listed = JSON.parse((await admin(dataDir, 'connection', 'list', '--org', orgId)).stdout);
    expect(listed.connections).toEqual([{ connectionId: connection.connectionId, cloudId, provider: 'jira', clientId: connection.clientId, enabled: true, createdAt: expect.any(String) }]);
    const rotated = JSON.parse((await admin(dataDir, 'connection', 'rotate-secret', '--connection', connection.connectionId)).stdout);
    expect(rotated).toMatchObject({ connectionId: connection.connectionId, clientId: connection.clientId, revokedSessionCount: 0 });
    expect(rotated.clientSecret).toMatch(/^twgcs_/);
    expect(rotated.clientSecret).not.toBe(connection.clientSecret);
    const disabled = await admin(dataDir, 'connection', 'disable', '--connection', connection.connectionId);
    expect(JSON.parse(disabled.stdout)).toEqual({ connectionId: connection.connectionId, enabled: false });
    const enabled = await admin(dataDir, 'connection', 'enable', '--connection', connection.connectionId);
    expect(JSON.parse(enabled.stdout)).toEqual({ connectionId: connection.connectionId, enabled: true });
    const deleted = await admin(dataDir, 'connection', 'delete', '--connection', connection.connectionId);
    expect(JSON.parse(deleted.stdout)).toEqual({ connectionId: connection.connectionId, deleted: true, deletedObjects: 0 });
    expect(deleted.stderr).toContain(`deleting connection ${connection.connectionId}: 0/0 objects, done`);
    expect(JSON.parse((await admin(dataDir, 'connection', 'list', '--org', orgId)).stdout).connections).toEqual([]);

    const deactivated = await admin(dataDir, 'account', 'deactivate', '--account', accountId);
    expect(JSON.parse(deactivated.stdout)).toEqual({ accountId, active: false });
    expect((await viewer()).status).toBe(401);
    // A dozen processes, each opening the embedded database and migrating it.
  }, 180_000);

  it('verifies the audit chain incrementally, and in full with --full and progress on stderr', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-admin-')), 'data');
    const tamper = (db: Kysely<Database>, id: string, from: string, to: string) =>
      sql.raw(`alter table audit_event disable trigger audit_event_append_only;
        update audit_event set event_json = replace(event_json, '${from}', '${to}') where id = '${id}';
        alter table audit_event enable trigger audit_event_append_only;`).execute(db);
    // 12,000 events written in bulk and verified as verifyAuditChain does; then a change, behind
    // the triggers' back, to an event that check verified.
    const { orgId, victim } = await withDataDir(dataDir, async (db) => {
      await migrateToLatest(db);
      const services = createServices({ db });
      const { orgId } = await services.orgs.createOrganization('Chained');
      await loadAuditChain(db, orgId, 12_000);
      expect(await services.audit.verify(orgId)).toEqual({ valid: true, eventsChecked: 12_000, firstBrokenEventId: null });
      const victim = (await sql<{ id: string }>`select id from audit_event where org_id = ${orgId} and seq = 11000`.execute(db)).rows[0].id;
      await tamper(db, victim, '"cli.command.invoked"', '"cli.command.invokeD"');
      return { orgId, victim };
    });
    const incremental = await admin(dataDir, 'audit', 'verify', '--org', orgId);
    expect(JSON.parse(incremental.stdout)).toEqual({ orgId, valid: true, eventsChecked: 0, firstBrokenEventId: null });
    expect(incremental.stderr).toBe('');

    const line = (checked: number, percent: number) => `verifying the audit chain of ${orgId}: ${checked}/12000 events (${percent}%)`;
    const broken = await admin(dataDir, 'audit', 'verify', '--org', orgId, '--full');
    expect(broken.code).toBe(0);
    expect(broken.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(broken.stdout)).toEqual({ orgId, valid: false, eventsChecked: 11_000, firstBrokenEventId: victim });
    expect(broken.stderr.trim().split('\n')).toEqual([line(10_000, 83)]);

    await withDataDir(dataDir, (db) => tamper(db, victim, '"cli.command.invokeD"', '"cli.command.invoked"'));
    const intact = await admin(dataDir, 'audit', 'verify', '--org', orgId, '--full');
    expect(JSON.parse(intact.stdout)).toEqual({ orgId, valid: true, eventsChecked: 12_000, firstBrokenEventId: null });
    expect(intact.stderr.trim().split('\n')).toEqual([line(10_000, 83), line(12_000, 100)]);
  }, 180_000);

  it('creates, lists and revokes admin API keys as the operator, and a created key reaches admin fields until revoked', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-admin-')), 'data');
    const { orgId, adaId, bobId } = await withDataDir(dataDir, async (db) => {
      await migrateToLatest(db);
      const { orgs } = createServices({ db });
      const { orgId } = await orgs.createOrganization('Keyed');
      const ada = await orgs.createAccount({ orgId, email: 'ada@keyed.test', displayName: 'Ada', admin: true });
      const bob = await orgs.createAccount({ orgId, email: 'bob@keyed.test', displayName: 'Bob' });
      return { orgId, adaId: ada.accountId, bobId: bob.accountId };
    });
    // A key acts for its account and works only while it is an admin: the operator is told so, not handed a dead key.
    const refused = await admin(dataDir, 'admin-key', 'create', '--account', bobId);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`Account ${bobId} is not an organisation admin; a key works only for an admin: run account make-admin --account ${bobId} first.`);

    const created = await admin(dataDir, 'admin-key', 'create', '--account', adaId, '--label', 'nightly export', '--expires-in-days', '30');
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(Object.keys(key).sort()).toEqual(['apiKeyId', 'secret']);
    expect(key.secret).toMatch(/^twgk_/);
    const byEmail = JSON.parse((await admin(dataDir, 'admin-key', 'create', '--email', 'ADA@keyed.test')).stdout);

    const listed = JSON.parse((await admin(dataDir, 'admin-key', 'list', '--org', orgId)).stdout);
    expect(listed.adminApiKeys).toHaveLength(2);
    const nightly = listed.adminApiKeys.find((k: any) => k.apiKeyId === key.apiKeyId);
    expect(nightly).toEqual({ apiKeyId: key.apiKeyId, label: 'nightly export', accountId: adaId, status: 'active', createdAt: expect.any(String), expiresAt: expect.any(String), revokedAt: null, lastUsedAt: null });
    expect(Math.abs(Date.parse(nightly.expiresAt) - Date.parse(nightly.createdAt) - 30 * 86_400_000)).toBeLessThan(1000);
    expect(listed.adminApiKeys.find((k: any) => k.apiKeyId === byEmail.apiKeyId)).toMatchObject({ label: 'operator command line', accountId: adaId, expiresAt: null });
    expect(JSON.stringify(listed)).not.toContain(key.secret.split('.')[1]);

    const settingsAs = (secret: string) =>
      withDataDir(dataDir, async (db) => {
        const response = await createApp({ db, publicUrl: TEST_ORIGIN }).fetch(
          new Request(`${TEST_ORIGIN}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
            body: JSON.stringify({ query: '{ viewer { organization { id cliSettings { version } } } }' }),
          }),
        );
        return { status: response.status, body: await response.json() };
      });
    expect((await settingsAs(key.secret)).body).toEqual({ data: { viewer: { organization: { id: orgId, cliSettings: { version: 0 } } } } });

    const revoked = await admin(dataDir, 'admin-key', 'revoke', '--key', key.apiKeyId);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ apiKeyId: key.apiKeyId, revokedAt: expect.any(String) });
    expect((await settingsAs(key.secret)).status).toBe(401);
    expect(JSON.parse((await admin(dataDir, 'admin-key', 'list', '--org', orgId)).stdout).adminApiKeys.find((k: any) => k.apiKeyId === key.apiKeyId).status).toBe('revoked');

    const unknown = await admin(dataDir, 'admin-key', 'revoke', '--key', 'key_nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('No admin API key key_nope; admin-key list --org ORG lists them.');

    // Audited as the operator's (no actor), naming the account each key acts for.
    const events = await withDataDir(dataDir, (db) =>
      db.selectFrom('audit_event').select('event_json').where('org_id', '=', orgId).orderBy('seq').execute(),
    );
    const actions = events.map((e) => JSON.parse(e.event_json)).filter((e) => e.action.startsWith('admin-api-key.'));
    expect(actions.map((e) => [e.action, e.actor, e.details.keyId])).toEqual([
      ['admin-api-key.created', { accountId: null, email: null }, key.apiKeyId],
      ['admin-api-key.created', { accountId: null, email: null }, byEmail.apiKeyId],
      ['admin-api-key.revoked', { accountId: null, email: null }, key.apiKeyId],
    ]);
    expect(actions[0].details).toMatchObject({ name: 'nightly export', createdBy: adaId, expiresAt: nightly.expiresAt });
  }, 180_000);

  it('prints one line on stderr and exits 1 on an error', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-admin-')), 'data');
    const result = await admin(dataDir, 'org', 'create', '--bogus');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--bogus');
  });
});

// Issue 18: the operator command line on a Citus cluster, against the test file's clone of the
// cluster database: an organisation bootstrapped, a token that works, a connection deleted and
// the audit chain verified.
describe.runIf(onCitus())('the operator command line on Citus', () => {
  it('bootstraps an organisation, issues a token the API accepts, deletes a connection and verifies the chain', async () => {
    const handle = await openTestDatabase();
    const env = { ...process.env, DATABASE_URL: handle.url! };
    const cli = async (...args: string[]) => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], { cwd: root, env });
      return JSON.parse(stdout);
    };
    try {
      const { orgId } = await cli('org', 'create', '--name', 'Sharded');
      const { cloudId } = await cli('site', 'create', '--org', orgId, '--name', 'sharded');
      const { accountId } = await cli('account', 'create', '--org', orgId, '--email', 'ada@sharded.test', '--name', 'Ada', '--admin', '--site', cloudId);
      const token = await cli('token', '--account', accountId, '--scope', 'read:work-item:jira');
      const response = await createApp({ db: handle.db, publicUrl: TEST_ORIGIN }).fetch(
        new Request(`${TEST_ORIGIN}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token.accessToken}` },
          body: JSON.stringify({ query: '{ viewer { account { id } organization { id } } }' }),
        }),
      );
      expect(await response.json()).toEqual({ data: { viewer: { account: { id: accountId }, organization: { id: orgId } } } });
      const { connectionId } = await cli('connection', 'create', '--site', cloudId, '--provider', 'jira');
      await cli('connection', 'delete', '--connection', connectionId);
      expect(await handle.db.selectFrom('connection').select('id').where('org_id', '=', orgId).execute()).toEqual([]);
      expect(await cli('audit', 'verify', '--org', orgId)).toMatchObject({ valid: true });
    } finally {
      await handle.close();
    }
  }, 120_000);
});
