// What one request reads of accounts beyond their rows (issue 20): their sites, live twg session
// counts and live sessions, each batched with DataLoader across the accounts a page resolves, so
// a page of accounts costs the same statements at any size. Every loader answers its keys in
// their order, one result per key. Built once per request, for the caller's organisation.
import DataLoader from 'dataloader';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { BadUserInputError } from '../../shared/errors.ts';
import { type ConnectionShape, decodeCursor, encodeCursor, pageSize, toConnection } from '../../shared/cursor.ts';
import type { AccountSessionsService, SessionRow } from '../session/account-sessions.service.ts';
import { OrgRepository } from './org.repository.ts';
import type { AccountTable } from './org.table.ts';

type Account = Selectable<AccountTable>;

export interface SiteShape {
  id: string;
  cloudId: string;
  name: string;
}

export class AccountReadService {
  private readonly sites: DataLoader<string, SiteShape[]>;
  private readonly cliCounts: DataLoader<string, number>;
  private readonly accounts: DataLoader<string, Account | null>;
  /** One loader per distinct page asked for, so sibling accounts' pages share a statement. */
  private readonly sessionPages = new Map<string, DataLoader<string, SessionRow[]>>();

  constructor(
    db: Kysely<Database>,
    private readonly orgId: string,
    private readonly accountSessions: AccountSessionsService,
  ) {
    this.sites = new DataLoader(async (ids) => {
      const byAccount = new Map<string, SiteShape[]>(ids.map((id) => [id, []]));
      for (const row of await new OrgRepository(db).sitesOfAccounts(orgId, ids)) byAccount.get(row.account_id)?.push({ id: row.cloud_id, cloudId: row.cloud_id, name: row.name });
      return ids.map((id) => byAccount.get(id)!);
    });
    this.cliCounts = new DataLoader(async (ids) => {
      const counts = await accountSessions.liveCliCounts(orgId, ids);
      return ids.map((id) => counts.get(id) ?? 0);
    });
    this.accounts = new DataLoader(async (ids) => {
      const rows = new Map((await new OrgRepository(db).findAccounts(orgId, ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    });
  }

  /** An account of the request's organisation by id, for fields that name whose something is. */
  account(accountId: string): Promise<Account | null> {
    return this.accounts.load(accountId);
  }

  sitesOf(account: Account): Promise<SiteShape[]> {
    return account.org_id === this.orgId ? this.sites.load(account.id) : Promise.resolve([]);
  }

  /** A deactivated account's sessions have all ended (PRODUCT §1). */
  cliSessionCount(account: Account): Promise<number> {
    return account.org_id === this.orgId && account.active ? this.cliCounts.load(account.id) : Promise.resolve(0);
  }

  /** The account's live sessions, newest first. */
  async sessions(account: Account, args: { first?: number | null; after?: string | null }): Promise<ConnectionShape<SessionRow>> {
    const size = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, ['string', 'string']) : null;
    const cursorOf = (s: SessionRow) => encodeCursor([s.created_at.toISOString(), s.id]);
    if (account.org_id !== this.orgId || !account.active) return toConnection([], size, cursorOf);
    const createdAt = after ? new Date(after[0] as string) : null;
    if (createdAt && Number.isNaN(createdAt.getTime())) throw new BadUserInputError('INVALID_CURSOR', `The cursor "${args.after!.slice(0, 40)}" is not one this API returned.`);
    const key = `${size}:${after?.join('\u0000') ?? ''}`;
    let loader = this.sessionPages.get(key);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const pages = await this.accountSessions.livePages(this.orgId, ids, size + 1, after ? { createdAt: createdAt!, id: after[1] as string } : undefined);
        return ids.map((id) => pages.get(id) ?? []);
      });
      this.sessionPages.set(key, loader);
    }
    return toConnection(await loader.load(account.id), size, cursorOf);
  }
}
