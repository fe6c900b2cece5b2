// The audit log (PRODUCT §9): appends events to each organisation's hash chain, lists and exports
// them newest first, verifies the chain (what is new since the verified-up-to checkpoint, or all of
// it for the operator), and purges past the retention. Verification and export read in keyset
// batches, so neither holds more than one batch.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { type ActionAuthor, type AuditEvent, canonicalJson, chainHash } from './audit-event.ts';
import { type AuditFilter, AuditRepository, type StoredAuditEvent } from './audit.repository.ts';

export const DEFAULT_RETENTION_DAYS = 180;
const BATCH = 500;
/** Events per statement of a walk: a call of verifyAuditChain usually finds a few dozen new ones, the full check all. */
const INCREMENTAL_BATCH = 500;
const FULL_BATCH = 2000;

/** A position in the chain: an event's seq and hash (and its id, when the event was read). */
interface ChainPoint {
  seq: number;
  hash: string;
  id: string | null;
}

interface WalkResult {
  /** The last event found intact (or the purge checkpoint the walk carried on from). */
  reached: ChainPoint;
  verification: AuditChainVerification;
}

export interface AuditChainVerification {
  valid: boolean;
  eventsChecked: number;
  firstBrokenEventId: string | null;
}

export type ExportFormat = 'ndjson' | 'csv';

/** CSV columns of the export, in order; each is a field of the event. */
const CSV_COLUMNS = [
  'id', 'time', 'action', 'actorAccountId', 'actorEmail', 'outcome', 'statusCode', 'command', 'family', 'commandType',
  'operationName', 'operationType', 'objectTypes', 'objectIds', 'permissions', 'restrictedFields', 'ip', 'userAgent', 'invocationSource',
  'agentRuntime', 'cliVersion', 'durationMs', 'interrupted', 'traceId', 'sessionId', 'clientId',
] as const;

export class AuditService {
  private readonly events: AuditRepository;

