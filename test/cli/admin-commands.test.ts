// twg admin, as an admin API key through the real binary: CLI permission settings (categories,
// select-all, clear, single permissions, save with and without revoking), session revocation,
// the IP allowlist and the audit log (query and streamed export); and how a person's twg
// experiences each change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperator, objectInput } from '../support/app.ts';
import { CliHarness, type CliTenant, type Machine } from '../support/cli-harness.ts';

let h: CliHarness;

beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(() => h?.close());

async function organisation(name: string) {
  const org = await h.tenant(name);
  await org.tenant.ingest('setObjects', { objects: [objectInput('P', { type: 'jira:project', displayName: 'P' }), objectInput('P-1', { container: { type: 'jira:project', externalId: 'P' } })] });
  const console = h.machine();
  const admin = (args: string[]) => console.run(['admin', ...args], { TWG_ADMIN_API_KEY: org.adminApiKey });
  return { org, admin };
}

async function signedIn(org: CliTenant): Promise<{ machine: Machine; accountId: string; email: string }> {
  const person = await org.person();
  const machine = h.machine();
  await machine.signIn(person.email);
  return { machine, ...person };
}

describe('twg admin permissions', () => {
  it('shows the settings by category, as a table and as JSON', async () => {
    const { admin } = await organisation('AdminShow');
    const shown = await admin(['permissions', 'show']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/allow all by default:\s+yes/);
    expect(shown.stdout).toMatch(/^CATEGORY\s+PERMISSION\s+ALLOWED\s+DESCRIPTION$/m);
    expect(shown.stdout).toMatch(/^DELETE\s+delete:work-item:jira\s+yes\s+Delete work items\.$/m);
    const json = JSON.parse((await admin(['permissions', 'show', '--json'])).stdout);
    expect(json.allowAllByDefault).toBe(true);
    expect(json.categories.map((c: any) => c.category)).toEqual(['READ', 'WRITE_AND_MANAGE', 'DELETE']);
  });

  it('exits 3 and says what to set when TWG_ADMIN_API_KEY is missing', async () => {
    const result = await h.machine().run(['admin', 'permissions', 'show']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/admin commands need an admin API key in TWG_ADMIN_API_KEY/);
  });

  it('clears a category without revoking: sessions stay, the category is restricted at once', async () => {
    const { org, admin } = await organisation('AdminClear');
    const { machine } = await signedIn(org);
    const set = await admin(['permissions', 'set', '--clear', 'delete', '--json']);
    expect(set.code, set.stderr).toBe(0);
    const saved = JSON.parse(set.stdout);
    expect(saved.revokedSessionCount).toBe(0);
    expect(saved.settings.allowAllByDefault).toBe(false);
    expect(saved.settings.effectivePermissions.some((p: string) => p.startsWith('delete:'))).toBe(false);
    expect(saved.settings.effectivePermissions).toContain('read:work-item:jira');

    const item = JSON.parse((await machine.run(['jira', 'workitem', 'query', '--json'])).stdout)[0];
    const deleted = await machine.run(['jira', 'workitem', 'delete', item.id]);
    expect(deleted.code).toBe(2);
    expect(deleted.stderr).toMatch(/^restricted: this command needs delete:work-item:jira \(not allowed by your organisation\)$/m);
  });

  it('selects a category and single permissions, and saving with --revoke-sessions ends every twg session', async () => {
    const { org, admin } = await organisation('AdminRevoke');
    const one = await signedIn(org);
    const two = await signedIn(org);
    const set = await admin(['permissions', 'set', '--clear', 'write', '--clear', 'delete', '--allow', 'write:work-item:jira', '--revoke-sessions', '--json']);
    expect(set.code, set.stderr).toBe(0);
    const saved = JSON.parse(set.stdout);
    expect(saved.revokedSessionCount).toBe(2);
    expect(saved.settings.effectivePermissions.filter((p: string) => !p.startsWith('read:'))).toEqual(['write:work-item:jira']);
    for (const { machine } of [one, two]) {
      const result = await machine.run(['jira', 'workitem', 'query']);
      expect(result.code).toBe(77);
      expect(result.stderr).toMatch(/run: twg login/);
    }
    // A new login is granted only what is allowed now.
    const again = await signedIn(org);
    const whoami = JSON.parse((await again.machine.run(['whoami', '--json'])).stdout);
    expect(whoami.grantedPermissions).toContain('write:work-item:jira');
    expect(whoami.grantedPermissions).not.toContain('write:page:confluence');

    const restored = JSON.parse((await admin(['permissions', 'set', '--allow-all', '--json'])).stdout);
    expect(restored.settings.allowAllByDefault).toBe(true);
  });

  it('refuses an unknown permission in --allow and in --deny with exit 1, naming it, and saves nothing', async () => {
    const { org, admin } = await organisation('AdminUnknown');
    const version = async () => (await h.t.app.services.cliSettings.get(org.orgId)).version;
    const unknown = await admin(['permissions', 'set', '--allow', 'read:nothing:nowhere']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^unknown permission "read:nothing:nowhere" in --allow; nothing was saved$/m);
    const denied = await admin(['permissions', 'set', '--deny', 'read:nonsense:jira', '--clear', 'delete']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^unknown permission "read:nonsense:jira" in --deny; nothing was saved$/m);
    expect(denied.stderr).toMatch(/^twg admin permissions show lists every permission$/m);
    const typo = await admin(['permissions', 'set', '--deny', 'read:work-item:jra', '--json']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/^did you mean read:work-item:jira\?$/m);
    expect(JSON.parse(typo.stdout).error).toMatchObject({ code: 'UNKNOWN_PERMISSION', flag: '--deny', permission: 'read:work-item:jra', exitCode: 1 });
    expect(await version()).toBe(0);
    // Every other flag: categories are checked, a removal that allow-all would ignore is refused.
    expect((await admin(['permissions', 'set', '--clear', 'everything'])).code).toBe(1);
    const ignored = await admin(['permissions', 'set', '--allow-all', '--deny', 'read:work-item:jira']);
    expect(ignored.code).toBe(1);
    expect(ignored.stderr).toMatch(/--allow-all allows every permission, so --deny would change nothing/);
    expect((await admin(['permissions', 'set'])).code).toBe(1);
    expect(await version()).toBe(0);
  });

  it('says "no change", exits 0 and saves no version when the settings already are what is asked', async () => {
    const { org, admin } = await organisation('AdminNoChange');
    const saves = async () =>
      (await h.t.db.selectFrom('audit_event').select('action').where('org_id', '=', org.orgId).where('action', '=', 'cli.settings.updated').execute()).length;
    const cleared = await admin(['permissions', 'set', '--clear', 'delete']);
    expect(cleared.stderr).toMatch(/saved version 1; existing sessions kept/);

    const again = await admin(['permissions', 'set', '--clear', 'delete']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^no change: the settings already are so \(version 1\); nothing saved$/m);
    const alreadyDenied = JSON.parse((await admin(['permissions', 'set', '--deny', 'delete:page:confluence', '--json'])).stdout);
    expect(alreadyDenied).toMatchObject({ changed: false, revokedSessionCount: 0, settings: { version: 1, allowAllByDefault: false } });
    expect((await admin(['permissions', 'set', '--allow-all', '--json'])).stdout).toMatch(/"changed": true/);
    expect((await admin(['permissions', 'set', '--allow-all', '--allow', 'read:work-item:jira'])).stderr).toMatch(/^no change: .*version 2/m);
    expect(await saves()).toBe(2);

    // Asked to revoke sessions all the same, it does, and still saves nothing.
    const { machine } = await signedIn(org);
    const revoked = await admin(['permissions', 'set', '--allow-all', '--revoke-sessions']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toMatch(/^no change: the settings already are so \(version 2\); nothing saved; 1 twg sessions revoked$/m);
    expect((await machine.run(['whoami'])).code).toBe(77);
    expect(await saves()).toBe(2);
  });
});

describe('twg admin sessions revoke', () => {
  it("ends one account's sessions with --account and leaves the others", async () => {
    const { org, admin } = await organisation('AdminSessions');
    const target = await signedIn(org);
    const bystander = await signedIn(org);
    const result = await admin(['sessions', 'revoke', '--account', target.accountId]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/revoked 1 twg session of /);
    expect((await target.machine.run(['whoami'])).code).toBe(77);
    expect((await bystander.machine.run(['whoami'])).code).toBe(0);

    // A mistyped account is not reported as one with no sessions.
    const unknown = await admin(['sessions', 'revoke', '--account', 'acc_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^not found: no account acc_nope in your organisation$/m);
    expect(unknown.stderr).toMatch(/^give an e-mail or an id from: twg admin people list$/m);
    expect((await bystander.machine.run(['whoami'])).code).toBe(0);
  });
});

describe('twg admin allowlist', () => {
  it('saves rules, refuses a list that locks out the admin, and refuses people outside it with exit 2', async () => {
    const { org, admin } = await organisation('AdminAllowlist');
    const { machine } = await signedIn(org);
    const set = await admin(['allowlist', 'set', '--enable', '--rule', '127.0.0.0/8=this machine', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ enabled: true, rules: [{ cidr: '127.0.0.0/8', description: 'this machine' }] });
    expect((await machine.run(['whoami'])).code).toBe(0);

    const lockout = await admin(['allowlist', 'set', '--rule', '203.0.113.0/24']);
    expect(lockout.code).toBe(1);
    expect(lockout.stderr).toMatch(/^refused: /);
    const shown = await admin(['allowlist', 'show']);
    expect(shown.stdout).toMatch(/enabled:\s+yes/);
    expect(shown.stdout).toMatch(/127\.0\.0\.0\/8\s+this machine/);

    // Saved from elsewhere (the admin page of another office): this machine is now outside.
    await h.t.app.services.ipAllowlist.update(asOperator, org.orgId, org.admin.accountId, { enabled: true, rules: [{ cidr: '203.0.113.0/24' }] }, '203.0.113.7');
    const blocked = await machine.run(['jira', 'workitem', 'query']);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/^forbidden: Your organisation does not allow requests from 127\.0\.0\.1/m);
  });
});

describe('twg admin audit', () => {
  it('queries events by command and outcome, and exports them streamed with a progress line', async () => {
    const { org, admin } = await organisation('AdminAudit');
    const person = await org.person();
    const machine = h.machine();
    await machine.login(person.email, ['--scope', 'read:page:confluence']);
    await machine.run(['jira', 'workitem', 'query']); // restricted
    await machine.run(['confluence', 'page', 'query']);

    const restricted = await admin(['audit', 'query', '--outcome', 'restricted', '--json']);
    expect(restricted.code, restricted.stderr).toBe(0);
    expect(JSON.parse(restricted.stdout)).toEqual([expect.objectContaining({ command: 'jira workitem query', family: 'jira.workitem', outcome: 'RESTRICTED', actor: expect.objectContaining({ email: person.email }) })]);
    const byCommand = await admin(['audit', 'query', '--command', 'confluence page query']);
    expect(byCommand.stdout).toMatch(/^TIME\s+ACTOR\s+ACTION\s+COMMAND\s+OUTCOME\s+IP$/m);
    expect(byCommand.stdout).toMatch(new RegExp(`${person.email}\\s+cli\\.command\\.invoked\\s+confluence page query\\s+SUCCESS`));

    const exported = await admin(['audit', 'export', '--actor', person.accountId]);
    expect(exported.code, exported.stderr).toBe(0);
    const events = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => e.command)).toEqual(['confluence page query', 'jira workitem query', 'login']);
    expect(exported.stderr).toMatch(/^exported 3 events \(\d+ bytes\) to stdout$/m);

    const file = join(machine.home, 'audit.csv');
    const csv = await admin(['audit', 'export', '--format', 'csv', '--actor', person.accountId, '--output', file]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stderr).toMatch(`exported 3 events`);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toMatch(/command/);

    // The admin commands themselves are recorded too, as the key's admin.
    const exports = JSON.parse((await admin(['audit', 'query', '--action', 'audit.exported', '--json'])).stdout);
    expect(exports.length).toBeGreaterThanOrEqual(2);
  });
});
