// Graph objects with their ACLs, the inverted principal index the list filter reads, and
// relationships. Deleted objects and relationships keep a tombstone (PRODUCT §2).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table graph_object (
      org_id text not null,
      id text not null,
      cloud_id text not null,
      connection_id text not null,
      type text not null,
      product text not null,
      external_id text not null,
      display_name text not null,
      description text,
      url text,
      container_type text,
      container_external_id text,
      -- resolved from the container reference once the container exists
      container_id text,
      properties jsonb,
      permissions jsonb not null,
      -- the ACL compiled to principal keys per action: {"VIEW": [["u:conn:ext", "c"], ...], ...}
      acl jsonb not null,
      -- VIEW principal keys and the number of VIEW controls: most objects have one control,
      -- so the list filter can decide them from the row alone
      view_keys text[] not null,
      view_controls smallint not null,
      created_at timestamptz not null,
      last_updated_at timestamptz not null,
      update_sequence_number bigint not null,
      deleted boolean not null default false,
      primary key (org_id, id)
    );
    create unique index graph_object_external on graph_object (org_id, connection_id, type, external_id);
    create index graph_object_recent on graph_object (org_id, last_updated_at desc, id desc) where not deleted;
    create index graph_object_children on graph_object (org_id, container_id, last_updated_at desc, id desc) where not deleted;
    create index graph_object_waiting_container on graph_object (org_id, connection_id, container_type, container_external_id)
      where container_id is null and container_external_id is not null;

    -- Inverted index from principal to the ACL controls naming it ('c' stands for CONTAINER).
    create table acl_entry (
      org_id text not null,
      principal_key text not null,
      action smallint not null,
      object_id text not null,
      control_no smallint not null,
      primary key (org_id, principal_key, action, object_id, control_no)
    );
    create index acl_entry_by_object on acl_entry (org_id, object_id, action);

    create table relationship (
      org_id text not null,
      connection_id text not null,
      type text not null,
      from_object_id text not null,
      to_object_id text not null,
      properties jsonb,
      update_sequence_number bigint not null,
      deleted boolean not null default false,
      updated_at timestamptz not null,
      primary key (org_id, from_object_id, type, to_object_id)
    );
    create index relationship_incoming on relationship (org_id, to_object_id, type, from_object_id) where not deleted;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table relationship, acl_entry, graph_object`.execute(db);
}
