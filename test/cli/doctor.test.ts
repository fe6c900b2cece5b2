// twg doctor through the real binary: for a blocked command it walks server, sign-in, session,
// granted permission, organisation, address and settings-since-login, and names the failing step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliHarness, type CliTenant, deadServer, type Machine } from '../support/cli-harness.ts';
import { asOperator } from '../support/app.ts';

let h: CliHarness;

beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(() => h?.close());

const READ_JIRA = 'read:work-item:jira';

function allBut(...excluded: string[]): string[] {
  return h.t.app.services.catalog.permissions.map((p) => p.key).filter((k) => !excluded.includes(k));
}

async function save(org: CliTenant, selected: string[] | 'all', revokeSessions = false) {
  await h.t.app.services.cliSettings.update(asOperator, org.orgId, org.admin.accountId, selected === 'all' ? { allowAllByDefault: true, revokeSessions } : { allowAllByDefault: false, selectedPermissions: selected, revokeSessions });
}

async function signedIn(org: CliTenant, scopes: string[] = []): Promise<Machine> {
  const person = await org.person();
  const machine = h.machine();
  await machine.signIn(person.email, scopes);
  return machine;
}

/** The status of each step of a doctor --json run, by check. */
async function doctor(machine: Machine, command: string[], env: Record<string, string> = {}) {
  const result = await machine.run(['doctor', ...command, '--json'], env);
  const report = JSON.parse(result.stdout);
  return { code: result.code, report, status: Object.fromEntries(report.steps.map((s: any) => [s.check, s.status])) as Record<string, string> };
}

describe('twg doctor', () => {
  it('passes every step for a command that works, and prints the checklist', async () => {
    const org = await h.tenant('DoctorFine');
    const machine = await signedIn(org);
    const { code, report, status } = await doctor(machine, ['jira', 'workitem', 'get']);
    expect(code).toBe(0);
    expect(report.permission).toBe(READ_JIRA);
    expect(Object.values(status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const text = await machine.run(['doctor', 'jira', 'workitem', 'get']);
    expect(text.stdout).toMatch(/^twg jira workitem get needs read:work-item:jira$/m);
    expect(text.stdout).toMatch(/^\[ok\]\s+permission granted to the session: read:work-item:jira was granted$/m);
  });

  it('fails at the server with exit 4 when nothing answers', async () => {
    const { code, status } = await doctor(h.machine(), ['jira', 'workitem', 'get', '--server', await deadServer()]);
    expect(code).toBe(4);
    expect(status['server reachable']).toBe('fail');
    expect(status['signed in']).toBe('skipped');
  });

  it('fails at signed in with exit 3 on a machine that never signed in', async () => {
    const { code, report, status } = await doctor(h.machine(), ['jira', 'workitem', 'get']);
    expect(code).toBe(3);
    expect(status).toMatchObject({ 'server reachable': 'ok', 'signed in': 'fail', 'session valid': 'skipped' });
    expect(report.advice).toEqual(['run: twg login']);
  });

  it('fails at session valid with exit 77 after the sessions were revoked', async () => {
    const org = await h.tenant('DoctorRevoked');
    const machine = await signedIn(org);
    await save(org, 'all', true);
    const { code, report, status } = await doctor(machine, ['jira', 'workitem', 'get']);
    expect(code).toBe(77);
    expect(status).toMatchObject({ 'signed in': 'ok', 'session valid': 'fail', 'permission granted to the session': 'skipped' });
    expect(report.advice).toEqual(['run: twg login']);
  });

  it('fails at granted when the login asked for other scopes, and says which login would help', async () => {
    const org = await h.tenant('DoctorScoped');
    const machine = await signedIn(org, ['read:page:confluence']);
    const { code, report, status } = await doctor(machine, ['jira', 'workitem', 'query']);
    expect(code).toBe(2);
    expect(status).toMatchObject({ 'permission granted to the session': 'fail', 'allowed by the organisation now': 'ok', 'settings changed after the last login': 'ok' });
    expect(report.advice).toEqual(['run: twg login --scope read:page:confluence --scope read:work-item:jira']);
    // A write cannot be probed without writing: only an admin can tell whether it is allowed.
    const write = await doctor(machine, ['jira', 'workitem', 'create']);
    expect(write.report.permission).toBe('write:work-item:jira');
    expect(write.status).toMatchObject({ 'permission granted to the session': 'fail', 'allowed by the organisation now': 'unknown' });
  });

  it('fails at allowed by the organisation when the admin removed the permission after login, and says login will not help', async () => {
    const org = await h.tenant('DoctorRemoved');
    const machine = await signedIn(org);
    await save(org, allBut(READ_JIRA));
    const { code, report, status } = await doctor(machine, ['jira', 'workitem', 'get']);
    expect(code).toBe(2);
    expect(status).toMatchObject({ 'permission granted to the session': 'ok', 'allowed by the organisation now': 'fail', 'settings changed after the last login': 'fail' });
    expect(report.advice).toEqual([`ask an organisation admin to allow ${READ_JIRA} (twg admin permissions set --allow ${READ_JIRA})`]);
    expect(report.steps.find((s: any) => s.check === 'settings changed after the last login').detail).toMatch(/signing in again will not help/);
  });

  it('says twg login helps when the organisation allowed the permission after the login', async () => {
    const org = await h.tenant('DoctorAddedLater');
    await save(org, allBut(READ_JIRA));
    const machine = await signedIn(org);
    await save(org, 'all');
    const { code, report, status } = await doctor(machine, ['jira', 'workitem', 'get']);
    expect(code).toBe(2);
    expect(status).toMatchObject({ 'permission granted to the session': 'fail', 'allowed by the organisation now': 'ok', 'settings changed after the last login': 'fail' });
    expect(report.advice).toEqual(['run: twg login']);

    // With an admin API key it also says when the settings changed.
    const withKey = await doctor(machine, ['jira', 'workitem', 'get'], { TWG_ADMIN_API_KEY: org.adminApiKey });
    expect(withKey.report.steps.find((s: any) => s.check === 'settings changed after the last login').detail).toMatch(/saved .*, after the login of /);
  });

  it('fails at the client address when the allowlist leaves this machine out', async () => {
    const org = await h.tenant('DoctorAddress');
    const machine = await signedIn(org);
    await h.t.app.services.ipAllowlist.update(asOperator, org.orgId, org.admin.accountId, { enabled: true, rules: [{ cidr: '203.0.113.0/24' }] }, '203.0.113.7');
    const { code, status } = await doctor(machine, ['jira', 'workitem', 'get']);
    expect(code).toBe(2);
    expect(status).toMatchObject({ 'session valid': 'ok', 'client address allowed': 'fail', 'permission granted to the session': 'unknown' });
  });

  it('refuses a command that does not exist with exit 1', async () => {
    const result = await h.machine().run(['doctor', 'jira', 'workitem', 'explode']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"jira workitem explode" is not a twg command/);
  });
});
