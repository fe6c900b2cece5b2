// Hostile requests, generated (issue 15): malformed documents, variables of every wrong shape,
// hostile strings and sizes, broken bodies and forms, sent as an attacker would, by a signed-in
// account, an admin and a connection. Whatever arrives: no 5xx, no INTERNAL, no stack trace, no
// answer slower than a bound, no error in the server's log, and the server answers normally after.
// The seed is fixed so a failure reproduces; FUZZ_SEED and FUZZ_RUNS explore further.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/http/body-limit.ts';
import { createTenant, objectInput, startTestApp, type Tenant, TEST_ORIGIN, type TestApp } from '../support/app.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
/** Generous for a loaded 2-core CI machine; the attacks of issue 15 took 3 to 32 s. */
const SLOWEST_MS = 3000;
const STACK_TRACE = /\n\s+at [^\n]+:\d+:\d+|node_modules|node:internal|\/src\/[a-z-]+\//;

let t: TestApp;
let tenant: Tenant;
let tokens: { person: string; admin: string; connection: string };
let objectId: string;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t, 'Fuzz');
  await tenant.ingest('setObjects', { objects: [objectInput('FUZZ-1'), objectInput('FUZZ-2', { container: { type: 'jira:work-item', externalId: 'FUZZ-1' } })] });
  tokens = { person: (await tenant.account()).token, admin: (await tenant.account({ admin: true })).token, connection: tenant.connectionToken };
  const listed = await t.graphql(tokens.person, '{ objects(first: 1) { edges { node { id } } } }');
  objectId = listed.body.data.objects.edges[0].node.id;
});
afterAll(() => t.close());

// --- what an attacker sends -------------------------------------------------------------------

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\u202eevil', '%00', '../../etc/passwd', "' or 1=1 --", '"; drop table graph_object; --', '<script>alert(1)</script>', '\\', '\r\n', '${7*7}', '𝕏'.repeat(300)),
  fc.constantFrom(199, 200, 201, 255, 256, 2048, 10_000, 10_001, 100_000, 300_000).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 2000 }).map((n) => '['.repeat(n)),
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 1e308, -1e308, 0.5, 101),
);

