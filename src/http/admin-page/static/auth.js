// @ts-check
// Signing in as the public OAuth client teamgraph-admin (authorization code + PKCE S256), the
// tab's tokens, and the requests made with them: fetch, GraphQL and signing out.
const CLIENT_ID = 'teamgraph-admin';
const REDIRECT_URI = `${location.origin}/admin/callback`;

// Tokens are kept in sessionStorage: a reload of this tab stays signed in, but no other tab, and
// nothing after the tab is closed, can read them. The access token lives 10 minutes; when it is
// refused it is replaced with the rotating refresh token (one refresh at a time: presenting a
// used refresh token would end the session).
const TOKENS = 'teamgraph-admin.tokens';
const PENDING = 'teamgraph-admin.pending';

/** @typedef {{ access: string, refresh: string }} Tokens */

const tokens = {
  /** @returns {Tokens | null} */
  get: () => JSON.parse(sessionStorage.getItem(TOKENS) ?? 'null'),
  /** @param {Tokens} value */
  set: (value) => sessionStorage.setItem(TOKENS, JSON.stringify(value)),
  clear: () => sessionStorage.removeItem(TOKENS),
};

/** @param {ArrayBuffer | Uint8Array} bytes */
const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
/** @param {number} size */
const randomString = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

/** Sends the browser to the login page; needs `crypto.subtle`, which only a secure context has. */
export async function startSignIn() {
  const verifier = randomString(32);
  const state = randomString(16);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state });
  location.assign(`/oauth/authorize?${params}`);
}

/**
 * The login page sent the browser back to /admin/callback: the code for tokens.
 * @param {URLSearchParams} params
 */
export async function completeSignIn(params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', '/admin');
  const error = params.get('error');
  if (error) throw new Error(params.get('error_description') ?? error);
  // RFC 9207: the answer must come from this server, for the request this tab started.
  if (!pending || params.get('state') !== pending.state) throw new Error('The sign-in answer does not belong to a sign-in started in this tab. Sign in again.');
  if (params.get('iss') !== location.origin) throw new Error('The sign-in answer came from another server. Sign in again.');
  const issued = await tokenRequest({ grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: REDIRECT_URI, code_verifier: pending.verifier });
  tokens.set(issued);
}

/**
 * @param {Record<string, string>} fields
 * @returns {Promise<Tokens>}
 */
async function tokenRequest(fields) {
  const response = await fetch('/oauth/token', { method: 'POST', body: new URLSearchParams({ ...fields, client_id: CLIENT_ID }) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new SignedOut(body.error_description ?? 'Signing in failed. Sign in again.');
  return { access: body.access_token, refresh: body.refresh_token };
}

export class SignedOut extends Error {}

/** @type {Promise<void> | null} */
let refreshing = null;
/** @param {string} stale the access token the server refused */
function refreshTokens(stale) {
  refreshing ??= (async () => {
    const current = tokens.get();
    // Another request refreshed meanwhile: use its tokens.
    if (current && current.access !== stale) return;
    if (!current?.refresh) throw new SignedOut('Sign in to continue.');
    try {
      tokens.set(await tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refresh }));
    } catch (error) {
      tokens.clear();
      throw error;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * fetch with the access token, refreshed once when the server says it expired.
 * @param {string} url
 * @param {{ method?: string, headers?: Record<string, string>, body?: string }} [init]
 */
export async function authorizedFetch(url, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const current = tokens.get();
    if (!current) throw new SignedOut('Sign in to continue.');
    const response = await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${current.access}` } });
    if (response.status !== 401) return response;
    if (attempt > 0) {
      tokens.clear();
      throw new SignedOut('Your session has ended. Sign in again.');
    }
    await refreshTokens(current.access);
  }
}

/** A GraphQL error as the API sent it: message, code and sub-code. */
export class ApiError extends Error {
  /** @param {{ message: string, extensions?: { code?: string, subCode?: string } }} error */
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
    this.subCode = error.extensions?.subCode;
  }
}

/**
 * The query's data as the server sent it: callers state its shape, which nothing checks.
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @returns {Promise<unknown>}
 */
export async function gql(query, variables = {}) {
  const response = await authorizedFetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new ApiError(body.errors[0]);
  return body.data;
}

/** Whether this tab holds tokens (they may still have to be refreshed). */
export const signedIn = () => Boolean(tokens.get());

/** Forgets this tab's tokens and ends their session on the server. */
export async function signOut() {
  const current = tokens.get();
  tokens.clear();
  // RFC 7009: ends the session on the server too, not only in this tab.
  if (current?.refresh) await fetch('/oauth/revoke', { method: 'POST', body: new URLSearchParams({ token: current.refresh, client_id: CLIENT_ID }) }).catch(() => {});
}
