// Bitbucket tokens (PRODUCT §8): created by an account (twgb_ + 32 random bytes, shown once,
// stored as SHA-256), listed by their owner, revoked by the owner or an admin. A request carries
// one in X-Bitbucket-Token; it vouches for bitbucket:* objects in place of OAuth permissions and
// survives CLI settings and session revocation, while the allowlist, ACLs and audit log apply.
import type { Speculation } from '../session/credentials/speculation.ts';
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { credentialKey, newOrgSecret, sha256 } from '../../shared/secrets.ts';
import type { AuditActor } from '../audit/audit-recorder.ts';
import type { OrgSnapshot } from '../session/caller.ts';
import type { SessionEndReason } from '../session/session.service.ts';
import { BitbucketTokenRepository } from './bitbucket-token.repository.ts';
import type { BitbucketTokenTable } from './bitbucket-token.table.ts';
import { BITBUCKET_CLIENT_ID } from '../session/credentials/client-ids.ts';
import { CredentialCache } from '../session/credentials/credential-cache.ts';

export const BITBUCKET_TOKEN_PREFIX = 'twgb_';
export const BITBUCKET_SCOPES = ['repository:read', 'repository:write', 'pullrequest:read', 'pullrequest:write'] as const;

export type BitbucketToken = Selectable<BitbucketTokenTable>;

export type BitbucketAuthentication =
  | { ok: true; tokenId: string; orgId: string; accountId: string; isOrgAdmin: boolean; scopes: string[]; org: OrgSnapshot; actor: AuditActor }
  | { ok: false; reason: SessionEndReason; actor?: AuditActor };

export class BitbucketTokenService {
  private readonly tokens: BitbucketTokenRepository;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly credentials = new CredentialCache(),
  ) {
    this.tokens = new BitbucketTokenRepository(db);
  }

  async create(by: ActionAuthor, orgId: string, accountId: string, input: { label: string; scopes: string[]; expiresAt?: Date | null }): Promise<{ token: BitbucketToken; secret: string }> {
    const label = input.label.trim();
    if (label.length === 0 || label.length > 100) throw new BadUserInputError('INVALID_LABEL', 'A label must be 1 to 100 characters, e.g. "laptop".');
    const scopes = [...new Set(input.scopes)];
    const unknown = scopes.filter((s) => !(BITBUCKET_SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0) {
      throw new BadUserInputError('INVALID_SCOPE', `Bitbucket token scopes are ${BITBUCKET_SCOPES.join(', ')}${unknown.length ? `; not ${unknown.slice(0, 5).join(', ')}` : ''}.`);
    }
    const now = this.clock.now();
    if (input.expiresAt && input.expiresAt <= now) throw new BadUserInputError('INVALID_EXPIRY', 'expiresAt must be in the future.');
    const secret = newOrgSecret(BITBUCKET_TOKEN_PREFIX, orgId);
    const id = newId('bitbucketToken');
    await this.tokens.insert({ org_id: orgId, id, account_id: accountId, label, scopes, token_hash: sha256(secret), created_at: now, expires_at: input.expiresAt ?? null, last_used_at: null, revoked_at: null });
    const token = (await this.tokens.find(orgId, id))!;
    await this.audit.recordAction(by, orgId, 'bitbucket-token.created', { tokenId: token.id, label: token.label, scopes: token.scopes, expiresAt: token.expires_at });
    return { token, secret };
  }

  listOwned(orgId: string, accountId: string): Promise<BitbucketToken[]> {
    return this.tokens.listOwned(orgId, accountId);
  }

  /** Revokes a token of the organisation for its owner or for an admin; NOT_FOUND for anyone else. */
  async revoke(by: ActionAuthor, orgId: string, id: string, requester: { accountId: string | null; admin: boolean }): Promise<BitbucketToken> {
    const token = await this.tokens.find(orgId, id);
    if (!token || (!requester.admin && token.account_id !== requester.accountId)) throw new NotFoundError(`No Bitbucket token ${id}.`);
    await this.tokens.revoke(orgId, id, this.clock.now());
    await this.audit.recordAction(by, orgId, 'bitbucket-token.revoked', { tokenId: token.id, label: token.label, owner: token.account_id });
    return (await this.tokens.find(orgId, id))!;
  }

  async authenticate(secret: string, speculation?: Speculation): Promise<BitbucketAuthentication> {
    if (!secret.startsWith(BITBUCKET_TOKEN_PREFIX)) return { ok: false, reason: 'unknown' };
    const presented = credentialKey(secret);
    const cacheKey = `bitbucket-token:${presented.hash}`;
    const row = await this.credentials.lookup(cacheKey, () => this.tokens.findByKey(presented), speculation);
    if (!row) return { ok: false, reason: 'unknown' };
    const now = this.clock.now();
    const actor: AuditActor = { orgId: row.org_id, accountId: row.account_id, email: row.account_email, sessionId: null, clientId: BITBUCKET_CLIENT_ID, bitbucketTokenId: row.id };
    if (row.revoked_at) return { ok: false, reason: 'revoked', actor };
    if (row.expires_at && row.expires_at <= now) return { ok: false, reason: 'expired', actor };
    if (!row.account_active) return { ok: false, reason: 'deactivated', actor };
    await this.credentials.recordUse(cacheKey, row, now, () => this.tokens.touch(row.org_id, row.id, now));
    return {
      ok: true,
      tokenId: row.id,
      orgId: row.org_id,
      accountId: row.account_id,
      isOrgAdmin: row.is_org_admin,
      scopes: row.scopes,
      org: { principalVersion: row.principal_version ?? 0, cliSettings: null, ipAllowlist: row.ip_allowlist, rateLimits: row.rate_limits },
      actor,
    };
  }
}
