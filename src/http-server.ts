// The app on node:http: @whatwg-node/server turns Node requests into fetch Requests, and the
// peer's address travels beside them (the device page limits wrong codes per address).
//
// Issue 15: nothing but the app's error policy may answer. The adapter builds each request's URL
// from the Host header and answers its own failures with a stack trace, so the Host header is
// replaced by the configured public origin's before the adapter sees it (the app never reads the
// client's Host or a target's authority: its origin is configured), and app.fetch answers every
// error itself.
//
// Issue 19: the server may listen before the app exists (main.ts binds the port before any other
// work, so a busy port is said at once); until then it answers 503. On shutdown it drains: no new
// connection, every request it accepted answered, idle keep-alive connections closed.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import type { App } from './app.ts';
import { errorResponse } from './http/error-response.ts';

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

export interface HttpServer {
  server: Server;
  /** From now on requests go to the app. */
  serve(app: App): void;
  /**
   * Stops accepting connections and waits up to `graceMs` for the requests in flight; then closes
   * every connection. Resolves with how many requests were cut off (0: all answered).
   */
  drain(graceMs: number): Promise<number>;
}

export function createHttpServer(app?: App): HttpServer {
  let listener: RequestListener | null = app ? requestListener(app) : null;
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  let settled: (() => void) | null = null;
  const server = createServer((request, response) => {
    inFlight.add(response);
    response.on('close', () => {
      inFlight.delete(response);
      if (!draining) return;
      server.closeIdleConnections();
      if (inFlight.size === 0) settled?.();
    });
    if (draining) response.setHeader('connection', 'close');
    if (listener) return listener(request, response);
    // PRODUCT §10's codes are a closed list: not a fault of the request, so INTERNAL with a sub-code, and 503.
    const starting = errorResponse(503, 'INTERNAL', 'The server is starting; try again in a moment.', randomUUID(), { 'retry-after': '1' }, 'STARTING');
    void starting.text().then((body) => response.writeHead(starting.status, Object.fromEntries(starting.headers)).end(body));
  });
  return {
    server,
    serve(next) {
      listener = requestListener(next);
    },
    async drain(graceMs) {
      draining = true;
      for (const response of inFlight) if (!response.headersSent) response.setHeader('connection', 'close');
      server.close();
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          settled = resolve;
          timer = setTimeout(resolve, graceMs);
        });
        clearTimeout(timer);
      }
      const cutOff = inFlight.size;
      server.closeAllConnections();
      return cutOff;
    },
  };
}
