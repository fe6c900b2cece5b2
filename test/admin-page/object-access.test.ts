// The admin page's Object access screen in a real browser (issue 20, item 4): who may view or edit
// an object granted to a group and one inheriting from its container, how each gets in, pages of
// accounts, the explanation for one person, and what it says for an unknown object or person.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPageHarness, checkScreen, createOrganisation, launchBrowser, openPage, signInAsAdmin, startAdminPageApp, statusText } from '../support/admin-browser.ts';
import { groupPrincipal, objectInput, userPrincipal } from '../support/app.ts';

let browser: Browser;
let h: AdminPageHarness;

beforeAll(async () => {
  [browser, h] = await Promise.all([launchBrowser(), startAdminPageApp()]);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const alertText = (page: Page, text: string) => page.getByRole('alert').filter({ hasText: text }).waitFor();
const cells = async (page: Page, rows: string) => Promise.all((await page.locator(rows).all()).map((row) => row.locator('td').allInnerTexts()));

/** An organisation where ann is linked to ext-ann, ben is in group engineering and cat in neither. */
async function organisationWithObjects() {
  const org = await createOrganisation(h.t);
  const { tenant } = org;
  const people: Record<string, { accountId: string; email: string }> = {};
  for (const name of ['ann', 'ben', 'cat']) {
    const email = `${name}-${tenant.orgId.slice(-6).toLowerCase()}@object-access.test`;
    const { accountId } = await h.t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: name.toUpperCase(), cloudIds: [tenant.cloudId] });
    people[name] = { accountId, email };
  }
  await tenant.ingest('setUsers', { users: ['ann', 'ben', 'cat'].map((name) => ({ externalId: `ext-${name}`, updateSequenceNumber: 1 })) });
  await tenant.ingest('mapUsers', { directMappings: ['ann', 'ben', 'cat'].map((name) => ({ externalId: `ext-${name}`, accountId: people[name].accountId, updateSequenceNumber: 1 })) });
  await tenant.ingest('setGroups', { groups: [{ externalId: 'engineering', updateSequenceNumber: 1, members: [{ type: 'USER', externalId: 'ext-ben' }] }] });
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('P', {
        type: 'jira:project',
        permissions: [{ accessControls: [{ principals: [userPrincipal('ext-ann'), groupPrincipal('engineering')] }] }, { action: 'EDIT', accessControls: [{ principals: [userPrincipal('ext-ann')] }] }],
      }),
      objectInput('W', { container: { type: 'jira:project', externalId: 'P' }, permissions: [{ accessControls: [{ principals: [{ type: 'CONTAINER' }] }] }] }),
      objectInput('SITE'),
    ],
  });
  const rows = await h.t.db.selectFrom('graph_object').select(['id', 'external_id']).where('org_id', '=', tenant.orgId).execute();
  const ids = Object.fromEntries(rows.map((r) => [r.external_id, r.id]));
  return { org, people, ids };
}

async function showAccess(page: Page, objectId: string, action = 'VIEW') {
  await page.getByLabel('Object ID').fill(objectId);
  await page.getByLabel('Action').selectOption(action);
  await page.getByRole('button', { name: 'Show access' }).click();
}

