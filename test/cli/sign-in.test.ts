// twg login (PKCE on loopback and the device grant), whoami, the credentials file, automatic
// refresh with rotation, and logout, all through the real binary against a served app.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliHarness, type CliTenant, deadServer } from '../support/cli-harness.ts';
import { asOperator } from '../support/app.ts';

let h: CliHarness;
let acme: CliTenant;

beforeAll(async () => {
  h = await CliHarness.start();
  acme = await h.tenant('SignInAcme');
});
afterAll(() => h?.close());

describe('twg login with the browser', () => {
  it('prints the authorization URL with PKCE and a loopback redirect, and signs in when the browser returns', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    const twg = machine.start(['login']);
    const [address] = await twg.waitForStderr(/^http\S+\/oauth\/authorize\?\S+$/m);
    const url = new URL(address);
    expect(url.origin).toBe(h.url);
    expect(url.searchParams.get('client_id')).toBe('twg-cli');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const callback = await h.completeBrowserLogin(address, dora.email);
    expect(callback.status).toBe(200);
    expect(await callback.text()).toMatch(/Signed in/);
    const result = await twg.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`signed in to ${h.url} as ${dora.email}`);
  });

  it('ignores a redirect with another state and keeps waiting for its own', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    const twg = machine.start(['login']);
    const [address] = await twg.waitForStderr(/^http\S+\/oauth\/authorize\?\S+$/m);
    const callback = new URL(new URL(address).searchParams.get('redirect_uri')!);
    callback.search = new URLSearchParams({ code: 'stolen', state: 'not-this-one' }).toString();
    expect((await fetch(callback)).status).toBe(400);
    expect((await h.completeBrowserLogin(address, dora.email)).status).toBe(200);
    const result = await twg.done;
    expect(result.code, result.stderr).toBe(0);
  });

  it('stores the tokens in a 0600 file and never prints them', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    const login = await machine.login(dora.email);
    expect(machine.credentialsMode()).toBe(0o600);
    const stored = machine.credentials();
    expect(stored.server).toBe(h.url);
    expect(stored.oauth.accessToken).toMatch(/^twg_/);
    expect(stored.oauth.refreshToken).toMatch(/^twgr_/);
    const whoami = await machine.run(['whoami']);
    for (const output of [login.stdout, login.stderr, whoami.stdout, whoami.stderr]) {
      expect(output).not.toContain(stored.oauth.accessToken);
      expect(output).not.toContain(stored.oauth.refreshToken);
    }
  });

  it('requests only the --scope permissions', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email, ['--scope', 'read:work-item:jira', '--scope', 'read:page:confluence']);
    const whoami = await machine.run(['whoami', '--json']);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout).grantedPermissions.sort()).toEqual(['read:page:confluence', 'read:work-item:jira']);
  });

  it('exits 2 with the reason when the person signs in to an organisation that allows nothing', async () => {
    const blocked = await h.tenant('SignInBlocked');
    await h.t.app.services.cliSettings.update(asOperator, blocked.orgId, blocked.admin.accountId, { allowAllByDefault: false, selectedPermissions: [], revokeSessions: true });
    const nina = await blocked.person();
    const machine = h.machine();
    const twg = machine.start(['login']);
    const [address] = await twg.waitForStderr(/^http\S+\/oauth\/authorize\?\S+$/m);
    await h.completeBrowserLogin(address, nina.email);
    const result = await twg.done;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/sign-in refused/);
  });
});

describe('twg login --device', () => {
  it('prints the user code and the verification address, and signs in once the person approves', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    const twg = machine.start(['login', '--device', '--scope', 'read:work-item:jira']);
    const [, verificationUri, userCode] = await twg.waitForStderr(/open (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})/);
    expect(verificationUri).toBe(`${h.url}/device`);
    await h.approveDevice(userCode, dora.email);
    // The server measures the poll interval on its own clock; Enter makes twg poll now.
    h.clock.advance(6_000);
    twg.type('');
    const result = await twg.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`as ${dora.email}`);
    expect(machine.credentials().oauth.scopes).toEqual(['read:work-item:jira']);
  });
});

describe('signing in again', () => {
  it('revokes the session it replaces on the server', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    const first = machine.credentials().oauth.accessToken;
    await machine.login(dora.email);
    expect(machine.credentials().oauth.accessToken).not.toBe(first);
    expect((await h.t.graphql(first, '{ viewer { account { id } } }')).status).toBe(401);
    expect((await machine.run(['whoami'])).code).toBe(0);
  });
});

describe('twg whoami', () => {
  it('shows the account, the organisation and the granted and effective permissions', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email, ['--scope', 'read:work-item:jira', '--scope', 'write:work-item:jira']);
    const table = await machine.run(['whoami']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`account:\\s+${dora.email}`));
    expect(table.stdout).toMatch(/organisation:\s+SignInAcme/);
    expect(table.stdout).toMatch(/granted:\s+read:work-item:jira, write:work-item:jira/);

    const json = JSON.parse((await machine.run(['whoami', '--json'])).stdout);
    expect(json.account.email).toBe(dora.email);
    expect(json.organization.id).toBe(acme.orgId);
    expect(json.effectivePermissions.sort()).toEqual(['read:work-item:jira', 'write:work-item:jira']);
  });

  it('exits 3 with run: twg login when nobody signed in on this machine', async () => {
    const result = await h.machine().run(['whoami']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/not signed in\nrun: twg login/);
  });
});

