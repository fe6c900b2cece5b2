// twg connect through the real binary: it prints the server's link page, the person links there
// (through a provider on loopback, as in test/api/account-links.test.ts), and twg reports the link.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asOperator, objectInput, userPrincipal, viewAcl } from '../support/app.ts';
import { startTestProvider, TEST_PROVIDER, type TestProvider } from '../support/oauth-provider.ts';
import { PASSWORD } from '../support/oauth-harness.ts';
import { CliHarness } from '../support/cli-harness.ts';
import { FormBrowser } from '../support/form-browser.ts';

let h: CliHarness;
let provider: TestProvider;
beforeAll(async () => {
  h = await CliHarness.start();
  provider = await startTestProvider();
});
afterAll(async () => {
  provider.server.close();
  await h?.close();
});

it('links the signed-in account at the connection’s provider and reports what it linked', async () => {
  const acme = await h.tenant('ConnectAcme');
  const connectionId = acme.tenant.connectionId;
  const saved = await h.t.graphql(acme.adminApiKey, 'mutation($i: SetConnectionLinkProviderInput!) { setConnectionLinkProvider(input: $i) { clientId } }', {
    i: {
      orgId: acme.orgId,
      connectionId,
      authorizationEndpoint: `${provider.state.origin}/authorize`,
      tokenEndpoint: `${provider.state.origin}/token`,
      userinfoEndpoint: `${provider.state.origin}/userinfo`,
      clientId: TEST_PROVIDER.CLIENT_ID,
      clientSecret: TEST_PROVIDER.CLIENT_SECRET,
      scopes: [],
      externalIdField: 'login',
    },
  });
  expect(saved.body.errors).toBeUndefined();
  await acme.tenant.ingest('setObjects', { objects: [objectInput('SECRET-1', { displayName: 'Only for gh-ada', permissions: viewAcl([userPrincipal('gh-ada')]) })] });
  const person = await acme.person();
  const machine = h.machine();
  await machine.signIn(person.email);
  expect((await machine.run(['--json', 'jira', 'workitem', 'query'])).stdout).not.toContain('Only for gh-ada');

  const twg = machine.start(['connect', connectionId]);
  const [address] = await twg.waitForStderr(/^http\S+\/connections\/\S+\/link$/m);
  await twg.waitForStderr(/press Enter/);
  // The browser: the link page's sign-in, the provider, back to the callback, the confirmation.
  provider.state.signedIn = 'gh-ada';
  const browser = new FormBrowser(h.url);
  const signedIn = await browser.submit({ pageUrl: address, fields: { email: person.email, password: PASSWORD } });
  expect(signedIn.status).toBe(303);
  const callback = (await browser.request(signedIn.headers.get('location')!)).headers.get('location')!;
  const confirmation = await browser.open(callback);
  expect(confirmation.html).toContain('gh-ada');
  const linked = await browser.submit({ pageUrl: callback, page: confirmation.html, fields: { decision: 'link' } });
  expect(linked.status).toBe(200);
  twg.type('');
  const result = await twg.done;
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toContain(`linked to gh-ada at jira (connection ${connectionId})`);
  expect((await machine.run(['--json', 'jira', 'workitem', 'query'])).stdout).toContain('Only for gh-ada');
});

it('fails at once, naming what to try, for a connection that does not exist, is another organisation’s, or is no id at all', async () => {
  const acme = await h.tenant('ConnectMissing');
  const other = await h.tenant('ConnectOther');
  const person = await acme.person();
  const machine = h.machine();
  await machine.signIn(person.email);

  const missing = await machine.run(['connect', 'conn_nope']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^not found: There is no connection conn_nope in your organisation\.$/m);
  expect(missing.stderr).toMatch(/^ask an organisation admin for the id of the connection to link/m);
  expect(missing.stderr).not.toMatch(/Open this address/);
  // Another organisation's connection is indistinguishable from none.
  const foreign = await machine.run(['connect', other.tenant.connectionId, '--json']);
  expect(foreign.code).toBe(1);
  expect(JSON.parse(foreign.stdout).error).toMatchObject({ code: 'NOT_FOUND', subCode: 'UNKNOWN_CONNECTION', exitCode: 1 });
  const provider = await machine.run(['connect', 'jira']);
  expect(provider.code).toBe(1);
  expect(provider.stderr).toMatch(/^a connection id looks like conn_…; "jira" is not one/m);

  // Each check is the account's request in the audit log, with its outcome.
  const events = await h.auditEvents(acme.orgId, { command: 'connect' });
  expect(events.map((e) => [e.outcome, e.statusCode, e.actor.email])).toEqual([
    ['ERROR', 404, person.email],
    ['ERROR', 404, person.email],
    ['ERROR', 404, person.email],
  ]);
});

it('fails at once for a disabled connection, and for one with no third-party sign-in', async () => {
  const acme = await h.tenant('ConnectRefused');
  const person = await acme.person();
  const machine = h.machine();
  await machine.signIn(person.email);
  const connectionId = acme.tenant.connectionId;

  const unprepared = await machine.run(['connect', connectionId]);
  expect(unprepared.code).toBe(1);
  expect(unprepared.stderr).toMatch(new RegExp(`^not found: Connection ${connectionId} has no third-party sign-in set up`, 'm'));
  expect(unprepared.stderr).toMatch(/^ask an organisation admin to set up the connection's third-party sign-in/m);

  await h.t.app.services.connections.setEnabled(asOperator, connectionId, false);
  const disabled = await machine.run(['connect', connectionId]);
  expect(disabled.code).toBe(2);
  expect(disabled.stderr).toMatch(new RegExp(`^forbidden: Connection ${connectionId} is disabled by an organisation admin`, 'm'));
  expect(disabled.stderr).toMatch(/^ask an organisation admin to enable the connection, then run twg connect again$/m);
  expect((await h.auditEvents(acme.orgId, { command: 'connect' })).map((e) => [e.outcome, e.statusCode])).toEqual([
    ['DENIED', 403],
    ['ERROR', 404],
  ]);
});
