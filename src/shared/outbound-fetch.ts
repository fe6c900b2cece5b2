// The server's requests to addresses a tenant admin chose (issue 15): a 3LO connection's OAuth
// provider (discovery, the code exchange, the user-info) and an audit stream's receiver (issue 21).
// They reach public unicast addresses only, checked on the address actually connected to (after
// DNS: a name that resolves to, or rebinds to, 127.0.0.1 or 10.0.0.5 is refused too), unless the
// operator allows private ones (TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS=1). Redirects are never
// followed, answers are bounded in size and time, and callers report every failure to reach one
// as one error, so these requests cannot map what answers inside the operator's network.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface OutboundFetchOptions {
  /** Loopback, private and link-local addresses too (development, tests). */
  allowPrivate: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

/** What oauth4webapi hands its `customFetch`. */
export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string | URLSearchParams | null;
  signal?: AbortSignal | null;
}

export type OutboundFetch = (url: string, init?: OutboundRequest) => Promise<Response>;

/** The address may not be reached from here (it is not public unicast); never shown to a client. */
export class AddressNotAllowed extends Error {}

/** Public unicast only: not loopback, private, link-local, CGNAT, multicast, reserved… */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    // ::a.b.c.d (IPv4-compatible, deprecated) counts as unicast to ipaddr.js; it is no public address.
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return false;
  }
  return parsed.range() === 'unicast';
}

export function outboundFetch({ allowPrivate, timeoutMs = 10_000, maxBytes = 1024 * 1024 }: OutboundFetchOptions): OutboundFetch {
  const allowed = (address: string) => allowPrivate || isPublicAddress(address);
  // Node connects to exactly what this answers, so the check and the connection cannot differ.
  const lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const usable = addresses.filter((a) => allowed(a.address));
      if (usable.length === 0) return callback(new AddressNotAllowed(`${hostname} resolves to no public address`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
      callback(null, usable[0].address, usable[0].family);
    });
  };
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !allowed(host)) return reject(new AddressNotAllowed(`${host} is not a public address`));
      const transport = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
      if (!transport) return reject(new AddressNotAllowed(`${target.protocol} is not http or https`));
      const headers = init.headers instanceof Headers ? Object.fromEntries(init.headers) : (init.headers ?? {});
      const request = transport.request(target, { method: init.method ?? 'GET', headers, lookup, signal: init.signal ?? undefined }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxBytes) return void chunks.push(chunk);
          reject(new Error(`the answer is larger than ${maxBytes} bytes`));
          request.destroy();
        });
        response.on('error', reject);
        response.on('end', () => {
          if (size > maxBytes) return;
          const status = response.statusCode ?? 502;
          const answer = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) answer.append(name, item);
          }
          const empty = status === 204 || status === 304 || (status >= 100 && status < 200);
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: answer }));
        });
      });
      // The whole exchange, not only each silence: a provider sending a byte now and then is cut off too.
      const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      request.on('close', () => clearTimeout(deadline));
      request.on('error', reject);
      request.end(init.body === null || init.body === undefined ? undefined : String(init.body));
    });
}
