// The admin page's admin API keys screen in a real browser: creating a key (its secret shown once,
// copied with the button), the list with each key's state, revoking one, and a refused creation.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperator } from '../support/app.ts';
import { type AdminPageHarness, checkScreen, createOrganisation, launchBrowser, openPage, signInAsAdmin, startAdminPageApp, statusText } from '../support/admin-browser.ts';

let browser: Browser;
let h: AdminPageHarness;

beforeAll(async () => {
  [browser, h] = await Promise.all([launchBrowser(), startAdminPageApp()]);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const keyRow = (page: Page, label: string) => page.locator('#key-rows tr').filter({ hasText: label });
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id);
const SETTINGS = '{ viewer { organization { id cliSettings { version } } } }';

async function openKeys(page: Page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Admin API keys' }).click();
  await page.getByRole('heading', { name: 'Admin API keys', level: 1 }).waitFor();
}

describe('the admin API keys screen', () => {
  it('creates a key whose secret is shown once with a copy button, lists it, and revokes it', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.server.url });
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openKeys(page);
    await page.getByText('No admin API keys yet.').waitFor();
    await checkScreen(page, 'keys-empty');

    await page.getByLabel('Label').fill('nightly export');
    await page.getByLabel('Expires').selectOption({ label: 'In 30 days' });
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretRegion = page.getByRole('region', { name: 'Copy the new key now' });
    await secretRegion.waitFor();
    expect(await focusedId(page)).toBe('key-secret-title');
    const secret = await page.getByLabel('The new key', { exact: true }).inputValue();
    expect(secret).toMatch(/^twgk_/);
    await keyRow(page, 'nightly export').waitFor();
    await checkScreen(page, 'keys-created');

    await secretRegion.getByRole('button', { name: 'Copy key' }).click();
    await statusText(page, 'Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    // The key works as the admin who created it, and the list says so without its secret.
    const used = await h.t.graphql(secret, SETTINGS);
    expect(used.body.data.viewer.organization.id).toBe(org.tenant.orgId);
    const row = keyRow(page, 'nightly export');
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe(org.admin.email);
    expect(cells[5]).toBe('Active');
    const [apiKey] = await h.t.app.services.adminKeys.list(org.tenant.orgId);
    expect(cells[0]).toBe(`nightly export${apiKey.id}`);
    expect(Math.round((apiKey.expires_at!.getTime() - Date.now()) / 86_400_000)).toBe(30);

    // Once stored, the secret leaves the page.
    await secretRegion.getByRole('button', { name: 'I have stored it; hide the key' }).click();
    await secretRegion.waitFor({ state: 'hidden' });
    expect(await focusedId(page)).toBe('key-name');
    expect(await page.getByLabel('The new key', { exact: true }).inputValue()).toBe('');

    await row.getByRole('button', { name: 'Revoke key nightly export' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke this admin API key?' });
    await confirm.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await checkScreen(page, 'keys-revoke-confirm');
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await statusText(page, 'Key "nightly export" is revoked.');
    expect(await focusedId(page)).toBe('keys-list-title');
    expect((await row.locator('td').allTextContents())[5]).toMatch(/^Revoked \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await row.getByRole('button').count()).toBe(0);
    expect((await h.t.graphql(secret, SETTINGS)).status).toBe(401);
    await checkScreen(page, 'keys-revoked');

    // Both are the admin's actions in the audit log (PRODUCT §5: audited).
    const events = await h.t.db.selectFrom('audit_event').select(['action', 'event_json']).where('org_id', '=', org.tenant.orgId).where('action', 'like', 'admin-api-key.%').orderBy('seq').execute();
    expect(events.map((e) => [e.action, JSON.parse(e.event_json).actor.accountId, JSON.parse(e.event_json).details.keyId])).toEqual([
      ['admin-api-key.created', org.admin.accountId, apiKey.id],
      ['admin-api-key.revoked', org.admin.accountId, apiKey.id],
    ]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a key that stopped with its creator, and says why a creation was refused', async () => {
    const org = await createOrganisation(h.t);
    const former = await org.person(true);
    await h.t.app.services.adminKeys.create(asOperator, org.tenant.orgId, former.accountId, { name: 'old script' });
    await h.t.app.services.orgs.setOrgAdmin(former.accountId, false);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openKeys(page);
    expect((await keyRow(page, 'old script').locator('td').allTextContents())[5]).toBe('Not working: its creator is no longer an admin');

    await page.getByLabel('Label').fill('   ');
    await page.getByRole('button', { name: 'Create key' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'No key was created.' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('A key name must be 1 to 100 characters');
    expect(await page.getByRole('region', { name: 'Copy the new key now' }).isVisible()).toBe(false);
    await checkScreen(page, 'keys-refused');
    expect(problems).toEqual([]);
    await context.close();
  });
});
