// Admin API keys, found by the SHA-256 of the presented key in the organisation it names.
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { type CredentialKey, orgOfLookup } from '../../shared/secrets.ts';
import { enabledAllowlist } from '../ip-allowlist/ip-allowlist.repository.ts';
import { orgBudgets } from '../rate-limit/rate-limit.repository.ts';

export class AdminKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Insertable<Database['admin_api_key']>) {
    await this.db.insertInto('admin_api_key').values(row).execute();
  }

  /** The key with its creator's standing: a key acts for its creator, so it works only while they are an active admin. */
  findByKey(key: CredentialKey) {
    const org = orgOfLookup(key, 'k.org_id');
    return this.db
      .selectFrom('admin_api_key as k')
      .innerJoin('account as a', (j) => j.onRef('a.org_id', '=', 'k.org_id').onRef('a.id', '=', 'k.created_by'))
      .selectAll('k')
      .select(['a.active as creator_active', 'a.is_org_admin as creator_admin', 'a.email as creator_email', enabledAllowlist(org).as('ip_allowlist'), orgBudgets(org).as('rate_limits')])
      .where('k.key_hash', '=', key.hash)
      .$if(key.orgId !== null, (q) => q.where('k.org_id', '=', key.orgId!))
      .executeTakeFirst();
  }

  find(orgId: string, id: string) {
    return this.db.selectFrom('admin_api_key').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  }

  /** The key by its id alone, for the operator command line, which knows no organisation. */
  findAnywhere(id: string) {
    return this.db.selectFrom('admin_api_key').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(orgId: string) {
    return this.db.selectFrom('admin_api_key').selectAll().where('org_id', '=', orgId).orderBy('created_at', 'desc').orderBy('id').execute();
  }

  async revoke(orgId: string, id: string, now: Date) {
    await this.db.updateTable('admin_api_key').set({ revoked_at: now }).where('org_id', '=', orgId).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async touch(orgId: string, id: string, now: Date) {
    await this.db.updateTable('admin_api_key').set({ last_used_at: now }).where('org_id', '=', orgId).where('id', '=', id).execute();
  }
}
