// The ip_allowlist table: an organisation's allowed networks and locations.
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';

export interface IpAllowlistTable {
  org_id: string;
  enabled: boolean;
  rules: ColumnType<{ cidr: string; description: string | null }[], string, string>;
  locations: string[];
  version: number;
  updated_at: Timestamp;
  updated_by: string;
}
