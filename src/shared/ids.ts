// Identifiers: a short prefix naming the kind, then 16 random bytes. The prefix lets `node(id)`
// know which table to read; clients treat ids as opaque.
import { randomBytes } from 'node:crypto';

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
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${randomBytes(16).toString('base64url')}`;
}

export function idKind(id: string): IdKind | undefined {
  const prefix = id.slice(0, id.indexOf('_'));
  return (Object.keys(ID_PREFIX) as IdKind[]).find((kind) => ID_PREFIX[kind] === prefix);
}
