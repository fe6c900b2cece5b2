// Citus against single-node PostgreSQL, request by request (issue 18, item 5: each viewer's p95 on
// Citus ≤ 1.5 × on PostgreSQL, on the same machine). The ten-organisation runs of `npm run bench`
// measure the two back ends half an hour apart, and on this machine a figure moves by up to 2×
// from one hour to the next; this bench alternates every request between servers on the databases
// those two runs kept (`--keep`), so that all of them are timed in the same minutes:
//
//   npm run bench -- --backend citus --orgs 10 --objects 100000 --stats never --keep      (prints the Citus URL)
//   npm run bench -- --backend postgres --orgs 10 --objects 100000 --stats never --keep   (prints the database name)
//   npm run bench:citus-pair -- --postgres postgres://postgres@127.0.0.1:5432/<name> --citus postgres://postgres@127.0.0.1:5440/<name> [--runs 200] [--warmup 20]
//
// Three servers, each the production build in its own process: on PostgreSQL; on Citus as it runs
// (a query's statements on the worker that holds its organisation, src/db/worker-routing.ts); and on
// Citus with TEAMGRAPH_CITUS_READS=coordinator. The measured organisation is the first one the
// bench loaded (the one with the hub's relationships); both databases hold the same dataset (same
// seed), so each case's answers must agree: the same lastUpdatedAt rank by rank on a page (ties may
// order differently, by server ids), the same object, a full page of the hub's links. The first page and
// the cursor to the second are read from each server once, before timing. Cases, as `npm run bench`
// names them: each viewer's pages 1 and 2, plain, with its types filter and with the text
// "roadmap" (the rare viewer sees 10 objects: page 1 only), the wide viewer's rare word, each
// viewer's `object(id)` (the newest object it sees), and the hub's relationships page.
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import { COMMON_WORD, RARE_WORD, TYPE_FILTER, VIEWERS, type ViewerName } from './dataset.ts';
import { benchServices, codeRevision, measureInterleaved, ms, openPool, out, progress } from './harness.ts';
import { type BenchServer, graphql, startServerProcess } from './ingest.ts';

const { values } = parseArgs({
  options: {
    postgres: { type: 'string' },
    citus: { type: 'string' },
    runs: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
  },
});
if (!values.postgres || !values.citus) throw new Error('--postgres and --citus name the databases two `npm run bench … --keep` runs kept.');
const runs = Number(values.runs);
const warmup = Number(values.warmup);

const LIST_QUERY = 'query ($filter: ObjectFilter, $after: String) { objects(filter: $filter, first: 25, after: $after) { edges { node { id lastUpdatedAt } } pageInfo { endCursor } } }';
const OBJECT_QUERY = 'query ($id: ID!) { object(id: $id) { id externalId displayName } }';
const RELATIONSHIPS_QUERY = 'query ($id: ID!) { object(id: $id) { relationships(first: 25) { edges { node { type from { externalId } to { externalId } } } } } }';

/** What a server needs to be asked the measured organisation's cases: its viewers' tokens and its ids. */
interface Target {
  name: string;
  server: BenchServer;
  tokens: Record<ViewerName, string>;
  hubId: string;
}

/** The measured organisation of a kept bench database: tokens for its viewers and its hub's id. */
async function prepare(databaseUrl: string): Promise<Omit<Target, 'name' | 'server'>> {
  const handle = openPool(databaseUrl);
  try {
    const { rows: hubs } = await sql<{ orgId: string; hubId: string }>`
      select org_id as "orgId", from_object_id as "hubId" from relationship group by org_id, from_object_id order by count(*) desc limit 1`.execute(handle.db);
    if (!hubs[0]) throw new Error(`${databaseUrl} holds no relationships: not a database \`npm run bench\` kept.`);
    const { orgId, hubId } = hubs[0];
    const services = benchServices(handle);
    const scopes = services.catalog.permissions.map((p) => p.key);
    const tokens = {} as Record<ViewerName, string>;
    for (const viewer of VIEWERS) {
      const displayName = `${viewer.charAt(0).toUpperCase()}${viewer.slice(1)} Viewer`;
      const account = await handle.db.selectFrom('account').select('id').where('org_id', '=', orgId).where('display_name', '=', displayName).executeTakeFirstOrThrow();
      tokens[viewer] = (await services.sessions.issue({ orgId, accountId: account.id }, CLI_CLIENT_ID, scopes, 6 * 3600)).accessToken;
    }
    return { tokens, hubId };
  } finally {
    await handle.close();
  }
}

interface Case {
  label: string;
  /** Per target: the request to time, and what its answer must agree on across targets. */
  request: (target: Target) => Promise<() => Promise<unknown>>;
}

const filterOf = (viewer: ViewerName, filter: 'plain' | 'types' | 'text' | 'rare word') =>
  filter === 'types' ? { types: [TYPE_FILTER[viewer]] } : filter === 'text' ? { text: COMMON_WORD } : filter === 'rare word' ? { text: RARE_WORD } : undefined;

