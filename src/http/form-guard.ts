// Cross-site request refusal for everything a browser can post (issue 15): the sign-in forms
// (login, device, 3LO link and its confirmation) and the OAuth endpoints.
//
// A form is accepted only from this service's own page in the same browser:
//  - the browser says where the request comes from: `Sec-Fetch-Site` must be same-origin (or
//    none: typed by the person) and `Origin`, when sent, must be the public origin;
//  - browsers that say nothing (old ones; `Origin` is not sent on every same-origin POST) are held
//    by a token: each page embeds, per form, HMAC(server key, form purpose, browser binding), where
//    the binding is a random value in an HttpOnly, SameSite=Lax cookie (`__Host-` on https, so no
//    sibling host can plant one). A cross-site page can neither read the token nor make the browser
//    send the cookie with its POST, so a login forged in someone's browser is refused. (Lax, not
//    Strict: a provider's redirect back to the link flow is a cross-site GET, and with Strict the
//    browser would arrive without its binding and get a new one, expiring its other open forms.)
// The OAuth endpoints serve programs (twg, oauth4webapi), which send neither header nor cookie;
// for them only what a browser says is checked, so a page elsewhere cannot drive them either.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const BINDING = /^[A-Za-z0-9_-]{43}$/;

export type FormRefusalCode = 'CROSS_SITE_REQUEST' | 'FORM_EXPIRED';

export interface FormRefusal {
  code: FormRefusalCode;
  /** For the person in the browser. */
  message: string;
}

/** What a page embeds for one form: the token, and the cookie to set when the browser has none. */
export interface FormTicket {
  token: string;
  setCookie: string | null;
}

export const FORM_TOKEN_FIELD = 'form_token';

export class FormGuard {
  private readonly key: Buffer;
  private readonly cookieName: string;
  private readonly cookieAttributes: string;

  constructor(
    secretKey: Buffer,
    private readonly publicUrl: string,
  ) {
    // A key of its own, so a form token can never double as anything else sealed with the secret key.
    this.key = createHmac('sha256', secretKey).update('teamgraph form tokens v1').digest();
    const secure = publicUrl.startsWith('https:');
    this.cookieName = secure ? '__Host-twg_form' : 'twg_form';
    this.cookieAttributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  /** The ticket of the form `purpose` on a page answering `request`. */
  issue(request: Request, purpose: string): FormTicket {
    const existing = this.binding(request);
    const binding = existing ?? randomBytes(32).toString('base64url');
    return {
      token: this.tokenFor(purpose, binding),
      setCookie: existing ? null : `${this.cookieName}=${binding}; ${this.cookieAttributes}`,
    };
  }

  /** Refuses a form POST unless it comes from this service's page for `purpose` in this browser. */
  checkForm(request: Request, form: URLSearchParams, purpose: string): FormRefusal | null {
    const crossSite = this.checkSite(request);
    if (crossSite) return crossSite;
    const binding = this.binding(request);
    const sent = Buffer.from(form.get(FORM_TOKEN_FIELD) ?? '');
    const expected = Buffer.from(binding ? this.tokenFor(purpose, binding) : '');
    // Lengths in bytes: timingSafeEqual throws on buffers of different lengths.
    if (!binding || sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
      return {
        code: 'FORM_EXPIRED',
        message: 'This form is out of date, was opened in another browser, or your browser blocks cookies for this site. Nothing was done; open the page again and resend it.',
      };
    }
    return null;
  }

  /** Refuses a request a browser says comes from another site (the OAuth endpoints' check). */
  checkSite(request: Request): FormRefusal | null {
    const site = request.headers.get('sec-fetch-site');
    const origin = request.headers.get('origin');
    if ((site !== null && site !== 'same-origin' && site !== 'none') || (origin !== null && origin !== this.publicUrl)) {
      return { code: 'CROSS_SITE_REQUEST', message: `This request was sent from another site. Nothing was done: open ${this.publicUrl} yourself and try again there.` };
    }
    return null;
  }

  private binding(request: Request): string | null {
    const value = cookie(request.headers.get('cookie'), this.cookieName);
    return value && BINDING.test(value) ? value : null;
  }

  private tokenFor(purpose: string, binding: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${binding}`).digest('base64url');
  }
}

/** One cookie's value from a Cookie header; null when absent. */
export function cookie(header: string | null, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || null;
  }
  return null;
}
