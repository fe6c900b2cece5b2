// The app on node:http: @whatwg-node/server turns Node requests into fetch Requests, and the
// peer's address travels beside them (the device page limits wrong codes per address).
//
// Issue 15: nothing but the app's error policy may answer. The adapter builds each request's URL
// from the Host header and answers its own failures with a stack trace, so the Host header is
// replaced by the configured public origin's before the adapter sees it (the app never reads the
// client's Host or a target's authority: its origin is configured), and app.fetch answers every
// error itself.
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import type { App } from './app.ts';

export function requestListener(app: App): RequestListener {
  const adapter = createServerAdapter<{ req: IncomingMessage }>((request, context) => app.fetch(request, { clientAddress: context.req.socket.remoteAddress }));
  const host = new URL(app.publicUrl).host;
  return (request, response) => {
    request.headers.host = host;
    // RFC 9112 §3.2.2: a server accepts the absolute form of a target; only its path counts here.
    if (request.url && !request.url.startsWith('/') && URL.canParse(request.url)) {
      const target = new URL(request.url);
      request.url = `${target.pathname}${target.search}`;
    }
    void adapter(request, response);
  };
}

export function createHttpServer(app: App): Server {
  return createServer(requestListener(app));
}
