// The audit log (PRODUCT §9): appends events to each organisation's hash chain, lists and exports
// them newest first, verifies the chain from its checkpoint, and purges past the retention.
// Verification and export read in keyset batches, so neither holds more than one batch.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { type AuditEvent, canonicalJson, chainHash } from './audit-event.ts';
import { type AuditFilter, AuditRepository, type StoredAuditEvent } from './audit.repository.ts';

export const DEFAULT_RETENTION_DAYS = 180;
const BATCH = 500;

export interface AuditChainVerification {
  valid: boolean;
  eventsChecked: number;
  firstBrokenEventId: string | null;
}

export type ExportFormat = 'ndjson' | 'csv';

/** CSV columns of the export, in order; each is a field of the event. */
const CSV_COLUMNS = [
  'id', 'time', 'action', 'actorAccountId', 'actorEmail', 'outcome', 'statusCode', 'command', 'family', 'commandType',
  'operationName', 'operationType', 'objectTypes', 'objectIds', 'permissions', 'ip', 'userAgent', 'invocationSource',
  'agentRuntime', 'cliVersion', 'durationMs', 'interrupted', 'traceId', 'sessionId', 'clientId',
] as const;

export class AuditService {
  private readonly events: AuditRepository;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    readonly retentionDays = DEFAULT_RETENTION_DAYS,
  ) {
    this.events = new AuditRepository(db);
  }

  /** Appends one event; inside a request transaction it commits with the request's changes. */
  async append(event: AuditEvent): Promise<void> {
    await this.events.append(event, canonicalJson(event));
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
   * Walks the chain from the checkpoint: each event must chain from its predecessor's hash, its
   * hash must be sha256(previous hash || stored JSON), its columns must say what its JSON says,
   * and the last one must be the head.
   */
  async verify(orgId: string): Promise<AuditChainVerification> {
    const head = await this.events.chainHead(orgId);
    if (!head) return { valid: true, eventsChecked: 0, firstBrokenEventId: null };
    let previousHash = head.checkpoint_hash;
    let expectedSeq = Number(head.checkpoint_seq) + 1;
    let checked = 0;
    let lastId: string | null = null;
    for (;;) {
      const rows = await this.events.list(orgId, {}, { afterSeq: expectedSeq - 1, limit: BATCH, oldestFirst: true });
      for (const row of rows) {
        checked++;
        if (!followsChain(row, previousHash, expectedSeq, orgId)) return { valid: false, eventsChecked: checked, firstBrokenEventId: row.id };
        previousHash = row.hash;
        expectedSeq++;
        lastId = row.id;
      }
      if (rows.length < BATCH) break;
    }
    const complete = Number(head.last_seq) === expectedSeq - 1 && head.last_hash === previousHash;
    return { valid: complete, eventsChecked: checked, firstBrokenEventId: complete ? null : lastId };
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
