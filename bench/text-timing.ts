// Issue 15, item 10: does a text filter's answer time tell a viewer whether objects it may not
// see match the text? A viewer who sees 1% of the objects searches, in turn, a word that only
// invisible objects hold ("needle", in half of them) and a word nothing holds ("absent"); the
// paired differences (needle − absent) say whether the time leaks. A viewer who sees everything
// then searches a rare word, for what closing the channel costs where the text is rare.
//
//   npm run bench:text-timing -- [--objects 20000] [--pairs 300] [--backend pglite|postgres]
import { CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import { parseArgs } from 'node:util';
import type { ConnectionCaller } from '../src/modules/session/caller.ts';
import { percentile } from './dataset.ts';
import { type Backend, BENCH_ORIGIN, benchApp, codeRevision, ms, out, progress, withDatabase } from './harness.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '20000' },
    pairs: { type: 'string', default: '300' },
    backend: { type: 'string', default: 'pglite' },
    server: { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const objects = Number(values.objects);
const pairs = Number(values.pairs);
const backend = values.backend as Backend;

await withDatabase({ backend, server: values.server! }, async (handle) => {
  // The audit log is off: what is compared is the list's time for two texts, and each request's
  // audit append (the same for both) would only add its own noise to every pair.
  const app = benchApp(handle, { auditLog: false });
  const { orgs, sessions, directory, catalog } = app.services;
  const { orgId } = await orgs.createOrganization('Timing');
  const { cloudId } = await orgs.createSite(orgId, 'timing');
  const connection = await orgs.createConnection(cloudId, 'timing');
  const auth = await sessions.authenticate((await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [], 3600)).accessToken);
  if (!auth.ok) throw new Error('no connection session');
  const caller = auth.caller as ConnectionCaller;
  const person = async (name: string, externalId: string) => {
    const { accountId } = await orgs.createAccount({ orgId, email: `${name}@timing.test`, displayName: name, cloudIds: [cloudId] });
    await directory.mapUsers(caller, caller.connectionId, [{ externalId, accountId, updateSequenceNumber: 1 }]);
    return (await sessions.issue({ orgId, accountId }, CLI_CLIENT_ID, catalog.permissions.map((p) => p.key), 3600)).accessToken;
  };
  const narrow = await person('narrow', 'u-narrow');
  const wide = await person('wide', 'u-wide');

  progress(`loading ${objects} objects on ${backend}`);
  const start = Date.parse('2026-11-01T00:00:00Z');
  for (let first = 0; first < objects; first += 100) {
    const batch = [];
    for (let i = first; i < Math.min(objects, first + 100); i++) {
      const visibleToNarrow = i % 100 === 0;
      const word = visibleToNarrow ? 'visible' : i % 2 === 0 ? 'needle' : 'hay';
      batch.push({
        type: 'jira:work-item',
        externalId: `T-${i}`,
        displayName: `${word} item ${i}`,
        description: i % 1000 === 7 ? 'the rare word quokka' : undefined,
        lastUpdatedAt: new Date(start + i * 1000),
        updateSequenceNumber: 1,
        permissions: [{ accessControls: [{ principals: [{ type: 'USER', id: 'u-wide' }, ...(visibleToNarrow ? [{ type: 'USER', id: 'u-narrow' }] : [])] }] }],
      });
    }
    const payload = await app.services.objects.setObjects(caller, caller.connectionId, batch as never);
    if (payload.rejectedCount > 0) throw new Error(JSON.stringify(payload.results.find((r) => r.status === 'REJECTED')));
  }

  const search = async (token: string, text: string) => {
    const started = performance.now();
    const response = await app.fetch(
      new Request(`${BENCH_ORIGIN}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'query($t: String) { objects(first: 25, filter: { text: $t }) { edges { node { id } } } }', variables: { t: text } }),
      }),
    );
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return { ms: performance.now() - started, count: body.data.objects.edges.length as number };
  };

  for (let i = 0; i < 30; i++) await search(narrow, i % 2 ? 'needle' : 'absent');
  const needle: number[] = [];
  const absent: number[] = [];
  const differences: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // Alternate which goes first, so drift and GC fall on both alike.
    const [a, b] = i % 2 ? [await search(narrow, 'needle'), await search(narrow, 'absent')] : [await search(narrow, 'absent'), await search(narrow, 'needle')].reverse();
    if (a.count !== 0 || b.count !== 0) throw new Error('the narrow viewer must find nothing');
    needle.push(a.ms);
    absent.push(b.ms);
    differences.push(a.ms - b.ms);
  }
  for (const list of [needle, absent, differences]) list.sort((x, y) => x - y);
  const rare: number[] = [];
  for (let i = 0; i < Math.min(pairs, 100); i++) rare.push((await search(wide, 'quokka')).ms);

  rare.sort((x, y) => x - y);
  out(`# text filter timing, ${objects.toLocaleString('en')} objects, ${backend}; revision ${codeRevision()}; ${new Date().toISOString()}`);
  out(`| viewer sees 1%, ${pairs} pairs | p50 ms | p95 ms |`);
  out('|---|---|---|');
  out(`| "needle" (in half of the invisible objects) | ${ms(percentile(needle, 50))} | ${ms(percentile(needle, 95))} |`);
  out(`| "absent" (in no object) | ${ms(percentile(absent, 50))} | ${ms(percentile(absent, 95))} |`);
  out(`| paired difference needle − absent | ${ms(percentile(differences, 50))} | |`);
  out(`| viewer sees all, rare word (${Math.ceil(objects / 1000)} matches), ${rare.length} runs | ${ms(percentile(rare, 50))} | ${ms(percentile(rare, 95))} |`);
});
