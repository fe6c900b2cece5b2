// The audit log (PRODUCT §9): one event per request for every outcome, with the documented
// fields; admin actions with before and after; durable before the response, or no effect;
// append-only in the database; a hash chain that names the first broken event, survives the
// retention purge, and is never reported broken by a check racing appends or the purge;
// newest-first listing with filters and cursors.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, operatorEvent } from '../../src/modules/audit/audit-event.ts';
import { newId } from '../../src/shared/ids.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp } from '../support/app.ts';
import { AuditRepository } from '../../src/modules/audit/audit.repository.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const EVENTS = `query($org: ID!, $filter: AuditEventFilter, $first: Int, $after: String) {
  organization(id: $org) { auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id action outcome command family commandType operationName operationType objectTypes objectIds permissions restrictedFields
      statusCode ip userAgent invocationSource agentRuntime cliVersion traceId durationMs sessionId clientId actor { accountId email } event } }
    pageInfo { hasNextPage endCursor } } } }`;
const VERIFY = 'query($org: ID!) { organization(id: $org) { verifyAuditChain { valid eventsChecked firstBrokenEventId } } }';

/** A tenant with an admin (admin page), a CLI user, and one visible work item in a project. */
async function auditedTenant(name = 'Audited') {
  const tenant = await createTenant(t, name);
  const admin = await tenant.account({ admin: true });
  const user = await tenant.account({ email: `user-${Math.random().toString(36).slice(2, 8)}@${name.toLowerCase()}.test` });
  await tenant.ingest('setObjects', { objects: [objectInput('P', { type: 'jira:project', displayName: 'Project' }), objectInput('W-1', { container: { type: 'jira:project', externalId: 'P' } })] });
  const items = await t.graphql(user.token, '{ objects { edges { node { id externalId } } } }');
  const ids = Object.fromEntries(items.body.data.objects.edges.map((e: any) => [e.node.externalId, e.node.id]));
  return { tenant, admin, user, ids };
}

/** The organisation's events as the admin sees them, newest first (reading them is not audited into the result). */
async function eventsOf(tenant: Tenant, adminToken: string, filter?: Record<string, unknown>) {
  const r = await t.graphql(adminToken, EVENTS, { org: tenant.orgId, filter, first: 100 });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.organization.auditEvents.edges.map((e: any) => e.node);
}

const countRows = async (orgId: string) => Number((await sql<{ n: number }>`select count(*)::int as n from audit_event where org_id = ${orgId}`.execute(t.db)).rows[0].n);

/** Runs `request` and returns the events it added, oldest first. */
async function eventsAddedBy(tenant: Tenant, request: () => Promise<unknown>) {
  const before = await countRows(tenant.orgId);
  await request();
  const rows = await sql<{ event_json: string }>`select event_json from audit_event where org_id = ${tenant.orgId} order by seq offset ${before}`.execute(t.db);
  return rows.rows.map((r) => JSON.parse(r.event_json));
}

describe('one event per request', () => {
  it('records a successful CLI command with every documented field', async () => {
    const { tenant, user, ids } = await auditedTenant();
    const request = new Request('http://teamgraph.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${user.token}`,
        'x-twg-command': 'jira workitem get',
        'x-twg-invocation-source': 'agent',
        'x-twg-agent-runtime': 'claude-code/2.1',
        'x-twg-interrupted': 'true',
        'user-agent': 'twg/1.4.2 (linux; x64)',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      body: JSON.stringify({ query: 'query GetItem($id: ID!) { object(id: $id) { id displayName } }', variables: { id: ids['W-1'] } }),
    });
    const [event] = await eventsAddedBy(tenant, async () => {
      const response = await t.app.fetch(request, { clientAddress: '::ffff:203.0.113.9' });
      expect(response.status).toBe(200);
    });
    expect(event).toMatchObject({
      orgId: tenant.orgId,
      action: 'cli.command.invoked',
      actor: { accountId: user.accountId, email: expect.stringContaining('@audited.test') },
      clientId: 'twg-cli',
      sessionId: expect.stringMatching(/^ses/),
      command: 'jira workitem get',
      family: 'jira.workitem',
      commandType: 'read',
      operationName: 'GetItem',
      operationType: 'query',
      objectTypes: ['jira:work-item'],
      objectIds: [],
      outcome: 'SUCCESS',
      statusCode: 200,
      permissions: ['read:work-item:jira'],
      invocationSource: 'agent',
      agentRuntime: 'claude-code/2.1',
      cliVersion: '1.4.2',
      ip: '203.0.113.9',
      userAgent: 'twg/1.4.2 (linux; x64)',
      interrupted: true,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(event.durationMs).toEqual(expect.any(Number));
    expect(event.id).toMatch(/^audit/);
    // The token appears nowhere in the event, not even hashed by us.
    expect(JSON.stringify(event)).not.toContain(user.token.slice(4));
  });

  it('takes the command from the operation name without the header, and writes for a change', async () => {
    const { tenant, user, ids } = await auditedTenant();
    const [created] = await eventsAddedBy(tenant, () =>
      t.graphql(user.token, 'mutation MakeItem($i: CreateObjectInput!) { createObject(input: $i) { id } }', { i: { containerId: ids.P, type: 'jira:work-item', displayName: 'New' } }),
    );
    expect(created).toMatchObject({ command: 'MakeItem', family: null, commandType: 'write', operationType: 'mutation', outcome: 'SUCCESS', objectTypes: ['jira:work-item'] });
    expect(created.objectIds).toHaveLength(1);
    expect(created.permissions).toEqual(['write:work-item:jira']);
    const [deleted] = await eventsAddedBy(tenant, () => t.graphql(user.token, 'mutation($id: ID!) { deleteObject(id: $id) { deletedObjectId } }', { id: created.objectIds[0] }));
    expect(deleted).toMatchObject({ commandType: 'delete', objectIds: created.objectIds, permissions: ['delete:work-item:jira'], outcome: 'SUCCESS' });
  });

  it('records RESTRICTED, DENIED, ERROR and UNAUTHENTICATED outcomes, one event each', async () => {
    const { tenant, admin, user } = await auditedTenant();
    const readOnly = await tenant.account({ scopes: ['read:page:confluence'] });
    const restricted = await eventsAddedBy(tenant, () => t.graphql(readOnly.token, '{ objects(filter: { types: ["jira:work-item"] }) { edges { node { id } } } }'));
    expect(restricted).toHaveLength(1);
    expect(restricted[0]).toMatchObject({ outcome: 'RESTRICTED', statusCode: 200, actor: { accountId: readOnly.accountId }, restrictedFields: ['objects'] });

    const adminOnCli = await tenant.account({ admin: true, client: 'twg-cli' });
    const denied = await eventsAddedBy(tenant, () => t.graphql(adminOnCli.token, 'query($o: ID!) { organization(id: $o) { cliSettings { version } } }', { o: tenant.orgId }));
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ outcome: 'DENIED' });

    const invalid = await eventsAddedBy(tenant, () => t.graphql(user.token, '{ noSuchField }'));
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ outcome: 'ERROR', statusCode: expect.any(Number) });

    const revoked = await t.graphql(admin.token, 'mutation($i: RevokeCliSessionsInput!) { revokeCliSessions(input: $i) { revokedSessionCount } }', { i: { orgId: tenant.orgId, accountId: user.accountId } });
    expect(revoked.body.data.revokeCliSessions.revokedSessionCount).toBe(1);
    const refused = await eventsAddedBy(tenant, async () => expect((await t.graphql(user.token, '{ viewer { account { id } } }')).status).toBe(401));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ outcome: 'UNAUTHENTICATED', statusCode: 401, actor: { accountId: user.accountId }, clientId: 'twg-cli' });

    // Connections are not accounts: their ingestion writes no event.
    const ingestion = await eventsAddedBy(tenant, () => tenant.ingest('setObjects', { objects: [objectInput('W-2')] }));
    expect(ingestion).toEqual([]);
  });

  it('records an admin action with before and after beside the request', async () => {
    const { tenant, admin } = await auditedTenant();
    const events = await eventsAddedBy(tenant, () =>
      t.graphql(admin.token, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }', {
        i: { orgId: tenant.orgId, allowAllByDefault: false, selectedPermissions: ['read:work-item:jira'], revokeSessions: false },
      }),
    );
    expect(events.map((e: any) => e.action)).toEqual(['cli.settings.updated', 'api.request.invoked']);
    expect(events[0]).toMatchObject({ actor: { accountId: admin.accountId }, clientId: 'teamgraph-admin', outcome: 'SUCCESS' });
    expect(events[0].details.before).toMatchObject({ allowAllByDefault: true, version: 0 });
    expect(events[0].details.after).toMatchObject({ allowAllByDefault: false, selectedPermissions: ['read:work-item:jira'], version: 1 });
  });
});