function listCase(viewer: ViewerName, filter: 'plain' | 'types' | 'text' | 'rare word', page: 1 | 2): Case {
  const suffix = filter === 'plain' ? '' : filter === 'types' ? `, types [${TYPE_FILTER[viewer]}]` : `, text "${filter === 'text' ? COMMON_WORD : RARE_WORD}"`;
  return {
    label: `objects page ${page}, ${viewer}${suffix}`,
    async request(target) {
      const token = target.tokens[viewer];
      const variables = { filter: filterOf(viewer, filter), after: null as string | null };
      if (page === 2) variables.after = (await graphql(target.server.url, token, LIST_QUERY, variables)).objects.pageInfo.endCursor;
      return () => graphql(target.server.url, token, LIST_QUERY, variables).then((data) => data.objects.edges.map((e: { node: { lastUpdatedAt: string } }) => e.node.lastUpdatedAt));
    },
  };
}

function objectCase(viewer: ViewerName): Case {
  return {
    label: `object(id), ${viewer}`,
    async request(target) {
      const token = target.tokens[viewer];
      const newest = (await graphql(target.server.url, token, LIST_QUERY, {})).objects.edges[0].node.id;
      return () => graphql(target.server.url, token, OBJECT_QUERY, { id: newest }).then((data) => data.object.externalId);
    },
  };
}

const relationshipsCase: Case = {
  label: 'relationships(first: 25) of the hub, wide',
  async request(target) {
    // A page of the hub's 400 links, ordered by ids each database drew for itself: the same size, every link the hub's.
    const hub = (await graphql(target.server.url, target.tokens.wide, OBJECT_QUERY, { id: target.hubId })).object.externalId as string;
    return () =>
      graphql(target.server.url, target.tokens.wide, RELATIONSHIPS_QUERY, { id: target.hubId }).then((data) => {
        const edges = data.object.relationships.edges as { node: { from: { externalId: string }; to: { externalId: string } } }[];
        return { size: edges.length, allTheHubs: edges.every((e) => e.node.from.externalId === hub || e.node.to.externalId === hub) };
      });
  },
};

const CASES: Case[] = [
  ...VIEWERS.flatMap((viewer) => [
    ...(['plain', 'types', 'text'] as const).flatMap((filter) => (viewer === 'rare' ? [listCase(viewer, filter, 1)] : [listCase(viewer, filter, 1), listCase(viewer, filter, 2)])),
    ...(viewer === 'wide' ? [listCase(viewer, 'rare word', 1)] : []),
    objectCase(viewer),
  ]),
  relationshipsCase,
];

function summary(ratios: number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
  return `${sorted[0].toFixed(2)}–${sorted.at(-1)!.toFixed(2)}, median ${median.toFixed(2)}, ${sorted.filter((r) => r <= 1.5).length} of ${sorted.length} cases within 1.5`;
}

const targets: Target[] = [];
try {
  for (const [name, databaseUrl, env] of [
    ['PostgreSQL', values.postgres, {}],
    ['Citus', values.citus, {}],
    ['Citus, reads through the coordinator', values.citus, { TEAMGRAPH_CITUS_READS: 'coordinator' }],
  ] as const) {
    const prepared = await prepare(databaseUrl);
    targets.push({ name, server: await startServerProcess(databaseUrl, 30, env), ...prepared });
  }
  out(`# Citus against single-node PostgreSQL, alternated request by request — \`npm run bench:citus-pair\``);
  out();
  out(`${new Date().toISOString().slice(0, 16)} UTC, code \`${codeRevision()}\`, ${runs} runs per case and server after ${warmup} warm-up rounds.`);
  out();
  out(`| case | ${targets.map((t) => t.name).join(' | ')} | p95 ratio Citus / PostgreSQL | through the coordinator |`);
  out(`|---|${targets.map(() => '---|').join('')}---|---|`);
  const ratios: number[] = [];
  const throughCoordinator: number[] = [];
  for (const c of CASES) {
    progress(c.label);
    const requests = await Promise.all(targets.map((t) => c.request(t)));
    const answers = await Promise.all(requests.map((once) => once()));
    const agree = answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0]));
    if (!agree) {
      out(`| ${c.label} | **NO**: the servers' answers differ |${targets.slice(1).map(() => ' |').join('')} | |`);
      continue;
    }
    const timings = await measureInterleaved(runs, warmup, requests.map((once) => async () => void (await once())));
    ratios.push(timings[1].p95 / timings[0].p95);
    throughCoordinator.push(timings[2].p95 / timings[0].p95);
    out(`| ${c.label} | ${timings.map((t) => `${ms(t.p50)} / **${ms(t.p95)}**`).join(' | ')} | ${ratios.at(-1)!.toFixed(2)} | ${throughCoordinator.at(-1)!.toFixed(2)} |`);
  }
  out();
  out(`p95 ratio Citus / PostgreSQL: ${summary(ratios)}. Through the coordinator: ${summary(throughCoordinator)}.`);
} finally {
  for (const t of targets) await t.server.stop();
}
