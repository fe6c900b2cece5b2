// The admin page's audit streams screen in a real browser (issue 21): adding a stream (its secret
// never shown back), the list with how far delivery has got, pausing, resuming, changing and
// deleting one, and the API's refusals shown at the field they concern.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorAuthor } from '../../src/modules/audit/audit-event.ts';
import { type AdminPageHarness, checkScreen, createOrganisation, launchBrowser, type Organisation, openPage, signInAsAdmin, startAdminPageApp, statusText } from '../support/admin-browser.ts';
import { startAuditReceiver } from '../support/audit-receiver.ts';

const SECRET = 'receiver-secret-0123456789abcdef';
const NEW_SECRET = 'rotated-secret-fedcba9876543210';
const URL_1 = 'https://siem.example.com/teamgraph';
const URL_2 = 'https://hec.example.net/services/collector/event';
const STREAMS = 'query($o: ID!) { organization(id: $o) { auditStreams { id url format paused pauseReason status { lastDeliveredAt lagEvents lastError nextAttemptAt } } } }';

let browser: Browser;
// Setup done through the service is the operator's, at the app's clock (which the sender reads).
const asOperator = () => operatorAuthor(() => h.t.clock.now());
let h: AdminPageHarness;

beforeAll(async () => {
  // Plain http to the loopback receiver; every owed event is due at once, so one tick delivers.
  [browser, h] = await Promise.all([launchBrowser(), startAdminPageApp({ auditStreamAllowHttp: true, auditStreamSender: { flushSeconds: 0, timeoutMs: 2000, random: () => 0.5 } })]);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const streamRow = (page: Page, url: string) => page.locator('#stream-rows tr').filter({ hasText: url });
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id);
const cellsOf = async (page: Page, url: string) => streamRow(page, url).locator('td').allTextContents();

async function openStreams(page: Page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audit streams' }).click();
  await page.getByRole('heading', { name: 'Audit streams', level: 1 }).waitFor();
}

/** The organisation's streams as another admin reads them through the API. */
async function apiStreams(org: Organisation) {
  const { token } = await org.tenant.account({ admin: true });
  const result = await h.t.graphql(token, STREAMS, { o: org.tenant.orgId });
  expect(result.body.errors).toBeUndefined();
  return result.body.data.organization.auditStreams as { id: string; url: string; format: string; paused: boolean; pauseReason: string | null }[];
}

/** Nowhere in the page, its markup or its inputs' values. */
async function expectNotOnPage(page: Page, text: string) {
  expect(await page.content()).not.toContain(text);
  const values = await page.evaluate(() => [...document.querySelectorAll('input')].map((input) => input.value));
  expect(values).not.toContain(text);
}

describe('the audit streams screen', () => {
  it('adds a stream, which the API then lists, pauses and resumes it, changes it and deletes it', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);

    // Reached from the audit log screen too.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.locator('#screen-audit').getByRole('link', { name: 'audit stream' }).click();
    await page.getByRole('heading', { name: 'Audit streams', level: 1 }).waitFor();
    expect(await page.title()).toBe('Audit streams · teamgraph admin');
    await page.getByText('No audit streams yet.').waitFor();
    await checkScreen(page, 'streams-empty');
    const form = page.getByRole('form', { name: 'Add a stream' });

    await form.getByLabel('Receiver URL').fill(URL_1);
    await form.getByLabel('Format').selectOption({ label: 'JSON lines, signed (HMAC-SHA256)' });
    expect(await form.getByLabel('Secret').getAttribute('type')).toBe('password');
    await form.getByLabel('Secret').fill(SECRET);
    await page.getByRole('button', { name: 'Add stream' }).click();
    await statusText(page, `The stream to ${URL_1} is added`);
    expect(await focusedId(page)).toBe('streams-list-title');

    const [stream] = await apiStreams(org);
    expect(stream).toMatchObject({ url: URL_1, format: 'JSON_LINES', paused: false });
    const cells = await cellsOf(page, URL_1);
    expect(cells.slice(0, 4)).toEqual([`${URL_1}${stream.id}`, 'JSON lines', 'Active', 'Nothing yet']);
    // Its own audit-stream.created event at least is owed.
    expect(cells[4]).toMatch(/^[1-9]\d* events?$/);
    expect(cells.slice(5, 7)).toEqual(['None', 'None']);
    expect(await form.getByLabel('Secret').inputValue()).toBe('');
    await expectNotOnPage(page, SECRET);
    await checkScreen(page, 'streams-added');

    await page.getByRole('button', { name: `Pause the stream to ${URL_1}` }).click();
    await statusText(page, `The stream to ${URL_1} is paused`);
    expect((await cellsOf(page, URL_1))[2]).toBe('Paused: paused by an admin');
    // The row was drawn again; its button, now Resume, keeps the focus.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Resume the stream to ${URL_1}`);
    expect((await apiStreams(org))[0]).toMatchObject({ paused: true, pauseReason: 'paused by an admin' });
    await checkScreen(page, 'streams-paused');

    await page.getByRole('button', { name: `Resume the stream to ${URL_1}` }).click();
    await statusText(page, `The stream to ${URL_1} is resumed`);
    expect((await cellsOf(page, URL_1))[2]).toBe('Active');
    expect((await apiStreams(org))[0]).toMatchObject({ paused: false, pauseReason: null });

    // Changing nothing is the API's NOTHING_TO_CHANGE, said in the dialog.
    const sealedBefore = (await h.t.db.selectFrom('audit_stream').select('sealed_secret').where('id', '=', stream.id).executeTakeFirstOrThrow()).sealed_secret;
    await page.getByRole('button', { name: `Change the stream to ${URL_1}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the audit stream' });
    await dialog.waitFor();
    expect(await focusedId(page)).toBe('stream-edit-url');
    expect(await dialog.getByLabel('Receiver URL').inputValue()).toBe(URL_1);
    expect(await dialog.getByLabel('New secret (optional)').inputValue()).toBe('');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'The stream was not changed.' }).waitFor();
    expect(await dialog.getByRole('alert').textContent()).toContain('Name what to change');
    await checkScreen(page, 'streams-change-refused');

    await dialog.getByLabel('Receiver URL').fill(URL_2);
    await dialog.getByLabel('Format').selectOption('SPLUNK_HEC');
    await dialog.getByLabel('New secret (optional)').fill(NEW_SECRET);
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await statusText(page, `The stream to ${URL_2} is changed (URL, format, secret).`);
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Change the stream to ${URL_2}`);
    expect((await cellsOf(page, URL_2)).slice(1, 3)).toEqual(['Splunk HEC', 'Active']);
    expect((await apiStreams(org))[0]).toMatchObject({ id: stream.id, url: URL_2, format: 'SPLUNK_HEC' });
    const sealedAfter = (await h.t.db.selectFrom('audit_stream').select('sealed_secret').where('id', '=', stream.id).executeTakeFirstOrThrow()).sealed_secret;
    expect(sealedAfter).not.toBe(sealedBefore);
    await expectNotOnPage(page, NEW_SECRET);

    await page.getByRole('button', { name: `Delete the stream to ${URL_2}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this audit stream?' });
    await confirm.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    expect(await confirm.textContent()).toContain(URL_2);
    await checkScreen(page, 'streams-delete-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await apiStreams(org)).toHaveLength(1);
    await page.getByRole('button', { name: `Delete the stream to ${URL_2}` }).click();
    await confirm.getByRole('button', { name: 'Delete stream' }).click();
    await statusText(page, `The stream to ${URL_2} is deleted.`);
    expect(await focusedId(page)).toBe('streams-list-title');
    await page.getByText('No audit streams yet.').waitFor();
    expect(await apiStreams(org)).toEqual([]);

    // Each change is the admin's action in the audit log.
    const events = await h.t.db.selectFrom('audit_event').select(['action', 'event_json']).where('org_id', '=', org.tenant.orgId).where('action', 'like', 'audit-stream.%').orderBy('seq').execute();
    expect(events.map((e) => [e.action, JSON.parse(e.event_json).actor.accountId])).toEqual(
      ['created', 'paused', 'resumed', 'updated', 'deleted'].map((action) => [`audit-stream.${action}`, org.admin.accountId]),
    );
    expect(JSON.parse(events[3].event_json).details).toMatchObject({ secretChanged: true, after: { url: URL_2, format: 'SPLUNK_HEC' } });
    expect(events.map((e) => e.event_json).join('\n')).not.toContain(SECRET);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a failing delivery with its error and next attempt, then the delivery that succeeded', async () => {
    const org = await createOrganisation(h.t);
    const receiver = await startAuditReceiver(SECRET);
    try {
      await h.t.app.services.auditStreams.create(asOperator(), org.tenant.orgId, org.admin.accountId, { url: receiver.url, format: 'JSON_LINES', secret: SECRET });
      receiver.script([503]);
      await h.t.app.services.auditStreamSender.tick();
      const { context, page, problems } = await openPage(browser);
      await signInAsAdmin(page, h.server.url, org.admin.email);
      await openStreams(page);
      const failing = await cellsOf(page, receiver.url);
      expect(failing[2]).toBe('Active, deliveries failing');
      expect(failing[3]).toBe('Nothing yet');
      expect(failing[5]).toBe('the receiver answered HTTP 503');
      expect(failing[6]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      await checkScreen(page, 'streams-failing');

      // The backoff has passed: the next tick delivers.
      h.t.clock.advance(60_000);
      await h.t.app.services.auditStreamSender.tick();
      await page.getByRole('button', { name: 'Refresh the status' }).click();
      await statusText(page, '1 stream');
      const delivered = await cellsOf(page, receiver.url);
      expect(delivered[2]).toBe('Active');
      expect(delivered[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(delivered.slice(5, 7)).toEqual(['None', 'None']);
      expect(receiver.posts.at(-1)?.signatureValid).toBe(true);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await receiver.close();
    }
  });
  it('shows the API’s refusal at the field it names, and no form once three streams exist', async () => {
    const org = await createOrganisation(h.t);
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await openStreams(page);

    const form = page.getByRole('form', { name: 'Add a stream' });
    const url = form.getByLabel('Receiver URL');
    const secret = form.getByLabel('Secret');
    // A credential belongs in the sealed secret, not in a URL every admin sees.
    await url.fill('https://collector:hunter2@siem.example.com/teamgraph');
    await secret.fill(SECRET);
    await page.getByRole('button', { name: 'Add stream' }).click();
    const refusal = page.locator('#stream-form').getByRole('alert');
    await refusal.filter({ hasText: 'No stream was added.' }).waitFor();
    expect(await refusal.textContent()).toContain('url must not carry a user name or password');
    expect(await url.getAttribute('aria-invalid')).toBe('true');
    expect(await url.getAttribute('aria-describedby')).toBe('stream-url-hint stream-form-error');
    expect(await focusedId(page)).toBe('stream-url');
    await checkScreen(page, 'streams-refused-url');

    await url.fill(URL_1);
    // Too long is refused by the API, not cut short by the page into a secret the receiver does not have.
    await secret.fill('s'.repeat(1100));
    await page.getByRole('button', { name: 'Add stream' }).click();
    await refusal.filter({ hasText: 'secret must be 16 to 1024 characters' }).waitFor();
    expect(await url.getAttribute('aria-invalid')).toBeNull();
    expect(await secret.getAttribute('aria-invalid')).toBe('true');
    expect(await focusedId(page)).toBe('stream-secret');
    expect(await apiStreams(org)).toEqual([]);

    await secret.fill(SECRET);
    await page.getByRole('button', { name: 'Add stream' }).click();
    await statusText(page, `The stream to ${URL_1} is added`);
    expect(await refusal.isVisible()).toBe(false);
    expect(await url.getAttribute('aria-invalid')).toBeNull();

    for (const n of [2, 3]) await h.t.app.services.auditStreams.create(asOperator(), org.tenant.orgId, org.admin.accountId, { url: `https://siem${n}.example.com/in`, format: 'JSON_LINES', secret: SECRET });
    await page.getByRole('button', { name: 'Refresh the status' }).click();
    await statusText(page, '3 streams');
    expect(await page.locator('#stream-rows tr').count()).toBe(3);
    await page.getByText('Your organisation has three streams, the most it may have').waitFor();
    expect(await page.locator('#stream-form').isVisible()).toBe(false);
    await checkScreen(page, 'streams-full');
    expect(problems).toEqual([]);
    await context.close();
  });

});
