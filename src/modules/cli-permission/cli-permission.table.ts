// The cli_settings table: which CLI permissions an organisation allows.
import type { Timestamp } from '../../db/column-types.ts';

export interface CliSettingsTable {
  org_id: string;
  allow_all_by_default: boolean;
  selected_permissions: string[] | null;
  version: number;
  updated_at: Timestamp;
  updated_by: string | null;
}
