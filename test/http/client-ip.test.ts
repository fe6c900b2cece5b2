import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from '../../src/http/client-ip.ts';
import { normalizeAddress } from '../../src/shared/ip-address.ts';

const PROXIES = '10.0.0.0/8, 192.168.1.1 2001:db8::/32';

type Case = { name: string; peer: string | undefined; forwardedFor: string | null; trusted?: string; expected: string | undefined };

// PRODUCT §7: the socket's address, unless the peer is a trusted proxy; then the right-most untrusted hop.
const cases: Case[] = [
  { name: 'answers the peer when no proxy is trusted', peer: '10.0.0.1', forwardedFor: '203.0.113.7', trusted: '', expected: '10.0.0.1' },
  { name: 'answers an untrusted peer without a header', peer: '198.51.100.9', forwardedFor: null, expected: '198.51.100.9' },
  { name: 'ignores X-Forwarded-For from an untrusted peer', peer: '198.51.100.9', forwardedFor: '203.0.113.7', expected: '198.51.100.9' },
  { name: 'ignores a spoofed trusted-looking chain from an untrusted peer', peer: '198.51.100.9', forwardedFor: '203.0.113.7, 10.0.0.2', expected: '198.51.100.9' },
  { name: 'ignores garbage from an untrusted peer', peer: '198.51.100.9', forwardedFor: 'garbage, , 1.2.3.4:80', expected: '198.51.100.9' },
  { name: 'answers a trusted peer that sent no header', peer: '10.0.0.1', forwardedFor: null, expected: '10.0.0.1' },
  { name: 'answers a trusted peer whose header is empty', peer: '10.0.0.1', forwardedFor: '', expected: '10.0.0.1' },
  { name: 'takes the client behind one trusted hop', peer: '10.0.0.1', forwardedFor: '203.0.113.7', expected: '203.0.113.7' },
  { name: 'takes the right-most untrusted entry and ignores what the client spoofed left of it', peer: '10.0.0.1', forwardedFor: '1.1.1.1, 203.0.113.7', expected: '203.0.113.7' },
  { name: 'walks two trusted hops', peer: '10.0.0.1', forwardedFor: '203.0.113.7, 10.0.0.2', expected: '203.0.113.7' },
  { name: 'walks three trusted hops across ranges and single hosts', peer: '10.0.0.1', forwardedFor: '1.1.1.1, 203.0.113.7, 192.168.1.1, 10.0.0.2', expected: '203.0.113.7' },
  { name: 'answers the left-most entry when every hop is trusted', peer: '10.0.0.1', forwardedFor: '10.0.0.3, 10.0.0.2', expected: '10.0.0.3' },
  { name: 'answers the left-most entry when everyone is trusted', peer: '203.0.113.1', forwardedFor: '203.0.113.7, 198.51.100.1', trusted: '0.0.0.0/0 ::/0', expected: '203.0.113.7' },
  { name: 'does not trust the neighbour of a trusted /32', peer: '192.168.1.2', forwardedFor: '203.0.113.7', expected: '192.168.1.2' },
  { name: 'does not trust IPv4 peers through an IPv6 ::/0', peer: '10.0.0.1', forwardedFor: '203.0.113.7', trusted: '::/0', expected: '10.0.0.1' },
  { name: 'falls back to the peer on garbage met during the walk', peer: '10.0.0.1', forwardedFor: '203.0.113.7, garbage', expected: '10.0.0.1' },
  { name: 'falls back to the peer on garbage behind trusted hops', peer: '10.0.0.1', forwardedFor: 'unknown, 10.0.0.2', expected: '10.0.0.1' },
  { name: 'never reads garbage left of the first untrusted hop', peer: '10.0.0.1', forwardedFor: 'garbage, 203.0.113.7', expected: '203.0.113.7' },
  { name: 'falls back to the peer on an empty entry met during the walk', peer: '10.0.0.1', forwardedFor: '203.0.113.7, , 10.0.0.2', expected: '10.0.0.1' },
  { name: 'falls back to the peer on a trailing comma', peer: '10.0.0.1', forwardedFor: '203.0.113.7,', expected: '10.0.0.1' },
  { name: 'falls back to the peer on an IPv4 entry with a port', peer: '10.0.0.1', forwardedFor: '203.0.113.7:5555', expected: '10.0.0.1' },
  { name: 'falls back to the peer on a bracketed IPv6 entry', peer: '10.0.0.1', forwardedFor: '[2a00:1450::1]', expected: '10.0.0.1' },
  { name: 'falls back to the peer on a bracketed IPv6 entry with a port', peer: '10.0.0.1', forwardedFor: '[2a00:1450::1]:443', expected: '10.0.0.1' },
  { name: 'falls back to the peer on an entry with leading zeros', peer: '10.0.0.1', forwardedFor: '010.0.0.1', expected: '10.0.0.1' },
  { name: 'trims spaces and tabs around entries', peer: '10.0.0.1', forwardedFor: '  203.0.113.7 ,\t10.0.0.2  ', expected: '203.0.113.7' },
  { name: 'reads entries joined without spaces', peer: '10.0.0.1', forwardedFor: '203.0.113.7,10.0.0.2', expected: '203.0.113.7' },
  { name: 'answers an untrusted IPv6 peer in canonical form', peer: '2A00:1450:0:0:0:0:0:1', forwardedFor: '203.0.113.7', expected: '2a00:1450::1' },
  { name: 'takes an IPv6 client behind a trusted IPv6 peer, normalised', peer: '2001:db8::5', forwardedFor: '2A00:1450:4001:0:0:0:0:200E', expected: '2a00:1450:4001::200e' },
  { name: 'walks mixed IPv6 and IPv4 hops', peer: '2001:db8::5', forwardedFor: '2a00:1450::1, 10.0.0.2, 2001:db8:1::9', expected: '2a00:1450::1' },
  { name: 'trusts a link-local peer with a zone', peer: 'fe80::1%eth0', forwardedFor: '203.0.113.7', trusted: 'fe80::/10', expected: '203.0.113.7' },
  { name: 'trusts a mapped IPv4 peer through an IPv4 range', peer: '::ffff:10.0.0.1', forwardedFor: '203.0.113.7', expected: '203.0.113.7' },
  { name: 'answers an untrusted mapped IPv4 peer as IPv4', peer: '::ffff:203.0.113.9', forwardedFor: '1.1.1.1', expected: '203.0.113.9' },
  { name: 'answers a mapped IPv4 entry as IPv4, in any case', peer: '10.0.0.1', forwardedFor: '::FFFF:203.0.113.7', expected: '203.0.113.7' },
  { name: 'answers a hex mapped IPv4 entry as IPv4', peer: '10.0.0.1', forwardedFor: '::ffff:cb00:7107', expected: '203.0.113.7' },
  { name: 'trusts a mapped IPv4 hop through an IPv4 range', peer: '10.0.0.1', forwardedFor: '203.0.113.7, ::ffff:10.0.0.2', expected: '203.0.113.7' },
  { name: 'trusts an IPv4 hop through a mapped range', peer: '172.16.0.1', forwardedFor: '203.0.113.7, 172.16.9.9', trusted: '::ffff:172.16.0.0/108', expected: '203.0.113.7' },
  { name: 'answers undefined when the socket has no address', peer: undefined, forwardedFor: '203.0.113.7', expected: undefined },
  { name: 'answers undefined when the socket address is not an IP', peer: '/tmp/teamgraph.sock', forwardedFor: '203.0.113.7', expected: undefined },
];

