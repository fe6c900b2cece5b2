// The services of one server process, built once from the database and the configuration: what
// the HTTP edge, the GraphQL resolvers, the operator command line, the demo and the benchmarks all
// act through. Nothing here knows of HTTP or GraphQL.
import type { Kysely } from 'kysely';
import { HolderCache } from './authz/accessors.ts';
import { PrincipalCache } from './authz/viewer-principals.ts';
import type { ChangeFeed } from './db/change-feed.ts';
import type { Database } from './db/database.ts';
import { AccountLinkService } from './modules/account-link/account-link.service.ts';
import { outboundFetch } from './shared/outbound-fetch.ts';
import { AdminKeyService } from './modules/admin-key/admin-key.service.ts';
import { AuditService } from './modules/audit/audit.service.ts';
import { AuditStreamSender, type AuditStreamSenderOptions } from './modules/audit-stream/audit-stream-sender.ts';
import { AuditStreamService } from './modules/audit-stream/audit-stream.service.ts';
import { BitbucketTokenService } from './modules/bitbucket-token/bitbucket-token.service.ts';
import { type Catalog, defaultCatalog } from './modules/cli-permission/catalog.ts';
import { CliSettingsService } from './modules/cli-permission/cli-settings.service.ts';
import { ConnectionService } from './modules/connection/connection.service.ts';
import { DirectoryService } from './modules/directory/directory.service.ts';
import type { CountryLookup } from './modules/ip-allowlist/country-lookup.ts';
import { IpAllowlistService } from './modules/ip-allowlist/ip-allowlist.service.ts';
import { OAuthService } from './modules/oauth/oauth.service.ts';
import { ObjectService } from './modules/object/object.service.ts';
import { OrgService } from './modules/org/org.service.ts';
import { type RateLimitBudgets, RateLimitService } from './modules/rate-limit/rate-limit.service.ts';
import { RelationshipService } from './modules/relationship/relationship.service.ts';
import { AccountSessionsService } from './modules/session/account-sessions.service.ts';
import { CredentialCache } from './modules/session/credentials/credential-cache.ts';
import { SessionRepository } from './modules/session/session.repository.ts';
import { type SessionLifetimes, SessionService } from './modules/session/session.service.ts';
import { type Clock, systemClock } from './shared/clock.ts';
import { Metrics } from './observability/metrics.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { SecretBox } from './shared/secret-box.ts';

export interface ServiceDeps {
  db: Kysely<Database>;
  clock?: Clock;
  catalog?: Catalog;
  logger?: Logger;
  /** Where the services count what they do; undefined: metrics of their own (nobody reads them unless served). */
  metrics?: Metrics;
  lifetimes?: SessionLifetimes;
  /** How long audit events are kept (PRODUCT §9: 180 days unless configured). */
  auditRetentionDays?: number;
  /** The country database for location rules; undefined: the shipped one, loaded on first use. */
  countries?: CountryLookup;
  /** Seals secrets the server sends on (3LO client secrets) and keys form tokens; undefined: a key for this process only. */
  secretKey?: Buffer;
  /** Lets 3LO providers be at loopback, private and link-local addresses (TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS). */
  allowPrivateProviderUrls?: boolean;
  /** The database's change notifications; with them credential lookups are cached (see credential-cache.ts). */
  changes?: ChangeFeed;
  /** Audit streams to plain http:// receivers (TEAMGRAPH_AUDIT_STREAM_ALLOW_HTTP); https:// only otherwise. */
  auditStreamAllowHttp?: boolean;
  /** The audit stream sender's timing (tests shorten it); undefined: the defaults of audit-stream-sender.ts. */
  auditStreamSender?: Partial<AuditStreamSenderOptions>;
  /** The operator's rate-limit budgets, points per hour (TEAMGRAPH_RATE_LIMIT_*); undefined: DEFAULT_BUDGETS. */
  rateLimitBudgets?: RateLimitBudgets;
}

