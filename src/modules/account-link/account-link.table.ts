// The tables of account linking (3LO): a connection's link provider and the attempts in flight.
import type { Timestamp } from '../../db/column-types.ts';

export interface ConnectionLinkProviderTable {
  org_id: string;
  connection_id: string;
  issuer: string | null;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  client_id: string;
  client_secret_sealed: string;
  scopes: string[];
  external_id_field: string;
  updated_at: Timestamp;
}

export interface LinkAttemptTable {
  state_hash: string;
  org_id: string;
  connection_id: string;
  account_id: string;
  browser_binding_hash: string;
  code_verifier: string;
  /** The provider's answer, waiting for the account to confirm it; null before the callback. */
  external_id: string | null;
  expires_at: Timestamp;
}
