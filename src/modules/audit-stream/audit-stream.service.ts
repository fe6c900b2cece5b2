// Audit streams (issue 21): an organisation admin sends the audit log to the security team's
// collector. Up to three streams per organisation, each an HTTPS receiver of JSON lines signed
// with HMAC-SHA256 or a Splunk HTTP Event Collector; the secret is sealed like a 3LO client
// secret and never shown again. Creating, changing, pausing, resuming and deleting are audited,
// in the same transaction as the change. Delivery is audit-stream-sender.ts's.
import { isIP } from 'node:net';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { SecretBox } from '../../shared/secret-box.ts';
import { isPublicAddress } from '../../shared/outbound-fetch.ts';
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { AuditStreamRepository, type AuditStreamWithHead } from './audit-stream.repository.ts';
import type { AuditStreamFormat } from './audit-stream.table.ts';

export const MAX_STREAMS_PER_ORG = 3;
const MIN_SECRET = 16;
const MAX_SECRET = 1024;
const MAX_URL = 2048;

export interface AuditStreamPolicy {
  /** Plain http:// receivers (TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP); otherwise https:// only. */
  allowHttp: boolean;
  /** Loopback and private addresses (TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS): outbound requests to tenant-chosen addresses reach public ones only. */
  allowPrivate: boolean;
}

export interface AuditStreamView {
  id: string;
  orgId: string;
  url: string;
  format: AuditStreamFormat;
  paused: boolean;
  pauseReason: string | null;
  createdAt: Date;
  status: { lastDeliveredEventId: string | null; lastDeliveredAt: Date | null; lagEvents: number; lastError: string | null; nextAttemptAt: Date | null };
}

export function toView(row: AuditStreamWithHead): AuditStreamView {
  return {
    id: row.id,
    orgId: row.org_id,
    url: row.url,
    format: row.format,
    paused: row.paused,
    pauseReason: row.pause_reason,
    createdAt: row.created_at,
    status: {
      lastDeliveredEventId: row.delivered_event_id,
      lastDeliveredAt: row.delivered_at,
      lagEvents: Math.max(0, Number(row.head_seq) - Number(row.delivered_seq)),
      lastError: row.last_error,
      nextAttemptAt: row.next_attempt_at,
    },
  };
}

