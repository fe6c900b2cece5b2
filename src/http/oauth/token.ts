// The token endpoint: authorization code with PKCE, refresh, device code and client credentials (RFC 6749 §3.2, RFC 7636, RFC 8628 §3.4).
import type { SignedIn } from '../../modules/session/session.service.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import { CODE_VERIFIER } from '../../modules/oauth/pkce.ts';
import { authenticateClient } from './client-auth.ts';
import { json, type OAuthRouteDeps, readForm, single } from './oauth-http.ts';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_GRANT, 'client_credentials'];

export async function tokenEndpoint(deps: OAuthRouteDeps, request: Request, address: string | undefined): Promise<Response> {
  const form = await readForm(request);
  const grantType = single(form, 'grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is missing.');
  if (!GRANT_TYPES.includes(grantType)) throw new OAuthError('unsupported_grant_type', `Unsupported grant_type ${grantType}.`);
  const client = await authenticateClient(deps, request, form);
  if (client.kind === 'connection') {
    if (grantType !== 'client_credentials') throw new OAuthError('unauthorized_client', 'Connections use the client_credentials grant.');
    return tokenResponse(deps, await deps.oauth.clientCredentials(client.connection));
  }
  const required = (name: string) => {
    const value = single(form, name);
    if (!value) throw new OAuthError('invalid_request', `${name} is missing.`);
    return value;
  };
  switch (grantType) {
    case 'authorization_code': {
      const codeVerifier = required('code_verifier');
      if (!CODE_VERIFIER.test(codeVerifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.');
      return tokenResponse(deps, await deps.oauth.exchangeCode({ code: required('code'), redirectUri: required('redirect_uri'), codeVerifier, client: client.client, address }));
    }
    case 'refresh_token':
      return tokenResponse(deps, await deps.oauth.refresh(required('refresh_token'), client.client, address));
    case DEVICE_GRANT:
      return tokenResponse(deps, await deps.oauth.pollDevice(required('device_code'), client.client, address));
    default:
      throw new OAuthError('unauthorized_client', `${client.client.id} is a public client and may not use ${grantType}.`);
  }
}

function tokenResponse(deps: OAuthRouteDeps, issued: { accessToken: string; scopes: string[]; refreshToken?: string } | SignedIn): Response {
  return json(200, {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    expires_in: deps.accessTokenSeconds,
    ...('refreshToken' in issued && issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
    ...(issued.scopes.length > 0 ? { scope: issued.scopes.join(' ') } : {}),
  });
}
