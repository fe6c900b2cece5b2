// PKCE with S256 only (RFC 7636, OAuth 2.1): the challenge is BASE64URL(SHA-256(verifier)).
import { createHash, timingSafeEqual } from 'node:crypto';

/** A verifier: 43 to 128 unreserved characters (RFC 7636 §4.1). */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge: 32 bytes in unpadded base64url. */
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function verifierMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
