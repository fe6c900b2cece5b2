// Which node of a Citus cluster a request's statements go to (issue 18: each request answered by
// the one node that holds its organisation). Through the coordinator every statement makes two
// hops: the coordinator routes it, then the worker that holds the organisation runs it
// (`npm run bench:citus-hop`: 0.94 ms p50 a statement, against 0.56 sent to that worker and 0.22 on
// single-node PostgreSQL). Citus answers a query on any node whose metadata is synced, so once a
// GraphQL query knows the organisation it reads (graphql/plugins/use-read-routing.ts), its
// statements (the rate-limit charge, the reads, the audit append) go straight to that
// organisation's worker, through a pool per worker.
//
// Mutations stay on the coordinator: their transactions take advisory locks (ingestion's per
// connection, the audit streams' per organisation), which exclude each other on one node only, so
// every writer of a key must meet on the same node. So does everything no request scopes: the
// operator tools, the migrations, background work.
//
// Where an organisation lives is asked of the coordinator's metadata and kept for a minute. After a
// shard move a request may still go to the old worker, which then routes it as the coordinator
// would: still right, one hop more, until the next look-up. A worker that cannot be reached sends
// its requests back to the coordinator for a minute (the server logs it); a worker whose pool stays
// busy past the connect timeout sends that one request there. On PGlite, single-node PostgreSQL, or with
// TEAMGRAPH_CITUS_READS=coordinator, nothing is routed.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { CITUS_PRESENT_SQL, COLOCATION_ANCHOR } from '../../migrations/distribution.ts';

/** How long a node found for an organisation, or a node found unreachable, is believed. */
const BELIEVED_MS = 60_000;
/** Organisations whose node this process keeps; past this, the one found longest ago is asked again. */
const MAX_FOUND = 10_000;

/** pg-pool's answer when every connection of a pool stayed busy past its timeout: the node is up, only busy. */
const poolBusy = (error: unknown) => /timeout exceeded when trying to connect/i.test(String((error as Error)?.message));

/** Told when a worker cannot be reached (its requests then go to the coordinator for a minute). */
export type OnUnreachable = (node: string, error: Error) => void;

interface Scope {
  /** The organisation whose data alone the scope's statements read from now on; null: not routed. */
  orgId: string | null;
}

const scopes = new AsyncLocalStorage<Scope>();

/** Runs a request in a scope of its own, whose statements go to the coordinator until `readsOrganisation`. */
export function inRoutingScope<T>(work: () => Promise<T>): Promise<T> {
  return scopes.run({ orgId: null }, work);
}

/**
 * From now on, the current request's statements read and write `orgId`'s rows only, and take no
 * advisory lock: they may run on the node that holds the organisation. Outside a scope: nothing.
 */
export function readsOrganisation(orgId: string): void {
  const scope = scopes.getStore();
  if (scope) scope.orgId = orgId;
}

/** A node as Citus's metadata names it. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** The worker to send an organisation's statements to; null: the coordinator (not Citus, or it holds them itself). */
export type Locate = (orgId: string) => Promise<NodeAddress | null>;

/**
 * The worker holding `orgId`, from the coordinator's metadata: the placement of the organisation's
 * shard of the co-location anchor, on a primary node that is active and has the cluster's metadata
 * (so it can run a query itself). Null anywhere but on a Citus coordinator.
 */
export function citusLocator(coordinator: pg.Pool): Locate {
  let onCoordinator: Promise<boolean> | null = null;
  const ask = async () => {
    const { rows } = await coordinator.query<{ found: boolean }>(CITUS_PRESENT_SQL);
    return rows[0].found && (await coordinator.query<{ yes: boolean }>('select citus_is_coordinator() as yes')).rows[0].yes;
  };
  return async (orgId) => {
    if (!onCoordinator) {
      onCoordinator = ask();
      // A failed question is asked again by the next request.
      onCoordinator.catch(() => (onCoordinator = null));
    }
    if (!(await onCoordinator)) return null;
    const { rows } = await coordinator.query<{ host: string; port: number; coordinator: boolean }>(
      `select n.nodename as host, n.nodeport as port, n.groupid = 0 as coordinator
       from pg_dist_placement p join pg_dist_node n on n.groupid = p.groupid
       where p.shardid = get_shard_id_for_distribution_column('${COLOCATION_ANCHOR}', $1::text)
         and n.noderole = 'primary' and n.isactive and n.hasmetadata and n.metadatasynced
       limit 1`,
      [orgId],
    );
    const row = rows[0];
    return row && !row.coordinator ? { host: row.host, port: row.port } : null;
  };
}

/**
 * The pool Kysely's PostgreSQL dialect draws connections from: the coordinator's, or, inside a
 * scope that `readsOrganisation` routed, the pool of the worker that holds the organisation
 * (opened on first use by `openWorkerPool`).
 */
export class RoutingPool implements PostgresPool {
  private readonly workers = new Map<string, pg.Pool>();
  private readonly found = new Map<string, { node: NodeAddress | null; until: number }>();
  private readonly looking = new Map<string, Promise<NodeAddress | null>>();
  private readonly unreachable = new Map<string, number>();

  constructor(
    private readonly coordinator: pg.Pool,
    private readonly openWorkerPool: (node: NodeAddress) => pg.Pool,
    private readonly locate: Locate,
    private readonly onUnreachable: OnUnreachable = () => {},
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    const orgId = scopes.getStore()?.orgId;
    const node = orgId ? await this.nodeOf(orgId) : null;
    if (node) {
      const key = `${node.host}:${node.port}`;
      if ((this.unreachable.get(key) ?? 0) <= Date.now()) {
        try {
          return await this.workerPool(key, node).connect();
        } catch (error) {
          // A busy worker sends this one request to the coordinator; one that cannot be reached, all of them for a while.
          if (!poolBusy(error)) {
            this.unreachable.set(key, Date.now() + BELIEVED_MS);
            this.onUnreachable(key, error as Error);
          }
        }
      }
    }
    return this.coordinator.connect();
  }

  async end(): Promise<void> {
    await Promise.all([this.coordinator.end(), ...[...this.workers.values()].map((pool) => pool.end())]);
  }

  /** The worker pools opened so far, by node. */
  workerPools(): ReadonlyMap<string, pg.Pool> {
    return this.workers;
  }

  private workerPool(key: string, node: NodeAddress): pg.Pool {
    let pool = this.workers.get(key);
    if (!pool) {
      pool = this.openWorkerPool(node);
      this.workers.set(key, pool);
    }
    return pool;
  }

  /** Where `orgId` lives, as last found; a look-up that fails sends the request to the coordinator. */
  private async nodeOf(orgId: string): Promise<NodeAddress | null> {
    const known = this.found.get(orgId);
    if (known && known.until > Date.now()) return known.node;
    let lookup = this.looking.get(orgId);
    if (!lookup) {
      lookup = this.locate(orgId).then(
        (node) => {
          this.found.delete(orgId);
          this.found.set(orgId, { node, until: Date.now() + BELIEVED_MS });
          if (this.found.size > MAX_FOUND) this.found.delete(this.found.keys().next().value!);
          return node;
        },
        () => null,
      );
      lookup.finally(() => this.looking.delete(orgId));
      this.looking.set(orgId, lookup);
    }
    return lookup;
  }
}
