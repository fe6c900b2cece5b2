// Ingestion of relationships by a connection (PRODUCT §2): both ends must be live objects of the
// connection, so an edge never joins two sites.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import {
  checkExternalId,
  checkSequenceNumber,
  type IngestionPayload,
  ingestEach,
  ItemRejection,
  requireBatchSize,
  requireOwnConnection,
  type StoreOutcome,
} from '../ingestion/ingestion.ts';
import { ObjectRepository } from '../object/object.repository.ts';
import { LIMITS } from '../object/object.service.ts';
import type { ConnectionCaller } from '../session/caller.ts';
import { RelationshipRepository } from './relationship.repository.ts';

const RELATIONSHIP_TYPE = /^[a-z][a-z0-9-]{0,99}$/;

export interface RelationshipInput {
  type: string;
  from: { type: string; externalId: string };
  to: { type: string; externalId: string };
  properties?: unknown;
  updateSequenceNumber: number;
}

export class RelationshipService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  setRelationships(caller: ConnectionCaller, connectionId: string, items: RelationshipInput[]): Promise<IngestionPayload> {
    return this.write(caller, connectionId, items, false);
  }

  deleteRelationships(caller: ConnectionCaller, connectionId: string, items: RelationshipInput[]): Promise<IngestionPayload> {
    return this.write(caller, connectionId, items, true);
  }

  private write(caller: ConnectionCaller, connectionId: string, items: RelationshipInput[], deleted: boolean) {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(items, 'relationships');
    return ingestEach(
      items,
      (r) => `${r.from.externalId}->${r.to.externalId}`,
      (r) => {
        if (!RELATIONSHIP_TYPE.test(r.type)) throw new ItemRejection('INVALID_RELATIONSHIP_TYPE', `The relationship type "${r.type.slice(0, 100)}" must be a lowercase slug.`);
        checkExternalId(r.from.externalId, 'from.externalId');
        checkExternalId(r.to.externalId, 'to.externalId');
        checkSequenceNumber(r.updateSequenceNumber);
        if (r.properties !== undefined && r.properties !== null) {
          if (typeof r.properties !== 'object' || Array.isArray(r.properties)) throw new ItemRejection('INVALID_PROPERTIES', 'properties must be a JSON object.');
          if (Buffer.byteLength(JSON.stringify(r.properties)) > LIMITS.propertiesBytes) throw new ItemRejection('PROPERTIES_TOO_LARGE', `properties are at most ${LIMITS.propertiesBytes} bytes encoded.`);
        }
      },
      (valid) =>
        this.db.transaction().execute(async (trx) => {
          const objects = new ObjectRepository(trx);
          const relationships = new RelationshipRepository(trx);
          const outcomes = new Map<number, StoreOutcome>();
          for (const { index, item } of valid) {
            const fromId = await objects.findIdByExternalId(caller.orgId, caller.connectionId, item.from.type, item.from.externalId);
            const toId = await objects.findIdByExternalId(caller.orgId, caller.connectionId, item.to.type, item.to.externalId);
            if (!fromId || !toId) {
              const missing = fromId ? item.to : item.from;
              outcomes.set(index, new ItemRejection('OBJECT_NOT_FOUND', `No object ${missing.type} ${missing.externalId} in this connection.`));
              continue;
            }
            const written = await relationships.upsert({
              orgId: caller.orgId,
              connectionId: caller.connectionId,
              type: item.type,
              fromId,
              toId,
              properties: deleted ? null : (item.properties ?? null),
              usn: item.updateSequenceNumber,
              deleted,
              now: this.clock.now(),
            });
            outcomes.set(index, written ? 'ACCEPTED' : 'STALE');
          }
          return outcomes;
        }),
    );
  }
}
