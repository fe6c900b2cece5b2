// Graph objects: ingestion by connections (PRODUCT §2) and reads and changes by accounts,
// always through the ACL (PRODUCT §3).
import type { Kysely } from 'kysely';
import { CONTAINER_ONLY_PERMISSIONS, compileAcl, normalizePermissions, type PermissionSpec, validatePermissions } from '../../authz/acl.ts';
import type { ObjectRow } from '../../authz/visibility-filter.ts';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Catalog } from '../cli-permission/catalog.ts';
import { ConnectionRepository } from '../connection/connection.repository.ts';
import {
  checkExternalId,
  checkSequenceNumber,
  findUnstorable,
  type IngestionPayload,
  ingestEach,
  ItemRejection,
  requireBatchSize,
  requireOwnConnection,
  type StoreOutcome,
} from '../ingestion/ingestion.ts';
import type { ConnectionCaller } from '../session/caller.ts';
import type { ObjectReadService } from './object-read.service.ts';
import { type ObjectKey, ObjectRepository, type ObjectWrite, objectKeyString } from './object.repository.ts';

export const LIMITS = {
  displayName: 255,
  description: 10_000,
  url: 2_048,
  propertiesBytes: 32 * 1024,
  /** Issue 15: a time further ahead would pin an object to the top of every list by lastUpdatedAt. */
  futureTimeMs: 24 * 60 * 60 * 1000,
};

/**
 * The earliest time both back ends keep exactly. The embedded database's driver sends years before
 * 1 as 0000 or -000001, which PostgreSQL refuses (failing the whole batch), and reads years 1 to 99
 * back as 19xx or 20xx (JavaScript's date parsing); the DateTime scalar allows no year past 9999.
 */
export const EARLIEST_TIME = Date.parse('0100-01-01T00:00:00Z');

/** PRODUCT §2: control characters anywhere, which the URL parser would silently drop or trim. */
const URL_CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export interface ObjectInput {
  type: string;
  externalId: string;
  displayName: string;
  description?: string | null;
  url?: string | null;
  container?: ObjectKey | null;
  properties?: unknown;
  createdAt?: Date | null;
  lastUpdatedAt?: Date | null;
  updateSequenceNumber: number;
  permissions: PermissionSpec[];
}

export interface DeleteObjectRef {
  type: string;
  externalId: string;
  updateSequenceNumber: number;
}

