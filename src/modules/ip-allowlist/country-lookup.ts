// Owns IP-to-country lookup for location rules (PRODUCT §7), offline, over the CSVs of @ip-location-db/dbip-country.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { normalizeAddress } from '../../shared/ip-address.ts';

export interface CountryLookup {
  /** The ISO 3166-1 alpha-2 code of the address; null when the database has none or it is not an IP. */
  country(address: string): string | null;
}

/** One CSV line: `ip_range_start,ip_range_end,country_code`, both ends inclusive. */
export type CountryRow = readonly [start: string, end: string, country: string];

const SHIPPED_PACKAGE = '@ip-location-db/dbip-country';

/**
 * Sorted, non-overlapping inclusive ranges. An address is `width` 32-bit words, most significant
 * first (1 for IPv4, 4 for IPv6): comparing IPv6 word by word instead of as one BigInt per value
 * keeps the shipped tables (about 350,000 rows each) quick to load and at 34 bytes per IPv6 row.
 */
class RangeTable {
  constructor(
    private readonly width: number,
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
    private readonly codes: Uint16Array,
  ) {}

  find(address: number[]): string | null {
    let low = 0;
    let high = this.codes.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compare(this.starts, mid * this.width, address, 0, this.width) <= 0) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    if (found === -1 || compare(this.ends, found * this.width, address, 0, this.width) < 0) return null;
    const code = this.codes[found];
    return String.fromCharCode(code >> 8, code & 255);
  }
}

/** Orders the address of `width` words at `a[aOffset]` against the one at `b[bOffset]`. */
function compare(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, width: number): number {
  for (let i = 0; i < width; i++) {
    const difference = a[aOffset + i] - b[bOffset + i];
    if (difference !== 0) return difference;
  }
  return 0;
}

class RangeTableBuilder {
  private starts = new Uint32Array(4096);
  private ends = new Uint32Array(4096);
  private codes = new Uint16Array(1024);
  private count = 0;
  readonly width: number;

  constructor(readonly family: 4 | 6) {
    this.width = family === 4 ? 1 : 4;
  }

  /** Adds one range, or says why it cannot: null words mean an end did not parse, -1 a bad code. */
  add(first: number[] | null, last: number[] | null, code: number): string | null {
    if (first === null || last === null) return `is not a range of IPv${this.family} addresses`;
    if (code < 0) return 'does not end in a two-letter country code';
    if (compare(last, 0, first, 0, this.width) < 0) return 'ends before it starts';
    if (this.count === this.codes.length) this.grow();
    const offset = this.count * this.width;
    this.starts.set(first, offset);
    this.ends.set(last, offset);
    this.codes[this.count++] = code;
    return null;
  }