export interface Services {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  catalog: Catalog;
  orgs: OrgService;
  connections: ConnectionService;
  sessions: SessionService;
  /** Who is signed in: accounts' live sessions, and ending one. */
  accountSessions: AccountSessionsService;
  objects: ObjectService;
  directory: DirectoryService;
  relationships: RelationshipService;
  cliSettings: CliSettingsService;
  /** Principal sets shared across requests, checked against each request's OrgSnapshot. */
  principals: PrincipalCache;
  /** Who holds each principal key (the accessors of objects), shared across requests under the principal version. */
  accessorHolders: HolderCache;
  oauth: OAuthService;
  adminKeys: AdminKeyService;
  audit: AuditService;
  auditStreams: AuditStreamService;
  /** Delivers the audit streams; main.ts starts and stops it (tests call its tick()). */
  auditStreamSender: AuditStreamSender;
  ipAllowlist: IpAllowlistService;
  accountLinks: AccountLinkService;
  bitbucketTokens: BitbucketTokenService;
  /** Credential lookups kept across requests; dropped on every change but a last use (see credential-cache.ts). */
  credentials: CredentialCache;
  /** Each credential's points per hour (issue 21). */
  rateLimits: RateLimitService;
}

export function createServices(deps: ServiceDeps): Services {
  const logger = deps.logger ?? createLogger();
  const metrics = deps.metrics ?? new Metrics(logger);
  const clock = deps.clock ?? systemClock;
  const catalog = deps.catalog ?? defaultCatalog;
  const credentials = new CredentialCache((result) => metrics.credentialLookup(result));
  if (deps.changes) {
    const stamps = new SessionRepository(deps.db);
    credentials.follow(deps.changes, (orgId) => stamps.credentialStamp(orgId)).catch((error) => logger.error('credential change feed failed; credentials are not cached', { error }));
  }
  const sessions = new SessionService(deps.db, clock, deps.lifetimes, credentials);
  const audit = new AuditService(deps.db, clock, deps.auditRetentionDays, (seconds) => metrics.auditAppended(seconds));
  const cliSettings = new CliSettingsService(deps.db, clock, catalog, audit);
  const ipAllowlist = new IpAllowlistService(deps.db, clock, audit, deps.countries);
  const secrets = deps.secretKey ? new SecretBox(deps.secretKey) : SecretBox.random();
  const allowPrivate = deps.allowPrivateProviderUrls ?? false;
  return {
    db: deps.db,
    clock,
    logger,
    metrics,
    catalog,
    orgs: new OrgService(deps.db, clock),
    connections: new ConnectionService(deps.db, clock, audit, logger),
    sessions,
    accountSessions: new AccountSessionsService(deps.db, clock, sessions, audit),
    objects: new ObjectService(deps.db, clock, catalog),
    directory: new DirectoryService(deps.db, clock),
    relationships: new RelationshipService(deps.db, clock),
    cliSettings,
    principals: new PrincipalCache(deps.db, { onLookup: (result) => metrics.principalLookup(result) }),
    accessorHolders: new HolderCache(deps.db),
    oauth: new OAuthService(deps.db, clock, catalog, sessions, cliSettings, ipAllowlist),
    ipAllowlist,
    accountLinks: new AccountLinkService(deps.db, clock, secrets, audit, ipAllowlist, { fetch: outboundFetch({ allowPrivate }), allowPrivate }),
    bitbucketTokens: new BitbucketTokenService(deps.db, clock, audit, credentials),
    adminKeys: new AdminKeyService(deps.db, clock, audit, credentials),
    credentials,
    audit,
    auditStreams: new AuditStreamService(deps.db, clock, audit, secrets, { allowHttp: deps.auditStreamAllowHttp ?? false, allowPrivate }),
    auditStreamSender: new AuditStreamSender(deps.db, clock, secrets, allowPrivate, logger, deps.auditStreamSender, (result, events) =>
      metrics.auditStreamPosted(result, events),
    ),
    rateLimits: new RateLimitService(deps.db, clock, audit, deps.rateLimitBudgets),
  };
}

