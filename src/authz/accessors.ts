// Who may act on an object (issue 20, item 4): the engine's question asked the other way round,
// under the same rules (PRODUCT §3, §4; acl-engine.ts decides one account, this lists them all).
//
// The object's ACL and its container chain become a formula over principal keys: AND over the
// controls of the action and of the actions it implies, OR over each control's principals,
// CONTAINER replaced by the container's own formula (at most MAX_CONTAINER_HOPS up), a missing,
// deleted or hidden object false. A page is then decided for a few candidate accounts, in id order
// from the cursor (loadWindow: which of the formula's keys each holds, and how — the link, the
// group path, the site), or, when those are too few, for every account that holds a key
// (loadHolders: the inverse of viewer-principals.ts). The formula is evaluated over those account
// sets, and `via` tells, for an account on the page, the principals that let it in.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { withIndexPlans } from '../db/index-plans.ts';
import { inRequestScope } from '../db/request-transaction.ts';
import { AccessChecker } from './access-checker.ts';
import { type AclAction, CONTAINER_KEY, MAX_CONTAINER_HOPS } from './acl.ts';
import type { AclFacts } from './acl-engine.ts';
import { NO_PRINCIPALS } from './viewer-principals.ts';

type Formula =
  | { kind: 'never' }
  | { kind: 'key'; key: string }
  | { kind: 'all'; parts: Formula[] }
  | { kind: 'any'; parts: Formula[] }
  | { kind: 'container'; containerId: string; action: AclAction; inner: Formula };

const NEVER: Formula = { kind: 'never' };
const PREVIOUS: Record<AclAction, AclAction | null> = { VIEW: null, EDIT: 'VIEW', DELETE: 'EDIT' };

/** The formula `action` on `objectId` stands for; shared sub-formulas are built once (as the engine memoises). */
function formulaOf(facts: AclFacts, hidden: ReadonlySet<string>, objectId: string, action: AclAction): Formula {
  const memo = new Map<string, Formula>();
  const build = (id: string, act: AclAction, hopsLeft: number): Formula => {
    const memoKey = `${id}\u0000${act}\u0000${hopsLeft}`;
    const known = memo.get(memoKey);
    if (known) return known;
    const node = facts(id);
    let formula: Formula = NEVER;
    if (node && !(node.connectionId !== undefined && hidden.has(node.connectionId)) && !(act === 'VIEW' && node.acl.VIEW.length === 0)) {
      const previous = PREVIOUS[act];
      const parts: Formula[] = previous ? [build(id, previous, hopsLeft)] : [];
      for (const control of node.acl[act]) {
        parts.push({
          kind: 'any',
          parts: control.map((key): Formula => {
            if (key !== CONTAINER_KEY) return { kind: 'key', key };
            if (hopsLeft <= 0 || node.containerId === null) return NEVER;
            return { kind: 'container', containerId: node.containerId, action: act, inner: build(node.containerId, act, hopsLeft - 1) };
          }),
        });
      }
      formula = { kind: 'all', parts };
    }
    memo.set(memoKey, formula);
    return formula;
  };
  return build(objectId, action, MAX_CONTAINER_HOPS);
}

function keysOf(formula: Formula, into = new Set<string>(), seen = new Set<Formula>()): Set<string> {
  if (seen.has(formula)) return into;
  seen.add(formula);
  if (formula.kind === 'key') into.add(formula.key);
  else if (formula.kind === 'all' || formula.kind === 'any') for (const part of formula.parts) keysOf(part, into, seen);
  else if (formula.kind === 'container') keysOf(formula.inner, into, seen);
  return into;
}

/**
 * `u:` keys whose holders include every account the formula lets in, when there are such keys: a
 * third-party user links to at most one account (PRODUCT §4), so an object granted to a user, or
 * to a group AND a user, has at most as many accessors as these keys. Null when it takes a group
 * or a site to say who may.
 */
