// The list filter (PRODUCT §3): one page of the objects a viewer may VIEW, newest first, decided
// in SQL so that a page costs what the viewer sees among the newest objects, never what it cannot
// see, and never what the planner guesses.
//
// Each object has a status for the viewer: 2 = its VIEW controls are satisfied by the viewer's
// principals alone; 1 = they are satisfied if the container is visible (CONTAINER principals);
// 0 = never. Objects with one VIEW control (most of them) get their status from the row itself
// (view_keys && principals); the others count satisfied controls in acl_entry.
//
// Two plans, chosen per request from what the first statement saw, not from table statistics:
//  - forward: walk the newest objects matching the filter in a bounded window, resolving status-1
//    rows up their container chain. Right when the viewer sees much of the newest.
//  - streams: merge the viewer's streams newest first. A stream is one principal's VIEW entries
//    (acl_entry_recent: principal, time) or one visible container's children (graph_object_
//    children: container, time); each yields only rows that are visible and match the filter.
//    The visible containers are found from the containers the viewer's keys name (acl_entry's
//    entries of containers) and by descending through children that inherit (status 1). A page
//    takes the newest row of every stream, then at most a page from the streams whose newest row
//    is not older than the page's newest possible last row: the page costs about (streams + page)
//    index steps, whether the viewer's objects are new or old, few or many. A filter that some
//    streams never match (a type, a word) would have their walks read them to their end; so each
//    walk examines at most a number of entries, and a round whose stopped walks could still hold
//    rows newer than the page's last row is run again with eight times the number (streamsRound).
//  - text: with a text filter, every object holding the text (a trigram index, migration 018),
//    decided like a window. For viewers who see most of the newest objects and a text rare among
//    them, where a window would walk the organisation and a stream every object the viewer sees.
// A forward probe runs first and answers for viewers who see much. When it finds half a page or
// more of visible objects, one window sized from the density of visible matching rows may
// follow; when that falls short, or the viewer sees little, the streams answer, or the text
// plan for a text filter and a viewer who sees much. At most three statements after the settings,
// and up to three more when a filter leaves the streams' first round short.
//
// Why the planner cannot get these wrong (issue 16): every step is meant to be an index-ordered
// scan with a LIMIT inside a LATERAL loop, or a primary-key lookup, driven by a small materialized
// set (the viewer's keys, its visible containers). Statement shape alone does not hold that: a
// planner that believes an organisation small (never analyzed, or analyzed while a larger one
// filled the table) reads it whole through another index and sorts (240 ms instead of 3 at
// 100,000 objects). So the statements run in a transaction whose planner settings leave only
// index scans, nested loops and no sort where an index gives the order (withIndexPlans); the
// transaction is rolled back, so the settings end with it, even inside a request's transaction.
// The principal array reaches the planner only behind a scalar subquery, so planning does not
// weigh it element by element. Statements name the organisation as withIndexPlans hands it (on
// Citus a literal, so that the coordinator keeps their plans: db/coordinator-plans.ts). A test runs
// EXPLAIN ANALYZE on a never-analyzed database and on a skewed one and refuses a sequential scan,
// or any scan of graph_object or acl_entry that reads a good part of the organisation.
//
// A text filter is matched on rows already found visible (or examined by the forward window),
// never in the scan that chooses them, so how many rows a page walks does not depend on whether
// objects the viewer may not see hold the text (issue 15: see forwardPage).
import { createHash } from 'node:crypto';
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { allowTextSearch, withIndexPlans } from '../db/index-plans.ts';
import type { GraphObjectTable } from '../modules/object/object.table.ts';
import { CONTAINER_KEY, MAX_CONTAINER_HOPS } from './acl.ts';
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
}

export interface ListPosition {
  after?: { lastUpdatedAt: Date; id: string } | null;
  /** Rows wanted; callers ask for one more than the page to learn whether a next page exists. */
  limit: number;
}

export type VisibilityPlan = 'forward' | 'streams' | 'text';

