// Ingestion of third-party users, groups and user mappings by a connection (PRODUCT §4).
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
import { OrgRepository } from '../org/org.repository.ts';
import type { ConnectionCaller } from '../session/caller.ts';
import { DirectoryRepository } from './directory.repository.ts';
import { UserLinkRepository } from './user-link.repository.ts';

export const MAX_GROUP_MEMBERS = 10_000;

export interface ExternalUserInput {
  externalId: string;
  displayName?: string | null;
  email?: string | null;
  updateSequenceNumber: number;
}
export interface ExternalGroupInput {
  externalId: string;
  displayName?: string | null;
  members: { type: 'USER' | 'GROUP'; externalId: string }[];
  updateSequenceNumber: number;
}
export interface ExternalRefInput {
  externalId: string;
  updateSequenceNumber: number;
}
export interface UserMappingInput {
  externalId: string;
  accountId?: string | null;
  externalEmailAddress?: string | null;
  updateSequenceNumber: number;
}

function checkRef(item: ExternalRefInput) {
  checkExternalId(item.externalId);
  checkSequenceNumber(item.updateSequenceNumber);
}

function checkOptionalText(value: string | null | undefined, field: string, max: number) {
  if (value && value.length > max) throw new ItemRejection('FIELD_TOO_LONG', `${field} is at most ${max} characters.`);
}

export class DirectoryService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  setUsers(caller: ConnectionCaller, connectionId: string, users: ExternalUserInput[]): Promise<IngestionPayload> {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(users, 'users');
    return ingestEach(
      users,
      (u) => u.externalId,
      (u) => {
        checkRef(u);
        checkOptionalText(u.displayName, 'displayName', 255);
        checkOptionalText(u.email, 'email', 320);
      },
      (valid) =>
        this.inTransaction(valid, async (trx, { item }) => {
          const written = await new DirectoryRepository(trx).upsert('external_user', {
            ...this.key(caller, item.externalId),
            displayName: item.displayName ?? null,
            email: item.email ?? null,
            usn: item.updateSequenceNumber,
            deleted: false,
          });
          return written ? 'ACCEPTED' : 'STALE';
        }),
    );
  }

  deleteUsers(caller: ConnectionCaller, connectionId: string, items: ExternalRefInput[]): Promise<IngestionPayload> {
    return this.deleteExternal(caller, connectionId, items, 'USER');
  }

  deleteGroups(caller: ConnectionCaller, connectionId: string, items: ExternalRefInput[]): Promise<IngestionPayload> {
    return this.deleteExternal(caller, connectionId, items, 'GROUP');
  }

  setGroups(caller: ConnectionCaller, connectionId: string, groups: ExternalGroupInput[]): Promise<IngestionPayload> {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(groups, 'groups');
    return ingestEach(
      groups,
      (g) => g.externalId,
      (g) => {
        checkRef(g);
        checkOptionalText(g.displayName, 'displayName', 255);
        if (g.members.length > MAX_GROUP_MEMBERS) {
          throw new ItemRejection('TOO_MANY_MEMBERS', `A group has at most ${MAX_GROUP_MEMBERS} members; got ${g.members.length}.`);
        }
        for (const member of g.members) checkExternalId(member.externalId, 'A member externalId');
      },
      (valid) =>
        this.inTransaction(valid, async (trx, { item }) => {
          const directory = new DirectoryRepository(trx);
          const written = await directory.upsert('external_group', {
            ...this.key(caller, item.externalId),
            displayName: item.displayName ?? null,
            usn: item.updateSequenceNumber,
            deleted: false,
          });
          if (!written) return 'STALE';
          await directory.replaceMembers(caller.orgId, caller.connectionId, item.externalId, item.members);
          return 'ACCEPTED';
        }),
    );
  }

  mapUsers(caller: ConnectionCaller, connectionId: string, mappings: UserMappingInput[]): Promise<IngestionPayload> {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(mappings, 'mappings');
    return ingestEach(
      mappings,
      (m) => m.externalId,
      (m) => {
        checkRef(m);
        if (!m.accountId === !m.externalEmailAddress) {
          throw new ItemRejection('INVALID_MAPPING', 'A mapping names exactly one of accountId and externalEmailAddress.');
        }
        checkOptionalText(m.externalEmailAddress, 'externalEmailAddress', 320);
      },
      (valid) =>
        this.inTransaction(valid, async (trx, { item }) => {
          const tombstone = await new DirectoryRepository(trx).findTombstone('external_user', caller.orgId, caller.connectionId, item.externalId);
          if (tombstone?.deleted && tombstone.update_sequence_number >= item.updateSequenceNumber) return 'STALE';
          const orgs = new OrgRepository(trx);
          let accountId: string | null = null;
          let pendingEmail: string | null = null;
          if (item.accountId) {
            // An account of another organisation is indistinguishable from a missing one.
            if (!(await orgs.findAccount(caller.orgId, item.accountId))) {
              return new ItemRejection('UNKNOWN_ACCOUNT', `No account ${item.accountId.slice(0, 80)} in this organisation.`);
            }
            accountId = item.accountId;
          } else {
            const account = await orgs.findAccountByEmailIn(caller.orgId, item.externalEmailAddress!);
            if (account) accountId = account.id;
            else pendingEmail = item.externalEmailAddress!;
          }
          const written = await new UserLinkRepository(trx).upsert({
            orgId: caller.orgId,
            connectionId: caller.connectionId,
            externalId: item.externalId,
            accountId,
            pendingEmail,
            source: 'MAPPING',
            usn: item.updateSequenceNumber,
            now: this.clock.now(),
          });
          return written ? 'ACCEPTED' : 'STALE';
        }),
    );
  }

  private deleteExternal(caller: ConnectionCaller, connectionId: string, items: ExternalRefInput[], type: 'USER' | 'GROUP') {
    requireOwnConnection(caller, connectionId);
    requireBatchSize(items, type === 'USER' ? 'users' : 'groups');
    return ingestEach(items, (i) => i.externalId, checkRef, (valid) =>
      this.inTransaction(valid, async (trx, { item }) => {
        const directory = new DirectoryRepository(trx);
        const written = await directory.upsert(type === 'USER' ? 'external_user' : 'external_group', {
          ...this.key(caller, item.externalId),
          displayName: null,
          usn: item.updateSequenceNumber,
          deleted: true,
        });
        if (!written) return 'STALE';
        // PRODUCT §4: deleting a user removes it from every group and removes its link.
        await directory.removeFromGroups(caller.orgId, caller.connectionId, type, item.externalId);
        if (type === 'USER') await new UserLinkRepository(trx).deleteForUsers(caller.orgId, caller.connectionId, [item.externalId]);
        return 'ACCEPTED';
      }),
    );
  }

  private key(caller: ConnectionCaller, externalId: string) {
    return { orgId: caller.orgId, connectionId: caller.connectionId, externalId, now: this.clock.now() };
  }

  private async inTransaction<T>(
    valid: { index: number; item: T }[],
    store: (trx: Kysely<Database>, entry: { index: number; item: T }) => Promise<StoreOutcome>,
  ): Promise<Map<number, StoreOutcome>> {
    return this.db.transaction().execute(async (trx) => {
      const outcomes = new Map<number, StoreOutcome>();
      for (const entry of valid) outcomes.set(entry.index, await store(trx, entry));
      return outcomes;
    });
  }
}
