// A real app over a fresh database, driven through app.fetch with real tokens, and a tenant
// factory that creates organisations, sites, connections and accounts the way the operator does.
import { ADMIN_CLIENT_ID, CLI_CLIENT_ID } from '../../src/modules/session/credentials/client-ids.ts';
import { type App, type AppDeps, createApp } from '../../src/app.ts';
import type { ChangeFeed } from '../../src/db/change-feed.ts';
import { operatorAuthor } from '../../src/modules/audit/audit-event.ts';
import type { DbHandle } from '../../src/db/handle.ts';
import { createLogger, type LogLevel } from '../../src/shared/logger.ts';
import { TestClock } from './clock.ts';
import { openTestDatabase } from './database.ts';
import { serveOnLoopback, type TestServer } from './http-server.ts';

/** The public origin of apps under test that are not served over a socket. */
export const TEST_ORIGIN = 'http://teamgraph.test';

/** Whether a recorded statement is a session's credential lookup (the credential cache answers most requests without one). */
export const isCredentialLookup = (statement: string) => statement.includes('"access_token"') && statement.includes('token_hash');
/** Whether it reads an organisation's credential stamp: on Citus, the barrier of a cached credential. */
export const isCredentialStampRead = (statement: string) => statement.includes('"principal_version"') && statement.includes('credentials');

/** Setup a test does through a service directly is recorded as the operator's (PRODUCT §9). */
export const asOperator = operatorAuthor(() => new Date());

export interface GraphqlResult {
  status: number;
  body: { data?: any; errors?: { message: string; path?: string[]; extensions: Record<string, any> }[] };
  headers: Headers;
}

export interface TestApp {
  app: App;
  db: DbHandle['db'];
  clock: TestClock;
  /** The app's log lines (error level unless `logLevel` says otherwise). */
  logs: string[];
  /** The database as main.ts has it (its pool and change-feed figures, for the metrics server). */
  handle: DbHandle;
  /** Every SQL statement run, in order; tests may clear it. */
  statements: string[];
  /** The same statements with their parameters; tests may clear it. */
  queries: { sql: string; parameters: readonly unknown[] }[];
  /** PostgreSQL only: the database's URL, for a second pool (another server process); undefined on the embedded database. */
  databaseUrl?: string;
  /** The app's public origin: TEST_ORIGIN, or the loopback address it is served on. */
  url: string;
  /** With `serve`: the app over real HTTP at `url`. */
  server?: TestServer;
  /** A GraphQL request; `from` is the socket peer's address (none by default, as without a socket). */
  graphql(token: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>, from?: string): Promise<GraphqlResult>;
  close(): Promise<void>;
}

/**
 * `feed` stands between the database's change notifications and the app (tests that delay them);
 * `serve` also serves the app over HTTP on loopback (its public origin is then that address);
 * `logLevel` is what `logs` collects from.
 */
