// The ACL model of PRODUCT §3 in its compiled form. Principals become keys:
//   u:<connectionId>:<externalId>   a third-party user of the object's connection
//   g:<connectionId>:<externalId>   a group of the object's connection
//   w:<cloudId>                     any active member of the object's site
//   c                               whoever may do the same action on the object's container
// A viewer's principal set uses the same keys, so matching is set membership.

export const ACTIONS = ['VIEW', 'EDIT', 'DELETE'] as const;
export type AclAction = (typeof ACTIONS)[number];
/** Action numbers as stored in acl_entry.action. */
export const ACTION_NUMBER: Record<AclAction, number> = { VIEW: 1, EDIT: 2, DELETE: 3 };

export type PrincipalType = 'USER' | 'GROUP' | 'ATLASSIAN_WORKSPACE' | 'CONTAINER';
export interface Principal {
  type: PrincipalType;
  id?: string | null;
}
export interface PermissionSpec {
  action?: AclAction | null;
  accessControls: { principals: Principal[] }[];
}

/** Per action, a list of controls (AND), each a list of principal keys (OR). */
export type CompiledAcl = Record<AclAction, string[][]>;

export const CONTAINER_KEY = 'c';
/** PRODUCT §3: a container chain deeper than this matches nobody. */
export const MAX_CONTAINER_HOPS = 32;
/** PRODUCT §3: at most this many principals in one object's permissions. */
export const MAX_PRINCIPALS = 500;

export function principalKey(principal: Principal, connectionId: string, cloudId: string): string {
  switch (principal.type) {
    case 'USER':
      return `u:${connectionId}:${principal.id}`;
    case 'GROUP':
      return `g:${connectionId}:${principal.id}`;
    case 'ATLASSIAN_WORKSPACE':
      return `w:${cloudId}`;
    case 'CONTAINER':
      return CONTAINER_KEY;
  }
}

export const userKey = (connectionId: string, externalId: string) => `u:${connectionId}:${externalId}`;
export const groupKey = (connectionId: string, externalId: string) => `g:${connectionId}:${externalId}`;
export const workspaceKey = (cloudId: string) => `w:${cloudId}`;

export type AclProblem = { code: string; message: string };

/** PRODUCT §3 validation at ingestion; returns the first problem or null. */
export function validatePermissions(permissions: PermissionSpec[]): AclProblem | null {
  let principals = 0;
  let viewControls = 0;
  for (const permission of permissions) {
    for (const control of permission.accessControls) {
      if (control.principals.length === 0) {
        return { code: 'EMPTY_ACCESS_CONTROL', message: 'Every access control needs at least one principal.' };
      }
      if ((permission.action ?? 'VIEW') === 'VIEW') viewControls++;
      for (const principal of control.principals) {
        principals++;
        const needsId = principal.type === 'USER' || principal.type === 'GROUP';
        const hasId = principal.id !== undefined && principal.id !== null && principal.id !== '';
        if (needsId && !hasId) return { code: 'PRINCIPAL_ID_REQUIRED', message: `A ${principal.type} principal needs an id.` };
        if (!needsId && hasId) return { code: 'PRINCIPAL_ID_NOT_ALLOWED', message: `A ${principal.type} principal takes no id.` };
        if (hasId && principal.id!.length > 255) return { code: 'PRINCIPAL_ID_TOO_LONG', message: 'A principal id is at most 255 characters.' };
      }
    }
  }
  if (principals > MAX_PRINCIPALS) {
    return { code: 'TOO_MANY_PRINCIPALS', message: `An object may name at most ${MAX_PRINCIPALS} principals; this one names ${principals}.` };
  }
  if (viewControls === 0) return { code: 'MISSING_VIEW_PERMISSION', message: 'The permissions need at least one VIEW access control.' };
  return null;
}

/** Compiles validated permissions; duplicate principals and duplicate controls are dropped. */
export function compileAcl(permissions: PermissionSpec[], connectionId: string, cloudId: string): CompiledAcl {
  const acl: CompiledAcl = { VIEW: [], EDIT: [], DELETE: [] };
  const seen: Record<AclAction, Set<string>> = { VIEW: new Set(), EDIT: new Set(), DELETE: new Set() };
  for (const permission of permissions) {
    const action = permission.action ?? 'VIEW';
    for (const control of permission.accessControls) {
      const keys = [...new Set(control.principals.map((p) => principalKey(p, connectionId, cloudId)))].sort();
      const signature = keys.join('\u0000');
      if (seen[action].has(signature)) continue;
      seen[action].add(signature);
      acl[action].push(keys);
    }
  }
  return acl;
}

/** Permissions as returned by the API: every action spelled out. */
export function normalizePermissions(permissions: PermissionSpec[]) {
  return permissions.map((p) => ({
    action: p.action ?? 'VIEW',
    accessControls: p.accessControls.map((c) => ({
      principals: c.principals.map((pr) => ({ type: pr.type, id: pr.id ?? null })),
    })),
  }));
}

/** The default ACL of an object a person creates: everything follows its container. */
export const CONTAINER_ONLY_PERMISSIONS: PermissionSpec[] = ACTIONS.map((action) => ({
  action,
  accessControls: [{ principals: [{ type: 'CONTAINER' }] }],
}));