/** Trigger DDL, which Citus refuses on a sharded table unless told (migrations/distribution.ts); elsewhere the setting is nobody's. */
const triggerDdl = (...statements: string[]) =>
  t.db.transaction().execute(async (trx) => {
    await sql.raw('set local citus.enable_unsafe_triggers = on').execute(trx);
    await sql.raw(`set local citus.multi_shard_modify_mode = 'sequential'`).execute(trx);
    for (const statement of statements) await sql.raw(statement).execute(trx);
  });

describe('durability', () => {
  it('leaves no side effect when the event cannot be written, and answers INTERNAL', async () => {
    const { tenant, user, admin, ids } = await auditedTenant('Unwritable');
    // The insert of any event whose command is "break-audit" fails, as a full disk would.
    await triggerDdl(
      `create or replace function fail_audit_insert() returns trigger language plpgsql as $$
        begin
          if new.command = 'break-audit' then raise exception 'audit storage unavailable'; end if;
          return new;
        end $$`,
      'drop trigger if exists audit_event_fail on audit_event',
      'create trigger audit_event_fail before insert on audit_event for each row execute function fail_audit_insert()',
    );
    try {
      const broken = { 'x-twg-command': 'break-audit' };
      const create = await t.graphql(user.token, 'mutation($i: CreateObjectInput!) { createObject(input: $i) { id } }', { i: { containerId: ids.P, type: 'jira:work-item', displayName: 'Ghost' } }, broken);
      expect(create.body.errors?.[0].extensions.code).toBe('INTERNAL');
      const listed = await t.graphql(user.token, '{ objects(first: 100) { edges { node { displayName } } } }');
      expect(listed.body.data.objects.edges.map((e: any) => e.node.displayName)).not.toContain('Ghost');

      const save = await t.graphql(admin.token, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }', { i: { orgId: tenant.orgId, allowAllByDefault: false, revokeSessions: true } }, broken);
      expect(save.body.errors?.[0].extensions.code).toBe('INTERNAL');
      const settings = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { cliSettings { allowAllByDefault version } } }', { o: tenant.orgId });
      expect(settings.body.data.organization.cliSettings).toEqual({ allowAllByDefault: true, version: 0 });
      expect((await t.graphql(user.token, '{ viewer { account { id } } }')).status).toBe(200);

      const read = await t.graphql(user.token, '{ viewer { account { id } } }', undefined, broken);
      expect(read.status).toBe(500);
      expect(read.body.errors?.[0].extensions.code).toBe('INTERNAL');
    } finally {
      await triggerDdl('drop trigger audit_event_fail on audit_event', 'drop function fail_audit_insert()');
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE of events in the database', async () => {
    const { tenant, user } = await auditedTenant();
    await t.graphql(user.token, '{ viewer { account { id } } }');
    await expect(sql`update audit_event set outcome = 'SUCCESS' where org_id = ${tenant.orgId}`.execute(t.db)).rejects.toThrow(/cannot be changed or deleted/);
    await expect(sql`delete from audit_event where org_id = ${tenant.orgId}`.execute(t.db)).rejects.toThrow(/cannot be changed or deleted/);
    await expect(sql`truncate audit_event`.execute(t.db)).rejects.toThrow(/cannot be changed or deleted/);
    expect(await countRows(tenant.orgId)).toBeGreaterThan(0);
  });
});

