// GET /admin/audit/export (PRODUCT §9): every matching event as NDJSON or CSV, streamed for an
// admin in keyset batches, so 100,000 events pass through bounded memory and the database is
// read only as fast as the client reads.
import v8 from 'node:v8';
import vm from 'node:vm';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, type Tenant, type TestApp, startTestApp } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
let adminToken: string;
const EVENTS = 100_000;

// What is retained, not what awaits collection: a full GC before each reading.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const retainedHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t, 'Export');
  adminToken = (await tenant.account({ admin: true })).token;
  // 100,000 stored events, about 600 bytes each, written directly (the chain is not what is tested here).
  const padding = 'x'.repeat(300);
  await sql`
    insert into audit_event (org_id, seq, id, time, action, actor_account_id, command, object_types, outcome, ip, event_json, prev_hash, hash)
    select ${tenant.orgId}, 1000000 + n, 'audit_bulk_' || n, timestamptz '2026-01-01' + n * interval '1 second', 'cli.command.invoked', 'acc_bulk',
           case when n % 10 = 0 then 'jira workitem get' else 'confluence page get' end, '{jira:work-item}', 'SUCCESS', '192.0.2.1',
           json_build_object('id', 'audit_bulk_' || n, 'orgId', ${tenant.orgId}::text, 'time', to_char((timestamptz '2026-01-01' + n * interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'action', 'cli.command.invoked', 'actor', json_build_object('accountId', 'acc_bulk', 'email', 'bulk@export.test'),
             'command', case when n % 10 = 0 then 'jira workitem get' else 'confluence page get' end, 'objectTypes', json_build_array('jira:work-item'),
             'objectIds', json_build_array(), 'permissions', json_build_array('read:work-item:jira'), 'outcome', 'SUCCESS', 'ip', '192.0.2.1',
             'userAgent', ${padding}::text, 'statusCode', 200, 'durationMs', n % 50, 'interrupted', false)::text, '', ''
    from generate_series(1, ${EVENTS}) n
  `.execute(t.db);
}, 120_000);
afterAll(() => t.close());

function exportRequest(query: string, token = adminToken) {
  return t.app.fetch(new Request(`http://teamgraph.test/admin/audit/export?${query}`, { headers: { authorization: `Bearer ${token}` } }));
}

describe('audit export', () => {
  it('streams 100,000 events as NDJSON in bounded memory, reading the database as the client reads', async () => {
    const response = await exportRequest('format=ndjson&actorAccountId=acc_bulk');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();

    // Nothing is read ahead: after the first chunk, only a batch or two has been selected.
    const before = t.statements.length;
    const first = await reader.read();
    const selectsAfterFirstChunk = t.statements.slice(before).filter((s) => /from "audit_event"/.test(s)).length;
    expect(selectsAfterFirstChunk).toBeLessThanOrEqual(2);

    const heapAtStart = retainedHeap();
    let chunks = 0;
    let peakGrowth = 0;
    let bytes = first.value!.byteLength;
    let lines = 0;
    let pending = decoder.decode(first.value!, { stream: true });
    let previousTime = Infinity;
    let chunk = first;
    for (;;) {
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const line of parts) {
        const event = JSON.parse(line);
        const time = Date.parse(event.time);
        expect(time).toBeLessThan(previousTime); // newest first
        previousTime = time;
        lines++;
      }
      chunk = await reader.read();
      if (chunk.done) break;
      bytes += chunk.value.byteLength;
      pending += decoder.decode(chunk.value, { stream: true });
      if (++chunks % 20 === 0) peakGrowth = Math.max(peakGrowth, retainedHeap() - heapAtStart);
    }
    expect(pending).toBe('');
    expect(lines).toBe(EVENTS);
    expect(bytes).toBeGreaterThan(50 * 1024 * 1024);
    // Holding the export would retain more than its size; one batch is a few hundred kilobytes.
    expect(peakGrowth, `retained heap grew by ${Math.round(peakGrowth / 1e6)} MB while ${Math.round(bytes / 1e6)} MB passed`).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);

  it('exports CSV with the filters applied, and a header row', async () => {
    const response = await exportRequest('format=csv&command=jira%20workitem%20get&from=2026-01-01T00:00:00Z&to=2026-01-01T00:16:40Z');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    // Issue 21: an export is charged 500 points to the admin's rate limit (5,000 an hour by default).
    expect(response.headers.get('ratelimit-limit')).toBe('5000');
    expect(Number(response.headers.get('ratelimit-remaining'))).toBeLessThanOrEqual(4500);
    const rows = (await response.text()).trim().split('\n');
    expect(rows[0].split(',').slice(0, 3)).toEqual(['id', 'time', 'action']);
    // Seconds 1…999 hold 99 events whose n is a multiple of 10.
    expect(rows).toHaveLength(1 + 99);
    expect(rows[1]).toContain('audit_bulk_990,2026-01-01T00:16:30.000Z,cli.command.invoked,acc_bulk,bulk@export.test,SUCCESS,200,jira workitem get');
  });

  it('refuses non-admins and bad parameters with stable codes', async () => {
    const user = await tenant.account();
    const denied = await exportRequest('format=ndjson', user.token);
    expect(denied.status).toBe(403);
    expect((await denied.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    for (const query of ['format=xml', 'outcome=MAYBE', 'from=yesterday', 'colour=red', 'ip=not-an-ip']) {
      const bad = await exportRequest(query);
      expect(bad.status, query).toBe(400);
      expect((await bad.json()).errors[0].extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_EXPORT_QUERY' });
    }
    const anonymous = await t.app.fetch(new Request('http://teamgraph.test/admin/audit/export'));
    expect(anonymous.status).toBe(401);
  });
});
