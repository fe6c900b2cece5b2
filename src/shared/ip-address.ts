// IP addresses and CIDR ranges: one normalised spelling, parsing with host bits refused, and
// matching through node:net BlockList (PRODUCT §7).
import { BlockList, isIP } from 'node:net';

/** A validated CIDR range: `network` is a normalised address with no host bits set. */
export type Subnet = { family: 4 | 6; network: string; prefix: number; cidr: string };


const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
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
  const mapped = MAPPED_IPV4.exec(canonical);
  if (mapped === null) return canonical;
  const high = parseInt(mapped[1], 16);
  const low = parseInt(mapped[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

const COLON = 58;
const DOT = 46;

/**
 * The value of a dotted-quad IPv4 address in text[start, end), or null when it is not one
 * (four decimal parts of 0 to 255 without leading zeros, as node:net accepts).
 */
export function ipv4Number(text: string, start = 0, end = text.length): number | null {
  let value = 0;
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text.charCodeAt(i) !== DOT) return null;
      i++;
    }
    const first = i;
    let octet = 0;
    while (i < end && i - first < 4) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      octet = octet * 10 + digit;
      i++;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return null;
    value = value * 256 + octet;
  }
  return i === end ? value : null;
}

/**
 * The eight 16-bit groups of the IPv6 address in text[start, end), or null when it is not one:
 * RFC 4291 text with at most one `::` and an optional dotted IPv4 tail; no zone, no brackets.
 * A character loop, because the country database parses 700,000 of them.
 */
export function ipv6Groups(text: string, start = 0, end = text.length): number[] | null {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  let count = 0;
  let gap = -1;
  let i = start;
  if (end - start >= 2 && text.charCodeAt(i) === COLON && text.charCodeAt(i + 1) === COLON) {
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (count === 8) return null;
    const first = i;
    let group = 0;
    while (i < end && i - first < 5) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0) break;
      group = group * 16 + digit;
      i++;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      const tail = ipv4Number(text, first, end);
      if (tail === null || count > 6) return null;
      groups[count++] = Math.floor(tail / 65536);
      groups[count++] = tail % 65536;
      break;
    }
    const digits = i - first;
    if (digits === 0 || digits > 4) return null;
    groups[count++] = group;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return null;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap !== -1) return null;
      gap = count;
      i++;
    } else if (i === end) {
      return null;
    }
  }
  if (gap === -1) return count === 8 ? groups : null;
  if (count > 7) return null;
  // Move the groups after `::` to the end; the zeros it stands for are left in between.
  const shift = 8 - count;
  for (let k = count - 1; k >= gap; k--) {
    groups[k + shift] = groups[k];
    groups[k] = 0;
  }
  return groups;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function ipv4Groups(address: string): number[] {
  const value = ipv4Number(address)!;
  return [Math.floor(value / 65536), value % 65536];
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
  const groups = family === 4 ? ipv4Groups(address) : ipv6Groups(address)!;
  const network = groups.map((group, i) => group & maskOf(prefix - 16 * i));
  if (network.some((group, i) => group !== groups[i])) {
    return { error: `has host bits set; the network is ${formatGroups(family, network)}/${prefix}` };
  }
  return { family, network: address, prefix, cidr: `${address}/${prefix}` };
}

function maskOf(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 16) return 0xffff;
  return (0xffff << (16 - bits)) & 0xffff;
}

function formatGroups(family: 4 | 6, groups: number[]): string {
  if (family === 4) return `${groups[0] >> 8}.${groups[0] & 255}.${groups[1] >> 8}.${groups[1] & 255}`;
  return normalizeAddress(groups.map((group) => group.toString(16)).join(':'))!;
}

/**
 * A membership test over subnets for normalised addresses. One BlockList per family: Node's
 * BlockList lets an IPv6 `::/0` rule match IPv4 addresses, and here IPv4 only matches IPv4 rules.
 */
export function subnetMatcher(subnets: readonly Subnet[]): (address: string) => boolean {
  const ipv4 = new BlockList();
  const ipv6 = new BlockList();
  for (const subnet of subnets) {
    if (subnet.family === 4) ipv4.addSubnet(subnet.network, subnet.prefix, 'ipv4');
    else ipv6.addSubnet(subnet.network, subnet.prefix, 'ipv6');
  }
  return (address) => {
    const family = isIP(address);
    if (family === 4) return ipv4.check(address, 'ipv4');
    if (family === 6) return ipv6.check(address, 'ipv6');
    return false;
  };
}

/** A host name or address only this machine can reach: localhost, 127.0.0.0/8, ::1 (bracketed or not). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
