// The metrics endpoint: an HTTP server of its own on TEAMGRAPH_METRICS_PORT, apart from the public
// port, so that what a load balancer forwards never includes it. It answers GET /metrics only.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DbHandle } from '../db/handle.ts';
import type { Metrics } from './metrics.ts';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Starts serving `metrics`, with the database's pool and change feed and the process's own figures
 * added to them: on `server` when main.ts bound the port already (before any other work, so a busy
 * port is said at once), else on a server of its own at `port` of `host`.
 */
export async function serveMetrics(
  metrics: Metrics,
  { server: bound, port = 0, host = '127.0.0.1', database }: { server?: Server; port?: number; host?: string; database: Pick<DbHandle, 'stats'> },
): Promise<MetricsServer> {
  metrics.watchDatabase(database);
  metrics.collectProcessMetrics();
  const server: Server = bound ?? createServer();
  server.on('request', (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') return void response.writeHead(404, { 'content-type': 'text/plain' }).end('Only /metrics is served here.\n');
    if (request.method !== 'GET') return void response.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('Use GET.\n');
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('The metrics could not be collected.\n'),
    );
  });
  if (!bound) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
