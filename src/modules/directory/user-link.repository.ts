// Links from third-party users to accounts (PRODUCT §4), direct or pending on an e-mail.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';

export class UserLinkRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(orgId: string, connectionId: string, externalId: string) {
    return this.db
      .selectFrom('user_link')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  /** Writes a link unless one with the same or a newer sequence number is stored; true if written. */
  async upsert(row: {
    orgId: string;
    connectionId: string;
    externalId: string;
    accountId: string | null;
    pendingEmail: string | null;
    source: string;
    usn: number;
    now: Date;
  }): Promise<boolean> {
    const result = await this.db
      .insertInto('user_link')
      .values({
        org_id: row.orgId,
        connection_id: row.connectionId,
        external_id: row.externalId,
        account_id: row.accountId,
        pending_email: row.pendingEmail,
        source: row.source,
        update_sequence_number: row.usn,
        created_at: row.now,
      })
      .onConflict((c) =>
        c
          .columns(['org_id', 'connection_id', 'external_id'])
          .doUpdateSet({
            account_id: (eb) => eb.ref('excluded.account_id'),
            pending_email: (eb) => eb.ref('excluded.pending_email'),
            source: (eb) => eb.ref('excluded.source'),
            update_sequence_number: (eb) => eb.ref('excluded.update_sequence_number'),
          })
          .where('user_link.update_sequence_number', '<', row.usn),
      )
      .returning('external_id')
      .executeTakeFirst();
    return result !== undefined;
  }

  async deleteForUsers(orgId: string, connectionId: string, externalIds: string[]) {
    if (externalIds.length === 0) return;
    await this.db
      .deleteFrom('user_link')
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where('external_id', 'in', externalIds)
      .execute();
  }

  async resolvePendingEmail(orgId: string, email: string, accountId: string) {
    await this.db
      .updateTable('user_link')
      .set({ account_id: accountId, pending_email: null })
      .where('org_id', '=', orgId)
      .where('account_id', 'is', null)
      .where(sql`lower(pending_email)`, '=', email.toLowerCase())
      .execute();
  }
}