export interface VisibilityPlanTrace {
  plan: VisibilityPlan;
  /** SQL statements the choice took. */
  statements: number;
}

export interface VisibilityTuning {
  /** Rows the first forward window examines. */
  probeWindow?: number;
  /** The largest forward window after the probe; a sparser viewer goes to the streams. */
  maxWindow?: number;
  /** Skip the choice (tests run each plan over the same data). */
  plan?: VisibilityPlan;
  /** Entries a stream's walk examines in the streams plan's first round (see streamCaps). */
  streamCap?: number;
}

const probeWindow = (limit: number) => Math.max(64, limit * 4);
/** Past this many rows, a forward window costs more than the streams of a viewer who sees little. */
const MAX_WINDOW = 2000;

export async function listVisibleObjects(
  db: Kysely<Database>,
  orgId: string,
  viewer: ViewerPrincipals,
  filter: ObjectListFilter,
  position: ListPosition,
  trace?: VisibilityPlanTrace,
  tuning: VisibilityTuning = {},
): Promise<ObjectRow[]> {
  if (!viewer.active || filter.types.length === 0 || position.limit === 0) return [];
  const { rows, plan, statements } = await withIndexPlans(db, orgId, (trx, org) =>
    choosePlan(trx, { orgId, org, principals: [...viewer.keys], hidden: viewer.hiddenConnections ?? [], filter, position }, tuning),
  );
  if (trace) Object.assign(trace, { plan, statements });
  return rows;
}

async function choosePlan(db: Kysely<Database>, query: ListQuery, tuning: VisibilityTuning): Promise<{ rows: ObjectRow[]; plan: VisibilityPlan; statements: number }> {
  const { position, filter } = query;
  const done = (rows: ObjectRow[], plan: VisibilityPlan, statements: number) => ({ rows, plan, statements });
  const streams = async (statementsBefore: number) => {
    const { rows, statements } = await streamsPage(db, query, tuning.streamCap);
    return done(rows, 'streams', statementsBefore + statements);
  };
  if (tuning.plan === 'streams') return streams(0);
  if (tuning.plan === 'text') return done(await textPage(db, query), 'text', 1);
  if (tuning.plan === 'forward') {
    for (let window = probeWindow(position.limit), statements = 1; ; window *= 4, statements++) {
      const { rows, scanned } = await forwardPage(db, query, window);
      if (rows.length >= position.limit || scanned < window) return done(rows, 'forward', statements);
    }
  }
  const probeSize = tuning.probeWindow ?? probeWindow(position.limit);
  const probe = await forwardPage(db, query, probeSize);
  if (probe.rows.length >= position.limit || probe.scanned < probeSize) return done(probe.rows, 'forward', 1);
  // The choice reads only what the viewer may see in the probe: how many of its rows are visible,
  // and how many of those match (issue 15: matches among invisible objects must not choose).
  if (probe.visible < position.limit / 2) return streams(1);
  // A fair share of the newest is visible. Where the page should end, by the density of visible
  // rows that match; a text rare among them is read from its index instead.
  const seesMuch = async (statements: number) => (filter.text ? done(await textPage(db, query), 'text', statements) : streams(statements - 1));
  const window = Math.ceil((probeSize * position.limit * 2) / Math.max(1, probe.rows.length));
  if (probe.rows.length === 0 || window > (tuning.maxWindow ?? MAX_WINDOW)) return seesMuch(2);
  const { rows, scanned } = await forwardPage(db, query, window);
  if (rows.length >= position.limit || scanned < window) return done(rows, 'forward', 2);
  return seesMuch(3);
}

interface ListQuery {
  orgId: string;
  /** How statements name the organisation (withIndexPlans: a literal on Citus, a parameter elsewhere). */
  org: RawBuilder<string>;
  principals: string[];
  hidden: readonly string[];
  filter: ObjectListFilter;
  position: ListPosition;
}