/** Any JSON, leaves hostile: for variables of the wrong shape as much as the right one. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, hostileText, hostileNumber, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.constantFrom('id', 'text', 'types', 'first', 'connectionId', 'objects', 'externalId', 'displayName', 'permissions', 'orgId'), hostileText), tie('value'), { maxKeys: 5 }),
})).value;

const hostileDate = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('-010000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', 'yesterday', '2026-02-30T00:00:00Z'), hostileText);
const hostileCursor = fc.oneof(hostileText, fc.tuple(hostileDate, hostileText).map((key) => Buffer.from(JSON.stringify(key)).toString('base64url')), hostileNumber.map((n) => Buffer.from(JSON.stringify([n])).toString('base64url')));

interface Operation {
  who: keyof typeof tokens;
  query: string;
  variables: fc.Arbitrary<Record<string, unknown>>;
}

const OPERATIONS: Operation[] = [
  {
    who: 'person',
    query: 'query($f: ObjectFilter, $first: Int, $after: String) { objects(filter: $f, first: $first, after: $after) { edges { cursor node { id displayName container { id } children(first: 3) { edges { cursor } } } } pageInfo { hasNextPage } } }',
    variables: fc.record(
      {
        f: fc.oneof(hostileJson, fc.record({ text: hostileText, types: fc.array(hostileText, { maxLength: 3 }), cloudIds: fc.array(hostileText, { maxLength: 2 }), containerId: hostileText, updatedAfter: hostileDate, updatedBefore: hostileDate }, { requiredKeys: [] })),
        first: fc.oneof(hostileNumber, hostileJson),
        after: fc.oneof(hostileCursor, hostileJson),
      },
      { requiredKeys: [] },
    ),
  },
  {
    who: 'person',
    query: 'query($id: ID!) { object(id: $id) { id url properties relationships(first: 5) { edges { cursor } } } node(id: $id) { id } }',
    variables: fc.record({ id: fc.oneof(hostileText, hostileJson, fc.constant('OBJECT')) }),
  },
  {
    who: 'person',
    query: 'query($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { id } }',
    variables: fc.record({ c: fc.oneof(hostileText, fc.constant('CONNECTION')), t: fc.oneof(hostileText, fc.constant('jira:work-item')), e: hostileText }),
  },
  {
    who: 'person',
    query: 'mutation($i: CreateObjectInput!) { createObject(input: $i) { id } }',
    variables: fc.record({
      i: fc.oneof(hostileJson, fc.record({ type: fc.oneof(hostileText, fc.constant('jira:work-item')), containerId: fc.oneof(hostileText, fc.constant('OBJECT')), displayName: hostileText, description: hostileText, properties: hostileJson })),
    }),
  },
  {
    who: 'admin',
    query: 'query($o: ID!, $f: AuditEventFilter, $a: String, $first: Int) { organization(id: $o) { auditEvents(filter: $f, after: $a, first: $first) { edges { cursor node { command } } } } }',
    variables: fc.record(
      {
        o: fc.oneof(hostileText, fc.constant('ORG')),
        f: fc.oneof(hostileJson, fc.record({ command: hostileText, ip: hostileText, objectType: hostileText, from: hostileDate, to: hostileDate, actorAccountId: hostileText }, { requiredKeys: [] })),
        a: hostileCursor,
        first: hostileNumber,
      },
      { requiredKeys: ['o'] },
    ),
  },
  {
    who: 'admin',
    query: 'mutation($i: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $i) { version } }',
    variables: fc.record({ i: fc.oneof(hostileJson, fc.record({ orgId: fc.constant('ORG'), enabled: fc.constant(false), rules: fc.array(fc.record({ cidr: hostileText, description: hostileText }), { maxLength: 3 }), locations: fc.array(hostileText, { maxLength: 2 }) })) }),
  },
  {
    who: 'connection',
    query: 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount rejectedCount results { index status code } } }',
    variables: fc.record({
      i: fc.oneof(
        hostileJson,
        fc.record({
          connectionId: fc.constant('CONNECTION'),
          objects: fc.array(
            fc.record(
              {
                type: fc.oneof(fc.constant('jira:work-item'), hostileText),
                externalId: hostileText,
                displayName: hostileText,
                description: hostileText,
                url: fc.oneof(hostileText, fc.constantFrom('https://ok.example/\n<script>', 'javascript:alert(1)', 'HTTPS://Ok.Example/a/../b')),
                properties: hostileJson,
                createdAt: hostileDate,
                lastUpdatedAt: hostileDate,
                updateSequenceNumber: hostileNumber,
                container: fc.record({ type: hostileText, externalId: hostileText }),
                permissions: fc.oneof(hostileJson, fc.constant([{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }])),
              },
              { requiredKeys: ['type', 'externalId', 'displayName', 'updateSequenceNumber', 'permissions'] },
            ),
            { maxLength: 4 },
          ),
        }),
      ),
    }),
  },
  { who: 'person', query: '{ viewer { account { email } grantedPermissions userLinks { externalId } } }', variables: fc.constant({}) },
];

/** Placeholders in generated values stand for the tenant's real ids, so some requests get far. */
function realIds(value: unknown): unknown {
  if (value === 'OBJECT') return objectId;
  if (value === 'CONNECTION') return tenant.connectionId;
  if (value === 'ORG') return tenant.orgId;
  if (Array.isArray(value)) return value.map(realIds);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, realIds(v)]));
  return value;
}

