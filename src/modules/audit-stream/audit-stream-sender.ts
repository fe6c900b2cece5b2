// Delivery of audit streams (issue 21): at least once, in chain order, apart from every request.
//
// - Position. Each stream keeps in the database the seq of the last event its receiver accepted;
//   a sender reads the events after it (a range of audit_event's key), posts them, and only then
//   moves the position. A process killed between the post and the move leaves the position where
//   it was, so the batch in flight is sent again: receivers deduplicate by event id.
// - One sender per stream. A process sends for a stream only while it holds the stream's lease,
//   taken and renewed on every tick against the database's clock; a dead process's lease runs out
//   after `leaseSeconds` and another process (or the restarted one) carries on from the position.
//   Moving the position is fenced by the lease and by the position the batch began at.
// - Batches: up to `batchMax` events, or fewer once the oldest of them was appended
//   `flushSeconds` ago. Failures are retried with exponential backoff and jitter; a stream failing for
//   `pauseAfterHours` is paused with the reason, and an admin resumes it.
// - Requests never wait for this: events are appended by requests as before; this loop only reads.
import { hostname } from 'node:os';
import { randomUUID, createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { SecretBox } from '../../shared/secret-box.ts';
import { AddressNotAllowed, type OutboundFetch, outboundFetch } from '../../shared/outbound-fetch.ts';
import { AuditRepository, type StoredAuditEvent } from '../audit/audit.repository.ts';
import { AuditStreamRepository, type AuditStreamWithHead } from './audit-stream.repository.ts';

export interface AuditStreamSenderOptions {
  pollMs: number;
  batchMax: number;
  flushSeconds: number;
  leaseSeconds: number;
  /** The longest one post may take, answer included. */
  timeoutMs: number;
  pauseAfterHours: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Jitter's source, [0, 1). */
  random: () => number;
}

export const DEFAULT_SENDER_OPTIONS: AuditStreamSenderOptions = {
  pollMs: 1000,
  batchMax: 500,
  flushSeconds: 5,
  leaseSeconds: 30,
  timeoutMs: 10_000,
  pauseAfterHours: 24,
  backoffBaseMs: 1000,
  backoffMaxMs: 5 * 60_000,
  random: Math.random,
};

/** The header of a JSON_LINES batch: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the stream's secret. */
export const SIGNATURE_HEADER = 'x-teamgraph-signature';

export function signature(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * One event as a receiver gets it: its id and place in the chain, the hash that links it, and the
 * event exactly as hashed (canonical JSON, RFC 8785): hash = sha256(prevHash + the event's
 * canonical JSON), so a receiver can check each link and find a gap by `seq`.
 */
function streamedEventJson(row: StoredAuditEvent): string {
  return `{"id":${JSON.stringify(row.id)},"seq":${Number(row.seq)},"prevHash":${JSON.stringify(row.prev_hash)},"hash":${JSON.stringify(row.hash)},"event":${row.event_json}}`;
}

export function batchBody(format: AuditStreamWithHead['format'], rows: StoredAuditEvent[]): string {
  if (format === 'JSON_LINES') return rows.map((row) => `${streamedEventJson(row)}\n`).join('');
  // Splunk HEC takes events one after another in one post, each with its time in epoch seconds.
  return rows.map((row) => `{"time":${row.time.getTime() / 1000},"source":"teamgraph","sourcetype":"teamgraph:audit","event":${streamedEventJson(row)}}\n`).join('');
}

type Delivery = { ok: true } | { ok: false; error: string };

/** Streams one process serves at once. */
const CONCURRENT_STREAMS = 4;

export class AuditStreamSender {
  /** This process among the senders: what its leases are taken under. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly streams: AuditStreamRepository;
  private readonly events: AuditRepository;
  private readonly options: AuditStreamSenderOptions;
  private readonly leased = new Map<string, { orgId: string; id: string }>();
  private readonly fetch: OutboundFetch;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  /** running: ticks on a timer; flushing: stop()'s last round, which sends what is owed without waiting for a batch to fill; stopped. */
  private state: 'running' | 'flushing' | 'stopped' = 'running';

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly secrets: SecretBox,
    /** Receivers may be at loopback and private addresses (TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS); public ones only otherwise. */
    allowPrivate: boolean,
    private readonly logger: Logger,
    options: Partial<AuditStreamSenderOptions> = {},
    /** Hears every post's result and its number of events (the metrics). */
    private readonly onPosted: (result: 'delivered' | 'failed', events: number) => void = () => {},
  ) {
    this.streams = new AuditStreamRepository(db);
    this.events = new AuditRepository(db);
    this.options = { ...DEFAULT_SENDER_OPTIONS, ...options };
    // The receiver's answer is only its status: its body is read no further than this.
    this.fetch = outboundFetch({ allowPrivate, timeoutMs: this.options.timeoutMs, maxBytes: 64 * 1024 });
  }

  /** Ticks every `pollMs` until stop(); a tick that fails is logged and the next one tries again. */
  start(): void {
    const loop = () => {
      this.timer = null;
      if (this.state !== 'running') return;
      this.current = this.tick()
        .catch((error) => this.logger.error('audit stream delivery failed', { error }))
        .finally(() => {
          this.current = null;
          if (this.state === 'running') this.timer = setTimeout(loop, this.options.pollMs).unref();
        });
    };
    this.timer = setTimeout(loop, this.options.pollMs).unref();
  }

  /**
   * Stops ticking, lets the batch in flight finish, sends what the streams it leases are owed
   * (a shutdown does not leave the last events waiting for another process), and gives up its leases.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'flushing';
    if (this.timer) clearTimeout(this.timer);
    await this.current;
    for (const { orgId, id } of [...this.leased.values()]) {
      await this.serve(orgId, id).catch((error) => this.logger.error('audit stream delivery failed', { error }));
    }
    this.state = 'stopped';
    for (const { orgId, id } of this.leased.values()) await this.streams.release(orgId, id, this.owner).catch(() => {});
    this.leased.clear();
  }

  /**
   * One round over every active stream (tests call it directly, with an injected clock). A few
   * streams at a time: one receiver that does not answer holds up only its own stream.
   */
  async tick(): Promise<void> {
    const queue = await this.streams.active();
    const worker = async () => {
      for (let next = queue.shift(); next && this.state !== 'stopped'; next = queue.shift()) await this.serve(next.org_id, next.id);
    };
    await Promise.all(Array.from({ length: CONCURRENT_STREAMS }, worker));
  }

  private async serve(orgId: string, id: string): Promise<void> {
    const key = `${orgId}\u0000${id}`;
    const stream = await this.streams.claim(orgId, id, this.owner, this.options.leaseSeconds);
    if (!stream) return void this.leased.delete(key);
    this.leased.set(key, { orgId, id });
    const now = this.clock.now().getTime();
    let position = Number(stream.delivered_seq);
    const head = Number(stream.head_seq);
    if (head <= position) return;
    if (stream.next_attempt_at && stream.next_attempt_at.getTime() > now) return;
    // The oldest owed event's time says how long the batch has been filling, whichever process saw it first.
    const waited = stream.oldest_owed_at ? now - stream.oldest_owed_at.getTime() : Number.POSITIVE_INFINITY;
    const batchDue = head - position >= this.options.batchMax || waited >= this.options.flushSeconds * 1000;
    if (!batchDue && this.state !== 'flushing') return;
    let secret: string;
    try {
      secret = this.secrets.open(stream.sealed_secret);
    } catch {
      // Sealed under another server key (TEAMGRAPH_SECRET_KEY changed): only a new secret helps.
      return this.failed(stream, "the stream's secret was sealed with another server key; set a new secret");
    }
    // Catch up batch after batch, within half the lease it renewed: another process may take the stream after the whole.
    const until = performance.now() + (this.options.leaseSeconds * 1000) / 2;
    while (position < head && this.state !== 'stopped' && performance.now() < until) {
      const rows = await this.events.segment(orgId, position, head, this.options.batchMax);
      if (rows.length === 0) break;
      const delivery = await this.post(stream, secret, rows);
      this.onPosted(delivery.ok ? 'delivered' : 'failed', rows.length);
      if (!delivery.ok) return this.failed(stream, delivery.error);
      const last = rows.at(-1)!;
      const moved = await this.streams.delivered(orgId, id, this.owner, position, { seq: Number(last.seq), eventId: last.id }, this.clock.now());
      // Another process took the stream (this one stalled past its lease): it sends from the position it found.
      if (!moved) return void this.leased.delete(key);
      position = Number(last.seq);
    }
  }

  private async post(stream: AuditStreamWithHead, secret: string, rows: StoredAuditEvent[]): Promise<Delivery> {
    const body = batchBody(stream.format, rows);
    const headers: Record<string, string> = { 'user-agent': 'teamgraph-audit-stream/1', 'x-teamgraph-stream-id': stream.id };
    if (stream.format === 'JSON_LINES') {
      headers['content-type'] = 'application/x-ndjson';
      headers[SIGNATURE_HEADER] = signature(secret, Math.floor(this.clock.now().getTime() / 1000), body);
    } else {
      headers['content-type'] = 'application/json';
      headers.authorization = `Splunk ${secret}`;
    }
    try {
      const response = await this.fetch(stream.url, { method: 'POST', headers, body });
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, error: `the receiver answered HTTP ${response.status}` };
    } catch (error) {
      if (error instanceof AddressNotAllowed) return { ok: false, error: "the receiver's address is not a public one" };
      return { ok: false, error: `the receiver could not be reached: ${(error as Error).message}`.slice(0, 300) };
    }
  }

  private async failed(stream: AuditStreamWithHead, error: string): Promise<void> {
    const now = this.clock.now();
    const failures = stream.failures + 1;
    const failingSince = stream.failing_since ?? now;
    // Exponential backoff with "equal jitter": half the delay fixed, half random, so senders that failed together spread out.
    const delay = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** Math.min(failures - 1, 30));
    const nextAttemptAt = new Date(now.getTime() + delay / 2 + this.options.random() * (delay / 2));
    const failingHours = (now.getTime() - failingSince.getTime()) / 3_600_000;
    const pauseReason = failingHours >= this.options.pauseAfterHours ? `delivery failed for ${this.options.pauseAfterHours} hours; last error: ${error}` : null;
    await this.streams.failed(stream.org_id, stream.id, this.owner, { error, failingSince, failures, nextAttemptAt, pauseReason });
    if (pauseReason) this.logger.warn('audit stream paused', { orgId: stream.org_id, streamId: stream.id, reason: pauseReason });
  }
}
