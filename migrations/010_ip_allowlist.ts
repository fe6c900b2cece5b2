// The organisation's IP and location allowlist (PRODUCT §7). No row means no allowlist. Rules are
// stored in canonical CIDR form with their descriptions; locations are ISO 3166-1 alpha-2 codes.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table ip_allowlist (
      org_id text primary key references organization (id),
      enabled boolean not null,
      -- [{"cidr": "203.0.113.0/24", "description": "office"}]
      rules jsonb not null,
      locations text[] not null,
      version integer not null,
      updated_at timestamptz not null,
      updated_by text not null
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table ip_allowlist`.execute(db);
}
