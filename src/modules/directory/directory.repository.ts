// Third-party users and groups with their members. Writes are guarded by the sequence number
// in SQL, so two concurrent writers cannot store an older version over a newer one.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';

type Kind = 'external_user' | 'external_group';

export class DirectoryRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts or updates (or tombstones) a user or group unless a newer one is stored; true if written. */
  async upsert(
    table: Kind,
    row: { orgId: string; connectionId: string; externalId: string; displayName: string | null; email?: string | null; usn: number; deleted: boolean; now: Date },
  ): Promise<boolean> {
    const values = {
      org_id: row.orgId,
      connection_id: row.connectionId,
      external_id: row.externalId,
      display_name: row.displayName,
      update_sequence_number: row.usn,
      deleted: row.deleted,
      updated_at: row.now,
      ...(table === 'external_user' ? { email: row.email ?? null } : {}),
    };
    const result = await this.db
      .insertInto(table)
      .values(values as any)
      .onConflict((c) =>
        c
          .columns(['org_id', 'connection_id', 'external_id'])
          .doUpdateSet(values as any)
          .where(sql.ref(`${table}.update_sequence_number`), '<', row.usn),
      )
      .returning('external_id')
      .executeTakeFirst();
    return result !== undefined;
  }

  findTombstone(table: Kind, orgId: string, connectionId: string, externalId: string) {
    return this.db
      .selectFrom(table)
      .select(['update_sequence_number', 'deleted'])
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  async replaceMembers(orgId: string, connectionId: string, groupId: string, members: { type: 'USER' | 'GROUP'; externalId: string }[]) {
    await this.db.deleteFrom('group_member').where('org_id', '=', orgId).where('connection_id', '=', connectionId).where('group_external_id', '=', groupId).execute();
    const unique = new Map(members.map((m) => [`${m.type}\u0000${m.externalId}`, m]));
    const rows = [...unique.values()].map((m) => ({
      org_id: orgId,
      connection_id: connectionId,
      group_external_id: groupId,
      member_type: m.type,
      member_external_id: m.externalId,
    }));
    for (let i = 0; i < rows.length; i += 2000) {
      await this.db.insertInto('group_member').values(rows.slice(i, i + 2000)).execute();
    }
  }

  /** Removes a user or group from every group; a deleted group also loses its own members. */
  async removeFromGroups(orgId: string, connectionId: string, type: 'USER' | 'GROUP', externalId: string) {
    await this.db
      .deleteFrom('group_member')
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where((eb) =>
        type === 'GROUP'
          ? eb.or([eb('group_external_id', '=', externalId), eb.and([eb('member_type', '=', 'GROUP'), eb('member_external_id', '=', externalId)])])
          : eb.and([eb('member_type', '=', 'USER'), eb('member_external_id', '=', externalId)]),
      )
      .execute();
  }
}
