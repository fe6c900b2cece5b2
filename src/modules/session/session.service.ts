// Issues sessions with opaque bearer tokens (twg_ + the organisation id + 32 random bytes, stored
// as SHA-256; shared/secrets.ts) and
// turns a presented token back into a Caller. The OAuth server signs people in through it:
// their sessions also carry a refresh token (twgr_…), rotated on every use.
import type { Speculation } from './credentials/speculation.ts';
import type { Kysely } from 'kysely';
import { runAgainAfterCollisions } from '../../db/collisions.ts';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { credentialKey, newOrgSecret, sha256 } from '../../shared/secrets.ts';
import type { AuditActor } from '../audit/audit-recorder.ts';
import type { Caller, OrgSnapshot } from './caller.ts';
import { type LiveBounds, type SessionFilter, SessionRepository } from './session.repository.ts';
import { OrgRepository } from '../org/org.repository.ts';
import { CredentialCache } from './credentials/credential-cache.ts';

export const TOKEN_PREFIX = 'twg_';
export const REFRESH_TOKEN_PREFIX = 'twgr_';
/** How long things live (PRODUCT §6); all configurable. */
export interface SessionLifetimes {
  accessTokenSeconds: number;
  /** A session not used for this long has ended. */
  idleSeconds: number;
  /** A session ends this long after sign-in, however busy. */
  absoluteSeconds: number;
}

export const DEFAULT_LIFETIMES: SessionLifetimes = { accessTokenSeconds: 600, idleSeconds: 30 * 24 * 3600, absoluteSeconds: 90 * 24 * 3600 };

export interface IssuedToken {
  accessToken: string;
  sessionId: string;
  expiresAt: Date;
  scopes: string[];
}

export interface SignedIn extends IssuedToken {
  refreshToken: string;
}

export type SessionEndReason = 'unknown' | 'expired' | 'revoked' | 'deactivated';

/**
 * `actor` names the account behind the token when it is known, even for a token that no longer
 * works, so the audit log can record the refusal (PRODUCT §9).
 */
export type AuthenticationResult =
  | { ok: true; caller: Caller; org: OrgSnapshot; actor: AuditActor | null }
  | { ok: false; reason: SessionEndReason | 'connection-disabled'; actor?: AuditActor | null };

export type RefreshResult =
  | { ok: true; tokens: SignedIn }
  | { ok: false; reason: SessionEndReason | 'reused' | 'nothing-allowed' };

type Subject = { orgId: string; accountId?: string; connectionId?: string };

