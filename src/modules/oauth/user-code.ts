// Device flow user codes (RFC 8628 §6.1): eight letters from twenty consonants, shown as
// BCDF-GHJK. No vowels (no words), no digits (no 0/O, 1/I); about 34 bits, guessed at most a few
// times per address thanks to the attempt limit.
import { randomInt } from 'node:crypto';

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A new code, normalised (no dash). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** What a person typed, normalised: upper case, dashes and spaces dropped; null if it cannot be a code. */
export function normaliseUserCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  return code.length === LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

export const displayUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;
