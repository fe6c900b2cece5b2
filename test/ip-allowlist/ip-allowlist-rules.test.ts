import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countryLookupFromRows, ipv6Groups, loadCountryDatabase, type CountryLookup } from '../../src/modules/ip-allowlist/country-lookup.ts';
import { normalizeAddress } from '../../src/shared/ip-address.ts';
import { compileAllowlist, isCountryCode, parseCidr } from '../../src/modules/ip-allowlist/ip-allowlist-rules.ts';

// The fixtures have the package's format; the IPv6 one has CRLF line ends.
const fixtures = {
  ipv4: fileURLToPath(new URL('../fixtures/country-ipv4.csv', import.meta.url)),
  ipv6: fileURLToPath(new URL('../fixtures/country-ipv6.csv', import.meta.url)),
};

const noCountries: CountryLookup = {
  country() {
    throw new Error('the country database is not consulted without location rules');
  },
};

function allow(cidrs: string[], locations: string[] = [], countries: CountryLookup = noCountries) {
  return compileAllowlist({ rules: cidrs.map((cidr) => ({ cidr })), locations }, countries);
}

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    [' 10.0.0.0/8 ', '10.0.0.0/8'],
    ['10.0.0.1', '10.0.0.1/32'],
    ['10.0.0.1/32', '10.0.0.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:0db8:0000:0000:0000:0000:0000:0000/32', '2001:db8::/32'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:1.2.3.4', '1.2.3.4/32'],
    ['::FFFF:102:304/128', '1.2.3.4/32'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
  ])('reads %s as %s', (input, cidr) => {
    expect(parseCidr(input)).toEqual({ cidr });
  });

  it.each([
    '',
    'garbage',
    '/8',
    '10.0.0.0/',
    '10.0.0.0/33',
    '10.0.0.0/-1',
    '10.0.0.0/08',
    '10.0.0.0/+8',
    '10.0.0.0/ 8',
    '10.0.0.0/8/8',
    '10.0.0.1/8',
    '11.0.0.0/7',
    '10.0.0',
    '010.0.0.0/8',
    '::/129',
    '2001:db8::1/64',
    '::ffff:10.0.0.0/95',
    '::ffff:10.0.0.0/129',
    '::ffff:10.0.0.1/104',
    'fe80::/10%eth0',
    'fe80::1%eth0',
    '[2001:db8::]/32',
    '10.0.0.0:80/8',
  ])('rejects %j', (input) => {
    expect(parseCidr(input)).toBeNull();
  });
});

describe('isCountryCode', () => {
  it('accepts two upper-case letters only', () => {
    expect(['US', 'DE', 'GB'].map(isCountryCode)).toEqual([true, true, true]);
    expect(['us', 'U', 'USA', 'U1', '', ' US'].map(isCountryCode)).toEqual([false, false, false, false, false, false]);
  });
});