export class SessionService {
  private readonly sessions: SessionRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    readonly lifetimes: SessionLifetimes = DEFAULT_LIFETIMES,
    private readonly credentials = new CredentialCache(),
  ) {
    this.sessions = new SessionRepository(db);
  }

  /** A session with an access token only: connections, and tokens the operator issues. */
  async issue(subject: Subject, clientId: string, scopes: string[], ttlSeconds?: number): Promise<IssuedToken> {
    const now = this.clock.now();
    const sessionId = await this.startSession(this.sessions, subject, clientId, scopes, now);
    return this.addAccessToken(this.sessions, subject.orgId, sessionId, scopes, now, ttlSeconds);
  }

  /**
   * A person's session from an OAuth grant: an access token and a refresh token; the account's
   * last sign-in and the session's address are recorded with it. `db` may be a transaction.
   */
  async signIn(subject: Subject, clientId: string, scopes: string[], db: Kysely<Database> = this.db, address?: string): Promise<SignedIn> {
    const repository = new SessionRepository(db);
    const now = this.clock.now();
    const sessionId = await this.startSession(repository, subject, clientId, scopes, now, address);
    if (subject.accountId) await new OrgRepository(db).recordSignIn(subject.orgId, subject.accountId, now);
    return this.addTokenPair(repository, subject.orgId, sessionId, scopes, now);
  }

  /**
   * Rotates a refresh token: the presented one becomes used, a new pair is issued with the
   * session's scopes narrowed by `narrow` (the organisation's current allowed set). A used
   * token presented again revokes the whole session: of two concurrent refreshes with the same
   * token, one wins and the other ends the session.
   */
  async refresh(
    refreshToken: string,
    clientId: string,
    narrow: (session: { orgId: string; scopes: string[]; isOrgAdmin: boolean }) => Promise<string[]>,
    address?: string,
  ): Promise<RefreshResult> {
    if (!refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) return { ok: false, reason: 'unknown' };
    const key = credentialKey(refreshToken);
    const found = await this.sessions.findByRefreshToken(key);
    if (!found || found.client_id !== clientId) return { ok: false, reason: 'unknown' };
    // Outside the transaction: on the embedded database a read through another handle would wait for it.
    const scopes = await narrow({ orgId: found.org_id, scopes: found.scopes, isOrgAdmin: found.is_org_admin === true });
    // Run again after a collision: the refused run's claim of the token was not kept.
    const rotate = () => this.db.transaction().execute(async (trx): Promise<RefreshResult> => {
      const repository = new SessionRepository(trx);
      const now = this.clock.now();
      if (!(await repository.claimRefreshToken(found.org_id, key.hash, now))) {
        await repository.revoke(found.org_id, now, { sessionId: found.session_id });
        return { ok: false, reason: 'reused' };
      }
      // Read again after the claim, so a revocation or deactivation that committed meanwhile counts.
      const row = (await repository.findByRefreshToken({ orgId: found.org_id, hash: key.hash }))!;
      const ended = this.endReason(row, now);
      if (ended) return { ok: false, reason: ended };
      if (scopes.length === 0) return { ok: false, reason: 'nothing-allowed' };
      await repository.updateSession(row.org_id, row.session_id, { scopes, last_used_at: now, ...(address ? { last_ip: address } : {}) });
      return { ok: true, tokens: await this.addTokenPair(repository, row.org_id, row.session_id, scopes, now) };
    });
    return runAgainAfterCollisions(rotate);
  }

  /**
   * `speculation`: a cached row may be used before its barrier (see credential-cache.ts).
   * `address`: the client's, recorded with the last use.
   */
  async authenticate(token: string, speculation?: Speculation, address?: string): Promise<AuthenticationResult> {
    if (!token.startsWith(TOKEN_PREFIX)) return { ok: false, reason: 'unknown' };
    const key = credentialKey(token);
    const cacheKey = `session:${key.hash}`;
    const row = await this.credentials.lookup(cacheKey, () => this.sessions.findByToken(key), speculation);
    if (!row) return { ok: false, reason: 'unknown' };
    const now = this.clock.now();
    const actor: AuditActor | null = row.account_id ? { orgId: row.org_id, accountId: row.account_id, email: row.account_email, sessionId: row.session_id, clientId: row.client_id } : null;
    if (row.token_expires_at <= now) return { ok: false, reason: 'expired', actor };
    const ended = this.endReason(row, now);
    if (ended) return { ok: false, reason: ended, actor };
    // A connection being deleted is as gone; a disabled one is told so (issue 5).
    if (row.connection_id && (!row.connection_cloud_id || row.connection_state === 'deleting')) return { ok: false, reason: 'unknown' };
    if (row.connection_state === 'disabled') return { ok: false, reason: 'connection-disabled' };
    const base = { orgId: row.org_id, sessionId: row.session_id, clientId: row.client_id, scopes: row.scopes };
    const caller: Caller = row.account_id
      ? { ...base, kind: 'account', accountId: row.account_id, isOrgAdmin: row.is_org_admin === true }
      : { ...base, kind: 'connection', connectionId: row.connection_id!, cloudId: row.connection_cloud_id! };
    // Also on a speculative row: a last use written to a session that turns out to have ended
    // keeps nothing alive (ended sessions stay ended).
    await this.credentials.recordUse(cacheKey, row, now, () => this.sessions.updateSession(row.org_id, row.session_id, { last_used_at: now, ...(address ? { last_ip: address } : {}) }));
    const org: OrgSnapshot = {
      principalVersion: row.principal_version ?? 0,
      cliSettings: row.cli_allow_all === null ? null : { allowAllByDefault: row.cli_allow_all, selectedPermissions: row.cli_selected_permissions },
      ipAllowlist: row.ip_allowlist,
      rateLimits: row.rate_limits,
    };
    return { ok: true, caller, org, actor };
  }

  /** Ends sessions at once: the next request with any of their tokens is refused. `db` may be a transaction. */
  revoke(orgId: string, filter: SessionFilter = {}, db: Kysely<Database> = this.db): Promise<number> {
    return new SessionRepository(db).revoke(orgId, this.clock.now(), filter);
  }

  /** Ends the session an access or refresh token belongs to, if `clientId` issued it (RFC 7009); false when none. */
  async revokeByToken(token: string, clientId: string): Promise<boolean> {
    const key = credentialKey(token);
    const session = token.startsWith(REFRESH_TOKEN_PREFIX) ? await this.sessions.findByRefreshToken(key) : await this.sessions.findByToken(key);
    if (!session || session.client_id !== clientId) return false;
    await runAgainAfterCollisions(() => this.revoke(session.org_id, { sessionId: session.session_id }));
    return true;
  }

  findSession(orgId: string, sessionId: string) {
    return this.sessions.findSession(orgId, sessionId);
  }

  /**
   * PRODUCT §6: a session ends at its absolute expiry or after idling; endReason and the listings
   * of live sessions (SessionRepository.listLive, countLive) both apply these bounds.
   */
  liveBounds(now: Date = this.clock.now()): LiveBounds {
    return { now, usedAfter: new Date(now.getTime() - this.lifetimes.idleSeconds * 1000) };
  }

  /** Why a session can no longer be used, or null while it can. */
  private endReason(
    row: { revoked_at: Date | null; session_expires_at: Date; session_created_at: Date; last_used_at: Date | null; account_id: string | null; account_active: boolean | null },
    now: Date,
  ): SessionEndReason | null {
    if (row.revoked_at) return 'revoked';
    const bounds = this.liveBounds(now);
    if (row.session_expires_at <= bounds.now || (row.last_used_at ?? row.session_created_at) <= bounds.usedAfter) return 'expired';
    if (row.account_id && !row.account_active) return 'deactivated';
    return null;
  }

  private async startSession(repository: SessionRepository, subject: Subject, clientId: string, scopes: string[], now: Date, address?: string): Promise<string> {
    const sessionId = newId('session');
    await repository.insertSession({
      org_id: subject.orgId,
      id: sessionId,
      account_id: subject.accountId ?? null,
      connection_id: subject.connectionId ?? null,
      client_id: clientId,
      scopes,
      created_at: now,
      last_used_at: null,
      expires_at: new Date(now.getTime() + this.lifetimes.absoluteSeconds * 1000),
      revoked_at: null,
      last_ip: address ?? null,
    });
    return sessionId;
  }

  private async addAccessToken(repository: SessionRepository, orgId: string, sessionId: string, scopes: string[], now: Date, ttlSeconds?: number): Promise<IssuedToken> {
    const accessToken = newOrgSecret(TOKEN_PREFIX, orgId);
    const expiresAt = new Date(now.getTime() + (ttlSeconds ?? this.lifetimes.accessTokenSeconds) * 1000);
    await repository.insertAccessToken({ token_hash: sha256(accessToken), org_id: orgId, session_id: sessionId, expires_at: expiresAt, created_at: now });
    return { accessToken, sessionId, expiresAt, scopes };
  }

  private async addTokenPair(repository: SessionRepository, orgId: string, sessionId: string, scopes: string[], now: Date): Promise<SignedIn> {
    const issued = await this.addAccessToken(repository, orgId, sessionId, scopes, now);
    const refreshToken = newOrgSecret(REFRESH_TOKEN_PREFIX, orgId);
    await repository.insertRefreshToken({ token_hash: sha256(refreshToken), org_id: orgId, session_id: sessionId, created_at: now, used_at: null });
    return { ...issued, refreshToken };
  }
}