export class AuditStreamService {
  private readonly streams: AuditStreamRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly secrets: SecretBox,
    private readonly policy: AuditStreamPolicy,
  ) {
    this.streams = new AuditStreamRepository(db);
  }

  async list(orgId: string): Promise<AuditStreamView[]> {
    return (await this.streams.list(orgId)).map(toView);
  }

  async find(orgId: string, id: string): Promise<AuditStreamView | null> {
    const row = await this.streams.find(orgId, id);
    return row ? toView(row) : null;
  }

  async create(by: ActionAuthor, orgId: string, createdBy: string, input: { url: string; format: AuditStreamFormat; secret: string }): Promise<AuditStreamView> {
    const url = this.checkUrl(input.url);
    const secret = checkSecret(input.secret);
    const id = newId('auditStream');
    await this.db.transaction().execute(async (trx) => {
      // Two admins adding a stream at once must not both see room for one more.
      await sql`select pg_advisory_xact_lock(hashtext(${`audit_stream:${orgId}`}))`.execute(trx);
      const { n } = await this.streams.count(orgId, trx);
      if (Number(n) >= MAX_STREAMS_PER_ORG) {
        throw new BadUserInputError('TOO_MANY_STREAMS', `An organisation has at most ${MAX_STREAMS_PER_ORG} audit streams; delete one first.`);
      }
      await this.streams.insert(trx, { org_id: orgId, id, url, format: input.format, sealed_secret: this.secrets.seal(secret), created_by: createdBy, created_at: this.clock.now() });
      await this.audit.recordAction(by, orgId, 'audit-stream.created', { streamId: id, url, format: input.format }, trx);
    });
    return (await this.find(orgId, id))!;
  }

  /** Changes the receiver: a new URL, format or secret. The position stays; what is owed goes to the new receiver. */
  async update(by: ActionAuthor, orgId: string, id: string, input: { url?: string | null; format?: AuditStreamFormat | null; secret?: string | null }): Promise<AuditStreamView> {
    const changes: { url?: string; format?: AuditStreamFormat; sealed_secret?: string } = {};
    if (input.url !== undefined && input.url !== null) changes.url = this.checkUrl(input.url);
    if (input.format) changes.format = input.format;
    if (input.secret !== undefined && input.secret !== null) changes.sealed_secret = this.secrets.seal(checkSecret(input.secret));
    if (Object.keys(changes).length === 0) throw new BadUserInputError('NOTHING_TO_CHANGE', 'Name what to change: url, format or secret.');
    return this.change(orgId, id, async (trx, before) => {
      // A new receiver is tried at once, its predecessor's failures forgotten.
      await this.streams.update(trx, orgId, id, { ...changes, failures: 0, failing_since: null, next_attempt_at: null, last_error: null });
      await this.audit.recordAction(by, orgId, 'audit-stream.updated', {
        streamId: id,
        before: { url: before.url, format: before.format },
        after: { url: changes.url ?? before.url, format: changes.format ?? before.format },
        secretChanged: changes.sealed_secret !== undefined,
      }, trx);
    });
  }

  pause(by: ActionAuthor, orgId: string, id: string): Promise<AuditStreamView> {
    return this.change(orgId, id, async (trx, before) => {
      if (before.paused) return;
      await this.streams.update(trx, orgId, id, { paused: true, pause_reason: 'paused by an admin' });
      await this.audit.recordAction(by, orgId, 'audit-stream.paused', { streamId: id, url: before.url }, trx);
    });
  }

  /** Delivery starts again where it stopped: the events of the pause were kept in the chain and are sent in order. */
  resume(by: ActionAuthor, orgId: string, id: string): Promise<AuditStreamView> {
    return this.change(orgId, id, async (trx, before) => {
      if (!before.paused) return;
      await this.streams.update(trx, orgId, id, { paused: false, pause_reason: null, failures: 0, failing_since: null, next_attempt_at: null });
      await this.audit.recordAction(by, orgId, 'audit-stream.resumed', { streamId: id, url: before.url, pauseReason: before.pause_reason }, trx);
    });
  }

  async delete(by: ActionAuthor, orgId: string, id: string): Promise<string> {
    await this.db.transaction().execute(async (trx) => {
      const before = await this.streams.find(orgId, id, trx);
      if (!before) throw notFound(id);
      await this.streams.delete(trx, orgId, id);
      await this.audit.recordAction(by, orgId, 'audit-stream.deleted', { streamId: id, url: before.url, format: before.format, lagEvents: toView(before).status.lagEvents }, trx);
    });
    return id;
  }

  private async change(orgId: string, id: string, apply: (trx: Kysely<Database>, before: AuditStreamWithHead) => Promise<void>): Promise<AuditStreamView> {
    await this.db.transaction().execute(async (trx) => {
      const before = await this.streams.find(orgId, id, trx);
      if (!before) throw notFound(id);
      await apply(trx, before);
    });
    return (await this.find(orgId, id))!;
  }

  private checkUrl(raw: string): string {
    const text = raw.trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new BadUserInputError('INVALID_URL', `url must be an absolute https:// URL, got "${text.slice(0, 200)}".`);
    }
    if (text.length > MAX_URL) throw new BadUserInputError('INVALID_URL', `url must be at most ${MAX_URL} characters.`);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.policy.allowHttp)) {
      throw new BadUserInputError('INVALID_URL', `url must be an https:// URL (plain http only when the operator sets TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP=1), got "${url.protocol}".`);
    }
    // The secret goes in `secret`, where it is sealed; a URL is shown to every admin and in the audit log.
    if (url.username || url.password) throw new BadUserInputError('INVALID_URL', 'url must not carry a user name or password; put the credential in secret.');
    if (url.hash) throw new BadUserInputError('INVALID_URL', 'url must not have a #fragment.');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.policy.allowPrivate && !isPublicAddress(host)) {
      throw new BadUserInputError('INVALID_URL', `url must name a public address, got ${host}.`);
    }
    return url.toString();
  }
}

function checkSecret(secret: string): string {
  if (secret.length < MIN_SECRET || secret.length > MAX_SECRET) {
    throw new BadUserInputError('INVALID_SECRET', `secret must be ${MIN_SECRET} to ${MAX_SECRET} characters (e.g. \`openssl rand -hex 32\`; for Splunk, the HEC token).`);
  }
  return secret;
}

const notFound = (id: string) => new NotFoundError(`No audit stream ${id} in your organisation; list them with twg admin audit stream list.`);
