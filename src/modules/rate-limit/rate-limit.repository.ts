// Points spent per credential and hour, and the organisation's own budgets. The charge is one
// statement on the credential's row, so two server processes charging at once serialise on its
// row lock and never grant more than the budget between them.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { OrgOfLookup } from '../../shared/secrets.ts';

export interface Usage {
  used: number;
  windowStart: Date;
}

export interface ChargeRequest {
  orgId: string;
  kind: string;
  id: string;
  now: Date;
  /** A window that started at or before this has ended: the charge opens a new one at `now`. */
  endedBefore: Date;
  cost: number;
  limit: number;
}

/** The organisation's own budgets as a credential lookup reads them (null: none set). */
export interface OrgBudgets {
  session: number | null;
  adminApiKey: number | null;
  bitbucketToken: number | null;
  connection: number | null;
}

/** A subquery for a credential statement: the organisation's own budgets, or null when it has none. */
export function orgBudgets(org: OrgOfLookup) {
  return sql<OrgBudgets | null>`(select jsonb_build_object('session', r.session_points, 'adminApiKey', r.admin_api_key_points,
    'bitbucketToken', r.bitbucket_token_points, 'connection', r.connection_points) from rate_limit_setting r where r.org_id = ${org})`;
}

export class RateLimitRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds `cost` to the credential's window when it fits in `limit` (a window that has ended starts
   * again at `now`); undefined when it does not fit, and nothing is written then. One call of
   * rate_limit_charge (migration 024).
   *
   * Its commit does not wait for the WAL to reach the disk (synchronous_commit off for this
   * call's own transaction): that wait was 1-3 ms of the request's time (bench/RESULTS.md), and a
   * crash can lose only the last fraction of a second of charges, which gives a credential a few
   * points back. Never inside a request transaction, whose audit event must be durable: there
   * (`durable`) the commit waits as usual.
   */
  async charge(c: ChargeRequest, { durable = false } = {}): Promise<Usage | undefined> {
    const { rows } = await sql<{ charged: { used: number; windowStart: string } | null }>`
      select rate_limit_charge(${c.orgId}::text, ${c.kind}::text, ${c.id}::text, ${c.now}::timestamptz,
        ${c.endedBefore}::timestamptz, ${c.cost}::integer, ${c.limit}::integer, ${durable}::boolean) as charged`.execute(this.db);
    const charged = rows[0]?.charged;
    return charged ? { used: charged.used, windowStart: new Date(charged.windowStart) } : undefined;
  }

  async usage(orgId: string, kind: string, id: string): Promise<Usage | undefined> {
    const row = await this.db
      .selectFrom('rate_limit_usage')
      .select(['used', 'window_start'])
      .where('org_id', '=', orgId)
      .where('credential_kind', '=', kind)
      .where('credential_id', '=', id)
      .executeTakeFirst();
    return row && { used: row.used, windowStart: row.window_start };
  }

  /** Forgets windows that started at or before `endedBefore`: such a row counts as no row. */
  async deleteEnded(endedBefore: Date): Promise<number> {
    const result = await this.db.deleteFrom('rate_limit_usage').where('window_start', '<=', endedBefore).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  findSetting(orgId: string) {
    return this.db.selectFrom('rate_limit_setting').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  /** Stores the next version if the stored one is still `previousVersion` (0: none stored); false otherwise. */
  async saveSetting(row: { orgId: string; budgets: OrgBudgets; previousVersion: number; updatedAt: Date; updatedBy: string }): Promise<boolean> {
    const values = {
      session_points: row.budgets.session,
      admin_api_key_points: row.budgets.adminApiKey,
      bitbucket_token_points: row.budgets.bitbucketToken,
      connection_points: row.budgets.connection,
      version: row.previousVersion + 1,
      updated_at: row.updatedAt,
      updated_by: row.updatedBy,
    };
    if (row.previousVersion === 0) {
      const inserted = await this.db.insertInto('rate_limit_setting').values({ org_id: row.orgId, ...values }).onConflict((c) => c.column('org_id').doNothing()).returning('version').executeTakeFirst();
      return inserted !== undefined;
    }
    const updated = await this.db.updateTable('rate_limit_setting').set(values).where('org_id', '=', row.orgId).where('version', '=', row.previousVersion).executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }
}
