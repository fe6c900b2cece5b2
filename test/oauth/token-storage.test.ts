// Tokens are never stored in clear (PRODUCT §6): a dump of the database after the tests contains
// none of the issued token values. Every kind of token and secret the server hands out is issued
// over real HTTP (or by the operator's services), used, and then searched for in a dump of this
// file's database: the PGlite data folder as a tar (table files and WAL, dead rows included), or
// pg_dump --data-only of the PostgreSQL clone. Hashes are stored, so a SHA-256 of a token is
// found in the same dump: the control that the search can succeed.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { TestClock } from '../support/clock.ts';
import { openTestDatabase, type TestDbHandle } from '../support/database.ts';
import { serveOnLoopback, type TestServer } from '../support/http-server.ts';
import { CLI, insecure, PASSWORD, READ_JIRA, signInThroughBrowser, VIEWER_QUERY } from '../support/oauth-harness.ts';
import { FormBrowser } from '../support/form-browser.ts';

const run = promisify(execFile);
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** A value that must not be in the dump, and what it is. */
interface Secret {
  kind: string;
  value: string;
}

let handle: TestDbHandle;
let app: App;
let server: TestServer;
let as: oauth.AuthorizationServer;
const secrets: Secret[] = [];
/** Values that are stored (e-mail, hashes): each must be found, or the search proves nothing. */
const stored: Secret[] = [];
let userCode = '';

const keep = (kind: string, value: string | undefined) => {
  expect(value, `${kind} was issued`).toEqual(expect.any(String));
  secrets.push({ kind, value: value! });
  return value!;
};

