// Tenants (PRODUCT §1): their bootstrap (organisations, sites, accounts, membership, admins,
// deactivation and connections; used by the operator command line and the demo data set), and
// what a caller may read of them: their own organisation and its sites, and an account only when
// it is their own or they are an admin (tenants never see each other).
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { type ConnectionShape, decodeCursor, encodeCursor, pageSize, toConnection } from '../../shared/cursor.ts';
import { BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { hashPassword, newSecret, sha256 } from '../../shared/secrets.ts';
import { ConnectionRepository } from '../connection/connection.repository.ts';
import { UserLinkRepository } from '../directory/user-link.repository.ts';
import { type Caller, isAdmin } from '../session/caller.ts';
import { type AccountListFilter, OrgRepository } from './org.repository.ts';
import type { AccountTable } from './org.table.ts';

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const PROVIDER = /^[a-z][a-z0-9-]{0,62}$/;

export class OrgService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** The caller's own organisation; null for any other. */
  async ownOrganization(caller: Caller, orgId: string) {
    return orgId === caller.orgId ? ((await new OrgRepository(this.db).findOrganization(orgId)) ?? null) : null;
  }

  /** An account of the caller's organisation that is theirs, or any of it for an org admin or an admin. */
  async visibleAccount(caller: Caller, accountId: string) {
    const mayRead = (caller.kind === 'account' && (caller.accountId === accountId || caller.isOrgAdmin)) || isAdmin(caller);
    return mayRead ? this.account(caller.orgId, accountId) : null;
  }

  /** An account of an organisation, for admin fields that name who did something. */
  async account(orgId: string, accountId: string) {
    return (await new OrgRepository(this.db).findAccount(orgId, accountId)) ?? null;
  }

  /** The organisation's directory (issue 20): accounts by e-mail, case-insensitively, in keyset pages. */
  async accounts(orgId: string, filter: AccountListFilter, args: { first?: number | null; after?: string | null }): Promise<ConnectionShape<Selectable<AccountTable>>> {
    const size = pageSize(args.first);
    const after = args.after ? (decodeCursor(args.after, ['string'])[0] as string) : undefined;
    const rows = await new OrgRepository(this.db).listAccounts(orgId, filter, size + 1, after);
    const page = toConnection(rows, size, (row) => encodeCursor([row.sort_key]));
    return { ...page, edges: page.edges.map(({ cursor, node: { sort_key: _key, ...account } }) => ({ cursor, node: account })) };
  }

  /** The organisation's account with this e-mail, compared case-insensitively; null when none. */
  async accountByEmail(orgId: string, email: string) {
    return (await new OrgRepository(this.db).findAccountByEmailIn(orgId, email)) ?? null;
  }

  async sites(orgId: string) {
    return (await new OrgRepository(this.db).listSites(orgId)).map((s) => ({ id: s.cloud_id, cloudId: s.cloud_id, name: s.name }));
  }

  /** A site of the caller's organisation; null for any other. */
  async ownSite(caller: Caller, cloudId: string) {
    const site = await new OrgRepository(this.db).findSite(caller.orgId, cloudId);
    return site ? { id: site.cloud_id, cloudId: site.cloud_id, name: site.name } : null;
  }

  async createOrganization(name: string): Promise<{ orgId: string }> {
    requireName(name, 'organisation');
    const orgId = newId('organization');
    await new OrgRepository(this.db).insertOrganization({ id: orgId, name, created_at: this.clock.now() });
    return { orgId };
  }

  async createSite(orgId: string, name: string): Promise<{ cloudId: string }> {
    requireName(name, 'site');
    const orgs = new OrgRepository(this.db);
    if (!(await orgs.findOrganization(orgId))) throw new NotFoundError(`No organisation ${orgId}.`);
    const cloudId = newId('site');
    await orgs.insertSite({ org_id: orgId, cloud_id: cloudId, name, created_at: this.clock.now() });
    return { cloudId };
  }

  async createAccount(input: {
    orgId: string;
    email: string;
    displayName: string;
    password?: string;
    admin?: boolean;
    cloudIds?: string[];
  }): Promise<{ accountId: string }> {
    if (!EMAIL.test(input.email) || input.email.length > 320) throw new BadUserInputError('INVALID_EMAIL', `"${input.email}" is not an e-mail address.`);
    requireName(input.displayName, 'account');
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const accountId = newId('account');
    await this.db.transaction().execute(async (trx) => {
      const orgs = new OrgRepository(trx);
      if (!(await orgs.findOrganization(input.orgId))) throw new NotFoundError(`No organisation ${input.orgId}.`);
      if (await orgs.findAccountByEmail(input.email)) throw new BadUserInputError('EMAIL_TAKEN', `An account with e-mail ${input.email} exists already.`);
      await orgs.insertAccount({
        org_id: input.orgId,
        id: accountId,
        email: input.email,
        display_name: input.displayName,
        password_hash: passwordHash,
        is_org_admin: input.admin ?? false,
        created_at: this.clock.now(),
      });
      for (const cloudId of input.cloudIds ?? []) {
        if (!(await orgs.findSite(input.orgId, cloudId))) throw new NotFoundError(`No site ${cloudId} in organisation ${input.orgId}.`);
        await orgs.addSiteMember(input.orgId, cloudId, accountId);
      }
      // PRODUCT §4: an e-mail mapping made before the account existed links now.
      await new UserLinkRepository(trx).resolvePendingEmail(input.orgId, input.email, accountId);
    });
    return { accountId };
  }

  async addSiteMember(cloudId: string, accountId: string): Promise<{ cloudId: string; accountId: string }> {
    const orgs = new OrgRepository(this.db);
    const site = await orgs.findSiteAnywhere(cloudId);
    if (!site) throw new NotFoundError(`No site ${cloudId}.`);
    const account = await orgs.findAccount(site.org_id, accountId);
    if (!account) throw new NotFoundError(`No account ${accountId} in the organisation of site ${cloudId}.`);
    await orgs.addSiteMember(site.org_id, cloudId, accountId);
    return { cloudId, accountId };
  }

  async setAccountActive(accountId: string, active: boolean): Promise<{ accountId: string; active: boolean }> {
    const orgs = new OrgRepository(this.db);
    const account = await orgs.findAccountAnywhere(accountId);
    if (!account) throw new NotFoundError(`No account ${accountId}.`);
    await orgs.setAccountActive(account.org_id, accountId, active);
    return { accountId, active };
  }

  async setOrgAdmin(accountId: string, isOrgAdmin: boolean): Promise<{ accountId: string; isOrgAdmin: boolean }> {
    const orgs = new OrgRepository(this.db);
    const account = await orgs.findAccountAnywhere(accountId);
    if (!account) throw new NotFoundError(`No account ${accountId}.`);
    await orgs.setOrgAdmin(account.org_id, accountId, isOrgAdmin);
    return { accountId, isOrgAdmin };
  }

  async createConnection(cloudId: string, provider: string): Promise<{ connectionId: string; clientId: string; clientSecret: string }> {
    if (!PROVIDER.test(provider)) throw new BadUserInputError('INVALID_PROVIDER', `The provider "${provider}" must be a lowercase slug such as jira or google-drive.`);
    const site = await new OrgRepository(this.db).findSiteAnywhere(cloudId);
    if (!site) throw new NotFoundError(`No site ${cloudId}.`);
    const connectionId = newId('connection');
    // The client id names the organisation, so the token endpoint finds it on its shard (issue 18).
    const clientId = `${provider}-${site.org_id}.${connectionId}`;
    const clientSecret = newSecret('twgcs_');
    await new ConnectionRepository(this.db).insert({
      org_id: site.org_id,
      id: connectionId,
      cloud_id: cloudId,
      provider,
      client_id: clientId,
      client_secret_hash: sha256(clientSecret),
      created_at: this.clock.now(),
    });
    return { connectionId, clientId, clientSecret };
  }
}

function requireName(name: string, what: string) {
  if (name.trim().length === 0 || name.length > 255) throw new BadUserInputError('INVALID_NAME', `A ${what} name must be 1 to 255 characters.`);
}
