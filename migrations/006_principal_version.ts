// A per-organisation counter of the facts a viewer's principal set is computed from: accounts
// (active), site membership, user links, third-party users (deleted) and group membership.
// Triggers bump it in the same transaction as any change to those tables, so a principal set
// cached under version V was computed from facts at least as new as V; a request reads the
// version with its session and never uses a set older than what it would compute itself.
import { type Kysely, sql } from 'kysely';

const SOURCES = ['account', 'site_member', 'user_link', 'external_user', 'group_member'];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table principal_version (
      org_id text primary key references organization (id),
      version bigint not null
    );
    insert into principal_version (org_id, version) select id, 1 from organization;
    -- Statement-level, so a batch of 2,000 memberships bumps once per organisation it touched.
    -- Statement-level, so a batch of 2,000 memberships bumps once per organisation it touched.
    -- Every trigger below names its transition table changed_rows, so one function serves all.
    create function bump_principal_version() returns trigger language plpgsql as $$
    begin
      insert into principal_version (org_id, version) select distinct org_id, 1 from changed_rows
        on conflict (org_id) do update set version = principal_version.version + 1;
      return null;
    end $$;
  `.execute(db);
  for (const table of SOURCES) {
    // A trigger with transition tables may name one event only.
    await sql`
      create trigger ${sql.raw(`${table}_bump_principal_version_i`)} after insert on ${sql.table(table)}
        referencing new table as changed_rows for each statement execute function bump_principal_version();
      create trigger ${sql.raw(`${table}_bump_principal_version_u`)} after update on ${sql.table(table)}
        referencing new table as changed_rows for each statement execute function bump_principal_version();
      create trigger ${sql.raw(`${table}_bump_principal_version_d`)} after delete on ${sql.table(table)}
        referencing old table as changed_rows for each statement execute function bump_principal_version();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of SOURCES) {
    for (const suffix of ['i', 'u', 'd']) await sql`drop trigger ${sql.raw(`${table}_bump_principal_version_${suffix}`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function bump_principal_version(); drop table principal_version`.execute(db);
}
