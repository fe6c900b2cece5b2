// The audit tables: each organisation's hash chain, its events and the last verified point.
import type { Generated } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';

export interface AuditChainTable {
  org_id: string;
  last_seq: Generated<number>;
  last_hash: Generated<string>;
  prev_hash: Generated<string>;
  checkpoint_seq: Generated<number>;
  checkpoint_hash: Generated<string>;
}

export interface AuditEventTable {
  org_id: string;
  seq: number;
  id: string;
  time: Timestamp;
  action: string;
  actor_account_id: string | null;
  command: string | null;
  object_types: string[];
  outcome: string;
  ip: string | null;
  event_json: string;
  prev_hash: string;
  hash: string;
}

export interface AuditVerificationTable {
  org_id: string;
  verified_seq: number;
  verified_hash: string;
  verified_at: Timestamp;
}
