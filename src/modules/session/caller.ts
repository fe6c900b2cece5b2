// Who is making a request, as established from its bearer token.
export const CLI_CLIENT_ID = 'twg-cli';
export const ADMIN_CLIENT_ID = 'teamgraph-admin';

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
}

export interface ConnectionCaller extends CallerBase {
  kind: 'connection';
  connectionId: string;
  cloudId: string;
}

export type Caller = AccountCaller | ConnectionCaller;

/**
 * What a request needs to know of its organisation, read in the same statement as its session
 * so that it costs no round trip: the version of the facts principal sets are computed from
 * (see migration 006) and the CLI permission settings (null: never saved, so the defaults).
 */
export interface OrgSnapshot {
  principalVersion: number;
  cliSettings: { allowAllByDefault: boolean; selectedPermissions: string[] | null } | null;
}
