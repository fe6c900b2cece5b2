// The bitbucket_token table: accounts' own Bitbucket tokens, stored as SHA-256 hashes.
import type { Timestamp } from '../../db/column-types.ts';

export interface BitbucketTokenTable {
  org_id: string;
  id: string;
  account_id: string;
  label: string;
  scopes: string[];
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}
