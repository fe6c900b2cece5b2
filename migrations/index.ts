// Every migration in order. Kysely's FileMigrationProvider cannot import .ts under node or
// vitest, so they are registered here; a test checks this list matches the folder.
import type { Migration } from 'kysely';
import * as tenancy from './001_tenancy.ts';
import * as session from './002_session.ts';
import * as directory from './003_directory.ts';
import * as graph from './004_graph.ts';
import * as cliSettings from './005_cli_settings.ts';
import * as principalVersion from './006_principal_version.ts';
import * as oauth from './007_oauth.ts';
import * as adminApiKey from './008_admin_api_key.ts';
import * as audit from './009_audit.ts';
import * as ipAllowlist from './010_ip_allowlist.ts';
import * as bitbucketToken from './011_bitbucket_token.ts';
import * as connectionLifecycle from './012_connection_lifecycle.ts';
import * as credentialChangeNotify from './013_credential_change_notify.ts';
import * as auditVerification from './014_audit_verification.ts';
import * as linkConfirmation from './015_link_confirmation.ts';
import * as visibilityStreams from './016_visibility_streams.ts';
import * as textSearch from './017_text_search.ts';
import * as oneTextIndex from './018_one_text_index.ts';
import * as orgInEveryKey from './019_org_in_every_key.ts';
import * as citus from './020_citus.ts';
import * as auditAppend from './021_audit_append.ts';
import * as people from './022_people.ts';
import * as auditStream from './023_audit_stream.ts';
import * as rateLimit from './024_rate_limit.ts';
import * as accountIdOrder from './025_account_id_order.ts';
import * as indexOnlyLookups from './026_index_only_lookups.ts';
import * as credentialStamp from './027_credential_stamp.ts';
import * as lastUseNotAChange from './028_last_use_not_a_change.ts';

export const migrations: Record<string, Migration> = {
  '001_tenancy': tenancy,
  '002_session': session,
  '003_directory': directory,
  '004_graph': graph,
  '005_cli_settings': cliSettings,
  '006_principal_version': principalVersion,
  '007_oauth': oauth,
  '008_admin_api_key': adminApiKey,
  '009_audit': audit,
  '010_ip_allowlist': ipAllowlist,
  '011_bitbucket_token': bitbucketToken,
  '012_connection_lifecycle': connectionLifecycle,
  '013_credential_change_notify': credentialChangeNotify,
  '014_audit_verification': auditVerification,
  '015_link_confirmation': linkConfirmation,
  '016_visibility_streams': visibilityStreams,
  '017_text_search': textSearch,
  '018_one_text_index': oneTextIndex,
  '019_org_in_every_key': orgInEveryKey,
  '020_citus': citus,
  '021_audit_append': auditAppend,
  '022_people': people,
  '023_audit_stream': auditStream,
  '024_rate_limit': rateLimit,
  '025_account_id_order': accountIdOrder,
  '026_index_only_lookups': indexOnlyLookups,
  '027_credential_stamp': credentialStamp,
  '028_last_use_not_a_change': lastUseNotAChange,
};
