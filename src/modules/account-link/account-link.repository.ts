// The 3LO side of user links (issue 5): a connection's third-party OAuth provider, the attempts
// of the link flow (single use, ten minutes; first waiting for the provider, then, holding its
// answer, for the account's confirmation), and the links that flow writes.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { CredentialKey } from '../../shared/secrets.ts';
import type { ConnectionLinkProviderTable } from './account-link.table.ts';

export type LinkProviderRow = Selectable<ConnectionLinkProviderTable>;

export class AccountLinkRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findProvider(orgId: string, connectionId: string) {
    return this.db.selectFrom('connection_link_provider').selectAll().where('org_id', '=', orgId).where('connection_id', '=', connectionId).executeTakeFirst();
  }

  async upsertProvider(row: Insertable<ConnectionLinkProviderTable>) {
    const { org_id: _org, connection_id: _connection, ...changes } = row;
    await this.db
      .insertInto('connection_link_provider')
      .values(row)
      .onConflict((c) => c.columns(['org_id', 'connection_id']).doUpdateSet(changes))
      .execute();
  }

  async deleteProvider(orgId: string, connectionId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('connection_link_provider').where('org_id', '=', orgId).where('connection_id', '=', connectionId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async insertAttempt(row: Insertable<Database['link_attempt']>, now: Date) {
    await this.db.deleteFrom('link_attempt').where('expires_at', '<', now).execute();
    await this.db.insertInto('link_attempt').values(row).execute();
  }

  accountEmail(orgId: string, accountId: string): Promise<string> {
    return this.db.selectFrom('account').select('email').where('org_id', '=', orgId).where('id', '=', accountId).executeTakeFirstOrThrow().then((row) => row.email);
  }

  /**
   * Takes the attempt out, if `browserBindingHash` is its browser's: whatever the callback or the
   * confirmation brings next, a key is used at most once, and only by the browser that holds it.
   */
  takeAttempt(state: CredentialKey, browserBindingHash: string, stage: 'waiting-for-provider' | 'answered') {
    return this.db
      .deleteFrom('link_attempt')
      .where('state_hash', '=', state.hash)
      .$if(state.orgId !== null, (q) => q.where('org_id', '=', state.orgId!))
      .where('browser_binding_hash', '=', browserBindingHash)
      .where('external_id', stage === 'answered' ? 'is not' : 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  accountActive(orgId: string, accountId: string): Promise<boolean> {
    return this.db.selectFrom('account').select('active').where('org_id', '=', orgId).where('id', '=', accountId).executeTakeFirst().then((row) => row?.active === true);
  }

  /** Links the third-party user to the account, moving a link it had; the connection's sequence number is kept. */
  async link(orgId: string, connectionId: string, externalId: string, accountId: string, now: Date) {
    await this.db
      .insertInto('user_link')
      .values({ org_id: orgId, connection_id: connectionId, external_id: externalId, account_id: accountId, pending_email: null, source: 'OAUTH_3LO', update_sequence_number: 0, created_at: now })
      .onConflict((c) => c.columns(['org_id', 'connection_id', 'external_id']).doUpdateSet({ account_id: accountId, pending_email: null, source: 'OAUTH_3LO', created_at: now }))
      .execute();
  }

  linksOf(orgId: string, accountId: string) {
    return this.db
      .selectFrom('user_link as l')
      .innerJoin('connection as c', (j) => j.onRef('c.org_id', '=', 'l.org_id').onRef('c.id', '=', 'l.connection_id'))
      .select(['l.connection_id', 'c.provider', 'l.external_id', 'l.source', 'l.created_at'])
      .where('l.org_id', '=', orgId)
      .where('l.account_id', '=', accountId)
      .where('c.deletion_started_at', 'is', null)
      .orderBy('l.created_at')
      .orderBy('l.external_id')
      .execute();
  }

  async unlink(orgId: string, accountId: string, connectionId: string, externalId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('user_link')
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where('external_id', '=', externalId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
