// The admin page in a real browser: what it loads, sign-in through the service's own OAuth, the
// refusal of non-admins, and the CLI permission settings with their save dialog and conflicts.
import { ADMIN_CLIENT_ID } from '../../src/modules/session/credentials/client-ids.ts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/modules/cli-permission/catalog.ts';
import { type AdminPageHarness, PASSWORD, checkScreen, createOrganisation, launchBrowser, openPage, signIn, signInAsAdmin, startAdminPageApp, statusText } from '../support/admin-browser.ts';

let browser: Browser;
let h: AdminPageHarness;

beforeAll(async () => {
  [browser, h] = await Promise.all([launchBrowser(), startAdminPageApp()]);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const keysOf = (category: string) => defaultCatalog.permissions.filter((p) => p.category === category).map((p) => p.key);
const ALL = defaultCatalog.permissions.map((p) => p.key);
const READ = keysOf('READ');
const WRITE = keysOf('WRITE_AND_MANAGE');
const DELETE = keysOf('DELETE');

const panel = (page: Page) => page.getByRole('dialog', { name: /permissions$/ });
const saveDialog = (page: Page) => page.getByRole('dialog', { name: 'Save the CLI permission settings?' });
const card = (page: Page, name: string) => page.locator('.category').filter({ has: page.getByRole('heading', { name, exact: true }) });
const activeDialogId = (page: Page) => page.evaluate(() => document.activeElement?.closest('dialog')?.id ?? null);
const activeText = (page: Page) => page.evaluate(() => document.activeElement?.textContent ?? null);

async function expectWorks(token: string, works: boolean) {
  const r = await h.t.graphql(token, '{ viewer { grantedPermissions } }');
  expect(r.status).toBe(works ? 200 : 401);
}

describe('the admin page', () => {
  it('loads only from this server, under a strict CSP, with less than 200 KB of script compressed', async () => {
    const { context, page, problems } = await openPage(browser);
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const response = await page.goto(`${h.server.url}/admin`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const csp = response!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${h.server.url}/`))).toEqual([]);
    // The entry script and the modules it imports; the shell preloads those, so Chromium reports
    // them with initiatorType 'other', not 'script'.
    const scripts = (await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname.endsWith('.js'))
        .map((e) => ({ name: e.name, encoded: (e as PerformanceResourceTiming).encodedBodySize, decoded: (e as PerformanceResourceTiming).decodedBodySize })),
    )) as { name: string; encoded: number; decoded: number }[];
    expect(scripts.map((s) => new URL(s.name).pathname).sort()).toEqual([
      '/admin/access.js',
      '/admin/admin.js',
      '/admin/allowlist.js',
      '/admin/audit.js',
      '/admin/auth.js',
      '/admin/dom.js',
      '/admin/keys.js',
      '/admin/people.js',
      '/admin/permissions.js',
      '/admin/router.js',
      '/admin/sessions.js',
      '/admin/streams.js',
    ]);
    // Served gzipped: what travels is smaller than the script itself.
    expect(scripts[0].encoded).toBeLessThan(scripts[0].decoded);
    expect(scripts.reduce((sum, s) => sum + s.encoded, 0)).toBeLessThan(200 * 1024);
    const total = (size: 'encoded' | 'decoded') => scripts.reduce((sum, s) => sum + s[size], 0);
    console.info(`admin page first-load script: ${scripts.length} modules, ${total('encoded')} bytes gzipped, ${total('decoded')} bytes uncompressed`);
    await checkScreen(page, 'sign-in');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('signs an org admin in through the login page, on a teamgraph-admin session, and signs out', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await page.goto(`${h.server.url}/admin`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/oauth/authorize');
    expect(await page.getByText('Sign in to the admin page').isVisible()).toBe(true);
    await checkScreen(page, 'login-page');
    await page.getByLabel('E-mail').fill(org.admin.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/admin' && url.search === '');
    await page.getByRole('heading', { name: 'CLI permissions', level: 1 }).waitFor();
    expect(await page.getByText(org.admin.email).isVisible()).toBe(true);
    const sessions = await h.t.db.selectFrom('session').select(['client_id', 'revoked_at']).where('account_id', '=', org.admin.accountId).execute();
    expect(sessions).toEqual([{ client_id: ADMIN_CLIENT_ID, revoked_at: null }]);

    // A reload of the tab stays signed in; signing out ends the session on the server.
    await page.reload();
    await page.getByRole('heading', { name: 'CLI permissions', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to the admin page' }).waitFor();
    const after = await h.t.db.selectFrom('session').select('revoked_at').where('account_id', '=', org.admin.accountId).executeTakeFirstOrThrow();
    expect(after.revoked_at).not.toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('replaces an expired access token with the refresh token, and asks to sign in again once the session is revoked', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    const stored = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('teamgraph-admin.tokens') ?? 'null'));
    const before = await stored();

    h.t.clock.advance(11 * 60 * 1000);
    await page.getByRole('link', { name: 'IP allowlist' }).click();
    await page.getByRole('switch', { name: 'Enforce the allowlist' }).waitFor();
    // The screen shows before its data arrives: the refused request and the refresh may still be on their way.
    await expect.poll(async () => (await stored()).access).not.toBe(before.access);
    expect((await stored()).refresh).not.toBe(before.refresh);

    // The screen's last requests must be answered first: one still in flight when the session
    // ends would sign the page out before the click below.
    await page.waitForLoadState('networkidle');
    await h.t.app.services.sessions.revoke(org.tenant.orgId, { accountId: org.admin.accountId });
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('alert').filter({ hasText: 'The session was ended; sign in again.' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Sign in to the admin page' }).isVisible()).toBe(true);
    expect(await stored()).toBeNull();
    // The browser logs the refused requests (401 from /graphql, 400 invalid_grant from /oauth/token); nothing else went wrong.
    expect(problems.filter((problem) => !/status of 40[01]/.test(problem))).toEqual([]);
    await context.close();
  });

  it('shows an account that is not an org admin, holding an operator-issued admin page token, that the page is not for it', async () => {
    const org = await createOrganisation(h.t);
    const member = await org.person(false);
    const issued = await h.t.app.services.sessions.signIn({ orgId: org.tenant.orgId, accountId: member.accountId }, ADMIN_CLIENT_ID, ALL);
    const { context, page } = await openPage(browser);
    await page.goto(`${h.server.url}/admin`);
    await page.evaluate((tokens) => sessionStorage.setItem('teamgraph-admin.tokens', JSON.stringify(tokens)), { access: issued.accessToken, refresh: issued.refreshToken });
    await page.reload();
    await page.getByRole('heading', { name: 'Not an organisation admin' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Sections' }).isVisible()).toBe(false);
    await checkScreen(page, 'not-an-admin');
    await context.close();
  });

  it('refuses an account that is not an org admin on the login page, and starts no session', async () => {
    const org = await createOrganisation(h.t);
    const member = await org.person(false);
    const { context, page } = await openPage(browser);
    await signIn(page, h.server.url, member.email);
    await page.getByRole('alert').filter({ hasText: 'The admin page is for organisation admins only' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/oauth/authorize');
    await checkScreen(page, 'login-refused');
    expect(await h.t.db.selectFrom('session').select('id').where('account_id', '=', member.accountId).execute()).toEqual([]);
    await context.close();
  });

  it('turns allow-all off, edits categories in the side panel by keyboard, and saves without revoking', async () => {
    const org = await createOrganisation(h.t);
    const cli = await org.tenant.account();
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await checkScreen(page, 'permissions-allow-all');

    await page.getByRole('switch', { name: 'Allow all permissions by default' }).uncheck();
    expect(await card(page, 'Read').getByText(`${READ.length} of ${READ.length} allowed`).isVisible()).toBe(true);
    expect(await card(page, 'Write and manage').locator('.warning').isVisible()).toBe(true);
    expect(await card(page, 'Delete').locator('.warning').isVisible()).toBe(true);
    expect(await card(page, 'Read').locator('.warning').count()).toBe(0);

    // Keyboard only: open the panel, clear it, switch one permission back on, close with Escape.
    const opener = page.getByRole('button', { name: 'Edit Write and manage permissions' });
    await opener.focus();
    await page.keyboard.press('Enter');
    await panel(page).waitFor();
    expect(await activeDialogId(page)).toBe('panel');
    expect(await panel(page).locator('.warning').isVisible()).toBe(true);
    await checkScreen(page, 'permissions-panel');
    await panel(page).getByRole('button', { name: 'Clear all' }).press('Enter');
    for (const key of WRITE) expect(await panel(page).getByRole('switch', { name: key }).isChecked()).toBe(false);
    await panel(page).getByRole('switch', { name: 'write:work-item:jira' }).focus();
    await page.keyboard.press('Space');
    expect(await panel(page).getByRole('switch', { name: 'write:work-item:jira' }).isChecked()).toBe(true);
    expect(await panel(page).getByText(defaultCatalog.permission('write:work-item:jira')!.description, { exact: true }).isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await panel(page).waitFor({ state: 'hidden' });
    // The dialog's close event, which gives focus back, comes a task after it is hidden.
    await expect.poll(() => activeText(page)).toBe('Edit Write and manage permissions');
    expect(await card(page, 'Write and manage').getByText(`1 of ${WRITE.length} allowed`).isVisible()).toBe(true);

    await card(page, 'Delete').getByRole('button').click();
    await panel(page).getByRole('button', { name: 'Clear all' }).click();
    await panel(page).getByRole('button', { name: 'Done' }).click();
    expect(await card(page, 'Delete').getByText(`0 of ${DELETE.length} allowed`).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Save changes…' }).click();
    await saveDialog(page).waitFor();
    expect(await activeDialogId(page)).toBe('save-dialog');
    expect(await saveDialog(page).getByText('People signed in to twg stay signed in').isVisible()).toBe(true);
    expect(await saveDialog(page).getByText('Every twg session of the organisation ends now').isVisible()).toBe(true);
    await checkScreen(page, 'permissions-save-dialog');
    await saveDialog(page).getByRole('button', { name: 'Save without revoking' }).click();
    await statusText(page, 'Saved (version 1). Existing twg sessions were kept.');

    const settings = await h.t.app.services.cliSettings.get(org.tenant.orgId);
    expect(settings).toMatchObject({ allowAllByDefault: false, version: 1 });
    expect([...settings.effectivePermissions].sort()).toEqual([...READ, 'write:work-item:jira'].sort());
    await expectWorks(cli.token, true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('saves and revokes every twg session of the organisation, and the admin page stays signed in', async () => {
    const org = await createOrganisation(h.t);
    const [first, second] = [await org.tenant.account(), await org.tenant.account()];
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);

    await page.getByRole('switch', { name: 'Allow all permissions by default' }).uncheck();
    await card(page, 'Read').getByRole('button').click();
    await panel(page).getByRole('button', { name: 'Clear all' }).click();
    await panel(page).getByRole('button', { name: 'Select all' }).click();
    for (const key of READ) expect(await panel(page).getByRole('switch', { name: key }).isChecked()).toBe(true);
    await panel(page).getByRole('switch', { name: 'read:page:confluence' }).uncheck();
    await panel(page).getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'Save changes…' }).click();
    await saveDialog(page).getByRole('button', { name: 'Save and revoke sessions' }).click();
    await statusText(page, 'Saved (version 1). 2 twg sessions revoked.');

    const settings = await h.t.app.services.cliSettings.get(org.tenant.orgId);
    expect(settings.allowAllByDefault).toBe(false);
    expect(settings.effectivePermissions).toEqual(ALL.filter((key) => key !== 'read:page:confluence'));
    await expectWorks(first.token, false);
    await expectWorks(second.token, false);
    await page.reload();
    await card(page, 'Read').getByText(`${READ.length - 1} of ${READ.length} allowed`).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a save by another admin in between as a conflict, keeps the unsaved changes, and saves them on request', async () => {
    const org = await createOrganisation(h.t);
    const other = await org.person(true);
    const otherToken = (await h.t.app.services.sessions.issue({ orgId: org.tenant.orgId, accountId: other.accountId }, ADMIN_CLIENT_ID, ALL)).accessToken;
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await page.getByRole('switch', { name: 'Allow all permissions by default' }).uncheck();
    await card(page, 'Delete').getByRole('button').click();
    await panel(page).getByRole('button', { name: 'Clear all' }).click();
    await panel(page).getByRole('button', { name: 'Done' }).click();

    const theirs = await h.t.graphql(otherToken, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { settings { version } } }', {
      i: { orgId: org.tenant.orgId, allowAllByDefault: false, selectedPermissions: ['read:work-item:jira'], revokeSessions: false, expectedVersion: 0 },
    });
    expect(theirs.body.data.updateCliPermissions.settings.version).toBe(1);

    await page.getByRole('button', { name: 'Save changes…' }).click();
    await saveDialog(page).getByRole('button', { name: 'Save without revoking' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'while you were editing' });
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain(`Not saved: ${other.email} saved these settings`);
    expect(await conflict.textContent()).toContain('version 1');
    // Not lost: the page still shows this admin's draft, and the server still has the other save.
    expect(await page.getByRole('switch', { name: 'Allow all permissions by default' }).isChecked()).toBe(false);
    expect(await card(page, 'Delete').getByText(`0 of ${DELETE.length} allowed`).isVisible()).toBe(true);
    expect(await card(page, 'Read').getByText(`${READ.length} of ${READ.length} allowed`).isVisible()).toBe(true);
    expect((await h.t.app.services.cliSettings.get(org.tenant.orgId)).effectivePermissions).toEqual(['read:work-item:jira']);
    await checkScreen(page, 'permissions-conflict');

    await conflict.getByRole('button', { name: 'Review and save my changes' }).click();
    await saveDialog(page).getByRole('button', { name: 'Save without revoking' }).click();
    await statusText(page, 'Saved (version 2)');
    expect(await conflict.isVisible()).toBe(false);
    const settings = await h.t.app.services.cliSettings.get(org.tenant.orgId);
    expect(settings).toMatchObject({ allowAllByDefault: false, version: 2 });
    expect(settings.effectivePermissions).toEqual(ALL.filter((key) => !DELETE.includes(key)));
    expect(problems).toEqual([]);
    await context.close();
  });
});
