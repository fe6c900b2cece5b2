// Bitbucket tokens, found by the SHA-256 of the presented secret (in the organisation it names) together with what a request
// needs of its organisation (principal version, enabled allowlist, rate-limit budgets), in one statement.
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { type CredentialKey, orgOfLookup } from '../../shared/secrets.ts';
import { enabledAllowlist } from '../ip-allowlist/ip-allowlist.repository.ts';
import { orgBudgets } from '../rate-limit/rate-limit.repository.ts';

export class BitbucketTokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Insertable<Database['bitbucket_token']>) {
    await this.db.insertInto('bitbucket_token').values(row).execute();
  }

  findByKey(token: CredentialKey) {
    const org = orgOfLookup(token, 'b.org_id');
    return this.db
      .selectFrom('bitbucket_token as b')
      .innerJoin('account as a', (j) => j.onRef('a.org_id', '=', 'b.org_id').onRef('a.id', '=', 'b.account_id'))
      .selectAll('b')
      .select((eb) => [
        'a.active as account_active',
        'a.email as account_email',
        'a.is_org_admin',
        eb.selectFrom('principal_version as pv').select('pv.version').where('pv.org_id', '=', org).as('principal_version'),
        enabledAllowlist(org).as('ip_allowlist'),
        orgBudgets(org).as('rate_limits'),
      ])
      .where('b.token_hash', '=', token.hash)
      .$if(token.orgId !== null, (q) => q.where('b.org_id', '=', token.orgId!))
      .executeTakeFirst();
  }

  find(orgId: string, id: string) {
    return this.db.selectFrom('bitbucket_token').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  }

  listOwned(orgId: string, accountId: string) {
    return this.db.selectFrom('bitbucket_token').selectAll().where('org_id', '=', orgId).where('account_id', '=', accountId).orderBy('created_at', 'desc').orderBy('id').execute();
  }

  async revoke(orgId: string, id: string, now: Date) {
    await this.db.updateTable('bitbucket_token').set({ revoked_at: now }).where('org_id', '=', orgId).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async touch(orgId: string, id: string, now: Date) {
    await this.db.updateTable('bitbucket_token').set({ last_used_at: now }).where('org_id', '=', orgId).where('id', '=', id).execute();
  }
}
