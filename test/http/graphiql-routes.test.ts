// What the server sends for GraphiQL, over app.fetch: the page at /graphql with its options and
// CSP, with or without headers to offer, and the bundle, style and workers under /graphiql/.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let headers: Record<string, string> | undefined;
beforeAll(async () => {
  t = await startTestApp({ graphiqlHeaders: () => headers });
});
afterAll(() => t.close());

const CSP =
  "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; font-src data:; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const get = (path: string, requestHeaders: Record<string, string> = {}, method = 'GET') => t.app.fetch(new Request(`http://teamgraph.test${path}`, { method, headers: requestHeaders }));
const page = (path = '/graphql') => get(path, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
/** The notice's text, as a browser shows it; null without one. */
const noticeIn = (html: string) => {
  const inner = /<p id="token-notice"[^>]*>(.*?)<\/p>/s.exec(html)?.[1];
  return inner === undefined ? null : inner.replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))).replace(/&lt;/g, '<').replace(/&gt;/g, '>');
};
const optionsIn = (html: string) => JSON.parse(/<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(html)![1]);

describe('the GraphiQL page', () => {
  it('is served to a browser without a token, uncached, under the CSP, loading only this server’s scripts and style', async () => {
    headers = undefined;
    const response = await page();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBe(CSP);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();
    expect([...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]).sort()).toEqual(['/admin/favicon.svg', '/graphiql/graphiql.css', '/graphiql/graphiql.js', '/graphiql/page.css', '/graphiql/start.js']);
    // The one script without a src is a data block, which no browser runs.
    expect([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1].trim()).sort()).toEqual(['src="/graphiql/graphiql.js"', 'src="/graphiql/start.js"', 'type="application/json" id="graphiql-options"']);
    expect(html).not.toMatch(/<style>| style=| on[a-z]+=|https?:/);
  });

  it('opens at an address carrying a query, as GraphiQL’s own address for an edited query does, while a program’s GET still runs it', async () => {
    const browser = await page('/graphql?query=%7B__typename%7D');
    expect(browser.status).toBe(200);
    expect(await browser.text()).toContain('id="graphiql-options"');
    const program = await get('/graphql?query=%7B__typename%7D', { accept: 'application/json' });
    expect(program.status).toBe(401);
  });

  it('says how to get a token when the app has none to offer', async () => {
    headers = undefined;
    const html = await (await page()).text();
    expect(noticeIn(html)).toBe(
      'Every request needs a bearer token. An operator issues one with npm run --silent admin -- token --account <account id>; paste {"Authorization": "Bearer <accessToken>"} into the Headers tab below, and the Docs load.',
    );
    const options = optionsIn(html);
    expect(options.headers).toBeUndefined();
    expect(options.defaultQuery).toContain('npm run --silent admin -- token --account <account id>');
  });

  it('opens the Headers tab with the headers the app is given at that moment, which no markup in them can break out of', async () => {
    headers = { Authorization: 'Bearer first' };
    expect(optionsIn(await (await page()).text()).headers).toBe(JSON.stringify(headers, null, 2));
    headers = { Authorization: 'Bearer </script><script>alert(1)</script>' };
    const html = await (await page()).text();
    expect(html).not.toContain('<script>alert');
    expect(noticeIn(html)).toBeNull();
    expect(JSON.parse(optionsIn(html).headers)).toEqual(headers);
  });
});

describe('the GraphiQL assets', () => {
  const BUNDLED = ['/graphiql/graphiql.js', '/graphiql/editorWorkerService.worker.js', '/graphiql/json.worker.js', '/graphiql/graphql.worker.js'];

  it('serves the bundle and Monaco’s workers from the npm package as scripts, under the CSP, revalidated by their ETag', async () => {
    for (const path of [...BUNDLED, '/graphiql/start.js']) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('content-security-policy'), path).toBe(CSP);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('cache-control'), path).toBe('no-cache');
      expect((await response.arrayBuffer()).byteLength, path).toBeGreaterThan(1000);
      expect((await get(path, { 'if-none-match': response.headers.get('etag')! })).status, path).toBe(304);
    }
    for (const path of ['/graphiql/graphiql.css', '/graphiql/page.css']) expect((await get(path)).headers.get('content-type'), path).toBe('text/css; charset=utf-8');
  });

  it('sends the bundle gzipped when asked', async () => {
    const plain = await (await get('/graphiql/graphiql.js')).text();
    expect(plain).toContain('renderYogaGraphiQL');
    const gzipped = await get('/graphiql/graphiql.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    const body = Buffer.from(await gzipped.arrayBuffer());
    expect(body.length).toBeLessThan(plain.length / 3);
    expect(gunzipSync(body).toString('utf8')).toBe(plain);
  });

  it('answers 405 to anything but GET and HEAD, and 404 to other paths under /graphiql/', async () => {
    const post = await get('/graphiql/start.js', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/graphiql/graphiql.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get('/graphiql/other.js')).status).toBe(404);
    expect((await get('/graphiql/graphiql-start.js')).status).toBe(404);
  });
});
