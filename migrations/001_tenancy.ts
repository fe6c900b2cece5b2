// Organisations, their sites, accounts, site membership and connections (PRODUCT §1).
// Every tenant table starts its keys with org_id so the schema can be distributed by it later.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organization (
      id text primary key,
      name text not null,
      created_at timestamptz not null
    );
    create table site (
      org_id text not null references organization (id),
      cloud_id text not null,
      name text not null,
      created_at timestamptz not null,
      primary key (org_id, cloud_id)
    );
    create index site_by_cloud_id on site (cloud_id);
    create table account (
      org_id text not null references organization (id),
      id text not null,
      email text not null,
      display_name text not null,
      password_hash text,
      active boolean not null default true,
      is_org_admin boolean not null default false,
      created_at timestamptz not null,
      primary key (org_id, id)
    );
    -- Sign-in is by e-mail before the organisation is known, so e-mails are unique across all.
    create unique index account_email on account (lower(email));
    create index account_by_id on account (id);
    create table site_member (
      org_id text not null,
      account_id text not null,
      cloud_id text not null,
      primary key (org_id, account_id, cloud_id),
      foreign key (org_id, account_id) references account (org_id, id),
      foreign key (org_id, cloud_id) references site (org_id, cloud_id)
    );
    create table connection (
      org_id text not null,
      id text not null,
      cloud_id text not null,
      provider text not null,
      client_id text not null,
      client_secret_hash text not null,
      created_at timestamptz not null,
      primary key (org_id, id),
      foreign key (org_id, cloud_id) references site (org_id, cloud_id)
    );
    create unique index connection_client_id on connection (client_id);
    create index connection_by_id on connection (id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table connection, site_member, account, site, organization`.execute(db);
}