  private grow(): void {
    const starts = new Uint32Array(this.starts.length * 2);
    const ends = new Uint32Array(this.ends.length * 2);
    const codes = new Uint16Array(this.codes.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    codes.set(this.codes);
    Object.assign(this, { starts, ends, codes });
  }

  build(source: string): RangeTable {
    const { width, count } = this;
    let starts = this.starts.slice(0, count * width);
    let ends = this.ends.slice(0, count * width);
    let codes = this.codes.slice(0, count);
    let order: number[] | null = null;
    for (let i = 1; i < count && order === null; i++) {
      if (compare(starts, (i - 1) * width, starts, i * width, width) >= 0) {
        order = Array.from({ length: count }, (_, k) => k).sort((a, b) => compare(starts, a * width, starts, b * width, width));
      }
    }
    if (order !== null) {
      const sorted = { starts: new Uint32Array(starts.length), ends: new Uint32Array(ends.length), codes: new Uint16Array(count) };
      order.forEach((from, to) => {
        sorted.starts.set(starts.subarray(from * width, (from + 1) * width), to * width);
        sorted.ends.set(ends.subarray(from * width, (from + 1) * width), to * width);
        sorted.codes[to] = codes[from];
      });
      ({ starts, ends, codes } = sorted);
    }
    // The binary search for the last start at or below an address is only right without overlaps.
    for (let i = 1; i < count; i++) {
      if (compare(starts, i * width, ends, (i - 1) * width, width) <= 0) {
        throw new Error(`${source}: IPv${this.family} ranges overlap (row ${(order?.[i] ?? i) + 1}).`);
      }
    }
    return new RangeTable(width, starts, ends, codes);
  }
}

// The loader's own address parsers: the text of the shipped CSVs, by offsets, without allocation.
const COLON = 58;
const DOT = 46;

/**
 * The value of a dotted-quad IPv4 address in text[start, end), or null when it is not one
 * (four decimal parts of 0 to 255 without leading zeros, as node:net accepts).
 */
function ipv4Number(text: string, start = 0, end = text.length): number | null {
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
 * A character loop, because the country database parses 700,000 of them: a parse into objects
 * (ipaddr.js) per row would multiply the load time.
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

/** The address in text[from, to) as words of the family, or null when it is not one. */
function wordsAt(family: 4 | 6, text: string, from = 0, to = text.length): number[] | null {
  if (family === 4) {
    const value = ipv4Number(text, from, to);
    return value === null ? null : [value];
  }
  const g = ipv6Groups(text, from, to);
  return g === null ? null : [g[0] * 65536 + g[1], g[2] * 65536 + g[3], g[4] * 65536 + g[5], g[6] * 65536 + g[7]];
}

/** The two upper-case letters text[from, to) as one number, or -1. */
function countryCodeAt(text: string, from = 0, to = text.length): number {
  if (to - from !== 2) return -1;
  const first = text.charCodeAt(from);
  const second = text.charCodeAt(from + 1);
  if (first < 65 || first > 90 || second < 65 || second > 90) return -1;
  return first * 256 + second;
}

/** Parses the CSV in place, by offsets: slicing 700,000 lines into strings doubled the load time. */
function readTable(file: string, family: 4 | 6): RangeTable {
  const text = readFileSync(file, 'utf8');
  const builder = new RangeTableBuilder(family);
  let line = 0;
  for (let position = 0; position < text.length; ) {
    const newline = text.indexOf('\n', position);
    const lineEnd = newline === -1 ? text.length : newline;
    const from = position;
    const to = lineEnd > from && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    position = lineEnd + 1;
    line++;
    if (from === to) continue;
    const firstComma = text.indexOf(',', from);
    const secondComma = firstComma === -1 || firstComma >= to ? -1 : text.indexOf(',', firstComma + 1);
    const problem =
      secondComma === -1 || secondComma >= to
        ? 'is not ip_range_start,ip_range_end,country_code'
        : builder.add(
            wordsAt(family, text, from, firstComma),
            wordsAt(family, text, firstComma + 1, secondComma),
            countryCodeAt(text, secondComma + 1, to),
          );
    if (problem !== null) throw new Error(`${file}:${line}: "${text.slice(from, to)}" ${problem}.`);
  }
  return builder.build(file);
}

function shippedFiles(): { ipv4: string; ipv6: string } {
  const require = createRequire(import.meta.url);
  try {
    return {
      ipv4: require.resolve(`${SHIPPED_PACKAGE}/dbip-country-ipv4.csv`),
      ipv6: require.resolve(`${SHIPPED_PACKAGE}/dbip-country-ipv6.csv`),
    };
  } catch {
    throw new Error(`The country database package ${SHIPPED_PACKAGE} is not installed.`);
  }
}

function lookupOver(ipv4: () => RangeTable, ipv6: () => RangeTable): CountryLookup {
  return {
    country(address) {
      const normalized = normalizeAddress(address);
      if (normalized === null) return null;
      const family = isIP(normalized) as 4 | 6;
      return (family === 4 ? ipv4() : ipv6()).find(wordsAt(family, normalized)!);
    },
  };
}

/**
 * The country database, by default DB-IP Lite as shipped by @ip-location-db/dbip-country (CC BY
 * 4.0: the README carries the attribution). Each file (CSV, no header) is read on the first lookup
 * of its family, so a process without location rules never loads it; a failed load throws and is
 * retried on the next lookup. A load blocks the event loop: about 0.25 s for IPv4 and 0.4 s for IPv6
 * on a 2-core machine; the tables then hold about 15 MB.
 */
export function loadCountryDatabase(files?: { ipv4: string; ipv6: string }): CountryLookup {
  let ipv4: RangeTable | undefined;
  let ipv6: RangeTable | undefined;
  return lookupOver(
    () => (ipv4 ??= readTable((files ?? shippedFiles()).ipv4, 4)),
    () => (ipv6 ??= readTable((files ?? shippedFiles()).ipv6, 6)),
  );
}

/** A lookup over rows given in memory, IPv4 and IPv6 mixed, in any order. */
export function countryLookupFromRows(rows: Iterable<CountryRow>): CountryLookup {
  const builders = { 4: new RangeTableBuilder(4), 6: new RangeTableBuilder(6) };
  let index = 0;
  for (const [start, end, country] of rows) {
    index++;
    const family = start.includes(':') ? 6 : 4;
    const problem = builders[family].add(wordsAt(family, start), wordsAt(family, end), countryCodeAt(country));
    if (problem !== null) throw new Error(`Row ${index} "${start},${end},${country}" ${problem}.`);
  }
  const ipv4 = builders[4].build('rows');
  const ipv6 = builders[6].build('rows');
  return lookupOver(
    () => ipv4,
    () => ipv6,
  );
}
