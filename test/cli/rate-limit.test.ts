// Issue 21, item 6: twg says when a rate-limited command may be tried again (exit 75), asks again
// by itself after the server's Retry-After for a read, never for a change. Against the real
// server, and through a proxy in front of it that answers 429 where a test says (Retry-After: 0,
// so that nobody waits).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliHarness, type CliTenant } from '../support/cli-harness.ts';

let h: CliHarness;
let acme: CliTenant;
beforeAll(async () => {
  h = await CliHarness.start();
  acme = await h.tenant('RateAcme');
});
afterAll(() => h?.close());

const RATE_LIMITED_BODY = JSON.stringify({ errors: [{ message: 'This admin api key has spent its budget of 10 points per hour.', extensions: { code: 'RATE_LIMITED' } }] });

/** A proxy to the test server; `refuse(body)` says whether to answer a request with a 429 instead. */
async function proxy(refuse: (body: string) => boolean): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    seen.push(body);
    if (refuse(body)) {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' }).end(RATE_LIMITED_BODY);
      return;
    }
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name))) as Record<string, string>;
    const answer = await fetch(`${h.url}${request.url}`, { method: request.method, headers, body: request.method === 'GET' ? undefined : body });
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('twg on a rate-limited server', () => {
  it('asks again by itself after Retry-After when a read was refused, and succeeds', async () => {
    let refusals = 2;
    const p = await proxy(() => refusals-- > 0);
    try {
      const result = await h.machine().run(['admin', 'keys', 'list', '--json'], { TWG_SERVER: p.url, TWG_ADMIN_API_KEY: acme.adminApiKey });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('rate limited: asking again in 0 s (1 of 3)\nrate limited: asking again in 0 s (2 of 3)');
      expect(JSON.parse(result.stdout).map((k: { name: string }) => k.name)).toContain('RateAcme twg admin');
      expect(p.seen.filter((b) => b === p.seen[0])).toHaveLength(3);
    } finally {
      await p.close();
    }
  });

  it('gives up after three retries and says when to try again', async () => {
    const p = await proxy(() => true);
    try {
      const result = await h.machine().run(['admin', 'keys', 'list', '--json'], { TWG_SERVER: p.url, TWG_ADMIN_API_KEY: acme.adminApiKey });
      expect(result.code).toBe(75);
      expect(p.seen).toHaveLength(4);
      expect(result.stderr).toMatch(/^rate limited: try again in 0 s \(at \d\d:\d\d UTC\)$/m);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'RATE_LIMITED', exitCode: 75, retryAfter: 0 });
    } finally {
      await p.close();
    }
  });

  it('never sends a change again by itself', async () => {
    const p = await proxy((body) => body.includes('mutation'));
    try {
      const result = await h.machine().run(['admin', 'keys', 'revoke', '--key', 'key_unknown'], { TWG_SERVER: p.url, TWG_ADMIN_API_KEY: acme.adminApiKey });
      expect(result.code).toBe(75);
      expect(p.seen.filter((b) => b.includes('mutation'))).toHaveLength(1);
      expect(result.stderr).toMatch(/^rate limited: try again in 0 s \(at \d\d:\d\d UTC\)\ntwg does not send a change again by itself: nothing was changed, run the command again then$/m);
    } finally {
      await p.close();
    }
  });

  it('does not wait longer than TWG_RATE_LIMIT_MAX_WAIT: the real server refuses for the rest of the hour, and twg says until when', async () => {
    const set = await h.t.graphql(acme.adminApiKey, 'mutation($i: SetRateLimitsInput!) { setRateLimits(input: $i) { effective { session } } }', { i: { orgId: acme.orgId, session: 1 } });
    expect(set.body.errors).toBeUndefined();
    const person = await acme.person();
    const machine = h.machine();
    await machine.signIn(person.email);
    const first = await machine.run(['whoami']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^rate limit: +0 of 1 points left this hour, all back at \d\d:\d\d UTC$/m);
    const before = Date.now();
    const refused = await machine.run(['whoami']);
    expect(refused.code).toBe(75);
    const [, seconds, at] = /^rate limited: try again in (\d+) s \(at (\d\d:\d\d) UTC\)$/m.exec(refused.stderr) ?? [];
    expect(Number(seconds)).toBeGreaterThan(3500);
    expect(Number(seconds)).toBeLessThanOrEqual(3600);
    const expected = new Date(before + Number(seconds) * 1000).toISOString().slice(11, 16);
    const later = new Date(Date.now() + Number(seconds) * 1000).toISOString().slice(11, 16);
    expect([expected, later]).toContain(at);
    expect(refused.stderr).not.toContain('asking again');
    // Read through the service: an admin's query of the audit log would cost more than a budget of 1.
    const [{ event }] = await h.t.app.services.audit.page(acme.orgId, { outcome: 'RATE_LIMITED' }, 10);
    expect(event).toMatchObject({ command: 'whoami', outcome: 'RATE_LIMITED', statusCode: 429, actor: { email: person.email } });
  });
});

describe('twg admin rate-limits', () => {
  it("shows the budgets and lowers one, keeping the others, and says the server's refusal of one above the default", async () => {
    const tenant = await h.tenant('RateAdmin');
    const machine = h.machine();
    const env = { TWG_ADMIN_API_KEY: tenant.adminApiKey };
    const shown = await machine.run(['admin', 'rate-limits', 'show'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^each session +5000 +5000 +default$/m);
    expect(shown.stdout).toMatch(/^each connection +15000 +15000 +default$/m);
    expect((await machine.run(['admin', 'rate-limits', 'set', '--connection', '900'], env)).code).toBe(0);
    const set = await machine.run(['admin', 'rate-limits', 'set', '--session', '1000', '--json'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ effective: { session: 1000, connection: 900 }, custom: { session: 1000, connection: 900, adminApiKey: null }, version: 2 });
    const above = await machine.run(['admin', 'rate-limits', 'set', '--session', '6000'], env);
    expect(above.code).toBe(1);
    expect(above.stderr).toMatch(/^refused: session may be at most the operator's default of 5000 points per hour, got 6000/m);
    const back = await machine.run(['admin', 'rate-limits', 'set', '--session', 'default', '--json'], env);
    expect(JSON.parse(back.stdout).custom).toMatchObject({ session: null, connection: 900 });
  });
});
