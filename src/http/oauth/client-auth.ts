// Client authentication at the token, device authorization and revocation endpoints (RFC 6749 §2.3).
import { type PublicClient, PUBLIC_CLIENTS } from '../../modules/oauth/clients.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import type { ConnectionClient } from '../../modules/oauth/oauth.service.ts';
import { type OAuthRouteDeps, single } from './oauth-http.ts';

export const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];

export type AuthenticatedClient = { kind: 'public'; client: PublicClient } | { kind: 'connection'; connection: ConnectionClient };

/** client_secret_basic, client_secret_post, or a public client naming itself (RFC 6749 §2.3). */
export async function authenticateClient(deps: OAuthRouteDeps, request: Request, form: URLSearchParams): Promise<AuthenticatedClient> {
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (basic) {
    if (form.has('client_secret')) throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials.');
    const clientId = safeDecode(decoded.slice(0, colon));
    return { kind: 'connection', connection: await deps.oauth.authenticateConnection(clientId, safeDecode(decoded.slice(colon + 1))) };
  }
  const clientId = single(form, 'client_id');
  if (!clientId) throw new OAuthError('invalid_client', 'client_id is missing.');
  const secret = single(form, 'client_secret');
  if (secret !== null) {
    return { kind: 'connection', connection: await deps.oauth.authenticateConnection(clientId, secret) };
  }
  const client = PUBLIC_CLIENTS.get(clientId);
  if (!client) throw new OAuthError('invalid_client', 'Unknown client, or a confidential client without its secret.');
  return { kind: 'public', client };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new OAuthError('invalid_client', 'Malformed Basic credentials.');
  }
}
