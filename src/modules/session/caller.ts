// Who is making a request, as established from its bearer token.
import type { AllowlistSnapshot } from '../ip-allowlist/ip-allowlist.service.ts';
import type { OrgBudgets } from '../rate-limit/rate-limit.repository.ts';
import { ADMIN_CLIENT_ID } from './credentials/client-ids.ts';

interface CallerBase {
  orgId: string;
  sessionId: string;
  clientId: string;
  scopes: readonly string[];
}

export interface AccountCaller extends CallerBase {
  kind: 'account';
  accountId: string;
  isOrgAdmin: boolean;
  /** The request's X-Bitbucket-Token, of this same account (PRODUCT §8): it alone vouches for bitbucket:* objects. */
  bitbucket?: { tokenId: string; scopes: string[] };
}

export interface ConnectionCaller extends CallerBase {
  kind: 'connection';
  connectionId: string;
  cloudId: string;
}

/** An admin API key (PRODUCT §5): admin fields only, acting for the org admin who created it. */
export interface AdminKeyCaller extends CallerBase {
  kind: 'adminKey';
  keyId: string;
  createdBy: string;
}

export type Caller = AccountCaller | ConnectionCaller | AdminKeyCaller;

/** Who may use admin fields: an org admin on the admin page's client, or an admin API key. */
export function isAdmin(caller: Caller): boolean {
  return (caller.kind === 'account' && caller.isOrgAdmin && caller.clientId === ADMIN_CLIENT_ID) || caller.kind === 'adminKey';
}

/** The account an admin action is recorded against: the admin, or the key's creator. */
export function actingAccountId(caller: Caller): string | null {
  return caller.kind === 'account' ? caller.accountId : caller.kind === 'adminKey' ? caller.createdBy : null;
}

/**
 * What a request needs to know of its organisation, read in the same statement as its session
 * so that it costs no round trip: the version of the facts principal sets are computed from
 * (see migration 006) and the CLI permission settings (null: never saved, so the defaults).
 */
export interface OrgSnapshot {
  principalVersion: number;
  cliSettings: { allowAllByDefault: boolean; selectedPermissions: string[] | null } | null;
  /** The enabled IP allowlist (PRODUCT §7), or null. */
  ipAllowlist: AllowlistSnapshot | null;
  /** The organisation's own rate-limit budgets (issue 21), or null: the operator's defaults. */
  rateLimits: OrgBudgets | null;
}
