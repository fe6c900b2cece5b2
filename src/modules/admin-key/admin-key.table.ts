// The admin_api_key table: an organisation's admin API keys, stored as hashes.
import type { Timestamp } from '../../db/column-types.ts';

export interface AdminApiKeyTable {
  org_id: string;
  id: string;
  name: string;
  key_hash: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}
