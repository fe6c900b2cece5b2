// The HTTP edge under hostile requests (issue 15): whatever the request line and headers say,
// the answer comes from the app's error policy, never a stack trace, and the service's origin is
// the configured one, never the client's Host.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ serve: true });
});
afterAll(() => t.close());

/** A request sent with exactly this request target and Host (fetch would tidy both). */
function raw(method: string, target: string, host: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, connection: 'close' };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) });
    const request = http.request({ host: '127.0.0.1', port: Number(new URL(t.url).port), method, path: target, headers, setHost: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const STACK = /\bat .*\(.*:\d+:\d+\)|node:internal|src\/|node_modules/;

describe('the HTTP edge', () => {
  it('answers a malformed Host header from the app, not with a stack trace', async () => {
    for (const host of ['x:99999', '[::1', 'a b', '%zz', '']) {
      const answer = await raw('GET', '/healthz', host);
      expect(answer.status, host).toBeLessThan(500);
      expect(answer.body, host).not.toMatch(STACK);
    }
  });

  it('refuses a request target that is not a path with BAD_USER_INPUT', async () => {
    const answer = await raw('OPTIONS', '*', '127.0.0.1');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_REQUEST_TARGET' });
  });

  it('names the configured origin as the OAuth issuer whatever Host the request names', async () => {
    for (const target of ['/.well-known/oauth-authorization-server', 'http://evil.example/.well-known/oauth-authorization-server']) {
      const answer = await raw('GET', target, 'evil.example');
      expect(answer.status).toBe(200);
      const metadata = JSON.parse(answer.body);
      expect(metadata.issuer).toBe(t.url);
      expect(metadata.authorization_endpoint).toBe(`${t.url}/oauth/authorize`);
    }
    const device = await raw('POST', '/oauth/device_authorization', 'evil.example', 'client_id=twg-cli');
    expect(JSON.parse(device.body).verification_uri).toBe(`${t.url}/device`);
  });
});

describe('the public origin in the configuration', () => {
  it('is the listening address on loopback, and must be given on any other address', () => {
    expect(loadConfig({ HOST: '127.0.0.1' }).publicUrl).toBeUndefined();
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1');
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/TEAMGRAPH_PUBLIC_URL must be set when HOST is not a loopback address \(HOST=0\.0\.0\.0\)/);
    expect(loadConfig({ HOST: '0.0.0.0', TEAMGRAPH_PUBLIC_URL: 'https://Teamgraph.Example.com/' }).publicUrl).toBe('https://teamgraph.example.com');
    for (const bad of ['teamgraph.example.com', 'https://teamgraph.example.com/path', 'ftp://x', 'https://user@x']) {
      expect(() => loadConfig({ TEAMGRAPH_PUBLIC_URL: bad }), bad).toThrow(/TEAMGRAPH_PUBLIC_URL must be an origin/);
    }
  });
});
