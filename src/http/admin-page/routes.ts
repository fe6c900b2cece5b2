// The admin page (PRODUCT §11, issue 7): a static HTML shell, hand-written ES modules and a style
// sheet from static/, with a CSP that lets only this server's scripts and style run and only this
// server be fetched. All it shows comes from the public GraphQL API and GET /admin/audit/export,
// signed in as teamgraph-admin; /admin/callback is where the OAuth login page sends the browser back.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Pages } from '../router.ts';

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  etag: string;
}

const STATIC = new URL('./static/', import.meta.url);
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function asset(file: string, type: string): Asset {
  const body = readFileSync(new URL(file, STATIC));
  return { body, gzipped: gzipSync(body, { level: 9 }), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const SHELL = asset('admin-page.html', 'text/html; charset=utf-8');
const ASSETS = new Map<string, Asset>([
  ['/admin', SHELL],
  ['/admin/callback', SHELL],
]);
// Every script, style sheet and image in static/ is served under its own name; the shell only at
// the two paths above, and any other file not at all.
for (const entry of readdirSync(STATIC, { withFileTypes: true })) {
  const type = TYPES[extname(entry.name)];
  if (entry.isFile() && type) ASSETS.set(`/admin/${entry.name}`, asset(entry.name, type));
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // /admin/callback carries the authorization code in its query: never send it on.
  'referrer-policy': 'no-referrer',
};

/** The handler for an admin page path, or undefined when the path is not one. */
export function adminPageRoutes(): Pages {
  return (pathname) => {
    const file = ASSETS.get(pathname);
    if (!file) return undefined;
    return async (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
      // The shell is never cached (it may carry a code); scripts, style and icon are revalidated by ETag.
      const caching: Record<string, string> = file === SHELL ? { 'cache-control': 'no-store' } : { 'cache-control': 'no-cache', etag: file.etag };
      if (file !== SHELL && request.headers.get('if-none-match') === file.etag) return new Response(null, { status: 304, headers: { ...caching, ...SECURITY_HEADERS } });
      const gzip = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
      const headers: Record<string, string> = { 'content-type': file.type, vary: 'accept-encoding', ...caching, ...SECURITY_HEADERS, ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(gzip ? file.gzipped : file.body), { headers });
    };
  };
}
