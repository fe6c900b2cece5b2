// Issue 18, item 4: what an operator does to a Citus cluster while the service serves: add a
// worker and move shards onto it (one shard group moved by hand, then citus_rebalance_start), and
// give a large organisation shards of its own (isolate_tenant_to_new_shard). Meanwhile autocannon
// sends list queries from a process of its own, and this file checks every answer it gets against
// what the viewer may see, and that a revocation and an ACL change apply on the very next request.
// Runs when the suite runs on Citus and TEAMGRAPH_TEST_CITUS_SPARE names a spare node (a
// PostgreSQL server with Citus loaded that is not in the cluster yet; .ci/run starts one). The
// moves use logical replication, as the README tells operators to: every node needs
// wal_level = logical and the citus output plugin allowed (.ci/run sets both).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

const run = promisify(execFile);
const AUTOCANNON = path.join(path.dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js');
const SPARE = process.env.TEAMGRAPH_TEST_CITUS_SPARE;
const LIST = '{ objects(first: 100) { edges { node { externalId } } } }';

let t: TestApp;
let spare: pg.Client | null = null;
let database = '';
beforeAll(async () => {
  if (!onCitus() || !SPARE) return;
  // The load runs for as long as the shard moves take: budgets it cannot spend (the charge still runs).
  const unspendable = 1_000_000_000;
  t = await startTestApp({ serve: true, rateLimitBudgets: { session: unspendable, adminApiKey: unspendable, bitbucketToken: unspendable, connection: unspendable } });
  database = new URL(t.databaseUrl!).pathname.slice(1);
  // The spare node gets the test's database with Citus in it, as cluster.sh createdb makes them.
  const url = new URL(t.databaseUrl!);
  url.host = SPARE;
  url.pathname = '/postgres';
  spare = new pg.Client({ connectionString: url.toString() });
  await spare.connect();
  await spare.query(`create database ${database}`);
  const inDatabase = new pg.Client({ connectionString: (() => ((url.pathname = `/${database}`), url.toString()))() });
  await inDatabase.connect();
  await inDatabase.query('create extension citus');
  await inDatabase.end();
});
afterAll(async () => {
  if (!t) return;
  await t.close();
  await spare?.query(`drop database if exists ${database} with (force)`);
  await spare?.end();
});

async function listedBy(token: string): Promise<string[]> {
  const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: LIST }) });
  const body = (await response.json()) as { data?: { objects: { edges: { node: { externalId: string } }[] } }; errors?: unknown };
  if (response.status !== 200 || body.errors) throw new Error(`a list request failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.data!.objects.edges.map((e) => e.node.externalId).sort();
}

/** autocannon in a process of its own for `seconds`, sending the list query as `token`. */
async function load(token: string, seconds: number) {
  const { stdout } = await run(process.execPath, [
    AUTOCANNON, '--json', '--connections', '4', '--duration', String(seconds), '--method', 'POST',
    '--headers', 'content-type=application/json', '--headers', `authorization=Bearer ${token}`,
    '--body', JSON.stringify({ query: LIST }), `${t.url}/graphql`,
  ], { maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout) as { requests: { total: number }; errors: number; timeouts: number; non2xx: number; latency: { max: number } };
  // A timeout is autocannon's 10 s without an answer: a request held that long has failed its user.
  return { requests: result.requests.total, failed: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }, slowestMs: result.latency.max };
}

async function placementOf(orgId: string): Promise<{ shardid: number; nodeport: number }> {
  const { rows } = await sql<{ shardid: number; nodeport: number }>`
    select s.shardid, p.nodeport from pg_dist_shard s join pg_dist_shard_placement p using (shardid)
    where s.logicalrelid = 'graph_object'::regclass and s.shardid = get_shard_id_for_distribution_column('graph_object', ${orgId}::text)`.execute(t.db);
  return rows[0];
}

describe.runIf(onCitus() && Boolean(SPARE))('operating the cluster while it serves', () => {
  it('adds a worker, moves and rebalances shards, and isolates an organisation with no failed request and no stale answer', async () => {
    const { rows: settings } = await sql<{ wal_level: string }>`select current_setting('wal_level') as wal_level`.execute(t.db);
    if (settings[0].wal_level !== 'logical') throw new Error('Shard moves while serving need wal_level = logical on every node (README, Scaling out; .ci/run sets it).');
    const tenant: Tenant = await createTenant(t, 'Moving');
    const viewer = await tenant.account({ member: false });
    const revoked = await tenant.account({ member: false });
    await tenant.ingest('setUsers', { users: [{ externalId: 'v', displayName: 'v', updateSequenceNumber: 1 }] });
    await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'v', accountId: viewer.accountId, updateSequenceNumber: 1 }] });
    const objects = Array.from({ length: 60 }, (_, i) => objectInput(`M-${i}`, { permissions: viewAcl([userPrincipal(i < 40 ? 'v' : 'nobody')]) }));
    await tenant.ingest('setObjects', { objects });
    let expected = Array.from({ length: 40 }, (_, i) => `M-${i}`).sort();
    expect(await listedBy(viewer.token)).toEqual(expected);

    // Every answer checked while the operations run: none fails, none is stale.
    let checking = true;
    let checked = 0;
    const checker = (async () => {
      while (checking) {
        // An answer reflects the state when it was sent or a newer one, never an older one.
        const sent = expected;
        const seen = (await listedBy(viewer.token)).join();
        if (seen !== sent.join() && seen !== expected.join()) throw new Error(`a stale or wrong answer: ${seen}`);
        checked++;
      }
    })();
    const loaded = load(viewer.token, 20);
    let served: Awaited<typeof loaded> | null = null;
    let checkerError: unknown = null;

    const [host, port] = SPARE!.split(':');
    try {
      await sql`select citus_add_node(${host}, ${Number(port)})`.execute(t.db);
      // A shard moves only to a node that holds the reference tables (citus_rebalance_start copies them itself).
      await sql`select replicate_reference_tables(shard_transfer_mode => 'block_writes')`.execute(t.db);
      const before = await placementOf(tenant.orgId);
      // Citus's default transfer mode (auto): logical replication, writes held only for the switch.
      await sql`select citus_move_shard_placement(${before.shardid}, '127.0.0.1', ${before.nodeport}, ${host}, ${Number(port)})`.execute(t.db);
      expect((await placementOf(tenant.orgId)).nodeport).toBe(Number(port));

      // Changes made after the move apply on the very next request.
      expect((await t.graphql(revoked.token, '{ viewer { account { id } } }')).status).toBe(200);
      await t.app.services.sessions.revoke(tenant.orgId, { accountId: revoked.accountId });
      expect((await t.graphql(revoked.token, '{ viewer { account { id } } }')).status).toBe(401);
      await tenant.ingest('setObjects', { objects: [objectInput('M-0', { updateSequenceNumber: 2, permissions: viewAcl([userPrincipal('nobody')]) })] });
      expected = expected.filter((id) => id !== 'M-0');
      expect(await listedBy(viewer.token)).toEqual(expected);

      await sql`select citus_rebalance_start()`.execute(t.db).catch((error: Error) => {
        // A balanced cluster has nothing to move; that is not a failure of the service.
        if (!/no moves available/i.test(error.message)) throw error;
      });
      await sql`select citus_rebalance_wait()`.execute(t.db);

      // Citus's non-blocking split stalls while its rows are updated (citusdata/citus#6790), and
      // every request updates its organisation's audit chain: isolating holds writes instead.
      const isolated = await sql<{ shardid: number }>`select isolate_tenant_to_new_shard('graph_object', ${tenant.orgId}::text, cascade_option => 'CASCADE', shard_transfer_mode => 'block_writes') as shardid`.execute(t.db);
      expect((await placementOf(tenant.orgId)).shardid).toBe(isolated.rows[0].shardid);

    } finally {
      checking = false;
      served = await loaded;
      checkerError = await checker.then(
        () => null,
        (error: unknown) => error,
      );
    }
    if (checkerError) throw checkerError;
    expect(await listedBy(viewer.token)).toEqual(expected);
    expect(served!.failed, `slowest answer ${served!.slowestMs} ms`).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    expect(served!.requests).toBeGreaterThan(20);
    expect(checked).toBeGreaterThan(5);
    // The spare node leaves again, its shards moved back, so the test's database can be dropped.
    await sql`select citus_drain_node(${host}, ${Number(port)}, shard_transfer_mode => 'block_writes')`.execute(t.db);
    await sql`select citus_remove_node(${host}, ${Number(port)})`.execute(t.db);
  // A logical move of one shard group takes about 12 s here, most of it waiting for a consistent
  // point while the load's transactions run, and the rebalance moves about ten: 200 s alone,
  // more beside the rest of the suite.
  }, 600_000);
});
