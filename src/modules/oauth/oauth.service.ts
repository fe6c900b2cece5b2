// The OAuth 2.1 authorization server's grants (PRODUCT §6), over the session store: the
// authorization code with PKCE, the device authorization grant (RFC 8628), refresh with
// rotation, client credentials for connections, and revocation (RFC 7009). HTTP parsing and
// pages live in src/http/oauth/ (one file per endpoint); this file decides.
import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { runAgainAfterCollisions } from '../../db/collisions.ts';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { credentialKey, newOrgSecret, newSecret, sha256, verifyPassword } from '../../shared/secrets.ts';
import type { Catalog } from '../cli-permission/catalog.ts';
import type { IpAllowlistService } from '../ip-allowlist/ip-allowlist.service.ts';
import type { CliSettingsService } from '../cli-permission/cli-settings.service.ts';
import { ConnectionRepository } from '../connection/connection.repository.ts';
import { OrgRepository } from '../org/org.repository.ts';
import type { IssuedToken, SessionService, SignedIn } from '../session/session.service.ts';
import type { PublicClient } from './clients.ts';
import { OAuthError } from './oauth-error.ts';
import { OAuthRepository } from './oauth.repository.ts';
import { verifierMatches } from './pkce.ts';
import { type GuessSource, guessSubjects, PASSWORD_WINDOW_MS, type Throttle, throttle } from './password-throttle.ts';
import { newUserCode, normaliseUserCode } from './user-code.ts';

export const AUTHORIZATION_CODE_SECONDS = 60;
export const DEVICE_CODE_SECONDS = 600;
export const DEVICE_POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: each slow_down adds this to the interval, for good. */
const SLOW_DOWN_STEP_SECONDS = 5;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
/** Wrong user codes from one address allowed per window (wrong passwords: password-throttle.ts). */
export const USER_CODE_ATTEMPTS = 5;

export interface AuthorizationRequest {
  client: PublicClient;
  redirectUri: string;
  codeChallenge: string;
  /** null: the client asked for no scope, so everything the organisation allows. */
  scopes: string[] | null;
}

export interface SignInAccount {
  orgId: string;
  accountId: string;
  isOrgAdmin: boolean;
}

export type PasswordCheck =
  | { ok: true; account: SignInAccount }
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'throttled'; limit: NonNullable<Throttle>['limit']; retryAfterSeconds: number };

/** A confidential client: a connection, authenticated by its secret. */
export interface ConnectionClient {
  org_id: string;
  id: string;
  client_id: string;
  disabled_at: Date | null;
}

export interface DeviceStart {
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

export class OAuthService {
  private readonly repository: OAuthRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly catalog: Catalog,
    private readonly sessions: SessionService,
    private readonly cliSettings: CliSettingsService,
    private readonly ipAllowlist: IpAllowlistService,
  ) {
    this.repository = new OAuthRepository(db);
  }

  /** PRODUCT §7: sign-in and tokens, too, only from the organisation's allowed addresses. */
  private async requireAllowedAddress(orgId: string, address: string | undefined): Promise<void> {
    if (!(await this.ipAllowlist.addressAllowed(orgId, address))) {
      throw new OAuthError('access_denied', `IP_NOT_ALLOWED: your organisation does not allow sign-in from ${address ?? 'an unknown address'}.`, 403);
    }
  }

