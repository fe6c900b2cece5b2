// The browser side of 3LO links: GET /connections/<id>/link shows a sign-in form; its POST signs
// the person in and sends the browser to the provider with a cookie binding the attempt to it;
// GET …/link/callback reads the provider's answer and asks the account to confirm it; POST
// …/link/confirm makes (or drops) the link. The cookie stops a link started by one person from
// being completed in another's browser; the forms' tickets (FormGuard) stop another site from
// posting them; the confirmation names the account that started it, so a sign-in forged in
// someone's browser does not quietly take their identity at the provider (issue 15). GET
// …/link/check is twg connect's question before it sends anyone there: with the account's bearer
// token, the page to open, or at once why linking cannot start (issue 20).
import { randomUUID } from 'node:crypto';
import { AppError, HTTP_STATUS } from '../shared/errors.ts';
import type { AuditOutcome } from '../modules/audit/audit-event.ts';
import { activeRequest } from '../observability/request-scope.ts';
import type { Audited } from './audited.ts';
import type { Authenticate } from './authenticate.ts';
import { errorResponse } from './error-response.ts';
import { type FormGuard, cookie } from './form-guard.ts';
import { checkSignIn, type KnownDevices, refused } from './known-device.ts';
import { escape, formToken, page } from './pages.ts';
import type { Pages } from './router.ts';
import type { OAuthService } from '../modules/oauth/oauth.service.ts';
import { type AccountLinkService, LINK_ATTEMPT_SECONDS, LinkError } from '../modules/account-link/account-link.service.ts';

const PATH = /^\/connections\/([A-Za-z0-9_-]{1,80})\/link(\/callback|\/confirm|\/check)?$/;

export interface LinkRouteDeps {
  links: AccountLinkService;
  oauth: OAuthService;
  /** This service's public origin, never a request's Host (issue 15). */
  publicUrl: string;
  forms: FormGuard;
  devices: KnownDevices;
  authenticate: Authenticate;
  audited: Audited;
}

/** The FormGuard purposes of the link page's two forms, per connection. */
const startForm = (connectionId: string) => `link-start:${connectionId}`;
const confirmForm = (connectionId: string) => `link-confirm:${connectionId}`;

export function linkRoutes(deps: LinkRouteDeps): Pages {
  return (pathname) => {
    const match = PATH.exec(pathname);
    if (!match) return undefined;
    const [, connectionId, step] = match;
    const base = `${deps.publicUrl}/connections/${connectionId}/link`;
    const binding = new LinkCookie(connectionId, deps.publicUrl.startsWith('https:'));
    const allowed = step === '/callback' || step === '/check' ? 'GET' : step === '/confirm' ? 'POST' : 'GET, POST';
    return async (request, address) => {
      if (!allowed.split(', ').includes(request.method)) return new Response(null, { status: 405, headers: { allow: allowed } });
      if (step === '/check') return linkCheck(deps, connectionId, request, address);
      try {
        if (step === '/callback') return await answered(deps, connectionId, request, `${base}/callback`, binding);
        if (step === '/confirm') return await confirmed(deps, connectionId, request, binding, address);
        if (request.method === 'GET') return signInPage(200, connectionId, deps, request, {});
        return await startLink(deps, connectionId, request, base, address, binding);
      } catch (error) {
        if (!(error instanceof LinkError)) throw error;
        // The attempt is over: the browser forgets it too.
        return failure(error.status, error.message, error.code, binding.clear());
      }
    };
  };
}

/** The refusals a check can give, as the audit log records them. */
const CHECK_OUTCOMES: Partial<Record<string, AuditOutcome>> = { FORBIDDEN: 'DENIED', NOT_FOUND: 'ERROR' };

/**
 * Where the signed-in account links itself at the connection, or why it cannot: JSON, audited like
 * every request of an account (PRODUCT §9). A connection's own token, or an admin key, links no one.
 */
