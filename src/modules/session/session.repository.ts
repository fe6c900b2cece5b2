// Sessions and access tokens. A token row is found by the SHA-256 of the presented token, in the
// organisation the token names (shared/secrets.ts).
import { type Insertable, type Kysely, sql, type Updateable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { type CredentialKey, orgOfLookup } from '../../shared/secrets.ts';
import { enabledAllowlist } from '../ip-allowlist/ip-allowlist.repository.ts';
import type { AllowlistSnapshot } from '../ip-allowlist/ip-allowlist.service.ts';
import { type OrgBudgets, orgBudgets } from '../rate-limit/rate-limit.repository.ts';

export interface SessionLookup {
  org_id: string;
  session_id: string;
  session_created_at: Date;
  session_expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  client_id: string;
  scopes: string[];
  account_id: string | null;
  connection_id: string | null;
  account_active: boolean | null;
  account_email: string | null;
  is_org_admin: boolean | null;
  connection_cloud_id: string | null;
  /** null for account sessions and enabled connections. */
  connection_state: 'disabled' | 'deleting' | null;
  principal_version: number | null;
  cli_allow_all: boolean | null;
  cli_selected_permissions: string[] | null;
  ip_allowlist: AllowlistSnapshot | null;
  rate_limits: OrgBudgets | null;
}

export interface TokenLookup extends SessionLookup {
  token_expires_at: Date;
}

/** The bounds a session must be within to be live (SessionService.liveBounds, PRODUCT §6). */
export interface LiveBounds {
  now: Date;
  /** A session last used (or started) at or before this is idle-ended. */
  usedAfter: Date;
}

export interface SessionFilter {
  accountId?: string;
  sessionId?: string;
  clientId?: string;
}

export class SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertSession(row: Insertable<Database['session']>) {
    await this.db.insertInto('session').values(row).execute();
  }

  async insertAccessToken(row: Insertable<Database['access_token']>) {
    await this.db.insertInto('access_token').values(row).execute();
  }

  /** The access token's session and caller, with the organisation's snapshot (OrgSnapshot) in the same statement. */
  findByToken(token: CredentialKey): Promise<TokenLookup | undefined> {
    return this.sessionLookup(token)
      .innerJoin('access_token as t', (j) => j.onRef('t.org_id', '=', 's.org_id').onRef('t.session_id', '=', 's.id'))
      .select('t.expires_at as token_expires_at')
      .where('t.token_hash', '=', token.hash)
      .$if(token.orgId !== null, (q) => q.where('t.org_id', '=', token.orgId!))
      .executeTakeFirst();
  }

  findByRefreshToken(token: CredentialKey): Promise<SessionLookup | undefined> {
    return this.sessionLookup(token)
      .innerJoin('refresh_token as r', (j) => j.onRef('r.org_id', '=', 's.org_id').onRef('r.session_id', '=', 's.id'))
      .where('r.token_hash', '=', token.hash)
      .$if(token.orgId !== null, (q) => q.where('r.org_id', '=', token.orgId!))
      .executeTakeFirst();
  }

  /** Marks a refresh token used; false if it already was (the row lock makes one of two racers lose). */
  async claimRefreshToken(orgId: string, tokenHash: string, now: Date): Promise<boolean> {
    const claimed = await this.db
      .updateTable('refresh_token')
      .set({ used_at: now })
      .where('org_id', '=', orgId)
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1;
  }

  async insertRefreshToken(row: Insertable<Database['refresh_token']>) {
    await this.db.insertInto('refresh_token').values(row).execute();
  }

  async updateSession(orgId: string, sessionId: string, patch: Updateable<Database['session']>): Promise<void> {
    await this.db.updateTable('session').set(patch).where('org_id', '=', orgId).where('id', '=', sessionId).execute();
  }

  /**
   * The session with its account's or connection's standing and the organisation's snapshot.
   * Scalar subqueries, not joins: a six-way join spent more time in the planner than executing
   * (1.3 ms of planning on the embedded database), and each subquery is one primary-key probe.
   */
  private sessionLookup(token: CredentialKey) {
    const org = orgOfLookup(token, 's.org_id');
    return this.db
      .selectFrom('session as s')
      .$if(token.orgId !== null, (q) => q.where('s.org_id', '=', token.orgId!))
      .select((eb) => [
        's.org_id',
        's.id as session_id',
        's.created_at as session_created_at',
        's.expires_at as session_expires_at',
        's.revoked_at',
        's.last_used_at',
        's.client_id',
        's.scopes',
        's.account_id',
        's.connection_id',
        eb.selectFrom('account as a').select('a.active').where('a.org_id', '=', org).whereRef('a.id', '=', 's.account_id').as('account_active'),
        eb.selectFrom('account as a').select('a.email').where('a.org_id', '=', org).whereRef('a.id', '=', 's.account_id').as('account_email'),
        eb.selectFrom('account as a').select('a.is_org_admin').where('a.org_id', '=', org).whereRef('a.id', '=', 's.account_id').as('is_org_admin'),
        eb.selectFrom('connection as c').select('c.cloud_id').where('c.org_id', '=', org).whereRef('c.id', '=', 's.connection_id').as('connection_cloud_id'),
        eb
          .selectFrom('connection as c')
          .select(sql<'disabled' | 'deleting' | null>`case when c.deletion_started_at is not null then 'deleting' when c.disabled_at is not null then 'disabled' end`.as('state'))
          .where('c.org_id', '=', org)
          .whereRef('c.id', '=', 's.connection_id')
          .as('connection_state'),
        eb.selectFrom('principal_version as pv').select('pv.version').where('pv.org_id', '=', org).as('principal_version'),
        eb.selectFrom('cli_settings as cs').select('cs.allow_all_by_default').where('cs.org_id', '=', org).as('cli_allow_all'),
        eb.selectFrom('cli_settings as cs').select('cs.selected_permissions').where('cs.org_id', '=', org).as('cli_selected_permissions'),
        enabledAllowlist(org).as('ip_allowlist'),
        orgBudgets(org).as('rate_limits'),
      ]);
  }

  /**
   * The organisation's credential stamp (migration 027): on Citus the barrier of its cached
   * credentials (credentials/stamp-feed.ts). One table, its distribution column equal to a value:
   * the coordinator's fast path routes it without planning.
   */
  async credentialStamp(orgId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('principal_version')
      .select(sql<string>`version || '.' || credentials`.as('stamp'))
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row?.stamp ?? null;
  }

  /** Revokes live sessions of the organisation, optionally one account's or one session; returns how many. */
  async revoke(orgId: string, now: Date, filter: SessionFilter = {}): Promise<number> {
    let query = this.db.updateTable('session').set({ revoked_at: now }).where('org_id', '=', orgId).where('revoked_at', 'is', null);
    if (filter.accountId) query = query.where('account_id', '=', filter.accountId);
    if (filter.clientId) query = query.where('client_id', '=', filter.clientId);
    if (filter.sessionId) query = query.where('id', '=', filter.sessionId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  findSession(orgId: string, sessionId: string) {
    return this.db.selectFrom('session').selectAll().where('org_id', '=', orgId).where('id', '=', sessionId).executeTakeFirst();
  }

  /**
   * The live sessions of several accounts, newest first, at most `perAccount` of each after the
   * (created_at, id) key `after`, in one statement (session_by_account finds each account's).
   */
  listLive(orgId: string, accountIds: readonly string[], bounds: LiveBounds, perAccount: number, after?: { createdAt: Date; id: string }) {
    const ranked = this.live(orgId, accountIds, bounds)
      .selectAll()
      .select(sql<number>`row_number() over (partition by account_id order by created_at desc, id desc)`.as('position'))
      .$if(after !== undefined, (q) => q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after!.createdAt, after!.id))));
    return this.db.selectFrom(ranked.as('r')).selectAll().where('position', '<=', perAccount).orderBy('account_id').orderBy('position').execute();
  }

  /** How many live sessions of `clientId` each of these accounts has; accounts with none are left out. */
  countLive(orgId: string, accountIds: readonly string[], bounds: LiveBounds, clientId: string) {
    return this.live(orgId, accountIds, bounds)
      .where('client_id', '=', clientId)
      .select(['account_id', (eb) => eb.fn.countAll<string | number>().as('count')])
      .groupBy('account_id')
      .execute();
  }

  private live(orgId: string, accountIds: readonly string[], bounds: LiveBounds) {
    return this.db
      .selectFrom('session')
      .where('org_id', '=', orgId)
      .where('account_id', 'in', accountIds)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', bounds.now)
      .where((eb) => eb(eb.fn.coalesce('last_used_at', 'created_at'), '>', bounds.usedAfter));
  }
}
