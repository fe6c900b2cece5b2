// Which node a request's statements run on (src/db/worker-routing.ts, issue 18): on a Citus
// coordinator a GraphQL query's statements go to the worker that holds its organisation, a
// mutation's stay on the coordinator, and a worker that cannot be reached sends them back to the
// coordinator; on single-node PostgreSQL nothing is routed. A server back end only.
import net from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { citusLocator, inRoutingScope, type NodeAddress, readsOrganisation, RoutingPool } from '../../src/db/worker-routing.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

const SERVER = Boolean(process.env.DATABASE_URL);

let t: TestApp;
beforeAll(async () => {
  if (SERVER) t = await startTestApp();
});
afterAll(() => t?.close());

/** Which node of the cluster a statement sent through `db` inside the current scope reaches (0: the coordinator). */
async function serverGroup(db = t.db): Promise<number> {
  const { rows } = await sql<{ group: number }>`select groupid as group from pg_dist_local_group`.execute(db);
  return rows[0].group;
}

/** The node holding an organisation's rows, from the coordinator's own view of its shards. */
async function placementOf(orgId: string): Promise<{ node: string; group: number }> {
  const { rows } = await sql<{ node: string; group: number }>`
    select n.nodename || ':' || n.nodeport as node, n.groupid as group
    from pg_dist_placement p join pg_dist_node n on n.groupid = p.groupid
    where p.shardid = get_shard_id_for_distribution_column('principal_version', ${orgId}::text)`.execute(t.db);
  return rows[0];
}
const nodeHolding = async (orgId: string) => (await placementOf(orgId)).node;

/** The workers on which this service has connections open to the test's database. */
async function workersWithOurConnections(): Promise<string[]> {
  const { rows } = await sql<{ node: string; result: string }>`
    select nodename || ':' || nodeport as node, result from run_command_on_workers(
      $$select count(*) from pg_stat_activity where application_name = 'teamgraph' and datname = current_database()$$)`.execute(t.db);
  return rows.filter((r) => Number(r.result) > 0).map((r) => r.node).sort();
}

describe.skipIf(!SERVER)('where a request runs', () => {
  it('asks no node on single-node PostgreSQL, and on Citus the one holding the organisation', async () => {
    const tenant = await createTenant(t, 'Located');
    const pool = new pg.Pool({ connectionString: t.databaseUrl, max: 1 });
    try {
      const node = await citusLocator(pool)(tenant.orgId);
      if (onCitus()) expect(node && `${node.host}:${node.port}`).toBe(await nodeHolding(tenant.orgId));
      else expect(node).toBeNull();
    } finally {
      await pool.end();
    }
  });

  it('sends a routed scope to a worker it cannot reach back to the coordinator, and stops trying for a while', async () => {
    const closed = await closedPort();
    let attempts = 0;
    const unreachable = new pg.Pool({ host: '127.0.0.1', port: closed, connectionTimeoutMillis: 2000 });
    unreachable.on('error', () => {});
    const counted = { connect: () => (attempts++, unreachable.connect()), end: () => unreachable.end() } as unknown as pg.Pool;
    const coordinator = new pg.Pool({ connectionString: t.databaseUrl, max: 1 });
    const told: string[] = [];
    const routing = new RoutingPool(coordinator, () => counted, async (): Promise<NodeAddress> => ({ host: '127.0.0.1', port: closed }), (node) => told.push(node));
    const coordinatorPort = Number(new URL(t.databaseUrl!).port || 5432);
    const port = async () => {
      const client = await routing.connect();
      try {
        return ((await client.query('select inet_server_port() as port', [])) as { rows: { port: number }[] }).rows[0].port;
      } finally {
        client.release();
      }
    };
    try {
      expect(await port()).toBe(coordinatorPort);
      expect(attempts).toBe(0);
      await inRoutingScope(async () => {
        readsOrganisation('org_unreachable');
        expect(await port()).toBe(coordinatorPort);
        expect(await port()).toBe(coordinatorPort);
      });
      expect(attempts).toBe(1);
      expect(told).toEqual([`127.0.0.1:${closed}`]);
    } finally {
      await routing.end();
    }
  });

  it('sends a request to the coordinator while its worker’s pool is busy, without taking the worker for unreachable', async () => {
    // The "worker" is this database through a pool of one connection that does not wait long.
    const worker = new pg.Pool({ connectionString: t.databaseUrl, max: 1, connectionTimeoutMillis: 200 });
    let attempts = 0;
    const counted = { connect: () => (attempts++, worker.connect()), end: () => worker.end() } as unknown as pg.Pool;
    const told: string[] = [];
    const routing = new RoutingPool(new pg.Pool({ connectionString: t.databaseUrl, max: 1 }), () => counted, async () => ({ host: '127.0.0.1', port: 1 }), (node) => told.push(node));
    const routed = () =>
      inRoutingScope(async () => {
        readsOrganisation('org_busy');
        const client = await routing.connect();
        client.release();
      });
    try {
      const held = await worker.connect();
      await routed();
      held.release();
      await routed();
      // Both tried the worker; the first, refused for a busy pool, was answered by the coordinator.
      expect(attempts).toBe(2);
      expect(told).toEqual([]);
    } finally {
      await routing.end();
    }
  });
});

