// The server's requests to a connection's OAuth provider (issue 15): a tenant admin chooses the
// addresses, so the server reaches public addresses only (after DNS), follows no redirect, and
// tells no unreachable provider from another.
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressNotAllowed, isPublicAddress, outboundFetch } from '../../src/shared/outbound-fetch.ts';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';

/** A loopback HTTP server that counts what it is asked and answers with `answer`. */
async function listening(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    answer(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, hits, port: (server.address() as AddressInfo).port };
}

const servers: { close(): unknown }[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('outboundFetch', () => {
  it('counts only public unicast addresses as public', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::7f00:1', '::808:808', '224.0.0.1']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(address), address).toBe(true);
  });

  it('refuses a name that resolves to loopback before connecting, and reaches it when private addresses are allowed', async () => {
    const target = await listening((_req, res) => res.end('{}'));
    servers.push(target.server);
    const guarded = outboundFetch({ allowPrivate: false });
    await expect(guarded(`http://localhost:${target.port}/.well-known/openid-configuration`)).rejects.toBeInstanceOf(AddressNotAllowed);
    await expect(guarded(`http://127.0.0.1:${target.port}/x`)).rejects.toBeInstanceOf(AddressNotAllowed);
    await expect(guarded(`http://[::ffff:7f00:1]:${target.port}/x`)).rejects.toBeInstanceOf(AddressNotAllowed);
    expect(target.hits).toEqual([]);
    const open = await outboundFetch({ allowPrivate: true })(`http://localhost:${target.port}/ok`);
    expect(open.status).toBe(200);
    expect(target.hits).toEqual(['/ok']);
  });

  it('gives up on a provider that keeps the answer coming too slowly, as a whole', async () => {
    const trickle = await listening((_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(drip));
    });
    servers.push(trickle.server);
    await expect(outboundFetch({ allowPrivate: true, timeoutMs: 300 })(`http://127.0.0.1:${trickle.port}/`)).rejects.toThrow(/no answer within 300 ms/);
  });

  it('follows no redirect, and bounds the size of an answer', async () => {
    const inside = await listening((_req, res) => res.end('secret'));
    const redirecting = await listening((req, res) => {
      if (req.url === '/big') return res.end('x'.repeat(2048));
      res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/metadata` }).end();
    });
    servers.push(inside.server, redirecting.server);
    const fetchIt = outboundFetch({ allowPrivate: true, maxBytes: 1024 });
    const answer = await fetchIt(`http://127.0.0.1:${redirecting.port}/.well-known/openid-configuration`);
    expect(answer.status).toBe(302);
    expect(inside.hits).toEqual([]);
    await expect(fetchIt(`http://127.0.0.1:${redirecting.port}/big`)).rejects.toThrow(/larger than 1024 bytes/);
  });
});

describe('setConnectionLinkProvider', () => {
  let t: TestApp;
  let open: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ allowPrivateProviderUrls: false });
    open = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
    await open.close();
  });

  const save = async (app: TestApp, input: Record<string, unknown>) => {
    const tenant = await createTenant(app, 'Ssrf');
    const admin = await tenant.account({ admin: true });
    return app.graphql(admin.token, 'mutation($i: SetConnectionLinkProviderInput!) { setConnectionLinkProvider(input: $i) { issuer } }', {
      i: { orgId: tenant.orgId, connectionId: tenant.connectionId, clientId: 'c', clientSecret: 's', scopes: [], ...input },
    });
  };

  it('refuses loopback, private and link-local addresses unless the operator allows them', async () => {
    const metadata = await listening((_req, res) => res.end('{}'));
    servers.push(metadata.server);
    for (const issuer of [`http://127.0.0.1:${metadata.port}`, `http://localhost:${metadata.port}`, 'https://169.254.169.254', 'https://10.0.0.5', 'https://[fd00::1]']) {
      const refused = await save(t, { issuer });
      expect(refused.body.errors?.[0].extensions, issuer).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_LINK_PROVIDER' });
      expect(refused.body.errors?.[0].message).toContain('public address');
    }
    const endpoints = { authorizationEndpoint: 'https://provider.example/authorize', tokenEndpoint: 'https://10.1.1.1/token', userinfoEndpoint: 'https://provider.example/me' };
    expect((await save(t, endpoints)).body.errors?.[0].extensions.subCode).toBe('INVALID_LINK_PROVIDER');
    expect(metadata.hits).toEqual([]);
  });

  it('gives one error for every unreachable issuer: a closed port, an open one that is not a provider, a redirect', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    const notHttp = net.createServer((socket) => socket.end('220 smtp.example ESMTP\r\n'));
    notHttp.listen(0, '127.0.0.1');
    await once(notHttp, 'listening');
    const web = await listening((_req, res) => res.writeHead(404).end('not here'));
    const inside = await listening((_req, res) => res.end('{}'));
    const redirect = await listening((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/` }).end());
    servers.push(notHttp, web.server, inside.server, redirect.server);
    const issuers = [closedPort, (notHttp.address() as AddressInfo).port, web.port, redirect.port].map((port) => `http://127.0.0.1:${port}`);
    const errors = [];
    for (const issuer of issuers) {
      const refused = await save(open, { issuer });
      const error = refused.body.errors?.[0];
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'PROVIDER_UNREACHABLE' });
      errors.push(error!.message.replace(issuer, 'ISSUER'));
    }
    expect(new Set(errors).size).toBe(1);
    expect(inside.hits).toEqual([]);
  });
});
