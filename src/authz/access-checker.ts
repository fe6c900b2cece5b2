// Single-object checks, batched: every object asked about during one request (and its container
// chain) is loaded by one statement per DataLoader batch, then decided by the pure engine. The
// statement returns whole rows, handed to `onRows`, so that reading an object and deciding
// whether the viewer may see it is one round trip, not two.
import DataLoader from 'dataloader';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { organisationInStatement } from '../db/coordinator-plans.ts';
import type { Database } from '../db/database.ts';
import type { ObjectRow } from './visibility-filter.ts';
import { type AclAction, type CompiledAcl, MAX_CONTAINER_HOPS } from './acl.ts';
import { type AclNode, isAllowed, type ViewerPrincipals } from './acl-engine.ts';

export class AccessChecker {
  private readonly nodes = new Map<string, AclNode>();
  // Resolves once an object's chain is in `nodes`; the value says nothing (absent = denied).
  private readonly chains: DataLoader<string, true>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly orgId: string,
    private readonly viewer: () => Promise<ViewerPrincipals>,
    private readonly onRows: (rows: readonly ObjectRow[]) => void = () => {},
  ) {
    this.chains = new DataLoader((ids) => this.loadChains(ids));
  }

  async can(objectId: string, action: AclAction): Promise<boolean> {
    const [viewer] = await Promise.all([this.viewer(), this.chains.load(objectId)]);
    return isAllowed(viewer, (id) => this.nodes.get(id), objectId, action);
  }

  /** The facts the engine used, for explanations. */
  async facts(objectId: string): Promise<(id: string) => AclNode | undefined> {
    await this.chains.load(objectId);
    return (id) => this.nodes.get(id);
  }

  private async loadChains(ids: readonly string[]): Promise<true[]> {
    // A single object (object(id), node) is compared with `=`: PostgreSQL then keeps one generic
    // plan for the named statement, while a list plans every execution anew. Each object of a
    // list, and each step up, is one primary-key lookup: `limit 1` keeps it a lookup whatever the
    // estimates (issue 16). As `id = any(list)`, a planner that believed the organisation small
    // (org_id has no statistics, migration 016) read the organisation's whole range of another
    // index and filtered it by id: 3.7 ms for 26 objects at 20,000, 24 ms a relationships page at
    // 100,000 on the embedded database. On Citus the organisation is a literal, so that the
    // coordinator keeps this statement's plan too (db/coordinator-plans.ts).
    const org = await organisationInStatement(this.db, this.orgId);
    const byKey = (id: RawBuilder<unknown>) => sql`(select * from graph_object g where g.org_id = ${org} and g.id = ${id} and not g.deleted limit 1)`;
    const wanted =
      ids.length === 1
        ? sql`select o.* from graph_object o where o.org_id = ${org} and o.id = ${ids[0]} and not o.deleted`
        : sql`select o.* from unnest(${[...ids]}::text[]) as want(id) cross join lateral ${byKey(sql`want.id`)} o`;
    const result = await sql<ObjectRow & { hop: number }>`
      with recursive chain as (
        select w.*, 0 as hop from (${wanted}) w
        union all
        select p.*, c.hop + 1
        from chain c
        cross join lateral ${byKey(sql`c.container_id`)} p
        where c.hop < ${MAX_CONTAINER_HOPS}
      )
      select distinct on (id) * from chain
    `.execute(this.db);
    const rows = result.rows.map(({ hop: _hop, ...row }) => row as ObjectRow);
    for (const row of rows) this.nodes.set(row.id, { acl: row.acl as CompiledAcl, containerId: row.container_id, connectionId: row.connection_id });
    this.onRows(rows);
    return ids.map(() => true);
  }
}
