// twg admin access through the real binary, as an admin API key (issue 20, item 4): who may view or
// edit an object granted to a group and one inheriting from its container, pages by cursor with
// --all, the explanation for one person, and refusals of an unknown object, person or action.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { groupPrincipal, objectInput, userPrincipal } from '../support/app.ts';
import { CliHarness } from '../support/cli-harness.ts';

let h: CliHarness;

beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(() => h?.close());

/** ann is linked to ext-ann, ben is in group engineering, cat in neither; P grants both, W inherits from P. */
async function organisation(name: string) {
  const org = await h.tenant(name);
  const people = { ann: await org.person(), ben: await org.person(), cat: await org.person() };
  const names = ['ann', 'ben', 'cat'] as const;
  await org.tenant.ingest('setUsers', { users: names.map((n) => ({ externalId: `ext-${n}`, updateSequenceNumber: 1 })) });
  await org.tenant.ingest('mapUsers', { directMappings: names.map((n) => ({ externalId: `ext-${n}`, accountId: people[n].accountId, updateSequenceNumber: 1 })) });
  await org.tenant.ingest('setGroups', { groups: [{ externalId: 'engineering', updateSequenceNumber: 1, members: [{ type: 'USER', externalId: 'ext-ben' }] }] });
  await org.tenant.ingest('setObjects', {
    objects: [
      objectInput('P', {
        type: 'jira:project',
        permissions: [{ accessControls: [{ principals: [userPrincipal('ext-ann'), groupPrincipal('engineering')] }] }, { action: 'EDIT', accessControls: [{ principals: [userPrincipal('ext-ann')] }] }],
      }),
      objectInput('W', { container: { type: 'jira:project', externalId: 'P' }, permissions: [{ accessControls: [{ principals: [{ type: 'CONTAINER' }] }] }] }),
      objectInput('SITE'),
      objectInput('NOBODY', { permissions: [{ accessControls: [{ principals: [userPrincipal('ext-nobody')] }] }] }),
    ],
  });
  const rows = await h.t.db.selectFrom('graph_object').select(['id', 'external_id']).where('org_id', '=', org.orgId).execute();
  const ids = Object.fromEntries(rows.map((r) => [r.external_id, r.id]));
  const console = h.machine();
  const admin = (args: string[]) => console.run(['admin', ...args], { TWG_ADMIN_API_KEY: org.adminApiKey });
  return { org, people, ids, admin };
}

describe('the command tree', () => {
  it('has twg admin access', () => {
    const admin = buildProgram().commands.find((c) => c.name() === 'admin')!;
    expect(admin.commands.map((c) => c.name())).toContain('access');
  });
});