async function linkCheck(deps: LinkRouteDeps, connectionId: string, request: Request, address: string | undefined): Promise<Response> {
  // A page handler is not handed the router's observation; the request scope has it (its id, who called).
  const observed = activeRequest();
  const requestId = observed?.requestId ?? randomUUID();
  const auth = await deps.authenticate(request, { clientAddress: address, observed }, requestId);
  if (!auth.ok) return deps.audited(auth.recorder, auth.response, auth.outcome);
  const { caller, recorder } = auth;
  if (recorder) recorder.operationName = 'connectionLinkCheck';
  if (caller.kind !== 'account') {
    return deps.audited(recorder, errorResponse(403, 'FORBIDDEN', 'Linking is for a person: sign in with twg login and use that session.', requestId), 'DENIED');
  }
  try {
    const target = await deps.links.linkTarget(caller.orgId, connectionId);
    const body = { ...target, linkUrl: `${deps.publicUrl}/connections/${encodeURIComponent(target.connectionId)}/link` };
    return deps.audited(recorder, new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-request-id': requestId } }));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const refusal = errorResponse(HTTP_STATUS[error.code], error.code, error.message, requestId, {}, error.extensions.subCode as string | undefined);
    return deps.audited(recorder, refusal, CHECK_OUTCOMES[error.code] ?? 'ERROR');
  }
}

async function signInPage(status: number, connectionId: string, deps: LinkRouteDeps, request: Request, options: { email?: string; error?: string }): Promise<Response> {
  const ticket = deps.forms.issue(request, startForm(connectionId));
  const providerOrigin = await deps.links.providerOrigin(connectionId);
  return page(
    status,
    'Link your account',
    `<p>Sign in to teamgraph; you are then sent to the connection's provider to prove who you are there, and asked to confirm the link.</p>${options.error ? `<p class="error" role="alert">${escape(options.error)}</p>` : ''}
<form method="post" action="/connections/${escape(connectionId)}/link">${formToken(ticket)}
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(options.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in and continue</button></form>`,
    providerOrigin ?? undefined,
    ticket,
  );
}

/** A page saying why linking failed, with its stable code. */
function failure(status: number, message: string, code: string, setCookie?: string): Response {
  const response = page(status, 'Linking failed', `<p class="error" role="alert">${escape(message)}</p><p class="muted">${code}</p>`);
  if (setCookie) response.headers.append('set-cookie', setCookie);
  return response;
}

/**
 * The cookie that binds a link attempt to the browser that started it, one per connection. On
 * https it is `__Host-` (no sibling host can plant one). Lax: the provider's redirect back is a
 * top-level GET, which carries it. It lives as long as the attempt: renewed when the provider's
 * answer starts the confirmation's ten minutes, cleared when the attempt ends.
 */
class LinkCookie {
  private readonly name: string;
  private readonly attributes: string;

  constructor(connectionId: string, secure: boolean) {
    this.name = `${secure ? '__Host-' : ''}twg_link_${connectionId}`;
    this.attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  read(request: Request): string | null {
    return cookie(request.headers.get('cookie'), this.name);
  }

  set(value: string): string {
    return `${this.name}=${value}; Max-Age=${LINK_ATTEMPT_SECONDS}; ${this.attributes}`;
  }

  clear(): string {
    return `${this.name}=; Max-Age=0; ${this.attributes}`;
  }
}

async function startLink(deps: LinkRouteDeps, connectionId: string, request: Request, base: string, address: string | undefined, binding: LinkCookie): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  const email = form.get('email') ?? '';
  const refusal = deps.forms.checkForm(request, form, startForm(connectionId));
  if (refusal) return signInPage(403, connectionId, deps, request, { email, error: refusal.message });
  const check = await checkSignIn(deps, request, form, address);
  if (!check.ok) return refused((status, error) => signInPage(status, connectionId, deps, request, { email, error }), check);
  const { authorizationUrl, browserBinding } = await deps.links.start(connectionId, check.account, `${base}/callback`, address);
  return new Response(null, {
    status: 303,
    headers: [
      ['location', authorizationUrl.toString()],
      ['set-cookie', binding.set(browserBinding)],
      ['set-cookie', check.rememberDevice],
      ['cache-control', 'no-store'],
      ['referrer-policy', 'no-referrer'],
    ],
  });
}

async function answered(deps: LinkRouteDeps, connectionId: string, request: Request, redirectUri: string, binding: LinkCookie): Promise<Response> {
  const browserBinding = binding.read(request);
  const answer = await deps.links.answer(connectionId, new URL(request.url), browserBinding, redirectUri);
  const ticket = deps.forms.issue(request, confirmForm(connectionId));
  const response = page(
    200,
    'Confirm the link',
    `<p>You are signed in to teamgraph as <strong>${escape(answer.accountEmail)}</strong>.</p>
<p>${escape(answer.provider)} says you are <strong>${escape(answer.externalId)}</strong> there. Linking them lets ${escape(answer.accountEmail)} see what ${escape(answer.externalId)} may see.</p>
<p>Only link if both are you. If you did not start this, choose Cancel.</p>
<form method="post" action="/connections/${escape(connectionId)}/link/confirm">${formToken(ticket)}<input type="hidden" name="confirmation" value="${escape(answer.confirmation)}">
<button type="submit" name="decision" value="link">Link ${escape(answer.externalId)} to ${escape(answer.accountEmail)}</button><button type="submit" name="decision" value="cancel">Cancel</button></form>`,
    undefined,
    ticket,
  );
  response.headers.append('set-cookie', binding.set(browserBinding!));
  return response;
}

async function confirmed(deps: LinkRouteDeps, connectionId: string, request: Request, binding: LinkCookie, address: string | undefined): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  // Refused before anything is read: the attempt stays for the browser's own page to confirm.
  const refusal = deps.forms.checkForm(request, form, confirmForm(connectionId));
  if (refusal) return failure(403, refusal.message, refusal.code);
  const decision = form.get('decision');
  if (decision !== 'link' && decision !== 'cancel') throw new LinkError('INVALID_STATE', 'Choose Link or Cancel.');
  const done = await deps.links.confirm(connectionId, form.get('confirmation') ?? '', binding.read(request), decision === 'link', address);
  const response = done.linked
    ? page(
        200,
        'Account linked',
        `<p>Your account is now linked to <strong>${escape(done.externalId)}</strong> at ${escape(done.provider)}. What that identity may see in the graph is visible to you from your next request.</p><p class="muted">You can close this window.</p>`,
      )
    : page(200, 'Nothing linked', '<p>The link was cancelled; nothing changed.</p><p class="muted">You can close this window.</p>');
  response.headers.append('set-cookie', binding.clear());
  return response;
}
