// Admin API keys (PRODUCT §5): created by an org admin signed in to the admin page (or for one by
// the operator command line, to bootstrap `twg admin`), the secret returned once (twgk_ + 32 random bytes, stored as SHA-256), optional expiry, revocable. A key
// authenticates as an AdminKeyCaller: admin fields only, outside the CLI permission settings.
import type { Speculation } from '../session/credentials/speculation.ts';
import { ADMIN_KEY_CLIENT_ID } from '../session/credentials/client-ids.ts';
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { credentialKey, newOrgSecret, sha256 } from '../../shared/secrets.ts';
import type { AdminKeyCaller } from '../session/caller.ts';
import type { AuthenticationResult } from '../session/session.service.ts';
import { CredentialCache } from '../session/credentials/credential-cache.ts';
import { AdminKeyRepository } from './admin-key.repository.ts';
import type { AdminApiKeyTable } from './admin-key.table.ts';

export const ADMIN_KEY_PREFIX = 'twgk_';

export type AdminApiKey = Selectable<AdminApiKeyTable>;

export class AdminKeyService {
  private readonly keys: AdminKeyRepository;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly credentials = new CredentialCache(),
  ) {
    this.keys = new AdminKeyRepository(db);
  }

  async create(by: ActionAuthor, orgId: string, createdBy: string, input: { name: string; expiresAt?: Date | null }): Promise<{ apiKey: AdminApiKey; secret: string }> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw new BadUserInputError('INVALID_NAME', 'A key name must be 1 to 100 characters, e.g. "nightly audit export".');
    const now = this.clock.now();
    if (input.expiresAt && input.expiresAt <= now) throw new BadUserInputError('INVALID_EXPIRY', 'expiresAt must be in the future.');
    const secret = newOrgSecret(ADMIN_KEY_PREFIX, orgId);
    const id = newId('adminApiKey');
    await this.keys.insert({ org_id: orgId, id, name, key_hash: sha256(secret), created_by: createdBy, created_at: now, expires_at: input.expiresAt ?? null, revoked_at: null, last_used_at: null });
    const apiKey = (await this.keys.find(orgId, id))!;
    await this.audit.recordAction(by, orgId, 'admin-api-key.created', { keyId: apiKey.id, name: apiKey.name, expiresAt: apiKey.expires_at, createdBy });
    return { apiKey, secret };
  }

  async revoke(by: ActionAuthor, orgId: string, id: string): Promise<AdminApiKey> {
    const key = await this.keys.find(orgId, id);
    if (!key) throw new NotFoundError(`No admin API key ${id}.`);
    await this.keys.revoke(orgId, id, this.clock.now());
    await this.audit.recordAction(by, orgId, 'admin-api-key.revoked', { keyId: key.id, name: key.name });
    return (await this.keys.find(orgId, id))!;
  }

  list(orgId: string): Promise<AdminApiKey[]> {
    return this.keys.list(orgId);
  }

  find(orgId: string, id: string) {
    return this.keys.find(orgId, id);
  }

  async authenticate(secret: string, speculation?: Speculation): Promise<AuthenticationResult> {
    const presented = credentialKey(secret);
    const cacheKey = `admin-key:${presented.hash}`;
    const key = await this.credentials.lookup(cacheKey, () => this.keys.findByKey(presented), speculation);
    if (!key) return { ok: false, reason: 'unknown' };
    const now = this.clock.now();
    // PRODUCT §9: the actor is always an account; for a key, the admin who created it.
    const actor = { orgId: key.org_id, accountId: key.created_by, email: key.creator_email, sessionId: null, clientId: ADMIN_KEY_CLIENT_ID, adminApiKeyId: key.id };
    if (key.revoked_at) return { ok: false, reason: 'revoked', actor };
    if (key.expires_at && key.expires_at <= now) return { ok: false, reason: 'expired', actor };
    // PRODUCT §1: a deactivated account can do nothing, so neither can the keys it created.
    if (!key.creator_active) return { ok: false, reason: 'deactivated', actor };
    if (!key.creator_admin) return { ok: false, reason: 'revoked', actor };
    await this.credentials.recordUse(cacheKey, key, now, () => this.keys.touch(key.org_id, key.id, now));
    const caller: AdminKeyCaller = { kind: 'adminKey', orgId: key.org_id, sessionId: key.id, clientId: ADMIN_KEY_CLIENT_ID, scopes: [], keyId: key.id, createdBy: key.created_by };
    // A key has no principals and is not governed by the CLI settings; the allowlist applies (PRODUCT §7).
    return { ok: true, caller, org: { principalVersion: 0, cliSettings: null, ipAllowlist: key.ip_allowlist, rateLimits: key.rate_limits }, actor };
  }
}
