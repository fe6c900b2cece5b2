// Audit stream delivery across a crash (issue 21, item 2): the real server, `npm start`, streams to
// a receiver that refuses, resets and then holds a batch without answering; the server is killed
// with SIGKILL while that batch is in flight; a new server process carries on from the position
// in the database. Every event arrives, in order, none missing (the batch in flight twice at most).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { type AuditReceiver, startAuditReceiver } from '../support/audit-receiver.ts';
import { type Started, serverDatabase, startServer } from '../support/server-process.ts';

const SECRET = 'a-receiver-secret-0123456789';
let receiver: AuditReceiver | null = null;
afterEach(() => receiver?.close());

async function graphql(server: Started, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${server.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** npm's child is the server itself (`exec node …`): the process to kill without warning. */
const serverPid = (npm: Started) => Number(execFileSync('pgrep', ['-P', String(npm.child.pid)]).toString().trim().split('\n')[0]);

it('delivers every event in order after the server is killed mid-batch and another takes over', { timeout: 120_000 }, async () => {
  receiver = await startAuditReceiver(SECRET);
  receiver.script([503, 'reset', 'hold'], 'accept');
  const database = await serverDatabase();
  const env = {
    ...database.env,
    TEAMGRAPH_SECRET_KEY: randomBytes(32).toString('base64'),
    TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP: '1',
    TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS: '1',
    TEAMGRAPH_AUDIT_STREAM_FLUSH_SECONDS: '1',
    TEAMGRAPH_AUDIT_STREAM_LEASE_SECONDS: '3',
  };
  try {
    const first = await startServer(env);
    const { viewer } = await graphql(first, first.aliceAdminToken, '{ viewer { organization { id } } }');
    const orgId: string = viewer.organization.id;
    const { createAuditStream } = await graphql(first, first.aliceAdminToken, 'mutation($i: CreateAuditStreamInput!) { createAuditStream(input: $i) { id } }', {
      i: { orgId, url: receiver.url, format: 'JSON_LINES', secret: SECRET },
    });
    for (let i = 0; i < 20; i++) await graphql(first, first.aliceToken, 'query Before { viewer { account { email } } }');

    // Refused, reset, then held: the third post is in flight when the server dies.
    await expect.poll(() => receiver!.posts.length, { timeout: 30_000 }).toBe(3);
    process.kill(serverPid(first), 'SIGKILL');
    await first.exited;

    const second = await startServer(env);
    for (let i = 0; i < 20; i++) await graphql(second, second.aliceToken, 'query After { viewer { account { email } } }');
    // Once the dead process's lease has run out, the new one sends from the position.
    const afterCrash = () => new Set(receiver!.accepted().filter((e) => e.event.operationName === 'After').map((e) => e.id)).size;
    await expect.poll(afterCrash, { timeout: 30_000 }).toBe(20);
    // A graceful stop sends what is still owed before it exits.
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const db = (await database.open()).db;
    const stream = await db.selectFrom('audit_stream').select(['delivered_seq', 'delivered_event_id']).where('id', '=', createAuditStream.id).executeTakeFirstOrThrow();
    const { rows: owed } = await sql<{ id: string; seq: number }>`
      select e.id, e.seq from audit_event e
      where e.org_id = ${orgId} and e.seq >= (select seq from audit_event where org_id = ${orgId} and event_json like '%"action":"audit-stream.created"%')
      order by e.seq`.execute(db);
    const received = receiver.accepted();
    expect(received.every((e, i) => i === 0 || e.seq === received[i - 1].seq + 1)).toBe(true);
    expect(received.map((e) => e.id)).toEqual(owed.map((e) => e.id));
    expect(Number(stream.delivered_seq)).toBe(Number(owed.at(-1)!.seq));
    // Each attempt before the crash carried the first batch; the first post after it began where that batch did.
    const firstIds = receiver.posts.map((p) => JSON.parse(p.body.split('\n')[0]).id);
    expect(new Set(firstIds.slice(0, 4)).size).toBe(1);
    expect(receiver.posts.every((p) => p.signatureValid)).toBe(true);
  } finally {
    await database.close();
  }
});
