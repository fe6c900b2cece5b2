// The log (issue 19): one access-log line per request on every route, with the request id the
// response carries; at debug level the SQL text and the cache decisions of each request; and never
// a credential, whatever a request sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestApp, type Tenant, TEST_ORIGIN, type TestApp } from '../support/app.ts';
import { cliLoginUrl, FormBrowser } from '../support/form-browser.ts';

const PASSWORD = 'access log password 7Qm';

let t: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  t = await startTestApp({ logLevel: 'debug' });
  tenant = await createTenant(t, 'Logged');
});
afterAll(() => t.close());

type Entry = Record<string, any>;
const entries = (): Entry[] => t.logs.map((line) => JSON.parse(line));
const accessLine = (requestId: string | null) => entries().filter((e) => e.msg === 'request' && e.requestId === requestId);

describe('the access log', () => {
  it('writes one line per GraphQL request with who called, what ran and how it ended', async () => {
    const { token } = await tenant.account();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const r = await t.graphql(token, 'query Mine { viewer { grantedPermissions } }', undefined, { 'x-twg-command': 'whoami', traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    const lines = accessLine(r.headers.get('x-request-id'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      method: 'POST',
      path: '/graphql',
      route: '/graphql',
      status: 200,
      outcome: 'ok',
      orgId: tenant.orgId,
      client: 'twg-cli',
      operationName: 'Mine',
      operationType: 'query',
      operation: 'viewer',
      command: 'whoami',
      // Tracing is off here: the caller's trace, so a twg command and its log lines meet.
      traceId,
    });
    expect(lines[0].durationMs).toBeGreaterThan(0);
    expect(lines[0].statements).toBeGreaterThan(0);
  });

  it('writes a line for the OAuth pages, a page that is not there and a refused request', async () => {
    for (const [path, route, status] of [
      ['/.well-known/oauth-authorization-server', 'oauth', 200],
      ['/admin', 'admin-page', 200],
      ['/healthz', '/healthz', 200],
      ['/', '/', 302],
      ['/nothing/here?secret=1', 'none', 404],
    ] as const) {
      const response = await t.app.fetch(new Request(`${TEST_ORIGIN}${path}`));
      expect(response.status, path).toBe(status);
      const [line] = accessLine(response.headers.get('x-request-id'));
      expect(line, path).toMatchObject({ route, status, path: path.split('?')[0], client: 'anonymous' });
    }
    const refused = await t.graphql('twg_not-a-token', '{ viewer { grantedPermissions } }');
    expect(accessLine(refused.headers.get('x-request-id'))[0]).toMatchObject({ status: 401, outcome: 'UNAUTHENTICATED', client: 'anonymous' });
  });

  it('logs each statement’s text and time, and the cache decisions, under the request’s id at debug level', async () => {
    const { token } = await tenant.account();
    const r = await t.graphql(token, '{ objects(first: 3) { edges { node { id } } } }');
    const requestId = r.headers.get('x-request-id');
    const mine = entries().filter((e) => e.requestId === requestId);
    const sql = mine.filter((e) => e.msg === 'sql');
    expect(sql.length).toBe(accessLine(requestId)[0].statements);
    expect(sql.every((e) => e.level === 'debug' && typeof e.sql === 'string' && typeof e.durationMs === 'number' && !('parameters' in e))).toBe(true);
    // The statements carry placeholders, never the values: not even the organisation the request filters by.
    expect(sql.some((e) => e.sql.includes('$1'))).toBe(true);
    expect(sql.some((e) => e.sql.includes(tenant.orgId))).toBe(false);
    expect(mine.filter((e) => e.msg === 'credential cache').map((e) => e.result)).toHaveLength(1);
    expect(mine.find((e) => e.msg === 'principal cache')).toMatchObject({ result: 'miss' });
    expect(mine.find((e) => e.msg === 'list plan')?.plan).toMatch(/^(forward|streams|text)$/);
  });

  it('leaves out the bearer token, the password of a sign-in form and the code it returns', async () => {
    const { token } = await tenant.account();
    const email = 'ada@logged.test';
    await t.app.services.orgs.createAccount({ orgId: tenant.orgId, email, displayName: 'Ada', password: PASSWORD, cloudIds: [tenant.cloudId] });
    t.logs.length = 0;

    await t.graphql(token, '{ viewer { grantedPermissions } }', undefined, { cookie: `session=${token}` });
    const browser = new FormBrowser(TEST_ORIGIN, (request) => t.app.fetch(request));
    const loginUrl = cliLoginUrl(TEST_ORIGIN);
    const answer = await browser.submit({ pageUrl: loginUrl, fields: { email, password: PASSWORD } });
    expect(answer.status).toBe(303);
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    const wrong = await browser.submit({ pageUrl: loginUrl, fields: { email, password: `${PASSWORD}-wrong` } });
    expect(wrong.status).toBe(401);

    const log = t.logs.join('\n');
    expect(accessLine(answer.headers.get('x-request-id'))[0]).toMatchObject({ method: 'POST', route: 'oauth', status: 303, path: '/oauth/authorize' });
    expect(log).toContain('"msg":"sql"');
    for (const secret of [token, token.slice(token.lastIndexOf('.') + 1), PASSWORD, code]) expect(log).not.toContain(secret);
  });
});