export class ObjectService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly catalog: Catalog,
  ) {}

  async setObjects(caller: ConnectionCaller, connectionId: string, objects: ObjectInput[]): Promise<IngestionPayload> {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(objects, 'objects');
    const now = this.clock.now();
    return ingestEach(
      objects,
      (o) => o.externalId,
      (o) => this.validateObject(o, now),
      (valid) => this.storeObjects(caller, valid),
    );
  }

  async deleteObjects(caller: ConnectionCaller, connectionId: string, refs: DeleteObjectRef[]): Promise<IngestionPayload> {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(refs, 'objects');
    return ingestEach(
      refs,
      (r) => r.externalId,
      (r) => {
        const type = this.knownType(r.type);
        checkExternalId(r.externalId);
        checkSequenceNumber(r.updateSequenceNumber);
        return type.product;
      },
      (valid) =>
        this.db.transaction().execute(async (trx) => {
          const objects = new ObjectRepository(trx);
          const outcomes = new Map<number, StoreOutcome>();
          await objects.lockConnection(caller.orgId, caller.connectionId);
          const stored = await objects.findVersions(caller.orgId, caller.connectionId, valid.map((v) => v.item));
          const now = this.clock.now();
          for (const { index, item, value: product } of valid) {
            const key = objectKeyString(item.type, item.externalId);
            const existing = stored.get(key);
            let written: Set<string>;
            if (existing) {
              written = await objects.tombstone(caller.orgId, [{ id: existing.id, usn: item.updateSequenceNumber }]);
            } else {
              const id = newId('object');
              written = await objects.insertTombstones([
                { orgId: caller.orgId, id, cloudId: caller.cloudId, connectionId: caller.connectionId, type: item.type, product, externalId: item.externalId, usn: item.updateSequenceNumber, now },
              ]);
              if (written.size > 0) stored.set(key, { id, type: item.type, external_id: item.externalId, update_sequence_number: item.updateSequenceNumber, deleted: true, container_type: null, container_external_id: null, created_at: now });
            }
            if (written.size > 0 && existing) existing.update_sequence_number = item.updateSequenceNumber;
            outcomes.set(index, written.size > 0 ? 'ACCEPTED' : 'STALE');
          }
          return outcomes;
        }),
    );
  }

  private knownType(name: string) {
    const type = this.catalog.objectType(name);
    if (!type) throw new ItemRejection('UNKNOWN_OBJECT_TYPE', `"${name}" is not an object type of the catalogue.`);
    return type;
  }

  private validateObject(o: ObjectInput, now: Date) {
    const type = this.knownType(o.type);
    checkExternalId(o.externalId);
    checkSequenceNumber(o.updateSequenceNumber);
    checkDisplayName(o.displayName, ItemRejection);
    checkDescription(o.description, ItemRejection);
    const url = o.url === null || o.url === undefined ? null : normalizeUrl(o.url);
    checkProperties(o.properties, ItemRejection);
    checkTime(o.createdAt, 'createdAt', now);
    checkTime(o.lastUpdatedAt, 'lastUpdatedAt', now);
    if (o.container) {
      this.knownType(o.container.type);
      checkExternalId(o.container.externalId, 'The container externalId');
      if (o.container.type === o.type && o.container.externalId === o.externalId) {
        throw new ItemRejection('CONTAINER_CYCLE', 'An object cannot be its own container.');
      }
    }
    const problem = validatePermissions(o.permissions);
    if (problem) throw new ItemRejection(problem.code, problem.message);
    return { product: type.product, url };
  }

  private storeObjects(caller: ConnectionCaller, valid: { index: number; item: ObjectInput; value: { product: string; url: string | null } }[]) {
    return this.db.transaction().execute(async (trx) => {
      const objects = new ObjectRepository(trx);
      await objects.lockConnection(caller.orgId, caller.connectionId);
      const { versions: stored, chains } = await objects.findVersionsAndChains(
        caller.orgId,
        caller.connectionId,
        valid.map((v) => v.item),
        valid.flatMap((v) => (v.item.container ? [v.item.container] : [])),
      );
      // Container references as they stand after each accepted item, for the cycle check.
      const containerOf = new Map([...chains].map(([key, chain]) => [key, chain.container]));
      const idOf = (ref: ObjectKey) => stored.get(objectKeyString(ref.type, ref.externalId))?.id ?? chains.get(objectKeyString(ref.type, ref.externalId))?.id ?? null;
      const outcomes = new Map<number, StoreOutcome>();
      const writes = new Map<string, { write: ObjectWrite; indexes: number[] }>();
      const now = this.clock.now();
      for (const { index, item, value } of valid) {
        const key = objectKeyString(item.type, item.externalId);
        const existing = stored.get(key);
        if (existing && existing.update_sequence_number >= item.updateSequenceNumber) {
          outcomes.set(index, 'STALE');
          continue;
        }
        // PRODUCT §2: a write that would make an object its own ancestor is rejected.
        if (item.container && reachesKey(item.container, key, containerOf)) {
          outcomes.set(index, new ItemRejection('CONTAINER_CYCLE', `Putting ${item.type} ${item.externalId} into ${item.container.type} ${item.container.externalId} would make it its own ancestor.`));
          continue;
        }
        const id = existing?.id ?? newId('object');
        const write: ObjectWrite = {
          id,
          orgId: caller.orgId,
          cloudId: caller.cloudId,
          connectionId: caller.connectionId,
          type: item.type,
          product: value.product,
          externalId: item.externalId,
          displayName: item.displayName,
          description: item.description ?? null,
          url: value.url,
          container: item.container ?? null,
          containerId: null,
          properties: item.properties ?? null,
          permissions: normalizePermissions(item.permissions),
          acl: compileAcl(item.permissions, caller.connectionId, caller.cloudId),
          createdAt: item.createdAt ?? (existing && !existing.deleted ? existing.created_at : now),
          lastUpdatedAt: item.lastUpdatedAt ?? now,
          usn: item.updateSequenceNumber,
        };
        const previous = writes.get(key);
        writes.set(key, { write, indexes: [...(previous?.indexes ?? []), index] });
        stored.set(key, { id, type: item.type, external_id: item.externalId, update_sequence_number: item.updateSequenceNumber, deleted: false, container_type: item.container?.type ?? null, container_external_id: item.container?.externalId ?? null, created_at: write.createdAt });
        containerOf.set(key, item.container ?? null);
      }
      // Once every item has its id: a child finds its container also when the container comes
      // later in the batch, instead of waiting for it.
      for (const { write } of writes.values()) write.containerId = write.container ? idOf(write.container) : null;
      const written = await objects.upsert([...writes.values()].map((w) => w.write));
      for (const { write, indexes } of writes.values()) {
        // A concurrent writer with a newer sequence number won: then this item was stale.
        for (const index of indexes) outcomes.set(index, written.has(write.id) ? 'ACCEPTED' : 'STALE');
      }
      return outcomes;
    });
  }

  /**
   * PRODUCT §3: a person's new object goes into a container they may edit and inherits its ACL.
   * Errors come in this order: the type (BAD_USER_INPUT, RESTRICTED), the input, the container.
   */
  async createObject(
    reader: ObjectReadService,
    input: { containerId: string; type: string; displayName: string; description?: string | null; properties?: unknown },
  ): Promise<ObjectRow> {
    const type = this.catalog.objectType(input.type);
    if (!type) throw new BadUserInputError('UNKNOWN_OBJECT_TYPE', `"${input.type}" is not an object type of the catalogue.`);
    await reader.requireType(type.name, 'write');
    requireStorable(input);
    checkDisplayName(input.displayName, inputError);
    checkDescription(input.description, inputError);
    checkProperties(input.properties, inputError);
    const orgId = reader.orgId;
    const container = await reader.requireAllowed(input.containerId, 'EDIT');
    const connection = await new ConnectionRepository(this.db).find(orgId, container.connection_id);
    if (!connection) throw new NotFoundError(`No object ${input.containerId}.`);
    const id = newId('object');
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const objects = new ObjectRepository(trx);
      await objects.lockConnection(orgId, container.connection_id);
      await objects.upsert([
        {
          id,
          orgId,
          cloudId: container.cloud_id,
          connectionId: container.connection_id,
          type: type.name,
          product: type.product,
          externalId: id,
          displayName: input.displayName,
          description: input.description ?? null,
          url: null,
          container: { type: container.type, externalId: container.external_id },
          containerId: container.id,
          properties: input.properties ?? null,
          permissions: normalizePermissions(CONTAINER_ONLY_PERMISSIONS),
          acl: compileAcl(CONTAINER_ONLY_PERMISSIONS, container.connection_id, container.cloud_id),
          createdAt: now,
          lastUpdatedAt: now,
          usn: 0,
        },
      ]);
    });
    reader.changed(type.name, id);
    return reader.reload(id);
  }

  /** PRODUCT §3: a person edits an object they may view and edit. */
  async updateObject(reader: ObjectReadService, input: { id: string; displayName?: string | null; description?: string | null; properties?: unknown }): Promise<ObjectRow> {
    await reader.toChange(input.id, 'write');
    requireStorable(input);
    if (input.displayName !== undefined) checkDisplayName(input.displayName ?? '', inputError);
    checkDescription(input.description, inputError);
    checkProperties(input.properties, inputError);
    await reader.requireAllowed(input.id, 'EDIT');
    await new ObjectRepository(this.db).updateFields(reader.orgId, input.id, {
      ...(input.displayName !== undefined && input.displayName !== null ? { display_name: input.displayName } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.properties !== undefined ? { properties: input.properties === null ? null : JSON.stringify(input.properties) } : {}),
      last_updated_at: this.clock.now(),
    });
    return reader.reload(input.id);
  }

  /** PRODUCT §3: a person deletes an object they may view and delete; it becomes a tombstone. */
  async deleteObject(reader: ObjectReadService, id: string): Promise<void> {
    await reader.toChange(id, 'delete');
    const object = await reader.requireAllowed(id, 'DELETE');
    await this.db.transaction().execute((trx) => new ObjectRepository(trx).tombstone(reader.orgId, [{ id, usn: object.update_sequence_number + 1 }]));
  }
}

