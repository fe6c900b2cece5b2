// Third-party users, groups (members may be groups), and links from third-party users to
// accounts (PRODUCT §4). Deleted users and groups keep a tombstone with their sequence number.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table external_user (
      org_id text not null,
      connection_id text not null,
      external_id text not null,
      display_name text,
      email text,
      update_sequence_number bigint not null,
      deleted boolean not null default false,
      updated_at timestamptz not null,
      primary key (org_id, connection_id, external_id)
    );
    create table external_group (
      org_id text not null,
      connection_id text not null,
      external_id text not null,
      display_name text,
      update_sequence_number bigint not null,
      deleted boolean not null default false,
      updated_at timestamptz not null,
      primary key (org_id, connection_id, external_id)
    );
    create table group_member (
      org_id text not null,
      connection_id text not null,
      group_external_id text not null,
      member_type text not null check (member_type in ('USER', 'GROUP')),
      member_external_id text not null,
      primary key (org_id, connection_id, group_external_id, member_type, member_external_id)
    );
    -- The viewer's group closure walks membership from member to group.
    create index group_member_by_member on group_member (org_id, connection_id, member_type, member_external_id);
    create table user_link (
      org_id text not null,
      connection_id text not null,
      external_id text not null,
      account_id text,
      pending_email text,
      source text not null,
      update_sequence_number bigint not null,
      created_at timestamptz not null,
      primary key (org_id, connection_id, external_id),
      check ((account_id is null) <> (pending_email is null))
    );
    create index user_link_by_account on user_link (org_id, account_id) where account_id is not null;
    create index user_link_pending on user_link (org_id, lower(pending_email)) where account_id is null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table user_link, group_member, external_group, external_user`.execute(db);
}