describe.skipIf(!onCitus())('reads on the worker of their organisation', () => {
  /** Tenants until two sit on different workers, each with an account that sees one object. */
  async function tenantsOnTwoWorkers() {
    const byNode = new Map<string, Tenant>();
    for (let i = 0; byNode.size < 2; i++) {
      if (i === 20) throw new Error('twenty organisations all landed on one worker');
      const tenant = await createTenant(t, `Spread${i}`);
      const node = await nodeHolding(tenant.orgId);
      if (!byNode.has(node)) byNode.set(node, tenant);
    }
    return Promise.all(
      [...byNode].map(async ([node, tenant]) => {
        const { accountId, token } = await tenant.account({ email: `reader@${tenant.orgId.toLowerCase()}.test` });
        return { node, tenant, accountId, token };
      }),
    );
  }

  it('runs a routed scope on the worker holding the organisation, and an unrouted one on the coordinator', async () => {
    const [a, b] = await tenantsOnTwoWorkers();
    expect(await inRoutingScope(() => serverGroup())).toBe(0);
    const groups = [];
    for (const { tenant } of [a, b]) {
      const group = await inRoutingScope(async () => {
        readsOrganisation(tenant.orgId);
        return serverGroup();
      });
      expect(group).toBe((await placementOf(tenant.orgId)).group);
      groups.push(group);
    }
    expect(new Set(groups).size).toBe(2);
    // TEAMGRAPH_CITUS_READS=coordinator
    const kept = openPostgres(t.databaseUrl!, 1, undefined, 0, { readsOnWorkers: false });
    try {
      const group = await inRoutingScope(async () => {
        readsOrganisation(a.tenant.orgId);
        return serverGroup(kept.db);
      });
      expect(group).toBe(0);
    } finally {
      await kept.close();
    }
  });

  it('answers a query from its organisation’s worker and keeps a mutation on the coordinator', async () => {
    // A database of its own, so that no other test's request has opened a worker's pool.
    const own = await startTestApp();
    const saved = t;
    t = own;
    try {
      const [a, b] = await tenantsOnTwoWorkers();
      for (const { tenant, accountId } of [a, b]) {
        await tenant.ingest('setUsers', { users: [{ externalId: 'reader', displayName: 'Reader', updateSequenceNumber: 1 }] });
        await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'reader', accountId, updateSequenceNumber: 1 }] });
        const result = await tenant.ingest('setObjects', { objects: [objectInput('WI-1', { permissions: viewAcl([userPrincipal('reader')]) })] });
        expect(result.acceptedCount).toBe(1);
      }
      // Every mutation above ran on the coordinator.
      expect(await workersWithOurConnections()).toEqual([]);

      const list = '{ objects(first: 5) { edges { node { externalId } } } }';
      const first = await own.graphql(a.token, list);
      expect(first.body.data.objects.edges.map((e: { node: { externalId: string } }) => e.node.externalId)).toEqual(['WI-1']);
      expect(await workersWithOurConnections()).toEqual([a.node]);

      const second = await own.graphql(b.token, list);
      expect(second.body.data.objects.edges).toHaveLength(1);
      expect(await workersWithOurConnections()).toEqual([a.node, b.node].sort());

      // The query's audit event, appended on its worker, is the organisation's chain's one event.
      const { rows } = await sql<{ seq: number; actor: string }>`select seq, actor_account_id as actor from audit_event where org_id = ${a.tenant.orgId}`.execute(own.db);
      expect(rows).toEqual([{ seq: 1, actor: a.accountId }]);
      expect(await own.app.services.audit.verify(a.tenant.orgId)).toMatchObject({ valid: true });
    } finally {
      t = saved;
      await own.close();
    }
  });
});

describe('TEAMGRAPH_CITUS_READS', () => {
  it('sends reads to the workers unless told to keep them on the coordinator, and refuses anything else', () => {
    expect(loadConfig({}).citusReadsOnWorkers).toBe(true);
    expect(loadConfig({ TEAMGRAPH_CITUS_READS: 'coordinator' }).citusReadsOnWorkers).toBe(false);
    expect(() => loadConfig({ TEAMGRAPH_CITUS_READS: 'replicas' })).toThrow(/TEAMGRAPH_CITUS_READS must be "workers" or "coordinator", got "replicas"/);
  });
});

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
