// Admin API keys (PRODUCT §5): for scripts and `twg admin …`, created by an org admin, the secret
// shown once and stored as SHA-256, an optional expiry, revocable. Keys belong to the
// organisation and record who created them.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table admin_api_key (
      org_id text not null references organization (id),
      id text not null,
      name text not null,
      key_hash text not null unique,
      created_by text not null,
      created_at timestamptz not null,
      -- null: never expires
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      primary key (org_id, id),
      foreign key (org_id, created_by) references account (org_id, id)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table admin_api_key`.execute(db);
}
