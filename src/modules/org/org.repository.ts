// Organisations, sites, accounts and site membership. An e-mail is unique across organisations
// (PRODUCT §1): account_email, shared by all of them, holds each once (migration 019).
import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../../db/database.ts';

export interface AccountListFilter {
  /** Part of the e-mail or the display name, case-insensitive; LIKE's wildcards match themselves. */
  text?: string | null;
  active?: boolean | null;
  isOrgAdmin?: boolean | null;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

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
  /** A site of one organisation: on Citus its organisation's node alone answers. */
  findSite(orgId: string, cloudId: string) {
    return this.db.selectFrom('site').selectAll().where('org_id', '=', orgId).where('cloud_id', '=', cloudId).executeTakeFirst();
  }
  /** Sites are looked up by cloud id alone only by the operator command line: on Citus this asks every shard. */
  findSiteAnywhere(cloudId: string) {
    return this.db.selectFrom('site').selectAll().where('cloud_id', '=', cloudId).executeTakeFirst();
  }
  findAccountAnywhere(accountId: string) {
    return this.db.selectFrom('account').selectAll().where('id', '=', accountId).executeTakeFirst();
  }
  /** Accounts of one organisation by id, in no order; ids not found are left out. */
  async findAccounts(orgId: string, accountIds: readonly string[]): Promise<Selectable<Database['account']>[]> {
    if (accountIds.length === 0) return [];
    // One primary-key lookup per id: as `id in (…)`, a planner without statistics read every
    // account of the organisation and filtered (8 ms for a page of 26 among 10,000, issue 20).
    const { rows } = await sql<Selectable<Database['account']>>`
      select a.* from unnest(${[...new Set(accountIds)]}::text[]) as k(id)
      cross join lateral (select * from account a where a.org_id = ${orgId} and a.id = k.id offset 0) a
    `.execute(this.db);
    return rows;
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
  /**
   * A page of the organisation's accounts by lower(email) (`sort_key`), after `afterEmail` (a
   * sort_key): lower(email) is unique within an organisation (migration 019), so it alone orders
   * and keys the pages, along account_email_in_org. The database lower-cases, not JavaScript,
   * whose case mapping of some letters differs.
   */
  listAccounts(orgId: string, filter: AccountListFilter, limit: number, afterEmail?: string) {
    let query = this.db.selectFrom('account').selectAll().select(sql<string>`lower(email)`.as('sort_key')).where('org_id', '=', orgId);
    if (filter.text) {
      const pattern = `%${escapeLike(filter.text)}%`;
      query = query.where(sql<boolean>`(email ilike ${pattern} or display_name ilike ${pattern})`);
    }
    if (filter.active !== undefined && filter.active !== null) query = query.where('active', '=', filter.active);
    if (filter.isOrgAdmin !== undefined && filter.isOrgAdmin !== null) query = query.where('is_org_admin', '=', filter.isOrgAdmin);
    if (afterEmail !== undefined) query = query.where(sql<boolean>`lower(email) > ${afterEmail}`);
    return query.orderBy(sql`lower(email)`).limit(limit).execute();
  }

  /** The sites each of these accounts belongs to, in one statement. */
  sitesOfAccounts(orgId: string, accountIds: readonly string[]) {
    return this.db
      .selectFrom('site_member as m')
      .innerJoin('site as s', (j) => j.onRef('s.org_id', '=', 'm.org_id').onRef('s.cloud_id', '=', 'm.cloud_id'))
      .select(['m.account_id', 's.cloud_id', 's.name'])
      .where('m.org_id', '=', orgId)
      .where('m.account_id', 'in', accountIds)
      .orderBy('s.created_at')
      .orderBy('s.cloud_id')
      .execute();
  }

  async recordSignIn(orgId: string, accountId: string, at: Date) {
    await this.db.updateTable('account').set({ last_sign_in_at: at }).where('org_id', '=', orgId).where('id', '=', accountId).execute();
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
