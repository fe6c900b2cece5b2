// The OAuth tables: authorization codes, device authorizations and failed sign-ins.
import type { Timestamp } from '../../db/column-types.ts';

export interface AuthorizationCodeTable {
  code_hash: string;
  org_id: string;
  account_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  scopes: string[];
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  session_id: string | null;
}

export type DeviceAuthorizationStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'ISSUED';

export interface DeviceAuthorizationTable {
  device_code_hash: string;
  user_code: string;
  client_id: string;
  requested_scopes: string[] | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  interval_seconds: number;
  last_polled_at: Timestamp | null;
  status: DeviceAuthorizationStatus;
  org_id: string | null;
  account_id: string | null;
  granted_scopes: string[] | null;
  denial_reason: string | null;
  decided_at: Timestamp | null;
}

export interface SignInFailureTable {
  subject: string;
  failed_at: Timestamp;
}
