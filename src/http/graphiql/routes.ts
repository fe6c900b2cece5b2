// GraphiQL at /graphql (issue 19): the page, with its options in a JSON data block and, without a
// token to offer, how to get one; and its scripts, style and Monaco's workers under /graphiql/,
// all from this server (the bundle is the npm package @graphql-yoga/render-graphiql, read on first
// use), so it works without internet under a CSP that runs only this server's scripts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { escape } from '../pages.ts';
import type { Pages } from '../router.ts';

export interface GraphiqlOptions {
  /** Headers the Headers tab opens with (the demo's bearer token); asked at every page load, since they may exist only after the app is built. */
  headers?: () => Record<string, string> | undefined;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  gzipped?: Promise<Buffer>;
}

const gzipped = promisify(gzip);

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

// Monaco writes <style> elements and style attributes as it runs and takes no nonce, so styles may
// be inline; scripts may not. Its fonts and icons are data: URLs in graphiql.css.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; font-src data:; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const TITLE = 'teamgraph GraphiQL';
const TOKEN_COMMAND = 'npm run --silent admin -- token --account <account id>';

const DEFAULT_QUERY = `# Every request needs a bearer token, sent from the Headers tab below as
#   {"Authorization": "Bearer <token>"}
# An operator issues one with: ${TOKEN_COMMAND}
{
  viewer {
    account { email displayName }
    grantedPermissions
  }
  objects(first: 10) {
    edges { node { id type displayName container { displayName } } }
  }
}
`;

const STATIC = new URL('./static/', import.meta.url);

function asset(body: string | Buffer, type: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"` };
}

const OWN = new Map<string, Asset>([
  ['/graphiql/start.js', asset(readFileSync(new URL('graphiql-start.js', STATIC)), JS)],
  ['/graphiql/page.css', asset(readFileSync(new URL('graphiql-page.css', STATIC)), CSS)],
]);

// The bundle is about 9 MB of JavaScript strings: read (and gzipped) only once a browser asks.
// Each path names the package's export; the workers are named by the labels Monaco asks
// graphiql-start.js for.
const BUNDLED = {
  '/graphiql/graphiql.js': ['js', JS],
  '/graphiql/graphiql.css': ['css', CSS],
  '/graphiql/editorWorkerService.worker.js': ['editorWorkerService', JS],
  '/graphiql/json.worker.js': ['jsonWorker', JS],
  '/graphiql/graphql.worker.js': ['graphqlWorker', JS],
} as const;
let bundled: Promise<Map<string, Asset>> | null = null;
const bundle = () =>
  (bundled ??= import('@graphql-yoga/render-graphiql/graphiql').then(
    (exports) => new Map(Object.entries(BUNDLED).map(([path, [name, type]]) => [path, asset(exports[name], type)])),
  ));

const NOTICE = `<p id="token-notice" class="token-notice">Every request needs a bearer token. An operator issues one with <code>${escape(TOKEN_COMMAND)}</code>; paste <code>{"Authorization": "Bearer &lt;accessToken&gt;"}</code> into the <strong>Headers</strong> tab below, and the Docs load.</p>`;

function pageHtml(headers: Record<string, string> | undefined): string {
  const options = { title: TITLE, defaultQuery: DEFAULT_QUERY, ...(headers ? { headers: JSON.stringify(headers, null, 2) } : {}) };
  // A data block is never run, so the CSP allows it; `<` escaped, it cannot end the element.
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${TITLE}</title>
<link rel="icon" href="/admin/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/graphiql/graphiql.css"><link rel="stylesheet" href="/graphiql/page.css"></head>
<body class="no-focus-outline">${headers ? '' : NOTICE}<div id="root"><p class="loading">Loading GraphiQL…</p><noscript><p>GraphiQL needs JavaScript.</p></noscript></div>
<script type="application/json" id="graphiql-options">${json}</script><script src="/graphiql/start.js"></script><script src="/graphiql/graphiql.js"></script></body></html>`;
}

async function serve(request: Request, file: Asset): Promise<Response> {
  if (request.headers.get('if-none-match') === file.etag) return new Response(null, { status: 304, headers: { 'cache-control': 'no-cache', etag: file.etag, ...SECURITY_HEADERS } });
  const compress = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
  const body = compress ? await (file.gzipped ??= gzipped(file.body, { level: 9 })) : file.body;
  const headers = { 'content-type': file.type, vary: 'accept-encoding', 'cache-control': 'no-cache', etag: file.etag, ...SECURITY_HEADERS, ...(compress ? { 'content-encoding': 'gzip' } : {}) };
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { headers });
}

const methodNotAllowed = () => new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });

export function graphiqlRoutes(options: GraphiqlOptions = {}) {
  /** The page, for a browser's GET of /graphql; not cached, since it may carry a token. */
  const page = (): Response =>
    new Response(pageHtml(options.headers?.()), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS } });

  const assets: Pages = (pathname) => {
    if (!OWN.has(pathname) && !Object.hasOwn(BUNDLED, pathname)) return undefined;
    return async (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return methodNotAllowed();
      return serve(request, OWN.get(pathname) ?? (await bundle()).get(pathname)!);
    };
  };
  return { page, assets };
}
