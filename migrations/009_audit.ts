// The audit log (PRODUCT §9). Each organisation's events form a SHA-256 chain: an event's hash is
// sha256(previous hash || its canonical JSON), computed in the statement that appends it, from
// the chain head it locks, so concurrent appends serialise on the head and never fork. Events
// cannot be changed or deleted: triggers refuse UPDATE always and DELETE unless the retention
// purge has set `teamgraph.audit_purge` for its own transaction; the purge records where the
// remaining chain starts (the checkpoint) so it stays verifiable.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_chain (
      org_id text primary key references organization (id),
      last_seq bigint not null default 0,
      -- the hash the next event chains from; '' before the first event
      last_hash text not null default '',
      -- set by the append statement: the hash the newest event chained from
      prev_hash text not null default '',
      -- the newest purged event; verification starts after it
      checkpoint_seq bigint not null default 0,
      checkpoint_hash text not null default ''
    );

    create table audit_event (
      org_id text not null references organization (id),
      seq bigint not null,
      id text not null unique,
      time timestamptz not null,
      action text not null,
      actor_account_id text,
      command text,
      object_types text[] not null,
      outcome text not null,
      ip text,
      -- the event exactly as hashed: canonical JSON (RFC 8785)
      event_json text not null,
      prev_hash text not null,
      hash text not null,
      primary key (org_id, seq)
    );
    create index audit_event_actor on audit_event (org_id, actor_account_id, seq desc);
    create index audit_event_time on audit_event (org_id, time);

    create function refuse_audit_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and current_setting('teamgraph.audit_purge', true) = 'on' then
        return old;
      end if;
      raise exception 'audit events cannot be changed or deleted' using errcode = 'insufficient_privilege';
    end;
    $$;
    create trigger audit_event_append_only before update or delete on audit_event
      for each row execute function refuse_audit_change();
    create trigger audit_event_no_truncate before truncate on audit_event
      for each statement execute function refuse_audit_change();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table audit_event;
    drop function refuse_audit_change();
    drop table audit_chain;
  `.execute(db);
}
