// A client's mistakes (issue 15, PRODUCT §10): each is BAD_USER_INPUT with its own sub-code and a
// message that names the problem, never INTERNAL, and none is an error in the server's log.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/postgres.ts';
import { databaseInputError } from '../../src/db/input-errors.ts';
import { INPUT_BOUNDS } from '../../src/graphql/plugins/use-input-bounds.ts';
import { createTenant, objectInput, startTestApp, type Tenant, TEST_ORIGIN, type TestApp } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
let token: string;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t);
  token = (await tenant.account()).token;
});
afterAll(() => t.close());

const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
const OBJECTS = 'query($f: ObjectFilter, $first: Int, $after: String) { objects(filter: $f, first: $first, after: $after) { edges { cursor } } }';

async function expectBadInput(request: Promise<{ body: any }>, subCode: string, message?: RegExp) {
  const { body } = await request;
  const error = body.errors?.[0];
  expect(error?.extensions, JSON.stringify(body)).toMatchObject({ code: 'BAD_USER_INPUT', subCode });
  if (message) expect(error.message).toMatch(message);
}

async function raw(init: RequestInit & { url?: string }) {
  const response = await t.app.fetch(new Request(init.url ?? `${TEST_ORIGIN}/graphql`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as object) } }));
  return { status: response.status, body: await response.json(), requestId: response.headers.get('x-request-id') };
}

describe('client mistakes in GraphQL', () => {
  it('answers variables of the wrong shape with INVALID_VARIABLES, naming the variable', async () => {
    await expectBadInput(t.graphql(token, OBJECTS, { first: 'ten' }), 'INVALID_VARIABLES', /\$first.*"ten"/);
    await expectBadInput(t.graphql(token, OBJECTS, { f: [1, 2] }), 'INVALID_VARIABLES', /ObjectFilter/);
    await expectBadInput(t.graphql(token, OBJECTS, { f: { products: ['NOPE'] } }), 'INVALID_VARIABLES', /"NOPE"/);
    await expectBadInput(t.graphql(tenant.connectionToken, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', { i: { objects: [] } }), 'INVALID_VARIABLES', /connectionId/);
  });

  it('refuses an updateSequenceNumber past 2^53 - 1 naming the item', async () => {
    const i = { connectionId: tenant.connectionId, objects: [objectInput('FINE'), objectInput('HUGE', { updateSequenceNumber: 2 ** 53 })] };
    await expectBadInput(t.graphql(tenant.connectionToken, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', { i }), 'INVALID_SAFE_INT', /objects\[1\]\.updateSequenceNumber/);
  });

  it('refuses a GET whose variables are not JSON, and a body that is not JSON without echoing the parser', async () => {
    const get = await raw({ url: `${TEST_ORIGIN}/graphql?query=${encodeURIComponent('{ viewer { grantedPermissions } }')}&variables=notjson`, method: 'GET' });
    expect(get.status).toBe(400);
    expect(get.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'BAD_REQUEST' });
    const post = await raw({ method: 'POST', body: '{"query": "{ viewer { grantedPermissions } }", ' });
    expect(post.status).toBe(400);
    expect(post.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', subCode: 'BAD_REQUEST', requestId: post.requestId });
    expect(JSON.stringify(post.body)).not.toMatch(/Unexpected|position|SyntaxError/);
  });

  it('refuses a document nested deeper than the bound before parsing it, and one of too many tokens', async () => {
    const deep = `{ ${'a { '.repeat(10_000)}b${' }'.repeat(10_001)}`;
    await expectBadInput(t.graphql(token, deep), 'DOCUMENT_TOO_DEEP');
    const literal = `{ objects(filter: { text: ${'['.repeat(5_000)}"x"${']'.repeat(5_000)} }) { edges { cursor } } }`;
    await expectBadInput(t.graphql(token, literal), 'DOCUMENT_TOO_DEEP');
    const many = `{ ${Array.from({ length: INPUT_BOUNDS.tokens }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    await expectBadInput(t.graphql(token, many), 'GRAPHQL_PARSE_FAILED', /tokens/);
  });

  it('refuses a text filter over its documented maximum, inline or in a variable, and any string over the general one', async () => {
    await expectBadInput(t.graphql(token, OBJECTS, { f: { text: 'x'.repeat(201) } }), 'STRING_TOO_LONG', /\$f\.text is 201 characters/);
    await expectBadInput(t.graphql(token, `{ objects(filter: { text: "${'x'.repeat(201)}" }) { edges { cursor } } }`), 'STRING_TOO_LONG');
    await expectBadInput(t.graphql(token, `query($t: String = "${'x'.repeat(201)}") { objects(filter: { text: $t }) { edges { cursor } } }`), 'STRING_TOO_LONG', /\$t is 201/);
    const ok = await t.graphql(token, OBJECTS, { f: { text: 'x'.repeat(200) } });
    expect(ok.body.errors).toBeUndefined();
    await expectBadInput(t.graphql(token, 'query($id: ID!) { object(id: $id) { id } }', { id: 'x'.repeat(INPUT_BOUNDS.string + 1) }), 'STRING_TOO_LONG');
  });

  it('refuses a cursor whose time PostgreSQL cannot hold, or whose position is not an integer', async () => {
    for (const time of ['-010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '2026-13-01T00:00:00.000Z']) {
      await expectBadInput(t.graphql(token, OBJECTS, { after: cursorOf([time, 'obj_x']) }), 'INVALID_CURSOR');
    }
    const admin = await tenant.account({ admin: true });
    await expectBadInput(
      t.graphql(admin.token, 'query($o: ID!, $a: String) { organization(id: $o) { auditEvents(after: $a) { edges { cursor } } } }', { o: tenant.orgId, a: cursorOf([1e300]) }),
      'INVALID_CURSOR',
    );
  });

  it('refuses U+0000 in any string that reaches SQL', async () => {
    await expectBadInput(t.graphql(token, OBJECTS, { f: { text: 'a\u0000b' } }), 'INVALID_CHARACTER');
    await expectBadInput(t.graphql(token, 'query($id: ID!) { object(id: $id) { id } }', { id: 'obj_\u0000' }), 'INVALID_CHARACTER');
    await expectBadInput(t.graphql(token, 'query($c: ID!) { objectByExternalId(connectionId: $c, type: "jira:work-item", externalId: "a\\u0000") { id } }', { c: tenant.connectionId }), 'INVALID_CHARACTER');
  });

  it('writes none of these to the server log as an error', async () => {
    expect(t.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});

describe('client mistakes outside GraphQL', () => {
  it('answers U+0000 in an OAuth parameter as invalid_request', async () => {
    const response = await t.app.fetch(
      new Request(`${TEST_ORIGIN}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x' }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe.skipIf(!process.env.DATABASE_URL)('the statement timeout (PostgreSQL)', () => {
  it('stops a statement of the server’s pool that runs longer, as BAD_USER_INPUT QUERY_TIMEOUT', async () => {
    // The file's own database: on Citus, DATABASE_URL names the template, whose connections every
    // other file's clone terminates (test/support/database.ts).
    const handle = openPostgres(t.databaseUrl!, 1, undefined, 100);
    try {
      const error = await sql`select pg_sleep(2)`.execute(handle.db).then(() => null, (e: unknown) => e);
      expect(databaseInputError(error)?.extensions, String(error)).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'QUERY_TIMEOUT' });
      // The connection is usable again at once: the bound is per statement.
      expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows[0].one).toBe(1);
    } finally {
      await handle.close();
    }
  });
});
