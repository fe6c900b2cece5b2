// Single-object checks, batched: every object asked about during one request (and its container
// chain) is loaded by one statement per DataLoader batch, then decided by the pure engine.
import DataLoader from 'dataloader';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
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
    const result = await sql<{ id: string; container_id: string | null; acl: CompiledAcl }>`
      with recursive chain (id, container_id, acl, depth) as (
        select id, container_id, acl, 0 from graph_object
        where org_id = ${this.orgId} and id = any(${[...ids]}::text[]) and not deleted
        union all
        select p.id, p.container_id, p.acl, c.depth + 1
        from chain c join graph_object p on p.org_id = ${this.orgId} and p.id = c.container_id and not p.deleted
        where c.depth < ${MAX_CONTAINER_HOPS}
      )
      select distinct on (id) id, container_id, acl from chain
    `.execute(this.db);
    for (const row of result.rows) this.nodes.set(row.id, { acl: row.acl, containerId: row.container_id });
    return ids.map(() => true);
  }
}