function reachesKey(start: ObjectKey, target: string, containerOf: Map<string, ObjectKey | null>): boolean {
  let current: ObjectKey | null | undefined = start;
  for (let steps = 0; current && steps <= 10_000; steps++) {
    const key = objectKeyString(current.type, current.externalId);
    if (key === target) return true;
    current = containerOf.get(key);
  }
  return false;
}

type Problem = new (code: string, message: string) => Error;
const inputError: Problem = BadUserInputError as unknown as Problem;

/** The rule ingestion applies to each item (U+0000, nesting), for a person's single change. */
function requireStorable(input: unknown) {
  const problem = findUnstorable(input);
  if (problem) throw new BadUserInputError(problem.code, problem.message);
}

function checkDisplayName(name: string, Err: Problem) {
  if (name.length < 1 || name.length > LIMITS.displayName) throw new Err('INVALID_DISPLAY_NAME', `displayName must be 1 to ${LIMITS.displayName} characters, got ${name.length}.`);
}

function checkDescription(description: string | null | undefined, Err: Problem) {
  if (description && description.length > LIMITS.description) throw new Err('DESCRIPTION_TOO_LONG', `description is at most ${LIMITS.description} characters, got ${description.length}.`);
}

/** PRODUCT §2: the address as stored is the parsed, normalised one, so the limit applies to it. */
function normalizeUrl(url: string): string {
  const parsed = !URL_CONTROL_CHARACTER.test(url) && URL.canParse(url) ? new URL(url) : null;
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.href.length > LIMITS.url) {
    throw new ItemRejection('INVALID_URL', `url must be an http or https address without control characters, at most ${LIMITS.url} characters once normalised; got ${JSON.stringify(url.slice(0, 100))}.`);
  }
  return parsed.href;
}

function checkTime(time: Date | null | undefined, field: string, now: Date) {
  if (!time) return;
  if (time.getTime() > now.getTime() + LIMITS.futureTimeMs) {
    throw new ItemRejection('TIME_IN_FUTURE', `${field} may be at most ${LIMITS.futureTimeMs / 3_600_000} hours after the server's time (${now.toISOString()}), got ${time.toISOString()}.`);
  }
  if (time.getTime() < EARLIEST_TIME) throw new ItemRejection('TIME_TOO_EARLY', `${field} must be in year ${new Date(EARLIEST_TIME).getUTCFullYear()} or later, got ${time.toISOString()}.`);
}

function checkProperties(properties: unknown, Err: Problem) {
  if (properties === undefined || properties === null) return;
  if (typeof properties !== 'object' || Array.isArray(properties)) throw new Err('INVALID_PROPERTIES', 'properties must be a JSON object.');
  const size = Buffer.byteLength(JSON.stringify(properties));
  if (size > LIMITS.propertiesBytes) throw new Err('PROPERTIES_TOO_LARGE', `properties are at most ${LIMITS.propertiesBytes} bytes encoded, got ${size}.`);
}
