// Runs the real `twg` binary (node + src/cli/bin/twg.js) as a child process against a test app
// served on a real port, with its own credentials folder, and plays the browser for it: the
// authorization URL it prints, the login form, the redirect to its loopback listener, or the
// device page. Tests wait on the lines twg prints, never on time.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { expect } from 'vitest';
import { CLI, insecure, PASSWORD } from './oauth-harness.ts';
import { asOperator, createTenant, startTestApp, type Tenant, type TestApp } from './app.ts';
import type { TestServer } from './http-server.ts';
import { FormBrowser } from './form-browser.ts';

const TWG = fileURLToPath(new URL('../../src/cli/bin/twg.js', import.meta.url));

/** The origin of a port that nothing listens on: one just taken and let go. */
export async function deadServer(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

export interface TwgResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running twg: its output so far, a way to wait for a line, to type, and its end. */
export class TwgProcess {
  stdout = '';
  stderr = '';
  private readonly waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  readonly done: Promise<TwgResult>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.check();
    });
    this.done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr })));

  }

  /** The first stderr match of the pattern, once twg has printed it. */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> {
    const found = this.stderr.match(pattern);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      this.waiters.push({ pattern, resolve });
      this.done.then((r) => setImmediate(() => reject(new Error(`twg exited ${r.code} without printing ${pattern}; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`))));
    });
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  private check() {
    for (const waiter of [...this.waiters]) {
      const match = this.stderr.match(waiter.pattern);
      if (match) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  }
}

export class CliHarness {
  private readonly homes: string[] = [];
  /** Every twg started, so that one left waiting by a failed test does not outlive the file. */
  readonly processes: TwgProcess[] = [];

  private constructor(
    readonly t: TestApp,
    readonly server: TestServer,
  ) {}

  /** `options`: as startTestApp's (e.g. the audit stream sender's timing); the app is always served. */
  static async start(options: Parameters<typeof startTestApp>[0] = {}): Promise<CliHarness> {
    const t = await startTestApp({ ...options, serve: true });
    return new CliHarness(t, t.server!);
  }

  get url(): string {
    return this.server.url;
  }

  get clock() {
    return this.t.clock;
  }

  async close(): Promise<void> {
    for (const twg of this.processes) if (twg.child.exitCode === null && twg.child.signalCode === null) twg.child.kill();
    for (const home of this.homes) rmSync(home, { recursive: true, force: true });
    await this.server.close();
    await this.t.close();
  }

  /** A new, empty XDG_CONFIG_HOME: one person's machine. */
  machine(): Machine {
    const home = mkdtempSync(join(tmpdir(), 'twg-cli-test-'));
    this.homes.push(home);
    return new Machine(this, home);
  }

  /** A tenant whose admin and people sign in with PASSWORD, and an admin API key of its admin. */
  async tenant(name: string): Promise<CliTenant> {
    const tenant = await createTenant(this.t, name);
    const { orgs, adminKeys } = this.t.app.services;
    const person = async (admin = false) => {
      const email = `${admin ? 'admin' : 'person'}-${Math.random().toString(36).slice(2, 8)}@${name.toLowerCase()}.test`;
      const { accountId } = await orgs.createAccount({ orgId: tenant.orgId, email, displayName: email.split('@')[0], password: PASSWORD, cloudIds: [tenant.cloudId], admin });
      return { accountId, email };
    };
    const admin = await person(true);
    const { secret } = await adminKeys.create(asOperator, tenant.orgId, admin.accountId, { name: `${name} twg admin` });
    return { tenant, orgId: tenant.orgId, admin, adminApiKey: secret, person: () => person(false) };
  }

  /** What the browser does with the address `twg login` printed: the login form, then the redirect to twg. */
  async completeBrowserLogin(authorizationUrl: string, email: string, password = PASSWORD): Promise<Response> {
    const browser = new FormBrowser(this.url);
    const form = await browser.open(authorizationUrl);
    expect(form.response.status, form.html).toBe(200);
    const answer = await browser.submit({ pageUrl: authorizationUrl, page: form.html, fields: { email, password } });
    expect(answer.status, await answer.clone().text()).toBe(303);
    return fetch(answer.headers.get('location')!, { redirect: 'manual' });
  }

  /** What the person does on the device page with the code `twg login --device` printed. */
  async approveDevice(userCode: string, email: string): Promise<void> {
    const response = await new FormBrowser(this.url).submit({ pageUrl: `${this.url}/device`, fields: { user_code: userCode, email, password: PASSWORD, decision: 'approve' } });
    expect(response.status, await response.clone().text()).toBe(200);
  }

