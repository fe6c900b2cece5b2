// The per-request context: who calls, the services, and per-request caches (the viewer's
// principal set, batched ACL checks, the object and relationship reads). Nothing here outlives
// the request.
import { AccessChecker } from '../authz/access-checker.ts';
import type { ViewerPrincipals } from '../authz/acl-engine.ts';
import { PermissionGate } from '../authz/permission-gate.ts';
import { NO_PRINCIPALS } from '../authz/viewer-principals.ts';
import { ForbiddenError, UnauthenticatedError } from '../shared/errors.ts';
import type { Catalog } from '../modules/cli-permission/catalog.ts';
import type { ActionAuthor } from '../modules/audit/audit-event.ts';
import type { AuditRecorder } from '../modules/audit/audit-recorder.ts';
import type { RateLimitMeter } from '../modules/rate-limit/rate-limit-meter.ts';
import { pointsOf, type RateLimitStatus } from '../modules/rate-limit/rate-limit.service.ts';
import { ObjectReadService } from '../modules/object/object-read.service.ts';
import { AccountReadService } from '../modules/org/account-read.service.ts';
import { RelationshipReadService } from '../modules/relationship/relationship-read.service.ts';
import type { Caller, OrgSnapshot } from '../modules/session/caller.ts';
import type { Services } from '../services.ts';

export interface RequestContext {
  requestId: string;
  caller: Caller;
  services: Services;
  catalog: Catalog;
  gate: PermissionGate;
  /** The caller's principal set, computed at most once per request. */
  viewer(): Promise<ViewerPrincipals>;
  /** Objects as this caller may read them; every resolver that returns objects asks it. */
  objects: ObjectReadService;
  /** Relationships as this caller may read them. */
  relationships: RelationshipReadService;
  /** Accounts' sites, sessions and session counts, batched across a page. */
  accounts: AccountReadService;
  /** The client's address (PRODUCT §7); undefined when unknown (or outside a request). */
  clientAddress?: string;
  /** What this request tells the audit log; null for connections. */
  audit: AuditRecorder | null;
  /** Work to start once the mutation's changes committed (e.g. a background deletion); see use-audit. */
  afterCommit: (() => void)[];
  /**
   * Resolves true once the caller's cached credentials are known to be current, false when they
   * changed (the HTTP layer then runs the request again). Nothing may be written before it is
   * true: see requireCurrentCredentials.
   */
  credentialsConfirmed: () => Promise<boolean>;
  /** Tells the HTTP layer the mutation's transaction collided with another and was refused whole (db/collisions.ts): it runs the request again. */
  collided: () => void;
  /** The caller's rate limit (issue 21); see plugins/use-rate-limit.ts. */
  rateLimit: {
    /** Whether this request is charged (requests over HTTP); false outside a request. */
    metered: boolean;
    /** Charges an operation's graphql-armor cost, in points, to the caller's credential. */
    charge(costUnits: number): Promise<RateLimitStatus>;
    /** This request's charge, or the budget as it stands when nothing was charged. */
    current(): Promise<RateLimitStatus>;
  };
}

/**
 * Step 4 of the no-stale-access protocol (modules/session/credentials/credential-cache.ts): what
 * writes (a mutation: useAudit; a query field that writes, such as verifyAuditChain) waits until
 * the caller's cached credentials are confirmed, and runs nothing when they changed: the HTTP
 * layer then starts the request again from the database.
 */
export async function requireCurrentCredentials(context: RequestContext): Promise<void> {
  if (!(await context.credentialsConfirmed())) throw new UnauthenticatedError('The credentials changed while the request was on its way.');
}

/** The last argument is what the HTTP layer knows beyond the caller; absent outside a request (benchmarks). */
export function createRequestContext(
  services: Services,
  caller: Caller,
  org: OrgSnapshot,
  requestId: string,
  {
    audit = null,
    clientAddress,
    credentialsConfirmed = () => Promise.resolve(true),
    collided = () => {},
    rateLimit,
  }: { audit?: AuditRecorder | null; clientAddress?: string; credentialsConfirmed?: () => Promise<boolean>; collided?: () => void; rateLimit?: RateLimitMeter } = {},
): RequestContext {
  let principals: Promise<ViewerPrincipals> | undefined;
  const viewer = () =>
    (principals ??= caller.kind === 'account' ? services.principals.get(caller.orgId, caller.accountId, org.principalVersion) : Promise.resolve(NO_PRINCIPALS));
  const allowedByOrganization = Promise.resolve(services.cliSettings.allowedPermissions(org.cliSettings));
  const gate = new PermissionGate(caller, services.catalog, () => allowedByOrganization, (permission) => audit?.used(permission));
  // The checker's rows fill the object reads' row loader, so a checked object is not read twice.
  const access = new AccessChecker(services.db, caller.orgId, viewer, (rows) => {
    for (const row of rows) objects.rows.prime(row.id, row);
  });
  const objects = new ObjectReadService({
    db: services.db,
    caller,
    catalog: services.catalog,
    gate,
    access,
    viewer,
    audit,
    onListPlan: ({ plan, statements }) => services.metrics.listPlan(plan, statements),
    holders: (keys) => services.accessorHolders.get(caller.orgId, keys, org.principalVersion),
  });
  return {
    requestId,
    caller,
    services,
    catalog: services.catalog,
    gate,
    viewer,
    objects,
    relationships: new RelationshipReadService(services.db, caller, gate, objects),
    accounts: new AccountReadService(services.db, caller.orgId, services.accountSessions),
    clientAddress,
    audit,
    afterCommit: [],
    credentialsConfirmed,
    collided,
    rateLimit: {
      metered: rateLimit !== undefined,
      charge: (costUnits) => (rateLimit ? rateLimit.charge(caller, org, pointsOf(costUnits)) : services.rateLimits.peek(caller, org)),
      current: async () => rateLimit?.status ?? services.rateLimits.peek(caller, org),
    },
  };
}

/** Admin mutations name their organisation; it must be the caller's. */
export function requireOwnOrganization(ctx: RequestContext, orgId: string): void {
  if (orgId !== ctx.caller.orgId) throw new ForbiddenError(`You are not an admin of organisation ${orgId}.`);
}

/** Who the request's admin actions are recorded as; the services performing them append the events. */
export function actingAs(ctx: RequestContext): ActionAuthor {
  if (!ctx.audit) throw new Error('an admin action by a caller the audit log does not follow');
  return ctx.audit;
}
