// The admin page's OAuth client, teamgraph-admin, over app.fetch: its one redirect, admins only,
// the authorization code flow only.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';
import { FormBrowser } from '../support/form-browser.ts';

const ORIGIN = 'http://teamgraph.test';
const PASSWORD = 'admin page password';
const VERIFIER = 'v'.repeat(50);
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const post = (path: string, body: Record<string, string>) =>
  t.app.fetch(new Request(`${ORIGIN}${path}`, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' }));

/** The admin's browser on the login page of the admin client. */
const signIn = (email: string) =>
  new FormBrowser(ORIGIN, (request) => t.app.fetch(request)).submit({
    pageUrl: `${ORIGIN}/oauth/authorize?${new URLSearchParams(authorization(`${ORIGIN}/admin/callback`))}`,
    fields: { email, password: PASSWORD },
  });

const authorization = (redirectUri: string) => ({
  response_type: 'code',
  client_id: 'teamgraph-admin',
  redirect_uri: redirectUri,
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  state: 'state-1',
});

async function person(admin: boolean) {
  const tenant = await createTenant(t);
  const email = `${admin ? 'admin' : 'member'}-${Math.random().toString(36).slice(2, 8)}@admin-client.test`;
  const { accountId } = await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: 'P', password: PASSWORD, admin, cloudIds: [tenant.cloudId] });
  return { tenant, email, accountId };
}

describe('the teamgraph-admin OAuth client', () => {
  it('shows the admin login page for a redirect to this server’s /admin/callback and refuses any other', async () => {
    const ok = await t.app.fetch(new Request(`${ORIGIN}/oauth/authorize?${new URLSearchParams(authorization(`${ORIGIN}/admin/callback`))}`));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('admin page');
    for (const elsewhere of ['http://attacker.test/admin/callback', `${ORIGIN}/admin/callback/x`, 'http://127.0.0.1:5555/callback']) {
      const refused = await t.app.fetch(new Request(`${ORIGIN}/oauth/authorize?${new URLSearchParams(authorization(elsewhere))}`));
      expect(refused.status).toBe(400);
    }
  });

  it('signs an org admin in with a code whose session reaches admin fields', async () => {
    const { tenant, email } = await person(true);
    const answer = await signIn(email);
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${ORIGIN}/admin/callback`);
    const tokens = await post('/oauth/token', { grant_type: 'authorization_code', client_id: 'teamgraph-admin', code: location.searchParams.get('code')!, redirect_uri: `${ORIGIN}/admin/callback`, code_verifier: VERIFIER });
    expect(tokens.status).toBe(200);
    const { access_token } = (await tokens.json()) as { access_token: string };
    const r = await t.graphql(access_token, 'query($id: ID!) { organization(id: $id) { cliSettings { version } } viewer { session { clientId } } }', { id: tenant.orgId });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.viewer.session.clientId).toBe('teamgraph-admin');
  });

  it('refuses to refresh the session of an admin who is no longer one', async () => {
    const { email, accountId } = await person(true);
    const answer = await signIn(email);
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    const tokens = (await (await post('/oauth/token', { grant_type: 'authorization_code', client_id: 'teamgraph-admin', code, redirect_uri: `${ORIGIN}/admin/callback`, code_verifier: VERIFIER })).json()) as { refresh_token: string };
    const refreshed = await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'teamgraph-admin', refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    const { refresh_token } = (await refreshed.json()) as { refresh_token: string };

    await t.app.services.orgs.setOrgAdmin(accountId, false);
    const refused = await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'teamgraph-admin', refresh_token });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('no longer one') });
  });

  it('refuses a member who is not an org admin on the login page, with no code', async () => {
    const { email } = await person(false);
    const answer = await signIn(email);
    expect(answer.status).toBe(403);
    expect(answer.headers.get('location')).toBeNull();
    expect(await answer.text()).toContain('organisation admins only');
  });

  it('refuses the device authorization grant', async () => {
    const answer = await post('/oauth/device_authorization', { client_id: 'teamgraph-admin' });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: 'unauthorized_client' });
  });
});
