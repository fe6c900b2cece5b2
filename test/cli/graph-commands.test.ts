// twg jira / confluence / graph commands through the real binary: tables and --json, --limit and
// --all over cursor pages, get by id and by key, create/update/delete, restricted commands after
// the admin changes the CLI settings (with and without revoking), and the audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOperator, objectInput } from '../support/app.ts';
import { CliHarness, type CliTenant, type Machine } from '../support/cli-harness.ts';

let h: CliHarness;
let acme: CliTenant;
let projectId: string;
let firstItemId: string;
let pageId: string;
const ITEMS = 105;

async function idOf(type: string, externalId: string): Promise<string> {
  const result = await h.t.graphql(acme.tenant.connectionToken, 'query($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { id } }', {
    c: acme.tenant.connectionId,
    t: type,
    e: externalId,
  });
  return result.body.data.objectByExternalId.id;
}

function allPermissions(): string[] {
  return h.t.app.services.catalog.permissions.map((p) => p.key);
}

async function saveSettings(tenant: CliTenant, selected: string[] | 'all', revokeSessions: boolean) {
  await h.t.app.services.cliSettings.update(asOperator, tenant.orgId, tenant.admin.accountId, selected === 'all' ? { allowAllByDefault: true, revokeSessions } : { allowAllByDefault: false, selectedPermissions: selected, revokeSessions });
}

beforeAll(async () => {
  h = await CliHarness.start();
  acme = await h.tenant('GraphAcme');
  await acme.tenant.ingest('setObjects', { objects: [objectInput('PROJ', { type: 'jira:project', displayName: 'Project' }), objectInput('SPACE', { type: 'confluence:space', displayName: 'Space' })] });
  const items = Array.from({ length: ITEMS }, (_, i) => objectInput(`PROJ-${i + 1}`, { displayName: `Work item ${i + 1}`, container: { type: 'jira:project', externalId: 'PROJ' } }));
  await acme.tenant.ingest('setObjects', { objects: items.slice(0, 100) });
  await acme.tenant.ingest('setObjects', { objects: items.slice(100) });
  await acme.tenant.ingest('setObjects', { objects: [objectInput('PAGE-1', { type: 'confluence:page', displayName: 'Design notes', container: { type: 'confluence:space', externalId: 'SPACE' } })] });
  await acme.tenant.ingest('setRelationships', {
    relationships: [{ from: { type: 'jira:work-item', externalId: 'PROJ-1' }, to: { type: 'confluence:page', externalId: 'PAGE-1' }, type: 'work-item-links-page', updateSequenceNumber: 1 }],
  });
  projectId = await idOf('jira:project', 'PROJ');
  firstItemId = await idOf('jira:work-item', 'PROJ-1');
  pageId = await idOf('confluence:page', 'PAGE-1');
});
afterAll(() => h?.close());

async function signedIn(tenant = acme, scopes: string[] = []): Promise<{ machine: Machine; email: string }> {
  const person = await tenant.person();
  const machine = h.machine();
  await machine.signIn(person.email, scopes);
  return { machine, email: person.email };
}

