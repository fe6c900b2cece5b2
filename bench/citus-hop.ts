// What one statement costs through a Citus coordinator, against single-node PostgreSQL (issue 18,
// item 5): the floor under the Citus / PostgreSQL ratio of a request, which runs a few statements
// one after the other whatever the service does (object(id): the rate-limit charge, the access
// check, the audit append, each waiting for the one before; PRODUCT §9 wants the audit event
// durable before the answer). One single-row lookup by organisation, a named statement on one
// connection, the way the credential stamp is read on every request, sent:
//  - to single-node PostgreSQL;
//  - to the Citus coordinator, which routes it to the worker holding the row;
//  - to that worker, naming the distributed table (Citus runs it there without another node);
//  - to that worker, naming its shard (what the worker itself does, no Citus planning).
// Each back to back and with a pause of --gap ms before each statement, as a request's
// statements have the service's own work between them; processes that slept must be woken, and
// through the coordinator there are two. Targets alternate, one statement each per round.
//
//   npm run bench:citus-hop -- [--runs 1000] [--warmup 100] [--gap 5]
//                              [--server postgres://postgres@127.0.0.1:5432/postgres]
//                              [--citus postgres://postgres@127.0.0.1:5440/postgres]
//
// Needs the local cluster of ../shared/tools/citus/cluster.sh; makes a database on each back end
// and drops it after.
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { codeRevision, DEFAULT_SERVER, type Timing, measureInterleaved, ms, out, progress, withDatabase } from './harness.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    gap: { type: 'string', default: '5' },
    server: { type: 'string', default: DEFAULT_SERVER.postgres },
    citus: { type: 'string', default: DEFAULT_SERVER.citus },
  },
  strict: true,
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const gap = Number(values.gap);
if (!Number.isInteger(runs) || runs < 100 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--runs must be an integer ≥ 100 and --warmup ≥ 0');
if (!(gap > 0)) throw new Error('--gap is a number of ms above 0');

const ORGS = 32;
const ORG = 'org_hop_7';

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // Dropping the database at the end ends its connections; a failure is reported where it happens.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** A table of one row per organisation, sharded by it on Citus; a client on it. */
async function probeTable(url: string, citus: boolean): Promise<pg.Client> {
  const client = await connect(url);
  await client.query('create table hop_probe (org_id text primary key, stamp text not null)');
  if (citus) await client.query(`select create_distributed_table('hop_probe', 'org_id', colocate_with => 'none')`);
  await client.query(`insert into hop_probe select 'org_hop_' || i, md5(i::text) from generate_series(1, ${ORGS}) i`);
  return client;
}

const lookup = (client: pg.Client, table: string, name: string) => async () => {
  const { rows } = await client.query({ name, text: `select stamp from ${table} where org_id = $1`, values: [ORG] });
  if (rows.length !== 1) throw new Error(`${name}: expected the organisation's row, got ${rows.length}`);
};

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, gap));

async function main() {
  progress('databases on PostgreSQL and on the Citus cluster');
  await withDatabase({ backend: 'postgres', server: values.server! }, async (_pgHandle, pgUrl) =>
    withDatabase({ backend: 'citus', server: values.citus! }, async (_citusHandle, citusUrl) => {
      const single = await probeTable(pgUrl!, false);
      const coordinator = await probeTable(citusUrl!, true);
      const { rows } = await coordinator.query<{ node: string; shard: string }>(
        `select nodename || ':' || nodeport as node, shard_name as shard from citus_shards
         where table_name = 'hop_probe'::regclass and shardid = get_shard_id_for_distribution_column('hop_probe', $1::text)`,
        [ORG],
      );
      const { node, shard } = rows[0];
      const workerUrl = new URL(citusUrl!);
      workerUrl.host = node;
      const worker = await connect(workerUrl.toString());
      const targets: [string, () => Promise<void>][] = [
        ['single-node PostgreSQL', lookup(single, 'hop_probe', 'pg')],
        ['Citus coordinator', lookup(coordinator, 'hop_probe', 'coordinator')],
        [`Citus worker ${node}, the distributed table`, lookup(worker, 'hop_probe', 'worker_table')],
        [`Citus worker ${node}, its shard ${shard}`, lookup(worker, shard, 'worker_shard')],
      ];
      try {
        progress(`back to back: ${runs} rounds`);
        const backToBack = await measureInterleaved(runs, warmup, targets.map(([, once]) => once));
        progress(`with ${gap} ms before each: ${runs} rounds`);
        const paused = await measureInterleaved(runs, warmup, targets.map(([, once]) => once), pause);
        report(targets.map(([label]) => label), backToBack, paused);
      } finally {
        for (const client of [single, coordinator, worker]) await client.end();
      }
    }),
  );
}

function report(labels: string[], backToBack: Timing[], paused: Timing[]) {
  out(`## One statement through the Citus coordinator — \`npm run bench:citus-hop -- --runs ${runs} --gap ${gap}\``);
  out();
  out(`${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, code ${codeRevision()}, ${os.cpus()[0]?.model.trim()} (${os.cpus().length} cores), Node ${process.version}.`);
  out(`A single-row lookup by organisation (a named statement, one connection per target), ${runs} rounds after ${warmup}, the targets alternated; ms, p50 / **p95**.`);
  out();
  out(`| sent to | back to back | with ${gap} ms before each |`);
  out('|---|---|---|');
  for (const [index, label] of labels.entries()) {
    out(`| ${label} | ${ms(backToBack[index].p50)} / **${ms(backToBack[index].p95)}** | ${ms(paused[index].p50)} / **${ms(paused[index].p95)}** |`);
  }
  out();
  out(`Through the coordinator a statement costs ${ms(paused[1].p50 - paused[0].p50)} ms more than on single-node PostgreSQL at p50 with pauses (${ms(backToBack[1].p50 - backToBack[0].p50)} back to back).`);
}

await main();
