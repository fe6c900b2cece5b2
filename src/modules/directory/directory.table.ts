// The directory tables: third-party users and groups, group membership and links to accounts.
import type { Generated } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';

export interface ExternalUserTable {
  org_id: string;
  connection_id: string;
  external_id: string;
  display_name: string | null;
  email: string | null;
  update_sequence_number: number;
  deleted: Generated<boolean>;
  updated_at: Timestamp;
}

export interface ExternalGroupTable {
  org_id: string;
  connection_id: string;
  external_id: string;
  display_name: string | null;
  update_sequence_number: number;
  deleted: Generated<boolean>;
  updated_at: Timestamp;
}

export interface GroupMemberTable {
  org_id: string;
  connection_id: string;
  group_external_id: string;
  member_type: 'USER' | 'GROUP';
  member_external_id: string;
}

export interface UserLinkTable {
  org_id: string;
  connection_id: string;
  external_id: string;
  account_id: string | null;
  pending_email: string | null;
  source: string;
  update_sequence_number: number;
  created_at: Timestamp;
}
