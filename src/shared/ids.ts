// Identifiers: a short prefix naming the kind, then 16 random bytes. The prefix lets `node(id)`
// know which table to read; clients treat ids as opaque.
import { randomFillSync } from 'node:crypto';

export const ID_PREFIX = {
  organization: 'org',
  site: 'site',
  account: 'acc',
  connection: 'conn',
  session: 'sess',
  object: 'obj',
  auditEvent: 'audit',
  bitbucketToken: 'bbt',
  adminApiKey: 'key',
  auditStream: 'ast',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ID_BYTES = 16;
// One call to the system's random source fills 256 ids: a call per id cost ~9 µs, a twentieth of an
// ingested object's time in Node (issue 16). The bytes are as random either way.
const pool = Buffer.alloc(ID_BYTES * 256);
let poolOffset = pool.length;

export function newId(kind: IdKind): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return `${ID_PREFIX[kind]}_${id}`;
}

export function idKind(id: string): IdKind | undefined {
  const prefix = id.slice(0, id.indexOf('_'));
  return (Object.keys(ID_PREFIX) as IdKind[]).find((kind) => ID_PREFIX[kind] === prefix);
}
