// The viewer's principal set: the live third-party users linked to the account, the closure of
// their groups (nested, cycle-safe through UNION), and the sites the account is a member of. A
// deactivated account gets an inactive, empty set. With it come the organisation's disabled
// connections, whose objects nobody sees (issue 5); they change the principal version too.
//
// Computing it is the costliest statement of a single-object read (a viewer in 250 groups: about
// 2.6 ms on PGlite), so sets are kept across requests under the organisation's principal version
// (migration 006), which every request reads with its session. A set is used only by requests that
// read the very version it was computed under, so no request sees a set older than its own
// snapshot, on any process.
import { inRequestScope } from '../db/request-transaction.ts';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { withIndexPlans } from '../db/index-plans.ts';
import type { ViewerPrincipals } from './acl-engine.ts';

export const NO_PRINCIPALS: ViewerPrincipals = { active: false, keys: new Set() };

/** A bounded, least-recently-used map of principal sets by organisation, account and version. */
export class PrincipalCache {
  private readonly sets = new Map<string, { version: number; principals: Promise<ViewerPrincipals> }>();

  private readonly maxAccounts: number;
  private readonly onLookup: (result: 'hit' | 'miss' | 'uncached') => void;

  /** `onLookup` hears how each lookup was answered (the metrics). */
  constructor(
    private readonly db: Kysely<Database>,
    { maxAccounts = 10_000, onLookup = () => {} }: { maxAccounts?: number; onLookup?: (result: 'hit' | 'miss' | 'uncached') => void } = {},
  ) {
    this.maxAccounts = maxAccounts;
    this.onLookup = onLookup;
  }

  get(orgId: string, accountId: string, version: number): Promise<ViewerPrincipals> {
    // Inside a request transaction, a load shared with another request could wait for this
    // transaction's connection (the embedded database has one): load privately.
    if (inRequestScope()) {
      this.onLookup('uncached');
      return loadViewerPrincipals(this.db, orgId, accountId);
    }
    const key = `${orgId}\u0000${accountId}`;
    const cached = this.sets.get(key);
    this.sets.delete(key);
    if (cached && cached.version === version) {
      this.sets.set(key, cached);
      this.onLookup('hit');
      return cached.principals;
    }
    this.onLookup('miss');
    const principals = loadViewerPrincipals(this.db, orgId, accountId);
    const entry = { version, principals };
    this.sets.set(key, entry);
    // A failed load is not kept: the next request tries again.
    principals.catch(() => {
      if (this.sets.get(key) === entry) this.sets.delete(key);
    });
    if (this.sets.size > this.maxAccounts) this.sets.delete(this.sets.keys().next().value!);
    return principals;
  }
}

export async function loadViewerPrincipals(db: Kysely<Database>, orgId: string, accountId: string): Promise<ViewerPrincipals> {
  // Every step is a lookup by one of the directory's indexes, under index plans so that a planner
  // without statistics cannot hash or scan whole membership tables instead (issue 16: a viewer in
  // 1,980 groups took 180 ms never analyzed at 1,000,000 objects, and 12 ms so).
  const result = await withIndexPlans(db, orgId, (trx, org) => sql<{ key: string | null; active: boolean | null }>`
    with recursive
    me as (
      select id from account where org_id = ${org} and id = ${accountId} and active
    ),
    -- A link to a third-party user the connection deleted matches nothing (anything unknown denies).
    linked as (
      select l.connection_id, l.external_id
      from me cross join lateral (select * from user_link l where l.org_id = ${org} and l.account_id = me.id offset 0) l
      where not coalesce((select u.deleted from external_user u
          where u.org_id = ${org} and u.connection_id = l.connection_id and u.external_id = l.external_id limit 1), false)
    ),
    -- Each step looks up the groups of one member (LATERAL): as a join, the planner may instead
    -- scan every group membership of the organisation once per member found.
    closure (connection_id, group_id) as (
      select m.connection_id, m.group_external_id
      from linked l cross join lateral (${groupsOf(org, 'USER', sql`l.connection_id`, sql`l.external_id`)}) m
      union
      select m.connection_id, m.group_external_id
      from closure c cross join lateral (${groupsOf(org, 'GROUP', sql`c.connection_id`, sql`c.group_id`)}) m
    )
    select 'u:' || connection_id || ':' || external_id as key, true as active from linked
    union all
    select 'g:' || connection_id || ':' || group_id, true from closure
    union all
    select 'w:' || s.cloud_id, true from me cross join lateral (select s.cloud_id from site_member s where s.org_id = ${org} and s.account_id = me.id offset 0) s
    union all
    select 'x:' || c.id, true from connection c join me on true
    where c.org_id = ${org} and (c.disabled_at is not null or c.deletion_started_at is not null)
    union all
    select null, true from me
  `.execute(trx));
  if (result.rows.length === 0) return NO_PRINCIPALS;
  const keys = new Set<string>();
  const hiddenConnections: string[] = [];
  for (const { key } of result.rows) {
    if (key?.startsWith('x:')) hiddenConnections.push(key.slice(2));
    else if (key !== null) keys.add(key);
  }
  return { active: true, keys, ...(hiddenConnections.length > 0 ? { hiddenConnections } : {}) };
}

/** The groups one member belongs to directly, as a lookup of group_member_by_member. */
function groupsOf(org: RawBuilder<string>, memberType: 'USER' | 'GROUP', connectionId: RawBuilder<unknown>, externalId: RawBuilder<unknown>) {
  return sql`
    select m.connection_id, m.group_external_id from group_member m
    where m.org_id = ${org} and m.connection_id = ${connectionId} and m.member_type = ${memberType} and m.member_external_id = ${externalId}
    offset 0`;
}
