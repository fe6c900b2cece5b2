// The authorization server metadata document at /.well-known/oauth-authorization-server (RFC 8414).
import type { Catalog } from '../../modules/cli-permission/catalog.ts';
import { AUTH_METHODS } from './client-auth.ts';
import { GRANT_TYPES } from './token.ts';

export function metadata(issuer: string, catalog: Catalog) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    scopes_supported: catalog.permissions.map((p) => p.key),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: GRANT_TYPES,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    authorization_response_iss_parameter_supported: true,
  };
}
