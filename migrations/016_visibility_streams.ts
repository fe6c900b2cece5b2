// Issue 16: the list filter reads a viewer's objects newest first from per-principal and
// per-container streams (src/authz/visibility-filter.ts), so a page costs what the viewer sees of
// the newest objects, whatever the planner's statistics say.
//  - acl_entry keeps VIEW controls only (nothing read EDIT or DELETE rows; decisions on those
//    read the object's compiled ACL) and carries the object's last_updated_at, so each principal's
//    objects come newest first from one index.
//  - graph_object.has_children marks the objects some child names as container (set when the
//    first child is stored; a stale true only costs an empty stream), and acl_entry.on_container
//    copies it onto the container's entries. Two partial indexes follow: containers' entries by
//    principal (where a viewer's visible containers start) and containers by their own container
//    (how the walk descends). Both are btree lookups of one key each: no index combination or
//    row estimate can turn them into a scan of the organisation.
//  - No statistics on org_id of the tables a request reads. Statistics describe the tenants that
//    were there at the last ANALYZE: a new or small organisation in a table a large one fills is
//    estimated at one row, every index that starts with org_id then costs the same, and a
//    planner that picks the wrong one reads the whole organisation (measured: 2,566 rows per
//    lookup). Without them, org_id = $1 has the same default estimate never analyzed, analyzed,
//    or skewed, and the index that also matches the rest of the condition wins.
import { type Kysely, sql } from 'kysely';

const TENANT_TABLES = ['graph_object', 'acl_entry', 'relationship', 'external_user', 'external_group', 'group_member', 'user_link', 'site_member', 'account'];

export async function up(db: Kysely<any>): Promise<void> {
  for (const table of TENANT_TABLES) await sql`alter table ${sql.table(table)} alter column org_id set statistics 0`.execute(db);
  await sql`
    delete from acl_entry where action <> 1;
    alter table acl_entry drop constraint acl_entry_pkey;
    drop index acl_entry_by_object;
    alter table acl_entry drop column action;
    alter table acl_entry add column last_updated_at timestamptz;
    alter table acl_entry add column on_container boolean not null default false;
    update acl_entry e set last_updated_at = o.last_updated_at from graph_object o where o.org_id = e.org_id and o.id = e.object_id;
    alter table acl_entry alter column last_updated_at set not null;
    alter table acl_entry add primary key (org_id, object_id, control_no, principal_key);
    create index acl_entry_recent on acl_entry (org_id, principal_key, last_updated_at desc, object_id desc);

    alter table graph_object add column has_children boolean not null default false;
    update graph_object p set has_children = true
      where exists (select 1 from graph_object c where c.org_id = p.org_id and c.container_id = p.id);
    update acl_entry e set on_container = true from graph_object o where o.org_id = e.org_id and o.id = e.object_id and o.has_children;
    create index acl_entry_containers on acl_entry (org_id, principal_key) where on_container;
    create index graph_object_subcontainers on graph_object (org_id, container_id) where has_children and not deleted;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TENANT_TABLES) await sql`alter table ${sql.table(table)} alter column org_id set statistics -1`.execute(db);
  await sql`
    drop index graph_object_subcontainers;
    drop index acl_entry_containers;
    alter table acl_entry drop column on_container;
    alter table graph_object drop column has_children;
    drop index acl_entry_recent;
    alter table acl_entry drop constraint acl_entry_pkey;
    alter table acl_entry drop column last_updated_at;
    alter table acl_entry add column action smallint not null default 1;
    alter table acl_entry alter column action drop default;
    alter table acl_entry add primary key (org_id, principal_key, action, object_id, control_no);
    create index acl_entry_by_object on acl_entry (org_id, object_id, action);
  `.execute(db);
}
