// The per-request context: who calls, the services, and per-request caches (the viewer's
// principal set, batched ACL checks and object loads). Nothing here outlives the request.
import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import { AccessChecker } from '../authz/access-checker.ts';
import type { ViewerPrincipals } from '../authz/acl-engine.ts';
import { PermissionGate } from '../authz/permission-gate.ts';
import { loadViewerPrincipals, NO_PRINCIPALS } from '../authz/viewer-principals.ts';
import type { ObjectRow } from '../authz/visibility-filter.ts';
import type { Database } from '../db/database.ts';
import type { Catalog } from '../modules/cli-permission/catalog.ts';
import type { CliSettingsService } from '../modules/cli-permission/cli-settings.service.ts';
import type { DirectoryService } from '../modules/directory/directory.service.ts';
import { ObjectRepository } from '../modules/object/object.repository.ts';
import type { ObjectService } from '../modules/object/object.service.ts';
import type { OrgService } from '../modules/org/org.service.ts';
import type { RelationshipService } from '../modules/relationship/relationship.service.ts';
import type { Caller } from '../modules/session/caller.ts';
import type { SessionService } from '../modules/session/session.service.ts';
import type { Clock } from '../shared/clock.ts';

export interface Services {
  db: Kysely<Database>;
  clock: Clock;
  catalog: Catalog;
  orgs: OrgService;
  sessions: SessionService;
  objects: ObjectService;
  directory: DirectoryService;
  relationships: RelationshipService;
  cliSettings: CliSettingsService;
}

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
  /** Per-request caches of other modules (e.g. relationship loaders), keyed by name. */
  cache: Map<string, unknown>;
}

export function createRequestContext(services: Services, caller: Caller, requestId: string): RequestContext {
  let principals: Promise<ViewerPrincipals> | undefined;
  const viewer = () =>
    (principals ??= caller.kind === 'account' ? loadViewerPrincipals(services.db, caller.orgId, caller.accountId) : Promise.resolve(NO_PRINCIPALS));
  return {
    requestId,
    caller,
    services,
    catalog: services.catalog,
    gate: new PermissionGate(caller, services.catalog, () => services.cliSettings.allowedPermissions(caller.orgId)),
    viewer,
    access: new AccessChecker(services.db, caller.orgId, viewer),
    objectRows: new DataLoader(async (ids) => {
      const rows = await new ObjectRepository(services.db).findByIds(caller.orgId, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    cache: new Map(),
  };
}

/** A per-request memo: the first call builds the value, later calls reuse it. */
export function requestCached<T>(ctx: RequestContext, key: string, build: () => T): T {
  if (!ctx.cache.has(key)) ctx.cache.set(key, build());
  return ctx.cache.get(key) as T;
}
