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
