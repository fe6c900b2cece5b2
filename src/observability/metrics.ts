// The service's Prometheus metrics: one registry per app (never prom-client's global one, so apps
// in one process keep apart), the instruments, and the calls that record them. Labels take only
// values from closed sets (routes, client kinds, public codes, schema fields), never a client's text.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DbHandle } from '../db/handle.ts';
import type { Logger } from '../shared/logger.ts';

export type CacheResult = 'hit' | 'miss' | 'uncached';

export class Metrics {
  readonly registry = new Registry();

  readonly requestDuration = new Histogram({
    name: 'teamgraph_http_request_duration_seconds',
    help: 'Time from a request’s arrival to its response (a streamed body not included), by route, GraphQL operation (root field), client kind and outcome (ok, a public error code, or http_<status>).',
    labelNames: ['route', 'operation', 'client', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly statementsPerRequest = new Histogram({
    name: 'teamgraph_sql_statements_per_request',
    help: 'SQL statements one request ran, by route and GraphQL operation.',
    labelNames: ['route', 'operation'] as const,
    buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly listPlans = new Counter({
    name: 'teamgraph_list_plan_total',
    help: 'Pages of objects listed, by the plan the visibility filter chose (forward window, merged streams, text index).',
    labelNames: ['plan'] as const,
    registers: [this.registry],
  });

  readonly auditAppend = new Histogram({
    name: 'teamgraph_audit_append_duration_seconds',
    help: 'Time to append one audit event to its organisation’s chain.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly credentialCache = new Counter({
    name: 'teamgraph_credential_cache_lookups_total',
    help: 'Credential lookups (sessions, admin API keys, Bitbucket tokens) by result: hit, miss, or uncached while the change feed is down.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly principalCache = new Counter({
    name: 'teamgraph_principal_cache_lookups_total',
    help: 'Viewer principal-set lookups by result: hit, miss, or uncached inside a mutation’s transaction.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly auditStreamDeliveries = new Counter({
    name: 'teamgraph_audit_stream_deliveries_total',
    help: 'Batches posted to audit streams by result (delivered, failed), and the events in them.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly auditStreamEvents = new Counter({
    name: 'teamgraph_audit_stream_events_delivered_total',
    help: 'Audit events that audit streams’ receivers accepted (at least once: a batch sent again counts again).',
    registers: [this.registry],
  });

  constructor(private readonly logger?: Logger) {}

  credentialLookup(result: CacheResult): void {
    this.credentialCache.inc({ result });
    this.logger?.debug('credential cache', { result });
  }

  principalLookup(result: CacheResult): void {
    this.principalCache.inc({ result });
    this.logger?.debug('principal cache', { result });
  }

  listPlan(plan: string, statements: number): void {
    this.listPlans.inc({ plan });
    this.logger?.debug('list plan', { plan, statements });
  }

  auditAppended(seconds: number): void {
    this.auditAppend.observe(seconds);
  }

  auditStreamPosted(result: 'delivered' | 'failed', events: number): void {
    this.auditStreamDeliveries.inc({ result });
    if (result === 'delivered') this.auditStreamEvents.inc(events);
  }

  /**
   * The database's pool and change feed, read at each scrape. PostgreSQL: the pg pool's
   * connections; the embedded database is one connection, in use or idle, with the statements
   * queued for it as waiting.
   */
  watchDatabase(database: Pick<DbHandle, 'stats'>): void {
    const gauge = (name: string, help: string, read: (g: Gauge) => void, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers: [this.registry], collect: function (this: Gauge) { read(this); } });
    gauge('teamgraph_db_pool_connections', 'Database connections by state (in_use, idle).', (g) => {
      const { pool } = database.stats();
      g.set({ state: 'in_use' }, pool.total - pool.idle);
      g.set({ state: 'idle' }, pool.idle);
    }, ['state']);
    gauge('teamgraph_db_pool_waiting', 'Requests waiting for a database connection.', (g) => g.set(database.stats().pool.waiting));
    gauge('teamgraph_db_pool_max', 'The most connections the pool opens.', (g) => g.set(database.stats().pool.max));
    new Counter({
      name: 'teamgraph_change_feed_reconnects_total',
      help: 'Times the change feed (LISTEN connection) came back after being lost; while down, credentials are not cached.',
      registers: [this.registry],
      collect: function (this: Counter) {
        this.reset();
        this.inc(database.stats().changeFeedReconnects);
      },
    });
  }

  /** The process's own figures (memory, CPU, event-loop lag), once a server publishes the registry. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }
}
