// A credential's last use is not a change to it (issue 3, no stale access; issue 18). Writing a
// session's, admin API key's or Bitbucket token's last_used_at (and a session's last_ip) changes
// nothing a request decides from, except the idle end, which the process that wrote it keeps in
// step in its own cache (CredentialCache.recordUse). Until now such a write still counted as a
// credential change (migrations 013 and 027), which cost two things:
//  - on Citus it raised the organisation's stamp, so a last-use write took the row lock of
//    principal_version after its session's: an admin who deactivated the person meanwhile took
//    them the other way round (account, then the person's sessions), and one of the two failed
//    as a deadlock;
//  - everywhere it dropped the whole organisation's cached credentials in every process, once a
//    minute for each busy credential, so a large organisation's cache was mostly empty.
// So an update of those three tables counts only for the organisations whose rows changed in
// some other column: the update triggers now compare the statement's old and new rows, less the
// last-use columns named as the trigger's arguments. Inserts, deletes and the other tables are
// as before.
import { type Kysely, sql } from 'kysely';
import { isCitus } from './distribution.ts';

/** Each table a credential's use is written to, with the columns that write sets. */
const LAST_USE_COLUMNS: Record<string, string[]> = {
  session: ['last_used_at', 'last_ip'],
  admin_api_key: ['last_used_at'],
  bitbucket_token: ['last_used_at'],
};

/**
 * Sets changed_orgs to the organisations a statement changed: with no trigger arguments, every
 * organisation of its rows; with last-use columns as arguments (updates of the tables above),
 * those with a row that differs from its old self in another column. Separate statements, since
 * PL/pgSQL plans one when it first runs and only the updates above name previous_rows. Only
 * transition tables are named, as a trigger on a Citus shard requires (migration 020).
 */
const CHANGED_ORGS = `
  if tg_nargs = 0 then
    select array_agg(distinct org_id) into changed_orgs from changed_rows;
  else
    select array_agg(distinct changed ->> 'org_id') into changed_orgs from (
      select to_jsonb(n) - tg_argv as changed from changed_rows n
      except select to_jsonb(o) - tg_argv from previous_rows o) differing;
  end if;`;

/** What each kind of credential trigger does with the organisations a statement changed. */
const RAISE_STAMP = `
  -- A last use alone: nothing to raise, and no row of principal_version to lock.
  if changed_orgs is null then return null; end if;
  insert into principal_version (org_id, version, credentials) select unnest(changed_orgs), 1, 1
    on conflict (org_id) do update set credentials = principal_version.credentials + 1;`;
const NOTIFY = `perform pg_notify('teamgraph_credentials', org_id) from unnest(changed_orgs) org_id;`;

export async function up(db: Kysely<any>): Promise<void> {
  const { citus, fn, suffix } = await credentialTriggers(db);
  await sql`
    create or replace function ${sql.raw(fn)}() returns trigger language plpgsql as $$
    declare
      changed_orgs text[];
    begin
      ${sql.raw(CHANGED_ORGS)}
      ${sql.raw(citus ? RAISE_STAMP : NOTIFY)}
      return null;
    end $$;
  `.execute(db);
  await replaceUpdateTriggers(db, fn, suffix, true);
}

export async function down(db: Kysely<any>): Promise<void> {
  const { fn, suffix } = await credentialTriggers(db);
  // The functions still serve triggers without arguments as they did (tg_nargs = 0).
  await replaceUpdateTriggers(db, fn, suffix, false);
}

/** The credential triggers' function and name suffix here; on Citus (migration 027) the stamp stands for the notification (migration 013). */
async function credentialTriggers(db: Kysely<any>): Promise<{ citus: boolean; fn: string; suffix: string }> {
  if (!(await isCitus(db))) return { citus: false, fn: 'notify_credential_change', suffix: 'notify_credentials_u' };
  await sql`set local citus.multi_shard_modify_mode = 'sequential'`.execute(db);
  // Triggers of a sharded table run on its shards (distribution.ts).
  await sql`set local citus.enable_unsafe_triggers = on`.execute(db);
  return { citus: true, fn: 'bump_credential_stamp', suffix: 'credential_stamp_u' };
}

/** Each table's update trigger, comparing old and new rows less the last-use columns, or (down) as before. */
async function replaceUpdateTriggers(db: Kysely<any>, fn: string, suffix: string, ignoringLastUse: boolean): Promise<void> {
  for (const [table, columns] of Object.entries(LAST_USE_COLUMNS)) {
    const trigger = sql.raw(`${table}_${suffix}`);
    const transitions = ignoringLastUse ? 'old table as previous_rows new table as changed_rows' : 'new table as changed_rows';
    const args = ignoringLastUse ? columns.map((c) => `'${c}'`).join(', ') : '';
    await sql`drop trigger ${trigger} on ${sql.table(table)}`.execute(db);
    await sql`
      create trigger ${trigger} after update on ${sql.table(table)}
        referencing ${sql.raw(transitions)} for each statement execute function ${sql.raw(fn)}(${sql.raw(args)});
    `.execute(db);
  }
}
