// Serves a test app over real HTTP on 127.0.0.1 and an ephemeral port, with the server src/main.ts
// uses, for tests that must talk over sockets (OAuth clients, concurrent requests).
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../src/http-server.ts';
import type { TestApp } from './app.ts';

export interface TestServer {
  /** The origin, e.g. `http://127.0.0.1:54321`, without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

export async function serveTestApp(t: TestApp): Promise<TestServer> {
  const server = createHttpServer(t.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of the test's fetch would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
