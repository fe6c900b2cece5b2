// Fair-use rate limits (issue 21): every credential — a session, an admin API key, a Bitbucket
// token, a connection — spends points from a budget per hour. A request costs its query cost
// (graphql/plugins/use-limits.ts) in points, at least 1; it runs only when that fits in what is
// left, and then it is charged before it runs. The window opens with the first charge and lasts an
// hour; the next charge after it ends opens a new one. The count is one database row per
// credential (rate-limit.repository.ts), so every server process spends the same budget.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { inRequestScope } from '../../db/request-transaction.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, ConflictError, RateLimitedError } from '../../shared/errors.ts';
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { BITBUCKET_CLIENT_ID } from '../session/credentials/client-ids.ts';
import type { Caller, OrgSnapshot } from '../session/caller.ts';
import { type OrgBudgets, RateLimitRepository } from './rate-limit.repository.ts';
import type { RateLimitSettingTable } from './rate-limit.table.ts';

export const WINDOW_MS = 3_600_000;

/** graphql-armor's cost units per point: a point is about a hundred fields asked for, as GitHub counts. */
export const COST_UNITS_PER_POINT = 100;

/** Points per hour for each kind of credential. */
export type RateLimitBudgets = { [K in keyof OrgBudgets]: number };

/** The operator's defaults, unless TEAMGRAPH_RATE_LIMIT_* say otherwise (config.ts). */
export const DEFAULT_BUDGETS: RateLimitBudgets = { session: 5_000, adminApiKey: 5_000, bitbucketToken: 5_000, connection: 15_000 };

export type CredentialKind = 'session' | 'admin-api-key' | 'bitbucket-token' | 'connection';

const BUDGET_OF: Record<CredentialKind, keyof RateLimitBudgets> = {
  session: 'session',
  'admin-api-key': 'adminApiKey',
  'bitbucket-token': 'bitbucketToken',
  connection: 'connection',
};

/** What a request's charge left: the public RateLimit type and the RateLimit-* headers. */
export interface RateLimitStatus {
  kind: CredentialKind;
  limit: number;
  /** The request's own cost in points (0 when only looked at). */
  cost: number;
  /** Points left after this request. */
  remaining: number;
  resetAt: Date;
  /** False: the request did not fit and was not run. */
  granted: boolean;
}

export interface RateLimitSettingsState {
  effective: RateLimitBudgets;
  defaults: RateLimitBudgets;
  custom: OrgBudgets;
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface SetRateLimitsInput {
  session?: number | null;
  adminApiKey?: number | null;
  bitbucketToken?: number | null;
  connection?: number | null;
  expectedVersion?: number | null;
}

const NONE: OrgBudgets = { session: null, adminApiKey: null, bitbucketToken: null, connection: null };

/** A query's cost in graphql-armor units as points: at least 1. */
export function pointsOf(costUnits: number): number {
  return Math.max(1, Math.ceil(costUnits / COST_UNITS_PER_POINT));
}

/** Whose budget a request spends: its bearer credential, else the Bitbucket token it came with alone. */
export function credentialOf(caller: Caller): { kind: CredentialKind; id: string } {
  if (caller.kind === 'connection') return { kind: 'connection', id: caller.connectionId };
  if (caller.kind === 'adminKey') return { kind: 'admin-api-key', id: caller.keyId };
  if (caller.clientId === BITBUCKET_CLIENT_ID) return { kind: 'bitbucket-token', id: caller.bitbucket?.tokenId ?? caller.sessionId };
  return { kind: 'session', id: caller.sessionId };
}

export class RateLimitService {
  private readonly usage: RateLimitRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    readonly defaults: RateLimitBudgets = DEFAULT_BUDGETS,
  ) {
    this.usage = new RateLimitRepository(db);
  }

  /** The budget per hour of the caller's credential: the organisation's own when lower than the default. */
  limitOf(caller: Caller, org: OrgSnapshot): number {
    const budget = BUDGET_OF[credentialOf(caller).kind];
    return Math.min(this.defaults[budget], org.rateLimits?.[budget] ?? Infinity);
  }

  /** Charges `cost` points to the caller's credential if they fit in what is left of its hour. */
  async charge(caller: Caller, org: OrgSnapshot, cost: number): Promise<RateLimitStatus> {
    const { kind, id } = credentialOf(caller);
    const limit = this.limitOf(caller, org);
    const now = this.clock.now();
    const endedBefore = new Date(now.getTime() - WINDOW_MS);
    if (cost <= limit) {
      const charged = await this.usage.charge({ orgId: caller.orgId, kind, id, now, endedBefore, cost, limit }, { durable: inRequestScope() });
      if (charged) return { kind, limit, cost, remaining: Math.max(0, limit - charged.used), resetAt: new Date(charged.windowStart.getTime() + WINDOW_MS), granted: true };
    }
    return { ...(await this.peek(caller, org)), cost, granted: false };
  }