describe('servers', () => {
  it('exits 4 when the server cannot be reached', async () => {
    const server = await deadServer();
    const result = await h.machine().run(['login', '--server', server]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`^cannot reach ${server}: .*ECONNREFUSED`, 'm'));
  });

  it('never sends the stored tokens to another server than the one that issued them', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    const result = await machine.run(['whoami', '--server', 'http://127.0.0.1:9']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(`not signed in to http://127.0.0.1:9 (signed in to ${h.url})`);
  });
});

describe('token refresh', () => {
  it('refreshes with a rotated refresh token once the server says the access token expired', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    const before = machine.credentials().oauth;
    h.clock.advance(11 * 60 * 1000); // past the 10-minute access token
    const whoami = await machine.run(['whoami', '--json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout).account.email).toBe(dora.email);
    const after = machine.credentials().oauth;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(machine.credentialsMode()).toBe(0o600);
  });

  it('refreshes before the request once 75% of the access token lifetime has passed on this machine', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    const stored = machine.credentials();
    const lifetime = stored.oauth.expiresAt - stored.oauth.issuedAt;
    // As if 80% of the lifetime had passed here: move the recorded times back, not the server.
    const shift = Math.ceil(lifetime * 0.8);
    writeFileSync(machine.credentialsPath, JSON.stringify({ ...stored, oauth: { ...stored.oauth, issuedAt: stored.oauth.issuedAt - shift, expiresAt: stored.oauth.expiresAt - shift } }), { mode: 0o600 });
    const whoami = await machine.run(['whoami']);
    expect(whoami.code, whoami.stderr).toBe(0);
    const after = machine.credentials().oauth;
    expect(after.refreshToken).not.toBe(stored.oauth.refreshToken);
    expect(after.issuedAt).toBeGreaterThan(stored.oauth.issuedAt);
    // The old refresh token was used once: presenting it again would end the session, so it must be gone.
    const session = await h.t.graphql(after.accessToken, '{ viewer { session { revokedAt } } }');
    expect(session.body.data.viewer.session.revokedAt).toBeNull();
  });

  it('lets several twg processes refresh at once without reusing a refresh token', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    const stored = machine.credentials();
    const shift = Math.ceil((stored.oauth.expiresAt - stored.oauth.issuedAt) * 0.8);
    writeFileSync(machine.credentialsPath, JSON.stringify({ ...stored, oauth: { ...stored.oauth, issuedAt: stored.oauth.issuedAt - shift, expiresAt: stored.oauth.expiresAt - shift } }), { mode: 0o600 });
    const results = await Promise.all([1, 2, 3].map(() => machine.run(['whoami'])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    // A reused refresh token would have revoked the session (PRODUCT §6): it still works.
    expect((await machine.run(['whoami'])).code).toBe(0);
    expect(machine.credentials().oauth.refreshToken).not.toBe(stored.oauth.refreshToken);
  });

  it('exits 77 with run: twg login when the session expired beyond refresh', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    h.clock.advance(31 * 24 * 3600 * 1000); // past the 30-day idle limit
    const result = await machine.run(['whoami']);
    expect(result.code).toBe(77);
    expect(result.stderr).toMatch(/run: twg login/);
    expect(machine.credentials().oauth).toBeUndefined();
  });
});

describe('twg logout', () => {
  it('revokes the session on the server and leaves no token in the 0600 credentials file', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    const { accessToken, refreshToken } = machine.credentials().oauth;
    const result = await machine.run(['logout']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^signed out$/m);
    expect((await h.t.graphql(accessToken, '{ viewer { account { id } } }')).status).toBe(401);
    const text = readFileSync(machine.credentialsPath, 'utf8');
    expect(text).not.toContain(accessToken);
    expect(text).not.toContain(refreshToken);
    expect(text).not.toMatch(/twgr?_/);
    expect(machine.credentialsMode()).toBe(0o600);
    expect((await machine.run(['whoami'])).code).toBe(3);
  });
});

describe('request headers', () => {
  it('records each command with its path, the twg version, the invocation source and a trace id', async () => {
    const dora = await acme.person();
    const machine = h.machine();
    await machine.login(dora.email);
    await machine.run(['whoami']);
    await machine.run(['whoami'], { TWG_AGENT_RUNTIME: 'claude-code' });
    const events = (await h.auditEvents(acme.orgId)).filter((e) => e.actor.email === dora.email && e.command === 'whoami');
    expect(events).toHaveLength(2);
    const [agent, person] = events;
    expect(person).toMatchObject({ family: 'whoami', invocationSource: 'user', agentRuntime: null, cliVersion: '0.1.0', clientId: 'twg-cli', outcome: 'SUCCESS' });
    expect(agent).toMatchObject({ invocationSource: 'agent', agentRuntime: 'claude-code' });
    expect(person.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(agent.traceId).not.toBe(person.traceId);
  });
});
