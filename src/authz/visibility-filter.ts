// The list filter (PRODUCT §3): one page of the objects a viewer may VIEW, newest first, decided
// in SQL so a page never costs what the viewer cannot see.
//
// Each object has a status for the viewer: 2 = its VIEW controls are satisfied by the viewer's
// principals alone; 1 = they are satisfied if the container is visible (CONTAINER principals);
// 0 = never. Objects with one VIEW control (most of them) get their status from the row itself
// (view_keys && principals); the others count satisfied controls in acl_entry.
//
// Two plans, chosen per request because the planner cannot know how much a viewer sees:
//  - forward: walk the newest objects matching the filter in a bounded window, resolving
//    status-1 rows up their container chain. Right when the viewer sees much.
//  - inverted: start from acl_entry rows naming the viewer's principals, then descend into
//    children that inherit (status 1). Right when the viewer sees little.
// A small forward probe runs first and answers for viewers who see much. When it finds less than
// half a page of visible objects (whatever a text filter says), the viewer sees little: the
// inverted plan answers, unless the visible set turns out larger than INVERTED_CAP; then forward
// windows sized from the probe's density take over. A text filter is matched on rows already
// examined, never in the scan that chooses them (issue 15: see forwardPage).
// (A window sized from a sparse probe is a noisy guess, and a wrong guess costs thousands of
// rows; the inverted plan costs what the viewer sees, which a sparse probe says is little.)
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, GraphObjectTable } from '../db/database.ts';
import type { Selectable } from 'kysely';
import { ACTION_NUMBER, CONTAINER_KEY, MAX_CONTAINER_HOPS } from './acl.ts';
import type { ViewerPrincipals } from './acl-engine.ts';

export type ObjectRow = Selectable<GraphObjectTable>;

export interface ObjectListFilter {
  /** Types the request may read; an empty list yields nothing. */
  types: readonly string[];
  cloudIds?: readonly string[] | null;
  containerId?: string | null;
  text?: string | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
  /** Restrict to these ids (used to check a known set, e.g. relationship ends). */
  ids?: readonly string[] | null;
}

export interface ListPosition {
  after?: { lastUpdatedAt: Date; id: string } | null;
  /** Rows wanted; callers ask for one more than the page to learn whether a next page exists. */
  limit: number;
}

/** Rows the first forward window examines. */
const probeWindow = (limit: number) => Math.max(64, limit * 4);
/** The inverted plan gives up when the viewer may see more objects than this. */
export const INVERTED_CAP = 5000;

export interface VisibilityPlanTrace {
  plan: 'forward' | 'inverted';
  /** SQL statements the choice took. */
  statements: number;
}

export async function listVisibleObjects(
  db: Kysely<Database>,
  orgId: string,
  viewer: ViewerPrincipals,
  filter: ObjectListFilter,
  position: ListPosition,
  trace?: VisibilityPlanTrace,
  tuning: { invertedCap?: number; probeWindow?: number } = {},
): Promise<ObjectRow[]> {
  if (!viewer.active || filter.types.length === 0 || position.limit === 0) return [];
  if (filter.ids && filter.ids.length === 0) return [];
  const principals = [...viewer.keys];
  const hidden = viewer.hiddenConnections ?? [];
  const done = (rows: ObjectRow[], plan: VisibilityPlanTrace['plan'], statements: number) => {
    if (trace) Object.assign(trace, { plan, statements });
    return rows;
  };
  let window = tuning.probeWindow ?? probeWindow(position.limit);
  const probe = await forwardPage(db, orgId, principals, hidden, filter, position, window);
  if (probe.rows.length >= position.limit || probe.scanned < window) return done(probe.rows, 'forward', 1);
  let statements = 1;
  // How much the viewer sees is told by the window's visible rows, whatever the text says (issue
  // 15: a text's matches among invisible objects must not choose the plan).
  if (probe.visible < position.limit / 2) {
    statements++;
    const inverted = await invertedPage(db, orgId, principals, hidden, filter, position, tuning.invertedCap ?? INVERTED_CAP);
    if (inverted) return done(inverted, 'inverted', statements);
  }
  // The viewer sees a fair share, just not among the newest: widen the window to where the page
  // should be by the probe's density, and keep widening until the page fills or objects run out.
  window = Math.ceil((window * position.limit * 2) / Math.max(1, probe.rows.length));
  for (;;) {
    statements++;
    const { rows, scanned } = await forwardPage(db, orgId, principals, hidden, filter, position, window);
    if (rows.length >= position.limit || scanned < window) return done(rows, 'forward', statements);
    window *= 4;
  }
}

