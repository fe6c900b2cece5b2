// The admin page's People screen and who is signed in, in a real browser (issue 20): searching,
// filtering and paging the organisation's accounts, a person's sessions with their address and
// country, ending one of them, and naming a person by e-mail on the Sessions screen and in the
// audit log's actor filter.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryLookupFromRows } from '../../src/modules/ip-allowlist/country-lookup.ts';
import { type AdminPageHarness, checkScreen, createOrganisation, launchBrowser, openPage, signInAsAdmin, statusText } from '../support/admin-browser.ts';
import { startTestApp } from '../support/app.ts';

let browser: Browser;
let h: AdminPageHarness;

beforeAll(async () => {
  const start = async (): Promise<AdminPageHarness> => {
    // 198.51.100.0/24 is in "DE" for this test.
    const t = await startTestApp({ serve: true, countries: countryLookupFromRows([['198.51.100.0', '198.51.100.255', 'DE']]) });
    return { t, server: t.server!, close: () => t.close() };
  };
  [browser, h] = await Promise.all([launchBrowser(), start()]);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const peopleRows = (page: Page) => page.locator('#people-rows tr');

async function openScreen(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

/** An account without a password (nobody signs in as it here), a member of the site. */
async function account(orgId: string, cloudId: string, email: string, displayName: string) {
  const { accountId } = await h.t.app.services.orgs.createAccount({ orgId, email, displayName, cloudIds: [cloudId] });
  return { accountId, email };
}

const cliToken = async (orgId: string, accountId: string, scopes: string[]) => (await h.t.app.services.sessions.issue({ orgId, accountId }, 'twg-cli', scopes)).accessToken;
const works = async (token: string) => (await h.t.graphql(token, '{ viewer { grantedPermissions } }')).status === 200;

describe('the People screen', () => {
  it('searches, filters and pages the organisation’s accounts, and opens a person’s sessions, one of which it ends', async () => {
    const org = await createOrganisation(h.t);
    const { orgId, cloudId } = org.tenant;
    for (let i = 0; i < 26; i++) await account(orgId, cloudId, `crowd${String(i).padStart(2, '0')}@people-page.test`, `Crowd ${i}`);
    const zoe = await account(orgId, cloudId, 'zoe@people-page.test', 'Zoë 100% Present');
    const laptop = await cliToken(orgId, zoe.accountId, ['read:work-item:jira', 'read:page:confluence']);
    const phone = await cliToken(orgId, zoe.accountId, ['read:work-item:jira']);
    await h.t.graphql(laptop, '{ viewer { grantedPermissions } }', undefined, {}, '198.51.100.7');
    await h.t.graphql(phone, '{ viewer { grantedPermissions } }', undefined, {}, '192.0.2.1');
    const gone = await account(orgId, cloudId, 'gone@people-page.test', 'Gone');
    await h.t.app.services.orgs.setAccountActive(gone.accountId, false);

    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'People');
    await statusText(page, '25 people on page 1; more on the next page.');
    await checkScreen(page, 'people');
    await page.getByRole('button', { name: 'Next page' }).click();
    await statusText(page, '4 people on page 2.');
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await statusText(page, '25 people on page 1;');

    await page.getByLabel('E-mail or name contains').fill('100%');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await statusText(page, '1 person on page 1.');
    const row = await peopleRows(page).first().locator('td').allTextContents();
    expect(row.slice(0, 7)).toEqual(['Zoë 100% Present', 'zoe@people-page.test', 'Active', 'Member', expect.stringMatching(/^Org\d+ site$/), 'Never', '2']);

    await page.getByRole('button', { name: 'Clear search' }).click();
    await statusText(page, '25 people on page 1;');
    await page.getByLabel('Status').selectOption('deactivated');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await statusText(page, '1 person on page 1.');
    expect(await peopleRows(page).first().locator('td').nth(1).textContent()).toBe('gone@people-page.test');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await statusText(page, '1 person on page 1.');
    expect(await peopleRows(page).first().locator('td').nth(1).textContent()).toBe(org.admin.email);

    await page.getByRole('button', { name: 'Clear search' }).click();
    await page.getByLabel('E-mail or name contains').fill('zoe@');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await statusText(page, '1 person on page 1.');
    await page.getByRole('button', { name: 'Sessions of zoe@people-page.test' }).click();
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Sessions of Zoë 100% Present (zoe@people-page.test)' }).waitFor();
    const sessionRows = page.locator('#person-sessions-rows tr');
    expect(await sessionRows.count()).toBe(2);
    const cells = async (i: number) => (await sessionRows.nth(i).locator('td').allInnerTexts()).slice(0, 6);
    expect((await cells(0)).filter((_, i) => i !== 1 && i !== 2)).toEqual(['twg', '192.0.2.1', 'Unknown', '1 permission']);
    expect((await cells(1)).filter((_, i) => i !== 1 && i !== 2)).toEqual(['twg', '198.51.100.7', 'DE', '2 permissions']);
    await sessionRows.nth(1).getByText('2 permissions').click();
    await sessionRows.nth(1).getByText('read:page:confluence').waitFor();
    await checkScreen(page, 'person-sessions');

    await sessionRows.nth(1).getByRole('button', { name: /^End the twg session signed in / }).click();
    const confirm = page.getByRole('dialog', { name: 'End this session?' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('Zoë 100% Present (zoe@people-page.test)');
    await confirm.getByRole('button', { name: 'End session' }).click();
    await statusText(page, 'The twg session of zoe@people-page.test signed in');
    await expect.poll(() => sessionRows.count()).toBe(1);
    expect([await works(laptop), await works(phone)]).toEqual([false, true]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('person-sessions-title');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('naming a person by e-mail', () => {
  it('shows a person’s sessions from a typed e-mail and says when nobody has it', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'Sessions');
    // The admin's own page session is there, marked.
    await page.getByLabel('E-mail or account ID', { exact: true }).fill(org.admin.email);
    await page.getByRole('button', { name: 'Show sessions' }).click();
    await page.locator('#person-sessions-rows tr').filter({ hasText: 'Admin page (this page)' }).waitFor();

    await page.getByLabel('E-mail or account ID', { exact: true }).fill('nobody@people-page.test');
    await page.getByRole('button', { name: 'Show sessions' }).click();
    await page.getByRole('alert').filter({ hasText: 'No account of your organisation has the e-mail nobody@people-page.test.' }).waitFor();
    expect(await page.locator('#person-sessions').isHidden()).toBe(true);
    await checkScreen(page, 'sessions-unknown-person');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('filters the audit log by an actor’s e-mail', async () => {
    const org = await createOrganisation(h.t);
    const member = await org.person();
    const token = await cliToken(org.tenant.orgId, member.accountId, []);
    for (let i = 0; i < 3; i++) await h.t.graphql(token, '{ viewer { grantedPermissions } }', undefined, { 'x-twg-command': 'whoami' });
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'Audit log');
    await page.getByLabel('Actor (e-mail or account ID)').fill(member.email.toUpperCase());
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await statusText(page, '3 events on page 1.');
    expect(new Set(await page.locator('#audit-rows td:nth-child(2)').allTextContents())).toEqual(new Set([member.email]));

    await page.getByLabel('Actor (e-mail or account ID)').fill('nobody@people-page.test');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('alert').filter({ hasText: 'No account of your organisation has the e-mail nobody@people-page.test.' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
