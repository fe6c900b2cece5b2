// Drives the admin page in Debian's chromium through playwright-core: the real app on a real
// port, an organisation with password accounts, sign-in through the real OAuth login page, an
// axe-core check of a screen, and screenshots kept under test-results/admin-page/.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createTenant, startTestApp, type Tenant, type TestApp } from './app.ts';
import type { TestServer } from './http-server.ts';

export const PASSWORD = 'admin page test password';

/** Resolves once a live region (role status) says `text`. */
export const statusText = (page: Page, text: string) => page.getByRole('status').filter({ hasText: text }).waitFor();
const ARTIFACTS = path.resolve('test-results/admin-page');
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** `args`: more command-line switches for chromium. */
export function launchBrowser(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run', ...args],
  });
}

export interface AdminPageHarness {
  t: TestApp;
  server: TestServer;
  close(): Promise<void>;
}

/** `options`: as startTestApp's (e.g. the audit stream sender's timing); the app is always served. */
export async function startAdminPageApp(options: Parameters<typeof startTestApp>[0] = {}): Promise<AdminPageHarness> {
  const t = await startTestApp({ ...options, serve: true });
  const server = t.server!;
  return {
    t,
    server,
    async close() {
      await server.close();
      await t.close();
    },
  };
}

export interface Person {
  accountId: string;
  email: string;
}

export interface Organisation {
  tenant: Tenant;
  admin: Person;
  /** Another account with a password, admin or not. */
  person(admin?: boolean): Promise<Person>;
}

let emails = 0;

export async function createOrganisation(t: TestApp): Promise<Organisation> {
  const tenant = await createTenant(t, `Org${++emails}`);
  const person = async (admin = false): Promise<Person> => {
    const email = `${admin ? 'admin' : 'member'}${++emails}-${Math.random().toString(36).slice(2, 7)}@admin-page.test`;
    const { accountId } = await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: email.split('@')[0], password: PASSWORD, admin, cloudIds: [tenant.cloudId] });
    return { accountId, email };
  };
  return { tenant, admin: await person(true), person };
}

/** A fresh browser context (its own sessionStorage) whose page records script errors and CSP violations. */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return { context, page, problems };
}

/** Opens /admin and signs in through the service's own login page. */
export async function signIn(page: Page, origin: string, email: string): Promise<void> {
  await page.goto(`${origin}/admin`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signInAsAdmin(page: Page, origin: string, email: string): Promise<void> {
  await signIn(page, origin, email);
  await page.waitForURL((url) => url.pathname === '/admin');
  await page.getByRole('navigation', { name: 'Sections' }).waitFor();
}

/** Runs axe-core on the page as it is now and expects no serious or critical violation; keeps a screenshot. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  // Evaluated through the debugging protocol, so the page's CSP (script-src 'self') does not apply.
  if ((await page.evaluate('typeof window.axe')) === 'undefined') await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })))`)) as {
    id: string;
    impact: string;
    help: string;
    nodes: string[];
  }[];
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}