/** The status (0, 1, 2 as above) of the object row aliased `alias`. */
function viewStatus(alias: string, principals: string[]): RawBuilder<number> {
  const o = sql.raw(alias);
  const keys = sql`${principals}::text[]`;
  return sql<number>`(case
    when ${o}.view_controls = 0 then 0
    when ${o}.view_controls = 1 then
      case when ${o}.view_keys && ${keys} then 2 when ${CONTAINER_KEY} = any(${o}.view_keys) then 1 else 0 end
    else (
      select case
        when count(distinct e.control_no) filter (where e.principal_key = any(${keys})) = ${o}.view_controls then 2
        when count(distinct e.control_no) = ${o}.view_controls then 1
        else 0 end
      from acl_entry e
      where e.org_id = ${o}.org_id and e.object_id = ${o}.id and e.action = ${ACTION_NUMBER.VIEW}
        and (e.principal_key = any(${keys}) or e.principal_key = ${CONTAINER_KEY})
    ) end)`;
}

function filterConditions(alias: string, filter: ObjectListFilter, position: ListPosition, options: { text: boolean } = { text: true }): RawBuilder<boolean> {
  const o = sql.raw(alias);
  const conditions: RawBuilder<unknown>[] = [sql`${o}.type = any(${[...filter.types]}::text[])`];
  if (filter.cloudIds) conditions.push(sql`${o}.cloud_id = any(${[...filter.cloudIds]}::text[])`);
  if (filter.containerId) conditions.push(sql`${o}.container_id = ${filter.containerId}`);
  if (filter.ids) conditions.push(sql`${o}.id = any(${[...filter.ids]}::text[])`);
  if (filter.text && options.text) conditions.push(textMatches(alias, filter.text));
  if (filter.updatedAfter) conditions.push(sql`${o}.last_updated_at > ${filter.updatedAfter}`);
  if (filter.updatedBefore) conditions.push(sql`${o}.last_updated_at < ${filter.updatedBefore}`);
  if (position.after) {
    conditions.push(sql`(${o}.last_updated_at, ${o}.id) < (${position.after.lastUpdatedAt}::timestamptz, ${position.after.id})`);
  }
  return sql<boolean>`${sql.join(conditions, sql` and `)}`;
}

function textMatches(alias: string, text: string): RawBuilder<boolean> {
  const o = sql.raw(alias);
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<boolean>`(${o}.display_name ilike ${pattern} or ${o}.description ilike ${pattern})`;
}

/** Leaves out the objects of hidden (disabled) connections; container chains stay within one connection. */
function notHidden(alias: string, hidden: readonly string[]): RawBuilder<unknown> {
  return hidden.length === 0 ? sql`` : sql` and ${sql.raw(alias)}.connection_id <> all(${[...hidden]}::text[])`;
}

