// The browser side of 3LO links: GET /connections/<id>/link shows a sign-in form, its POST
// signs the person in and sends the browser to the provider with a cookie binding the attempt
// to it, and GET /connections/<id>/link/callback completes the link. The cookie is what stops a
// link started by one person from being completed in another's browser.
import { escape, page } from '../oauth/pages.ts';
import type { OAuthService } from '../oauth/oauth.service.ts';
import { type AccountLinkService, LinkError } from './account-link.service.ts';

const PATH = /^\/connections\/([A-Za-z0-9_-]{1,80})\/link(\/callback)?$/;
const COOKIE = 'twg_link';

export interface LinkRouteDeps {
  links: AccountLinkService;
  oauth: OAuthService;
  /** This service's public origin, never a request's Host (issue 15). */
  publicUrl: string;
}

export type LinkHandler = (request: Request, clientAddress: string | undefined) => Promise<Response>;

export function linkRoutes(deps: LinkRouteDeps): (pathname: string) => LinkHandler | undefined {
  return (pathname) => {
    const match = PATH.exec(pathname);
    if (!match) return undefined;
    const [, connectionId, callback] = match;
    return async (request, address) => {
      const base = `${deps.publicUrl}/connections/${connectionId}/link`;
      try {
        if (callback && request.method === 'GET') return await completeLink(deps, connectionId, request, `${base}/callback`);
        if (!callback && request.method === 'GET') return linkPage(200, connectionId, await deps.links.providerOrigin(connectionId), {});
        if (!callback && request.method === 'POST') return await startLink(deps, connectionId, request, base, address);
        return new Response(null, { status: 405, headers: { allow: callback ? 'GET' : 'GET, POST' } });
      } catch (error) {
        if (error instanceof LinkError) return page(error.status, 'Linking failed', `<p class="error" role="alert">${escape(error.message)}</p><p class="muted">${error.code}</p>`);
        throw error;
      }
    };
  };
}

function linkPage(status: number, connectionId: string, providerOrigin: string | null, options: { email?: string; error?: string }): Response {
  return page(
    status,
    'Link your account',
    `<p>Sign in to teamgraph; you are then sent to the connection's provider to prove who you are there, and that identity is linked to your account.</p>${options.error ? `<p class="error" role="alert">${escape(options.error)}</p>` : ''}
<form method="post" action="/connections/${escape(connectionId)}/link">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(options.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in and continue</button></form>`,
    providerOrigin ?? undefined,
  );
}

async function startLink(deps: LinkRouteDeps, connectionId: string, request: Request, base: string, address: string | undefined): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  const email = form.get('email') ?? '';
  const check = await deps.oauth.checkPassword(email, form.get('password') ?? '');
  if (!check.ok) {
    const message = check.reason === 'throttled' ? 'Too many wrong passwords for this e-mail. Wait 15 minutes and try again.' : 'Wrong e-mail or password, or the account is deactivated.';
    return linkPage(check.reason === 'throttled' ? 429 : 401, connectionId, await deps.links.providerOrigin(connectionId), { email, error: message });
  }
  const { authorizationUrl, browserBinding } = await deps.links.start(connectionId, check.account, `${base}/callback`, address);
  const secure = base.startsWith('https:') ? '; Secure' : '';
  return new Response(null, {
    status: 303,
    headers: {
      location: authorizationUrl.toString(),
      // Lax: the provider's redirect back is a top-level GET, which carries it.
      'set-cookie': `${COOKIE}=${browserBinding}; Path=/connections/${connectionId}/link; Max-Age=600; HttpOnly; SameSite=Lax${secure}`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
  });
}

async function completeLink(deps: LinkRouteDeps, connectionId: string, request: Request, redirectUri: string): Promise<Response> {
  const binding = cookie(request.headers.get('cookie'), COOKIE);
  const linked = await deps.links.complete(connectionId, new URL(request.url), binding, redirectUri);
  const response = page(
    200,
    'Account linked',
    `<p>Your account is now linked to <strong>${escape(linked.externalId)}</strong> at ${escape(linked.provider)}. What that identity may see in the graph is visible to you from your next request.</p><p class="muted">You can close this window.</p>`,
  );
  response.headers.append('set-cookie', `${COOKIE}=; Path=/connections/${connectionId}/link; Max-Age=0; HttpOnly; SameSite=Lax`);
  return response;
}

function cookie(header: string | null, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || null;
  }
  return null;
}
