// Owns the client address (PRODUCT §7): the walk through trusted proxies' X-Forwarded-For.
import { normalizeAddress, parseSubnet, subnetMatcher } from '../shared/ip-address.ts';

export interface TrustedProxies {
  /** Canonical CIDR ranges, for logs. */
  readonly subnets: readonly string[];
  /** Whether a normalised address (see normalizeAddress) belongs to a trusted proxy. */
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
 * PRODUCT §7, with the semantics of the proxy-addr package: start at the socket peer; while the
 * current address is a trusted proxy, step to the next X-Forwarded-For entry from the right. The
 * answer is the first untrusted address, or the left-most entry when every hop is trusted. An
 * untrusted peer's header is ignored, so it cannot be spoofed. `forwardedFor` is `Headers.get`'s
 * value, which joins several headers with ", ".
 * Unlike proxy-addr, a malformed entry met on the walk (garbage, empty, with a port or brackets)
 * answers the peer itself: a trusted proxy wrote it, so the chain cannot be read any further. An
 * entry left of the first untrusted hop is never read, so a client cannot trigger this.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trusted: TrustedProxies): string | undefined {
  const socket = peer === undefined ? null : normalizeAddress(peer);
  if (socket === null) return undefined;
  if (!forwardedFor || !trusted.has(socket)) return socket;
  const hops = forwardedFor.split(',');
  let address = socket;
  for (let i = hops.length - 1; i >= 0 && trusted.has(address); i--) {
    const hop = normalizeAddress(hops[i].trim());
    if (hop === null) return socket;
    address = hop;
  }
  return address;
}