/**
 * The viewer's keys as every statement below names them: one materialized row, read through a
 * scalar subquery, so the planner never estimates the array element by element.
 */
function viewerKeys(principals: string[]): RawBuilder<unknown> {
  return sql`viewer as materialized (select ${principals}::text[] as keys)`;
}
const KEYS = sql`(select v.keys from viewer v)::text[]`;

/** The status (0, 1, 2 as above) of the object row aliased `alias`. */
function viewStatus(alias: string, org: RawBuilder<string>): RawBuilder<number> {
  const o = sql.raw(alias);
  return sql<number>`(case
    when ${o}.view_controls = 0 then 0
    when ${o}.view_controls = 1 then
      case when ${o}.view_keys && ${KEYS} then 2 when ${CONTAINER_KEY} = any(${o}.view_keys) then 1 else 0 end
    else (
      -- All of the object's entries, by primary key: a condition on principal_key here would let
      -- the planner probe acl_entry_recent once per principal instead (issue 16: 190 ms a row for a
      -- viewer in 1,980 groups, when the text plan allowed bitmap scans).
      select case
        when count(distinct ve.control_no) filter (where ve.principal_key = any(${KEYS})) = ${o}.view_controls then 2
        when count(distinct ve.control_no) filter (where ve.principal_key = any(${KEYS}) or ve.principal_key = ${CONTAINER_KEY}) = ${o}.view_controls then 1
        else 0 end
      from acl_entry ve
      where ve.org_id = ${org} and ve.object_id = ${o}.id
    ) end)`;
}

/** The filter's conditions on the object row aliased `alias`, without the text (see forwardPage). */
function filterConditions(alias: string, { filter, position }: ListQuery, { cursor = true } = {}): RawBuilder<boolean> {
  const o = sql.raw(alias);
  const conditions: RawBuilder<unknown>[] = [sql`${o}.type = any(${[...filter.types]}::text[])`];
  if (filter.cloudIds) conditions.push(sql`${o}.cloud_id = any(${[...filter.cloudIds]}::text[])`);
  if (filter.containerId) conditions.push(sql`${o}.container_id = ${filter.containerId}`);
  if (filter.updatedAfter) conditions.push(sql`${o}.last_updated_at > ${filter.updatedAfter}`);
  if (filter.updatedBefore) conditions.push(sql`${o}.last_updated_at < ${filter.updatedBefore}`);
  if (position.after && cursor) conditions.push(before(alias, position.after));
  return sql<boolean>`${sql.join(conditions, sql` and `)}`;
}

/**
 * Strictly after `after` in the newest-first order, on the time and id columns of `alias`. The
 * time alone is repeated as a range an index on (…, last_updated_at desc) starts from, so page n
 * does not walk the n - 1 pages before it.
 */
