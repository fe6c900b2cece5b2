// The exit codes of twg (issue 6): scripts and agents branch on them, so they never change.
export const EXIT = {
  ok: 0,
  usage: 1,
  restricted: 2,
  notSignedIn: 3,
  unavailable: 4,
  /** Over the credential's rate limit (issue 21): try again later; EX_TEMPFAIL of sysexits.h. */
  rateLimited: 75,
  /** The session is expired or revoked: `twg login` is needed (the code the TWG CLI uses). */
  loginNeeded: 77,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user is told about in plain words, ending the command with its exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Further lines for the person, e.g. `run: twg login`. */
    readonly hints: string[] = [],
    /** What --json prints on stdout about the failure. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const loginNeeded = (message: string) => new CliError(EXIT.loginNeeded, message, ['run: twg login'], { code: 'LOGIN_NEEDED' });
export const notSignedIn = (message = 'not signed in') => new CliError(EXIT.notSignedIn, message, ['run: twg login'], { code: 'NOT_SIGNED_IN' });
