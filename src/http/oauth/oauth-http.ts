// What the OAuth endpoints share over HTTP: their deps, form parsing, and JSON and error responses (RFC 6749 §3.1, §5.1, §5.2).
import { activeRequest } from '../../observability/request-scope.ts';
import type { Catalog } from '../../modules/cli-permission/catalog.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import type { OAuthService } from '../../modules/oauth/oauth.service.ts';
import type { FormGuard } from '../form-guard.ts';
import type { KnownDevices } from '../known-device.ts';

export interface OAuthRouteDeps {
  oauth: OAuthService;
  catalog: Catalog;
  accessTokenSeconds: number;
  /** The issuer: the configured public origin, never a request's Host (issue 15). */
  publicUrl: string;
  /** Refuses cross-site posts: the forms' tickets, the endpoints' Origin (issue 15). */
  forms: FormGuard;
  /** Browsers that signed in before (the password throttle lets them through a stranger's guessing). */
  devices: KnownDevices;
}

export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
  return new URLSearchParams(await request.text());
}

/** A parameter that must not repeat (RFC 6749 §3.1); null when absent. */
export function single(form: URLSearchParams, name: string): string | null {
  const values = form.getAll(name);
  if (values.length > 1) throw new OAuthError('invalid_request', `${name} is given more than once.`);
  return values[0] ?? null;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache', ...headers } });
}

export function oauthErrorResponse(error: OAuthError, request: Request): Response {
  const basic = /^Basic\s/i.test(request.headers.get('authorization') ?? '');
  const headers: Record<string, string> = error.status === 401 && basic ? { 'www-authenticate': 'Basic realm="teamgraph"' } : {};
  // RFC 6749 §5.2 lets an error answer carry more members: the request id, as every error body does (issue 19).
  const requestId = activeRequest()?.requestId;
  return json(error.status, { error: error.error, error_description: error.description, ...(requestId ? { request_id: requestId } : {}) }, headers);
}