function userKeysCovering(formula: Formula, memo = new Map<Formula, ReadonlySet<string> | null>()): ReadonlySet<string> | null {
  if (memo.has(formula)) return memo.get(formula)!;
  let result: ReadonlySet<string> | null;
  switch (formula.kind) {
    case 'never':
      result = new Set();
      break;
    case 'key':
      result = formula.key.startsWith('u:') ? new Set([formula.key]) : null;
      break;
    case 'container':
      result = userKeysCovering(formula.inner, memo);
      break;
    case 'any': {
      const parts = formula.parts.map((part) => userKeysCovering(part, memo));
      result = parts.every((part) => part !== null) ? new Set(parts.flatMap((part) => [...part!])) : null;
      break;
    }
    case 'all': {
      // Any one part's holders cover the whole: the fewest keys will do.
      const parts = formula.parts.map((part) => userKeysCovering(part, memo)).filter((part) => part !== null);
      result = parts.length === 0 ? null : parts.reduce((a, b) => (b.size < a.size ? b : a));
      break;
    }
  }
  memo.set(formula, result);
  return result;
}

/** For each principal key: the accounts whose principal set holds it, and how. */
export type Holders = Map<string, ReadonlyMap<string, string>>;
/** Finds the holders of principal keys (loadHolders, or a HolderCache's answer under the request's principal version). */
export type HolderSource = (keys: string[]) => Promise<Holders>;

function accountsOf(formula: Formula, holders: Holders, memo = new Map<Formula, ReadonlySet<string>>()): ReadonlySet<string> {
  const known = memo.get(formula);
  if (known) return known;
  let result: Set<string>;
  switch (formula.kind) {
    case 'never':
      result = new Set();
      break;
    case 'key':
      result = new Set(holders.get(formula.key)?.keys() ?? []);
      break;
    case 'container':
      result = new Set(accountsOf(formula.inner, holders, memo));
      break;
    case 'any':
      result = new Set(formula.parts.flatMap((part) => [...accountsOf(part, holders, memo)]));
      break;
    case 'all': {
      const [first, ...rest] = formula.parts.map((part) => accountsOf(part, holders, memo));
      result = new Set([...(first ?? [])].filter((account) => rest.every((set) => set.has(account))));
      break;
    }
  }
  memo.set(formula, result);
  return result;
}

/** How `account` satisfies `formula` (it does): each control's first matching principal, joined. */
function witness(formula: Formula, account: string, holders: Holders, sets: Map<Formula, ReadonlySet<string>>): string[] {
  switch (formula.kind) {
    case 'never':
      return [];
    case 'key':
      return [holders.get(formula.key)!.get(account)!];
    case 'container':
      return [`may ${formula.action} the container ${formula.containerId}: ${unique(witness(formula.inner, account, holders, sets)).join('; ')}`];
    case 'any': {
      const part = formula.parts.find((p) => accountsOf(p, holders, sets).has(account))!;
      return witness(part, account, holders, sets);
    }
    case 'all':
      return formula.parts.flatMap((part) => witness(part, account, holders, sets));
  }
}

const unique = (items: string[]) => [...new Set(items)];

export interface Accessor {
  accountId: string;
  /** How access comes about: the link, the group path, the site or the container. */
  via: string;
}

/**
 * Accounts decided per request before the holders of whole principal keys are read, as a multiple
 * of the page: an answer at least this dense among the organisation's active accounts comes from
 * the window alone.
 */
const WINDOW_PER_ROW = 4;

/**
 * Every active account of the organisation that may do `action` on the object, in account id
 * order after `afterAccountId`, at most `limit`; an empty list for a missing or deleted object.
 *
 * First the next `window` active accounts after the cursor are decided (loadWindow): enough when
 * they hold `limit` accessors or are the last, and then the cost follows the page, not the size of
 * the groups granted. When a few third-party users' accounts cover the answer (userKeysCovering),
 * those accounts are decided instead, and that is always enough. Otherwise every holder of the formula's keys is read (`holderSource`), which
 * for a sparse answer costs what those holders number. Two statements at most, whatever the page.
 */
