// Issue 21: fair-use rate limits. Each credential (session, admin API key, Bitbucket token,
// connection) spends points from an hourly budget; what it spent is counted here, in the database,
// so that every server process charges the same row. An organisation admin may lower the
// operator's default budgets; those lower budgets are read with the credential, so a change to
// them notifies the credential change feed (migration 013) where that feed exists (not on Citus,
// see migration 020).
import { type Kysely, sql } from 'kysely';
import { distribute, isCitus } from './distribution.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table rate_limit_usage (
      org_id text not null,
      -- session, admin-api-key, bitbucket-token or connection
      credential_kind text not null,
      credential_id text not null,
      -- the window starts with the first request charged after the previous one ended, and lasts an hour
      window_start timestamptz not null,
      used integer not null,
      primary key (org_id, credential_kind, credential_id)
    );
    create table rate_limit_setting (
      org_id text primary key,
      -- points per hour; null: the operator's default
      session_points integer,
      admin_api_key_points integer,
      bitbucket_token_points integer,
      connection_points integer,
      version integer not null,
      updated_at timestamptz not null,
      updated_by text not null
    );
  `.execute(db);
  // The charge is one call: it adds the cost to the credential's window if it fits, and unless the
  // caller needs it durable, its transaction commits without waiting for the WAL flush
  // (synchronous_commit set for that transaction alone). On Citus the function is distributed by
  // its organisation argument, so the coordinator hands the whole call to the node holding that
  // organisation's shards, where the commit happens; a statement could not carry the setting there
  // (Citus allows no volatile function in RETURNING, and plans INSERT … SELECT apart). The answer
  // is one jsonb value, as Citus hands on only a call of the form `select f(…)`.
  await sql`
    create function rate_limit_charge(
      p_org_id text, p_kind text, p_id text, p_now timestamptz, p_ended_before timestamptz, p_cost integer, p_limit integer, p_durable boolean
    ) returns jsonb language plpgsql as $$
    declare
      charged record;
    begin
      if not p_durable then
        perform set_config('synchronous_commit', 'off', true);
      end if;
      insert into rate_limit_usage as u (org_id, credential_kind, credential_id, window_start, used)
      values (p_org_id, p_kind, p_id, p_now, p_cost)
      on conflict (org_id, credential_kind, credential_id) do update set
        window_start = case when u.window_start <= p_ended_before then excluded.window_start else u.window_start end,
        used = case when u.window_start <= p_ended_before then excluded.used else u.used + excluded.used end
      where u.window_start <= p_ended_before or u.used + excluded.used <= p_limit
      returning u.used, u.window_start into charged;
      -- null: it did not fit, and nothing was written
      return case when charged is null then null else jsonb_build_object('used', charged.used, 'windowStart', charged.window_start) end;
    end $$;
  `.execute(db);
  if (await isCitus(db)) {
    // Sharded before its foreign key is added: Citus would make a local table that refers to a
    // reference table a local table of the coordinator's, which distribute() then leaves alone.
    await distribute(db);
    await sql`alter table rate_limit_setting add foreign key (org_id) references organization (id)`.execute(db);
    await sql`select create_distributed_function('rate_limit_charge(text, text, text, timestamptz, timestamptz, integer, integer, boolean)', 'p_org_id', colocate_with => 'rate_limit_usage')`.execute(db);
    return;
  }
  await sql`alter table rate_limit_setting add foreign key (org_id) references organization (id)`.execute(db);
  for (const suffix of ['i', 'u', 'd']) {
    const event = { i: 'insert', u: 'update', d: 'delete' }[suffix]!;
    const transition = suffix === 'd' ? 'old' : 'new';
    await sql`
      create trigger ${sql.raw(`rate_limit_setting_notify_credentials_${suffix}`)} after ${sql.raw(event)} on rate_limit_setting
        referencing ${sql.raw(transition)} table as changed_rows for each statement execute function notify_credential_change();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function rate_limit_charge(text, text, text, timestamptz, timestamptz, integer, integer, boolean)`.execute(db);
  await sql`drop table rate_limit_setting`.execute(db);
  await sql`drop table rate_limit_usage`.execute(db);
}
