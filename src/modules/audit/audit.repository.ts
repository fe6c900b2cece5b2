// Audit events and each organisation's chain head. Appending is one call of audit_append
// (migration 021) that locks the head, so concurrent appends of one organisation serialise there and the chain never forks.
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import { inSpan } from '../../observability/spans.ts';
import type { AuditEventTable } from './audit.table.ts';
import type { AuditEvent, AuditOutcome } from './audit-event.ts';

export interface AuditFilter {
  action?: string | null;
  actorAccountId?: string | null;
  command?: string | null;
  objectType?: string | null;
  outcome?: AuditOutcome | null;
  ip?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export type StoredAuditEvent = Selectable<AuditEventTable>;

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(event: AuditEvent, eventJson: string): Promise<void> {
    await inSpan('audit.append', { attributes: { 'teamgraph.audit.action': event.action, 'teamgraph.audit.outcome': event.outcome } }, () =>
      sql`select audit_append(${event.orgId}, ${event.id}, ${new Date(event.time)}, ${event.action}, ${event.actor.accountId}, ${event.command},
      ${event.objectTypes}::text[], ${event.outcome}, ${event.ip}, ${eventJson})`.execute(this.db),
    );
  }

  /** Newest first, from `beforeSeq` (exclusive) down. */
  list(orgId: string, filter: AuditFilter, options: { beforeSeq?: number; afterSeq?: number; limit: number; oldestFirst?: boolean }) {
    let query = this.db.selectFrom('audit_event').selectAll().where('org_id', '=', orgId);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.actorAccountId) query = query.where('actor_account_id', '=', filter.actorAccountId);
    if (filter.command) query = query.where('command', '=', filter.command);
    if (filter.objectType) query = query.where(sql<boolean>`${filter.objectType} = any(object_types)`);
    if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
    if (filter.ip) query = query.where('ip', '=', filter.ip);
    if (filter.from) query = query.where('time', '>=', filter.from);
    if (filter.to) query = query.where('time', '<', filter.to);
    if (options.beforeSeq !== undefined) query = query.where('seq', '<', options.beforeSeq);
    if (options.afterSeq !== undefined) query = query.where('seq', '>', options.afterSeq);
    return query
      .orderBy('seq', options.oldestFirst ? 'asc' : 'desc')
      .limit(options.limit)
      .execute() as Promise<StoredAuditEvent[]>;
  }

  findById(orgId: string, id: string) {
    return this.db.selectFrom('audit_event').select('event_json').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  }

  /** The head, the purge checkpoint and the verified-up-to checkpoint, in one statement. */
  chainState(orgId: string) {
    return this.db
      .selectFrom('audit_chain as c')
      .leftJoin('audit_verification as v', 'v.org_id', 'c.org_id')
      .select(['c.last_seq', 'c.last_hash', 'c.checkpoint_seq', 'c.checkpoint_hash', 'v.verified_seq', 'v.verified_hash'])
      .where('c.org_id', '=', orgId)
      .executeTakeFirst();
  }

  purgeCheckpoint(orgId: string) {
    return this.db.selectFrom('audit_chain').select(['checkpoint_seq', 'checkpoint_hash']).where('org_id', '=', orgId).executeTakeFirst();
  }

  /** Events after `afterSeq` up to `lastSeq`, oldest first: a range of the primary key. */
  segment(orgId: string, afterSeq: number, lastSeq: number, limit: number) {
    return this.db
      .selectFrom('audit_event')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('seq', '>', afterSeq)
      .where('seq', '<=', lastSeq)
      .orderBy('seq')
      .limit(limit)
      .execute() as Promise<StoredAuditEvent[]>;
  }

  eventAt(orgId: string, seq: number) {
    return this.db.selectFrom('audit_event').selectAll().where('org_id', '=', orgId).where('seq', '=', seq).executeTakeFirst() as Promise<StoredAuditEvent | undefined>;
  }

  /** Moves the verified-up-to checkpoint forward, never back: of two concurrent calls, the further one stays. */
  async advanceVerified(orgId: string, seq: number, hash: string, at: Date): Promise<void> {
    await this.db
      .insertInto('audit_verification')
      .values({ org_id: orgId, verified_seq: seq, verified_hash: hash, verified_at: at })
      .onConflict((oc) =>
        oc.column('org_id').doUpdateSet((eb) => ({ verified_seq: eb.ref('excluded.verified_seq'), verified_hash: eb.ref('excluded.verified_hash'), verified_at: eb.ref('excluded.verified_at') })).where('audit_verification.verified_seq', '<', (eb) => eb.ref('excluded.verified_seq')),
      )
      .execute();
  }

  /**
   * Deletes the oldest events of the organisation up to (not including) the first event at or
   * after `before`, and moves the checkpoint to the last one deleted. Returns how many went.
   * Batches of `batch` events, each its own transaction: the purge holds the chain head (which
   * every append of the organisation waits for) only as long as one batch takes.
   */
  async purgeBefore(orgId: string, before: Date, batch = 10_000): Promise<number> {
    const firstKept = await this.db.selectFrom('audit_event').select((eb) => eb.fn.min('seq').as('seq')).where('org_id', '=', orgId).where('time', '>=', before).executeTakeFirst();
    let deletedInAll = 0;
    for (;;) {
      const deleted = await this.db.transaction().execute(async (trx) => {
        const head = await trx.selectFrom('audit_chain').selectAll().where('org_id', '=', orgId).forUpdate().executeTakeFirst();
        if (!head) return 0;
        const keepFrom = firstKept?.seq ?? Number(head.last_seq) + 1;
        const last = await trx
          .selectFrom('audit_event')
          .select(['seq', 'hash'])
          .where('org_id', '=', orgId)
          .where('seq', '<', keepFrom)
          .where('seq', '<=', Number(head.checkpoint_seq) + batch)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (!last) return 0;
        // The append-only trigger lets this transaction, and only it, delete. On Citus the trigger
        // runs on a worker, where SET LOCAL reaches once Citus is told to pass it on (elsewhere
        // citus.propagate_set_commands is a setting nobody reads).
        await sql`set local citus.propagate_set_commands = 'local'`.execute(trx);
        await sql`set local teamgraph.audit_purge = on`.execute(trx);
        const result = await trx.deleteFrom('audit_event').where('org_id', '=', orgId).where('seq', '<=', last.seq).executeTakeFirst();
        await sql`set local teamgraph.audit_purge = off`.execute(trx);
        await trx.updateTable('audit_chain').set({ checkpoint_seq: last.seq, checkpoint_hash: last.hash }).where('org_id', '=', orgId).execute();
        return Number(result.numDeletedRows);
      });
      if (deleted === 0) return deletedInAll;
      deletedInAll += deleted;
    }
  }

  organizationsWithEvents() {
    return this.db.selectFrom('audit_chain').select('org_id').execute();
  }
}