function before(alias: string, after: { lastUpdatedAt: Date; id: string }, idColumn = 'id'): RawBuilder<boolean> {
  const o = sql.raw(alias);
  return sql<boolean>`${o}.last_updated_at <= ${after.lastUpdatedAt}::timestamptz
    and (${o}.last_updated_at, ${sql.raw(`${alias}.${idColumn}`)}) < (${after.lastUpdatedAt}::timestamptz, ${after.id})`;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function textMatches(alias: string, text: string | null | undefined): RawBuilder<boolean> {
  if (!text) return sql<boolean>`true`;
  const o = sql.raw(alias);
  const pattern = `%${escapeLike(text)}%`;
  return sql<boolean>`(${o}.display_name ilike ${pattern} or ${o}.description ilike ${pattern})`;
}

/** Leaves out the objects of hidden (disabled) connections; container chains stay within one connection. */
function notHidden(alias: string, hidden: readonly string[]): RawBuilder<unknown> {
  return hidden.length === 0 ? sql`` : sql` and ${sql.raw(alias)}.connection_id <> all(${[...hidden]}::text[])`;
}

/**
 * The page's rows, read whole by key in the order of `page` (id, last_updated_at). Here and below,
 * `limit 1` or `offset 0` keeps a LATERAL step from being flattened into a join: each stays one
 * index lookup per outer row, whatever the estimates.
 */
function wholeRows(org: RawBuilder<string>, extras: RawBuilder<unknown>): RawBuilder<ObjectRow> {
  return sql<ObjectRow>`
    select o.*, ${extras}
    from (select 1) one
    left join page p on true
    left join lateral (select * from graph_object g where g.org_id = ${org} and g.id = p.id limit 1) o on true
    order by p.last_updated_at desc, p.id desc`;
}

/** The forward plan's window: the newest `window` objects matching the filter. */
function forwardPage(db: Kysely<Database>, query: ListQuery, window: number) {
  const { org, hidden, filter } = query;
  // Issue 15: the text is matched on the window's rows, not in the scan that fills the window.
  // Were it in the scan, how many rows the window examines (and so which plan answers, and how
  // fast) would depend on how many objects match the text, visible or not, and a viewer could
  // time whether objects it may not see hold a word. This way a window costs what the same window
  // without the text costs, plus one match per row; the page takes the visible rows that match.
  // A container filter orders by the container first, which only the children index gives.
  const order = filter.containerId ? sql`o.container_id, o.last_updated_at desc, o.id desc` : sql`o.last_updated_at desc, o.id desc`;
  return examinedPage(db, query, sql`
      select o.id, o.container_id, o.last_updated_at, ${viewStatus('o', org)} as status, ${textMatches('o', filter.text)} as matches
      from graph_object o
      where o.org_id = ${org} and not o.deleted and ${filterConditions('o', query)}${notHidden('o', hidden)}
      order by ${order}
      limit ${window}`);
}

/** Migration 018's organisation tag, as the index computes it: four hex digits of md5(org_id). */
const organisationTag = (orgId: string) => createHash('md5').update(orgId).digest('hex').slice(0, 4);

/**
 * The text plan: every object of the organisation that holds the text and matches the filter,
 * read through graph_object_text (migration 018), then decided like a window. Its cost grows with
 * the objects holding the text, visible or not: it answers only viewers who see most of the newest
 * objects (see choosePlan), for whom the invisible share is small.
 *
 * Two statements. The first finds the rows through the trigram index alone: the searchable text
 * as the index holds it, prefixed with the organisation's tag (migration 018), so the scan needs
 * the tag's trigrams too; on the rows found, the fields themselves are matched (a match across the
 * line break between them is neither's) and the exact organisation is checked (a tag is shared by
 * about one organisation in 65,536), in a form no btree index serves: with a plain org_id equality
 * a planner without statistics reads the organisation through a btree instead. The second decides
 * those rows by primary key, with the organisation's equality, so that Citus routes it (the
 * recursive walk needs one shard; issue 18). On Citus the first asks every shard.
 */
async function textPage(db: Kysely<Database>, query: ListQuery): Promise<ObjectRow[]> {
  const { orgId, org, hidden, filter } = query;
  // The GIN index is read by bitmap scans only; the transaction forbade those until now.
  await allowTextSearch(db);
  const pattern = `${organisationTag(orgId)} %${escapeLike(filter.text ?? '')}%`;
  const { rows: found } = await sql<{ id: string }>`
    select o.id from graph_object o
    where (left(md5(o.org_id), 4) || ' ' || o.display_name || E'\\n' || coalesce(o.description, '')) ilike ${pattern} and ${textMatches('o', filter.text)}
      and (o.org_id || '') = ${org} and not o.deleted and ${filterConditions('o', query)}${notHidden('o', hidden)}`.execute(db);
  if (found.length === 0) return [];
  const { rows } = await examinedPage(db, query, sql`
      select o.id, o.container_id, o.last_updated_at, ${viewStatus('o', org)} as status, true as matches
      from unnest(${found.map((r) => r.id)}::text[]) as f(id)
      cross join lateral (select * from graph_object g where g.org_id = ${org} and g.id = f.id and not g.deleted limit 1) o`);
  return rows;
}

/**
 * A page from the rows `examined` selects (id, container_id, last_updated_at, status, matches):
 * the visible ones that match, newest first; status-1 rows are resolved up their chains.
 */
async function examinedPage(db: Kysely<Database>, query: ListQuery, examined: RawBuilder<unknown>): Promise<{ rows: ObjectRow[]; scanned: number; visible: number }> {
  const { org, principals, position } = query;
  const result = await sql<ObjectRow & { scanned: number; visible: number }>`
    with recursive
    ${viewerKeys(principals)},
    win as materialized (${examined}),
    -- Status-1 rows resolved up their chains, once per container they are in: by primary key, hop by hop.
    walk (origin, container_id, hops, status) as (
      select c.container_id, p.container_id, 1, ${viewStatus('p', org)}
      from (select distinct w.container_id from win w where w.status = 1) c
      cross join lateral (select * from graph_object g where g.org_id = ${org} and g.id = c.container_id and not g.deleted limit 1) p
      union all
      select k.origin, p.container_id, k.hops + 1, ${viewStatus('p', org)}
      from walk k
      cross join lateral (select * from graph_object g where g.org_id = ${org} and g.id = k.container_id and not g.deleted limit 1) p
      where k.status = 1 and k.hops < ${MAX_CONTAINER_HOPS}
    ),
    shown as (
      select w.id, w.last_updated_at, w.matches from win w
      where w.status = 2 or (w.status = 1 and w.container_id in (select k.origin from walk k where k.status = 2))
    ),
    page as (
      select s.id, s.last_updated_at from shown s where s.matches
      order by s.last_updated_at desc, s.id desc
      limit ${position.limit}
    )
    ${wholeRows(org, sql`(select count(*) from win)::int as scanned, (select count(*) from shown)::int as visible`)}
  `.execute(db);
  const { scanned = 0, visible = 0 } = result.rows[0] ?? {};
  return { rows: result.rows.filter((r) => r.id !== null).map(stripExtras), scanned, visible };
}

/**
 * How many entries each stream's walk may examine in successive rounds of the streams plan: a walk
 * that examines that many without finishing stops and says where (see streamsRound). The last
 * round is unbounded and always answers.
 */
function streamCaps(limit: number, first?: number): (number | null)[] {
  const cap = first ?? Math.max(64, limit * 4);
  return [cap, cap * 8, cap * 64, null];
}

/** The page merged from the viewer's streams (see the opening comment), in as few rounds as it takes. */
async function streamsPage(db: Kysely<Database>, query: ListQuery, firstCap?: number): Promise<{ rows: ObjectRow[]; statements: number }> {
  let statements = 0;
  for (const cap of streamCaps(query.position.limit, firstCap)) {
    statements++;
    const { rows, complete } = await streamsRound(db, query, cap);
    if (complete) return { rows, statements };
  }
  throw new Error('the unbounded round always completes');
}

/**
 * One round of the streams plan, in which every walk of a stream examines at most `cap` entries
 * (null: no limit). A walk that stops at its cap leaves a frontier: the last entry it examined,
 * below which the stream is unknown. The round is complete when every frontier lies below the
 * page's last row (or there is no frontier and the page is short): then no unexamined entry can
 * belong on the page. So a stream that never grants what the filter asks for (a type, a word) is
 * read only down to the page's end, not to its own end (issue 16: a narrow viewer's work items
 * had walked 4,164 entries of six streams that hold none).
 */
async function streamsRound(db: Kysely<Database>, query: ListQuery, cap: number | null): Promise<{ rows: ObjectRow[]; complete: boolean }> {
  const { org, principals, hidden, filter, position } = query;
  const rowsWanted = position.limit;
  /** Visible rows of the object aliased `o`, matching the filter and the text. */
  const visibleMatch = (o: string, { cursor = true } = {}) => sql`
    not ${sql.raw(o)}.deleted and ${filterConditions(o, query, { cursor })}${notHidden(o, hidden)} and ${textMatches(o, filter.text)}`;
  // A walk down one stream: its entries newest first (from the cursor down to a floor), at most
  // `cap` of them, numbered; each tells whether its object is visible and matches (found), and the
  // cap-th tells that the walk stopped there. It yields the found ones and the stop, at most
  // `limit` rows, so a walk ends at its limit-th match, at its cap, or at its stream's end.
  const walk = (entries: RawBuilder<unknown>, found: RawBuilder<boolean>, limit: number) => sql`
    select e.last_updated_at, e.id, f.found, coalesce(e.n = ${cap}, false) as stopped
    from ${entries}
    cross join lateral (select ${found} as found offset 0) f
    where f.found or e.n = ${cap}
    order by e.last_updated_at desc, e.id desc
    limit ${limit}`;
  const numbered = (entries: RawBuilder<unknown>) => sql`select x.*, row_number() over (order by x.last_updated_at desc, x.id desc) as n from (${entries}) x`;
  // One principal's VIEW entries, each object once (it may hold the key in several controls). A
  // one-control object is visible by the entry itself; only ANDs need their status.
  const principalWalk = (key: RawBuilder<unknown>, floor: RawBuilder<boolean>, limit: number) => {
    const entries = sql`
      select distinct on (e.last_updated_at, e.object_id) e.last_updated_at, e.object_id as id from acl_entry e
      where e.org_id = ${org} and e.principal_key = ${key}${position.after ? sql` and ${before('e', position.after, 'object_id')}` : sql``} and ${floor}
      order by e.last_updated_at desc, e.object_id desc
      limit ${cap}`;
    return walk(
      sql`(${numbered(entries)}) e cross join lateral (select * from graph_object g where g.org_id = ${org} and g.id = e.id limit 1) o`,
      sql`(${visibleMatch('o')} and case when o.view_controls = 1 then true
        else case ${viewStatus('o', org)} when 2 then true when 1 then o.container_id in (select t.id from tree t) else false end end)`,
      limit,
    );
  };
  // One visible container's children; those that inherit are visible (status 1 is enough: the
  // container is visible; with one control, CONTAINER in it is enough). The time bounds are row
  // comparisons that start with the container: only graph_object_children can start from them.
  // As plain time ranges, a planner that believed the organisation small walked
  // graph_object_recent instead, reading the organisation's rows from the cursor down to the bound
  // for every container (issue 16: 4.7 s for a page 2 under skewed statistics).
  const containerWalk = (container: RawBuilder<unknown>, floor: RawBuilder<unknown> | null, limit: number) => {
    const children = sql`
      select o.* from graph_object o
      where o.org_id = ${org} and o.container_id = ${container} and not o.deleted
        ${floor ? sql`and (o.container_id, o.last_updated_at, o.id) >= (${container}, ${floor})` : sql``}
        ${position.after ? sql`and (o.container_id, o.last_updated_at, o.id) < (${container}, ${position.after.lastUpdatedAt}::timestamptz, ${position.after.id})` : sql``}
      order by o.container_id, o.last_updated_at desc, o.id desc
      limit ${cap}`;
    return walk(
      sql`(${numbered(children)}) e`,
      sql`(${CONTAINER_KEY} = any(e.view_keys) and ${visibleMatch('e', { cursor: false })} and (e.view_controls = 1 or ${viewStatus('e', org)} >= 1))`,
      limit,
    );
  };
  const atOrAboveBound = (alias: string, idColumn: string) =>
    sql<boolean>`(${sql.raw(alias)}.last_updated_at, ${sql.raw(`${alias}.${idColumn}`)}) >= (select b.last_updated_at, b.id from bound b)`;
  const boundFloor = sql`(select b.last_updated_at from bound b), (select b.id from bound b)`;
  const result = await sql<ObjectRow & { complete: boolean }>`
    with recursive
    ${viewerKeys(principals)},
    keys as materialized (select unnest(${KEYS}) as key),
    -- Containers the viewer's keys satisfy (status 2): where inheritance starts.
    roots as materialized (
      select distinct o.id from keys k
      cross join lateral (
        select c.object_id from acl_entry c where c.org_id = ${org} and c.principal_key = k.key and c.on_container offset 0
      ) c
      cross join lateral (select * from graph_object g where g.org_id = ${org} and g.id = c.object_id limit 1) o
      where not o.deleted${notHidden('o', hidden)} and ${viewStatus('o', org)} = 2
    ),
    -- Down through children that are containers and inherit, to the depth PRODUCT §3 allows: a
    -- container at hop h passes its visibility to children at h + 1.
    tree (id, hops) as (
      select r.id, 0 from roots r
      union all
      select c.id, t.hops + 1
      from tree t
      cross join lateral (
        select g.id from graph_object g
        where g.org_id = ${org} and g.container_id = t.id and g.has_children and not g.deleted${notHidden('g', hidden)}
          and ${viewStatus('g', org)} = 1
        offset 0
      ) c
      where t.hops < ${MAX_CONTAINER_HOPS - 1}
    ),
    containers as materialized (select distinct t.id from tree t),
    -- The newest row of every stream, or where its walk stopped looking for it.
    tops as materialized (
      select 'k' as kind, k.key, s.* from keys k
      cross join lateral (${principalWalk(sql`k.key`, sql`true`, 1)}) s
      union all
      select 'c', c.id, s.* from containers c
      cross join lateral (${containerWalk(sql`c.id`, null, 1)}) s
    ),
    -- The page's last row is not older than the page-size-th newest distinct top found: there are
    -- that many visible rows at or above it. Without that many, every stream may contribute.
    bound as materialized (
      select coalesce(max(d.last_updated_at), '-infinity'::timestamptz) as last_updated_at, coalesce(max(d.id), '') as id
      from (select distinct t.last_updated_at, t.id from tops t where t.found order by t.last_updated_at desc, t.id desc offset ${rowsWanted - 1} limit 1) d
    ),
    -- Up to a page from each stream whose newest row is not older than the bound.
    candidates as materialized (
      select s.* from tops t
      cross join lateral (${principalWalk(sql`t.key`, atOrAboveBound('e', 'object_id'), rowsWanted)}) s
      where t.kind = 'k' and t.found and ${atOrAboveBound('t', 'id')}
      union all
      select s.* from tops t
      cross join lateral (${containerWalk(sql`t.key`, boundFloor, rowsWanted)}) s
      where t.kind = 'c' and t.found and ${atOrAboveBound('t', 'id')}
    ),
    page as (
      select distinct c.id, c.last_updated_at from candidates c where c.found
      order by c.last_updated_at desc, c.id desc
      limit ${rowsWanted}
    ),
    -- Where walks stopped at their cap, below which their streams were not read.
    frontiers as (select t.last_updated_at, t.id from tops t where t.stopped union all select c.last_updated_at, c.id from candidates c where c.stopped),
    -- Complete when nothing unexamined can be newer than the page's last row.
    last_row as (select p.last_updated_at, p.id from page p order by p.last_updated_at, p.id limit 1)
    ${wholeRows(org, sql`not exists (
      select 1 from frontiers f
      where (select count(*) from page) < ${rowsWanted} or (f.last_updated_at, f.id) > (select l.last_updated_at, l.id from last_row l)
    ) as complete`)}
  `.execute(db);
  const complete = result.rows[0]?.complete ?? true;
  return { rows: result.rows.filter((r) => r.id !== null).map(stripExtras), complete };
}

function stripExtras(row: ObjectRow & { scanned?: number; visible?: number; complete?: boolean }): ObjectRow {
  const { scanned: _scanned, visible: _visible, complete: _complete, ...rest } = row;
  return rest;
}