export async function startTestApp(
  {
    feed = (changes) => changes,
    serve = false,
    logLevel = 'error',
    ...options
  }: Pick<AppDeps, 'catalog' | 'countries' | 'trustedProxies' | 'allowPrivateProviderUrls' | 'draining' | 'graphiqlHeaders' | 'auditStreamAllowHttp' | 'auditStreamSender' | 'secretKey' | 'rateLimitBudgets'> & { feed?: (changes: ChangeFeed) => ChangeFeed; serve?: boolean; logLevel?: LogLevel } = {},
): Promise<TestApp> {
  const statements: string[] = [];
  const queries: TestApp['queries'] = [];
  const handle = await openTestDatabase((sql, _ms, parameters) => {
    statements.push(sql);
    queries.push({ sql, parameters });
  });
  const clock = new TestClock();
  const logs: string[] = [];
  const make = (publicUrl: string) =>
    // The tests' OAuth providers listen on loopback, as TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS=1 allows.
    createApp({ db: handle.db, changes: feed(handle.changes), clock, publicUrl, allowPrivateProviderUrls: true, ...options, logger: createLogger(logLevel, (line) => logs.push(line)) });
  const server = serve ? await serveOnLoopback(make) : undefined;
  const app = server?.app ?? make(TEST_ORIGIN);
  return {
    app,
    db: handle.db,
    clock,
    logs,
    handle,
    statements,
    queries,
    databaseUrl: handle.url,
    url: server?.url ?? TEST_ORIGIN,
    server,
    async graphql(token, query, variables, headers = {}, from) {
      const response = await app.fetch(
        new Request(`${TEST_ORIGIN}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
          body: JSON.stringify({ query, variables }),
        }),
        { clientAddress: from },
      );
      return { status: response.status, body: await response.json(), headers: response.headers };
    },
    close: async () => {
      await server?.close();
      await handle.close();
    },
  };
}

export interface Tenant {
  orgId: string;
  cloudId: string;
  connectionId: string;
  connectionToken: string;
  /** Creates an account and a session token for it (all catalogue scopes unless given). */
  account(options?: { email?: string; admin?: boolean; member?: boolean; scopes?: string[]; client?: string }): Promise<{ accountId: string; token: string }>;
  /** Runs an ingestion mutation as the connection and returns its payload. */
  ingest(mutation: string, input: Record<string, unknown>): Promise<any>;
}

let counter = 0;

export async function createTenant(t: TestApp, name = 'Acme'): Promise<Tenant> {
  const { orgs, sessions, catalog } = t.app.services;
  const { orgId } = await orgs.createOrganization(name);
  const { cloudId } = await orgs.createSite(orgId, `${name} site`);
  const connection = await orgs.createConnection(cloudId, 'jira');
  const connectionToken = (await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [])).accessToken;
  return {
    orgId,
    cloudId,
    connectionId: connection.connectionId,
    connectionToken,
    async account(options = {}) {
      const email = options.email ?? `person${++counter}-${Math.random().toString(36).slice(2, 8)}@${name.toLowerCase()}.test`;
      const { accountId } = await orgs.createAccount({ orgId, email, displayName: email.split('@')[0], admin: options.admin, cloudIds: options.member === false ? [] : [cloudId] });
      const scopes = options.scopes ?? catalog.permissions.map((p) => p.key);
      const client = options.client ?? (options.admin ? ADMIN_CLIENT_ID : CLI_CLIENT_ID);
      const { accessToken } = await sessions.issue({ orgId, accountId }, client, scopes);
      return { accountId, token: accessToken };
    },
    async ingest(mutation, input) {
      const result = await t.graphql(
        connectionToken,
        `mutation($input: ${inputTypeOf(mutation)}!) { ${mutation}(input: $input) { acceptedCount staleCount rejectedCount results { index externalId status code message } } }`,
        { input: { connectionId: connection.connectionId, ...input } },
      );
      if (result.body.errors) throw new Error(`${mutation} failed: ${JSON.stringify(result.body.errors)}`);
      return result.body.data[mutation];
    },
  };
}

function inputTypeOf(mutation: string): string {
  const types: Record<string, string> = {
    setObjects: 'SetObjectsInput',
    deleteObjects: 'DeleteObjectsInput',
    setUsers: 'SetUsersInput',
    deleteUsers: 'DeleteExternalInput',
    setGroups: 'SetGroupsInput',
    deleteGroups: 'DeleteExternalInput',
    mapUsers: 'MapUsersInput',
    setRelationships: 'SetRelationshipsInput',
    deleteRelationships: 'DeleteRelationshipsInput',
  };
  return types[mutation];
}

/** An object input with sensible defaults. */
export function objectInput(externalId: string, overrides: Record<string, unknown> = {}) {
  return {
    type: 'jira:work-item',
    externalId,
    displayName: `Item ${externalId}`,
    updateSequenceNumber: 1,
    permissions: [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }],
    ...overrides,
  };
}

export const userPrincipal = (id: string) => ({ type: 'USER', id });
export const groupPrincipal = (id: string) => ({ type: 'GROUP', id });
export const viewAcl = (...controls: object[][]) => [{ action: 'VIEW', accessControls: controls.map((principals) => ({ principals })) }];
