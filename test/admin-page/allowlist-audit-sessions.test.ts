// The admin page in a real browser: the IP allowlist and its lock-out refusal, the audit log
// (filters, pages, an event's JSON, exports, the chain) and revoking twg sessions.
import fs from 'node:fs';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectInput } from '../support/app.ts';
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

const ruleRow = (page: Page, cidr: string) => page.getByRole('row').filter({ hasText: cidr });

async function openScreen(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

async function saveAllowlist(page: Page, version: number) {
  await page.getByRole('button', { name: 'Save allowlist' }).click();
  await statusText(page, `Saved (version ${version})`);
}

const allowlistOf = (orgId: string) => h.t.app.services.ipAllowlist.get(orgId);

describe('the admin page', () => {
  it('adds, edits and removes address and country rules, and enforces the allowlist', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'IP allowlist');
    await checkScreen(page, 'allowlist-empty');

    await page.getByLabel('Address or range', { exact: true }).fill('10.0.0.0/8');
    await page.getByLabel('Description (optional)').fill('office');
    await page.getByRole('button', { name: 'Add range' }).click();
    await page.getByLabel('Address or range', { exact: true }).fill('127.0.0.1/32');
    await page.getByLabel('Description (optional)').fill('this machine');
    await page.keyboard.press('Enter');
    await page.getByLabel('Country code').fill('de');
    await page.getByRole('button', { name: 'Add country' }).click();
    await saveAllowlist(page, 1);
    expect(await allowlistOf(org.tenant.orgId)).toMatchObject({
      enabled: false,
      rules: [
        { cidr: '10.0.0.0/8', description: 'office' },
        { cidr: '127.0.0.1/32', description: 'this machine' },
      ],
      locations: ['DE'],
    });

    await ruleRow(page, '10.0.0.0/8').getByRole('button', { name: 'Edit 10.0.0.0/8' }).click();
    await page.getByLabel('Address or range of rule 1').fill('10.1.0.0/16');
    await page.getByLabel('Description of rule 1').fill('branch');
    await page.getByRole('button', { name: 'Apply' }).click();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Edit 10.1.0.0/16');
    await saveAllowlist(page, 2);
    expect((await allowlistOf(org.tenant.orgId)).rules).toEqual([
      { cidr: '10.1.0.0/16', description: 'branch' },
      { cidr: '127.0.0.1/32', description: 'this machine' },
    ]);

    await page.getByRole('button', { name: 'Remove 10.1.0.0/16' }).click();
    await page.getByRole('button', { name: 'Remove country DE' }).click();
    await page.getByRole('switch', { name: 'Enforce the allowlist' }).check();
    await checkScreen(page, 'allowlist-edited');
    await saveAllowlist(page, 3);
    expect(await allowlistOf(org.tenant.orgId)).toMatchObject({ enabled: true, rules: [{ cidr: '127.0.0.1/32', description: 'this machine' }], locations: [], version: 3 });

    // Enforced, and this browser (127.0.0.1) is inside it: the page keeps working; a request from elsewhere does not.
    await page.reload();
    await page.getByRole('row').filter({ hasText: '127.0.0.1/32' }).waitFor();
    const cli = await org.tenant.account();
    const outside = await h.t.graphql(cli.token, '{ viewer { grantedPermissions } }', undefined, {}, '198.51.100.7');
    expect(outside.status).toBe(403);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('refuses to save an allowlist that would lock the admin out, and says why', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'IP allowlist');
    await page.getByLabel('Address or range', { exact: true }).fill('203.0.113.0/24');
    await page.getByRole('button', { name: 'Add range' }).click();
    await page.getByRole('switch', { name: 'Enforce the allowlist' }).check();
    await page.getByRole('button', { name: 'Save allowlist' }).click();

    const refusal = page.getByRole('alert').filter({ hasText: 'Not saved: this allowlist would lock you out.' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('would refuse the address you are saving from (127.0.0.1)');
    await checkScreen(page, 'allowlist-lock-out');
    expect(await allowlistOf(org.tenant.orgId)).toMatchObject({ enabled: false, rules: [], version: 0 });
    // The draft stays for the admin to fix.
    expect(await page.getByRole('switch', { name: 'Enforce the allowlist' }).isChecked()).toBe(true);
    expect(await ruleRow(page, '203.0.113.0/24').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a save of the allowlist by another admin in between as a conflict, and discards to theirs on request', async () => {
    const org = await createOrganisation(h.t);
    const other = await org.tenant.account({ admin: true });
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'IP allowlist');
    await page.getByLabel('Address or range', { exact: true }).fill('192.0.2.0/24');
    await page.getByRole('button', { name: 'Add range' }).click();

    const theirs = await h.t.graphql(other.token, 'mutation($i: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $i) { version } }', {
      i: { orgId: org.tenant.orgId, enabled: false, rules: [{ cidr: '198.51.100.0/24', description: 'theirs' }], expectedVersion: 0 },
    });
    expect(theirs.body.data.updateIpAllowlist.version).toBe(1);
    await page.getByRole('button', { name: 'Save allowlist' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not saved: another admin saved the allowlist meanwhile.' }).waitFor();
    expect(await ruleRow(page, '192.0.2.0/24').isVisible()).toBe(true);
    expect((await allowlistOf(org.tenant.orgId)).rules).toEqual([{ cidr: '198.51.100.0/24', description: 'theirs' }]);

    await page.getByRole('button', { name: 'Discard changes' }).click();
    await statusText(page, 'Changes discarded; this is the saved allowlist.');
    expect(await ruleRow(page, '198.51.100.0/24').isVisible()).toBe(true);
    expect(await ruleRow(page, '192.0.2.0/24').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('filters and pages the audit log, shows an event’s full JSON, exports NDJSON and CSV and verifies the chain', async () => {
    const org = await createOrganisation(h.t);
    const member = await org.tenant.account();
    const narrow = await org.tenant.account({ scopes: ['read:page:confluence'] });
    const command = (token: string, name: string, query = '{ viewer { grantedPermissions } }') => h.t.graphql(token, query, undefined, { 'x-twg-command': name });
    // Access tokens last 10 minutes: a new one for each hour the clock moves on.
    const cliToken = async (accountId: string, scopes: string[]) => (await h.t.app.services.sessions.issue({ orgId: org.tenant.orgId, accountId }, 'twg-cli', scopes)).accessToken;
    for (let i = 0; i < 12; i++) await command(member.token, 'jira workitem get');
    await org.tenant.ingest('setObjects', { objects: [objectInput('W-1')] });
    await command(member.token, 'jira workitem search', '{ objects { edges { node { id } } } }');
    h.t.clock.advance(3600_000);
    const memberLater = await cliToken(member.accountId, ['read:page:confluence']);
    for (let i = 0; i < 3; i++) await command(memberLater, 'confluence page get');
    const restricted = await command(await cliToken(narrow.accountId, ['read:page:confluence']), 'jira workitem list', '{ objects(filter: { types: ["jira:work-item"] }) { edges { node { id } } } }');
    expect(restricted.body.errors?.[0].extensions.code).toBe('RESTRICTED');
    h.t.clock.advance(3600_000);

    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'Audit log');
    await page.getByText(/^Hash chain intact: \d+ events? checked since the last check/).waitFor();
    await checkScreen(page, 'audit-log');
    const rows = page.locator('#audit-rows tr');

    await page.getByLabel('Command').fill('jira workitem get');
    await page.getByLabel('Events per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await statusText(page, '10 events on page 1; older events on the next page.');
    expect(await rows.count()).toBe(10);
    expect(new Set(await page.locator('#audit-rows td:nth-child(4)').allTextContents())).toEqual(new Set(['jira workitem get']));
    await page.getByRole('button', { name: 'Older events' }).click();
    await statusText(page, '2 events on page 2.');
    expect(await page.getByRole('button', { name: 'Older events' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer events' }).click();
    await statusText(page, '10 events on page 1;');

    // The export covers every matching event, not only the page.
    const [ndjson] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export NDJSON' }).click()]);
    expect(ndjson.suggestedFilename()).toBe(`audit-${org.tenant.orgId}.ndjson`);
    const lines = fs.readFileSync((await ndjson.path())!, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(12);
    expect(lines.every((event) => event.command === 'jira workitem get' && event.actor.accountId === member.accountId)).toBe(true);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(csv.suggestedFilename()).toBe(`audit-${org.tenant.orgId}.csv`);
    const csvLines = fs.readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    expect(csvLines).toHaveLength(13);
    expect(csvLines.slice(1).every((line) => line.includes('jira workitem get'))).toBe(true);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Actor (e-mail or account ID)').fill(narrow.accountId);
    await page.getByLabel('Outcome').selectOption('RESTRICTED');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await statusText(page, '1 event on page 1.');
    expect(await rows.first().textContent()).toContain('jira workitem list');
    expect(await rows.first().locator('.outcome').textContent()).toBe('RESTRICTED');

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Object type').fill('jira:work-item');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await statusText(page, '1 event on page 1.');
    expect(await rows.first().locator('td').allTextContents()).toEqual(expect.arrayContaining(['jira workitem search', 'jira:work-item', 'SUCCESS']));

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('From (UTC)').fill('2026-11-23T08:30:00');
    await page.getByLabel('To (UTC)').fill('2026-11-23T09:30:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await statusText(page, '4 events on page 1.');
    expect((await page.locator('#audit-rows td:nth-child(4)').allTextContents()).sort()).toEqual(['confluence page get', 'confluence page get', 'confluence page get', 'jira workitem list']);

    // Only the browser's requests come from 127.0.0.1 (the others came without a socket).
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('IP address').fill('127.0.0.1');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-rows td:nth-child(7)').first().waitFor();
    expect(new Set(await page.locator('#audit-rows td:nth-child(2)').allTextContents())).toEqual(new Set([org.admin.email]));

    const first = rows.first().getByRole('button');
    await first.click();
    const dialog = page.getByRole('dialog', { name: /^Audit event / });
    await dialog.waitFor();
    const shown = JSON.parse((await dialog.locator('pre').textContent())!);
    expect(shown).toMatchObject({ orgId: org.tenant.orgId, ip: '127.0.0.1', actor: { accountId: org.admin.accountId } });
    await checkScreen(page, 'audit-event');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // The dialog's close event, which gives focus back, comes a task after it is hidden.
    await expect.poll(() => first.evaluate((button) => button === document.activeElement)).toBe(true);

    // Changed behind the append-only trigger's back, as an intruder with database access would: an
    // event after the one the page's first check verified up to (the next check starts there).
    const victim = (
      await sql<{ id: string }>`select id from audit_event e where org_id = ${org.tenant.orgId}
        and seq > (select verified_seq from audit_verification v where v.org_id = e.org_id) order by seq limit 1`.execute(h.t.db)
    ).rows[0].id;
    await sql.raw('alter table audit_event disable trigger audit_event_append_only').execute(h.t.db);
    await sql`update audit_event set command = 'nothing to see' where id = ${victim}`.execute(h.t.db);
    await sql.raw('alter table audit_event enable trigger audit_event_append_only').execute(h.t.db);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByText(`Hash chain broken at event ${victim}`).waitFor();
    await checkScreen(page, 'audit-chain-broken');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('revokes one person’s twg sessions, typed by e-mail, then everyone’s, and keeps the admin page signed in', async () => {
    const org = await createOrganisation(h.t);
    const [first, second] = [await org.person(), await org.person()];
    const [firstToken, secondToken] = await Promise.all([first, second].map(async (p) => (await h.t.app.services.sessions.issue({ orgId: org.tenant.orgId, accountId: p.accountId }, 'twg-cli', [])).accessToken));
    const works = async (token: string) => (await h.t.graphql(token, '{ viewer { grantedPermissions } }')).status === 200;
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openScreen(page, 'Sessions');

    await page.getByLabel('E-mail or account ID', { exact: true }).fill(first.email.toUpperCase());
    await page.getByRole('button', { name: 'Show sessions' }).click();
    await page.getByRole('heading', { name: `Sessions of ${first.email.split('@')[0]} (${first.email})` }).waitFor();
    await page.getByRole('button', { name: 'End all their twg sessions…' }).click();
    const confirm = page.getByRole('dialog', { name: "End this person's twg sessions?" });
    await confirm.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await checkScreen(page, 'sessions-confirm');
    await confirm.getByRole('button', { name: 'End twg sessions' }).click();
    await statusText(page, `1 twg session of ${first.email} revoked.`);
    expect([await works(firstToken), await works(secondToken)]).toEqual([false, true]);

    // Cancelling revokes nothing.
    await page.getByRole('button', { name: 'Revoke all twg sessions…' }).click();
    await page.getByRole('dialog', { name: 'Revoke all twg sessions?' }).getByRole('button', { name: 'Cancel' }).click();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Revoke all twg sessions…');
    expect(await works(secondToken)).toBe(true);

    await page.getByRole('button', { name: 'Revoke all twg sessions…' }).click();
    await page.getByRole('dialog', { name: 'Revoke all twg sessions?' }).getByRole('button', { name: 'Revoke sessions' }).click();
    await statusText(page, '1 twg session of everyone in the organisation revoked.');
    expect(await works(secondToken)).toBe(false);
    await checkScreen(page, 'sessions');

    await openScreen(page, 'CLI permissions');
    await page.getByRole('switch', { name: 'Allow all permissions by default' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
