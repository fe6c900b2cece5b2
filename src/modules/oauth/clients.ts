// The OAuth clients that are part of the product (PRODUCT §5–6). Connections are confidential
// clients registered by the operator; these are the public ones, with their redirect rules.
import { ADMIN_CLIENT_ID, CLI_CLIENT_ID } from '../session/credentials/client-ids.ts';

export interface PublicClient {
  id: string;
  /** Whether the organisation's CLI permission settings bound what it may be granted. */
  governedByCliSettings: boolean;
  /** Only org admins may sign in to it (the admin page); it uses the authorization code flow only. */
  adminsOnly?: boolean;
  /** `issuer` is this server's origin (or TEAMGRAPH_PUBLIC_URL). */
  acceptsRedirect(redirectUri: string, issuer: string): boolean;
}

// A loopback redirect (RFC 8252 §7.3) on any port, the path exactly /callback, nothing else.
const LOOPBACK_REDIRECT = /^http:\/\/(?:127\.0\.0\.1|\[::1\]):([1-9][0-9]{0,4})\/callback$/;

export function isLoopbackRedirect(uri: string): boolean {
  const port = LOOPBACK_REDIRECT.exec(uri)?.[1];
  return port !== undefined && Number(port) <= 65535;
}

export const PUBLIC_CLIENTS: ReadonlyMap<string, PublicClient> = new Map<string, PublicClient>([
  [CLI_CLIENT_ID, { id: CLI_CLIENT_ID, governedByCliSettings: true, acceptsRedirect: isLoopbackRedirect }],
  // The admin page is served by this server: its code may only come back to it.
  [ADMIN_CLIENT_ID, { id: ADMIN_CLIENT_ID, governedByCliSettings: false, adminsOnly: true, acceptsRedirect: (uri, issuer) => uri === `${issuer}/admin/callback` }],
]);