  /** Audit events of the organisation, newest first, read as its admin. */
  async auditEvents(orgId: string, filter: Record<string, unknown> = {}): Promise<any[]> {
    const admin = await createAdminToken(this, orgId);
    const result = await this.t.graphql(admin, 'query($id: ID!, $filter: AuditEventFilter) { organization(id: $id) { auditEvents(first: 100, filter: $filter) { edges { node { command family outcome invocationSource agentRuntime cliVersion traceId clientId actor { email } statusCode } } } } }', { id: orgId, filter });
    expect(result.body.errors).toBeUndefined();
    return result.body.data.organization.auditEvents.edges.map((e: any) => e.node);
  }
}

async function createAdminToken(h: CliHarness, orgId: string): Promise<string> {
  const { orgs, sessions } = h.t.app.services;
  const email = `auditor-${Math.random().toString(36).slice(2, 8)}@audit.test`;
  const { accountId } = await orgs.createAccount({ orgId, email, displayName: 'auditor', admin: true, cloudIds: [] });
  return (await sessions.issue({ orgId, accountId }, 'teamgraph-admin', [])).accessToken;
}

export interface CliTenant {
  tenant: Tenant;
  orgId: string;
  admin: { accountId: string; email: string };
  adminApiKey: string;
  person(): Promise<{ accountId: string; email: string }>;
}

/** One machine: a credentials folder and the environment twg runs with there. */
export class Machine {
  constructor(
    readonly h: CliHarness,
    readonly home: string,
  ) {}

  get credentialsPath(): string {
    return join(this.home, 'twg', 'credentials.json');
  }

  credentials(): any {
    return JSON.parse(readFileSync(this.credentialsPath, 'utf8'));
  }

  credentialsMode(): number {
    return statSync(this.credentialsPath).mode & 0o777;
  }

  start(args: string[], env: Record<string, string> = {}): TwgProcess {
    const child = spawn(process.execPath, [TWG, ...args], {
      env: { PATH: process.env.PATH, HOME: this.home, XDG_CONFIG_HOME: this.home, TWG_SERVER: this.h.url, TWG_NO_BROWSER: '1', ...env },
      stdio: 'pipe',
    });
    const twg = new TwgProcess(child);
    this.h.processes.push(twg);
    return twg;
  }

  run(args: string[], env: Record<string, string> = {}): Promise<TwgResult> {
    const twg = this.start(args, env);
    twg.child.stdin.end();
    return twg.done;
  }

  /**
   * Signs this machine in without running `twg login` (which sign-in.test.ts covers): the same
   * authorization code + PKCE grant against the same server, its real tokens written where twg
   * keeps them. It spares the tests about other commands a process per sign-in.
   */
  async signIn(email: string, scopes: string[] = []): Promise<void> {
    const issuer = new URL(this.h.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const verifier = oauth.generateRandomCodeVerifier();
    const redirectUri = 'http://127.0.0.1:49152/callback';
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: CLI.client_id,
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'direct',
      ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    }).toString();
    const answer = await new FormBrowser(this.h.url).submit({ pageUrl: url.toString(), fields: { email, password: PASSWORD } });
    expect(answer.status, await answer.clone().text()).toBe(303);
    const params = oauth.validateAuthResponse(as, CLI, new URL(answer.headers.get('location')!), 'direct');
    const tokens = await oauth.processAuthorizationCodeResponse(as, CLI, await oauth.authorizationCodeGrantRequest(as, CLI, oauth.None(), params, redirectUri, verifier, insecure));
    const now = Date.now();
    mkdirSync(join(this.home, 'twg'), { recursive: true, mode: 0o700 });
    const stored = {
      server: this.h.url,
      oauth: {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token ?? null,
        scopes: (tokens.scope ?? '').split(' ').filter(Boolean),
        issuedAt: now,
        expiresAt: now + (tokens.expires_in ?? 600) * 1000,
        signedInAt: now,
        requestedScopes: scopes,
      },
    };
    writeFileSync(this.credentialsPath, JSON.stringify(stored), { mode: 0o600 });
  }

  /** `twg login` through the browser as this person. */
  async login(email: string, args: string[] = []): Promise<TwgResult> {
    const twg = this.start(['login', ...args]);
    const [url] = await twg.waitForStderr(/^http\S+\/oauth\/authorize\?\S+$/m);
    const callback = await this.h.completeBrowserLogin(url, email);
    expect(callback.status).toBe(200);
    twg.child.stdin.end();
    const result = await twg.done;
    expect(result.code, result.stderr).toBe(0);
    return result;
  }
}