export async function listAccessors(
  db: Kysely<Database>,
  orgId: string,
  objectId: string,
  action: AclAction,
  page: { afterAccountId: string | null; limit: number },
  holderSource: HolderSource = (keys) => loadHolders(db, orgId, keys),
  window = Math.max(page.limit * WINDOW_PER_ROW, 1),
): Promise<Accessor[]> {
  const [facts, hidden] = await Promise.all([new AccessChecker(db, orgId, async () => NO_PRINCIPALS).facts(objectId), hiddenConnections(db, orgId)]);
  const formula = formulaOf(facts, hidden, objectId, action);
  const keys = [...keysOf(formula)];
  // No key, nobody: the formula is `never` or needs a container that is not there.
  if (keys.length === 0 || page.limit <= 0) return [];
  const linkedTo = userKeysCovering(formula);
  const near = await loadWindow(db, orgId, keys, page.afterAccountId, linkedTo ? { linkedTo: [...linkedTo] } : { size: window });
  const nearSets = new Map<Formula, ReadonlySet<string>>();
  const allowed = accountsOf(formula, near.holders, nearSets);
  const found = near.accounts.filter((id) => allowed.has(id));
  if (linkedTo || found.length >= page.limit || near.accounts.length < window) {
    return found.slice(0, page.limit).map((accountId) => ({ accountId, via: unique(witness(formula, accountId, near.holders, nearSets)).join('; ') }));
  }
  const holders = await holderSource(keys);
  const sets = new Map<Formula, ReadonlySet<string>>();
  const accounts = [...accountsOf(formula, holders, sets)].filter((id) => page.afterAccountId === null || id > page.afterAccountId).sort();
  return accounts.slice(0, page.limit).map((accountId) => ({ accountId, via: unique(witness(formula, accountId, holders, sets)).join('; ') }));
}

/** Connections whose objects nobody sees (disabled or being deleted), as the viewer's set names them. */
async function hiddenConnections(db: Kysely<Database>, orgId: string): Promise<ReadonlySet<string>> {
  const rows = await db
    .selectFrom('connection')
    .select('id')
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([eb('disabled_at', 'is not', null), eb('deletion_started_at', 'is not', null)]))
    .execute();
  return new Set(rows.map((row) => row.id));
}

/**
 * Holders of principal keys kept across requests, like principal sets (viewer-principals.ts): an
 * entry counts only for requests that read the organisation's principal version it was loaded
 * under, and every change to what a holder set depends on (links, groups, memberships, sites,
 * accounts, connections) moves that version. Bounded by the accounts held, least recently used first.
 */
export class HolderCache {
  private readonly entries = new Map<string, { version: number; holders: Promise<ReadonlyMap<string, string>>; size: number }>();
  private held = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxAccounts = 500_000,
  ) {}

  async get(orgId: string, keys: string[], version: number): Promise<Holders> {
    // Inside a request transaction a load shared with another request could wait for this one's connection: load privately.
    if (inRequestScope()) return loadHolders(this.db, orgId, keys);
    const slot = (key: string) => `${orgId}\u0000${key}`;
    const missing = keys.filter((key) => this.entries.get(slot(key))?.version !== version);
    if (missing.length > 0) {
      const loaded = loadHolders(this.db, orgId, missing);
      for (const key of missing) {
        const holders = loaded.then((all) => all.get(key) ?? new Map<string, string>());
        this.set(slot(key), { version, holders, size: 0 });
        // A failed load is not kept: the next request tries again.
        holders.then(
          (found) => this.resize(slot(key), found.size),
          () => this.entries.delete(slot(key)),
        );
      }
    }
    const found = await Promise.all(
      keys.map(async (key) => {
        const entry = this.entries.get(slot(key));
        // Evicted while loading: read it again.
        const holders = entry && entry.version === version ? await entry.holders : ((await loadHolders(this.db, orgId, [key])).get(key) ?? new Map());
        return [key, holders] as const;
      }),
    );
    return new Map(found);
  }

  private set(slot: string, entry: { version: number; holders: Promise<ReadonlyMap<string, string>>; size: number }) {
    const old = this.entries.get(slot);
    if (old) this.held -= old.size;
    this.entries.delete(slot);
    this.entries.set(slot, entry);
  }

  private resize(slot: string, size: number) {
    const entry = this.entries.get(slot);
    if (!entry) return;
    this.held += size - entry.size;
    entry.size = size;
    for (const [oldest, old] of this.entries) {
      if (this.held <= this.maxAccounts || oldest === slot) break;
      this.entries.delete(oldest);
      this.held -= old.size;
    }
  }
}

