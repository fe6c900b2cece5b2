// Issues sessions with opaque bearer tokens (twg_ + 32 random bytes, stored as SHA-256) and
// turns a presented token back into a Caller. OAuth will issue into the same store.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { newSecret, sha256 } from '../../shared/secrets.ts';
import type { Caller, OrgSnapshot } from './caller.ts';
import { type SessionFilter, SessionRepository } from './session.repository.ts';

export const TOKEN_PREFIX = 'twg_';
const SESSION_LIFETIME_MS = 90 * 24 * 3600 * 1000;
/** last_used_at is written at most this often, so a busy session does not write on every request. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface IssuedToken {
  accessToken: string;
  sessionId: string;
  expiresAt: Date;
  scopes: string[];
}

export type AuthenticationResult =
  | { ok: true; caller: Caller; org: OrgSnapshot }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'deactivated' };

export class SessionService {
  private readonly sessions: SessionRepository;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly accessTokenTtlSeconds: number,
  ) {
    this.sessions = new SessionRepository(db);
  }

  async issue(subject: { orgId: string; accountId?: string; connectionId?: string }, clientId: string, scopes: string[], ttlSeconds?: number): Promise<IssuedToken> {
    const now = this.clock.now();
    const sessionId = newId('session');
    const accessToken = newSecret(TOKEN_PREFIX);
    const expiresAt = new Date(now.getTime() + (ttlSeconds ?? this.accessTokenTtlSeconds) * 1000);
    await this.sessions.insertSession({
      org_id: subject.orgId,
      id: sessionId,
      account_id: subject.accountId ?? null,
      connection_id: subject.connectionId ?? null,
      client_id: clientId,
      scopes,
      created_at: now,
      last_used_at: null,
      expires_at: new Date(now.getTime() + SESSION_LIFETIME_MS),
      revoked_at: null,
    });
    await this.sessions.insertAccessToken({
      token_hash: sha256(accessToken),
      org_id: subject.orgId,
      session_id: sessionId,
      expires_at: expiresAt,
      created_at: now,
    });
    return { accessToken, sessionId, expiresAt, scopes };
  }

  async authenticate(token: string): Promise<AuthenticationResult> {
    if (!token.startsWith(TOKEN_PREFIX)) return { ok: false, reason: 'unknown' };
    const row = await this.sessions.findByTokenHash(sha256(token));
    if (!row) return { ok: false, reason: 'unknown' };
    const now = this.clock.now();
    if (row.revoked_at) return { ok: false, reason: 'revoked' };
    if (row.token_expires_at <= now || row.session_expires_at <= now) return { ok: false, reason: 'expired' };
    if (row.account_id && !row.account_active) return { ok: false, reason: 'deactivated' };
    if (row.connection_id && !row.connection_cloud_id) return { ok: false, reason: 'unknown' };
    const base = { orgId: row.org_id, sessionId: row.session_id, clientId: row.client_id, scopes: row.scopes };
    const caller: Caller = row.account_id
      ? { ...base, kind: 'account', accountId: row.account_id, isOrgAdmin: row.is_org_admin === true }
      : { ...base, kind: 'connection', connectionId: row.connection_id!, cloudId: row.connection_cloud_id! };
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= TOUCH_INTERVAL_MS) {
      await this.sessions.touch(row.org_id, row.session_id, now);
    }
    const org: OrgSnapshot = {
      principalVersion: row.principal_version ?? 0,
      cliSettings: row.cli_allow_all === null ? null : { allowAllByDefault: row.cli_allow_all, selectedPermissions: row.cli_selected_permissions },
    };
    return { ok: true, caller, org };
  }

  /** Ends sessions at once: the next request with any of their tokens is refused. */
  revoke(orgId: string, filter: SessionFilter = {}): Promise<number> {
    return this.sessions.revoke(orgId, this.clock.now(), filter);
  }

  findSession(orgId: string, sessionId: string) {
    return this.sessions.findSession(orgId, sessionId);
  }
}
