// The device authorization grant (RFC 8628, PRODUCT §6) as oauth4webapi sees it over real HTTP:
// the device authorization response, single polls measured on the server's test clock
// (authorization_pending, slow_down with a growing interval, expired_token, access_denied, one
// success), the device page with its user codes, and the wrong-user-code limit per address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectHtmlPage,
  expectNoStore,
  OAuthHarness,
  oauthError,
  PASSWORD,
  type PasswordTenant,
  type Person,
  READ_CONFLUENCE,
  READ_DOCUMENT,
  READ_JIRA,
  scopesOf,
  sorted,
  WRITE_JIRA,
} from '../support/oauth-harness.ts';

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
/** A little more than the advertised 5 s, so a poll after it is never "too soon". */
const INTERVAL_MS = 6_000;

let h: OAuthHarness;
let acme: PasswordTenant;
let dora: Person;
/** Allows only the two Jira work-item permissions. */
let narrow: PasswordTenant;
let nils: Person;

beforeAll(async () => {
  h = await OAuthHarness.start();
  acme = await h.tenant('DeviceAcme');
  dora = await acme.person();
  narrow = await h.tenant('DeviceNarrow');
  await narrow.allow([READ_JIRA, WRITE_JIRA]);
  nils = await narrow.person();
});
afterAll(() => h?.close());

function approve(userCode: string, email: string, password = PASSWORD) {
  return h.postDevice({ user_code: userCode, email, password, decision: 'approve' });
}

describe('device authorization endpoint', () => {
  it('answers with a device code, an eight-consonant user code, the device page, 600 s and a 5 s interval', async () => {
    const { device, raw } = await h.deviceAuthorization([READ_JIRA]);
    expect(device.device_code).toEqual(expect.any(String));
    expect(device.user_code).toMatch(USER_CODE);
    expect(device.verification_uri).toBe(`${h.as.issuer}/device`);
    expect(device.verification_uri_complete).toEqual(expect.any(String));
    expect(decodeURIComponent(device.verification_uri_complete!)).toContain(device.user_code);
    expect(raw.expires_in).toBe(600);
    expect(raw.interval).toBe(5);
  });

  it('gives every request its own device code and user code', async () => {
    const one = await h.deviceAuthorization();
    const two = await h.deviceAuthorization();
    expect(two.device.device_code).not.toBe(one.device.device_code);
    expect(two.device.user_code).not.toBe(one.device.user_code);
    expect(two.device.user_code).toMatch(USER_CODE);
  });

  it('refuses a scope outside the catalogue with 400 invalid_scope', async () => {
    const failure = await oauthError(h.deviceAuthorization([READ_JIRA, 'read:nothing:nowhere']));
    expect(failure).toMatchObject({ status: 400, error: 'invalid_scope' });
  });
});

describe('device page', () => {
  it('serves an HTML form at the verification URI, with and without the user code', async () => {
    const { device } = await h.deviceAuthorization();
    for (const address of [device.verification_uri, device.verification_uri_complete!]) {
      const page = await expectHtmlPage(await fetch(address, { redirect: 'manual' }), 200);
      expect(page).toMatch(/<form/i);
    }
  });

  it('refuses an unknown user code with a 400 page', async () => {
    await h.deviceAuthorization();
    await expectHtmlPage(await approve('ZZZZ-ZZZZ', dora.email), 400);
  });

  it('refuses a wrong password with a 401 page and leaves the request pending', async () => {
    const { device } = await h.deviceAuthorization();
    await expectHtmlPage(await approve(device.user_code, dora.email, 'not the password'), 401);
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'authorization_pending' });
  });

  it('refuses a deactivated account and leaves the request pending', async () => {
    const leaver = await acme.person();
    await h.t.app.services.orgs.setAccountActive(leaver.accountId, false);
    const { device } = await h.deviceAuthorization();
    await expectHtmlPage(await approve(device.user_code, leaver.email), [401, 403]);
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'authorization_pending' });
  });

  it('accepts the user code in lower case and without the dash', async () => {
    const { device } = await h.deviceAuthorization([READ_JIRA]);
    const typed = device.user_code.replace('-', '').toLowerCase();
    await expectHtmlPage(await approve(typed, dora.email), 200);
    h.clock.advance(INTERVAL_MS);
    const { tokens } = await h.poll(device.device_code);
    expect(tokens.access_token).toMatch(/^twg_/);
  });
});

