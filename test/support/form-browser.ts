// Plays a browser for the server-rendered forms (login, device, 3LO link): it keeps its cookies,
// opens a form's page before submitting it, sends the page's hidden fields (the form ticket among
// them), and says where a request comes from as browsers do (Origin, Sec-Fetch-Site). Tests that
// forge requests from another site pass `from`.
export type Send = (request: Request) => Promise<Response>;

/** The authorization request twg sends (PKCE, loopback redirect), at `origin`: its page is the sign-in form. */
export const cliLoginUrl = (origin: string) =>
  `${origin}/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: 'twg-cli',
    redirect_uri: 'http://127.0.0.1:5555/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'st',
  })}`;

export interface Submission {
  /** The page whose form is sent; opened first unless `page` is given. */
  pageUrl: string;
  /** Fields over the form's own (hidden) fields. */
  fields: Record<string, string>;
  /** The page's HTML, when the test already holds it (e.g. an answer with a form). */
  page?: string;
  /** Where the browser says the request comes from; default: the page's own origin. */
  from?: { origin: string | null; site: string | null };
  /** Which of the page's forms, by its action; default: the first. */
  action?: string;
}

export class FormBrowser {
  private readonly jar = new Map<string, string>();

  /** `send` reaches the service (app.fetch, or fetch over a socket); other origins use fetch. */
  constructor(
    private readonly serviceOrigin: string,
    private readonly send: Send = fetch,
  ) {}

  /** A request as this browser sends it: with its cookies for the service, redirects not followed. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const ours = target.origin === this.serviceOrigin;
    if (ours && this.jar.size > 0) headers.set('cookie', [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const request = new Request(target, { ...init, headers, redirect: 'manual' });
    const response = ours ? await this.send(request) : await fetch(request);
    if (ours) this.keep(response);
    return response;
  }

  /** Opens a page and returns its HTML. */
  async open(url: string): Promise<{ response: Response; html: string }> {
    const response = await this.request(url);
    return { response, html: await response.text() };
  }

  /** Submits a form of a page as the person would, after opening the page. */
  async submit({ pageUrl, fields, page, from, action }: Submission): Promise<Response> {
    const html = page ?? (await this.open(pageUrl)).html;
    const form = formOf(html, action);
    if (!form) throw new Error(`no form${action ? ` to ${action}` : ''} on ${pageUrl}: ${html.slice(0, 300)}`);
    const origin = new URL(pageUrl).origin;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const says = from ?? { origin, site: 'same-origin' };
    if (says.origin !== null) headers.origin = says.origin;
    if (says.site !== null) headers['sec-fetch-site'] = says.site;
    return this.request(new URL(form.action, pageUrl).toString(), { method: 'POST', headers, body: new URLSearchParams({ ...form.hidden, ...fields }) });
  }

  /** Follows redirects from `url` (as a browser would, across origins) until a page answers. */
  async follow(url: string, hops = 5): Promise<Response> {
    let response = await this.request(url);
    while (hops-- > 0 && response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      response = await this.request(new URL(response.headers.get('location')!, url).toString());
    }
    return response;
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair.trim().split('=');
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value.join('=') === '') this.jar.delete(name);
      else this.jar.set(name, value.join('='));
    }
  }
}

/** The action and hidden fields of a page's form (the first, or the one posting to `action`). */
export function formOf(html: string, action?: string): { action: string; hidden: Record<string, string> } | null {
  for (const [, attributes, body] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const target = decode(/action="([^"]*)"/.exec(attributes)?.[1] ?? '');
    if (action && target !== action) continue;
    const hidden: Record<string, string> = {};
    for (const [input] of body.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input)?.[1];
      if (name) hidden[decode(name)] = decode(/value="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    return { action: target, hidden };
  }
  return null;
}

const decode = (text: string) => text.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
