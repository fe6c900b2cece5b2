// Secrets: bearer tokens and client secrets are 32 random bytes with a prefix, stored only as
// SHA-256; account passwords are hashed with scrypt.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { type RawBuilder, sql } from 'kysely';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * A secret that names its organisation, `${prefix}${orgId}.${random}`: its lookup reads that
 * organisation's rows only, one shard on Citus (issue 18). The organisation is no secret (ids are
 * in every answer); the hash of the whole string is what is stored and matched.
 */
export function newOrgSecret(prefix: string, orgId: string): string {
  return `${prefix}${orgId}.${randomBytes(32).toString('base64url')}`;
}

/** An organisation id as shared/ids.ts makes them, and what follows the last dot of a credential. */
const ORGANIZATION_ID = /^org_[A-Za-z0-9_-]{22}$/;
const CREDENTIAL_TAIL = /^[A-Za-z0-9_-]+$/;

/**
 * The organisation a credential names (newOrgSecret; a connection's client id): the id just before
 * its last dot. Null for one issued before credentials named it, which is then looked up in every
 * organisation. Found by position, not by an unanchored pattern, so a hostile header costs one pass.
 */
export function orgIdIn(credential: string): string | null {
  const dot = credential.lastIndexOf('.');
  const orgId = credential.slice(Math.max(0, dot - 26), dot);
  return dot > 0 && ORGANIZATION_ID.test(orgId) && CREDENTIAL_TAIL.test(credential.slice(dot + 1)) ? orgId : null;
}

/** How a presented credential is looked up: its organisation when it names one, and its hash. */
export interface CredentialKey {
  orgId: string | null;
  hash: string;
}

export function credentialKey(credential: string): CredentialKey {
  return { orgId: orgIdIn(credential), hash: sha256(credential) };
}

/**
 * The organisation the subqueries of a credential lookup compare with: the one the credential
 * names, as a value, so that Citus sends the whole statement to that organisation's node; for a
 * credential that names none, the found row's `column`.
 */
export type OrgOfLookup = string | RawBuilder<string>;
export const orgOfLookup = (key: CredentialKey, column: string): OrgOfLookup => key.orgId ?? sql.ref<string>(column);

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}
