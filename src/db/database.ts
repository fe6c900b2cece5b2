// The tables Kysely knows, one interface per table, named as in the migrations.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date, Date>;
type Json = ColumnType<unknown, string, string>;

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
}
export interface SiteMemberTable {
  org_id: string;
  account_id: string;
  cloud_id: string;
}
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
export interface ConnectionLinkProviderTable {
  org_id: string;
  connection_id: string;
  issuer: string | null;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  client_id: string;
  client_secret_sealed: string;
  scopes: string[];
  external_id_field: string;
  updated_at: Timestamp;
}
export interface LinkAttemptTable {
  state_hash: string;
  org_id: string;
  connection_id: string;
  account_id: string;
  browser_binding_hash: string;
  code_verifier: string;
  /** The provider's answer, waiting for the account to confirm it; null before the callback. */
  external_id: string | null;
  expires_at: Timestamp;
}
export interface SessionTable {
  org_id: string;
  id: string;
  account_id: string | null;
  connection_id: string | null;
  client_id: string;
  scopes: string[];
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}
export interface AccessTokenTable {
  token_hash: string;
  org_id: string;
  session_id: string;
  expires_at: Timestamp;
  created_at: Timestamp;
}
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

export interface CliSettingsTable {
  org_id: string;
  allow_all_by_default: boolean;
  selected_permissions: string[] | null;
  version: number;
  updated_at: Timestamp;
  updated_by: string | null;
}

export interface PrincipalVersionTable {
  org_id: string;
  version: number;
}

export interface RefreshTokenTable {
  token_hash: string;
  org_id: string;
  session_id: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface AuthorizationCodeTable {
  code_hash: string;
  org_id: string;
  account_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  scopes: string[];
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  session_id: string | null;
}

export type DeviceAuthorizationStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'ISSUED';

export interface DeviceAuthorizationTable {
  device_code_hash: string;
  user_code: string;
  client_id: string;
  requested_scopes: string[] | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  interval_seconds: number;
  last_polled_at: Timestamp | null;
  status: DeviceAuthorizationStatus;
  org_id: string | null;
  account_id: string | null;
  granted_scopes: string[] | null;
  denial_reason: string | null;
  decided_at: Timestamp | null;
}

export interface SignInFailureTable {
  subject: string;
  failed_at: Timestamp;
}

export interface AdminApiKeyTable {
  org_id: string;
  id: string;
  name: string;
  key_hash: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

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

export interface IpAllowlistTable {
  org_id: string;
  enabled: boolean;
  rules: ColumnType<{ cidr: string; description: string | null }[], string, string>;
  locations: string[];
  version: number;
  updated_at: Timestamp;
  updated_by: string;
}

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

export interface Database {
  organization: OrganizationTable;
  site: SiteTable;
  account: AccountTable;
  site_member: SiteMemberTable;
  connection: ConnectionTable;
  session: SessionTable;
  access_token: AccessTokenTable;
  external_user: ExternalUserTable;
  external_group: ExternalGroupTable;
  group_member: GroupMemberTable;
  user_link: UserLinkTable;
  graph_object: GraphObjectTable;
  acl_entry: AclEntryTable;
  relationship: RelationshipTable;
  cli_settings: CliSettingsTable;
  principal_version: PrincipalVersionTable;
  refresh_token: RefreshTokenTable;
  authorization_code: AuthorizationCodeTable;
  device_authorization: DeviceAuthorizationTable;
  sign_in_failure: SignInFailureTable;
  admin_api_key: AdminApiKeyTable;
  audit_chain: AuditChainTable;
  audit_event: AuditEventTable;
  audit_verification: AuditVerificationTable;
  ip_allowlist: IpAllowlistTable;
  bitbucket_token: BitbucketTokenTable;
  connection_link_provider: ConnectionLinkProviderTable;
  link_attempt: LinkAttemptTable;
}
