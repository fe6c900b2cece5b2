import { withDatabase, benchApp, DEFAULT_SERVER } from './harness.ts';
import { listAccessors } from '../src/authz/accessors.ts';
import type { ConnectionCaller } from '../src/modules/session/caller.ts';
const statements: [string, number][] = [];
await withDatabase({ backend: 'postgres', server: DEFAULT_SERVER.postgres, settings: ["session_preload_libraries = 'auto_explain'", 'auto_explain.log_min_duration = 50', 'auto_explain.log_analyze = on', 'auto_explain.log_timing = on'], onQuery: (s, d) => statements.push([s.slice(0, 80).replace(/\s+/g, ' '), d]) }, async (handle) => {
  const app = benchApp(handle);
  const { orgs, sessions, directory, objects } = app.services;
  const { orgId } = await orgs.createOrganization('A');
  const { cloudId } = await orgs.createSite(orgId, 'a');
  const connection = await orgs.createConnection(cloudId, 'jira');
  const auth = await sessions.authenticate((await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [])).accessToken);
  const caller = (auth as any).caller as ConnectionCaller;
  const emails = Array.from({ length: 10000 }, (_, i) => `m${i}@a.test`);
  for (let i = 0; i < emails.length; i += 20) await Promise.all(emails.slice(i, i + 20).map((email) => orgs.createAccount({ orgId, email, displayName: email, cloudIds: [cloudId] })));
  for (let i = 0; i < emails.length; i += 100) {
    await directory.setUsers(caller, connection.connectionId, emails.slice(i, i + 100).map((e) => ({ externalId: `x-${e}`, updateSequenceNumber: 1 })));
    await directory.mapUsers(caller, connection.connectionId, emails.slice(i, i + 100).map((e) => ({ externalId: `x-${e}`, externalEmailAddress: e, updateSequenceNumber: 1 })));
  }
  await directory.setGroups(caller, connection.connectionId, [{ externalId: 'g', updateSequenceNumber: 1, members: emails.map((e) => ({ type: 'USER' as const, externalId: `x-${e}` })) }]);
  await objects.setObjects(caller, connection.connectionId, [{ type: 'jira:project', externalId: 'P', displayName: 'P', updateSequenceNumber: 1, permissions: [{ accessControls: [{ principals: [{ type: 'GROUP', id: 'g' }] }] }] }]);
  const id = (await handle.db.selectFrom('graph_object').select('id').where('org_id', '=', orgId).executeTakeFirstOrThrow()).id;
  for (let i = 0; i < 5; i++) {
    statements.length = 0;
    const t0 = performance.now();
    const r = await listAccessors(handle.db, orgId, id, 'VIEW', { afterAccountId: null, limit: 26 });
    console.log(r.length, (performance.now() - t0).toFixed(1), statements.map(([s, d]) => `${d.toFixed(1)} ${s}`));
  }
});
