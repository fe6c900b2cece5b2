// No stale access, on any instance (PRODUCT §5–6): two real server processes (`node --import tsx
// src/main.ts`) share this file's PostgreSQL clone. Tokens come from the real OAuth flow on one
// of them and are used once on each process first, so per-process caching would show; then a
// change made through one instance (or this test process, a third one) must be seen by the very
// next request on both: no sleeps, no retries.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.ts';
import { TEST_ORIGIN } from '../support/app.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { openTestDatabase, type TestDbHandle } from '../support/database.ts';
import { CLI, insecure, oauthError, PASSWORD, READ_JIRA, signInThroughBrowser, VIEWER_QUERY } from '../support/oauth-harness.ts';

const root = path.resolve(import.meta.dirname, '../..');
const JIRA_QUERY = '{ objects(first: 1, filter: { types: ["jira:work-item"] }) { edges { node { id } } } }';
const CONFLUENCE_QUERY = '{ objects(first: 1, filter: { types: ["confluence:page"] }) { edges { node { id } } } }';
const TOKEN_COUNT = 100;
/** Requests in flight at once, per batch (2 cores, someone benchmarks). */
const PARALLEL = 8;

/** A server process started from src/main.ts. */
interface Instance {
  name: 'A' | 'B';
  url: string;
  child: ChildProcess;
  as: oauth.AuthorizationServer;
}

interface Login {
  accountId: string;
  accessToken: string;
  refreshToken: string;
}

const children = new Set<ChildProcess>();
// Last resort: a worker that ends without afterAll (crash, timeout) takes its servers with it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function startInstance(name: 'A' | 'B', databaseUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', TEAMGRAPH_DEMO: 'off', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise<Instance>((resolve, reject) => {
    let settled = false;
    let found = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (error: Error) => settle(() => reject(new Error(`${error.message}\nstdout: ${stdout.slice(0, 2000)}\nstderr: ${stderr.slice(0, 2000)}`)));
    const timer = setTimeout(() => fail(new Error(`process ${name} did not print its URL within 45 s`)), 45_000);
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`process ${name} exited before listening (code ${code}, signal ${signal})`)));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const url = /teamgraph is listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (!url || found) return;
      found = true;
      const issuer = new URL(url);
      oauth
        .discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })
        .then((response) => oauth.processDiscoveryResponse(issuer, response))
        .then(
          (as) => settle(() => resolve({ name, url, child, as })),
          (error) => fail(new Error(`metadata discovery on process ${name} failed: ${error instanceof Error ? error.message : String(error)}`)),
        );
    });
  });
}

async function stopInstance(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Runs `work` over `items`, at most PARALLEL at a time, keeping the order of results. */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL) results.push(...(await Promise.all(items.slice(i, i + PARALLEL).map(work))));
  return results;
}

