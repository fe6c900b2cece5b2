// The relationship table: typed edges between two objects of one connection.
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../../db/column-types.ts';

export interface RelationshipTable {
  org_id: string;
  connection_id: string;
  type: string;
  from_object_id: string;
  to_object_id: string;
  properties: Json | null;
  update_sequence_number: number;
  deleted: Generated<boolean>;
  updated_at: Timestamp;
}
