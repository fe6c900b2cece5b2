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
// Forward runs first with a small and then a larger window; when the window fills without
// filling the page, the viewer sees little and the inverted plan answers.
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

const FORWARD_WINDOWS = (limit: number) => [Math.max(64, limit * 4), 2048];

export interface VisibilityPlanTrace {
  plan: 'forward' | 'inverted';
  windows: number;
}

export async function listVisibleObjects(
  db: Kysely<Database>,
  orgId: string,
  viewer: ViewerPrincipals,
  filter: ObjectListFilter,
  position: ListPosition,
  trace?: VisibilityPlanTrace,
): Promise<ObjectRow[]> {
  if (!viewer.active || filter.types.length === 0 || position.limit === 0) return [];
  if (filter.ids && filter.ids.length === 0) return [];
  const principals = [...viewer.keys];
  const windows = FORWARD_WINDOWS(position.limit);
  for (const [index, window] of windows.entries()) {
    const { rows, scanned } = await forwardPage(db, orgId, principals, filter, position, window);
    if (rows.length >= position.limit || scanned < window) {
      if (trace) Object.assign(trace, { plan: 'forward', windows: index + 1 });
      return rows;
    }
  }
  if (trace) Object.assign(trace, { plan: 'inverted', windows: windows.length });
  return invertedPage(db, orgId, principals, filter, position);
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

function filterConditions(alias: string, filter: ObjectListFilter, position: ListPosition): RawBuilder<boolean> {
  const o = sql.raw(alias);
  const conditions: RawBuilder<unknown>[] = [sql`${o}.type = any(${[...filter.types]}::text[])`];
  if (filter.cloudIds) conditions.push(sql`${o}.cloud_id = any(${[...filter.cloudIds]}::text[])`);
  if (filter.containerId) conditions.push(sql`${o}.container_id = ${filter.containerId}`);
  if (filter.ids) conditions.push(sql`${o}.id = any(${[...filter.ids]}::text[])`);
  if (filter.text) {
    const pattern = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(sql`(${o}.display_name ilike ${pattern} or ${o}.description ilike ${pattern})`);
  }
  if (filter.updatedAfter) conditions.push(sql`${o}.last_updated_at > ${filter.updatedAfter}`);
  if (filter.updatedBefore) conditions.push(sql`${o}.last_updated_at < ${filter.updatedBefore}`);
  if (position.after) {
    conditions.push(sql`(${o}.last_updated_at, ${o}.id) < (${position.after.lastUpdatedAt}::timestamptz, ${position.after.id})`);
  }
  return sql<boolean>`${sql.join(conditions, sql` and `)}`;
}

async function forwardPage(
  db: Kysely<Database>,
  orgId: string,
  principals: string[],
  filter: ObjectListFilter,
  position: ListPosition,
  window: number,
): Promise<{ rows: ObjectRow[]; scanned: number }> {
  const result = await sql<ObjectRow & { scanned: number; status: number }>`
    with recursive
    win as (
      select o.*, ${viewStatus('o', principals)} as status
      from graph_object o
      where o.org_id = ${orgId} and not o.deleted and ${filterConditions('o', filter, position)}
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
    page as (
      select w.* from win w
      where w.status = 2 or (w.status = 1 and exists (select 1 from walk k where k.origin = w.id and k.status = 2))
      order by w.last_updated_at desc, w.id desc
      limit ${position.limit}
    )
    select p.*, (select count(*) from win)::int as scanned
    from (select 1) one left join page p on true
    order by p.last_updated_at desc, p.id desc
  `.execute(db);
  const scanned = result.rows[0]?.scanned ?? 0;
  return { rows: result.rows.filter((r) => r.id !== null).map(stripExtras), scanned };
}

async function invertedPage(
  db: Kysely<Database>,
  orgId: string,
  principals: string[],
  filter: ObjectListFilter,
  position: ListPosition,
): Promise<ObjectRow[]> {
  const result = await sql<ObjectRow>`
    with recursive
    candidate as (
      select distinct e.object_id from acl_entry e
      where e.org_id = ${orgId} and e.action = ${ACTION_NUMBER.VIEW} and e.principal_key = any(${principals}::text[])
    ),
    visible (id, hops) as (
      select o.id, 0 from candidate c join graph_object o on o.org_id = ${orgId} and o.id = c.object_id and not o.deleted
      where ${viewStatus('o', principals)} = 2
      union all
      select child.id, v.hops + 1
      from visible v join graph_object child on child.org_id = ${orgId} and child.container_id = v.id and not child.deleted
      where v.hops < ${MAX_CONTAINER_HOPS} and ${viewStatus('child', principals)} = 1
    )
    select o.* from visible v join graph_object o on o.org_id = ${orgId} and o.id = v.id
    where ${filterConditions('o', filter, position)}
    order by o.last_updated_at desc, o.id desc
    limit ${position.limit}
  `.execute(db);
  return result.rows;
}

function stripExtras(row: ObjectRow & { scanned?: number; status?: number }): ObjectRow {
  const { scanned: _scanned, status: _status, ...rest } = row;
  return rest;
}