  /** The `scope` parameter as catalogue keys; null when absent or empty. */
  parseScope(raw: string | null): string[] | null {
    const scopes = [...new Set((raw ?? '').split(' ').filter((s) => s.length > 0))];
    if (scopes.length === 0) return null;
    const unknown = scopes.filter((s) => !this.catalog.permission(s));
    if (unknown.length > 0) throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.slice(0, 5).join(' ')}. Scopes are permission keys such as read:work-item:jira.`);
    return scopes;
  }

  /** Checks an e-mail and password, as far as password-throttle.ts lets this guess be checked now. */
  async checkPassword(email: string, password: string, source: GuessSource): Promise<PasswordCheck> {
    const subjects = guessSubjects(email, source.address);
    const now = this.clock.now();
    const failures = await this.repository.failuresOf(Object.values(subjects), new Date(now.getTime() - PASSWORD_WINDOW_MS));
    const refused = throttle(
      {
        pair: failures.get(subjects.pair)?.count ?? 0,
        address: failures.get(subjects.address)?.count ?? 0,
        account: failures.get(subjects.account)?.count ?? 0,
        lastAccountFailure: failures.get(subjects.account)?.last ?? null,
      },
      source,
      now,
    );
    if (refused) return { ok: false, reason: 'throttled', ...refused };
    const account = email.trim() ? await new OrgRepository(this.db).findAccountByEmail(email.trim()) : undefined;
    const good = account?.password_hash && account.active && (await verifyPassword(password, account.password_hash));
    if (!account || !good) {
      await this.repository.recordFailure(Object.values(subjects), now);
      return { ok: false, reason: 'wrong' };
    }
    // Not the address's count: one account of one's own must not wipe the record of guessing at others'.
    await this.repository.clearFailures([subjects.pair, subjects.account]);
    return { ok: true, account: { orgId: account.org_id, accountId: account.id, isOrgAdmin: account.is_org_admin } };
  }

  /** Whether this address may try another user code now. */
  async mayTryUserCode(address: string): Promise<boolean> {
    const since = new Date(this.clock.now().getTime() - FAILURE_WINDOW_MS);
    return (await this.repository.countFailures(`user-code:${address}`, since)) < USER_CODE_ATTEMPTS;
  }

  /**
   * Granted = requested ∩ what the organisation allows the client now (all it allows when none
   * requested). Refused with access_denied, naming why, when nothing would be granted.
   */
  async grant(orgId: string, client: PublicClient, requested: string[] | null): Promise<string[]> {
    const allowed = client.governedByCliSettings ? (await this.cliSettings.get(orgId)).effectivePermissions : this.catalog.permissions.map((p) => p.key);
    const allowedSet = new Set(allowed);
    const granted = requested === null ? allowed : requested.filter((s) => allowedSet.has(s));
    if (granted.length > 0) return granted;
    throw new OAuthError(
      'access_denied',
      allowed.length === 0
        ? 'Your organization has blocked the command-line client: it allows no permissions. Ask an organization admin.'
        : 'Your organization does not allow the command-line client any of the requested permissions. Ask an organization admin, or request others.',
    );
  }

  /** After the person signed in on the login page: a code for the client's redirect. */
  async authorize(request: AuthorizationRequest, account: SignInAccount, address: string | undefined): Promise<string> {
    await this.requireAllowedAddress(account.orgId, address);
    // PRODUCT §5: the admin page is for org admins only; its sessions are not governed by the CLI settings.
    if (request.client.adminsOnly && !account.isOrgAdmin) throw new OAuthError('access_denied', 'The admin page is for organisation admins only, and this account is not one.', 403);
    const scopes = await this.grant(account.orgId, request.client, request.scopes);
    const code = newOrgSecret('twgc_', account.orgId);
    const now = this.clock.now();
    await this.repository.deleteExpired(account.orgId, new Date(now.getTime() - 24 * 3600 * 1000));
    await this.repository.insertAuthorizationCode({
      code_hash: sha256(code),
      org_id: account.orgId,
      account_id: account.accountId,
      client_id: request.client.id,
      redirect_uri: request.redirectUri,
      code_challenge: request.codeChallenge,
      scopes,
      created_at: now,
      expires_at: new Date(now.getTime() + AUTHORIZATION_CODE_SECONDS * 1000),
      used_at: null,
      session_id: null,
    });
    return code;
  }

  /**
   * The code for tokens. Any attempt uses the code up; presenting a used code again also ends
   * the session it was exchanged for (RFC 6749 §4.1.2: it may have been stolen).
   */
  async exchangeCode(input: { code: string; redirectUri: string; codeVerifier: string; client: PublicClient; address: string | undefined }): Promise<SignedIn> {
    // Before the transaction: on the embedded database a read through another handle would wait for it.
    const pending = await this.repository.findAuthorizationCode(credentialKey(input.code));
    if (!pending) throw new OAuthError('invalid_grant', 'Unknown authorization code.');
    const codeHash = pending.code_hash;
    if (!pending.used_at) await this.requireAllowedAddress(pending.org_id, input.address);
    // The whole exchange again after a collision: the refused run's claim of the code was not kept.
    const exchange = () => this.db.transaction().execute(async (trx): Promise<SignedIn | OAuthError> => {
      const codes = new OAuthRepository(trx);
      const now = this.clock.now();
      const code = await codes.claimAuthorizationCode(pending.org_id, codeHash, now);
      if (!code) {
        const used = await codes.findAuthorizationCode({ orgId: pending.org_id, hash: codeHash });
        if (used?.session_id) await this.sessions.revoke(used.org_id, { sessionId: used.session_id }, trx);
        return new OAuthError('invalid_grant', 'The authorization code was already used; sign in again.');
      }
      if (code.expires_at <= now) return new OAuthError('invalid_grant', 'The authorization code expired; sign in again.');
      if (code.client_id !== input.client.id) return new OAuthError('invalid_grant', 'The authorization code was issued to another client.');
      if (code.redirect_uri !== input.redirectUri) return new OAuthError('invalid_grant', 'redirect_uri differs from the one of the authorization request.');
      if (!verifierMatches(input.codeVerifier, code.code_challenge)) return new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge.');
      const account = await new OrgRepository(trx).findAccount(code.org_id, code.account_id);
      if (!account?.active) return new OAuthError('invalid_grant', 'The account is deactivated.');
      const tokens = await this.sessions.signIn({ orgId: code.org_id, accountId: code.account_id }, code.client_id, code.scopes, trx, input.address);
      await codes.recordCodeSession(code.org_id, codeHash, tokens.sessionId);
      return tokens;
    });
    const outcome = await runAgainAfterCollisions(exchange);
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  async refresh(refreshToken: string, client: PublicClient, address: string | undefined): Promise<SignedIn> {
    const result = await this.sessions.refresh(refreshToken, client.id, async ({ orgId, scopes, isOrgAdmin }) => {
      await this.requireAllowedAddress(orgId, address);
      // An admin no longer: the admin page's session, which the CLI settings do not govern, stops here.
      if (client.adminsOnly && !isOrgAdmin) throw new OAuthError('invalid_grant', 'The admin page is for organisation admins only, and this account is no longer one.');
      if (!client.governedByCliSettings) return scopes;
      const allowed = new Set((await this.cliSettings.get(orgId)).effectivePermissions);
      return scopes.filter((s) => allowed.has(s));
    }, address);
    if (result.ok) return result.tokens;
    const why: Record<typeof result.reason, string> = {
      unknown: 'Unknown refresh token.',
      reused: 'The refresh token was already used, so the session has been ended; sign in again.',
      expired: 'The session expired; sign in again.',
      revoked: 'The session was ended; sign in again.',
      deactivated: 'The account is deactivated.',
      'nothing-allowed': 'Your organization no longer allows any permission this session had; sign in again.',
    };
    throw new OAuthError('invalid_grant', why[result.reason]);
  }

  async startDevice(client: PublicClient, scopes: string[] | null): Promise<DeviceStart> {
    const now = this.clock.now();
    await this.repository.deleteExpired(null, new Date(now.getTime() - 24 * 3600 * 1000));
    const deviceCode = newSecret('twgd_');
    for (;;) {
      const userCode = newUserCode();
      const inserted = await this.repository.insertDeviceAuthorization({
        device_code_hash: sha256(deviceCode),
        user_code: userCode,
        client_id: client.id,
        requested_scopes: scopes,
        created_at: now,
        expires_at: new Date(now.getTime() + DEVICE_CODE_SECONDS * 1000),
        interval_seconds: DEVICE_POLL_INTERVAL_SECONDS,
        last_polled_at: null,
        status: 'PENDING',
        org_id: null,
        account_id: null,
        granted_scopes: null,
        denial_reason: null,
        decided_at: null,
      });
      // A collision with a pending code (1 in 25 billion per pending code) draws again.
      if (inserted) return { deviceCode, userCode, expiresIn: DEVICE_CODE_SECONDS, interval: DEVICE_POLL_INTERVAL_SECONDS };
    }
  }

  /** One poll of the device's client (RFC 8628 §3.4–3.5). */
  async pollDevice(deviceCode: string, client: PublicClient, address: string | undefined): Promise<SignedIn> {
    const deviceCodeHash = sha256(deviceCode);
    const device = await this.repository.findDeviceByCodeHash(deviceCodeHash);
    if (!device || device.client_id !== client.id) throw new OAuthError('invalid_grant', 'Unknown device code.');
    if (device.status === 'ISSUED') throw new OAuthError('invalid_grant', 'The device code was already used.');
    const now = this.clock.now();
    if (device.expires_at <= now) throw new OAuthError('expired_token', 'The device code expired; start again with `twg login --device`.');
    if (device.status === 'DENIED') throw new OAuthError('access_denied', device.denial_reason ?? 'The sign-in was denied.');
    if (device.status === 'APPROVED') {
      await this.requireAllowedAddress(device.org_id!, address);
      const outcome = await runAgainAfterCollisions(() =>
        this.db.transaction().execute(async (trx) => {
          if (!(await new OAuthRepository(trx).moveDevice(deviceCodeHash, 'APPROVED', 'ISSUED'))) return null;
          return this.sessions.signIn({ orgId: device.org_id!, accountId: device.account_id! }, device.client_id, device.granted_scopes!, trx, address);
        }),
      );
      if (!outcome) throw new OAuthError('invalid_grant', 'The device code was already used.');
      return outcome;
    }
    const tooSoon = device.last_polled_at !== null && now.getTime() - device.last_polled_at.getTime() < device.interval_seconds * 1000;
    const interval = device.interval_seconds + (tooSoon ? SLOW_DOWN_STEP_SECONDS : 0);
    await this.repository.recordPoll(deviceCodeHash, now, interval);
    if (tooSoon) throw new OAuthError('slow_down', `Polling too fast: wait ${interval} seconds between polls.`);
    throw new OAuthError('authorization_pending', 'Waiting for the person to approve the sign-in.');
  }

  /**
   * The person's decision on the device page, after signing in. Returns the outcome, or
   * 'unknown-code' (counted against the address) when no pending authorization has that code.
   */
  async decideDevice(typedUserCode: string, address: string | undefined, decide: () => Promise<SignInAccount | null>, approve: boolean): Promise<'approved' | 'denied' | 'unknown-code' | 'wrong-credentials' | OAuthError> {
    const now = this.clock.now();
    const userCode = normaliseUserCode(typedUserCode);
    const device = userCode ? await this.repository.findPendingDeviceByUserCode(userCode, now) : undefined;
    if (!device) {
      await this.repository.recordFailure(`user-code:${address ?? 'unknown'}`, now);
      return 'unknown-code';
    }
    await this.repository.clearFailures([`user-code:${address ?? 'unknown'}`]);
    const account = await decide();
    if (!account) return 'wrong-credentials';
    try {
      await this.requireAllowedAddress(account.orgId, address);
    } catch (error) {
      if (error instanceof OAuthError) return error;
      throw error;
    }
    const decided = { org_id: account.orgId, account_id: account.accountId, decided_at: now };
    if (!approve) {
      await this.repository.moveDevice(device.device_code_hash, 'PENDING', 'DENIED', { ...decided, denial_reason: 'The person denied the sign-in.' });
      return 'denied';
    }
    const client = { id: device.client_id, governedByCliSettings: true, acceptsRedirect: () => false };
    try {
      const granted = await this.grant(account.orgId, client, device.requested_scopes);
      await this.repository.moveDevice(device.device_code_hash, 'PENDING', 'APPROVED', { ...decided, granted_scopes: granted });
      return 'approved';
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      await this.repository.moveDevice(device.device_code_hash, 'PENDING', 'DENIED', { ...decided, denial_reason: error.description });
      return error;
    }
  }

  /** A connection's client id and secret, or invalid_client. */
  async authenticateConnection(clientId: string, secret: string): Promise<ConnectionClient> {
    const connection = await new ConnectionRepository(this.db).findByClientId(clientId);
    const presented = Buffer.from(sha256(secret));
    const stored = Buffer.from(connection?.client_secret_hash ?? '');
    // A connection being deleted is as gone (issue 5).
    if (!connection || presented.length !== stored.length || !timingSafeEqual(presented, stored) || connection.deletion_started_at) {
      throw new OAuthError('invalid_client', 'Unknown client or wrong client secret.');
    }
    return connection;
  }

  /** client_credentials, for a connection authenticateConnection vouched for. */
  clientCredentials(connection: ConnectionClient): Promise<IssuedToken> {
    if (connection.disabled_at) throw new OAuthError('unauthorized_client', 'CONNECTION_DISABLED: an organisation admin disabled this connection; no token is issued until it is enabled again.');
    return this.sessions.issue({ orgId: connection.org_id, connectionId: connection.id }, connection.client_id, []);
  }

  /** RFC 7009: ends the token's session if this client holds it; unknown tokens are not an error. */
  async revoke(token: string, clientId: string): Promise<void> {
    await this.sessions.revokeByToken(token, clientId);
  }
}
