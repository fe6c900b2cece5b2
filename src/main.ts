// Process entry: loadConfig -> bind the port -> open the database -> migrate -> demo data ->
// serve -> on SIGTERM/SIGINT drain and shut down (issue 19).
import type { Server } from 'node:net';
import { createServer } from 'node:http';
import path from 'node:path';
import { createApp } from './app.ts';
import { loadConfig, publicOrigin } from './config.ts';
import { openDatabase } from './db/client.ts';
import { migrateToLatest } from './db/migrator.ts';
import { type DemoSummary, loadDemoIfEmpty } from './demo.ts';
import { createHttpServer } from './http-server.ts';
import { startTracing } from './observability/tracing.ts';
import { serveMetrics } from './observability/metrics-server.ts';
import { createLogger } from './shared/logger.ts';
import { isLoopbackHost } from './shared/ip-address.ts';
import { keyFromFile } from './shared/secret-box.ts';

/** What a signal does once the server serves; before that, a signal ends start-up at once. */
let shutdown: ((signal: NodeJS.Signals) => Promise<void>) | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shutdown) return void shutdown(signal);
    process.stderr.write(`teamgraph stopped by ${signal} during start-up\n`);
    process.exit(1);
  });
}

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // The port first: a busy one is said before the database is opened, migrated or filled. Until
  // the app exists the server answers 503. The public origin may be the listening address
  // (loopback, PORT=0), so it is known only once bound.
  const edge = createHttpServer();
  await listen(edge.server, config.port, config.host, 'PORT');
  // Issue 19: Prometheus metrics on a port of their own, never the public one; off unless TEAMGRAPH_METRICS_PORT.
  const metricsPort = config.metricsPort === undefined ? null : createServer();
  if (metricsPort) await listen(metricsPort, config.metricsPort!, config.host, 'TEAMGRAPH_METRICS_PORT');
  const address = edge.server.address();
  const base = publicOrigin(config, typeof address === 'object' && address ? address.port : config.port);

  const database = await openDatabase(config, {
    statementTimeoutMs: config.statementTimeoutMs,
    readsOnWorkers: config.citusReadsOnWorkers,
    onWorkerUnreachable: (node, error) => logger.warn('citus worker unreachable: its queries go through the coordinator for a minute', { node, error }),
  });
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) logger.info('migrated', { applied });
  // Issue 19: OpenTelemetry traces when OTEL_* names an endpoint (else a no-op that loads no SDK).
  // Started after the migrations, whose statements are no request's work; shut down (flushing the
  // last spans) after the server and the database have closed.
  const tracing = await startTracing(config.tracing);
  let draining = false;
  let demo: DemoSummary | null = null;
  const app = createApp({
    db: database.db,
    logger,
    lifetimes: config.lifetimes,
    publicUrl: base,
    trustedProxies: config.trustedProxies,
    allowPrivateProviderUrls: config.allowPrivateProviderUrls,
    auditRetentionDays: config.auditRetentionDays,
    rateLimitBudgets: config.rateLimitBudgets,
    secretKey: config.secretKey ?? keyFromFile(path.join(config.dataDir, 'secret.key')),
    changes: database.changes,
    auditStreamAllowHttp: config.auditStreams.allowHttp,
    auditStreamSender: { flushSeconds: config.auditStreams.flushSeconds, leaseSeconds: config.auditStreams.leaseSeconds },
    draining: () => draining,
    // The demo's token goes into GraphiQL only on a loopback address: whoever reaches the page gets it.
    graphiqlHeaders: () => (demo && isLoopbackHost(config.host) ? { Authorization: `Bearer ${demo.tokens.alice}` } : undefined),
  });
  if (config.demo) demo = await loadDemoIfEmpty(app.services);
  const metricsServer = metricsPort ? await serveMetrics(app.metrics, { server: metricsPort, database }) : null;
  if (metricsServer) logger.info('metrics served', { port: metricsServer.port, path: '/metrics' });

  // PRODUCT §9: events past the retention go, at start and then hourly; so do the rate-limit
  // windows that have ended (issue 21).
  let purging: Promise<unknown> = Promise.resolve();
  const purge = () =>
    (purging = Promise.all([
      app.services.audit.purgeExpired().then(
        (purged) => purged.length > 0 && logger.info('purged audit events', { purged }),
        (error) => logger.error('audit purge failed', { error }),
      ),
      app.services.rateLimits.purgeEnded().catch((error) => logger.error('rate-limit purge failed', { error })),
    ]));
  void purge();
  // Issue 5: a connection deletion interrupted by a stop carries on.
  void app.services.connections.resumeDeletions();
  const purgeTimer = setInterval(purge, 3600 * 1000);
  purgeTimer.unref();
  // Issue 21: audit streams are delivered apart from the requests, by whichever process holds each stream's lease.
  app.services.auditStreamSender.start();

  // Issue 19: not ready at once, then every accepted request answered (and so audited: the event
  // is written before the response leaves, http/audited.ts), then the background work and the
  // database. A second signal does not wait.
  shutdown = async (signal) => {
    if (draining) {
      logger.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    draining = true;
    logger.info('shutting down: finishing the requests in flight', { signal, graceSeconds: config.shutdownGraceMs / 1000 });
    clearInterval(purgeTimer);
    const cutOff = await edge.drain(config.shutdownGraceMs);
    if (cutOff > 0) logger.warn('the grace period ended with requests unanswered', { cutOff });
    // The sender goes after the requests: it delivers what they appended, then gives up its leases.
    await Promise.all([purging, app.services.connections.pauseDeletions(), app.services.auditStreamSender.stop()]);
    await metricsServer?.close();
    await database.close();
    await tracing.shutdown();
    logger.info('stopped', { signal });
    process.exit(cutOff > 0 ? 1 : 0);
  };

  edge.serve(app);
  const where = database.backend === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL';
  process.stdout.write(`teamgraph is listening on ${base} (${where})\nGraphiQL: ${base}/graphql\n`);
  if (demo) process.stdout.write(demo.instructions);
  else if (config.demo) process.stdout.write('Demo data not loaded: the database already holds other organisations.\n');
}

/** Binds, or says in one sentence why not and what to do. */
function listen(server: Server, port: number, host: string, variable: 'PORT' | 'TEAMGRAPH_METRICS_PORT'): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (error.code === 'EADDRINUSE') reject(new Error(`Port ${port} on ${host} is already in use: stop the process listening there, or set ${variable} to a free port.`));
      else if (error.code === 'EACCES') reject(new Error(`Listening on ${where} needs privileges this process lacks: set ${variable} above 1023.`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new Error(`HOST=${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1 for this machine only).`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
}

main().catch((error) => {
  process.stderr.write(`teamgraph could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
