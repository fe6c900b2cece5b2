// The connection table: an organisation's connected apps, one site each, with their client credentials and lifecycle.
import type { Timestamp } from '../../db/column-types.ts';

export interface ConnectionTable {
  org_id: string;
  id: string;
  cloud_id: string;
  provider: string;
  client_id: string;
  client_secret_hash: string;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
  deletion_started_at: Timestamp | null;
}
