// GraphQL over HTTP for twg, with the three ways a command authenticates: the OAuth session
// (refreshed at 75% of the access token's life, and once more when the server says it lapsed),
// an admin API key (TWG_ADMIN_API_KEY), or a Bitbucket token alone (PRODUCT §8). Server answers
// become exit codes here, in one place. A read the server refuses for its rate limit (429, issue
// 21) is asked again after the Retry-After it names, when that is soon; a change never is.
import type { AuthorizationServer } from 'oauth4webapi';
import type { OAuthTokens } from './credentials.ts';
import { CliError, EXIT, loginNeeded, notSignedIn } from './exit-codes.ts';
import { type Invocation, requestHeaders } from './invocation.ts';
import { discover, refreshIsDue, refreshTokens, tokensFrom } from './oauth.ts';
import { tell } from './output.ts';

export type Auth = 'session' | 'admin' | 'bitbucket';

export interface GraphqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; subCode?: string; permission?: string; reason?: string; requestId?: string };
}

interface GraphqlBody {
  data?: unknown;
  errors?: GraphqlError[];
}

const BITBUCKET_PERMISSION = /^(repository|pullrequest):/;

/** How often a rate-limited read is asked again, and the longest wait before each by default (TWG_RATE_LIMIT_MAX_WAIT). */
export const RATE_LIMIT_RETRIES = 3;
const DEFAULT_MAX_WAIT_SECONDS = 60;

/** Queries only read, so asking again is safe; a mutation may have been applied by an earlier answer that was lost. */
const isRead = (query: string) => !/^\s*(mutation|subscription)\b/.test(query);

export class Api {
  private authorizationServer?: AuthorizationServer;

  constructor(readonly invocation: Invocation) {}

  /**
   * Runs one operation. An error of a top-level field ends the command with its exit code; a
   * nested field that is restricted (PRODUCT §5: e.g. the container of a pull request) is null,
   * and a note on stderr says which permission would show it. `T` is what the query selects.
   */
  async request<T>(query: string, variables: Record<string, unknown> = {}, auth: Auth = 'session'): Promise<T> {
    const body = await this.send(query, variables, auth);
    const errors = body.errors ?? [];
    const hidden = errors.filter((e) => e.extensions?.code === 'RESTRICTED' && (e.path?.length ?? 0) > 1);
    if (errors.length > hidden.length || !body.data) throw failureOf(errors);
    for (const permission of new Set(hidden.map((e) => e.extensions!.permission))) {
      tell(`note: some fields are hidden because they need ${permission}`);
    }
    return body.data as T;
  }

  /** The raw answer, errors included, for commands that report on restrictions (doctor). */
  async send(query: string, variables: Record<string, unknown>, auth: Auth): Promise<GraphqlBody> {
    const payload = JSON.stringify({ query, variables });
    const send = (credentials: Record<string, string>) => this.withBackoff(() => this.post(payload, credentials), isRead(query));
    if (auth !== 'session') return this.answer(await send(await this.credentialHeaders(auth)), auth);
    return this.answer(await this.asSession(send), auth);
  }