describe('device access token polling', () => {
  it('answers authorization_pending while the person has not acted', async () => {
    const { device } = await h.deviceAuthorization();
    for (let i = 0; i < 3; i++) {
      h.clock.advance(INTERVAL_MS);
      expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'authorization_pending' });
    }
  });

  it('answers slow_down to a poll sooner than the interval and adds 5 s to the interval each time', async () => {
    const { device } = await h.deviceAuthorization();
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ error: 'authorization_pending' });
    // At once: sooner than 5 s; the interval becomes 10 s.
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'slow_down' });
    // 6 s later: enough for the old 5 s, not for 10 s; the interval becomes 15 s.
    h.clock.advance(6_000);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'slow_down' });
    // 12 s later: enough for 10 s, not for the cumulative 15 s; the interval becomes 20 s.
    h.clock.advance(12_000);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'slow_down' });
    // 21 s later: pending again.
    h.clock.advance(21_000);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'authorization_pending' });
  });

  it('issues the tokens once after approval and answers invalid_grant to every later poll', async () => {
    const { device } = await h.deviceAuthorization([READ_JIRA, WRITE_JIRA]);
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ error: 'authorization_pending' });
    await expectHtmlPage(await approve(device.user_code, dora.email), 200);
    h.clock.advance(INTERVAL_MS);
    const { tokens, response } = await h.poll(device.device_code);
    expect(response.status).toBe(200);
    expectNoStore(response);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.access_token).toMatch(/^twg_/);
    expect(tokens.expires_in).toBe(600);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(scopesOf(tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('issues a twg-cli session that works on /graphql and refreshes like a browser login', async () => {
    const { device } = await h.deviceAuthorization([READ_JIRA]);
    await expectHtmlPage(await approve(device.user_code, dora.email), 200);
    h.clock.advance(INTERVAL_MS);
    const { tokens } = await h.poll(device.device_code);
    const r = await h.expectTokenWorks(tokens.access_token);
    expect(r.body.data.viewer.grantedPermissions).toEqual([READ_JIRA]);
    expect(r.body.data.viewer.session).toMatchObject({ clientId: 'twg-cli', scopes: [READ_JIRA] });
    const refreshed = await h.refresh(tokens.refresh_token!);
    await h.expectTokenWorks(refreshed.tokens.access_token);
  });

  it('answers access_denied after the person denies', async () => {
    const { device } = await h.deviceAuthorization([READ_JIRA]);
    await expectHtmlPage(await h.postDevice({ user_code: device.user_code, email: dora.email, password: PASSWORD, decision: 'deny' }), 200);
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'access_denied' });
  });

  it('answers expired_token once the 600 s have passed', async () => {
    const { device } = await h.deviceAuthorization([READ_JIRA]);
    h.clock.advance(601_000);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'expired_token' });
  });

  it('answers invalid_grant to a device code it never issued', async () => {
    expect(await h.pollFails('never-issued-device-code')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });
});

describe('device grant scopes against the organisation settings', () => {
  it('grants the intersection of the requested scopes and what the organisation allows', async () => {
    const { device } = await h.deviceAuthorization([READ_JIRA, WRITE_JIRA, READ_CONFLUENCE]);
    await expectHtmlPage(await approve(device.user_code, nils.email), 200);
    h.clock.advance(INTERVAL_MS);
    const { tokens } = await h.poll(device.device_code);
    expect(scopesOf(tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
  });

  it('grants everything the organisation allows when no scope is requested', async () => {
    const { device } = await h.deviceAuthorization();
    await expectHtmlPage(await approve(device.user_code, nils.email), 200);
    h.clock.advance(INTERVAL_MS);
    const { tokens } = await h.poll(device.device_code);
    expect(scopesOf(tokens.scope)).toEqual(sorted([READ_JIRA, WRITE_JIRA]));
  });

  it('tells the person the organisation allows none of the requested scopes and answers access_denied to the device', async () => {
    const { device } = await h.deviceAuthorization([READ_CONFLUENCE, READ_DOCUMENT]);
    const page = await expectHtmlPage(await approve(device.user_code, nils.email), [200, 403]);
    expect(page).toMatch(/organi[sz]ation/i);
    h.clock.advance(INTERVAL_MS);
    expect(await h.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'access_denied' });
  });
});

// Its own app: the lock-out is per client address, and every test talks from 127.0.0.1.
describe('device page wrong-user-code limit', () => {
  let locked: OAuthHarness;
  let owner: Person;

  beforeAll(async () => {
    locked = await OAuthHarness.start();
    owner = await (await locked.tenant('Lockout')).person();
  });
  afterAll(() => locked?.close());

  it('answers 429 to every POST after 5 wrong user codes in a row, even with the right code, and approves nothing', async () => {
    const { device } = await locked.deviceAuthorization([READ_JIRA]);
    const wrong = ['BCDF-GHJK', 'LMNP-QRST', 'VWXZ-BCDF', 'GHJK-LMNP', 'QRST-VWXZ', 'ZZZZ-ZZZZ'].filter((code) => code !== device.user_code).slice(0, 5);
    for (const code of wrong) {
      await expectHtmlPage(await locked.postDevice({ user_code: code, email: owner.email, password: PASSWORD, decision: 'approve' }), 400);
    }
    const refused = await locked.postDevice({ user_code: device.user_code, email: owner.email, password: PASSWORD, decision: 'approve' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('location')).toBeNull();
    locked.clock.advance(INTERVAL_MS);
    expect(await locked.pollFails(device.device_code)).toMatchObject({ status: 400, error: 'authorization_pending' });
  });
});
