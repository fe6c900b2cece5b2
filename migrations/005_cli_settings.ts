// The organisation's CLI permission settings (PRODUCT §5). No row means the defaults: allow all.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table cli_settings (
      org_id text primary key references organization (id),
      allow_all_by_default boolean not null,
      -- null until allow-all is first turned off (then it starts as the whole catalogue)
      selected_permissions text[],
      version integer not null,
      updated_at timestamptz not null,
      updated_by text
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table cli_settings`.execute(db);
}
