// Issue 18: appending an audit event is one call of audit_append, which chains the event from the
// organisation's head (migration 009) and inserts it. On Citus the function is distributed by its
// organisation argument, so the coordinator hands the whole call to the node that holds that
// organisation's shards, in one round trip; elsewhere it runs where it is called, as the one
// statement it replaces did. Citus also wants the functions of an upsert's DO UPDATE SET to be
// IMMUTABLE: audit_chain_hash is, as the database's encoding never changes.
import { type Kysely, sql } from 'kysely';
import { isCitus } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function audit_chain_hash(previous_hash text, event_json text) returns text
      language sql immutable parallel safe
      as $$ select encode(sha256(convert_to(previous_hash || event_json, 'UTF8')), 'hex') $$;

    create function audit_append(
      p_org_id text, p_id text, p_time timestamptz, p_action text, p_actor_account_id text, p_command text,
      p_object_types text[], p_outcome text, p_ip text, p_event_json text
    ) returns void language plpgsql as $$
    declare
      head record;
    begin
      insert into audit_chain as c (org_id, last_seq, prev_hash, last_hash)
      values (p_org_id, 1, '', audit_chain_hash('', p_event_json))
      on conflict (org_id) do update set
        last_seq = c.last_seq + 1,
        prev_hash = c.last_hash,
        last_hash = audit_chain_hash(c.last_hash, p_event_json)
      returning c.last_seq, c.prev_hash, c.last_hash into head;
      insert into audit_event (org_id, seq, id, time, action, actor_account_id, command, object_types, outcome, ip, event_json, prev_hash, hash)
      values (p_org_id, head.last_seq, p_id, p_time, p_action, p_actor_account_id, p_command, p_object_types, p_outcome, p_ip, p_event_json, head.prev_hash, head.last_hash);
    end $$;
  `.execute(db);
  if (await isCitus(db)) {
    await sql`select create_distributed_function('audit_append(text, text, timestamptz, text, text, text, text[], text, text, text)', 'p_org_id', colocate_with => 'audit_chain')`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function audit_append(text, text, timestamptz, text, text, text, text[], text, text, text); drop function audit_chain_hash(text, text)`.execute(db);
}
