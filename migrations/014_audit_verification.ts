// The audit chain's verified-up-to checkpoint (PRODUCT §9, issue 15): the newest event of each
// organisation's chain that a verification found intact, so the next one walks only what came
// after it. A table apart from audit_chain, whose row every append locks: advancing the
// checkpoint must not wait for, or hold up, the requests being audited.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_verification (
      org_id text primary key references organization (id),
      -- the event verified up to, and its hash as it was when verified
      verified_seq bigint not null,
      verified_hash text not null,
      verified_at timestamptz not null
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table audit_verification`.execute(db);
}