describe('the hash chain', () => {
  /** Changes one stored value of one event behind the triggers' back, as an intruder with database access would. */
  async function tamper(orgId: string, id: string, assignment: string) {
    await triggerDdl('alter table audit_event disable trigger audit_event_append_only');
    try {
      await sql.raw(`update audit_event set ${assignment} where org_id = '${orgId}' and id = '${id}'`).execute(t.db);
    } finally {
      await triggerDdl('alter table audit_event enable trigger audit_event_append_only');
    }
  }

  /** The organisation's events, oldest first. */
  const chainOf = async (orgId: string) =>
    (await sql<{ id: string; seq: number; command: string | null }>`select id, seq, command from audit_event where org_id = ${orgId} order by seq`.execute(t.db)).rows;
  const verifyAs = async (token: string, orgId: string) => (await t.graphql(token, VERIFY, { org: orgId })).body.data.organization.verifyAuditChain;

  it('verifies an untouched chain, and names the event after the checkpoint when one byte of any stored field changes', async () => {
    const { tenant, admin, user } = await auditedTenant('Chain');
    // The verifying request's own event is written after its answer, so it is not yet checked.
    const stored = await countRows(tenant.orgId);
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: stored, firstBrokenEventId: null });
    for (let i = 0; i < 5; i++) await t.graphql(user.token, '{ viewer { account { id } } }', undefined, { 'x-twg-command': `cmd ${i}` });

    const victim = (await chainOf(tenant.orgId)).find((row) => row.command === 'cmd 2')!.id;
    // As constants: Citus refuses timestamp arithmetic (a STABLE function) on a sharded column.
    const { time } = (await sql<{ time: Date }>`select time from audit_event where id = ${victim}`.execute(t.db)).rows[0];
    const changes: [string, string, string][] = [
      ['event_json', `event_json = replace(event_json, '"cmd 2"', '"cmd 9"')`, `event_json = replace(event_json, '"cmd 9"', '"cmd 2"')`],
      ['hash', `hash = overlay(hash placing (case substr(hash, 1, 1) when 'a' then 'b' else 'a' end) from 1 for 1)`, ''],
      ['prev_hash', `prev_hash = overlay(prev_hash placing (case substr(prev_hash, 1, 1) when 'a' then 'b' else 'a' end) from 1 for 1)`, ''],
      ['time', `time = '${new Date(time.getTime() + 1000).toISOString()}'`, `time = '${time.toISOString()}'`],
      ['action', `action = 'cli.command.invokeD'`, `action = 'cli.command.invoked'`],
      ['actor_account_id', `actor_account_id = actor_account_id || 'x'`, `actor_account_id = left(actor_account_id, -1)`],
      ['command', `command = 'cmd 7'`, `command = 'cmd 2'`],
      ['outcome', `outcome = 'ERROR'`, `outcome = 'SUCCESS'`],
      ['ip', `ip = '10.0.0.1'`, `ip = null`],
      ['object_types', `object_types = '{jira:project}'`, `object_types = '{}'`],
    ];
    for (const [column, change, undo] of changes) {
      const saved = (await sql<{ hash: string; prev_hash: string }>`select hash, prev_hash from audit_event where id = ${victim}`.execute(t.db)).rows[0];
      await tamper(tenant.orgId, victim, change);
      // A check that finds a break leaves the checkpoint where it was, so each one walks past the victim again.
      expect(await verifyAs(admin.token, tenant.orgId), `after changing ${column}`).toMatchObject({ valid: false, firstBrokenEventId: victim });
      await tamper(tenant.orgId, victim, undo || `hash = '${saved.hash}', prev_hash = '${saved.prev_hash}'`);
    }
    expect((await verifyAs(admin.token, tenant.orgId)).valid).toBe(true);
  });

  it('checks only the events appended since the last check that found the chain intact', async () => {
    const { tenant, admin, user } = await auditedTenant('Incremental');
    const stored = await countRows(tenant.orgId);
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: stored, firstBrokenEventId: null });
    for (let i = 0; i < 3; i++) await t.graphql(user.token, '{ viewer { account { id } } }');
    // The three requests, and the first check's own event.
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 4, firstBrokenEventId: null });
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 1, firstBrokenEventId: null });
    const concurrent = await Promise.all([verifyAs(admin.token, tenant.orgId), verifyAs(admin.token, tenant.orgId)]);
    for (const answer of concurrent) expect(answer).toMatchObject({ valid: true, firstBrokenEventId: null });
    // Each of the two read the head after the third check's event, perhaps after the other's too.
    const checkpoint = (await sql<{ verified_seq: number }>`select verified_seq from audit_verification where org_id = ${tenant.orgId}`.execute(t.db)).rows[0];
    expect(Number(checkpoint.verified_seq)).toBeGreaterThanOrEqual(stored + 6);
  });

  it('does not walk again what a check verified; the full check finds a change there', async () => {
    const { tenant, admin, user } = await auditedTenant('Full');
    for (let i = 0; i < 3; i++) await t.graphql(user.token, '{ viewer { account { id } } }', undefined, { 'x-twg-command': `old ${i}` });
    await verifyAs(admin.token, tenant.orgId);
    const victim = (await chainOf(tenant.orgId)).find((row) => row.command === 'old 1')!.id;
    await tamper(tenant.orgId, victim, `event_json = replace(event_json, '"old 1"', '"new 1"')`);

    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 1, firstBrokenEventId: null });
    const { audit } = t.app.services;
    expect(await audit.verifyFull(tenant.orgId)).toMatchObject({ valid: false, firstBrokenEventId: victim });
    // The failed full check moved the checkpoint neither back nor forward.
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 1, firstBrokenEventId: null });

    await tamper(tenant.orgId, victim, `event_json = replace(event_json, '"new 1"', '"old 1"')`);
    const progress: { checked: number; total: number }[] = [];
    const full = await audit.verifyFull(tenant.orgId, (p) => progress.push(p));
    expect(full).toEqual({ valid: true, eventsChecked: await countRows(tenant.orgId), firstBrokenEventId: null });
    expect(progress.at(-1)).toEqual({ checked: full.eventsChecked, total: full.eventsChecked });
    // An intact full check moved the checkpoint to the head, which the last check's own event had reached.
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 0, firstBrokenEventId: null });
  });

  it('confirms the checkpointed event is still there as it was verified', async () => {
    const { tenant, admin } = await auditedTenant('Checkpoint');
    await verifyAs(admin.token, tenant.orgId);
    const checkpoint = (await sql<{ verified_seq: number }>`select verified_seq from audit_verification where org_id = ${tenant.orgId}`.execute(t.db)).rows[0];
    const chain = await chainOf(tenant.orgId);
    const checkpointed = chain.find((row) => Number(row.seq) === Number(checkpoint.verified_seq))!;

    await tamper(tenant.orgId, checkpointed.id, `event_json = replace(event_json, '"SUCCESS"', '"ERROR"'), outcome = 'ERROR'`);
    expect(await verifyAs(admin.token, tenant.orgId)).toMatchObject({ valid: false, firstBrokenEventId: checkpointed.id });
    await tamper(tenant.orgId, checkpointed.id, `event_json = replace(event_json, '"ERROR"', '"SUCCESS"'), outcome = 'SUCCESS'`);
    expect((await verifyAs(admin.token, tenant.orgId)).valid).toBe(true);

    // Deleted behind the triggers' back, not by the purge: the event after it has lost its predecessor.
    const verifiedNow = (await sql<{ verified_seq: number }>`select verified_seq from audit_verification where org_id = ${tenant.orgId}`.execute(t.db)).rows[0];
    const gone = (await chainOf(tenant.orgId)).filter((row) => Number(row.seq) >= Number(verifiedNow.verified_seq));
    await triggerDdl('alter table audit_event disable trigger audit_event_append_only');
    try {
      await sql`delete from audit_event where id = ${gone[0].id}`.execute(t.db);
    } finally {
      await triggerDdl('alter table audit_event enable trigger audit_event_append_only');
    }
    expect(await verifyAs(admin.token, tenant.orgId)).toMatchObject({ valid: false, firstBrokenEventId: gone[1].id });
    expect(await t.app.services.audit.verifyFull(tenant.orgId)).toMatchObject({ valid: false, firstBrokenEventId: gone[1].id });
  });

  it('chains each event from the previous one with sha256(previous hash || stored JSON)', async () => {
    const { tenant, user } = await auditedTenant();
    await t.graphql(user.token, '{ viewer { account { id } } }');
    const rows = (await sql<{ event_json: string; prev_hash: string; hash: string }>`select event_json, prev_hash, hash from audit_event where org_id = ${tenant.orgId} order by seq`.execute(t.db)).rows;
    expect(rows.length).toBeGreaterThan(1);
    expect(rows[0].prev_hash).toBe('');
    rows.forEach((row, i) => {
      expect(row.hash).toBe(chainHash(i === 0 ? '' : rows[i - 1].hash, row.event_json));
      if (i > 0) expect(row.prev_hash).toBe(rows[i - 1].hash);
    });
  });

  it('never reports an untouched chain broken while requests are being audited', async () => {
    const { tenant, admin, user } = await auditedTenant('Busy');
    // Four lanes of audited requests (queries, and mutations whose event commits with them) run
    // until the verifications are done, so appends land between the statements of every walk.
    let done = false;
    let requests = 0;
    const lane = async (index: number) => {
      while (!done) {
        requests++;
        if (index === 0) {
          await t.graphql(admin.token, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }', {
            i: { orgId: tenant.orgId, allowAllByDefault: true, revokeSessions: false },
          });
        } else {
          await t.graphql(user.token, '{ viewer { account { id } } }', undefined, { 'x-twg-command': `busy ${index}` });
        }
      }
    };
    const verifications = async () => {
      try {
        const answers = [];
        for (let round = 0; round < 5; round++) answers.push(...(await Promise.all(Array.from({ length: 4 }, () => t.graphql(admin.token, VERIFY, { org: tenant.orgId })))));
        return answers;
      } finally {
        done = true;
      }
    };
    const [answers] = await Promise.all([verifications(), ...[0, 1, 2, 3].map(lane)]);
    expect(requests).toBeGreaterThan(20);
    for (const answer of answers) expect(answer.body.data.organization.verifyAuditChain).toMatchObject({ valid: true, firstBrokenEventId: null });
  });

  it('never reports a chain broken when the retention purge runs during the walk', async () => {
    const tenant = await createTenant(t, 'Purging');
    const { audit } = t.app.services;
    // Operator events, as the command line writes them: more than a walk reads in one statement (500).
    const appendEvents = async (count: number) => {
      for (let i = 0; i < count; i++) await audit.append(operatorEvent(tenant.orgId, 'test.filler', { i }, newId('auditEvent'), t.clock.now()));
    };
    for (let round = 0; round < 2; round++) {
      await appendEvents(600);
      t.clock.advance(181 * 24 * 3600 * 1000);
      await appendEvents(20);
      // Called side by side, the purge's transaction lands between the walk's statements.
      const [verified, purged] = await Promise.all([audit.verify(tenant.orgId), audit.purgeExpired()]);
      expect(purged.find((p) => p.orgId === tenant.orgId)?.deleted, `round ${round}`).toBeGreaterThanOrEqual(600);
      expect(verified, `round ${round}`).toMatchObject({ valid: true, firstBrokenEventId: null });
    }
  });

  it('purges in batches, each moving the checkpoint, and leaves a chain that verifies', async () => {
    const tenant = await createTenant(t, 'Batches');
    const { audit } = t.app.services;
    for (let i = 0; i < 350; i++) await audit.append(operatorEvent(tenant.orgId, 'test.filler', { i }, newId('auditEvent'), t.clock.now()));
    t.clock.advance(181 * 24 * 3600 * 1000);
    await audit.append(operatorEvent(tenant.orgId, 'test.kept', {}, newId('auditEvent'), t.clock.now()));
    const before = new Date(t.clock.now().getTime() - 180 * 24 * 3600 * 1000);
    expect(await new AuditRepository(t.db).purgeBefore(tenant.orgId, before, 100)).toBe(350);
    expect(await countRows(tenant.orgId)).toBe(1);
    expect(await audit.verifyFull(tenant.orgId)).toEqual({ valid: true, eventsChecked: 1, firstBrokenEventId: null });
  });

  it('starts from the purge checkpoint once the retention purge has passed the verified one', async () => {
    const { tenant, admin, user } = await auditedTenant('Retention');
    for (let i = 0; i < 3; i++) await t.graphql(user.token, '{ viewer { account { id } } }');
    expect((await verifyAs(admin.token, tenant.orgId)).valid).toBe(true);
    // With the check's own event, everything so far is old.
    const old = await countRows(tenant.orgId);
    t.clock.advance(181 * 24 * 3600 * 1000);
    const fresh = await tenant.account({ email: 'fresh@retention.test' });
    for (let i = 0; i < 2; i++) await t.graphql(fresh.token, '{ viewer { account { id } } }');
    const purged = await t.app.services.audit.purgeExpired();
    expect(purged.find((p) => p.orgId === tenant.orgId)?.deleted).toBe(old);
    expect(await countRows(tenant.orgId)).toBe(2);
    const adminNow = await tenant.account({ admin: true });
    expect(await verifyAs(adminNow.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 2, firstBrokenEventId: null });
    expect(await verifyAs(adminNow.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 1, firstBrokenEventId: null });
    expect(await t.app.services.audit.verifyFull(tenant.orgId)).toEqual({ valid: true, eventsChecked: 4, firstBrokenEventId: null });
  });

  it('keeps the verified checkpoint when the retention purge stops short of it', async () => {
    const { tenant } = await auditedTenant('ShortPurge');
    const early = await countRows(tenant.orgId);
    t.clock.advance(100 * 24 * 3600 * 1000);
    const admin = await tenant.account({ admin: true });
    for (let i = 0; i < 3; i++) await t.graphql(admin.token, '{ viewer { account { id } } }');
    expect(await verifyAs(admin.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: early + 3, firstBrokenEventId: null });
    t.clock.advance(100 * 24 * 3600 * 1000);
    // Only the events from before the first advance are past the retention.
    const purged = await t.app.services.audit.purgeExpired();
    expect(purged.find((p) => p.orgId === tenant.orgId)?.deleted).toBe(early);
    const adminNow = await tenant.account({ admin: true });
    expect(await verifyAs(adminNow.token, tenant.orgId)).toEqual({ valid: true, eventsChecked: 1, firstBrokenEventId: null });
  });
});

