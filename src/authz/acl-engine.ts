// Pure ACL evaluation (PRODUCT §3) over facts loaded elsewhere: it knows neither SQL nor GraphQL.
//   VIEW: every VIEW control has a matching principal.
//   EDIT: VIEW, and every EDIT control.  DELETE: EDIT, and every DELETE control.
//   CONTAINER matches when the viewer may do the same action on the container, following at
//   most MAX_CONTAINER_HOPS links; a missing container matches nobody. Anything unknown denies,
//   and so does every object of a connection the viewer's set names hidden (disabled).
import { type AclAction, type CompiledAcl, CONTAINER_KEY, MAX_CONTAINER_HOPS, type PrincipalType } from './acl.ts';

export interface ViewerPrincipals {
  /** False for a deactivated account or one outside the organisation: it matches nothing. */
  active: boolean;
  keys: ReadonlySet<string>;
  /** Connections whose objects nobody sees (disabled, or being deleted); absent: none. */
  hiddenConnections?: readonly string[];
}

export interface AclNode {
  acl: CompiledAcl;
  containerId: string | null;
  /** The owning connection; a hidden connection's objects are as unknown. */
  connectionId?: string;
}

/** Looks up a live object's ACL; undefined for a missing or deleted object. */
export type AclFacts = (objectId: string) => AclNode | undefined;

const PREVIOUS: Record<AclAction, AclAction | null> = { VIEW: null, EDIT: 'VIEW', DELETE: 'EDIT' };

export function isAllowed(
  viewer: ViewerPrincipals,
  facts: AclFacts,
  objectId: string,
  action: AclAction,
  hopsLeft = MAX_CONTAINER_HOPS,
): boolean {
  return decide(viewer, facts, objectId, action, hopsLeft, new Map());
}

// One decision remembers every (object, action, hops left) it settles: a chain whose objects have
// several CONTAINER controls would otherwise be walked again for each control, exponentially.
function decide(viewer: ViewerPrincipals, facts: AclFacts, objectId: string, action: AclAction, hopsLeft: number, memo: Map<string, boolean>): boolean {
  if (!viewer.active) return false;
  const key = `${objectId}\u0000${action}\u0000${hopsLeft}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const found = facts(objectId);
  const node = found?.connectionId !== undefined && viewer.hiddenConnections?.includes(found.connectionId) ? undefined : found;
  let allowed = false;
  if (node) {
    const previous = PREVIOUS[action];
    const controls = node.acl[action];
    allowed =
      (!previous || decide(viewer, facts, objectId, previous, hopsLeft, memo)) &&
      !(action === 'VIEW' && controls.length === 0) &&
      controls.every((control) =>
        control.some((principal) =>
          principal === CONTAINER_KEY ? containerAllows(viewer, facts, node, action, hopsLeft, memo) : viewer.keys.has(principal),
        ),
      );
  }
  memo.set(key, allowed);
  return allowed;
}

/** CONTAINER: the viewer may do the same action on the container, one hop further up. */
function containerAllows(viewer: ViewerPrincipals, facts: AclFacts, node: AclNode, action: AclAction, hopsLeft: number, memo: Map<string, boolean> = new Map()) {
  return hopsLeft > 0 && node.containerId !== null && decide(viewer, facts, node.containerId, action, hopsLeft - 1, memo);
}

export interface ControlExplanation {
  action: AclAction;
  permissionIndex: number;
  controlIndex: number;
  satisfied: boolean;
  matchedPrincipal: ExplainedPrincipal | null;
  via: string | null;
}

/** A principal as stored with an object's permissions (normalised at ingestion: the id is null, never absent). */
export interface ExplainedPrincipal {
  type: PrincipalType;
  id: string | null;
}

export interface RawPermission {
  action: AclAction;
  accessControls: { principals: ExplainedPrincipal[] }[];
}

/**
 * Explains a decision control by control, over the object's permissions as ingested. The
 * controls of the action and of the actions it implies (EDIT implies VIEW) are listed.
 */
export function explainAccess(
  viewer: ViewerPrincipals,
  facts: AclFacts,
  object: { id: string; permissions: RawPermission[]; keyOf: (p: ExplainedPrincipal) => string },
  action: AclAction,
): { allowed: boolean; controls: ControlExplanation[]; summary: string } {
  const allowed = isAllowed(viewer, facts, object.id, action);
  const node = facts(object.id);
  const relevant = new Set<AclAction>(action === 'VIEW' ? ['VIEW'] : action === 'EDIT' ? ['VIEW', 'EDIT'] : ['VIEW', 'EDIT', 'DELETE']);
  const controls: ControlExplanation[] = [];
  object.permissions.forEach((permission, permissionIndex) => {
    if (!relevant.has(permission.action)) return;
    permission.accessControls.forEach((control, controlIndex) => {
      let matched: ControlExplanation['matchedPrincipal'] = null;
      let via: string | null = null;
      for (const principal of control.principals) {
        const key = object.keyOf(principal);
        if (!viewer.active) break;
        if (key === CONTAINER_KEY) {
          if (node && containerAllows(viewer, facts, node, permission.action, MAX_CONTAINER_HOPS)) {
            matched = principal;
            via = `may ${permission.action} the container ${node.containerId}`;
            break;
          }
        } else if (viewer.keys.has(key)) {
          matched = principal;
          via = describeMatch(principal);
          break;
        }
      }
      controls.push({ action: permission.action, permissionIndex, controlIndex, satisfied: matched !== null, matchedPrincipal: matched, via });
    });
  });
  const failed = controls.filter((c) => !c.satisfied).length;
  const summary = !viewer.active
    ? 'The account is deactivated or outside the organisation, so it matches no principal.'
    : !node
      ? 'The object does not exist.'
      : allowed
        ? `Allowed: all ${controls.length} access controls for ${action} are satisfied.`
        : `Denied: ${failed} of ${controls.length} access controls for ${action} have no matching principal.`;
  return { allowed, controls, summary };
}

function describeMatch(principal: { type: string; id: string | null }): string {
  switch (principal.type) {
    case 'USER':
      return `the account is linked to third-party user ${principal.id}`;
    case 'GROUP':
      return `a third-party user linked to the account is in group ${principal.id}, directly or through nested groups`;
    default:
      return "the account is an active member of the object's site";
  }
}