describe('clientAddress', () => {
  it.each(cases)('$name', ({ peer, forwardedFor, trusted, expected }) => {
    expect(clientAddress(peer, forwardedFor, parseTrustedProxies(trusted ?? PROXIES))).toBe(expected);
  });

  it('walks several X-Forwarded-For headers as Headers.get joins them', () => {
    const headers = new Headers();
    headers.append('X-Forwarded-For', '1.1.1.1, 203.0.113.7');
    headers.append('x-forwarded-for', '192.168.1.1');
    headers.append('X-Forwarded-For', '10.0.0.2');
    expect(clientAddress('10.0.0.1', headers.get('x-forwarded-for'), parseTrustedProxies(PROXIES))).toBe('203.0.113.7');
  });
});

describe('parseTrustedProxies', () => {
  it('trusts nobody when unset, empty or blank', () => {
    for (const value of [undefined, '', '  ,  ']) {
      const trusted = parseTrustedProxies(value);
      expect(trusted.subnets).toEqual([]);
      expect(trusted.has('127.0.0.1')).toBe(false);
      expect(trusted.has('::1')).toBe(false);
    }
  });

  it('reads comma and space separated addresses and ranges in canonical form', () => {
    const trusted = parseTrustedProxies(' 10.0.0.0/8,192.168.1.1\t2001:DB8::/32 ,, ::1 ::ffff:172.16.0.0/108\n');
    expect(trusted.subnets).toEqual(['10.0.0.0/8', '192.168.1.1/32', '2001:db8::/32', '::1/128', '172.16.0.0/12']);
    expect(trusted.has('10.255.255.255')).toBe(true);
    expect(trusted.has('11.0.0.0')).toBe(false);
    expect(trusted.has('2001:db8:ffff::1')).toBe(true);
    expect(trusted.has('2001:db9::1')).toBe(false);
    expect(trusted.has('172.31.255.255')).toBe(true);
  });

  it.each([
    ['proxy.internal', /"proxy\.internal" is not an IP address or CIDR range/],
    ['10.0.0.0/33', /"10\.0\.0\.0\/33" has a prefix length above 32/],
    ['2001:db8::/129', /"2001:db8::\/129" has a prefix length above 128/],
    ['10.0.0.0/-1', /"10\.0\.0\.0\/-1" has an invalid prefix length/],
    ['10.0.0.0/', /"10\.0\.0\.0\/" has an invalid prefix length/],
    ['10.1.2.3/8', /"10\.1\.2\.3\/8" has host bits set; the network is 10\.0\.0\.0\/8/],
    ['2001:db8::1/32', /"2001:db8::1\/32" has host bits set; the network is 2001:db8::\/32/],
    ['10.0.0.1:8080', /"10\.0\.0\.1:8080" is not an IP address/],
    ['[::1]', /"\[::1\]" is not an IP address/],
    ['::ffff:10.0.0.0/95', /"::ffff:10\.0\.0\.0\/95" is an IPv4-mapped range/],
  ])('rejects %s and names it', (entry, message) => {
    expect(() => parseTrustedProxies(`127.0.0.1, ${entry}`)).toThrow(message);
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['0:0:0:0:0:ffff:cb00:7107', '203.0.113.7'],
    ['::ffff:0:0', '0.0.0.0'],
    ['::1.2.3.4', '::102:304'],
    ['::ffff:1', '::ffff:1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it.each(['', 'garbage', ' 1.2.3.4', '1.2.3.4 ', '1.2.3', '256.1.1.1', '01.2.3.4', '1.2.3.4:80', '[::1]', '1::2::3', '12345::'])(
    'answers null for %j',
    (input) => {
      expect(normalizeAddress(input)).toBeNull();
    },
  );
});
