// The known-device cookie of the password forms (issue 21, item 5; the scheme of
// modules/oauth/password-throttle.ts): a browser that signed in to an e-mail carries proof of it,
// so guesses at that e-mail from elsewhere do not slow its owner down. Every password form checks
// passwords through checkSignIn here.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OAuthService, PasswordCheck } from '../modules/oauth/oauth.service.ts';
import { cookie } from './form-guard.ts';

const DEVICE_DAYS = 180;

export class KnownDevices {
  private readonly key: Buffer;
  private readonly cookieName: string;
  private readonly cookieAttributes: string;

  constructor(secretKey: Buffer, publicUrl: string) {
    // A key of its own, so a device proof can never double as anything else sealed with the secret key.
    this.key = createHmac('sha256', secretKey).update('teamgraph known devices v1').digest();
    const secure = publicUrl.startsWith('https:');
    this.cookieName = secure ? '__Host-twg_device' : 'twg_device';
    this.cookieAttributes = `Path=/; HttpOnly; SameSite=Lax; Max-Age=${DEVICE_DAYS * 86400}${secure ? '; Secure' : ''}`;
  }

  /** Whether this browser signed in to `email` within DEVICE_DAYS. */
  knows(request: Request, email: string, now: Date): boolean {
    const [issued, proof] = (cookie(request.headers.get('cookie'), this.cookieName) ?? '').split('.');
    const issuedAt = Number(issued);
    if (!Number.isInteger(issuedAt) || !proof || now.getTime() / 1000 - issuedAt > DEVICE_DAYS * 86400) return false;
    const expected = Buffer.from(this.proof(email, issuedAt));
    const sent = Buffer.from(proof);
    return sent.length === expected.length && timingSafeEqual(sent, expected);
  }

  /** The Set-Cookie that makes this browser known for `email` (one e-mail per browser: the last to sign in). */
  remember(email: string, now: Date): string {
    const issuedAt = Math.floor(now.getTime() / 1000);
    return `${this.cookieName}=${issuedAt}.${this.proof(email, issuedAt)}; ${this.cookieAttributes}`;
  }

  private proof(email: string, issuedAt: number): string {
    return createHmac('sha256', this.key).update(`${email.trim().toLowerCase()}\n${issuedAt}`).digest('base64url');
  }
}

/** A password form's check: throttled as password-throttle.ts says; on success, the cookie that makes this browser known. */
export async function checkSignIn(
  deps: { oauth: OAuthService; devices: KnownDevices },
  request: Request,
  form: URLSearchParams,
  address: string | undefined,
): Promise<(Extract<PasswordCheck, { ok: true }> & { rememberDevice: string }) | Exclude<PasswordCheck, { ok: true }>> {
  const email = form.get('email') ?? '';
  const now = new Date();
  const check = await deps.oauth.checkPassword(email, form.get('password') ?? '', { address, knownDevice: deps.devices.knows(request, email, now) });
  return check.ok ? { ...check, rememberDevice: deps.devices.remember(email, now) } : check;
}

/** A password form shown again (`again`) with why its check failed, and Retry-After when throttled. */
export async function refused(again: (status: number, error: string) => Response | Promise<Response>, check: Exclude<PasswordCheck, { ok: true }>): Promise<Response> {
  const { status, message, retryAfter } = signInRefusal(check);
  const response = await again(status, message);
  if (retryAfter) response.headers.set('retry-after', retryAfter);
  return response;
}

function signInRefusal(check: Exclude<PasswordCheck, { ok: true }>): { status: number; message: string; retryAfter?: string } {
  if (check.reason === 'wrong') return { status: 401, message: 'Wrong e-mail or password, or the account is deactivated.' };
  const wait = check.retryAfterSeconds >= 60 ? `${Math.ceil(check.retryAfterSeconds / 60)} minutes` : `${check.retryAfterSeconds} seconds`;
  const message = {
    pair: `Too many wrong passwords for this e-mail from your address. Try again within ${wait}.`,
    address: `Too many wrong passwords from your address. Try again within ${wait}.`,
    account: `This e-mail has had many wrong passwords from elsewhere, so sign-in from a new browser is slowed: try again in ${wait}. A browser you have signed in with before is not slowed.`,
  }[check.limit];
  return { status: 429, message, retryAfter: String(check.retryAfterSeconds) };
}
