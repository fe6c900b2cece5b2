// twg admin people and twg admin sessions through the real binary, as an admin API key (issue
// 20): the directory with search and filters, a person's sessions by e-mail or id, ending one
// session or a person's twg sessions, the audit log's actor by e-mail, and refusals of unknown people.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { CliHarness, type CliTenant, type Machine } from '../support/cli-harness.ts';

let h: CliHarness;

beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(() => h?.close());

async function organisation(name: string) {
  const org = await h.tenant(name);
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

describe('the command tree', () => {
  it('has the people and sessions commands', () => {
    const admin = buildProgram().commands.find((c) => c.name() === 'admin')!;
    const paths = admin.commands.flatMap((c) => c.commands.map((sub) => `${c.name()} ${sub.name()}`));
    expect(paths).toEqual(expect.arrayContaining(['people list', 'sessions list', 'sessions revoke']));
  });
});

describe('twg admin people list', () => {
  it('lists accounts with their status, sites, last sign-in and live twg sessions, searched and filtered', async () => {
    const { org, admin } = await organisation('PeopleList');
    const signed = await signedIn(org);
    const quiet = await org.person();
    await h.t.app.services.orgs.setAccountActive(quiet.accountId, false);

    const listed = await admin(['people', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^EMAIL\s+NAME\s+STATUS\s+ADMIN\s+SITES\s+LAST SIGN-IN\s+TWG SESSIONS\s+ID$/m);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(signed.email))!;
    expect(line).toMatch(new RegExp(`active\\s+no\\s+PeopleList site\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+1\\s+${signed.accountId}$`));
    expect(listed.stdout).toMatch(new RegExp(`^${org.admin.email}\\s+\\S+\\s+active\\s+yes\\s`, 'm'));

    const searched = JSON.parse((await admin(['people', 'list', '--search', signed.email.slice(0, 10).toUpperCase(), '--json'])).stdout);
    expect(searched.map((p: any) => p.id)).toEqual([signed.accountId]);
    const deactivated = JSON.parse((await admin(['people', 'list', '--deactivated', '--json'])).stdout);
    expect(deactivated).toEqual([expect.objectContaining({ id: quiet.accountId, active: false, cliSessionCount: 0, lastSignInAt: null })]);
    const admins = JSON.parse((await admin(['people', 'list', '--admins', '--json'])).stdout);
    expect(admins.map((p: any) => p.id)).toEqual([org.admin.accountId]);
    expect((await admin(['people', 'list', '--active', '--deactivated'])).code).toBe(1);
  });
});

describe('twg admin sessions', () => {
  it("lists a person's sessions by e-mail or id, with client, address and permissions", async () => {
    const { org, admin } = await organisation('SessionsList');
    const person = await signedIn(org);
    await person.machine.run(['whoami']);
    const byEmail = await admin(['sessions', 'list', '--account', person.email.toUpperCase()]);
    expect(byEmail.code, byEmail.stderr).toBe(0);
    expect(byEmail.stdout).toMatch(/^ID\s+CLIENT\s+SIGNED IN\s+LAST USED\s+ADDRESS\s+COUNTRY\s+PERMISSIONS$/m);
    expect(byEmail.stdout).toMatch(/^sess_\S+\s+twg-cli\s+\S+\s+\S+\s+127\.0\.0\.1\s+-\s+\d+$/m);
    const byId = JSON.parse((await admin(['sessions', 'list', '--account', person.accountId, '--json'])).stdout);
    expect(byId).toEqual([expect.objectContaining({ clientId: 'twg-cli', ip: '127.0.0.1', country: null, scopes: expect.arrayContaining(['read:work-item:jira']) })]);

    const unknown = await admin(['sessions', 'list', '--account', 'nobody@sessionslist.test']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no account of your organisation has the e-mail nobody@sessionslist.test/);
    expect((await admin(['sessions', 'list', '--account', 'acc_nobody'])).code).toBe(1);
  });

  it('ends one session with --session: that twg must sign in again, the person’s other twg keeps working', async () => {
    const { org, admin } = await organisation('SessionsOne');
    const person = await signedIn(org);
    const other = h.machine();
    await other.signIn(person.email);
    const [newest] = JSON.parse((await admin(['sessions', 'list', '--account', person.email, '--json'])).stdout);
    const revoked = await admin(['sessions', 'revoke', '--session', newest.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toContain(`revoked session ${newest.id} of ${person.email}`);
    expect((await other.run(['whoami'])).code).toBe(77);
    expect((await person.machine.run(['whoami'])).code).toBe(0);
    expect((await admin(['sessions', 'revoke', '--session', 'sess_nothing'])).code).toBe(1);
    expect((await admin(['sessions', 'revoke', '--session', newest.id, '--account', person.email])).code).toBe(1);
  });

  it("ends a person's twg sessions by e-mail, names them, and refuses an unknown person", async () => {
    const { org, admin } = await organisation('SessionsAccount');
    const target = await signedIn(org);
    const bystander = await signedIn(org);
    const unknown = await admin(['sessions', 'revoke', '--account', 'nobody@sessionsaccount.test']);
    expect(unknown.code).toBe(1);
    expect((await target.machine.run(['whoami'])).code).toBe(0);

    const result = await admin(['sessions', 'revoke', '--account', target.email]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`revoked 1 twg session of ${target.email} (${target.accountId})`);
    expect((await target.machine.run(['whoami'])).code).toBe(77);
    expect((await bystander.machine.run(['whoami'])).code).toBe(0);
  });
});

describe('twg admin audit query --actor', () => {
  it("takes a person's e-mail as well as their account id", async () => {
    const { org, admin } = await organisation('AuditActor');
    const person = await signedIn(org);
    await person.machine.run(['whoami']);
    const byEmail = JSON.parse((await admin(['audit', 'query', '--actor', person.email, '--json'])).stdout);
    expect(byEmail.length).toBeGreaterThan(0);
    expect(byEmail.every((e: any) => e.actor.accountId === person.accountId)).toBe(true);
    expect(JSON.parse((await admin(['audit', 'query', '--actor', person.accountId, '--json'])).stdout)).toEqual(byEmail);
    expect((await admin(['audit', 'query', '--actor', 'nobody@auditactor.test'])).code).toBe(1);
  });
});
