// Issue 21: an organisation's audit streams. Each row is a receiver (its URL, format and sealed
// secret) and the stream's own place in the organisation's audit chain: the last event delivered,
// so a restart resumes there. The lease names the one server process that may send for the stream
// (until the lease runs out); the failure columns drive the retries and the pause after 24 hours.
import { type Kysely, sql } from 'kysely';
import { distribute } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_stream (
      org_id text not null,
      id text not null,
      url text not null,
      format text not null check (format in ('JSON_LINES', 'SPLUNK_HEC')),
      sealed_secret text not null,
      created_by text not null,
      created_at timestamptz not null,
      paused boolean not null default false,
      -- why it is paused: an admin, or delivery failing for 24 hours
      pause_reason text,
      -- the chain position delivered up to (seq of audit_event); events after it are owed
      delivered_seq bigint not null,
      delivered_event_id text,
      delivered_at timestamptz,
      last_error text,
      -- the first failure of the current run of failures; null while deliveries succeed
      failing_since timestamptz,
      failures integer not null default 0,
      next_attempt_at timestamptz,
      lease_owner text,
      lease_until timestamptz,
      primary key (org_id, id)
    );
  `.execute(db);
  // On Citus the table is sharded first: a local table may not refer to a distributed or reference one.
  await distribute(db);
  await sql`alter table audit_stream add foreign key (org_id) references organization (id)`.execute(db);
  await sql`alter table audit_stream add foreign key (org_id, created_by) references account (org_id, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table audit_stream`.execute(db);
}
