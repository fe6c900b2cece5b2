// Objects as one request's caller may read them (PRODUCT §3, §5): every object a resolver returns
// comes from here. An invisible object is null or left out, never an error (that would reveal it);
// a visible object of a type the request may not read is RESTRICTED. Built once per request with
// the caller's principal set, access checker and permission gate; the GraphQL layer only parses
// arguments, calls it and shapes the answer.
import DataLoader from 'dataloader';
import type { Kysely, Selectable } from 'kysely';
import { AccessChecker } from '../../authz/access-checker.ts';
import { type AclAction, principalKey } from '../../authz/acl.ts';
import { type HolderSource, listAccessors } from '../../authz/accessors.ts';
import { explainAccess, type RawPermission, type ViewerPrincipals } from '../../authz/acl-engine.ts';
import type { PermissionGate, TypeAction } from '../../authz/permission-gate.ts';
import { loadViewerPrincipals } from '../../authz/viewer-principals.ts';
import { listVisibleObjects, type ObjectRow, type VisibilityPlanTrace } from '../../authz/visibility-filter.ts';
import type { Database } from '../../db/database.ts';
import { type ConnectionShape, decodeCursor, encodeCursor, pageSize, toConnection } from '../../shared/cursor.ts';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../shared/errors.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { Catalog } from '../cli-permission/catalog.ts';
import type { Caller } from '../session/caller.ts';
import { OrgRepository } from '../org/org.repository.ts';
import type { AccountTable } from '../org/org.table.ts';
import { ObjectRepository } from './object.repository.ts';

/** Issue 15: a text filter is matched against every candidate row; its cost grows with its length. */
export const MAX_TEXT_FILTER = 200;

export interface ObjectFilter {
  cloudIds?: string[] | null;
  types?: string[] | null;
  products?: string[] | null;
  containerId?: string | null;
  text?: string | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface ObjectReadDeps {
  db: Kysely<Database>;
  caller: Caller;
  catalog: Catalog;
  gate: PermissionGate;
  access: AccessChecker;
  viewer: () => Promise<ViewerPrincipals>;
  /** What the request tells the audit log; null for connections. */
  audit: AuditRecorder | null;
  /** Hears which plan the list filter chose for each page (the metrics). */
  onListPlan?: (trace: VisibilityPlanTrace) => void;
  /** Who holds principal keys, for accessors (cached under the request's principal version); default: read each time. */
  holders?: HolderSource;
}

const objectCursor = (row: ObjectRow) => encodeCursor([row.last_updated_at.toISOString(), row.id]);

function afterPosition(after: string | null | undefined) {
  if (!after) return null;
  const [time, id] = decodeCursor(after, ['string', 'string']) as [string, string];
  const lastUpdatedAt = new Date(time);
  // Issue 15: the API writes a stored time as toISOString() does, with a four-digit year; a time
  // out of that form (and of PostgreSQL's range) is not one of its cursors.
  if (!/^\d{4}-/.test(time) || Number.isNaN(lastUpdatedAt.getTime()) || lastUpdatedAt.toISOString() !== time) {
    throw new BadUserInputError('INVALID_CURSOR', 'The cursor is not one this API returned.');
  }
  return { lastUpdatedAt, id };
}

export class ObjectReadService {
  /** Live objects by id, batched; ACL not applied. The access checker's rows fill it. */
  readonly rows: DataLoader<string, ObjectRow | null>;

