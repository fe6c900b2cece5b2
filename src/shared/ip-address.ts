// IP addresses and CIDR ranges (PRODUCT §7): one normalised spelling, ranges with host bits
// refused, and matching that keeps IPv4 and IPv6 apart. Validation is node:net's (strict: no
// leading zeros, no short forms); arithmetic and matching are ipaddr.js's.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A validated CIDR range: `network` is a normalised address with no host bits set. */
export type Subnet = { family: 4 | 6; network: string; prefix: number; cidr: string };

const PREFIX_LENGTH = /^(0|[1-9][0-9]{0,2})$/;

/**
 * The address in one spelling, or null when it is not an IP address: IPv4 dotted as given (Node
 * already rejects leading zeros), IPv4-mapped IPv6 (`::ffff:1.2.3.4`, `::FFFF:102:304`) as plain
 * IPv4, other IPv6 in the lowercase compressed form of RFC 5952. A zone (`fe80::1%eth0`) is dropped:
 * rules cannot name one. Whitespace, ports and brackets make it not an address.
 */
export function normalizeAddress(addr: string): string | null {
  const family = isIP(addr);
  if (family === 4) return addr;
  if (family !== 6) return null;
  const zone = addr.indexOf('%');
  let canonical: string;
  try {
    // The WHATWG URL serializer prints IPv6 hosts in RFC 5952 form.
    canonical = new URL(`http://[${zone === -1 ? addr : addr.slice(0, zone)}]`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  // Parsed from the canonical text, which has no dotted tail: ipaddr.js reads `::1.2.3.4` (an
  // IPv4-compatible address) as the mapped `::ffff:1.2.3.4`, which would make it IPv4.
  const parsed = ipaddr.IPv6.parse(canonical);
  return parsed.isIPv4MappedAddress() ? parsed.toIPv4Address().toString() : canonical;
}

/**
 * Parses `address/prefix` or a bare address (a /32 or /128). Host bits set are rejected, as
 * PostgreSQL's `cidr` type does: `10.1.2.3/8` is more likely a typo than a wish for `10.0.0.0/8`.
 * IPv4-mapped ranges (`::ffff:10.0.0.0/104`) become IPv4 ranges (`10.0.0.0/8`).
 * The error completes a sentence that starts with the input: `"10.1.2.3/8" has host bits set …`.
 */
export function parseSubnet(input: string): Subnet | { error: string } {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = addressText.includes('%') ? null : normalizeAddress(addressText);
  if (address === null) return { error: 'is not an IP address or CIDR range' };
  const family = isIP(address) as 4 | 6;
  const width = family === 4 ? 32 : 128;
  let prefix = width;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!PREFIX_LENGTH.test(prefixText)) return { error: 'has an invalid prefix length' };
    prefix = Number(prefixText);
    if (family === 4 && isIP(addressText) === 6) {
      if (prefix < 96 || prefix > 128) return { error: 'is an IPv4-mapped range, whose prefix length must be 96 to 128' };
      prefix -= 96;
    }
    if (prefix > width) return { error: `has a prefix length above ${width}` };
  }
  const network = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`).toString() : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`).toRFC5952String();
  if (network !== address) return { error: `has host bits set; the network is ${network}/${prefix}` };
  return { family, network: address, prefix, cidr: `${address}/${prefix}` };
}

/**
 * A membership test over subnets. The address is normalised first, so a mapped IPv4 address
 * matches IPv4 subnets; otherwise IPv4 matches only IPv4 subnets and IPv6 only IPv6 ones (`::/0`
 * admits no IPv4 address).
 */
export function subnetMatcher(subnets: readonly Subnet[]): (address: string) => boolean {
  const ranges = subnets.map((subnet) => ({ family: subnet.family, range: [ipaddr.parse(subnet.network), subnet.prefix] as [ipaddr.IPv4 | ipaddr.IPv6, number] }));
  return (address) => {
    const normal = normalizeAddress(address);
    if (normal === null) return false;
    const family = isIP(normal);
    const parsed = ipaddr.parse(normal);
    return ranges.some((r) => r.family === family && parsed.match(r.range));
  };
}

/** A host name or address only this machine can reach: localhost or a loopback address (bracketed or not). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  const address = normalizeAddress(bare);
  return address !== null && ipaddr.parse(address).range() === 'loopback';
}