async function graphql(token: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function expectWorks(kind: string, token: string, query = VIEWER_QUERY) {
  const r = await graphql(token, query);
  expect(r.status, `${kind}: ${JSON.stringify(r.body)}`).toBe(200);
  expect(r.body.errors, `${kind}: ${JSON.stringify(r.body.errors)}`).toBeUndefined();
}

/** The whole database as text: the PGlite data folder (latin1) or pg_dump --data-only. */
async function dumpDatabase(): Promise<string> {
  if (handle.url) {
    const { stdout } = await run('pg_dump', ['--data-only', '--no-owner', '--no-privileges', `--dbname=${handle.url}`], { maxBuffer: 512 * 1024 * 1024 });
    return stdout;
  }
  const tar = await handle.dump!();
  return Buffer.from(await tar.arrayBuffer()).toString('latin1');
}

/** The forms a value could take in the dump: as given, the part after the prefix, its bytes as hex and raw. */
function formsOf(value: string): { form: string; text: string }[] {
  const forms = [{ form: 'value', text: value }];
  const prefix = /^[a-z]+_/.exec(value)?.[0];
  if (prefix) {
    const payload = value.slice(prefix.length);
    const bytes = Buffer.from(payload, 'base64url');
    forms.push({ form: `payload after ${prefix}`, text: payload });
    if (bytes.length >= 16) forms.push({ form: 'payload bytes as hex', text: bytes.toString('hex') }, { form: 'payload bytes raw', text: bytes.toString('latin1') });
  }
  return forms;
}

beforeAll(async () => {
  handle = await openTestDatabase();
  const clock = new TestClock();
  server = await serveOnLoopback((publicUrl) => (app = createApp({ db: handle.db, clock, publicUrl, logger: createLogger('error', () => {}) })));
  const issuer = new URL(server.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await handle?.close();
});

describe('token storage', () => {
  it('issues every kind of token and secret, each of which works', async () => {
    const { orgs, sessions, catalog } = app.services;
    const all = catalog.permissions.map((p) => p.key);
    const { orgId } = await orgs.createOrganization('Vault');
    const { cloudId } = await orgs.createSite(orgId, 'vault');
    const email = 'dora.vault@vault.test';
    const { accountId } = await orgs.createAccount({ orgId, email, displayName: 'Dora', password: PASSWORD, cloudIds: [cloudId] });
    const { accountId: adminId } = await orgs.createAccount({ orgId, email: 'admin@vault.test', displayName: 'Admin', password: PASSWORD, admin: true, cloudIds: [cloudId] });
    stored.push({ kind: 'account e-mail', value: email });

    // The connection's client secret, and a client_credentials access token with it.
    const connection = await orgs.createConnection(cloudId, 'jira');
    keep('connection client secret', connection.clientSecret);
    const credentials = await oauth.clientCredentialsGrantRequest(as, { client_id: connection.clientId }, oauth.ClientSecretBasic(connection.clientSecret), new URLSearchParams(), insecure);
    const connectionToken = keep('client_credentials access token', (await oauth.processClientCredentialsResponse(as, { client_id: connection.clientId }, credentials)).access_token);
    const ingested = await graphql(
      connectionToken,
      'mutation($input: SetObjectsInput!) { setObjects(input: $input) { acceptedCount } }',
      { input: { connectionId: connection.connectionId, objects: [{ type: 'jira:work-item', externalId: 'V-1', displayName: 'Vault item', updateSequenceNumber: 1, permissions: [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }] }] } },
    );
    expect(ingested.body, 'ingestion with the client_credentials token').toEqual({ data: { setObjects: { acceptedCount: 1 } } });

    // The browser login: the authorization code from the callback, then the token pair.
    const signedIn = await signInThroughBrowser(as, email);
    keep('PKCE code_verifier (sent by the client)', signedIn.verifier);
    keep('authorization code', signedIn.code);
    const login = signedIn.tokens;
    await expectWorks('login access token', keep('login access token', login.access_token));
    keep('login refresh token', login.refresh_token);
    stored.push({ kind: 'SHA-256 of the login access token', value: sha256(login.access_token) });

    // A refresh: a new pair (the used refresh token stays in the database as used).
    const refreshed = await oauth.processRefreshTokenResponse(as, CLI, await oauth.refreshTokenGrantRequest(as, CLI, oauth.None(), login.refresh_token!, insecure));
    await expectWorks('refreshed access token', keep('refreshed access token', refreshed.access_token));
    keep('refreshed refresh token', refreshed.refresh_token);
    stored.push({ kind: 'SHA-256 of the refreshed refresh token', value: sha256(refreshed.refresh_token!) });

    // The device flow: device code (the user code may be stored), approval, one poll.
    const device = await oauth.processDeviceAuthorizationResponse(as, CLI, await oauth.deviceAuthorizationRequest(as, CLI, oauth.None(), { scope: READ_JIRA }, insecure));
    keep('device code', device.device_code);
    userCode = device.user_code;
    const approval = await new FormBrowser(server.url).submit({ pageUrl: `${server.url}/device`, fields: { user_code: userCode, email, password: PASSWORD, decision: 'approve' } });
    expect(approval.status, (await approval.text()).slice(0, 300)).toBe(200);
    const polled = await oauth.processDeviceCodeResponse(as, CLI, await oauth.deviceCodeGrantRequest(as, CLI, oauth.None(), device.device_code, insecure));
    await expectWorks('device access token', keep('device access token', polled.access_token));
    keep('device refresh token', polled.refresh_token);

    // A logout (RFC 7009) with the device session's refresh token: revoked values count too.
    const logout = await oauth.revocationRequest(as, CLI, oauth.None(), polled.refresh_token!, insecure);
    expect(logout.status).toBe(200);
    expect((await graphql(polled.access_token, VIEWER_QUERY)).status).toBe(401);

    // What the operator issues: account tokens for both clients, a connection token, a signed-in pair.
    const cli = await sessions.issue({ orgId, accountId }, 'twg-cli', [READ_JIRA]);
    await expectWorks('operator twg-cli token', keep('operator twg-cli token', cli.accessToken));
    const adminPage = await sessions.issue({ orgId, accountId: adminId }, 'teamgraph-admin', all);
    await expectWorks('operator teamgraph-admin token', keep('operator teamgraph-admin token', adminPage.accessToken), `{ organization(id: "${orgId}") { cliSettings { allowAllByDefault } } }`);
    const operatorConnection = await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, []);
    keep('operator connection token', operatorConnection.accessToken);
    expect((await graphql(operatorConnection.accessToken, VIEWER_QUERY)).status).not.toBe(401);
    const pair = await sessions.signIn({ orgId, accountId }, 'twg-cli', all);
    await expectWorks('signIn access token', keep('signIn access token', pair.accessToken));
    keep('signIn refresh token', pair.refreshToken);
    secrets.push({ kind: 'account password (sent by the person)', value: PASSWORD });

    expect(new Set(secrets.map((s) => s.value)).size).toBe(secrets.length);
  });

  it('a dump of the database contains none of the issued token values', async () => {
    expect(secrets.length, 'the previous test issued the tokens').toBeGreaterThan(10);
    const dump = await dumpDatabase();
    const kind = handle.url ? 'pg_dump --data-only' : 'PGlite data folder (tar)';

    // Control: what is stored is found, so a miss below means something.
    const missing = stored.filter((s) => !dump.includes(s.value));
    expect(missing.map((s) => s.kind), `stored values not found in the ${kind} (${dump.length} characters): the search cannot be trusted`).toEqual([]);

    const found: string[] = [];
    for (const secret of secrets) {
      for (const { form, text } of formsOf(secret.value)) {
        const at = dump.indexOf(text);
        if (at >= 0) found.push(`${secret.kind} (${form}) at offset ${at}: …${JSON.stringify(dump.slice(Math.max(0, at - 80), at)).slice(1, -1)}…`);
      }
    }
    expect(found, `issued values found in the ${kind}:\n${found.join('\n')}`).toEqual([]);
    // The user code is short-lived and shown to people: storing it is allowed (not asserted either way).
    expect(userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
  });
});
