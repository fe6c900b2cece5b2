// How many password guesses a sign-in form takes, and from whom (issue 21, item 5): guessing is
// slowed without letting a stranger who knows an e-mail lock its owner out.
//
// Three counts over a 15-minute window, each of wrong passwords:
// - one e-mail from one address: after PAIR_ATTEMPTS that address stops for that e-mail (the
//   stranger's address, not the owner's);
// - one address over every e-mail: after ADDRESS_ATTEMPTS it stops (one machine stuffing lists);
// - one e-mail from everywhere (guesses spread over many addresses; more than one address can
//   make, so one stranger alone never slows the owner): after ACCOUNT_FREE_ATTEMPTS
//   each further try waits, from the last wrong one, twice as long as the one before (1 s, 2 s, …,
//   at most ACCOUNT_MAX_WAIT_SECONDS), and one that comes sooner is refused unchecked. A browser
//   that signed in to that e-mail before (a known device, http/known-device.ts) skips this count,
//   so the owner gets in while strangers are slowed (OWASP's device-cookie scheme).
// A refusal says how long to wait; nothing is locked for good.

export const PASSWORD_WINDOW_MS = 15 * 60 * 1000;
export const PAIR_ATTEMPTS = 10;
export const ADDRESS_ATTEMPTS = 50;
export const ACCOUNT_FREE_ATTEMPTS = 20;
export const ACCOUNT_MAX_WAIT_SECONDS = 60;

export interface GuessSource {
  /** The client's address (PRODUCT §7); undefined when unknown, which counts as one address. */
  address: string | undefined;
  /** The browser proved it signed in to this e-mail before. */
  knownDevice: boolean;
}

/** What each count is stored under in sign_in_failure. */
export function guessSubjects(email: string, address: string | undefined) {
  const who = email.trim().toLowerCase();
  const from = address ?? 'unknown';
  return { pair: `password:${who}|${from}`, address: `password-from:${from}`, account: `password:${who}` };
}

export interface FailureCounts {
  pair: number;
  address: number;
  account: number;
  /** The newest wrong password for the e-mail from anywhere, when there is one in the window. */
  lastAccountFailure: Date | null;
}

export type Throttle = { limit: 'pair' | 'address' | 'account'; retryAfterSeconds: number } | null;

/** Whether a guess may be checked now; when not, which limit holds and for how long. */
export function throttle(counts: FailureCounts, source: GuessSource, now: Date): Throttle {
  const windowLeft = Math.ceil(PASSWORD_WINDOW_MS / 1000);
  if (counts.pair >= PAIR_ATTEMPTS) return { limit: 'pair', retryAfterSeconds: windowLeft };
  if (counts.address >= ADDRESS_ATTEMPTS) return { limit: 'address', retryAfterSeconds: windowLeft };
  if (source.knownDevice || counts.account < ACCOUNT_FREE_ATTEMPTS || !counts.lastAccountFailure) return null;
  const waitMs = Math.min(2 ** (counts.account - ACCOUNT_FREE_ATTEMPTS), ACCOUNT_MAX_WAIT_SECONDS) * 1000;
  const left = counts.lastAccountFailure.getTime() + waitMs - now.getTime();
  return left > 0 ? { limit: 'account', retryAfterSeconds: Math.ceil(left / 1000) } : null;
}
