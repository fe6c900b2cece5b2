// The one place that decides whether a request may use an OAuth permission (PRODUCT §5). Fields
// declare the permission they need (statically through scope-auth, or per object type in the
// resolver); both ask this gate. A permission must be granted to the session; the organisation's
// CLI settings will be consulted here as well.
import type { Catalog, ObjectTypeDef } from '../modules/cli-permission/catalog.ts';
import type { Caller } from '../modules/session/caller.ts';
import { RestrictedError, type RestrictionReason } from '../shared/errors.ts';

export type TypeAction = 'read' | 'write' | 'delete';

export class PermissionGate {
  private readonly granted: ReadonlySet<string>;

  constructor(
    private readonly caller: Caller,
    private readonly catalog: Catalog,
  ) {
    this.granted = new Set(caller.kind === 'account' ? caller.scopes : []);
  }

  /** Null when the permission may be used now, else why not. */
  check(permission: string): RestrictionReason | null {
    return this.granted.has(permission) && this.catalog.permission(permission) ? null : 'NOT_GRANTED_TO_SESSION';
  }

  require(permission: string): void {
    const reason = this.check(permission);
    if (reason) throw new RestrictedError(permission, reason);
  }

  /** Bitbucket objects are vouched for by a Bitbucket token, which no request carries yet. */
  checkType(type: ObjectTypeDef, action: TypeAction): { permission: string; reason: RestrictionReason | null } {
    const permission = action === 'read' ? type.readPermission : action === 'write' ? type.writePermission : type.deletePermission;
    if (type.authority === 'bitbucket-token') return { permission, reason: 'NOT_GRANTED_TO_SESSION' };
    return { permission, reason: this.check(permission) };
  }

  requireType(typeName: string, action: TypeAction): void {
    const type = this.catalog.objectType(typeName);
    if (!type) throw new Error(`Object type ${typeName} is not in the catalogue`);
    const { permission, reason } = this.checkType(type, action);
    if (reason) throw new RestrictedError(permission, reason);
  }

  /** The object types whose read permission this request holds. */
  readableTypes(): string[] {
    return this.catalog.objectTypes.filter((t) => this.checkType(t, 'read').reason === null).map((t) => t.name);
  }

  /** Scopes granted to the session that the organisation still allows. */
  effectivePermissions(): string[] {
    return [...this.granted].filter((p) => this.check(p) === null);
  }
}
