// A small third-party OAuth 2 provider on loopback for the 3LO link tests: authorize (the person
// is whoever `state.signedIn` says; `state.deny` refuses), token (checks the client secret and
// PKCE), user-info and OpenID metadata.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const TEST_PROVIDER = { CLIENT_ID: 'teamgraph-at-provider', CLIENT_SECRET: `provider-secret-${randomBytes(8).toString('hex')}` };


/** A small OAuth 2 provider: authorize (the person is whoever `signedIn` says), token, user-info, metadata. */
export async function startTestProvider() {
  const codes = new Map<string, { user: string; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, string>();
  const state = { signedIn: 'gh-alice', deny: false, exchanges: 0, origin: '' };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, state.origin);
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return send(200, { issuer: state.origin, authorization_endpoint: `${state.origin}/authorize`, token_endpoint: `${state.origin}/token`, userinfo_endpoint: `${state.origin}/userinfo` });
    }
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      const redirect = new URL(q.get('redirect_uri')!);
      if (q.get('client_id') !== TEST_PROVIDER.CLIENT_ID || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return send(400, { error: 'invalid_request' });
      redirect.searchParams.set('state', q.get('state')!);
      if (state.deny) {
        redirect.searchParams.set('error', 'access_denied');
        redirect.searchParams.set('error_description', 'The user said no');
      } else {
        const code = randomBytes(16).toString('hex');
        codes.set(code, { user: state.signedIn, challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')! });
        redirect.searchParams.set('code', code);
      }
      res.writeHead(302, { location: redirect.toString() }).end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
      if (id !== TEST_PROVIDER.CLIENT_ID || secret !== TEST_PROVIDER.CLIENT_SECRET) return send(401, { error: 'invalid_client' });
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifierHash = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (!grant || grant.challenge !== verifierHash || grant.redirectUri !== form.get('redirect_uri')) return send(400, { error: 'invalid_grant' });
      state.exchanges++;
      const accessToken = randomBytes(16).toString('hex');
      tokens.set(accessToken, grant.user);
      return send(200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 });
    }
    if (url.pathname === '/userinfo') {
      const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      return user ? send(200, { sub: `sub-${user}`, login: user }) : send(401, { error: 'invalid_token' });
    }
    send(404, { error: 'not_found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, state };
}

export type TestProvider = Awaited<ReturnType<typeof startTestProvider>>;