interface ParsedKey {
  key: string;
  kind: string;
  scope: string;
  id: string;
}

function parseKeys(keys: string[]): ParsedKey[] {
  return keys.map((key) => {
    const [kind, first, ...rest] = key.split(':');
    // Connection and site ids hold no colon; an external id may.
    return { key, kind: kind ?? '', scope: first ?? '', id: rest.join(':') };
  });
}

/**
 * The CTEs `wanted_groups` (the group keys named) and `closure`: downward from each group, its
 * member groups, theirs, … (UNION: cycles end), as the viewer's closure walks the same memberships
 * upward. Both holder statements start from it; each CTE names its columns in its SELECTs too, as
 * Citus deparses a CTE without its column list.
 */
function groupClosure(org: RawBuilder<string>, groups: ParsedKey[]) {
  return sql`wanted_groups (key, connection_id, group_id) as (
      select g.key, g.connection_id, g.group_id
      from unnest(${groups.map((g) => g.key)}::text[], ${groups.map((g) => g.scope)}::text[], ${groups.map((g) => g.id)}::text[]) as g(key, connection_id, group_id)
    ),
    closure (key, connection_id, root, group_id) as (
      select w.key, w.connection_id, w.group_id as root, w.group_id from wanted_groups w
      union
      select c.key, c.connection_id, c.root, m.member_external_id as group_id
      from closure c cross join lateral (
        select m.member_external_id from group_member m
        where m.org_id = ${org} and m.connection_id = c.connection_id and m.group_external_id = c.group_id and m.member_type = 'GROUP'
        offset 0) m
    )`;
}

/** A holder row: for a `g:` key, the linked user in the group and the nested group that holds it (null: the group itself). */
interface HolderRow {
  key: string;
  account_id: string;
  user_id: string | null;
  nested: string | null;
}

/**
 * Words how each account holds each key. Of several ways into a group, the most direct is told (a
 * group's own member before one through nested groups), then the least user and nested group id,
 * so the same account is explained alike whichever statement found it.
 */
function holdersOf(parsed: ParsedKey[], rows: HolderRow[]): Holders {
  const holders = new Map(parsed.map((p) => [p.key, new Map<string, string>()]));
  const best = new Map<string, HolderRow>();
  const rank = (row: HolderRow) => [row.nested === null ? '0' : '1', row.user_id ?? '', row.nested ?? ''];
  const before = (a: HolderRow, b: HolderRow) => {
    const [x, y] = [rank(a), rank(b)];
    const i = x.findIndex((part, n) => part !== y[n]);
    return i >= 0 && x[i]! < y[i]!;
  };
  for (const row of rows) {
    const slot = `${row.key}\u0000${row.account_id}`;
    const known = best.get(slot);
    if (!known || before(row, known)) best.set(slot, row);
  }
  const byKey = new Map(parsed.map((p) => [p.key, p]));
  for (const row of best.values()) {
    const { kind, scope, id } = byKey.get(row.key)!;
    holders.get(row.key)!.set(
      row.account_id,
      kind === 'u'
        ? `linked to third-party user ${id}`
        : kind === 'g'
          ? `linked to third-party user ${row.user_id} in group ${id}${row.nested === null ? '' : ` (through nested group ${row.nested})`}`
          : `an active member of site ${scope}`,
    );
  }
  return holders;
}

