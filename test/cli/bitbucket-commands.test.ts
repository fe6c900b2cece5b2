// twg bitbucket through the real binary: pull requests read with a Bitbucket token alone
// (stored by `twg bitbucket token add`, or TWG_BBC_TOKEN), its scopes deciding, unaffected by
// the CLI settings and by revoked OAuth sessions; and the token commands.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperator, objectInput } from '../support/app.ts';
import { CliHarness, type CliTenant, type Machine } from '../support/cli-harness.ts';

let h: CliHarness;
let acme: CliTenant;

beforeAll(async () => {
  h = await CliHarness.start();
  acme = await h.tenant('BitbucketAcme');
  await acme.tenant.ingest('setObjects', {
    objects: [
      objectInput('REPO', { type: 'bitbucket:repository', displayName: 'teamgraph' }),
      objectInput('PR-1', { type: 'bitbucket:pull-request', displayName: 'Add the twg client', container: { type: 'bitbucket:repository', externalId: 'REPO' } }),
      objectInput('PR-2', { type: 'bitbucket:pull-request', displayName: 'Fix the audit export', container: { type: 'bitbucket:repository', externalId: 'REPO' } }),
    ],
  });
});
afterAll(() => h?.close());

async function signedIn(): Promise<{ machine: Machine; accountId: string; email: string }> {
  const person = await acme.person();
  const machine = h.machine();
  await machine.signIn(person.email);
  return { machine, ...person };
}

describe('twg bitbucket pr', () => {
  it('exits 3 and says how to get a Bitbucket token when there is none', async () => {
    const { machine } = await signedIn();
    const result = await machine.run(['bitbucket', 'pr', 'list']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Bitbucket commands need a Bitbucket token\nrun: twg bitbucket token add/);
  });

  it('lists and gets pull requests with the stored token, and never prints its secret', async () => {
    const { machine } = await signedIn();
    const added = await machine.run(['bitbucket', 'token', 'add', '--label', 'laptop', '--scope', 'pullrequest:read']);
    expect(added.code, added.stderr).toBe(0);
    const stored = machine.credentials().bitbucket;
    expect(stored).toMatchObject({ label: 'laptop', id: expect.stringMatching(/^bbt_/) });
    expect(added.stdout + added.stderr).not.toContain(stored.secret);
    expect(machine.credentialsMode()).toBe(0o600);

    const list = await machine.run(['bitbucket', 'pr', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const prs = JSON.parse(list.stdout);
    expect(prs.map((p: any) => p.externalId).sort()).toEqual(['PR-1', 'PR-2']);
    const one = await machine.run(['bitbucket', 'pr', 'get', prs[0].id]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/type:\s+bitbucket:pull-request/);
    // Its repository needs repository:read, which this token lacks: hidden, and said so.
    expect(one.stdout).toMatch(/container:\s+-/);
    expect(one.stderr).toMatch(/^note: some fields are hidden because they need repository:read$/m);
  });

  it('uses TWG_BBC_TOKEN first, and names the scope it lacks', async () => {
    const { machine, accountId } = await signedIn();
    await machine.run(['bitbucket', 'token', 'add', '--label', 'full', '--scope', 'pullrequest:read']);
    const { secret } = await h.t.app.services.bitbucketTokens.create(asOperator, acme.orgId, accountId, { label: 'repos only', scopes: ['repository:read'] });
    const result = await machine.run(['bitbucket', 'pr', 'list'], { TWG_BBC_TOKEN: secret });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('restricted: this command needs pullrequest:read (not a scope of the Bitbucket token)\nrun: twg bitbucket token add --label <label> --scope pullrequest:read\n');
  });

  it('keeps working after the admin saves and revokes twg sessions: the token, not OAuth, vouches', async () => {
    const { machine } = await signedIn();
    await machine.run(['bitbucket', 'token', 'add', '--label', 'ci', '--scope', 'pullrequest:read']);
    await h.t.app.services.cliSettings.update(asOperator, acme.orgId, acme.admin.accountId, { allowAllByDefault: false, selectedPermissions: ['read:page:confluence'], revokeSessions: true });
    try {
      expect((await machine.run(['jira', 'workitem', 'query'])).code).toBe(77);
      const prs = await machine.run(['bitbucket', 'pr', 'list', '--json']);
      expect(prs.code, prs.stderr).toBe(0);
      expect(JSON.parse(prs.stdout)).toHaveLength(2);
      const [newest] = await h.auditEvents(acme.orgId, { command: 'bitbucket pr list' });
      expect(newest).toMatchObject({ family: 'bitbucket.pr', clientId: 'bitbucket-token', statusCode: 200 });
    } finally {
      await h.t.app.services.cliSettings.update(asOperator, acme.orgId, acme.admin.accountId, { allowAllByDefault: true, revokeSessions: false });
    }
  });
});

describe('twg bitbucket token', () => {
  it('lists the tokens marking the stored one, and revoke forgets it here and on the server', async () => {
    const { machine } = await signedIn();
    await machine.run(['bitbucket', 'token', 'add', '--label', 'laptop', '--scope', 'pullrequest:read', '--scope', 'repository:read']);
    const { id, secret } = machine.credentials().bitbucket;
    const list = JSON.parse((await machine.run(['bitbucket', 'token', 'list', '--json'])).stdout);
    expect(list).toEqual([expect.objectContaining({ id, label: 'laptop', status: 'active', stored: true, scopes: ['pullrequest:read', 'repository:read'] })]);
    const table = await machine.run(['bitbucket', 'token', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+laptop\\s+pullrequest:read, repository:read\\s+active\\s+yes`, 'm'));

    const revoked = await machine.run(['bitbucket', 'token', 'revoke', id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(machine.credentials().bitbucket).toBeUndefined();
    expect((await machine.run(['bitbucket', 'pr', 'list'])).code).toBe(3);
    const refused = await machine.run(['bitbucket', 'pr', 'list'], { TWG_BBC_TOKEN: secret });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^the Bitbucket token was refused: The Bitbucket token is revoked/m);
  });

  it('logout revokes the stored Bitbucket token too, not the one in TWG_BBC_TOKEN, and leaves no secret in the file', async () => {
    const { machine, accountId } = await signedIn();
    await machine.run(['bitbucket', 'token', 'add', '--label', 'laptop', '--scope', 'pullrequest:read']);
    const { secret } = machine.credentials().bitbucket;
    const ci = await h.t.app.services.bitbucketTokens.create(asOperator, acme.orgId, accountId, { label: 'ci', scopes: ['pullrequest:read'] });
    const result = await machine.run(['logout'], { TWG_BBC_TOKEN: ci.secret });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^signed out$/m);
    expect(readFileSync(machine.credentialsPath, 'utf8')).not.toContain(secret);
    expect((await machine.run(['bitbucket', 'pr', 'list'], { TWG_BBC_TOKEN: secret })).code).toBe(3);
    expect((await machine.run(['bitbucket', 'pr', 'list'], { TWG_BBC_TOKEN: ci.secret })).code).toBe(0);
  });

  it('refuses an unknown scope with exit 1', async () => {
    const { machine } = await signedIn();
    const result = await machine.run(['bitbucket', 'token', 'add', '--label', 'x', '--scope', 'everything']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^refused: Bitbucket token scopes are/m);
  });
});
