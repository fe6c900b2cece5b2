// What the server sends for the admin page's paths, over app.fetch: the shell, its scripts and
// style, their headers and caching.
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const STATIC = new URL('../../src/http/admin-page/static/', import.meta.url);
const MODULES = readdirSync(STATIC).filter((file) => file.endsWith('.js'));
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => t.app.fetch(new Request(`http://teamgraph.test${path}`, { method, headers }));

describe('the admin page routes', () => {
  it('serves the same uncached shell at /admin and /admin/callback, loading only its own script and style', async () => {
    for (const path of ['/admin', '/admin/callback?code=x&state=y']) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toBe(CSP);
      const html = await response.text();
      expect(html).toContain('<script type="module" src="/admin/admin.js"></script>');
      expect([...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]).sort()).toEqual([
        '/admin/access.js',
        '/admin/admin.css',
        '/admin/admin.js',
        '/admin/allowlist.js',
        '/admin/audit.js',
        '/admin/auth.js',
        '/admin/dom.js',
        '/admin/favicon.svg',
        '/admin/keys.js',
        '/admin/people.js',
        '/admin/permissions.js',
        '/admin/router.js',
        '/admin/sessions.js',
        '/admin/streams.js',
      ]);
      expect(html).not.toMatch(/<script>|<style>| style=| on[a-z]+=/);
    }
  });

  it('serves the script gzipped when asked, revalidated by its ETag', async () => {
    const plain = await get('/admin/admin.js');
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await plain.text();
    expect(source).toContain("from './auth.js';");
    const gzipped = await get('/admin/admin.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gzipped.arrayBuffer())).toString('utf8')).toBe(source);
    const etag = plain.headers.get('etag')!;
    const again = await get('/admin/admin.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect((await get('/admin/admin.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('serves every module in static/ as a script, under the same CSP, revalidated by its ETag', async () => {
    expect(MODULES).toContain('admin.js');
    for (const file of MODULES) {
      const response = await get(`/admin/${file}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toBe(readFileSync(new URL(file, STATIC), 'utf8'));
      expect((await get(`/admin/${file}`, { 'if-none-match': response.headers.get('etag')! })).status).toBe(304);
    }
  });

  it('answers 405 to anything but GET and HEAD, and 404 to other paths under /admin', async () => {
    const post = await get('/admin', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await get('/admin/other.js')).status).toBe(404);
    // The shell only at /admin and /admin/callback, never cached under its file name.
    expect((await get('/admin/admin-page.html')).status).toBe(404);
  });
});