/**
 * Candidates after `afterAccountId` in id order (byte order: `collate "C"`, as JavaScript compares
 * them and migration 025 indexes them) — the next `size` active accounts of the organisation, or
 * every active account linked to a `linkedTo` user — and which of `keys` each holds, and how: the
 * forward question of viewer-principals.ts asked for only those accounts. A candidate's links to live third-party users give its `u:` keys; the groups each such
 * user is a direct member of, found in the downward closure of a named group, its `g:` keys; its
 * site memberships its `w:` keys. Every step is a lookup by key from the candidate, so the cost is
 * that of the window, whatever the groups granted hold.
 */
export async function loadWindow(
  db: Kysely<Database>,
  orgId: string,
  keys: string[],
  afterAccountId: string | null,
  candidates: { size: number } | { linkedTo: string[] },
): Promise<{ accounts: string[]; holders: Holders }> {
  const parsed = parseKeys(keys);
  const users = parsed.filter((p) => p.kind === 'u');
  const groups = parsed.filter((p) => p.kind === 'g');
  const sites = parsed.filter((p) => p.kind === 'w');
  const after = afterAccountId === null ? sql`` : sql`and a.id collate "C" > ${afterAccountId}`;
  const linkedTo = 'linkedTo' in candidates ? parseKeys(candidates.linkedTo) : [];
  // Columns are named in the SELECTs as in loadHolders (Citus deparses a CTE without its column list).
  const result = await withIndexPlans(db, orgId, (trx, org) => sql<{ key: string | null; account_id: string; user_id: string | null; nested: string | null }>`
    with recursive
    candidate (account_id) as (${
      'size' in candidates
        ? sql`
      select a.id as account_id from account a
      where a.org_id = ${org} and a.active ${after}
      order by a.id collate "C" limit ${candidates.size}`
        : sql`
      select a.id as account_id
      from unnest(${linkedTo.map((u) => u.scope)}::text[], ${linkedTo.map((u) => u.id)}::text[]) as u(connection_id, external_id)
      cross join lateral (
        select l.account_id from user_link l
        where l.org_id = ${org} and l.connection_id = u.connection_id and l.external_id = u.external_id and l.account_id is not null
        offset 0) l
      cross join lateral (select a.id from account a where a.org_id = ${org} and a.id = l.account_id and a.active ${after} offset 0) a`
    }
    ),
    -- A link to a third-party user the connection deleted matches nothing (as in viewer-principals.ts).
    linked (account_id, connection_id, external_id) as (
      select c.account_id, l.connection_id, l.external_id
      from candidate c cross join lateral (
        select l.connection_id, l.external_id from user_link l
        where l.org_id = ${org} and l.account_id = c.account_id
        offset 0) l
      where not coalesce((select u.deleted from external_user u
          where u.org_id = ${org} and u.connection_id = l.connection_id and u.external_id = l.external_id limit 1), false)
    ),
    ${groupClosure(org, groups)}
    select null::text as key, c.account_id, null::text as user_id, null::text as nested from candidate c
    union all
    select u.key, l.account_id, null, null
    from linked l
    join unnest(${users.map((u) => u.key)}::text[], ${users.map((u) => u.scope)}::text[], ${users.map((u) => u.id)}::text[]) as u(key, connection_id, external_id)
      on u.connection_id = l.connection_id and u.external_id = l.external_id
    union all
    select c.key, l.account_id, l.external_id, nullif(c.group_id, c.root)
    from linked l
    cross join lateral (
      select m.group_external_id from group_member m
      where m.org_id = ${org} and m.connection_id = l.connection_id and m.member_type = 'USER' and m.member_external_id = l.external_id
      offset 0) m
    join closure c on c.connection_id = l.connection_id and c.group_id = m.group_external_id
    union all
    select s.key, c.account_id, null, null
    from candidate c
    cross join unnest(${sites.map((s) => s.key)}::text[], ${sites.map((s) => s.scope)}::text[]) as s(key, cloud_id)
    where exists (select 1 from site_member m where m.org_id = ${org} and m.account_id = c.account_id and m.cloud_id = s.cloud_id)
  `.execute(trx));
  const accounts: string[] = [];
  const rows: HolderRow[] = [];
  for (const row of result.rows) {
    if (row.key === null) accounts.push(row.account_id);
    else rows.push({ ...row, key: row.key });
  }
  // A linked account is found once per user linked to it.
  return { accounts: [...new Set(accounts)].sort(), holders: holdersOf(parsed, rows) };
}

