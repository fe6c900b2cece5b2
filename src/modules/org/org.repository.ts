// Organisations, sites, accounts and site membership. An e-mail is unique across organisations
// (PRODUCT §1): account_email, shared by all of them, holds each once (migration 019).
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

export class OrgRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertOrganization(row: Insertable<Database['organization']>) {
    await this.db.insertInto('organization').values(row).execute();
  }
  async insertSite(row: Insertable<Database['site']>) {
    await this.db.insertInto('site').values(row).execute();
  }
  /** Inserts the account and claims its e-mail; a taken e-mail fails on account_email's key. */
  async insertAccount(row: Insertable<Database['account']>) {
    await this.db.insertInto('account_email').values({ email: row.email.toLowerCase(), org_id: row.org_id, account_id: row.id }).execute();
    await this.db.insertInto('account').values(row).execute();
  }
  async addSiteMember(orgId: string, cloudId: string, accountId: string) {
    await this.db.insertInto('site_member').values({ org_id: orgId, cloud_id: cloudId, account_id: accountId }).onConflict((c) => c.doNothing()).execute();
  }

  findOrganization(orgId: string) {
    return this.db.selectFrom('organization').selectAll().where('id', '=', orgId).executeTakeFirst();
  }
  /** Sites are looked up by cloud id alone only by the operator command line. */
  findSiteAnywhere(cloudId: string) {
    return this.db.selectFrom('site').selectAll().where('cloud_id', '=', cloudId).executeTakeFirst();
  }
  findAccountAnywhere(accountId: string) {
    return this.db.selectFrom('account').selectAll().where('id', '=', accountId).executeTakeFirst();
  }
  /** Accounts of one organisation by id, in no order; ids not found are left out. */
  findAccounts(orgId: string, accountIds: string[]) {
    if (accountIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('account').selectAll().where('org_id', '=', orgId).where('id', 'in', accountIds).execute();
  }

  findAccount(orgId: string, accountId: string) {
    return this.db.selectFrom('account').selectAll().where('org_id', '=', orgId).where('id', '=', accountId).executeTakeFirst();
  }
  /** The account with this e-mail in any organisation (sign-in): where it is, then the account there. */
  async findAccountByEmail(email: string) {
    const owner = await this.db.selectFrom('account_email').select(['org_id', 'account_id']).where('email', '=', email.toLowerCase()).executeTakeFirst();
    return owner && this.findAccount(owner.org_id, owner.account_id);
  }
  findAccountByEmailIn(orgId: string, email: string) {
    return this.db
      .selectFrom('account')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
      .executeTakeFirst();
  }
  listSites(orgId: string) {
    return this.db.selectFrom('site').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('cloud_id').execute();
  }
  async setAccountActive(orgId: string, accountId: string, active: boolean) {
    await this.db.updateTable('account').set({ active }).where('org_id', '=', orgId).where('id', '=', accountId).execute();
  }
  async setOrgAdmin(orgId: string, accountId: string, isOrgAdmin: boolean) {
    await this.db.updateTable('account').set({ is_org_admin: isOrgAdmin }).where('org_id', '=', orgId).where('id', '=', accountId).execute();
  }
}
