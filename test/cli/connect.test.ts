// twg connect through the real binary: it prints the server's link page, the person links there
// (through a provider on loopback, as in test/api/account-links.test.ts), and twg reports the link.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { objectInput, userPrincipal, viewAcl } from '../support/app.ts';
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
