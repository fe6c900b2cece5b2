// The organisation and what hangs from it: sites, accounts and which accounts belong to which site.
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';

export interface OrganizationTable {
  id: string;
  name: string;
  created_at: Timestamp;
}

export interface SiteTable {
  org_id: string;
  cloud_id: string;
  name: string;
  created_at: Timestamp;
}

export interface AccountTable {
  org_id: string;
  id: string;
  email: string;
  display_name: string;
  password_hash: string | null;
  active: Generated<boolean>;
  is_org_admin: Generated<boolean>;
  created_at: Timestamp;
  /** Set when the account signs in through an OAuth grant (migration 022). */
  last_sign_in_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface SiteMemberTable {
  org_id: string;
  account_id: string;
  cloud_id: string;
}

/** Which organisation's account holds an e-mail (lower case); shared by all organisations. */
export interface AccountEmailTable {
  email: string;
  org_id: string;
  account_id: string;
}
