// The server-rendered pages of sign-in: the login page of the authorization code flow, the
// device verification page, and the error page shown when a redirect would be unsafe; the 3LO
// link pages (account-link.ts) are built from the same shell. Every
// interpolated value goes through `escape`; there is no script, so the CSP forbids all of it.
// Every form carries its FormGuard ticket (src/http/form-guard.ts).
import { activeRequest } from '../observability/request-scope.ts';
import { FORM_TOKEN_FIELD, type FormTicket } from './form-guard.ts';

export function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#172b4d}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box;font-size:1rem}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem;font-size:1rem}.error{color:#ae2a19;background:#ffeceb;padding:.6rem;border-radius:4px}
.code{font-family:monospace;font-size:1.3rem;letter-spacing:.1rem}.muted{color:#626f86;font-size:.9rem}`;

/**
 * A whole page as a Response, not cacheable and not frameable. `formTarget` is an origin a form
 * on it may end at: browsers apply form-action to the redirects after a submission too. A page
 * with a form passes its `ticket`: the token goes in the form (`formToken`), the cookie here.
 */
export function page(status: number, title: string, body: string, formTarget?: string, ticket?: FormTicket): Response {
  // Issue 19: every error body carries the request id (the x-request-id header's), for support.
  const requestId = status >= 400 ? activeRequest()?.requestId : undefined;
  const footer = requestId ? `<p class="request-id"><small>Request id: ${escape(requestId)}</small></p>` : '';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · teamgraph</title><style>${STYLE}</style></head><body><h1>${escape(title)}</h1>${body}${footer}</body></html>`;
  const response = new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${formTarget ? ` ${formTarget}` : ''}; frame-ancestors 'none'`,
      'x-frame-options': 'DENY',
      // Not no-referrer: browsers then send `Origin: null` with the form's own POST, which
      // FormGuard must refuse. Other sites still learn nothing of these pages' addresses.
      'referrer-policy': 'same-origin',
    },
  });
  if (ticket?.setCookie) response.headers.append('set-cookie', ticket.setCookie);
  return response;
}

/** The hidden field that carries a form's ticket. */
export const formToken = (ticket: FormTicket) => `<input type="hidden" name="${FORM_TOKEN_FIELD}" value="${escape(ticket.token)}">`;

const errorBlock = (message: string | undefined) => (message ? `<p class="error" role="alert">${escape(message)}</p>` : '');
const hidden = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');

/** The login page; the authorization request's parameters (already validated) travel as hidden fields. */
export function loginPage(status: number, params: Record<string, string>, ticket: FormTicket, options: { email?: string; error?: string; scopes: string[] | null; adminPage?: boolean }): Response {
  const asked = options.scopes === null ? 'every permission your organization allows the command-line client' : options.scopes.map(escape).join(', ');
  const purpose = options.adminPage ? '<p>Sign in to the <strong>admin page</strong>. It is for organisation admins only.</p>' : `<p>The command-line client <strong>twg</strong> asks for: ${asked}.</p>`;
  return page(
    status,
    'Sign in to teamgraph',
    `${purpose}${errorBlock(options.error)}
<form method="post" action="/oauth/authorize">${hidden(params)}${formToken(ticket)}
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(options.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
    // The sign-in ends in a redirect to the client (twg's loopback port): form-action must allow it.
    params.redirect_uri ? new URL(params.redirect_uri).origin : undefined,
    ticket,
  );
}

/** The device verification page: the code shown by the terminal, then sign in and decide. */
export function devicePage(status: number, ticket: FormTicket, options: { userCode?: string; email?: string; error?: string } = {}): Response {
  return page(
    status,
    'Sign in a device',
    `<p>Enter the code your terminal shows, then sign in to approve or deny it.</p>${errorBlock(options.error)}
<form method="post" action="/device">${formToken(ticket)}
<label for="user_code">Code</label><input id="user_code" name="user_code" class="code" autocomplete="off" required placeholder="BCDF-GHJK" value="${escape(options.userCode ?? '')}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(options.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></form>
<p class="muted">Only approve a code you started yourself, on a machine you trust.</p>`,
    undefined,
    ticket,
  );
}

/** What became of a device decision. */
export const deviceNotice = (status: number, notice: string): Response => page(status, 'Device sign-in', `<p>${escape(notice)}</p>`);
