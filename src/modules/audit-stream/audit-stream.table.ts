// The audit_stream table: an organisation's audit streams and each one's place in the audit chain.
import type { Timestamp } from '../../db/column-types.ts';

export type AuditStreamFormat = 'JSON_LINES' | 'SPLUNK_HEC';

export interface AuditStreamTable {
  org_id: string;
  id: string;
  url: string;
  format: AuditStreamFormat;
  sealed_secret: string;
  created_by: string;
  created_at: Timestamp;
  paused: boolean;
  pause_reason: string | null;
  delivered_seq: number;
  delivered_event_id: string | null;
  delivered_at: Timestamp | null;
  last_error: string | null;
  failing_since: Timestamp | null;
  failures: number;
  next_attempt_at: Timestamp | null;
  lease_owner: string | null;
  lease_until: Timestamp | null;
}