describe('compileAllowlist', () => {
  it('admits every IPv4 address under 0.0.0.0/0 and no IPv6 one', () => {
    const matches = allow(['0.0.0.0/0']);
    expect(['0.0.0.0', '203.0.113.7', '255.255.255.255', '::ffff:203.0.113.7'].map(matches)).toEqual([true, true, true, true]);
    expect(['::1', '2001:db8::1', '::'].map(matches)).toEqual([false, false, false]);
  });

  it('admits every IPv6 address under ::/0 and no IPv4 one', () => {
    const matches = allow(['::/0']);
    expect(['::', '::1', '2001:db8::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'].map(matches)).toEqual([true, true, true, true]);
    expect(['203.0.113.7', '::ffff:203.0.113.7', '0.0.0.0'].map(matches)).toEqual([false, false, false]);
  });

  it('admits only the host of an IPv4 /32', () => {
    const matches = allow(['203.0.113.7/32']);
    expect(['203.0.113.6', '203.0.113.7', '203.0.113.8'].map(matches)).toEqual([false, true, false]);
  });

  it('admits only the host of an IPv6 /128', () => {
    const matches = allow(['2001:db8::7/128']);
    expect(['2001:db8::6', '2001:DB8:0:0::7', '2001:db8::8', '2001:db8::7:0'].map(matches)).toEqual([false, true, false, false]);
  });

  it('admits a range up to its edges', () => {
    const matches = allow(['198.51.100.0/24', '2001:db8:100::/48']);
    expect(['198.51.99.255', '198.51.100.0', '198.51.100.255', '198.51.101.0'].map(matches)).toEqual([false, true, true, false]);
    expect(['2001:db8:ff:ffff:ffff:ffff:ffff:ffff', '2001:db8:100::', '2001:db8:100:ffff:ffff:ffff:ffff:ffff', '2001:db8:101::'].map(matches)).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  it('matches mapped IPv4 addresses against IPv4 rules', () => {
    const matches = allow(['203.0.113.0/24']);
    expect(['::ffff:203.0.113.7', '::FFFF:203.0.113.7', '::ffff:cb00:7107', '0:0:0:0:0:ffff:cb00:71ff'].map(matches)).toEqual([true, true, true, true]);
    expect(['::ffff:203.0.114.1', '::203.0.113.7', '64:ff9b::203.0.113.7'].map(matches)).toEqual([false, false, false]);
  });

  it('matches IPv4 addresses against a rule written as a mapped range', () => {
    const matches = allow(['::ffff:203.0.113.0/120']);
    expect(['203.0.113.7', '203.0.114.7'].map(matches)).toEqual([true, false]);
  });

  it('matches nothing for an address that cannot be parsed', () => {
    const matches = allow(['0.0.0.0/0', '::/0'], ['US'], countryLookupFromRows([['0.0.0.0', '255.255.255.255', 'US']]));
    expect(['', 'garbage', '203.0.113.7:80', '[::1]', ' 203.0.113.7', 'unknown'].map(matches)).toEqual([false, false, false, false, false, false]);
  });

  it('admits nothing without rules or locations', () => {
    const matches = allow([]);
    expect(['203.0.113.7', '::1'].map(matches)).toEqual([false, false]);
  });

  it('throws on a stored rule or location that is not valid', () => {
    expect(() => allow(['10.0.0.1/8'])).toThrow('Allowlist rule "10.0.0.1/8" has host bits set; the network is 10.0.0.0/8.');
    expect(() => allow([], ['us'])).toThrow('Allowlist location "us" is not an ISO 3166-1 alpha-2 country code.');
  });

  describe('with a country database read from fixture files', () => {
    const countries = loadCountryDatabase(fixtures);

    it('admits an address of an allowed country', () => {
      const matches = allow([], ['US', 'DE'], countries);
      expect(matches('8.8.8.8')).toBe(true);
      expect(matches('::ffff:8.8.8.8')).toBe(true);
      expect(matches('2001:db8:1234::1')).toBe(true);
    });

    it('refuses an address of another country or of none', () => {
      const matches = allow([], ['US', 'DE'], countries);
      expect(matches('1.0.0.1')).toBe(false);
      expect(matches('2a00:1450::1')).toBe(false);
      expect(matches('192.0.2.1')).toBe(false);
      expect(matches('2001:db9::1')).toBe(false);
    });

    it('admits an address in a CIDR rule whatever its country', () => {
      const matches = allow(['1.0.0.0/24'], ['US'], countries);
      expect(['1.0.0.1', '8.8.8.8', '81.2.69.1'].map(matches)).toEqual([true, true, false]);
    });
  });
});

describe('country lookup', () => {
  it('reads any spelling of an IPv6 address as its eight groups', () => {
    const spellings = (groups: number[]) => {
      const full = groups.map((g) => g.toString(16)).join(':');
      const normal = normalizeAddress(full)!;
      // An IPv4-mapped address (::ffff:a.b.c.d) normalises to its IPv4 form, not an IPv6 spelling.
      return [full, full.toUpperCase(), ...(normal.includes('.') ? [] : [normal]), groups.map((g) => g.toString(16).padStart(4, '0')).join(':')];
    };
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        for (const spelling of spellings(groups)) expect(ipv6Groups(spelling)).toEqual(groups);
      }),
    );
  });

  it('answers inclusive ranges up to their edges', () => {
    const countries = loadCountryDatabase(fixtures);
    expect(['8.8.7.255', '8.8.8.0', '8.8.8.255', '8.8.9.0'].map((a) => countries.country(a))).toEqual([null, 'US', 'US', null]);
    expect(['203.0.113.127', '203.0.113.128'].map((a) => countries.country(a))).toEqual(['NZ', 'AU']);
    expect(['0.0.0.0', '255.255.255.255'].map((a) => countries.country(a))).toEqual([null, null]);
    expect(['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::'].map((a) => countries.country(a))).toEqual([
      null,
      'DE',
      'DE',
      null,
    ]);
    expect(['::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'garbage'].map((a) => countries.country(a))).toEqual([null, null, null]);
  });

  it('reads nothing until the first lookup of each family', () => {
    const countries = loadCountryDatabase({ ipv4: fixtures.ipv4, ipv6: '/nonexistent/country-ipv6.csv' });
    expect(countries.country('8.8.8.8')).toBe('US');
    expect(() => countries.country('2001:db8::1')).toThrow(/nonexistent/);
  });

  it('sorts rows given in any order', () => {
    const countries = countryLookupFromRows([
      ['2001:db8:8000::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'FR'],
      ['10.0.2.0', '10.0.2.255', 'GB'],
      ['10.0.0.0', '10.0.0.255', 'US'],
      ['2001:db8::', '2001:db8:7fff:ffff:ffff:ffff:ffff:ffff', 'DE'],
    ]);
    expect(['10.0.0.9', '10.0.1.9', '10.0.2.9'].map((a) => countries.country(a))).toEqual(['US', null, 'GB']);
    expect(['2001:db8::1', '2001:db8:8000::1'].map((a) => countries.country(a))).toEqual(['DE', 'FR']);
  });

  it('rejects overlapping, reversed and malformed rows', () => {
    expect(() =>
      countryLookupFromRows([
        ['10.0.0.0', '10.0.1.255', 'US'],
        ['10.0.1.0', '10.0.2.255', 'GB'],
      ]),
    ).toThrow(/overlap/);
    expect(() => countryLookupFromRows([['10.0.1.0', '10.0.0.0', 'US']])).toThrow('Row 1 "10.0.1.0,10.0.0.0,US" ends before it starts.');
    expect(() => countryLookupFromRows([['10.0.0.0', '10.0.0.255', 'us']])).toThrow(/two-letter country code/);
    expect(() => countryLookupFromRows([['10.0.0.0', '2001:db8::', 'US']])).toThrow(/not a range of IPv4 addresses/);
  });

  it('resolves well-known addresses with the shipped DB-IP database', () => {
    const countries = loadCountryDatabase();
    expect(countries.country('8.8.8.8')).toBe('US');
    expect(countries.country('81.2.69.142')).toBe('GB');
    expect(countries.country('10.0.0.1')).toBeNull();
    expect(countries.country('2a00:1450:4001::200e')).toMatch(/^[A-Z]{2}$/);
  });
});