  /**
   * Sends, and on a 429 sends again after the server's Retry-After when the request only reads and
   * the wait is at most TWG_RATE_LIMIT_MAX_WAIT seconds, up to RATE_LIMIT_RETRIES times; otherwise
   * the command ends saying when it may be tried again.
   */
  private async withBackoff(send: () => Promise<Response>, read: boolean): Promise<Response> {
    const maxWait = this.maxWaitSeconds();
    for (let retry = 1; ; retry++) {
      const response = await send();
      if (response.status !== 429) return response;
      const wait = retryAfterOf(response);
      if (!read || wait === null || wait > maxWait || retry > RATE_LIMIT_RETRIES) throw rateLimited(await readBody(response), wait, read);
      await response.body?.cancel();
      tell(`rate limited: asking again in ${wait} s (${retry} of ${RATE_LIMIT_RETRIES})`);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }

  private maxWaitSeconds(): number {
    const raw = this.invocation.env.TWG_RATE_LIMIT_MAX_WAIT?.trim();
    if (!raw) return DEFAULT_MAX_WAIT_SECONDS;
    if (!/^\d+$/.test(raw)) throw new CliError(EXIT.usage, `TWG_RATE_LIMIT_MAX_WAIT must be a whole number of seconds, got "${raw}"`);
    return Number(raw);
  }

  /** GET a server path as the signed-in session, for a JSON answer outside GraphQL (twg connect's link check). */
  async sessionGet<T>(path: string): Promise<T> {
    const response = await this.asSession((credentials) =>
      this.fetch(`${this.invocation.server}${path}`, { method: 'GET', headers: { ...requestHeaders(this.invocation), accept: 'application/json', ...credentials } }),
    );
    if (!response.ok) await this.answer(response, 'session');
    try {
      return (await response.json()) as T;
    } catch {
      throw new CliError(EXIT.unavailable, `the server's answer to ${path} was not JSON`, [], { code: 'SERVER_ERROR', status: response.status });
    }
  }

  /** Sends with the session's bearer token; the server's clock is the one that counts: a token it calls lapsed is refreshed once more. */
  private async asSession(send: (credentials: Record<string, string>) => Promise<Response>): Promise<Response> {
    let tokens = await this.freshTokens();
    let response = await send({ authorization: `Bearer ${tokens.accessToken}` });
    if (response.status === 401 && /invalid_token/.test(response.headers.get('www-authenticate') ?? '')) {
      const refusal = await readBody(response);
      if (!tokens.refreshToken) throw loginNeeded(`the session has ended: ${messageOf(refusal)}`);
      tokens = await this.refresh(tokens);
      response = await send({ authorization: `Bearer ${tokens.accessToken}` });
    }
    return response;
  }

  /** GET a server path as the admin API key, for streamed answers (the audit export). */
  async adminGet(path: string): Promise<Response> {
    const response = await this.fetch(`${this.invocation.server}${path}`, { method: 'GET', headers: { ...requestHeaders(this.invocation), ...(await this.credentialHeaders('admin')) } });
    if (!response.ok) await this.answer(response, 'admin');
    return response;
  }

  /** The stored session's tokens, refreshed first when 75% of the access token's life has passed. */
  async freshTokens(): Promise<OAuthTokens> {
    const stored = this.invocation.store.read();
    const tokens = stored.oauth;
    if (!tokens) throw notSignedIn('not signed in');
    // Tokens go only to the server that issued them.
    if (stored.server !== this.invocation.server) throw notSignedIn(`not signed in to ${this.invocation.server} (signed in to ${stored.server})`);
    return refreshIsDue(tokens) && tokens.refreshToken ? this.refresh(tokens) : tokens;
  }

  /** Rotates the refresh token under the credentials lock; another twg may have done it already. */
  private async refresh(used: OAuthTokens): Promise<OAuthTokens> {
    const store = this.invocation.store;
    return store.withLock(async () => {
      const current = store.read().oauth;
      if (!current) throw notSignedIn('not signed in');
      if (current.refreshToken !== used.refreshToken) return current;
      if (!current.refreshToken) throw loginNeeded('the session has ended and cannot be renewed');
      this.authorizationServer ??= await discover(this.invocation);
      try {
        const next = tokensFrom(await refreshTokens(this.invocation, this.authorizationServer, current.refreshToken), current.requestedScopes ?? [], current);
        store.update((c) => ({ ...c, oauth: next }));
        return next;
      } catch (error) {
        // A refused refresh means the session is over: forget its tokens, keep the rest.
        if (error instanceof CliError && error.exitCode === EXIT.loginNeeded) store.update(({ oauth: _ended, ...rest }) => rest);
        throw error;
      }
    });
  }

  private async credentialHeaders(auth: Exclude<Auth, 'session'>): Promise<Record<string, string>> {
    const env = this.invocation.env;
    if (auth === 'admin') {
      const key = env.TWG_ADMIN_API_KEY?.trim();
      if (!key) throw new CliError(EXIT.notSignedIn, 'admin commands need an admin API key in TWG_ADMIN_API_KEY', ['create one on the admin page (/admin, Admin API keys), or ask the operator (npm run --silent admin -- admin-key create --account ACC), and export TWG_ADMIN_API_KEY'], { code: 'NO_ADMIN_KEY' });
      return { authorization: `Bearer ${key}` };
    }
    const stored = this.invocation.store.read();
    const secret = env.TWG_BBC_TOKEN?.trim() || (stored.server === this.invocation.server ? stored.bitbucket?.secret : undefined);
    if (!secret) throw new CliError(EXIT.notSignedIn, 'Bitbucket commands need a Bitbucket token', ['run: twg bitbucket token add --label <label> --scope pullrequest:read', 'or export TWG_BBC_TOKEN'], { code: 'NO_BITBUCKET_TOKEN' });
    return { 'x-bitbucket-token': secret };
  }

  private post(payload: string, credentials: Record<string, string>): Promise<Response> {
    return this.fetch(`${this.invocation.server}/graphql`, {
      method: 'POST',
      headers: { ...requestHeaders(this.invocation), 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...credentials },
      body: payload,
    });
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new CliError(EXIT.unavailable, `cannot reach ${this.invocation.server}: ${cause}`, [], { code: 'NETWORK' });
    }
  }