  /** `onAppend` hears how long each append took, in seconds (the metrics). */
  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    readonly retentionDays = DEFAULT_RETENTION_DAYS,
    private readonly onAppend: (seconds: number) => void = () => {},
  ) {
    this.events = new AuditRepository(db);
  }

  /** Appends one event; inside a request transaction it commits with the request's changes. */
  async append(event: AuditEvent): Promise<void> {
    await this.timed(this.events, event);
  }

  /**
   * An admin action's event (PRODUCT §9), appended by the service performing the action: pass the
   * action's transaction as `within`, so the change and its record commit together.
   */
  async recordAction(by: ActionAuthor, orgId: string, action: string, details: Record<string, unknown>, within?: Kysely<Database>): Promise<void> {
    const event = by.actionEvent(orgId, action, details);
    await this.timed(within ? new AuditRepository(within) : this.events, event);
  }

  private async timed(events: AuditRepository, event: AuditEvent): Promise<void> {
    const started = performance.now();
    await events.append(event, canonicalJson(event));
    this.onAppend((performance.now() - started) / 1000);
  }

  /** One page, newest first; `beforeSeq` is the cursor of the previous page's last event. */
  async page(orgId: string, filter: AuditFilter, limit: number, beforeSeq?: number): Promise<{ seq: number; event: AuditEvent }[]> {
    const rows = await this.events.list(orgId, filter, { beforeSeq, limit });
    return rows.map((row) => ({ seq: Number(row.seq), event: JSON.parse(row.event_json) as AuditEvent }));
  }

  async find(orgId: string, id: string): Promise<AuditEvent | null> {
    const row = await this.events.findById(orgId, id);
    return row ? (JSON.parse(row.event_json) as AuditEvent) : null;
  }

  /**
   * The check behind verifyAuditChain (PRODUCT §9): the events appended since the last check that
   * found the chain intact, up to the head. The checkpointed event must still be there as it was
   * verified; events before it are not walked again (`verifyFull` does that). When the chain
   * verifies, the checkpoint moves to the head the walk was bound to.
   */
  async verify(orgId: string): Promise<AuditChainVerification> {
    const state = await this.events.chainState(orgId);
    if (!state) return { valid: true, eventsChecked: 0, firstBrokenEventId: null };
    let from: ChainPoint = { seq: Number(state.checkpoint_seq), hash: state.checkpoint_hash, id: null };
    const verifiedSeq = state.verified_seq === null ? 0 : Number(state.verified_seq);
    // A purge that passed the verified checkpoint took its event: the purge checkpoint is the newer start.
    if (verifiedSeq > from.seq) {
      // One row: the hash it was verified with, and its JSON and columns still agreeing with that
      // hash. A change to it, or a rewrite of the chain before it that rehashed it, shows here;
      // other changes before it are the full check's to find.
      const event = await this.events.eventAt(orgId, verifiedSeq);
      if (event && event.hash === state.verified_hash && followsChain(event, event.prev_hash, verifiedSeq, orgId)) {
        from = { seq: verifiedSeq, hash: event.hash, id: event.id };
      } else if (event) {
        return { valid: false, eventsChecked: 1, firstBrokenEventId: event.id };
      } else {
        // Gone: purged since the state was read, or else deleted behind the triggers' back or cut
        // off with the end of the chain. Then the event after it has lost its predecessor, and is
        // the one the full check names too.
        const purged = await this.purgeCheckpoint(orgId);
        if (purged.seq < verifiedSeq) {
          const [next] = await this.events.segment(orgId, verifiedSeq, Number(state.last_seq), 1);
          return { valid: false, eventsChecked: 0, firstBrokenEventId: next?.id ?? null };
        }
        from = purged;
      }
    }
    const result = await this.walk(orgId, from, { seq: Number(state.last_seq), hash: state.last_hash, id: null }, INCREMENTAL_BATCH);
    if (result.verification.valid && result.reached.seq > verifiedSeq) await this.events.advanceVerified(orgId, result.reached.seq, result.reached.hash, this.clock.now());
    return result.verification;
  }

  /**
   * The operator's full check: every event from the purge checkpoint to the head, `onProgress`
   * after each batch. It moves the verified-up-to checkpoint only forward, and only when the
   * whole chain is intact.
   */
  async verifyFull(orgId: string, onProgress?: (progress: { checked: number; total: number }) => void): Promise<AuditChainVerification> {
    const state = await this.events.chainState(orgId);
    if (!state) return { valid: true, eventsChecked: 0, firstBrokenEventId: null };
    const from: ChainPoint = { seq: Number(state.checkpoint_seq), hash: state.checkpoint_hash, id: null };
    const head: ChainPoint = { seq: Number(state.last_seq), hash: state.last_hash, id: null };
    const result = await this.walk(orgId, from, head, FULL_BATCH, (checked) => onProgress?.({ checked, total: head.seq - from.seq }));
    if (result.verification.valid) await this.events.advanceVerified(orgId, result.reached.seq, result.reached.hash, this.clock.now());
    return result.verification;
  }

  /**
   * Walks from `from` to `head`: each event must chain from its predecessor's hash, its hash must
   * be sha256(previous hash || stored JSON), its columns must say what its JSON says, and the last
   * one must hash to the head's hash.
   *
   * The walk sees one consistent chain without a transaction. It is bound to the head read
   * before it: the append statement writes an event and moves the head together, and appends
   * serialise on the head row, so every event up to a committed head is committed, and events
   * appended during the walk lie beyond the bound. A REPEATABLE READ snapshot would give the same
   * on PostgreSQL, but on the embedded database (one connection) a transaction as long as a
   * million-event walk would stop every other request for its duration, and on PostgreSQL it
   * would hold back vacuum. Nothing is rewritten but by the retention purge, which deletes from
   * the oldest end and moves its checkpoint in the same transaction: where the walk finds a gap
   * or a break, it reads the purge checkpoint again, and if that has moved past where the walk
   * stands it carries on from there (the purged events are no longer part of the chain).
   */
  private async walk(orgId: string, from: ChainPoint, head: ChainPoint, batch: number, onBatch?: (checked: number) => void): Promise<WalkResult> {
    let at = from;
    let checked = 0;
    const result = (valid: boolean, brokenId: string | null = null): WalkResult => ({ reached: at, verification: { valid, eventsChecked: checked, firstBrokenEventId: brokenId } });
    while (at.seq < head.seq) {
      const rows = await this.events.segment(orgId, at.seq, head.seq, batch);
      let brokenRow: StoredAuditEvent | null = null;
      for (const row of rows) {
        checked++;
        if (!followsChain(row, at.hash, at.seq + 1, orgId)) {
          brokenRow = row;
          break;
        }
        at = { seq: Number(row.seq), hash: row.hash, id: row.id };
      }
      onBatch?.(checked);
      if (!brokenRow && rows.length === batch) continue;
      if (!brokenRow && at.seq === head.seq) break;
      const purged = await this.purgeCheckpoint(orgId);
      if (purged.seq > at.seq) {
        at = purged;
        continue;
      }
      // A break, or events missing before the head: name the event out of place, else the last one that held.
      return result(false, brokenRow?.id ?? at.id);
    }
    // Purged past the head this walk was bound to: nothing of it is left to check.
    if (at.seq > head.seq) return result(true);
    return at.hash === head.hash ? result(true) : result(false, at.id);
  }

  private async purgeCheckpoint(orgId: string): Promise<ChainPoint> {
    const row = await this.events.purgeCheckpoint(orgId);
    return { seq: Number(row?.checkpoint_seq ?? 0), hash: row?.checkpoint_hash ?? '', id: null };
  }

  /** Deletes every organisation's events older than the retention; the chains stay verifiable. */
  async purgeExpired(): Promise<{ orgId: string; deleted: number }[]> {
    const before = new Date(this.clock.now().getTime() - this.retentionDays * 24 * 3600 * 1000);
    const purged: { orgId: string; deleted: number }[] = [];
    for (const { org_id } of await this.events.organizationsWithEvents()) {
      const deleted = await this.events.purgeBefore(org_id, before);
      if (deleted > 0) purged.push({ orgId: org_id, deleted });
    }
    return purged;
  }

  /** Every matching event, newest first, as NDJSON or CSV, read one batch at a time as the consumer pulls. */
  export(orgId: string, filter: AuditFilter, format: ExportFormat): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    let beforeSeq: number | undefined;
    let started = false;
    let done = false;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (done) return;
        const rows = await this.events.list(orgId, filter, { beforeSeq, limit: BATCH });
        let chunk = '';
        if (!started && format === 'csv') chunk += `${CSV_COLUMNS.join(',')}\n`;
        started = true;
        for (const row of rows) chunk += format === 'csv' ? csvLine(JSON.parse(row.event_json)) : `${row.event_json}\n`;
        if (chunk) controller.enqueue(encoder.encode(chunk));
        beforeSeq = rows.length > 0 ? Number(rows.at(-1)!.seq) : beforeSeq;
        if (rows.length < BATCH) {
          done = true;
          controller.close();
        }
      },
    }, { highWaterMark: 1 });
  }
}