/**
 * The inverse of loadViewerPrincipals for the keys named: `u:` the account linked to that live
 * third-party user; `g:` the accounts linked to a live user in the group, directly or through
 * nested groups (the group named and the nested group holding the user are told); `w:` the site's
 * members. Only active accounts. Rows carry ids only; `via` is worded here.
 */
export async function loadHolders(db: Kysely<Database>, orgId: string, keys: string[]): Promise<Holders> {
  const parsed = parseKeys(keys);
  if (keys.length === 0) return holdersOf(parsed, []);
  const users = parsed.filter((p) => p.kind === 'u');
  const groups = parsed.filter((p) => p.kind === 'g');
  const sites = parsed.filter((p) => p.kind === 'w');
  // Index lookups only, each a LATERAL step from the row before (as in viewer-principals.ts): with
  // joins a planner without statistics looped over the organisation's accounts outside and ran the
  // whole membership walk once per account (437 ms for a group of 200). Every column is named in
  // its SELECT too: Citus deparses a CTE without its column list, and `w.nested` was then unknown.
  const result = await withIndexPlans(db, orgId, (trx, org) => sql<{ key: string; account_id: string; user_id: string | null; nested: string | null }>`
    with recursive
    ${groupClosure(org, groups)},
    wanted_users (key, connection_id, external_id, nested) as (
      select u.key, u.connection_id, u.external_id, null::text as nested
      from unnest(${users.map((u) => u.key)}::text[], ${users.map((u) => u.scope)}::text[], ${users.map((u) => u.id)}::text[]) as u(key, connection_id, external_id)
      union all
      select c.key, c.connection_id, m.member_external_id as external_id, nullif(c.group_id, c.root) as nested
      from closure c cross join lateral (
        select m.member_external_id from group_member m
        where m.org_id = ${org} and m.connection_id = c.connection_id and m.group_external_id = c.group_id and m.member_type = 'USER'
        offset 0) m
    )
    select w.key, l.account_id, w.external_id as user_id, w.nested
    from wanted_users w
    cross join lateral (
      select l.account_id from user_link l
      where l.org_id = ${org} and l.connection_id = w.connection_id and l.external_id = w.external_id and l.account_id is not null
      offset 0) l
    cross join lateral (select 1 from account a where a.org_id = ${org} and a.id = l.account_id and a.active limit 1) a
    where not coalesce((select u.deleted from external_user u
        where u.org_id = ${org} and u.connection_id = w.connection_id and u.external_id = w.external_id limit 1), false)
    union all
    select s.key, m.account_id, null, null
    from unnest(${sites.map((s) => s.key)}::text[], ${sites.map((s) => s.scope)}::text[]) as s(key, cloud_id)
    cross join lateral (select m.account_id from site_member m where m.org_id = ${org} and m.cloud_id = s.cloud_id offset 0) m
    cross join lateral (select 1 from account a where a.org_id = ${org} and a.id = m.account_id and a.active limit 1) a
  `.execute(trx));
  return holdersOf(parsed, result.rows);
}
