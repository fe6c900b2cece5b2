// The OAuth clients that are part of the product (PRODUCT §5–6). Connections are confidential
// clients registered by the operator; these are the public ones, with their redirect rules.
import { CLI_CLIENT_ID } from '../session/caller.ts';

export interface PublicClient {
  id: string;
  /** Whether the organisation's CLI permission settings bound what it may be granted. */
  governedByCliSettings: boolean;
  acceptsRedirect(redirectUri: string): boolean;
}

// A loopback redirect (RFC 8252 §7.3) on any port, the path exactly /callback, nothing else.
const LOOPBACK_REDIRECT = /^http:\/\/(?:127\.0\.0\.1|\[::1\]):([1-9][0-9]{0,4})\/callback$/;

export function isLoopbackRedirect(uri: string): boolean {
  const port = LOOPBACK_REDIRECT.exec(uri)?.[1];
  return port !== undefined && Number(port) <= 65535;
}

export const PUBLIC_CLIENTS: ReadonlyMap<string, PublicClient> = new Map([
  [CLI_CLIENT_ID, { id: CLI_CLIENT_ID, governedByCliSettings: true, acceptsRedirect: isLoopbackRedirect }],
]);
