// twg's sign-in in a real browser (chromium): the login page's form posts to this server and the
// answer redirects to twg's loopback port, which the page's CSP (form-action) must allow, or the
// browser stops there and twg waits forever.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, PASSWORD } from '../support/admin-browser.ts';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';
import type { TestServer } from '../support/http-server.ts';

let t: TestApp;
let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  t = await startTestApp({ serve: true });
  server = t.server!;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await server.close();
  await t.close();
});

it('reaches the loopback callback with a code after the person signs in', async () => {
  const tenant = await createTenant(t, 'Browser');
  const email = 'ada@browser.test';
  await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: 'Ada', password: PASSWORD, cloudIds: [tenant.cloudId] });
  // twg's side: a loopback listener that takes the code.
  const callback = http.createServer((req, res) => {
    callback.emit('code', new URL(req.url!, 'http://127.0.0.1').searchParams);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('signed in');
  });
  callback.listen(0, '127.0.0.1');
  await once(callback, 'listening');
  const redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${server.url}/oauth/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: 'twg-cli',
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'browser-state',
  })) {
    authorize.searchParams.set(name, value);
  }

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(authorize.toString());
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    const received = once(callback, 'code') as Promise<[URLSearchParams]>;
    await page.getByRole('button', { name: 'Sign in' }).click();
    const [params] = await received;
    expect(params.get('state')).toBe('browser-state');
    expect(params.get('code')).toMatch(/^twgc_/);
    await expect.poll(() => page.textContent('body')).toContain('signed in');
  } finally {
    await context.close();
    callback.close();
  }
});