/** What an attacker does to a document: cut it, splice into it, nest it, repeat it. */
const hostileDocument = (query: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(query) },
    { weight: 1, arbitrary: fc.nat({ max: query.length }).map((n) => query.slice(0, n)) },
    { weight: 1, arbitrary: fc.tuple(fc.nat({ max: query.length }), fc.string({ unit: 'binary', maxLength: 8 })).map(([n, s]) => query.slice(0, n) + s + query.slice(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 12_000 }).map((n) => `{ ${'viewer { '.repeat(n)}grantedPermissions${' }'.repeat(n + 1)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 3000 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { grantedPermissions }`).join(' ')} }`) },
    { weight: 1, arbitrary: fc.constantFrom('query A { ...B } fragment B on Query { ...A }', 'fragment F on Query { ...F } { ...F }', '{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }', 'subscription { viewer }', '{ viewer @skip(if: $x) { grantedPermissions } }', '{ objects(first: 100) { edges { node { children(first: 100) { edges { node { children(first: 100) { edges { cursor } } } } } } } } }') },
  );

interface Shot {
  request: Request;
  label: string;
}

const graphqlShot: fc.Arbitrary<Shot> = fc
  .constantFrom(...OPERATIONS)
  .chain((operation) => fc.record({ operation: fc.constant(operation), query: hostileDocument(operation.query), variables: operation.variables, encoding: fc.constantFrom('post', 'post', 'post', 'get', 'raw') }))
  .chain(({ operation, query, variables, encoding }) =>
    fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('{', '[]', '5', '"x"', '{"query": 5}', '{"query": "{ viewer { grantedPermissions } }", "variables": "x"}', 'null')).map((raw) => {
      const headers = { authorization: `Bearer ${tokens[operation.who]}`, 'content-type': 'application/json' };
      const variablesJson = JSON.stringify(realIds(variables));
      if (encoding === 'get') {
        const url = `${TEST_ORIGIN}/graphql?${new URLSearchParams({ query, variables: raw && raw.length % 2 ? raw : variablesJson })}`;
        return { label: `GET ${url.slice(0, 300)}`, request: new Request(url, { headers }) };
      }
      const body = encoding === 'raw' ? raw : `{"query":${JSON.stringify(query)},"variables":${variablesJson}}`;
      return { label: `POST ${body.slice(0, 300)}`, request: new Request(`${TEST_ORIGIN}/graphql`, { method: 'POST', headers, body }) };
    }),
  );

/** A body nested far deeper than any limit, written by hand (JSON.stringify would recurse). */
const deepBody = fc.integer({ min: 100, max: 40_000 }).map((n): Shot => {
  const body = `{"query":"mutation($i: SetObjectsInput!) { setObjects(input: $i) { rejectedCount } }","variables":{"i":{"connectionId":"${tenant.connectionId}","objects":[{"type":"jira:work-item","externalId":"deep","displayName":"d","updateSequenceNumber":1,"permissions":[],"properties":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}]}}}`;
  return { label: `deep properties ${n}`, request: new Request(`${TEST_ORIGIN}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${tokens.connection}`, 'content-type': 'application/json' }, body: body.length > MAX_BODY_BYTES ? body.slice(0, MAX_BODY_BYTES) : body }) };
});

/** Fields a real client would send to each form or endpoint; the attacker overrides some. */
const FORMS: Record<string, Record<string, string>> = {
  '/oauth/authorize': {
    response_type: 'code',
    client_id: 'twg-cli',
    redirect_uri: 'http://127.0.0.1:5555/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 's',
    email: 'person@fuzz.test',
    password: 'x',
  },
  '/oauth/token': { grant_type: 'authorization_code', client_id: 'twg-cli', code: 'twgc_x', redirect_uri: 'http://127.0.0.1:5555/callback', code_verifier: 'v'.repeat(43), refresh_token: 'twgr_x', client_secret: 's' },
  '/oauth/revoke': { client_id: 'twg-cli', token: 'twg_x' },
  '/oauth/device_authorization': { client_id: 'twg-cli', scope: 'read:work-item:jira' },
  '/device': { user_code: 'BCDF-GHJK', email: 'person@fuzz.test', password: 'x', decision: 'approve' },
  '/connections/CONNECTION/link': { email: 'person@fuzz.test', password: 'x' },
  '/connections/CONNECTION/link/confirm': { confirmation: 'x', decision: 'link' },
  '/connections/CONNECTION/link/callback': { state: 's', code: 'c' },
};
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'password'];

/** The form tickets of one browser that opened every page, so some posts get past the guard. */
let browser: { cookie: string; tickets: Record<string, string> } = { cookie: '', tickets: {} };
beforeAll(async () => {
  const pages = { '/oauth/authorize': `/oauth/authorize?${new URLSearchParams(FORMS['/oauth/authorize'])}`, '/device': '/device', '/connections/CONNECTION/link': `/connections/${tenant.connectionId}/link` };
  for (const [path, url] of Object.entries(pages)) {
    const response = await t.app.fetch(new Request(`${TEST_ORIGIN}${url}`, { headers: browser.cookie ? { cookie: browser.cookie } : {} }));
    browser.cookie ||= response.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    browser.tickets[path] = /name="form_token" value="([^"]+)"/.exec(await response.text())?.[1] ?? '';
  }
});

const formShot: fc.Arbitrary<Shot> = fc
  .record({
    path: fc.constantFrom(...Object.keys(FORMS)),
    method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT'),
    overrides: fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('grant_type', 'client_id', 'client_secret', 'code', 'refresh_token', 'token', 'email', 'password', 'user_code', 'decision', 'state', 'redirect_uri', 'code_challenge', 'code_verifier', 'scope', 'confirmation') }, { weight: 1, arbitrary: hostileText }), hostileText, { maxKeys: 4 }),
    grantType: fc.constantFrom(...GRANT_TYPES),
    asBrowser: fc.boolean(),
    contentType: fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/json', 'text/plain'),
    origin: fc.constantFrom(undefined, 'https://evil.example', 'null'),
    basic: fc.option(fc.tuple(hostileText, hostileText), { nil: undefined }),
  })
  .map(({ path, method, overrides, grantType, asBrowser, contentType, origin, basic }) => {
    const fields: Record<string, string> = { ...FORMS[path], ...(path === '/oauth/token' ? { grant_type: grantType } : {}), ...overrides };
    const headers: Record<string, string> = { 'content-type': contentType };
    if (asBrowser) {
      Object.assign(headers, { cookie: browser.cookie, origin: TEST_ORIGIN, 'sec-fetch-site': 'same-origin' });
      if (browser.tickets[path]) fields.form_token = browser.tickets[path];
    } else if (origin) {
      headers.origin = origin;
    }
    if (basic) headers.authorization = `Basic ${Buffer.from(basic.join(':')).toString('base64')}`;
    const target = `${TEST_ORIGIN}${path.replace('CONNECTION', tenant.connectionId)}${method === 'GET' ? `?${new URLSearchParams(fields)}` : ''}`;
    return {
      label: `${method} ${path} ${JSON.stringify(fields).slice(0, 300)}`,
      request: new Request(target, { method, headers, body: method === 'GET' ? undefined : new URLSearchParams(fields).toString() }),
    };
  });

// --- what must hold for every answer ----------------------------------------------------------

async function fire({ request, label }: Shot): Promise<void> {
  const started = performance.now();
  const response = await t.app.fetch(request);
  const text = await response.text();
  const elapsed = performance.now() - started;
  const where = `${label}\n→ ${response.status} ${text.slice(0, 400)}`;
  expect(response.status, where).toBeLessThan(500);
  expect(text, where).not.toMatch(STACK_TRACE);
  expect(text, where).not.toContain('"INTERNAL"');
  expect(elapsed, where).toBeLessThan(SLOWEST_MS);
}

describe('hostile requests', () => {
  it('never answer with a fault, a stack trace or slowly: GraphQL documents, variables and bodies', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof({ weight: 20, arbitrary: graphqlShot }, { weight: 1, arbitrary: deepBody }), fire), { seed: SEED, numRuns: RUNS, endOnFailure: true });
    // Each answer has its bound (SLOWEST_MS); the 1,500 of them took 20 s alone on Citus and over a
    // minute beside two other files of CI's Citus pass.
  }, 240_000);

  it('never answer with a fault, a stack trace or slowly: the forms and OAuth endpoints', async () => {
    await fc.assert(fc.asyncProperty(formShot, fire), { seed: SEED, numRuns: Math.ceil(RUNS / 3), endOnFailure: true });
  });

  it('leave the server healthy and its log free of errors', async () => {
    expect(await (await t.app.fetch(new Request(`${TEST_ORIGIN}/healthz`))).text()).toBe('ok\n');
    const after = await t.graphql(tokens.person, '{ objects(first: 5) { edges { node { id } } } }');
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data.objects.edges.length).toBeGreaterThan(0);
    expect(t.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});
