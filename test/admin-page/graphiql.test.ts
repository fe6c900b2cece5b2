// GraphiQL in a real browser with no way off this machine: it loads from this server alone, under
// its CSP, opens with the headers the app is given (the demo token) and the schema's docs, and
// without them says how to get a token and loads the docs once one is pasted.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from '../support/admin-browser.ts';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';

let browser: Browser;
let t: TestApp;
let origin: string;
let headers: Record<string, string> | undefined;

beforeAll(async () => {
  // Every host name but the loopback address fails to resolve, as on a machine without internet.
  [browser, t] = await Promise.all([launchBrowser(['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']), startTestApp({ serve: true, graphiqlHeaders: () => headers })]);
  origin = t.server!.url;
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

interface Visit {
  page: Page;
  problems: string[];
  /** Every request the page and its workers made, and the authorization of each POST /graphql. */
  requests: string[];
  introspections: (string | undefined)[];
  /** CSP violations the page reported. */
  violations: () => Promise<string[]>;
  close(): Promise<void>;
}

async function visit(): Promise<Visit> {
  const { context, page, problems } = await openPage(browser);
  const requests: string[] = [];
  const introspections: (string | undefined)[] = [];
  // Anything bound elsewhere is refused here too, whichever way it was asked for.
  await context.route('**/*', (route) => (route.request().url().startsWith(`${origin}/`) ? route.continue() : route.abort('internetdisconnected')));
  context.on('request', (request) => {
    requests.push(request.url());
    if (request.method() === 'POST' && request.postData()?.includes('__schema')) introspections.push(request.headers().authorization);
  });
  await context.addInitScript(() => {
    const seen: string[] = ((window as any).cspViolations = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, problems, requests, introspections, violations: () => page.evaluate(() => (window as any).cspViolations as string[]), close: () => context.close() };
}

/** Keeps a screenshot beside the admin page's. */
async function keep(page: Page, name: string) {
  const folder = path.resolve('test-results/admin-page');
  fs.mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: path.join(folder, `${name}.png`) });
}

const editorsReady = (page: Page) => page.locator('.graphiql-query-editor .monaco-editor').waitFor();
const headersTab = (page: Page) => page.getByRole('region', { name: 'Headers' });
const openDocs = (page: Page) => page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
const docs = (page: Page) => page.locator('.graphiql-doc-explorer');

describe('GraphiQL at /graphql', () => {
  it('loads from this server alone under a strict CSP and opens with the given token and the schema docs', async () => {
    const tenant = await createTenant(t);
    const alice = await tenant.account();
    headers = { Authorization: `Bearer ${alice.token}` };
    const v = await visit();
    const response = (await v.page.goto(`${origin}/graphql`))!;
    const csp = response.headers()['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("worker-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(response.headers()['cache-control']).toBe('no-store');

    await editorsReady(v.page);
    await openDocs(v.page);
    await docs(v.page).getByText('Root Types').waitFor();
    expect(await docs(v.page).getByText('Error fetching schema').count()).toBe(0);
    await keep(v.page, 'graphiql-with-token');
    await headersTab(v.page).getByText(alice.token).waitFor();
    expect(v.introspections).toEqual([`Bearer ${alice.token}`]);
    expect(await v.page.locator('#token-notice').count()).toBe(0);

    // The bundle, its style and Monaco's workers all came from here; nothing was refused or blocked.
    expect(v.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(v.requests.map((url) => new URL(url).pathname)).toEqual(expect.arrayContaining(['/graphiql/graphiql.js', '/graphiql/graphql.worker.js', '/graphiql/editorWorkerService.worker.js']));
    expect([...new Set(await v.violations())]).toEqual([]);
    expect(v.problems).toEqual([]);
    await v.close();
  });

  it('opens every tab with the token given now after a reload, so a new demo token replaces the last one', async () => {
    const tenant = await createTenant(t);
    const first = await tenant.account();
    const second = await tenant.account();
    headers = { Authorization: `Bearer ${first.token}` };
    const v = await visit();
    await v.page.goto(`${origin}/graphql`);
    await editorsReady(v.page);
    await headersTab(v.page).getByText(first.token).waitFor();

    headers = { Authorization: `Bearer ${second.token}` };
    await v.page.reload();
    await editorsReady(v.page);
    await headersTab(v.page).getByText(second.token).waitFor();
    // The tab GraphiQL kept from before carries the new token too.
    await v.page.locator('.graphiql-tab').first().click();
    await headersTab(v.page).getByText(second.token).waitFor();
    await expect.poll(() => v.introspections.at(-1)).toBe(`Bearer ${second.token}`);
    expect([...new Set(await v.violations())]).toEqual([]);
    expect(v.problems).toEqual([]);
    await v.close();
  });

  it('says how to get a token when it has none to offer, and loads the docs once one is pasted', async () => {
    const tenant = await createTenant(t);
    const bob = await tenant.account();
    headers = undefined;
    const v = await visit();
    await v.page.goto(`${origin}/graphql`);
    await editorsReady(v.page);
    const notice = v.page.locator('#token-notice');
    expect(await notice.innerText()).toContain('npm run --silent admin -- token --account <account id>');
    expect(await notice.innerText()).toContain('{"Authorization": "Bearer <accessToken>"}');
    await openDocs(v.page);
    await docs(v.page).getByText('Error fetching schema').waitFor();
    await keep(v.page, 'graphiql-without-token');

    await v.page.getByRole('button', { name: 'Headers' }).click();
    await headersTab(v.page).getByRole('code').click();
    await v.page.keyboard.insertText(`{"Authorization": "Bearer ${bob.token}"}`);
    await docs(v.page).getByText('Root Types').waitFor();
    // GraphiQL asks twice when refused (once more without the subscription type), then once with the token.
    expect(v.introspections[0]).toBeUndefined();
    expect(v.introspections.filter(Boolean)).toEqual([`Bearer ${bob.token}`]);
    await notice.waitFor({ state: 'hidden' });

    expect(v.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect([...new Set(await v.violations())]).toEqual([]);
    // The browser logs the introspection refused without a token; nothing else went wrong.
    expect(v.problems.filter((problem) => !/status of 401/.test(problem))).toEqual([]);
    await v.close();
  });
});
