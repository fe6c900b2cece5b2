// Serves an app over real HTTP on 127.0.0.1 and an ephemeral port, with the request listener
// src/main.ts uses, for tests that must talk over sockets (OAuth clients, concurrent requests).
// As in main.ts, the socket is bound first: the app's public origin is the address it listens on.
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app.ts';
import { createHttpServer } from '../../src/http-server.ts';

export interface TestServer {
  /** The origin, e.g. `http://127.0.0.1:54321`, without a trailing slash. */
  url: string;
  /** Stops listening; a second call does nothing. */
  close(): Promise<void>;
}

export async function serveOnLoopback(makeApp: (publicUrl: string) => App): Promise<TestServer & { app: App }> {
  const edge = createHttpServer();
  const { server } = edge;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app = makeApp(url);
  edge.serve(app);
  let closed: Promise<void> | null = null;
  return {
    url,
    app,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of the test's fetch would otherwise hold close() open.
        server.closeAllConnections();
      })),
  };
}
