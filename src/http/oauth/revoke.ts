// The revocation endpoint (RFC 7009).
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import { authenticateClient } from './client-auth.ts';
import { type OAuthRouteDeps, readForm, single } from './oauth-http.ts';

export async function revocation(deps: OAuthRouteDeps, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(deps, request, form);
  const token = single(form, 'token');
  if (!token) throw new OAuthError('invalid_request', 'token is missing.');
  await deps.oauth.revoke(token, client.kind === 'public' ? client.client.id : client.connection.client_id);
  // RFC 7009 §2.2: 200 whether or not the token was known.
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}