describe('listing', () => {
  it('lists newest first with filters and cursors, for admins only', async () => {
    const { tenant, admin, user } = await auditedTenant('Listing');
    for (let i = 0; i < 4; i++) await t.graphql(user.token, '{ viewer { account { id } } }', undefined, { 'x-twg-command': i % 2 ? 'jira workitem list' : 'confluence page get' });
    const mine = await eventsOf(tenant, admin.token, { actorAccountId: user.accountId, command: 'jira workitem list' });
    expect(mine).toHaveLength(2);
    expect(mine.every((e: any) => e.command === 'jira workitem list' && e.actor.accountId === user.accountId)).toBe(true);

    const first = await t.graphql(admin.token, EVENTS, { org: tenant.orgId, filter: { actorAccountId: user.accountId }, first: 3 });
    const page1 = first.body.data.organization.auditEvents;
    expect(page1.edges).toHaveLength(3);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await t.graphql(admin.token, EVENTS, { org: tenant.orgId, filter: { actorAccountId: user.accountId }, first: 3, after: page1.pageInfo.endCursor });
    const page2 = second.body.data.organization.auditEvents;
    const all = [...page1.edges, ...page2.edges].map((e: any) => e.node.command);
    // The items before the four commands, newest first: the list call of auditedTenant.
    expect(all.slice(0, 4)).toEqual(['jira workitem list', 'confluence page get', 'jira workitem list', 'confluence page get']);
    expect(page2.pageInfo.hasNextPage).toBe(false);

    const restricted = await eventsOf(tenant, admin.token, { outcome: 'RESTRICTED' });
    expect(restricted).toEqual([]);
    const typed = await eventsOf(tenant, admin.token, { objectType: 'jira:work-item' });
    expect(typed.length).toBeGreaterThan(0);
    expect(typed.every((e: any) => e.objectTypes.includes('jira:work-item'))).toBe(true);
    const past = await eventsOf(tenant, admin.token, { to: '2000-01-01T00:00:00Z' });
    expect(past).toEqual([]);

    const asUser = await t.graphql(user.token, EVENTS, { org: tenant.orgId });
    expect(asUser.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });
});
