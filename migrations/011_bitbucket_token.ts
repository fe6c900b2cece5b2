// Bitbucket tokens (PRODUCT §8): an account's own credential for bitbucket:* objects, beside
// OAuth. The secret is shown once and stored as SHA-256; label, scopes, optional expiry,
// revocable by the owner and by admins.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table bitbucket_token (
      org_id text not null references organization (id),
      id text not null,
      account_id text not null,
      label text not null,
      scopes text[] not null,
      token_hash text not null unique,
      created_at timestamptz not null,
      -- null: never expires
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz,
      primary key (org_id, id),
      foreign key (org_id, account_id) references account (org_id, id)
    );
    create index bitbucket_token_owner on bitbucket_token (org_id, account_id, created_at desc);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table bitbucket_token`.execute(db);
}