  constructor(private readonly deps: ObjectReadDeps) {
    this.rows = new DataLoader(async (ids) => {
      const rows = await new ObjectRepository(deps.db).findByIds(deps.caller.orgId, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** A live object the caller may view, or null. A connection sees its own objects. */
  async visible(id: string): Promise<ObjectRow | null> {
    const caller = this.deps.caller;
    if (caller.kind === 'connection') {
      const row = await this.rows.load(id);
      return row?.connection_id === caller.connectionId ? row : null;
    }
    // The decision's statement also loads the row (and primes `rows` with it).
    if (!(await this.deps.access.can(id, 'VIEW'))) return null;
    return this.rows.load(id);
  }

  /** As visible, and RESTRICTED when the request may not read objects of its type. */
  async readable(id: string): Promise<ObjectRow | null> {
    const row = await this.visible(id);
    if (row && this.deps.caller.kind === 'account') {
      await this.deps.gate.requireType(row.type, 'read');
      this.deps.audit?.touched(row.type);
    }
    return row;
  }

  async byExternalId(connectionId: string, type: string, externalId: string): Promise<ObjectRow | null> {
    const id = await new ObjectRepository(this.deps.db).findIdByExternalId(this.deps.caller.orgId, connectionId, type, externalId);
    return id ? this.readable(id) : null;
  }

  /** Query.objects: the filter's types are checked for read permission first (PRODUCT §5). */
  async list(filter: ObjectFilter | null | undefined, page: PageArgs): Promise<ConnectionShape<ObjectRow>> {
    const types = await this.typesForFilter(filter);
    if (filter?.containerId && !(await this.visible(filter.containerId))) return toConnection([], pageSize(page.first), objectCursor);
    return this.page({ ...filter, types }, page);
  }

  /** GraphObject.children: the visible objects directly inside a container, of readable types. */
  async children(containerId: string, page: PageArgs): Promise<ConnectionShape<ObjectRow>> {
    return this.page({ types: await this.deps.gate.readableTypes(), containerId }, page);
  }

  /** One page of visible objects; the only way objects are listed. */
  private async page(filter: ObjectFilter & { types: string[] }, { first, after }: PageArgs): Promise<ConnectionShape<ObjectRow>> {
    const size = pageSize(first);
    const position = afterPosition(after);
    const { caller, audit, catalog } = this.deps;
    if (caller.kind !== 'account') throw new ForbiddenError('Listing objects needs a signed-in account.');
    const trace = {} as Partial<VisibilityPlanTrace>;
    const rows = await listVisibleObjects(
      this.deps.db,
      caller.orgId,
      await this.deps.viewer(),
      { types: filter.types, cloudIds: filter.cloudIds, containerId: filter.containerId, text: filter.text, updatedAfter: filter.updatedAfter, updatedBefore: filter.updatedBefore },
      { after: position, limit: size + 1 },
      trace as VisibilityPlanTrace,
    );
    // An empty answer decided without SQL (no readable type, an inactive viewer) chose no plan.
    if (trace.plan) this.deps.onListPlan?.(trace as VisibilityPlanTrace);
    for (const row of rows) this.rows.prime(row.id, row);
    const connection = toConnection(rows, size, objectCursor);
    if (audit) {
      for (const { node } of connection.edges) {
        audit.touched(node.type);
        audit.used(catalog.objectType(node.type)!.readPermission);
      }
    }
    return connection;
  }

  /** The types a filter names, each checked for read permission; all readable types when unnamed. */
  private async typesForFilter(filter: ObjectFilter | null | undefined): Promise<string[]> {
    const { catalog, gate } = this.deps;
    const named = new Set<string>();
    for (const name of filter?.types ?? []) {
      if (!catalog.objectType(name)) throw new BadUserInputError('UNKNOWN_OBJECT_TYPE', `"${name}" is not an object type of the catalogue.`);
      named.add(name);
    }
    for (const product of filter?.products ?? []) {
      for (const type of catalog.objectTypes) if (type.product === product) named.add(type.name);
    }
    if (!filter?.types?.length && !filter?.products?.length) return gate.readableTypes();
    // PRODUCT §5: a filter naming something the request may not read is RESTRICTED.
    for (const name of named) await gate.requireType(name, 'read');
    return filter.types?.length && filter.products?.length
      ? [...named].filter((name) => filter.types!.includes(name) && filter.products!.includes(catalog.objectType(name)!.product))
      : [...named];
  }

  get orgId(): string {
    return this.deps.caller.orgId;
  }

  /** A change by a person names an object type their request may write or delete (else RESTRICTED). */
  async requireType(type: string, action: Exclude<TypeAction, 'read'>): Promise<void> {
    await this.deps.gate.requireType(type, action);
  }

  /** The object a person changes (PRODUCT §3, §5): visible (else NOT_FOUND) and of a type the request may change (else RESTRICTED). */
  async toChange(id: string, action: Exclude<TypeAction, 'read'>): Promise<ObjectRow> {
    const row = await this.visible(id);
    if (!row) throw new NotFoundError(`No object ${id}.`);
    await this.deps.gate.requireType(row.type, action);
    this.changed(row.type, row.id);
    return row;
  }

  /** PRODUCT §3: the ACL allows the action on an object the person may view (else FORBIDDEN), or it is missing (NOT_FOUND). */
  async requireAllowed(id: string, action: AclAction): Promise<ObjectRow> {
    const row = await this.visible(id);
    if (!row) throw new NotFoundError(`No object ${id}.`);
    if (!(await this.deps.access.can(id, action))) throw new ForbiddenError(`You may view object ${id} but not ${action.toLowerCase()} it.`);
    return row;
  }

  /** The request's audit event names what it changed. */
  changed(type: string, id: string): void {
    this.deps.audit?.touched(type, id);
  }

  /** An object as stored now, after this request changed it. */
  async reload(id: string): Promise<ObjectRow> {
    this.rows.clear(id);
    const row = await this.rows.load(id);
    if (!row) throw new NotFoundError(`No object ${id}.`);
    return row;
  }

  async can(id: string, action: AclAction): Promise<boolean> {
    return this.deps.caller.kind === 'account' && this.deps.access.can(id, action);
  }

  /** PRODUCT §3: why an account can or cannot act on an object, control by control (for admins). */
  /**
   * Issue 20: the accounts that may do `action` on an object of the caller's organisation, each
   * with how (authz/accessors.ts), a page in account id order. NOT_FOUND for an object that is not
   * there; the caller need not see it (admins ask about any object, as with explain).
   */
  async accessors(objectId: string, action: AclAction, { first, after }: PageArgs): Promise<ConnectionShape<{ account: Selectable<AccountTable>; via: string }>> {
    const { db, caller } = this.deps;
    const size = pageSize(first);
    const afterAccountId = after ? (decodeCursor(after, ['string'])[0] as string) : null;
    const [object] = await new ObjectRepository(db).findByIds(caller.orgId, [objectId]);
    if (!object) throw new NotFoundError(`No object ${objectId}.`);
    const found = await listAccessors(db, caller.orgId, objectId, action, { afterAccountId, limit: size + 1 }, this.deps.holders);
    const accounts = new Map((await new OrgRepository(db).findAccounts(caller.orgId, found.map((a) => a.accountId))).map((row) => [row.id, row]));
    const rows = found.flatMap(({ accountId, via }) => (accounts.has(accountId) ? [{ account: accounts.get(accountId)!, via }] : []));
    return toConnection(rows, size, (row) => encodeCursor([row.account.id]));
  }

  async explain(objectId: string, accountId: string, action: AclAction) {
    const { db, caller } = this.deps;
    const [object] = await new ObjectRepository(db).findByIds(caller.orgId, [objectId]);
    if (!object) throw new NotFoundError(`No object ${objectId}.`);
    const principals = await loadViewerPrincipals(db, caller.orgId, accountId);
    const facts = await new AccessChecker(db, caller.orgId, async () => principals).facts(objectId);
    const result = explainAccess(
      principals,
      facts,
      {
        id: objectId,
        permissions: object.permissions as RawPermission[],
        keyOf: (p) => principalKey(p, object.connection_id, object.cloud_id),
      },
      action,
    );
    return { ...result, action };
  }
}
