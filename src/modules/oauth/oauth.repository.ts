// Authorization codes, device authorizations and failed sign-in attempts. Codes are found by
// the SHA-256 of what the client presents, in the organisation it names (shared/secrets.ts);
// every state change is a compare-and-set, so two
// concurrent requests cannot both use one code.
import { type Insertable, type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { CredentialKey } from '../../shared/secrets.ts';
import type { DeviceAuthorizationStatus } from './oauth.table.ts';

export class OAuthRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertAuthorizationCode(row: Insertable<Database['authorization_code']>) {
    await this.db.insertInto('authorization_code').values(row).execute();
  }

  /** Marks the code used and returns it; undefined when unknown or already used. */
  claimAuthorizationCode(orgId: string, codeHash: string, now: Date) {
    return this.db
      .updateTable('authorization_code')
      .set({ used_at: now })
      .where('org_id', '=', orgId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  findAuthorizationCode(code: CredentialKey) {
    return this.db
      .selectFrom('authorization_code')
      .selectAll()
      .where('code_hash', '=', code.hash)
      .$if(code.orgId !== null, (q) => q.where('org_id', '=', code.orgId!))
      .executeTakeFirst();
  }

  async recordCodeSession(orgId: string, codeHash: string, sessionId: string) {
    await this.db.updateTable('authorization_code').set({ session_id: sessionId }).where('org_id', '=', orgId).where('code_hash', '=', codeHash).execute();
  }

  /** Inserts a device authorization; false when its user code collides with a pending one. */
  async insertDeviceAuthorization(row: Insertable<Database['device_authorization']>): Promise<boolean> {
    const inserted = await this.db
      .insertInto('device_authorization')
      .values(row)
            // A literal, not a parameter: a prepared statement's generic plan cannot match a partial
      // index's predicate against a parameter (src/db/prepared-statements.ts names repeated statements).
      .onConflict((c) => c.column('user_code').where('status', '=', sql.lit('PENDING')).doNothing())
      .returning('device_code_hash')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  findDeviceByCodeHash(deviceCodeHash: string) {
    return this.db.selectFrom('device_authorization').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
  }

  findPendingDeviceByUserCode(userCode: string, now: Date) {
    return this.db.selectFrom('device_authorization').selectAll().where('user_code', '=', userCode).where('status', '=', 'PENDING').where('expires_at', '>', now).executeTakeFirst();
  }

  async recordPoll(deviceCodeHash: string, now: Date, intervalSeconds: number) {
    await this.db.updateTable('device_authorization').set({ last_polled_at: now, interval_seconds: intervalSeconds }).where('device_code_hash', '=', deviceCodeHash).execute();
  }

  /** Moves a device authorization from one status to another; false if it was no longer in `from`. */
  async moveDevice(
    deviceCodeHash: string,
    from: DeviceAuthorizationStatus,
    to: DeviceAuthorizationStatus,
    decision: { org_id?: string; account_id?: string; granted_scopes?: string[]; denial_reason?: string; decided_at?: Date } = {},
  ): Promise<boolean> {
    const moved = await this.db.updateTable('device_authorization').set({ status: to, ...decision }).where('device_code_hash', '=', deviceCodeHash).where('status', '=', from).executeTakeFirst();
    return Number(moved.numUpdatedRows) === 1;
  }

  /** Forgets codes and device authorizations that ended more than a day ago. */
  /** Forgets what expired before `before`: the organisation's codes, and the shared device and sign-in records. */
  async deleteExpired(orgId: string | null, before: Date) {
    if (orgId) await this.db.deleteFrom('authorization_code').where('org_id', '=', orgId).where('expires_at', '<', before).execute();
    await this.db.deleteFrom('device_authorization').where('expires_at', '<', before).execute();
    await this.db.deleteFrom('sign_in_failure').where('failed_at', '<', before).execute();
  }

  async recordFailure(subject: string | string[], now: Date) {
    const subjects = Array.isArray(subject) ? subject : [subject];
    await this.db.insertInto('sign_in_failure').values(subjects.map((s) => ({ subject: s, failed_at: now }))).execute();
  }

  /** For each subject: its failures since `since`, and the newest one's time. One statement. */
  async failuresOf(subjects: string[], since: Date): Promise<Map<string, { count: number; last: Date }>> {
    const rows = await this.db
      .selectFrom('sign_in_failure')
      .select((eb) => ['subject', eb.fn.countAll<number>().as('n'), eb.fn.max('failed_at').as('last')])
      .where('subject', 'in', subjects)
      .where('failed_at', '>', since)
      .groupBy('subject')
      .execute();
    return new Map(rows.map((row) => [row.subject, { count: Number(row.n), last: new Date(row.last as Date) }]));
  }

  async countFailures(subject: string, since: Date): Promise<number> {
    const row = await this.db.selectFrom('sign_in_failure').select((eb) => eb.fn.countAll<number>().as('n')).where('subject', '=', subject).where('failed_at', '>', since).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async clearFailures(subjects: string[]) {
    await this.db.deleteFrom('sign_in_failure').where('subject', 'in', subjects).execute();
  }
}
