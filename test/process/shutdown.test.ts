// Graceful shutdown (issue 19, item 1): `npm start` as a process manager runs it, signalled the
// way one signals it, with requests in flight that the server has accepted.
import http from 'node:http';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { type Started, serverDatabase, startServer } from '../support/server-process.ts';

const IN_FLIGHT = 30;

/**
 * A GraphQL request the server has accepted (its headers read: it answered 100 Continue) and
 * whose body it still waits for; `finish()` sends the body and resolves with the response.
 */
async function acceptedRequest(server: Started, operationName: string) {
  const body = JSON.stringify({ query: `query ${operationName} { viewer { account { email } } }`, operationName });
  const request = http.request(`${server.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${server.aliceToken}`, expect: '100-continue' },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', reject);
    });
    request.on('error', reject);
  });
  // An abandoned request's end (the second test's) is not a failure of this file.
  response.catch(() => {});
  await new Promise<void>((resolve) => request.once('continue', resolve));
  return {
    finish: () => {
      request.end(body);
      return response;
    },
  };
}

it('answers and audits every request it accepted after SIGTERM to npm, then exits 0 within the grace period', async () => {
  const database = await serverDatabase();
  try {
    const server = await startServer({ ...database.env, TEAMGRAPH_SHUTDOWN_GRACE_SECONDS: '20' });
    const requests = await Promise.all(Array.from({ length: IN_FLIGHT }, () => acceptedRequest(server, 'InFlight')));

    server.child.kill('SIGTERM');
    // Draining: no new connection is taken.
    await expect.poll(() => server.log()).toContain('shutting down');
    await expect(fetch(`${server.origin}/healthz`)).rejects.toThrow();

    const responses = await Promise.all(requests.map((request) => request.finish()));
    expect(responses.map((r) => r.status)).toEqual(Array(IN_FLIGHT).fill(200));
    for (const response of responses) expect(JSON.parse(response.body).data.viewer.account.email).toBe('alice@demo.teamgraph.test');
    const exit = await server.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(20_000);
    expect(server.log()).not.toMatch(/"level":"error"|destroyed|not written/);

    const db = await database.open();
    const events = await sql<{ n: number }>`select count(*)::int as n from audit_event where event_json::jsonb ->> 'operationName' = 'InFlight'`.execute(db.db);
    expect(events.rows[0].n).toBe(IN_FLIGHT);
  } finally {
    await database.close();
  }
}, 120_000);

it('exits at once on a second signal, without waiting for the requests in flight', async () => {
  const database = await serverDatabase();
  try {
    const server = await startServer({ ...database.env, TEAMGRAPH_SHUTDOWN_GRACE_SECONDS: '120' });
    await acceptedRequest(server, 'Abandoned');
    server.child.kill('SIGTERM');
    await expect.poll(() => server.log()).toContain('shutting down');
    server.child.kill('SIGINT');
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(exit.ms).toBeLessThan(20_000);
    expect(server.log()).toContain('second signal');
  } finally {
    await database.close();
  }
}, 120_000);
