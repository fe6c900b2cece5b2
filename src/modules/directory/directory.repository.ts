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
    // The key is not set again: Citus refuses an update that names the distribution column.
    const { org_id: _org, connection_id: _connection, external_id: _externalId, ...changes } = values;
    const result = await this.db
      .insertInto(table)
      .values(values)
      .onConflict((c) =>
        c
          .columns(['org_id', 'connection_id', 'external_id'])
          .doUpdateSet(changes)
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

  /**
   * Makes the group's members exactly `members` by writing only the difference: a group of 10,000
   * that gains one user writes one row, not 20,000 (deleting and inserting the whole list took
   * 0.8 s on PostgreSQL, left 10,000 dead rows, and handed the principal-version triggers 20,000
   * rows), and a set that changes nothing writes nothing. At most three statements at any size.
   * The difference is taken here rather than in SQL: an anti-join against the sent list was
   * planned as a nested loop over it (10 s for 10,000 members); each statement below is one
   * index range or one lookup per changed member, whatever the plan. The caller holds the
   * group's row (its upsert), so concurrent sets of one group do not interleave.
   */
  async replaceMembers(orgId: string, connectionId: string, groupId: string, members: { type: 'USER' | 'GROUP'; externalId: string }[]) {
    const key = (type: string, externalId: string) => `${type}\u0000${externalId}`;
    const wanted = new Map(members.map((m) => [key(m.type, m.externalId), m]));
    const stored = await this.db
      .selectFrom('group_member')
      .select(['member_type', 'member_external_id'])
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .where('group_external_id', '=', groupId)
      .execute();
    const removed = stored.filter((m) => !wanted.delete(key(m.member_type, m.member_external_id)));
    const added = [...wanted.values()];
    if (removed.length > 0) {
      await sql`
        delete from group_member m
        using unnest(${removed.map((m) => m.member_type)}::text[], ${removed.map((m) => m.member_external_id)}::text[]) as r(member_type, member_external_id)
        where m.org_id = ${orgId} and m.connection_id = ${connectionId} and m.group_external_id = ${groupId}
          and m.member_type = r.member_type and m.member_external_id = r.member_external_id
      `.execute(this.db);
    }
    if (added.length > 0) {
      await sql`
        insert into group_member (org_id, connection_id, group_external_id, member_type, member_external_id)
        select ${orgId}, ${connectionId}, ${groupId}, a.member_type, a.member_external_id
        from unnest(${added.map((m) => m.type)}::text[], ${added.map((m) => m.externalId)}::text[]) as a(member_type, member_external_id)
        on conflict do nothing
      `.execute(this.db);
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