describe('the Object access screen', () => {
  it('lists who may view an object through its container and a group, and explains one person', async () => {
    const { org, people, ids } = await organisationWithObjects();
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Object access' }).click();
    await page.getByRole('heading', { name: 'Object access', level: 1 }).waitFor();
    expect(await page.title()).toBe('Object access · teamgraph admin');

    await showAccess(page, ids.W);
    await statusText(page, `2 accounts may view ${ids.W}.`);
    await page.getByRole('heading', { name: `Who may view ${ids.W}` }).waitFor();
    const viaContainer = `may VIEW the container ${ids.P}`;
    expect(new Set((await cells(page, '#accessor-rows tr')).map((row) => row.slice(0, 3).join(' | ')))).toEqual(
      new Set([`ANN | ${people.ann.email} | ${viaContainer}: linked to third-party user ext-ann`, `BEN | ${people.ben.email} | ${viaContainer}: linked to third-party user ext-ben in group engineering`]),
    );
    await checkScreen(page, 'object-access');

    await page.getByRole('button', { name: `Why ${people.ben.email} may view` }).click();
    const title = page.getByRole('heading', { name: `BEN (${people.ben.email}) may view ${ids.W}` });
    await title.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('explanation-title');
    expect(await page.locator('#explanation-summary').textContent()).toBe('Allowed: all 1 access controls for VIEW are satisfied.');
    expect(await cells(page, '#explanation-rows tr')).toEqual([['VIEW permission 1, control 1', 'Satisfied', 'Whoever may act on the container', viaContainer]]);
    await checkScreen(page, 'object-access-explanation');

    // Typed, and not among those who may: every control is shown unmatched.
    await page.getByLabel('Person (e-mail or account ID)').fill(people.cat.email.toUpperCase());
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByRole('heading', { name: `CAT (${people.cat.email}) may not view ${ids.W}` }).waitFor();
    expect(await page.locator('#explanation-summary').textContent()).toBe('Denied: 1 of 1 access controls for VIEW have no matching principal.');
    expect(await cells(page, '#explanation-rows tr')).toEqual([['VIEW permission 1, control 1', 'Not satisfied', 'None', '']]);

    // EDIT on the project: ann alone, by her link; ben's group grants VIEW only.
    await showAccess(page, ids.P, 'EDIT');
    await statusText(page, `1 account may edit ${ids.P}.`);
    expect(await cells(page, '#accessor-rows tr')).toEqual([['ANN', people.ann.email, 'linked to third-party user ext-ann', 'Why?']]);
    expect(await page.locator('#explanation').isHidden()).toBe(true);
    await page.getByLabel('Person (e-mail or account ID)').fill(people.ben.accountId);
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByRole('heading', { name: `BEN (${people.ben.email}) may not edit ${ids.P}` }).waitFor();
    expect(await cells(page, '#explanation-rows tr')).toEqual([
      ['VIEW permission 1, control 1', 'Satisfied', 'Group engineering', 'a third-party user linked to the account is in group engineering, directly or through nested groups'],
      ['EDIT permission 2, control 1', 'Not satisfied', 'None', ''],
    ]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says so for an unknown object and an unknown person', async () => {
    const { org, ids } = await organisationWithObjects();
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await page.goto(`${h.server.url}/admin#access`);
    await page.getByRole('heading', { name: 'Object access', level: 1 }).waitFor();

    await showAccess(page, 'obj_nothing');
    await alertText(page, 'No object obj_nothing in your organisation. Check the id');
    expect(await page.locator('#access-result').isHidden()).toBe(true);
    await checkScreen(page, 'object-access-unknown-object');

    await showAccess(page, ids.P);
    await statusText(page, `may view ${ids.P}.`);
    expect(await page.getByRole('alert').filter({ hasText: 'No object' }).count()).toBe(0);
    await page.getByLabel('Person (e-mail or account ID)').fill('nobody@object-access.test');
    await page.getByRole('button', { name: 'Explain' }).click();
    await alertText(page, 'No account of your organisation has the e-mail nobody@object-access.test.');
    await page.getByLabel('Person (e-mail or account ID)').fill('acc_nobody');
    await page.getByRole('button', { name: 'Explain' }).click();
    await alertText(page, 'No account acc_nobody in your organisation.');
    expect(await page.locator('#explanation').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('loads more accounts page by page when more than a page may view', async () => {
    const { org, ids } = await organisationWithObjects();
    for (let i = 0; i < 50; i++) {
      await h.t.app.services.orgs.createAccount({ orgId: org.tenant.orgId, email: `crowd${i}-${org.tenant.orgId.slice(-6).toLowerCase()}@object-access.test`, displayName: `Crowd ${i}`, cloudIds: [org.tenant.cloudId] });
    }
    const { context, page, problems } = await openPage(browser);
    await signInAsAdmin(page, h.server.url, org.admin.email);
    await page.goto(`${h.server.url}/admin#access`);
    await page.getByRole('heading', { name: 'Object access', level: 1 }).waitFor();
    // Every member of the site: the admin, ann, ben, cat and the crowd of 50.
    await showAccess(page, ids.SITE);
    await statusText(page, `50 accounts may view ${ids.SITE} so far; load more to see the rest.`);
    await page.getByRole('button', { name: 'Load more' }).click();
    await statusText(page, `54 accounts may view ${ids.SITE}.`);
    expect(await page.locator('#accessor-rows tr').count()).toBe(54);
    expect(new Set(await page.locator('#accessor-rows td:nth-child(2)').allTextContents()).size).toBe(54);
    expect(await page.getByRole('button', { name: 'Load more' }).isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('accessors-title');
    expect(problems).toEqual([]);
    await context.close();
  });
});
