// Process entry: loadConfig -> open the database -> migrate -> demo data -> listen -> shut down
// gracefully on SIGINT/SIGTERM.
import { createApp } from './app.ts';
import { loadConfig, publicOrigin } from './config.ts';
import { openDatabase } from './db/client.ts';
import { migrateToLatest } from './db/migrator.ts';
import { loadDemoIfEmpty } from './demo.ts';
import { requestListener } from './http-server.ts';
import { serveMetrics } from './observability/metrics-server.ts';
import { createLogger } from './shared/logger.ts';
import { keyFromFile } from './shared/secret-box.ts';
import { createServer } from 'node:http';
import path from 'node:path';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config, { statementTimeoutMs: config.statementTimeoutMs });
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) logger.info('migrated', { applied });
  // The public origin may be the listening address (loopback, PORT=0): listen first, then answer.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const base = publicOrigin(config, typeof address === 'object' && address ? address.port : config.port);
  const app = createApp({
    db: database.db,
    logger,
    lifetimes: config.lifetimes,
    publicUrl: base,
    trustedProxies: config.trustedProxies,
    allowPrivateProviderUrls: config.allowPrivateProviderUrls,
    auditRetentionDays: config.auditRetentionDays,
    secretKey: config.secretKey ?? keyFromFile(path.join(config.dataDir, 'secret.key')),
    changes: database.changes,
  });
  server.on('request', requestListener(app));

  // Issue 19: Prometheus metrics on a port of their own, never the public one; off unless TEAMGRAPH_METRICS_PORT.
  const metricsServer = config.metricsPort === undefined ? null : await serveMetrics(app.metrics, { port: config.metricsPort, host: config.host, database });
  if (metricsServer) logger.info('metrics served', { port: metricsServer.port, path: '/metrics' });

  const demo = config.demo ? await loadDemoIfEmpty(app.services) : null;
  const where = database.backend === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL';
  process.stdout.write(`teamgraph is listening on ${base} (${where})\nGraphiQL: ${base}/graphql\n`);
  if (demo) process.stdout.write(demo.instructions);

  // PRODUCT §9: events past the retention go, at start and then hourly.
  const purge = () =>
    app.services.audit.purgeExpired().then(
      (purged) => purged.length > 0 && logger.info('purged audit events', { purged }),
      (error) => logger.error('audit purge failed', { error }),
    );
  void purge();
  // Issue 5: a connection deletion interrupted by a stop carries on.
  void app.services.connections.resumeDeletions();
  const purgeTimer = setInterval(purge, 3600 * 1000);
  purgeTimer.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    clearInterval(purgeTimer);
    server.close();
    server.closeAllConnections();
    await metricsServer?.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`teamgraph could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
