// Audit stream delivery (issue 21, item 2): at least once, in chain order, each event with its id
// and chain hash; batches of up to 500 or after 5 s; retries with backoff; paused after 24 hours
// of failures; one sender per stream across processes. Driven tick by tick with the test clock,
// against a real receiver on loopback.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, operatorAuthor } from '../../src/modules/audit/audit-event.ts';
import { AuditStreamRepository } from '../../src/modules/audit-stream/audit-stream.repository.ts';
import type { AuditStreamSenderOptions } from '../../src/modules/audit-stream/audit-stream-sender.ts';
import { createServices } from '../../src/services.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { SecretBox } from '../../src/shared/secret-box.ts';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';
import { type AuditReceiver, type StreamedEvent, startAuditReceiver } from '../support/audit-receiver.ts';

const SECRET = 'a-stream-secret-of-enough-length';
const TIMING: Partial<AuditStreamSenderOptions> = { flushSeconds: 5, timeoutMs: 300, random: () => 0.5 };
const secretKey = randomBytes(32);

let t: TestApp;
let receiver: AuditReceiver;
beforeAll(async () => {
  t = await startTestApp({ auditStreamAllowHttp: true, auditStreamSender: TIMING, secretKey });
});
afterAll(() => t.close());
afterEach(() => receiver?.close());

const CREATE = 'mutation($i: CreateAuditStreamInput!) { createAuditStream(input: $i) { id } }';
const STATUS = 'query($o: ID!) { organization(id: $o) { auditStreams { id paused pauseReason status { lastDeliveredEventId lagEvents lastError nextAttemptAt } } } }';

async function streamed(format: 'JSON_LINES' | 'SPLUNK_HEC' = 'JSON_LINES') {
  receiver = await startAuditReceiver(SECRET);
  const tenant = await createTenant(t);
  const admin = await tenant.account({ admin: true });
  const created = await t.graphql(admin.token, CREATE, { i: { orgId: tenant.orgId, url: receiver.url, format, secret: SECRET } });
  expect(created.body.errors).toBeUndefined();
  const streamId: string = created.body.data.createAuditStream.id;
  const { delivered_seq: from } = await t.db.selectFrom('audit_stream').select('delivered_seq').where('id', '=', streamId).executeTakeFirstOrThrow();
  return {
    orgId: tenant.orgId,
    streamId,
    admin,
    /** Appends `n` events to the organisation's chain, as admin actions do. */
    async append(n: number) {
      const operator = operatorAuthor(() => t.clock.now());
      for (let i = 0; i < n; i++) await t.app.services.audit.recordAction(operator, tenant.orgId, 'test.stream.event', { i });
    },
    /** The organisation's events the stream owes, from its creation on, in chain order. */
    async owed() {
      const rows = await t.db.selectFrom('audit_event').select(['id', 'seq']).where('org_id', '=', tenant.orgId).where('seq', '>', Number(from)).orderBy('seq').execute();
      return rows.map((r) => r.id);
    },
    /** Read as the API does, without a request (whose own event would join the chain, and whose session may have expired as the clock moved). */
    status: async () => (await t.app.services.auditStreams.find(tenant.orgId, streamId))!,
  };
}

const tick = () => t.app.services.auditStreamSender.tick();

/** Each event's hash is sha256(previous hash + its canonical JSON), and each links to the one before it. */
function expectChained(events: StreamedEvent[]) {
  events.forEach((e, i) => {
    expect(e.hash).toBe(chainHash(e.prevHash, canonicalJson(e.event as never)));
    expect(e.event.id).toBe(e.id);
    if (i > 0) {
      expect(e.seq).toBe(events[i - 1].seq + 1);
      expect(e.prevHash).toBe(events[i - 1].hash);
    }
  });
}