async function graphqlAt(instance: { url: string }, token: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${instance.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

/** The browser login (form POST) and the code exchange, against one instance. */
async function login(instance: Instance, email: string, accountId: string): Promise<Login> {
  const { tokens } = await signInThroughBrowser(instance.as, email);
  return { accountId, accessToken: tokens.access_token, refreshToken: tokens.refresh_token! };
}

interface Outcome {
  instance: string;
  token: string;
  status: number;
  challenge: string | null;
  body: any;
}

/** One viewer request per token on the instance, in batches. */
function useEach(instance: Instance, tokens: readonly string[]): Promise<Outcome[]> {
  return inBatches(tokens, async (token) => {
    const r = await graphqlAt(instance, token, VIEWER_QUERY);
    return { instance: instance.name, token, status: r.status, challenge: r.headers.get('www-authenticate'), body: r.body };
  });
}

const refused = (o: Outcome) => o.status === 401 && /^Bearer\b.*error="invalid_token"/.test(o.challenge ?? '');
const works = (o: Outcome) => o.status === 200 && o.body?.errors === undefined;
const describeOutcome = (o: Outcome) => `${o.instance} ${o.token.slice(0, 10)}…: ${o.status} ${o.challenge ?? '-'} ${JSON.stringify(o.body).slice(0, 160)}`;

function expectAll(outcomes: Outcome[], good: (o: Outcome) => boolean, what: string): void {
  const stragglers = outcomes.filter((o) => !good(o));
  expect(
    stragglers.length,
    `${stragglers.length} of ${outcomes.length} requests were not ${what}:\n${stragglers.slice(0, 10).map(describeOutcome).join('\n')}`,
  ).toBe(0);
}

describe.skipIf(!process.env.DATABASE_URL)('no stale access on any instance (PostgreSQL only: the embedded database belongs to one process, so two server processes cannot share it)', () => {
  let handle: TestDbHandle;
  let app: App;
  let a: Instance;
  let b: Instance;
  let orgId: string;
  let adminToken: string;
  /** Active members whose password is PASSWORD. */
  const people: { accountId: string; email: string }[] = [];
  let warm: Login[] = [];

  /** A token's request on both instances. */
  const onBoth = async (tokens: readonly string[]) => [...(await useEach(a, tokens)), ...(await useEach(b, tokens))];

  /** Logs `count` sessions in for each person on A, and uses each once on both instances. */
  async function freshLogins(persons: readonly { accountId: string; email: string }[], count: number): Promise<Login[]> {
    const wanted = persons.flatMap((p) => Array.from({ length: count }, () => p));
    const logins = await inBatches(wanted, (p) => login(a, p.email, p.accountId));
    expectAll(await onBoth(logins.map((l) => l.accessToken)), works, 'accepted while warming up');
    return logins;
  }

  async function admin(instance: Instance, query: string, variables: Record<string, unknown>) {
    const r = await graphqlAt(instance, adminToken, query, variables);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    return r.body.data;
  }

  beforeAll(async () => {
    handle = await openTestDatabase();
    if (!handle.url) throw new Error('openTestDatabase gave no clone URL on PostgreSQL');
    app = createApp({ db: handle.db, logger: createLogger('error', () => {}), publicUrl: TEST_ORIGIN });
    [a, b] = await Promise.all([startInstance('A', handle.url), startInstance('B', handle.url)]);

    const { orgs, sessions, catalog } = app.services;
    ({ orgId } = await orgs.createOrganization('TwoProcesses'));
    const { cloudId } = await orgs.createSite(orgId, 'two-processes');
    const { accountId: adminId } = await orgs.createAccount({ orgId, email: 'admin@two-processes.test', displayName: 'Admin', password: PASSWORD, admin: true, cloudIds: [cloudId] });
    adminToken = (await sessions.issue({ orgId, accountId: adminId }, 'teamgraph-admin', catalog.permissions.map((p) => p.key))).accessToken;
    for (let i = 0; i < 8; i++) {
      const email = `person${i}@two-processes.test`;
      const { accountId } = await orgs.createAccount({ orgId, email, displayName: `Person ${i}`, password: PASSWORD, cloudIds: [cloudId] });
      people.push({ accountId, email });
    }
    // One object each for the two permissions of case e, visible to every site member.
    const connection = await orgs.createConnection(cloudId, 'jira');
    const connectionToken = (await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [])).accessToken;
    const everyone = [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }];
    const ingest = await app.fetch(
      new Request('http://teamgraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${connectionToken}` },
        body: JSON.stringify({
          query: 'mutation($input: SetObjectsInput!) { setObjects(input: $input) { acceptedCount rejectedCount } }',
          variables: {
            input: {
              connectionId: connection.connectionId,
              objects: [
                { type: 'jira:work-item', externalId: 'W-1', displayName: 'Work item', updateSequenceNumber: 1, permissions: everyone },
                { type: 'confluence:page', externalId: 'P-1', displayName: 'Page', updateSequenceNumber: 1, permissions: everyone },
              ],
            },
          },
        }),
      }),
    );
    const ingested = (await ingest.json()) as any;
    expect(ingested.data?.setObjects, JSON.stringify(ingested)).toEqual({ acceptedCount: 2, rejectedCount: 0 });

    // 100 twg-cli sessions over the first five people, all through the OAuth flow on A, each
    // token used once on A and once on B.
    const wanted = Array.from({ length: TOKEN_COUNT }, (_, i) => people[i % 5]);
    warm = await inBatches(wanted, (p) => login(a, p.email, p.accountId));
    expect(new Set(warm.map((l) => l.accessToken)).size).toBe(TOKEN_COUNT);
    expectAll(await onBoth(warm.map((l) => l.accessToken)), works, 'accepted while warming up');
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...children].map(stopInstance));
    await handle?.close();
  });

  it('save and revoke (sent to A) refuses every one of the 100 CLI tokens on both instances at once', async () => {
    const data = await admin(a, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }', {
      i: { orgId, allowAllByDefault: true, revokeSessions: true },
    });
    expect(data.updateCliPermissions.revokedSessionCount).toBe(TOKEN_COUNT);
    expectAll(await onBoth(warm.map((l) => l.accessToken)), refused, '401 with Bearer error="invalid_token" (stragglers)');
    // The admin-page session survives.
    expect((await graphqlAt(b, adminToken, VIEWER_QUERY)).status).toBe(200);
  });

  it('a per-account revocation (sent to B) refuses that account on both instances and keeps the others', async () => {
    const [target, ...others] = people.slice(0, 3);
    const logins = await freshLogins([target, ...others], 3);
    const data = await admin(b, 'mutation($i: RevokeCliSessionsInput!) { revokeCliSessions(input: $i) { revokedSessionCount } }', {
      i: { orgId, accountId: target.accountId },
    });
    expect(data.revokeCliSessions.revokedSessionCount).toBe(3);
    const mine = logins.filter((l) => l.accountId === target.accountId).map((l) => l.accessToken);
    const theirs = logins.filter((l) => l.accountId !== target.accountId).map((l) => l.accessToken);
    expectAll(await onBoth(mine), refused, `401 invalid_token for the revoked account`);
    expectAll(await onBoth(theirs), works, 'still accepted for the other accounts');
  });

  it('a deactivation (by a third instance, this test process) refuses that account on both instances', async () => {
    const [target, other] = people.slice(3, 5);
    const logins = await freshLogins([target, other], 3);
    await app.services.orgs.setAccountActive(target.accountId, false);
    expectAll(await onBoth(logins.filter((l) => l.accountId === target.accountId).map((l) => l.accessToken)), refused, '401 invalid_token for the deactivated account');
    expectAll(await onBoth(logins.filter((l) => l.accountId !== target.accountId).map((l) => l.accessToken)), works, 'still accepted for the other account');
  });

  it('a logout (RFC 7009 to A) refuses the token on A and B, and its refresh token gets invalid_grant on B', async () => {
    const person = people[5];
    const [byAccess, byRefresh, kept] = await freshLogins([person], 3);
    const revoke = (token: string) => fetch(a.as.revocation_endpoint!, { method: 'POST', body: new URLSearchParams({ token, client_id: CLI.client_id }) });
    for (const [login, presented] of [
      [byAccess, byAccess.accessToken],
      [byRefresh, byRefresh.refreshToken],
    ] as const) {
      const response = await revoke(presented);
      expect(response.status, `POST /oauth/revoke on A with the ${presented === login.accessToken ? 'access' : 'refresh'} token`).toBe(200);
      expectAll(await onBoth([login.accessToken]), refused, `401 invalid_token after logout with the ${presented === login.accessToken ? 'access' : 'refresh'} token`);
      const failure = await oauthError(oauth.refreshTokenGrantRequest(b.as, CLI, oauth.None(), login.refreshToken, insecure).then((r) => oauth.processRefreshTokenResponse(b.as, CLI, r)));
      expect(failure, `refresh on B after logout with the ${presented === login.accessToken ? 'access' : 'refresh'} token`).toMatchObject({ status: 400, error: 'invalid_grant' });
    }
    // Logout ends that session only: the same person's other session goes on.
    expectAll(await onBoth([kept.accessToken]), works, "still accepted for the person's other session");
  });

  it('save without revoking (sent to B) restricts a removed permission on the next request on both instances, and nothing else', async () => {
    const logins = await freshLogins(people.slice(6, 8), 2);
    const tokens = logins.map((l) => l.accessToken);
    // Warm up the two queries too: the work item is readable before the change.
    for (const instance of [a, b]) {
      for (const token of tokens) {
        const jira = await graphqlAt(instance, token, JIRA_QUERY);
        expect(jira.body.errors, `${instance.name} before the change: ${JSON.stringify(jira.body)}`).toBeUndefined();
        expect(jira.body.data.objects.edges).toHaveLength(1);
        expect((await graphqlAt(instance, token, CONFLUENCE_QUERY)).body.data.objects.edges).toHaveLength(1);
      }
    }
    const selection = app.services.catalog.permissions.map((p) => p.key).filter((key) => key !== READ_JIRA);
    const data = await admin(b, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount settings { allowAllByDefault effectivePermissions } } }', {
      i: { orgId, allowAllByDefault: false, selectedPermissions: selection, revokeSessions: false },
    });
    expect(data.updateCliPermissions.revokedSessionCount).toBe(0);
    expect(data.updateCliPermissions.settings.effectivePermissions).not.toContain(READ_JIRA);

    const stale: string[] = [];
    for (const instance of [a, b]) {
      for (const token of tokens) {
        const jira = await graphqlAt(instance, token, JIRA_QUERY);
        const error = jira.body?.errors?.[0];
        const restricted =
          jira.status === 200 &&
          jira.body.data?.objects == null &&
          jira.body.errors?.length === 1 &&
          error.extensions?.code === 'RESTRICTED' &&
          error.extensions?.reason === 'NOT_ALLOWED_BY_ORGANIZATION' &&
          error.extensions?.permission === READ_JIRA;
        if (!restricted) stale.push(`${instance.name} jira: ${jira.status} ${JSON.stringify(jira.body).slice(0, 300)}`);
        const page = await graphqlAt(instance, token, CONFLUENCE_QUERY);
        if (page.status !== 200 || page.body.errors || page.body.data?.objects?.edges?.length !== 1) stale.push(`${instance.name} confluence: ${page.status} ${JSON.stringify(page.body).slice(0, 300)}`);
      }
    }
    expect(stale.length, `${stale.length} stale answers after the save:\n${stale.join('\n')}`).toBe(0);
  });
});
