// Issue 18, item 2: on a Citus cluster every statement a request runs goes to the one node that
// holds its organisation. The requests below cover the list filter (its forward and streams
// plans), single-object checks, the viewer's principal set with nested groups, children and
// relationship pages, ingestion, settings, a site by its id, the session lookup, the credential
// stamp that confirms a cached session (src/modules/session/credentials/stamp-feed.ts) and the
// audit append; each statement they ran is explained with its own parameters and must be a
// single-shard router query (one task, no subplan), or touch no sharded table at all.
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, groupPrincipal, isCredentialLookup, objectInput, startTestApp, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';
import { onCitus } from '../support/database.ts';

let t: TestApp;
beforeAll(async () => {
  if (onCitus()) t = await startTestApp();
});
afterAll(() => t?.close());

/** Transaction control and planner settings: nothing to route. */
const NOT_ROUTED_ANYWHERE = /^\s*(begin|commit|rollback|savepoint|release|set |select set_config\()/i;

/**
 * Known exception, told in visibility-filter.ts: the text plan finds its rows through the
 * trigram index in a form no btree serves, which Citus cannot route either, so it asks every shard.
 */
const ASKS_EVERY_SHARD = [/left\(md5\(o\.org_id\), 4\)/];

type Routing = 'one shard' | 'coordinator' | 'several';

/** How Citus runs a statement, from its EXPLAIN. */
function routing(plan: string): Routing {
  if (/Distributed Subplan/.test(plan)) return 'several';
  const tasks = [...plan.matchAll(/Task Count: (\d+)/g)].map((m) => Number(m[1]));
  if (tasks.some((n) => n !== 1)) return 'several';
  if (tasks.length > 0) return 'one shard';
  // INSERT ... SELECT from rows the statement carries (ingestion's JSON): the coordinator computes
  // them and sends them to the one shard their organisation names.
  if (/INSERT\/SELECT method: pull to coordinator/.test(plan)) return 'one shard';
  return /Citus/.test(plan) ? 'several' : 'coordinator';
}

describe.skipIf(!onCitus())('statements on a Citus cluster', () => {
  it('routes every statement of a request to the node of its organisation', async () => {
    const tenant = await createTenant(t, 'Routed');
    const narrow = await tenant.account({ member: false });
    const wide = await tenant.account();
    const admin = await tenant.account({ admin: true });
    await tenant.ingest('setUsers', { users: ['n', 'x'].map((externalId) => ({ externalId, displayName: externalId, updateSequenceNumber: 1 })) });
    await tenant.ingest('setGroups', {
      groups: [
        { externalId: 'team', members: [{ type: 'USER', externalId: 'n' }], updateSequenceNumber: 1 },
        { externalId: 'dept', members: [{ type: 'GROUP', externalId: 'team' }], updateSequenceNumber: 1 },
      ],
    });
    await tenant.ingest('mapUsers', {
      directMappings: [
        { externalId: 'n', accountId: narrow.accountId, updateSequenceNumber: 1 },
        { externalId: 'x', accountId: wide.accountId, updateSequenceNumber: 1 },
      ],
    });
    t.queries.length = 0;
    const space = { type: 'confluence:space', externalId: 'S' };
    await tenant.ingest('setObjects', {
      objects: [
        objectInput('S', { type: 'confluence:space', permissions: viewAcl([groupPrincipal('dept')]) }),
        objectInput('P1', { type: 'confluence:page', container: space, permissions: viewAcl([{ type: 'CONTAINER' }]) }),
        ...Array.from({ length: 60 }, (_, i) => objectInput(`W-${i}`, { displayName: `Roadmap item ${i}`, permissions: viewAcl(i % 10 === 0 ? [userPrincipal('n')] : [userPrincipal('x')]) })),
      ],
    });
    await tenant.ingest('setRelationships', {
      relationships: Array.from({ length: 5 }, (_, i) => ({
        type: 'work-item-links-work-item',
        from: { type: 'jira:work-item', externalId: 'W-0' },
        to: { type: 'jira:work-item', externalId: `W-${i + 1}` },
        updateSequenceNumber: 1,
      })),
    });
    await tenant.ingest('deleteObjects', { objects: [{ type: 'jira:work-item', externalId: 'W-59', updateSequenceNumber: 2 }] });

    const list = '{ objects(first: 5) { edges { node { id externalId container { id } children(first: 5) { edges { node { id } } } relationships(first: 5) { edges { node { type } } } viewerCanEdit } } } }';
    for (const token of [narrow.token, wide.token]) {
      const page = await t.graphql(token, list);
      expect(page.body.errors).toBeUndefined();
      const id = page.body.data.objects.edges[0].node.id;
      expect((await t.graphql(token, 'query($id: ID!) { object(id: $id) { id } }', { id })).body.errors).toBeUndefined();
      expect((await t.graphql(token, '{ objects(first: 5, filter: { types: ["confluence:page"] }) { edges { node { id } } } }')).body.errors).toBeUndefined();
    }
    expect((await t.graphql(wide.token, '{ objects(first: 5, filter: { text: "roadmap" }) { edges { node { id } } } }')).body.errors).toBeUndefined();
    const settings = await t.graphql(admin.token, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }', {
      i: { orgId: tenant.orgId, allowAllByDefault: true, revokeSessions: false },
    });
    expect(settings.body.errors).toBeUndefined();
    expect((await t.graphql(narrow.token, 'query($id: ID!) { node(id: $id) { id } }', { id: tenant.cloudId })).body.data.node).toEqual({ id: tenant.cloudId });
    expect((await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditEvents(first: 5) { edges { node { action } } } } }', { o: tenant.orgId })).body.errors).toBeUndefined();

    const seen = new Map<string, readonly unknown[]>();
    for (const query of t.queries) if (!NOT_ROUTED_ANYWHERE.test(query.sql) && !seen.has(query.sql)) seen.set(query.sql, query.parameters);
    expect(seen.size).toBeGreaterThan(15);
    // A token's first request reads its session; the next ones the organisation's stamp.
    expect([...seen.keys()].filter(isCredentialLookup)).not.toEqual([]);
    expect([...seen.keys()].filter((s) => s.includes('"principal_version"') && s.includes('credentials'))).not.toEqual([]);
    const offenders: string[] = [];
    const routed: Record<Routing, number> = { 'one shard': 0, coordinator: 0, several: 0 };
    for (const [statement, parameters] of seen) {
      const result = await t.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain (costs off) ${statement}`, [...parameters]));
      const plan = result.rows.map((r) => r['QUERY PLAN']).join('\n');
      const how = routing(plan);
      routed[how]++;
      if (how === 'several' && !ASKS_EVERY_SHARD.some((pattern) => pattern.test(statement))) offenders.push(`${statement.trim().slice(0, 300)}\n${plan}`);
    }
    expect(offenders).toEqual([]);
    expect(routed['one shard']).toBeGreaterThan(15);
  });
});