describe('audit stream delivery', () => {
  it('sends every event from the stream’s creation on, in chain order and signed, once 5 s have passed', async () => {
    const s = await streamed();
    await s.append(3);
    await tick();
    expect(receiver.posts).toHaveLength(0);
    t.clock.advance(5000);
    await tick();
    expect(receiver.posts).toHaveLength(1);
    const [post] = receiver.posts;
    expect(post.signatureValid).toBe(true);
    expect(post.headers['content-type']).toBe('application/x-ndjson');
    const events = receiver.accepted();
    expect(events.map((e) => e.id)).toEqual(await s.owed());
    expect(events[0].event.action).toBe('audit-stream.created');
    expectChained(events);
    const status = await t.graphql(s.admin.token, STATUS, { o: s.orgId });
    expect(status.body.data.organization.auditStreams[0].status).toEqual({ lastDeliveredEventId: events.at(-1)!.id, lagEvents: 0, lastError: null, nextAttemptAt: null });
  });

  it('delivers everything, in order, through a receiver that refuses, times out and resets in turn, retrying with backoff', async () => {
    const s = await streamed();
    receiver.script([503, 'hold', 'reset'], 'accept');
    await s.append(10);
    t.clock.advance(5000);
    await tick();
    expect(receiver.posts.map((p) => p.answer)).toEqual([503]);
    expect((await s.status()).status.lastError).toBe('the receiver answered HTTP 503');
    // Backing off: nothing is posted before the next attempt is due.
    await tick();
    expect(receiver.posts).toHaveLength(1);
    t.clock.advance(1000);
    await tick();
    expect(receiver.posts.map((p) => p.answer)).toEqual([503, 'hold']);
    expect((await s.status()).status.lastError).toMatch(/no answer within 300 ms/);
    t.clock.advance(2000);
    await tick();
    t.clock.advance(4000);
    await tick();
    expect(receiver.posts.map((p) => p.answer)).toEqual([503, 'hold', 'reset', 'accept']);
    // Each attempt carried the same batch, from the same place in the chain.
    expect(new Set(receiver.posts.map((p) => JSON.parse(p.body.split('\n')[0]).id)).size).toBe(1);
    await s.append(5);
    t.clock.advance(5000);
    await tick();
    const events = receiver.accepted();
    const owed = await s.owed();
    expect(events.map((e) => e.id)).toEqual(owed);
    expectChained(events);
    expect((await s.status()).status.lastError).toBeNull();
  });

  it('posts batches of at most 500 events and catches up in one round', async () => {
    const s = await streamed();
    await s.append(1200);
    await tick();
    const sizes = receiver.posts.map((p) => p.body.split('\n').filter(Boolean).length);
    expect(sizes.slice(0, 2)).toEqual([500, 500]);
    expect(Math.max(...sizes)).toBe(500);
    expect(receiver.accepted().map((e) => e.id)).toEqual(await s.owed());
  });

  it('pauses a stream that has failed for 24 hours, says why, and delivers what waited once resumed', async () => {
    const s = await streamed();
    receiver.script([], 503);
    await s.append(4);
    t.clock.advance(5000);
    await tick();
    t.clock.advance(25 * 3600 * 1000);
    await tick();
    const paused = await s.status();
    expect(paused.paused).toBe(true);
    expect(paused.pauseReason).toBe('delivery failed for 24 hours; last error: the receiver answered HTTP 503');
    const posts = receiver.posts.length;
    t.clock.advance(3600 * 1000);
    await tick();
    expect(receiver.posts).toHaveLength(posts);

    receiver.script([], 'accept');
    const resumed = await t.app.services.auditStreams.resume(operatorAuthor(() => t.clock.now()), s.orgId, s.streamId);
    expect(resumed).toMatchObject({ paused: false, pauseReason: null });
    t.clock.advance(5000);
    await tick();
    const events = receiver.accepted();
    expect(events.map((e) => e.id)).toEqual(await s.owed());
    expect(events.map((e) => e.event.action)).toContain('audit-stream.resumed');
    expectChained(events);
  });

  it('sends in Splunk HEC format with the token in the Authorization header', async () => {
    const s = await streamed('SPLUNK_HEC');
    t.clock.advance(5000);
    await tick();
    const [post] = receiver.posts;
    expect(post.headers.authorization).toBe(`Splunk ${SECRET}`);
    expect(post.signatureValid).toBeNull();
    const line = JSON.parse(post.body.split('\n')[0]);
    expect(line).toMatchObject({ source: 'teamgraph', sourcetype: 'teamgraph:audit', event: { id: (await s.owed())[0] } });
    expect(line.time).toBe(Date.parse(line.event.event.time) / 1000);
  });

  it('lets one process at a time send for a stream; when its lease runs out, another carries on from the position', async () => {
    const s = await streamed();
    const other = createServices({ db: t.db, clock: t.clock, secretKey, allowPrivateProviderUrls: true, auditStreamAllowHttp: true, auditStreamSender: TIMING, logger: createLogger('error') });
    t.clock.advance(5000);
    await tick();
    const first = receiver.accepted().length;
    expect(first).toBeGreaterThan(0);
    await s.append(3);
    t.clock.advance(5000);
    // This process holds the lease: the other sends nothing.
    await other.auditStreamSender.tick();
    expect(receiver.accepted()).toHaveLength(first);
    // This process dies: its lease runs out.
    const { lease_owner: owner, delivered_seq: position } = await t.db.selectFrom('audit_stream').select(['lease_owner', 'delivered_seq']).where('id', '=', s.streamId).executeTakeFirstOrThrow();
    expect(owner).toBe(t.app.services.auditStreamSender.owner);
    await sql`update audit_stream set lease_until = now() - interval '1 second' where id = ${s.streamId}`.execute(t.db);
    await other.auditStreamSender.tick();
    await tick();
    const events = receiver.accepted();
    expect(events.map((e) => e.id)).toEqual(await s.owed());
    expect(events.length).toBeGreaterThan(first);
    expectChained(events);
    // A batch the dead process had in flight cannot move the position any more.
    const moved = await new AuditStreamRepository(t.db).delivered(s.orgId, s.streamId, owner!, Number(position), { seq: Number(position) + 1, eventId: 'late' }, t.clock.now());
    expect(moved).toBe(false);
    await other.auditStreamSender.stop();
  });

  it('says so when the secret cannot be opened with this server’s key, and posts nothing', async () => {
    const s = await streamed();
    await t.db.updateTable('audit_stream').set({ sealed_secret: SecretBox.random().seal(SECRET) }).where('id', '=', s.streamId).execute();
    t.clock.advance(5000);
    await tick();
    expect(receiver.posts).toHaveLength(0);
    expect((await s.status()).status.lastError).toBe("the stream's secret was sealed with another server key; set a new secret");
  });

  it('sends nothing for a paused or deleted stream', async () => {
    const s = await streamed();
    await t.graphql(s.admin.token, 'mutation($id: ID!) { pauseAuditStream(id: $id) { paused } }', { id: s.streamId });
    t.clock.advance(5000);
    await tick();
    expect(receiver.posts).toHaveLength(0);
    await t.graphql(s.admin.token, 'mutation($id: ID!) { deleteAuditStream(id: $id) }', { id: s.streamId });
    t.clock.advance(5000);
    await tick();
    expect(receiver.posts).toHaveLength(0);
  });
});
