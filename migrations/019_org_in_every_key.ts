// Issue 18: every key of a tenant table starts with org_id (STYLE: "its keys and indexes start
// with it"), so that Citus can shard each table by organisation and answer each lookup on the
// one node that holds it (migrations/distribution.ts says which tables are tenant tables;
// test/db/tenant-keys.test.ts holds every back end to the rule).
//  - Credentials looked up by their hash (access and refresh tokens, authorization codes, admin
//    API keys, Bitbucket tokens, 3LO link states) and connections' client ids are keyed by
//    (org_id, hash). Those issued from now on name their organisation (shared/secrets.ts,
//    newOrgSecret), so a lookup reads one organisation's rows; the plain index on the hash finds
//    those issued before, which name none.
//  - An e-mail is unique across organisations (PRODUCT §1), which no index of a sharded table can
//    promise: account_email, a shared table, holds each e-mail once with its account, and sign-in
//    finds the account through it. Within an organisation, account (org_id, lower(email)) is
//    unique as well.
//  - An audit event's id is unique within its organisation.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table access_token drop constraint access_token_pkey, add primary key (org_id, token_hash);
    create index access_token_hash on access_token (token_hash);
    alter table refresh_token drop constraint refresh_token_pkey, add primary key (org_id, token_hash);
    create index refresh_token_hash on refresh_token (token_hash);
    alter table authorization_code drop constraint authorization_code_pkey, add primary key (org_id, code_hash);
    create index authorization_code_hash on authorization_code (code_hash);
    alter table link_attempt drop constraint link_attempt_pkey, add primary key (org_id, state_hash);
    create index link_attempt_state on link_attempt (state_hash);

    alter table admin_api_key drop constraint admin_api_key_key_hash_key, add constraint admin_api_key_hash unique (org_id, key_hash);
    create index admin_api_key_legacy_hash on admin_api_key (key_hash);
    alter table bitbucket_token drop constraint bitbucket_token_token_hash_key, add constraint bitbucket_token_hash unique (org_id, token_hash);
    create index bitbucket_token_legacy_hash on bitbucket_token (token_hash);
    drop index connection_client_id;
    alter table connection add constraint connection_client_id unique (org_id, client_id);
    create index connection_legacy_client_id on connection (client_id);

    alter table audit_event drop constraint audit_event_id_key, add constraint audit_event_id unique (org_id, id);

    drop index account_email;
    create unique index account_email_in_org on account (org_id, lower(email));
    create table account_email (
      email text primary key,
      org_id text not null,
      account_id text not null
    );
    insert into account_email (email, org_id, account_id) select lower(email), org_id, id from account;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table account_email;
    drop index account_email_in_org;
    create unique index account_email on account (lower(email));
    alter table audit_event drop constraint audit_event_id, add constraint audit_event_id_key unique (id);
    drop index connection_legacy_client_id;
    alter table connection drop constraint connection_client_id;
    create unique index connection_client_id on connection (client_id);
    drop index bitbucket_token_legacy_hash;
    alter table bitbucket_token drop constraint bitbucket_token_hash, add constraint bitbucket_token_token_hash_key unique (token_hash);
    drop index admin_api_key_legacy_hash;
    alter table admin_api_key drop constraint admin_api_key_hash, add constraint admin_api_key_key_hash_key unique (key_hash);
    drop index link_attempt_state;
    alter table link_attempt drop constraint link_attempt_pkey, add primary key (state_hash);
    drop index authorization_code_hash;
    alter table authorization_code drop constraint authorization_code_pkey, add primary key (code_hash);
    drop index refresh_token_hash;
    alter table refresh_token drop constraint refresh_token_pkey, add primary key (token_hash);
    drop index access_token_hash;
    alter table access_token drop constraint access_token_pkey, add primary key (token_hash);
  `.execute(db);
}
