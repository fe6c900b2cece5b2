// Owns the allowlist rules (PRODUCT §7): CIDR and country-code syntax, and the matcher that admits an address.
import { normalizeAddress, parseSubnet, subnetMatcher } from '../../shared/ip-address.ts';
import type { CountryLookup } from './country-lookup.ts';

/**
 * The canonical form of a CIDR rule (`10.0.0.0/8`, `2001:db8::/32`), or null when it is not one.
 * A bare address becomes a /32 or /128; IPv4-mapped ranges become IPv4 (`::ffff:10.0.0.0/104` is
 * `10.0.0.0/8`); host bits set (`10.1.2.3/8`) are rejected rather than silently widened.
 */
export function parseCidr(input: string): { cidr: string } | null {
  const subnet = parseSubnet(input);
  return 'error' in subnet ? null : { cidr: subnet.cidr };
}

/** An ISO 3166-1 alpha-2 code as the country database spells it: two upper-case letters. */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code);
}

/**
 * True when the address is in a CIDR rule or in a country of `locations`. Addresses are
 * normalised first, so an IPv4-mapped IPv6 address matches IPv4 rules; IPv6 rules never match
 * IPv4 addresses (allowing everyone takes both `0.0.0.0/0` and `::/0`). An address that is not
 * an IP matches nothing. The country database is consulted only when there are location rules.
 * Throws when a stored rule or location is invalid: refusing everyone beats guessing.
 */
export function compileAllowlist(
  allowlist: { rules: readonly { cidr: string }[]; locations: readonly string[] },
  countries: CountryLookup,
): (address: string) => boolean {
  const subnets = allowlist.rules.map(({ cidr }) => {
    const subnet = parseSubnet(cidr);
    if ('error' in subnet) throw new Error(`Allowlist rule "${cidr}" ${subnet.error}.`);
    return subnet;
  });
  for (const code of allowlist.locations) {
    if (!isCountryCode(code)) throw new Error(`Allowlist location "${code}" is not an ISO 3166-1 alpha-2 country code.`);
  }
  const inRules = subnetMatcher(subnets);
  const locations = new Set(allowlist.locations);
  return (address) => {
    const normalized = normalizeAddress(address);
    if (normalized === null) return false;
    if (inRules(normalized)) return true;
    if (locations.size === 0) return false;
    const country = countries.country(normalized);
    return country !== null && locations.has(country);
  };
}
