// The tables Kysely knows, named as in the migrations; each module defines its tables in its *.table.ts.
import type { ConnectionLinkProviderTable, LinkAttemptTable } from '../modules/account-link/account-link.table.ts';
import type { AdminApiKeyTable } from '../modules/admin-key/admin-key.table.ts';
import type { AuditChainTable, AuditEventTable, AuditVerificationTable } from '../modules/audit/audit.table.ts';
import type { BitbucketTokenTable } from '../modules/bitbucket-token/bitbucket-token.table.ts';
import type { CliSettingsTable } from '../modules/cli-permission/cli-permission.table.ts';
import type { ConnectionTable } from '../modules/connection/connection.table.ts';
import type { ExternalGroupTable, ExternalUserTable, GroupMemberTable, UserLinkTable } from '../modules/directory/directory.table.ts';
import type { IpAllowlistTable } from '../modules/ip-allowlist/ip-allowlist.table.ts';
import type { AuthorizationCodeTable, DeviceAuthorizationTable, SignInFailureTable } from '../modules/oauth/oauth.table.ts';
import type { AclEntryTable, GraphObjectTable } from '../modules/object/object.table.ts';
import type { AccountEmailTable, AccountTable, OrganizationTable, SiteMemberTable, SiteTable } from '../modules/org/org.table.ts';
import type { RateLimitSettingTable, RateLimitUsageTable } from '../modules/rate-limit/rate-limit.table.ts';
import type { RelationshipTable } from '../modules/relationship/relationship.table.ts';
import type { AccessTokenTable, PrincipalVersionTable, RefreshTokenTable, SessionTable } from '../modules/session/session.table.ts';

export interface Database {
  organization: OrganizationTable;
  site: SiteTable;
  account: AccountTable;
  account_email: AccountEmailTable;
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
  rate_limit_usage: RateLimitUsageTable;
  rate_limit_setting: RateLimitSettingTable;
}
