// The credentials file: $XDG_CONFIG_HOME/twg/credentials.json (else ~/.config/twg), mode 0600 in
// a 0700 folder, written whole through a temporary file and a rename so a reader never sees half.
// Tokens live only here; nothing in twg prints them.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string | null;
  scopes: string[];
  /** Epoch ms, on this machine's clock: when the access token was received and when it lapses. */
  issuedAt: number;
  expiresAt: number;
  /** Epoch ms of the sign-in that started this session (a refresh keeps it). */
  signedInAt: number;
  /** The --scope values of that sign-in; empty: all that the organisation allowed. */
  requestedScopes: string[];
}

export interface StoredBitbucketToken {
  id: string;
  label: string;
  secret: string;
}

export interface Credentials {
  /** The server the tokens belong to. */
  server?: string;
  oauth?: OAuthTokens;
  bitbucket?: StoredBitbucketToken;
}

export function configDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'twg');
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

export class CredentialsStore {
  readonly path: string;
  private readonly lockPath: string;

  constructor(readonly directory: string = configDirectory()) {
    this.path = join(directory, 'credentials.json');
    this.lockPath = `${this.path}.lock`;
  }

  read(): Credentials {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    try {
      return JSON.parse(text) as Credentials;
    } catch {
      throw new Error(`${this.path} is not valid JSON; remove it and run twg login`);
    }
  }

  write(credentials: Credentials): void {
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  update(change: (current: Credentials) => Credentials): Credentials {
    const next = change(this.read());
    this.write(next);
    return next;
  }

  /**
   * Runs `work` while holding the credentials lock. Two twg processes refreshing with the same
   * refresh token would end the session (PRODUCT §6: a used refresh token revokes it), so a
   * refresh happens under this lock and re-reads the file first.
   */
  async withLock<T>(work: () => Promise<T>): Promise<T> {
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        closeSync(openSync(this.lockPath, 'wx', 0o600));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (this.lockIsStale() || Date.now() > deadline) rmSync(this.lockPath, { force: true });
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      return await work();
    } finally {
      rmSync(this.lockPath, { force: true });
    }
  }

  private lockIsStale(): boolean {
    try {
      return Date.now() - statSync(this.lockPath).mtimeMs > LOCK_STALE_MS;
    } catch {
      return false;
    }
  }
}
