// Password guessing is slowed without letting a stranger lock the owner out (issue 21, item 5):
// the sign-in form, from browsers at different addresses, against one account.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACCOUNT_FREE_ATTEMPTS, ADDRESS_ATTEMPTS, PAIR_ATTEMPTS } from '../../src/modules/oauth/password-throttle.ts';
import { createTenant, startTestApp, type Tenant, TEST_ORIGIN, type TestApp } from '../support/app.ts';
import { cliLoginUrl, FormBrowser } from '../support/form-browser.ts';

const PASSWORD = 'the owner knows this';

let t: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t, 'Guessed');
});
afterAll(() => t.close());

let accounts = 0;
async function owner() {
  const email = `owner${++accounts}@guessed.test`;
  await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: 'Owner', password: PASSWORD, cloudIds: [tenant.cloudId] });
  return email;
}

/** A browser at `address` (the socket peer the server sees). */
const browserAt = (address: string) => new FormBrowser(TEST_ORIGIN, (request) => t.app.fetch(request, { clientAddress: address }));
const loginUrl = cliLoginUrl(TEST_ORIGIN);

async function signIn(browser: FormBrowser, email: string, password: string) {
  const response = await browser.submit({ pageUrl: loginUrl, fields: { email, password } });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), text: response.status === 303 ? '' : await response.text() };
}

it('stops a stranger’s address after its wrong guesses while the owner signs in from theirs', async () => {
  const email = await owner();
  const stranger = browserAt('203.0.113.7');
  for (let i = 0; i < PAIR_ATTEMPTS; i++) expect((await signIn(stranger, email, `guess ${i}`)).status).toBe(401);
  const stopped = await signIn(stranger, email, PASSWORD);
  expect(stopped).toMatchObject({ status: 429, retryAfter: '900' });
  expect(stopped.text).toContain('Too many wrong passwords for this e-mail from your address');

  expect((await signIn(browserAt('198.51.100.20'), email, PASSWORD)).status).toBe(303);
});

it('slows guesses spread over many addresses for new browsers, never for a browser the owner signed in with', async () => {
  const email = await owner();
  const ownersBrowser = browserAt('198.51.100.30');
  expect((await signIn(ownersBrowser, email, PASSWORD)).status).toBe(303);

  for (let i = 0; i < ACCOUNT_FREE_ATTEMPTS; i++) expect((await signIn(browserAt(`203.0.113.${100 + i}`), email, `guess ${i}`)).status).toBe(401);
  // A new browser, even with the right password, waits: checking it would let a spread-out guesser go on.
  const slowed = await signIn(browserAt('192.0.2.55'), email, PASSWORD);
  expect(slowed.status).toBe(429);
  expect(slowed.text).toContain('sign-in from a new browser is slowed');
  expect(Number(slowed.retryAfter)).toBeGreaterThan(0);
  expect(Number(slowed.retryAfter)).toBeLessThanOrEqual(1);

  expect((await signIn(ownersBrowser, email, PASSWORD)).status).toBe(303);

  // Each checked guess past the free ones doubles the wait; nothing is locked for good: once the
  // wait has passed, a new browser's guess is checked again.
  for (let i = 0; i < ACCOUNT_FREE_ATTEMPTS; i++) await signIn(browserAt(`203.0.113.${150 + i}`), email, `guess ${i}`);
  for (const expected of [1, 2, 4]) {
    const refused = await signIn(browserAt('192.0.2.56'), email, 'still guessing');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBe(expected);
    t.clock.advance(expected * 1000);
    expect((await signIn(browserAt(`203.0.113.${200 + expected}`), email, 'still guessing')).status).toBe(401);
  }
  t.clock.advance(8000);
  expect((await signIn(browserAt('192.0.2.56'), email, PASSWORD)).status).toBe(303);
});

it('stops one address that guesses at many e-mails', async () => {
  const email = await owner();
  const stuffer = browserAt('203.0.113.99');
  for (let i = 0; i < ADDRESS_ATTEMPTS; i++) expect((await signIn(stuffer, `someone${i}@elsewhere.test`, 'password1')).status).toBe(401);
  const stopped = await signIn(stuffer, email, PASSWORD);
  expect(stopped.status).toBe(429);
  expect(stopped.text).toContain('Too many wrong passwords from your address');
  expect((await signIn(browserAt('198.51.100.40'), email, PASSWORD)).status).toBe(303);
});