function followsChain(row: StoredAuditEvent, previousHash: string, expectedSeq: number, orgId: string): boolean {
  if (Number(row.seq) !== expectedSeq || row.prev_hash !== previousHash || row.hash !== chainHash(previousHash, row.event_json)) return false;
  let event: AuditEvent;
  try {
    event = JSON.parse(row.event_json);
  } catch {
    return false;
  }
  // The filter columns are copies of the JSON: a change to one of them breaks the event too.
  return (
    event.orgId === orgId &&
    row.org_id === orgId &&
    event.id === row.id &&
    new Date(event.time).getTime() === row.time.getTime() &&
    event.action === row.action &&
    event.actor.accountId === row.actor_account_id &&
    event.command === row.command &&
    event.outcome === row.outcome &&
    event.ip === row.ip &&
    JSON.stringify(event.objectTypes) === JSON.stringify(row.object_types)
  );
}

function csvLine(event: AuditEvent): string {
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    ...event,
    actorAccountId: event.actor.accountId,
    actorEmail: event.actor.email,
    objectTypes: event.objectTypes.join(' '),
    objectIds: event.objectIds.join(' '),
    permissions: event.permissions.join(' '),
    restrictedFields: (event.restrictedFields ?? []).join(' '),
  };
  return `${CSV_COLUMNS.map((column) => csvField(values[column])).join(',')}\n`;
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // RFC 4180 quoting; a leading = + - @ is neutralised so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