  /** The caller's budget as it stands, charging nothing. */
  async peek(caller: Caller, org: OrgSnapshot): Promise<RateLimitStatus> {
    const { kind, id } = credentialOf(caller);
    const limit = this.limitOf(caller, org);
    const now = this.clock.now();
    const usage = await this.usage.usage(caller.orgId, kind, id);
    const current = usage && usage.windowStart.getTime() + WINDOW_MS > now.getTime() ? usage : null;
    return {
      kind,
      limit,
      cost: 0,
      remaining: Math.max(0, limit - (current?.used ?? 0)),
      resetAt: new Date((current?.windowStart ?? now).getTime() + WINDOW_MS),
      granted: true,
    };
  }

  /** Deletes the rows of windows that have ended (a session's row would otherwise outlive it); returns how many. */
  purgeEnded(): Promise<number> {
    return this.usage.deleteEnded(new Date(this.clock.now().getTime() - WINDOW_MS));
  }

  async settings(orgId: string): Promise<RateLimitSettingsState> {
    return this.stateOf(await this.usage.findSetting(orgId));
  }

  /**
   * Saves the organisation's budgets: each a whole number of points from 1 to the operator's
   * default (null: the default). A stale expectedVersion is a CONFLICT. Audited as rate-limits.updated.
   */
  async update(by: ActionAuthor, orgId: string, accountId: string, input: SetRateLimitsInput): Promise<RateLimitSettingsState> {
    const custom: OrgBudgets = { ...NONE };
    for (const budget of Object.keys(NONE) as (keyof OrgBudgets)[]) {
      const value = input[budget] ?? null;
      if (value === null) continue;
      if (!Number.isInteger(value) || value < 1) throw new BadUserInputError('INVALID_RATE_LIMIT', `${budget} must be a whole number of points per hour of at least 1, got ${value}.`);
      if (value > this.defaults[budget]) {
        throw new BadUserInputError('ABOVE_DEFAULT_RATE_LIMIT', `${budget} may be at most the operator's default of ${this.defaults[budget]} points per hour, got ${value}; only the operator raises budgets.`);
      }
      custom[budget] = value;
    }
    return this.db.transaction().execute(async (trx) => {
      const repository = new RateLimitRepository(trx);
      const before = this.stateOf(await repository.findSetting(orgId));
      if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== before.version) {
        throw new ConflictError(`The rate limits changed since version ${input.expectedVersion} (now ${before.version}); reload them and save again.`);
      }
      const now = this.clock.now();
      const saved = await repository.saveSetting({ orgId, budgets: custom, previousVersion: before.version, updatedAt: now, updatedBy: accountId });
      if (!saved) throw new ConflictError('Someone else saved the rate limits at the same time; reload them and save again.');
      await this.audit.recordAction(by, orgId, 'rate-limits.updated', { before: before.custom, after: custom }, trx);
      return { ...this.stateFrom(custom), version: before.version + 1, updatedAt: now, updatedBy: accountId };
    });
  }

  private stateOf(row: Selectable<RateLimitSettingTable> | undefined): RateLimitSettingsState {
    const custom: OrgBudgets = row
      ? { session: row.session_points, adminApiKey: row.admin_api_key_points, bitbucketToken: row.bitbucket_token_points, connection: row.connection_points }
      : { ...NONE };
    return { ...this.stateFrom(custom), version: row?.version ?? 0, updatedAt: row?.updated_at ?? null, updatedBy: row?.updated_by ?? null };
  }

  private stateFrom(custom: OrgBudgets): Pick<RateLimitSettingsState, 'effective' | 'defaults' | 'custom'> {
    const effective = { ...this.defaults };
    for (const budget of Object.keys(NONE) as (keyof OrgBudgets)[]) effective[budget] = Math.min(this.defaults[budget], custom[budget] ?? Infinity);
    return { effective, defaults: { ...this.defaults }, custom };
  }
}

/** Seconds until `resetAt`, at least 1. */
export function secondsUntil(resetAt: Date, now: Date): number {
  return Math.max(1, Math.ceil((resetAt.getTime() - now.getTime()) / 1000));
}

/** The refusal of a request that did not fit (RATE_LIMITED, HTTP 429). */
export function rateLimitedError(status: RateLimitStatus, now: Date): RateLimitedError {
  const whose = status.kind.replace(/-/g, ' ');
  const points = (n: number) => `${n} point${n === 1 ? '' : 's'}`;
  const retryAfter = status.cost > status.limit ? null : secondsUntil(status.resetAt, now);
  const message =
    retryAfter === null
      ? `This request costs ${points(status.cost)}, more than the whole budget of ${points(status.limit)} per hour of this ${whose}: ask for less (smaller pages, fewer fields).`
      : `This ${whose} has spent its budget of ${points(status.limit)} per hour (${status.remaining} left, this request costs ${status.cost}); try again in ${retryAfter} s, at ${status.resetAt.toISOString()}.`;
  return new RateLimitedError(message, { limit: status.limit, cost: status.cost, remaining: status.remaining, resetAt: status.resetAt.toISOString(), retryAfter });
}
