// The one place that decides whether a request may use an OAuth permission (PRODUCT §5). Fields
// declare the permission they need (statically through scope-auth, or per object type in the
// resolver); both ask this gate. For a CLI session a permission must be allowed by the
// organisation right now AND granted to the session; the organisation's answer is read once per
// request, so a settings change applies to the next request on every instance.
import { ADMIN_CLIENT_ID, CLI_CLIENT_ID } from '../modules/session/credentials/client-ids.ts';
import type { Catalog, ObjectTypeDef } from '../modules/cli-permission/catalog.ts';
import { type Caller } from '../modules/session/caller.ts';
import { RestrictedError, type RestrictionReason } from '../shared/errors.ts';

export type TypeAction = 'read' | 'write' | 'delete';

export class PermissionGate {
  private readonly granted: ReadonlySet<string>;
  private readonly bitbucketScopes: ReadonlySet<string>;
  private readonly governedByOrganization: boolean;
  private allowedByOrganization?: Promise<ReadonlySet<string>>;
  private readonly reasons = new Map<string, RestrictionReason | null>();

  constructor(
    caller: Caller,
    private readonly catalog: Catalog,
    private readonly loadAllowedByOrganization: () => Promise<ReadonlySet<string>>,
    /** Told of each permission a field used (the audit log's `permissions`). */
    private readonly onUse: (permission: string) => void = () => {},
  ) {
    this.granted = new Set(caller.kind === 'account' ? caller.scopes : []);
    this.bitbucketScopes = new Set(caller.kind === 'account' ? (caller.bitbucket?.scopes ?? []) : []);
    // The admin page's sessions are not governed by the CLI settings (PRODUCT §5), but only while
    // their account is an org admin: a demoted admin's admin-page token is held to them like twg's.
    this.governedByOrganization = caller.kind === 'account' && (caller.clientId === CLI_CLIENT_ID || (caller.clientId === ADMIN_CLIENT_ID && !caller.isOrgAdmin));
  }

  /** Null when the permission may be used now, else why not. */
  async check(permission: string): Promise<RestrictionReason | null> {
    let reason: RestrictionReason | null = null;
    if (this.governedByOrganization) {
      this.allowedByOrganization ??= this.loadAllowedByOrganization();
      if (!(await this.allowedByOrganization).has(permission)) reason = 'NOT_ALLOWED_BY_ORGANIZATION';
    }
    if (!reason && (!this.granted.has(permission) || !this.catalog.permission(permission))) reason = 'NOT_GRANTED_TO_SESSION';
    this.reasons.set(permission, reason);
    return reason;
  }

  /** As check, for a field about to run: a permission that passes counts as used. */
  async use(permission: string): Promise<RestrictionReason | null> {
    const reason = await this.check(permission);
    if (reason === null) this.onUse(permission);
    return reason;
  }

  /** The reason last found for a permission (for error messages after a scope check). */
  reasonFor(permission: string): RestrictionReason {
    return this.reasons.get(permission) ?? 'NOT_GRANTED_TO_SESSION';
  }

  async require(permission: string): Promise<void> {
    const reason = await this.use(permission);
    if (reason) throw new RestrictedError(permission, reason);
  }

  /** PRODUCT §8: Bitbucket objects are vouched for by the request's Bitbucket token and its scopes, never by OAuth or the CLI settings. */
  async checkType(type: ObjectTypeDef, action: TypeAction): Promise<{ permission: string; reason: RestrictionReason | null }> {
    const permission = action === 'read' ? type.readPermission : action === 'write' ? type.writePermission : type.deletePermission;
    if (type.authority === 'bitbucket-token') return { permission, reason: this.bitbucketScopes.has(permission) ? null : 'NOT_GRANTED_TO_SESSION' };
    return { permission, reason: await this.check(permission) };
  }

  async requireType(typeName: string, action: TypeAction): Promise<void> {
    const type = this.catalog.objectType(typeName);
    if (!type) throw new Error(`Object type ${typeName} is not in the catalogue`);
    const { permission, reason } = await this.checkType(type, action);
    if (reason) throw new RestrictedError(permission, reason);
    this.onUse(permission);
  }

  /** The object types whose read permission this request may use. */
  async readableTypes(): Promise<string[]> {
    const checks = await Promise.all(this.catalog.objectTypes.map(async (t) => ((await this.checkType(t, 'read')).reason === null ? t.name : null)));
    return checks.filter((name): name is string => name !== null);
  }

  /** Scopes granted to the session that the organisation still allows. */
  async effectivePermissions(): Promise<string[]> {
    const checks = await Promise.all([...this.granted].map(async (p) => ((await this.check(p)) === null ? p : null)));
    return checks.filter((p): p is string => p !== null);
  }
}