  /** The body of a GraphQL answer, or the exit that its HTTP status stands for. */
  private async answer(response: Response, auth: Auth): Promise<GraphqlBody> {
    const body = await readBody(response);
    if (response.status === 401) {
      // Only a session is renewed by twg login; a key or a Bitbucket token is replaced by hand.
      if (auth === 'admin') throw new CliError(EXIT.notSignedIn, `the admin API key was refused: ${messageOf(body)}`, ['create a new one and export TWG_ADMIN_API_KEY'], { code: 'ADMIN_KEY_REFUSED' });
      if (auth === 'bitbucket') throw new CliError(EXIT.notSignedIn, `the Bitbucket token was refused: ${messageOf(body)}`, ['run: twg bitbucket token add --label <label> --scope pullrequest:read'], { code: 'BITBUCKET_TOKEN_REFUSED' });
      if (/invalid_token/.test(response.headers.get('www-authenticate') ?? '')) throw loginNeeded(`the session has ended: ${messageOf(body)}`);
      throw notSignedIn(`not signed in: ${messageOf(body)}`);
    }
    if (response.status >= 400 && response.status < 500 && body.errors?.length) throw failureOf(body.errors);
    if (response.status >= 400 || (!body.data && !body.errors)) {
      throw new CliError(EXIT.unavailable, `the server answered HTTP ${response.status}${body.errors?.length ? `: ${messageOf(body)}` : ''}`, [], { code: 'SERVER_ERROR', status: response.status });
    }
    return body;
  }
}

async function readBody(response: Response): Promise<GraphqlBody> {
  const text = await response.text();
  try {
    return JSON.parse(text) as GraphqlBody;
  } catch {
    return {};
  }
}

const messageOf = (body: GraphqlBody) => body.errors?.map((e) => e.message).join('; ') || 'no reason given';

/** Retry-After in seconds (a number, or an HTTP date); null when absent: waiting would not help. */
function retryAfterOf(response: Response): number | null {
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** A 429 in twg's words: when to try again, and whether twg would have. */
export function rateLimited(body: GraphqlBody, wait: number | null, read: boolean): CliError {
  const refusal = body.errors?.find((e) => e.extensions?.code === 'RATE_LIMITED');
  const details = { code: 'RATE_LIMITED', retryAfter: wait, ...(refusal ? { message: refusal.message } : {}) };
  if (wait === null) {
    return new CliError(EXIT.rateLimited, `rate limited: ${refusal?.message ?? 'the server refused the request for its rate limit'}`, ['waiting will not help: ask for less (e.g. a smaller --limit)'], details);
  }
  const at = new Date(Date.now() + wait * 1000).toISOString().slice(11, 16);
  const hints = read
    ? ['the budget of points per hour of these credentials is spent; twg asks again by itself only when the wait is at most TWG_RATE_LIMIT_MAX_WAIT seconds (default 60)']
    : ['twg does not send a change again by itself: nothing was changed, run the command again then'];
  return new CliError(EXIT.rateLimited, `rate limited: try again in ${wait} s (at ${at} UTC)`, hints, { ...details, retryAt: new Date(Date.now() + wait * 1000).toISOString() });
}

const REASONS: Record<string, string> = {
  NOT_ALLOWED_BY_ORGANIZATION: 'not allowed by your organisation',
  NOT_GRANTED_TO_SESSION: 'not granted to this session',
};

/** The exit for a list of GraphQL errors: the gravest decides (PRODUCT §10 codes). */
export function failureOf(errors: GraphqlError[]): CliError {
  const byCode = (code: string) => errors.find((e) => e.extensions?.code === code);
  const restricted = byCode('RESTRICTED');
  if (restricted && restricted.extensions?.permission) {
    const { permission, reason = 'NOT_GRANTED_TO_SESSION' } = restricted.extensions;
    const hints = BITBUCKET_PERMISSION.test(permission)
      ? [`run: twg bitbucket token add --label <label> --scope ${permission}`]
      : reason === 'NOT_GRANTED_TO_SESSION'
        ? ['run: twg login']
        : ['ask an organisation admin to allow it; signing in again will not help'];
    const why = BITBUCKET_PERMISSION.test(permission) ? 'not a scope of the Bitbucket token' : (REASONS[reason] ?? reason);
    return new CliError(EXIT.restricted, `restricted: this command needs ${permission} (${why})`, hints, { code: 'RESTRICTED', permission, reason });
  }
  const first = errors.find((e) => e.extensions?.code && e.extensions.code !== 'RESTRICTED') ?? errors[0];
  const code = first.extensions?.code ?? 'INTERNAL';
  const details = { code, ...(first.extensions?.subCode ? { subCode: first.extensions.subCode } : {}), message: first.message };
  switch (code) {
    case 'FORBIDDEN':
      return new CliError(EXIT.restricted, `forbidden: ${first.message}`, [], details);
    case 'IP_NOT_ALLOWED':
      return new CliError(EXIT.restricted, `forbidden: ${first.message}`, ['ask an organisation admin to add this address to the allowlist'], details);
    case 'UNAUTHENTICATED':
      return new CliError(EXIT.notSignedIn, `not signed in: ${first.message}`, ['run: twg login'], details);
    case 'RATE_LIMITED':
      return new CliError(EXIT.rateLimited, `rate limited: ${first.message}`, [], details);
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
      return new CliError(EXIT.usage, `${code === 'CONFLICT' ? 'conflict' : code === 'NOT_FOUND' ? 'not found' : 'refused'}: ${first.message}`, [], details);
    default:
      return new CliError(EXIT.unavailable, `server error: ${first.message}${first.extensions?.requestId ? ` (request ${first.extensions.requestId})` : ''}`, [], details);
  }
}
