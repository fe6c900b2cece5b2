// The app on node:http: @whatwg-node/server turns Node requests into fetch Requests, and the
// peer's address travels beside them (the device page limits wrong codes per address).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import type { App } from './app.ts';

export function createHttpServer(app: App): Server {
  return createServer(createServerAdapter<{ req: IncomingMessage }>((request, context) => app.fetch(request, { clientAddress: context.req.socket.remoteAddress })));
}
