// Cross-site requests against the sign-in forms and the OAuth endpoints (issue 15): a form is
// accepted only from the service's own page in the same browser; a request a browser says comes
// from another site is refused before any password is checked or anything is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestApp, type Tenant, TEST_ORIGIN, type TestApp } from '../support/app.ts';
import { cliLoginUrl, FormBrowser } from '../support/form-browser.ts';

const PASSWORD = 'form guard password';
const EVIL = { origin: 'https://evil.example', site: 'cross-site' };

let t: TestApp;
let tenant: Tenant;
let email: string;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t, 'Guarded');
  email = 'dave@guarded.test';
  await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: 'Dave', password: PASSWORD, cloudIds: [tenant.cloudId] });
});
afterAll(() => t.close());

const browser = () => new FormBrowser(TEST_ORIGIN, (request) => t.app.fetch(request));
const loginUrl = cliLoginUrl(TEST_ORIGIN);

/** A POST as a page elsewhere makes a browser send it: fields only, and what the browser says. */
function forged(target: string, fields: Record<string, string>, headers: Record<string, string> = {}, via = browser()) {
  return via.request(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
}

async function expectRefused(response: Response, reason: RegExp) {
  expect(response.status).toBe(403);
  expect(response.headers.get('location')).toBeNull();
  expect(await response.text()).toMatch(reason);
}

describe('the login page', () => {
  it('signs in from its own page in the same browser', async () => {
    const answer = await browser().submit({ pageUrl: loginUrl, fields: { email, password: PASSWORD } });
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('refuses its form sent from another site, even with this browser’s ticket and cookie', async () => {
    const victim = browser();
    await expectRefused(await victim.submit({ pageUrl: loginUrl, fields: { email, password: PASSWORD }, from: EVIL }), /sent from another site/);
    await expectRefused(await victim.submit({ pageUrl: loginUrl, fields: { email, password: PASSWORD }, from: { origin: 'null', site: null } }), /sent from another site/);
    await expectRefused(await victim.submit({ pageUrl: loginUrl, fields: { email, password: PASSWORD }, from: { origin: null, site: 'same-site' } }), /sent from another site/);
  });

  it('refuses a cookie-less POST without the page’s ticket, as a forged form in a browser that names no origin sends it', async () => {
    const params = Object.fromEntries(new URL(loginUrl).searchParams);
    await expectRefused(await forged(`${TEST_ORIGIN}/oauth/authorize`, { ...params, email, password: PASSWORD }), /out of date/);
  });

  it('refuses the forger’s own ticket in another browser', async () => {
    const attacker = browser();
    const { html } = await attacker.open(loginUrl);
    const victim = browser();
    await victim.open(loginUrl);
    await expectRefused(await victim.submit({ pageUrl: loginUrl, page: html, fields: { email, password: PASSWORD }, from: { origin: null, site: null } }), /out of date/);
  });

  it('refuses a ticket of the right length in characters but not in bytes, without a fault', async () => {
    const cookie = `twg_form=${'a'.repeat(43)}`;
    const params = Object.fromEntries(new URL(loginUrl).searchParams);
    const response = await t.app.fetch(
      new Request(`${TEST_ORIGIN}/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ ...params, email, password: PASSWORD, form_token: 'é'.repeat(43) }),
      }),
    );
    await expectRefused(response, /out of date/);
  });

  it('checks no password for a refused form: a forger cannot lock the account out', async () => {
    for (let i = 0; i < 12; i++) await forged(`${TEST_ORIGIN}/oauth/authorize`, { ...Object.fromEntries(new URL(loginUrl).searchParams), email, password: 'wrong' }, { origin: EVIL.origin });
    expect((await browser().submit({ pageUrl: loginUrl, fields: { email, password: PASSWORD } })).status).toBe(303);
  });
});

describe('the device page', () => {
  it('refuses an approval sent from another site or without its ticket, and takes one from its own page', async () => {
    const started = await t.app.fetch(new Request(`${TEST_ORIGIN}/oauth/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=twg-cli' }));
    const { user_code } = (await started.json()) as { user_code: string };
    const fields = { user_code, email, password: PASSWORD, decision: 'approve' };
    await expectRefused(await forged(`${TEST_ORIGIN}/device`, fields, { origin: EVIL.origin, 'sec-fetch-site': EVIL.site }), /sent from another site/);
    await expectRefused(await forged(`${TEST_ORIGIN}/device`, fields), /out of date/);
    const approved = await browser().submit({ pageUrl: `${TEST_ORIGIN}/device`, fields });
    expect(approved.status).toBe(200);
    expect(await approved.text()).toContain('Approved');
  });
});

describe('the account link page', () => {
  it('refuses a sign-in sent from another site or without its ticket, and starts nothing', async () => {
    const page = `${TEST_ORIGIN}/connections/${tenant.connectionId}/link`;
    const victim = browser();
    await victim.open(page);
    await expectRefused(await forged(page, { email, password: PASSWORD }, { origin: EVIL.origin, 'sec-fetch-site': EVIL.site }, victim), /sent from another site/);
    await expectRefused(await forged(page, { email, password: PASSWORD }, {}, victim), /out of date/);
    expect(victim.cookie(`twg_link_${tenant.connectionId}`)).toBeUndefined();
    const attempts = await t.db.selectFrom('link_attempt').select('state_hash').where('org_id', '=', tenant.orgId).execute();
    expect(attempts).toEqual([]);
  });

  it('refuses a confirmation sent from another site', async () => {
    const confirm = `${TEST_ORIGIN}/connections/${tenant.connectionId}/link/confirm`;
    await expectRefused(await forged(confirm, { decision: 'link', confirmation: 'x' }, { origin: EVIL.origin }), /CROSS_SITE_REQUEST/);
    await expectRefused(await forged(confirm, { decision: 'link', confirmation: 'x' }), /FORM_EXPIRED/);
  });
});

describe('the OAuth endpoints', () => {
  it('refuse what a browser says another site sent, and serve programs, which say nothing', async () => {
    const body = 'grant_type=refresh_token&client_id=twg-cli&refresh_token=unknown';
    const send = (headers: Record<string, string>) =>
      t.app.fetch(new Request(`${TEST_ORIGIN}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body }));
    const refusedHeaders: Record<string, string>[] = [{ origin: EVIL.origin }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of refusedHeaders) {
      const refused = await send(headers);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('another site') });
    }
    // Not refused for where it came from: answered on its merits (an unknown refresh token).
    const answeredHeaders: Record<string, string>[] = [{}, { origin: TEST_ORIGIN, 'sec-fetch-site': 'same-origin' }];
    for (const headers of answeredHeaders) {
      const answered = await send(headers);
      expect(answered.status).toBe(400);
      expect(await answered.json()).toMatchObject({ error: 'invalid_grant' });
    }
  });
});