describe('twg admin access', () => {
  it('lists who may view an object through its container and a group, and who may edit its container', async () => {
    const { people, ids, admin } = await organisation('AccessList');
    const listed = await admin(['access', ids.W]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^EMAIL\s+NAME\s+VIA$/m);
    const via = `may VIEW the container ${ids.P}`;
    expect(listed.stdout).toMatch(new RegExp(`^${people.ann.email}\\s+\\S+\\s+${via}: linked to third-party user ext-ann$`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${people.ben.email}\\s+\\S+\\s+${via}: linked to third-party user ext-ben in group engineering$`, 'm'));
    expect(listed.stdout).not.toContain(people.cat.email);

    const json = JSON.parse((await admin(['access', ids.W, '--json'])).stdout);
    expect(new Set(json.map((a: any) => a.account.id))).toEqual(new Set([people.ann.accountId, people.ben.accountId]));
    expect(json[0]).toEqual({ account: { id: expect.any(String), email: expect.any(String), displayName: expect.any(String) }, via: expect.stringContaining(via) });

    const edit = JSON.parse((await admin(['access', ids.P, '--action', 'edit', '--json'])).stdout);
    expect(edit).toEqual([{ account: expect.objectContaining({ email: people.ann.email }), via: 'linked to third-party user ext-ann' }]);
    // W has no control of its own for DELETE: whoever may view it may delete it.
    expect(JSON.parse((await admin(['access', ids.W, '--action', 'DELETE', '--json'])).stdout)).toHaveLength(2);
    const nobody = await admin(['access', ids.NOBODY]);
    expect(nobody.code).toBe(0);
    expect(nobody.stdout).toBe(`nobody may VIEW ${ids.NOBODY}: no active account matches its access controls\n`);
  });

  it('shows the first page with a hint, and every account page after page with --all', async () => {
    const { org, ids, admin } = await organisation('AccessPages');
    for (let i = 0; i < 100; i++) await h.t.app.services.orgs.createAccount({ orgId: org.orgId, email: `crowd${i}@accesspages.test`, displayName: `Crowd ${i}`, cloudIds: [org.tenant.cloudId] });
    const first = await admin(['access', ids.SITE]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim().split('\n')).toHaveLength(26);
    expect(first.stderr).toContain(`more accounts that may VIEW ${ids.SITE} exist: use --limit N or --all`);
    // 104 site members (the admin, ann, ben, cat and 100 more): two pages of at most 100.
    const all = JSON.parse((await admin(['access', ids.SITE, '--all', '--json'])).stdout);
    expect(all).toHaveLength(104);
    expect(new Set(all.map((a: any) => a.account.id)).size).toBe(104);
    expect(all.every((a: any) => a.via === `an active member of site ${org.tenant.cloudId}`)).toBe(true);
  });

  it('explains, control by control, why a person by e-mail or id can or cannot', async () => {
    const { people, ids, admin } = await organisation('AccessExplain');
    const ben = await admin(['access', ids.P, '--action', 'EDIT', '--explain', people.ben.email.toUpperCase()]);
    expect(ben.code, ben.stderr).toBe(0);
    expect(ben.stdout).toContain(`account: ${people.ben.email} (${people.ben.accountId})`);
    expect(ben.stdout).toMatch(/^allowed: +no$/m);
    expect(ben.stdout).toMatch(/^summary: +Denied: 1 of 2 access controls for EDIT have no matching principal\.$/m);
    expect(ben.stdout).toMatch(/^CONTROL\s+RESULT\s+MATCHED PRINCIPAL\s+VIA$/m);
    expect(ben.stdout).toMatch(/^VIEW permission 1, control 1\s+satisfied\s+GROUP engineering\s+a third-party user linked to the account is in group engineering/m);
    expect(ben.stdout).toMatch(/^EDIT permission 2, control 1\s+not satisfied\s+-\s+-$/m);

    const ann = JSON.parse((await admin(['access', ids.W, '--explain', people.ann.accountId, '--json'])).stdout);
    expect(ann).toEqual({
      objectId: ids.W,
      account: { id: people.ann.accountId, email: people.ann.email },
      action: 'VIEW',
      allowed: true,
      summary: 'Allowed: all 1 access controls for VIEW are satisfied.',
      controls: [{ action: 'VIEW', permissionIndex: 0, controlIndex: 0, satisfied: true, matchedPrincipal: { type: 'CONTAINER', id: null }, via: `may VIEW the container ${ids.P}` }],
    });
  });

  it('refuses an unknown object, person or action, saying what to try', async () => {
    const { people, ids, admin } = await organisation('AccessRefused');
    const missing = await admin(['access', 'obj_nothing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not found: no object obj_nothing in your organisation');
    expect(missing.stderr).toContain('check the id');
    const key = await admin(['access', 'PROJ-1', '--json']);
    expect(key.code).toBe(1);
    expect(JSON.parse(key.stdout).error).toMatchObject({ code: 'NOT_FOUND', objectId: 'PROJ-1' });
    expect(key.stderr).toContain('PROJ-1 is not an object id (obj_…)');
    const missingToo = await admin(['access', 'obj_nothing', '--explain', people.ann.email]);
    expect(missingToo.code).toBe(1);
    expect(missingToo.stderr).toContain('not found: no object obj_nothing in your organisation');

    const nobody = await admin(['access', ids.P, '--explain', 'nobody@accessrefused.test']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('no account of your organisation has the e-mail nobody@accessrefused.test');
    expect((await admin(['access', ids.P, '--explain', 'acc_nobody'])).code).toBe(1);
    const verb = await admin(['access', ids.P, '--action', 'share']);
    expect(verb.code).toBe(1);
    expect(verb.stderr).toContain('--action must be VIEW, EDIT or DELETE, got "share"');
    expect((await admin(['access', ids.P, '--explain', people.ann.email, '--all'])).code).toBe(1);
  });
});