describe('reading', () => {
  let machine: Machine;
  beforeAll(async () => {
    ({ machine } = await signedIn());
  });

  it('lists 25 work items by default as a table and says that more exist', async () => {
    const result = await machine.run(['jira', 'workitem', 'query']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KEY\s+TYPE\s+TITLE\s+UPDATED$/);
    expect(lines).toHaveLength(26);
    expect(result.stderr).toMatch(/more work items exist: use --limit N or --all/);
  });

  it('follows the cursor pages with --all and prints JSON that parses', async () => {
    const result = await machine.run(['jira', 'workitem', 'query', '--all', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const items = JSON.parse(result.stdout);
    expect(items).toHaveLength(ITEMS);
    expect(new Set(items.map((i: any) => i.id)).size).toBe(ITEMS);
    expect(items.every((i: any) => i.type === 'jira:work-item')).toBe(true);
  });

  it('ends quietly with exit 0 when the reader of its output stops early, as `| head` does', async () => {
    const twg = machine.start(['jira', 'workitem', 'query', '--all', '--json']);
    twg.child.stdin.end();
    // The pipe is closed before twg writes: every write it makes fails with EPIPE.
    twg.child.stdout.destroy();
    const result = await twg.done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('stops at --limit across pages', async () => {
    const result = await machine.run(['jira', 'workitem', 'query', '--limit', '3', '--json', '--text', 'work item 1']);
    expect(result.code, result.stderr).toBe(0);
    const items = JSON.parse(result.stdout);
    expect(items).toHaveLength(3);
    expect(items.every((i: any) => /Work item 1/.test(i.displayName))).toBe(true);
  });

  it('refuses a --limit that is not a positive number with exit 1', async () => {
    const result = await machine.run(['jira', 'workitem', 'query', '--limit', 'ten']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--limit must be a positive whole number/);
  });

  it('gets a work item by id and by its key within a connection', async () => {
    const byId = JSON.parse((await machine.run(['jira', 'workitem', 'get', firstItemId, '--json'])).stdout);
    expect(byId).toMatchObject({ id: firstItemId, externalId: 'PROJ-1', displayName: 'Work item 1', container: { id: projectId } });
    const byKey = await machine.run(['jira', 'workitem', 'get', 'PROJ-1', '--connection', acme.tenant.connectionId]);
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.stdout).toMatch(new RegExp(`id:\\s+${firstItemId}`));
    expect(byKey.stdout).toMatch(/title:\s+Work item 1/);
  });

  it('says not found with exit 1 for a missing object and for an object of another type', async () => {
    const missing = await machine.run(['jira', 'workitem', 'get', 'obj_doesnotexist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found: no work item obj_doesnotexist/);
    expect(missing.stderr).not.toMatch(/--connection/);
    const page = await machine.run(['jira', 'workitem', 'get', pageId]);
    expect(page.code).toBe(1);
    expect(page.stderr).toMatch(new RegExp(`^not found: ${pageId} is a confluence:page, not a work item$`, 'm'));
    expect(page.stderr).toMatch(new RegExp(`^twg graph object get ${pageId} shows it whatever its type$`, 'm'));
    expect((await machine.run(['confluence', 'page', 'get', pageId])).code).toBe(0);
  });

  it('says how to look an object up the other way when it is not found by key or by id', async () => {
    const key = await machine.run(['jira', 'workitem', 'get', 'PROJ-1']);
    expect(key.code).toBe(1);
    expect(key.stderr).toMatch(/^not found: no work item PROJ-1 that you may view$/m);
    expect(key.stderr).toMatch(/^PROJ-1 is not an object id \(obj_…\); to look up a key such as PROJ-1, add --connection <connection id> \(twg jira workitem get PROJ-1 --connection ID;/m);
    const wrongKey = await machine.run(['jira', 'workitem', 'get', 'PROJ-999', '--connection', acme.tenant.connectionId]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(new RegExp(`^not found: no work item PROJ-999 in connection ${acme.tenant.connectionId} that you may view$`, 'm'));
    expect(wrongKey.stderr).toMatch(/^check the key and the connection id/m);
    const idWithConnection = await machine.run(['jira', 'workitem', 'get', firstItemId, '--connection', acme.tenant.connectionId]);
    expect(idWithConnection.stderr).toMatch(new RegExp(`^${firstItemId} is an object id: leave out --connection`, 'm'));
    const relationships = await machine.run(['graph', 'relationships', 'PROJ-1']);
    expect(relationships.code).toBe(1);
    expect(relationships.stderr).toMatch(/^to look up a key, use a typed command with --connection, e.g. twg jira workitem get PROJ-1 --connection ID$/m);
  });

  it('lists objects of any product with graph object query and shows relationships', async () => {
    const pages = JSON.parse((await machine.run(['graph', 'object', 'query', '--product', 'confluence', '--json'])).stdout);
    expect(pages.map((o: any) => o.type).sort()).toEqual(['confluence:page', 'confluence:space']);
    const object = JSON.parse((await machine.run(['graph', 'object', 'get', pageId, '--json'])).stdout);
    expect(object.displayName).toBe('Design notes');
    const relationships = await machine.run(['graph', 'relationships', firstItemId, '--json']);
    expect(relationships.code, relationships.stderr).toBe(0);
    expect(JSON.parse(relationships.stdout)).toEqual([expect.objectContaining({ type: 'work-item-links-page', from: expect.objectContaining({ id: firstItemId }), to: expect.objectContaining({ id: pageId }) })]);
  });
});

describe('writing', () => {
  it('creates, updates and deletes a work item', async () => {
    const { machine } = await signedIn();
    const created = await machine.run(['jira', 'workitem', 'create', '--container', projectId, '--title', 'Fix the login', '--properties', '{"priority":"high"}', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const item = JSON.parse(created.stdout);
    expect(item).toMatchObject({ type: 'jira:work-item', displayName: 'Fix the login', properties: { priority: 'high' }, container: { id: projectId } });

    const updated = await machine.run(['jira', 'workitem', 'update', item.id, '--title', 'Fix the login page']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse((await machine.run(['jira', 'workitem', 'get', item.id, '--json'])).stdout).displayName).toBe('Fix the login page');

    const deleted = await machine.run(['jira', 'workitem', 'delete', item.id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await machine.run(['jira', 'workitem', 'get', item.id])).code).toBe(1);
  });

  it('refuses bad --properties and an update with nothing to change, with exit 1', async () => {
    const { machine } = await signedIn();
    expect((await machine.run(['jira', 'workitem', 'create', '--container', projectId, '--title', 'x', '--properties', '{nope'])).code).toBe(1);
    expect((await machine.run(['jira', 'workitem', 'update', firstItemId])).code).toBe(1);
    const missingFlag = await machine.run(['jira', 'workitem', 'create', '--title', 'x']);
    expect(missingFlag.code).toBe(1);
    expect(missingFlag.stderr).toMatch(/--container/);
  });
});

describe('restricted commands', () => {
  it('names the missing permission and says twg login helps when the session was not granted it', async () => {
    const { machine } = await signedIn(acme, ['read:page:confluence']);
    const result = await machine.run(['jira', 'workitem', 'query']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('restricted: this command needs read:work-item:jira (not granted to this session)\nrun: twg login\n');
    const json = await machine.run(['jira', 'workitem', 'get', firstItemId, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'RESTRICTED', permission: 'read:work-item:jira', reason: 'NOT_GRANTED_TO_SESSION', exitCode: 2 });
  });

  it('is restricted at once after the admin removes a permission without revoking, and works again when it is allowed', async () => {
    const org = await h.tenant('GraphSaveOnly');
    await org.tenant.ingest('setObjects', { objects: [objectInput('P', { type: 'jira:project', displayName: 'P' }), objectInput('P-1', { container: { type: 'jira:project', externalId: 'P' } })] });
    const { machine } = await signedIn(org);
    expect((await machine.run(['jira', 'workitem', 'query'])).code).toBe(0);

    await saveSettings(
      org,
      allPermissions().filter((p) => p !== 'read:work-item:jira'),
      false,
    );
    const restricted = await machine.run(['jira', 'workitem', 'query']);
    expect(restricted.code).toBe(2);
    expect(restricted.stderr).toMatch(/^restricted: this command needs read:work-item:jira \(not allowed by your organisation\)$/m);
    expect(restricted.stderr).not.toMatch(/run: twg login/);
    // The session itself survives the save: it still answers who is signed in.
    expect((await machine.run(['whoami'])).code).toBe(0);

    await saveSettings(org, 'all', false);
    const again = await machine.run(['jira', 'workitem', 'query', '--json']);
    expect(again.code, again.stderr).toBe(0);
  });

  it('exits 77 with run: twg login after the admin saves and revokes sessions', async () => {
    const org = await h.tenant('GraphRevoke');
    const { machine } = await signedIn(org);
    expect((await machine.run(['whoami'])).code).toBe(0);
    await saveSettings(org, allPermissions().filter((p) => p !== 'read:page:confluence'), true);
    const result = await machine.run(['jira', 'workitem', 'query']);
    expect(result.code).toBe(77);
    expect(result.stderr).toMatch(/run: twg login\n$/);
    const json = await machine.run(['whoami', '--json']);
    expect(json.code).toBe(3); // the ended session's tokens were forgotten
  });
});

describe('audit trail', () => {
  it('records every command with its command path, family and outcome', async () => {
    const org = await h.tenant('GraphAudit');
    const { machine, email } = await signedIn(org, ['read:page:confluence']);
    await machine.run(['confluence', 'page', 'query']);
    await machine.run(['jira', 'workitem', 'query']);
    const events = (await h.auditEvents(org.orgId)).filter((e) => e.actor.email === email);
    const byCommand = Object.fromEntries(events.map((e) => [e.command, e]));
    expect(byCommand['confluence page query']).toMatchObject({ family: 'confluence.page', outcome: 'SUCCESS', clientId: 'twg-cli' });
    expect(byCommand['jira workitem query']).toMatchObject({ family: 'jira.workitem', outcome: 'RESTRICTED' });
  });
});
