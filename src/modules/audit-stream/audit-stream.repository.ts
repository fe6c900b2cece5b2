// Audit streams and their positions. Every write a sender makes after delivering is fenced by its
// lease: a process whose lease has passed to another cannot move the position.
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { AuditStreamTable } from './audit-stream.table.ts';

export type AuditStreamRow = Selectable<AuditStreamTable>;

/** A stream with how far the organisation's chain has gone past it, and when the oldest event it owes was appended. */
export type AuditStreamWithHead = AuditStreamRow & { head_seq: number; oldest_owed_at: Date | null };

export class AuditStreamRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private withHead(db: Kysely<Database> = this.db) {
    return db
      .selectFrom('audit_stream as s')
      .leftJoin('audit_chain as c', 'c.org_id', 's.org_id')
      .leftJoin('audit_event as e', (join) => join.onRef('e.org_id', '=', 's.org_id').on('e.seq', '=', sql<number>`s.delivered_seq + 1`))
      .selectAll('s')
      .select([sql<number>`coalesce(c.last_seq, 0)`.as('head_seq'), 'e.time as oldest_owed_at']);
  }

  list(orgId: string): Promise<AuditStreamWithHead[]> {
    return this.withHead().where('s.org_id', '=', orgId).orderBy('s.created_at').orderBy('s.id').execute();
  }

  find(orgId: string, id: string, db: Kysely<Database> = this.db): Promise<AuditStreamWithHead | undefined> {
    return this.withHead(db).where('s.org_id', '=', orgId).where('s.id', '=', id).executeTakeFirst();
  }

  count(orgId: string, db: Kysely<Database>) {
    return db.selectFrom('audit_stream').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
  }

  /**
   * A new stream, positioned at the organisation's chain head: it delivers what is appended from
   * now on, starting with the event that records its creation. The head is locked until the
   * transaction ends (as an append would lock it), so no event falls between the two.
   */
  async insert(trx: Kysely<Database>, row: Pick<Insertable<AuditStreamTable>, 'org_id' | 'id' | 'url' | 'format' | 'sealed_secret' | 'created_by' | 'created_at'>): Promise<void> {
    const head = await trx.selectFrom('audit_chain').select('last_seq').where('org_id', '=', row.org_id).forUpdate().executeTakeFirst();
    await trx.insertInto('audit_stream').values({ ...row, paused: false, failures: 0, delivered_seq: Number(head?.last_seq ?? 0) }).execute();
  }

  async update(db: Kysely<Database>, orgId: string, id: string, changes: Pick<Updateable<AuditStreamTable>, 'url' | 'format' | 'sealed_secret' | 'paused' | 'pause_reason' | 'failures' | 'failing_since' | 'next_attempt_at' | 'last_error'>): Promise<void> {
    await db.updateTable('audit_stream').set(changes).where('org_id', '=', orgId).where('id', '=', id).execute();
  }

  async delete(db: Kysely<Database>, orgId: string, id: string): Promise<void> {
    await db.deleteFrom('audit_stream').where('org_id', '=', orgId).where('id', '=', id).execute();
  }

  /** Every stream that is not paused, of every organisation: what the senders look at on each tick. */
  active(): Promise<Pick<AuditStreamRow, 'org_id' | 'id'>[]> {
    return this.db.selectFrom('audit_stream').select(['org_id', 'id']).where('paused', '=', false).execute();
  }

  /**
   * Takes or renews the lease of one stream for `owner`, for `seconds` of the database's clock
   * (one clock for every process): granted when the stream is not paused and nobody else holds a
   * lease that still runs. Returns the stream and its chain head, or nothing.
   */
  async claim(orgId: string, id: string, owner: string, seconds: number): Promise<AuditStreamWithHead | undefined> {
    const claimed = await this.db
      .updateTable('audit_stream')
      .set({ lease_owner: owner, lease_until: sql`now() + make_interval(secs => ${seconds})` })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('paused', '=', false)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', sql<Date>`now()`)]))
      .returning('id')
      .executeTakeFirst();
    return claimed ? this.find(orgId, id) : undefined;
  }

  /** Gives the lease up (a process shutting down), so another process need not wait for it to run out. */
  async release(orgId: string, id: string, owner: string): Promise<void> {
    await this.db.updateTable('audit_stream').set({ lease_owner: null, lease_until: null }).where('org_id', '=', orgId).where('id', '=', id).where('lease_owner', '=', owner).execute();
  }

  /**
   * Moves the position to the batch's last event, if `owner` still holds the lease and the position
   * is where the batch began. False: another process took the stream over (it sends the batch again).
   */
  async delivered(orgId: string, id: string, owner: string, from: number, to: { seq: number; eventId: string }, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('audit_stream')
      .set({ delivered_seq: to.seq, delivered_event_id: to.eventId, delivered_at: at, failures: 0, failing_since: null, next_attempt_at: null, last_error: null })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('delivered_seq', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records a failed delivery and when to try again; `pauseReason` pauses the stream too. */
  async failed(orgId: string, id: string, owner: string, failure: { error: string; failingSince: Date; failures: number; nextAttemptAt: Date; pauseReason: string | null }): Promise<void> {
    await this.db
      .updateTable('audit_stream')
      .set({
        last_error: failure.error,
        failing_since: failure.failingSince,
        failures: failure.failures,
        next_attempt_at: failure.nextAttemptAt,
        ...(failure.pauseReason ? { paused: true, pause_reason: failure.pauseReason, lease_owner: null, lease_until: null } : {}),
      })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }
}
