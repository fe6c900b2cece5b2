// The per-request context: who calls, the services, and per-request caches (the viewer's
// principal set, batched ACL checks and object loads). Nothing here outlives the request.
import DataLoader from 'dataloader';
import { AccessChecker } from '../authz/access-checker.ts';
import type { ViewerPrincipals } from '../authz/acl-engine.ts';
import { PermissionGate } from '../authz/permission-gate.ts';
import { NO_PRINCIPALS } from '../authz/viewer-principals.ts';
import type { ObjectRow } from '../authz/visibility-filter.ts';
import { ForbiddenError } from '../shared/errors.ts';
import type { Catalog } from '../modules/cli-permission/catalog.ts';
import type { AuditRecorder } from '../modules/audit/audit-recorder.ts';
import { ObjectRepository } from '../modules/object/object.repository.ts';
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
  access: AccessChecker;
  /** Live objects by id, batched; ACL not applied. */
  objectRows: DataLoader<string, ObjectRow | null>;
  /** The client's address (PRODUCT §7); undefined when unknown (or outside a request). */
  clientAddress?: string;
  /** What this request tells the audit log; null for connections. */
  audit: AuditRecorder | null;
  /** Per-request caches of other modules (e.g. relationship loaders), keyed by name. */
  cache: Map<string, unknown>;
  /** Work to start once the mutation's changes committed (e.g. a background deletion); see use-audit. */
  afterCommit: (() => void)[];
  /**
   * Resolves true once the caller's cached credentials are known to be current, false when they
   * changed (the HTTP layer then runs the request again). Nothing may be written before it is
   * true: useAudit waits for it before a mutation.
   */
  credentialsConfirmed: () => Promise<boolean>;
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
  }: { audit?: AuditRecorder | null; clientAddress?: string; credentialsConfirmed?: () => Promise<boolean> } = {},
): RequestContext {
  let principals: Promise<ViewerPrincipals> | undefined;
  const viewer = () =>
    (principals ??= caller.kind === 'account' ? services.principals.get(caller.orgId, caller.accountId, org.principalVersion) : Promise.resolve(NO_PRINCIPALS));
  const allowedByOrganization = Promise.resolve(services.cliSettings.allowedPermissions(org.cliSettings));
  const objectRows = new DataLoader<string, ObjectRow | null>(async (ids) => {
    const rows = await new ObjectRepository(services.db).findByIds(caller.orgId, ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  return {
    requestId,
    caller,
    services,
    catalog: services.catalog,
    gate: new PermissionGate(caller, services.catalog, () => allowedByOrganization, (permission) => audit?.used(permission)),
    viewer,
    // The checker's rows fill the row loader, so a checked object is not read twice.
    access: new AccessChecker(services.db, caller.orgId, viewer, (rows) => {
      for (const row of rows) objectRows.prime(row.id, row);
    }),
    objectRows,
    clientAddress,
    audit,
    cache: new Map(),
    afterCommit: [],
    credentialsConfirmed,
  };
}

/** Admin mutations name their organisation; it must be the caller's. */
export function requireOwnOrganization(ctx: RequestContext, orgId: string): void {
  if (orgId !== ctx.caller.orgId) throw new ForbiddenError(`You are not an admin of organisation ${orgId}.`);
}

/** A per-request memo: the first call builds the value, later calls reuse it. */
export function requestCached<T>(ctx: RequestContext, key: string, build: () => T): T {
  if (!ctx.cache.has(key)) ctx.cache.set(key, build());
  return ctx.cache.get(key) as T;
}
