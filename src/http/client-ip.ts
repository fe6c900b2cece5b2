// Owns the client address (PRODUCT §7): the walk through trusted proxies' X-Forwarded-For.
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import { normalizeAddress, parseSubnet, subnetMatcher } from '../shared/ip-address.ts';

export interface TrustedProxies {
  /** Canonical CIDR ranges, for logs. */
  readonly subnets: readonly string[];
  /** Whether an address (normalised first, see normalizeAddress) belongs to a trusted proxy. */
  has(address: string): boolean;
}

/** Reads TEAMGRAPH_TRUSTED_PROXIES: IPs and CIDR ranges separated by commas or spaces; none by default. */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const subnets = (value ?? '')
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const subnet = parseSubnet(entry);
      if ('error' in subnet) throw new Error(`Trusted proxy "${entry}" ${subnet.error}.`);
      return subnet;
    });
  return { subnets: subnets.map((subnet) => subnet.cidr), has: subnetMatcher(subnets) };
}

/**
 * The client's address, normalised; undefined when the socket has none (closed, or not IP).
 * PRODUCT §7, walked by proxy-addr: start at the socket peer; while the current address is a
 * trusted proxy, step to the next X-Forwarded-For entry from the right. The answer is the first
 * untrusted address, or the left-most entry when every hop is trusted. An untrusted peer's header
 * is ignored, so it cannot be spoofed. `forwardedFor` is `Headers.get`'s value, which joins several
 * headers with ", ".
 * Trust is decided here, not by proxy-addr's own range matching, which lets an IPv6 range such as
 * `::/0` trust IPv4 peers. A malformed entry met on the walk (garbage, empty, with a port or
 * brackets) is never trusted, so the walk stops at it; then the peer itself is the answer: a
 * trusted proxy wrote the entry, so the chain cannot be read any further. An entry left of the
 * first untrusted hop is never read, so a client cannot trigger this.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trusted: TrustedProxies): string | undefined {
  const socket = peer === undefined ? null : normalizeAddress(peer);
  if (socket === null) return undefined;
  // Most requests come straight from the client: nothing to walk.
  if (!forwardedFor || !trusted.has(socket)) return socket;
  // proxy-addr's header parser skips empty entries and trims only spaces: each entry is trimmed
  // here (HTTP allows tabs), and an empty one made a word that is no address, so the walk stops at
  // it as at any malformed entry instead of reading what the client wrote left of it.
  const entries = forwardedFor.split(',').map((entry) => entry.trim() || 'empty');
  const request = { socket: { remoteAddress: socket }, headers: { 'x-forwarded-for': entries.join(',') } };
  const answer = proxyAddr(request as unknown as IncomingMessage, (address) => trusted.has(address));
  return normalizeAddress(answer) ?? socket;
}