async function forwardPage(
  db: Kysely<Database>,
  orgId: string,
  principals: string[],
  hidden: readonly string[],
  filter: ObjectListFilter,
  position: ListPosition,
  window: number,
): Promise<{ rows: ObjectRow[]; scanned: number; visible: number }> {
  // Issue 15: the text is matched on the window's rows, not in the scan that fills the window.
  // Were it in the scan, how many rows the window examines (and so which plan answers, and how
  // fast) would depend on how many objects match the text, visible or not, and a viewer could
  // time whether objects it may not see hold a word. This way a window costs what the same window
  // without the text costs, plus one match per row; the page takes the visible rows that match,
  // and the inverted plan matches the text only in the visible set. The price: a rare text walks
  // windows of every object in order instead of one scan of the matching ones (bench/RESULTS.md).
  const text = filter.text ? textMatches('o', filter.text) : sql<boolean>`true`;
  // The window carries what deciding needs; the page's rows alone are read whole (a window may
  // grow to many thousand rows).
  const result = await sql<ObjectRow & { scanned: number; visible: number }>`
    with recursive
    win as (
      select o.id, o.container_id, o.last_updated_at, ${viewStatus('o', principals)} as status, ${text} as matches
      from graph_object o
      where o.org_id = ${orgId} and not o.deleted and ${filterConditions('o', filter, position, { text: false })}${notHidden('o', hidden)}
      order by o.last_updated_at desc, o.id desc
      limit ${window}
    ),
    walk (origin, container_id, hops, status) as (
      select w.id, p.container_id, 1, ${viewStatus('p', principals)}
      from win w join graph_object p on p.org_id = ${orgId} and p.id = w.container_id and not p.deleted
      where w.status = 1
      union all
      select k.origin, p.container_id, k.hops + 1, ${viewStatus('p', principals)}
      from walk k join graph_object p on p.org_id = ${orgId} and p.id = k.container_id and not p.deleted
      where k.status = 1 and k.hops < ${MAX_CONTAINER_HOPS}
    ),
    shown as (
      select w.id, w.last_updated_at, w.matches from win w
      where w.status = 2 or (w.status = 1 and exists (select 1 from walk k where k.origin = w.id and k.status = 2))
    ),
    page as (
      select s.id, s.last_updated_at from shown s where s.matches
      order by s.last_updated_at desc, s.id desc
      limit ${position.limit}
    )
    select o.*, (select count(*) from win)::int as scanned, (select count(*) from shown)::int as visible
    from (select 1) one
    left join page p on true
    left join lateral (select * from graph_object g where g.org_id = ${orgId} and g.id = p.id) o on true
    order by p.last_updated_at desc, p.id desc
  `.execute(db);
  const { scanned = 0, visible = 0 } = result.rows[0] ?? {};
  return { rows: result.rows.filter((r) => r.id !== null).map(stripExtras), scanned, visible };
}

/** The page from the viewer's whole visible set; null when that set is larger than `cap`. */
async function invertedPage(
  db: Kysely<Database>,
  orgId: string,
  principals: string[],
  hidden: readonly string[],
  filter: ObjectListFilter,
  position: ListPosition,
  cap: number,
): Promise<ObjectRow[] | null> {
  // `capped` stops the recursion after cap + 1 rows, so giving up costs little. The visible set
  // carries the columns the filter and the order need, so only the page's rows are read again.
  const result = await sql<ObjectRow & { visible_count: number }>`
    with recursive
    candidate as (
      select distinct e.object_id from acl_entry e
      where e.org_id = ${orgId} and e.action = ${ACTION_NUMBER.VIEW} and e.principal_key = any(${principals}::text[])
    ),
    visible (id, hops, last_updated_at, type, cloud_id, container_id, display_name, description) as (
      select o.id, 0, o.last_updated_at, o.type, o.cloud_id, o.container_id, o.display_name, o.description
      from candidate c join graph_object o on o.org_id = ${orgId} and o.id = c.object_id and not o.deleted
      where ${viewStatus('o', principals)} = 2${notHidden('o', hidden)}
      union all
      select child.id, v.hops + 1, child.last_updated_at, child.type, child.cloud_id, child.container_id, child.display_name, child.description
      from visible v join graph_object child on child.org_id = ${orgId} and child.container_id = v.id and not child.deleted
      where v.hops < ${MAX_CONTAINER_HOPS} and ${viewStatus('child', principals)} = 1
    ),
    capped as (select * from visible limit ${cap + 1}),
    total as (select count(*)::int as visible_count from capped)
    select total.visible_count, page.* from total left join lateral (
      select o.* from (
        select v.id from capped v
        where ${filterConditions('v', filter, position)}
        order by v.last_updated_at desc, v.id desc
        limit ${position.limit}
      ) chosen join graph_object o on o.org_id = ${orgId} and o.id = chosen.id
    ) page on true
    order by page.last_updated_at desc, page.id desc
  `.execute(db);
  if ((result.rows[0]?.visible_count ?? 0) > cap) return null;
  return result.rows.filter((r) => r.id !== null).map(stripExtras);
}

function stripExtras(row: ObjectRow & { scanned?: number; visible?: number; visible_count?: number }): ObjectRow {
  const { scanned: _scanned, visible: _visible, visible_count: _count, ...rest } = row;
  return rest;
}
