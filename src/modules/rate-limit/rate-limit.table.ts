// The rate_limit_usage and rate_limit_setting tables: points each credential spent in its current
// hour, and the organisation's own (lower) budgets.
import type { Timestamp } from '../../db/column-types.ts';

export interface RateLimitUsageTable {
  org_id: string;
  credential_kind: string;
  credential_id: string;
  window_start: Timestamp;
  used: number;
}

export interface RateLimitSettingTable {
  org_id: string;
  session_points: number | null;
  admin_api_key_points: number | null;
  bitbucket_token_points: number | null;
  connection_points: number | null;
  version: number;
  updated_at: Timestamp;
  updated_by: string;
}
