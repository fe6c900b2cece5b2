// The object tables: graph objects and the ACL entries derived from their VIEW controls.
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../../db/column-types.ts';

export interface GraphObjectTable {
  org_id: string;
  id: string;
  cloud_id: string;
  connection_id: string;
  type: string;
  product: string;
  external_id: string;
  display_name: string;
  description: string | null;
  url: string | null;
  container_type: string | null;
  container_external_id: string | null;
  container_id: string | null;
  properties: Json | null;
  permissions: Json;
  acl: Json;
  view_keys: string[];
  view_controls: number;
  created_at: Timestamp;
  last_updated_at: Timestamp;
  update_sequence_number: number;
  deleted: Generated<boolean>;
  /** Some child names this object as container (migration 016). */
  has_children: Generated<boolean>;
}

/** One principal of one VIEW control of an object, with the object's time (migration 016). */
export interface AclEntryTable {
  org_id: string;
  principal_key: string;
  object_id: string;
  control_no: number;
  last_updated_at: Timestamp;
  /** The object has children (graph_object.has_children), so its entries start inheritance. */
  on_container: Generated<boolean>;
}
