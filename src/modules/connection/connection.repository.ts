// Connections: one connector installed in one site, with a hashed client secret, and the
// statements that remove a deleted connection's rows batch by batch.
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { orgIdIn } from '../../shared/secrets.ts';
import type { ConnectionTable } from './connection.table.ts';

export type ConnectionRow = Selectable<ConnectionTable>;

/** The connection's own tables besides objects, keyed (org_id, connection_id, ...). */
const DIRECTORY_TABLES = ['group_member', 'external_group', 'external_user', 'user_link', 'link_attempt'] as const;

export class ConnectionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Insertable<Database['connection']>) {
    await this.db.insertInto('connection').values(row).execute();
  }
  find(orgId: string, connectionId: string) {
    return this.db.selectFrom('connection').selectAll().where('org_id', '=', orgId).where('id', '=', connectionId).executeTakeFirst();
  }
  /** The operator command line names a connection without its organisation. */
  findAnywhere(connectionId: string) {
    return this.db.selectFrom('connection').selectAll().where('id', '=', connectionId).executeTakeFirst();
  }
  /** The organisation's connections, oldest first; those being deleted are gone already. */
  list(orgId: string) {
    return this.db
      .selectFrom('connection')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('deletion_started_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }
  listDeleting() {
    return this.db.selectFrom('connection').selectAll().where('deletion_started_at', 'is not', null).orderBy('deletion_started_at').execute();
  }
  async update(orgId: string, connectionId: string, changes: Updateable<ConnectionTable>) {
    await this.db.updateTable('connection').set(changes).where('org_id', '=', orgId).where('id', '=', connectionId).execute();
  }
  /** By the client id, in the organisation it names (one made before client ids named it: in any). */
  findByClientId(clientId: string) {
    const orgId = orgIdIn(clientId);
    return this.db
      .selectFrom('connection')
      .selectAll()
      .where('client_id', '=', clientId)
      .$if(orgId !== null, (q) => q.where('org_id', '=', orgId!))
      .executeTakeFirst();
  }

  async countObjects(orgId: string, connectionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('graph_object')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /**
   * Removes up to `limit` of the connection's objects (tombstones too) with their ACL entries and
   * the relationships leaving them; returns how many objects went. Relationships join objects
   * of one connection, so by the last batch none is left on either end.
   */
  async deleteObjectBatch(orgId: string, connectionId: string, limit: number): Promise<number> {
    const batch = await this.db
      .selectFrom('graph_object')
      .select('id')
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .limit(limit)
      .execute();
    if (batch.length === 0) return 0;
    const ids = batch.map((o) => o.id);
    await this.db.deleteFrom('acl_entry').where('org_id', '=', orgId).where('object_id', 'in', ids).execute();
    await this.db.deleteFrom('relationship').where('org_id', '=', orgId).where('from_object_id', 'in', ids).execute();
    await this.db.deleteFrom('graph_object').where('org_id', '=', orgId).where('id', 'in', ids).execute();
    return ids.length;
  }

  /** Removes up to `limit` rows from each of the connection's directory tables; returns how many went. */
  async deleteDirectoryBatch(orgId: string, connectionId: string, limit: number): Promise<number> {
    let removed = 0;
    for (const table of DIRECTORY_TABLES) {
      const result = await sql`
        delete from ${sql.table(table)} where org_id = ${orgId} and ctid in (
          select ctid from ${sql.table(table)} where org_id = ${orgId} and connection_id = ${connectionId} limit ${limit})
      `.execute(this.db);
      removed += Number(result.numAffectedRows ?? 0);
    }
    return removed;
  }

  /** The last of a deleted connection: stray relationships, its sessions and tokens, the connection. */
  async deleteRest(orgId: string, connectionId: string): Promise<void> {
    await this.db.deleteFrom('relationship').where('org_id', '=', orgId).where('connection_id', '=', connectionId).execute();
    const sessions = this.db.selectFrom('session').select('id').where('org_id', '=', orgId).where('connection_id', '=', connectionId);
    await this.db.deleteFrom('access_token').where('org_id', '=', orgId).where('session_id', 'in', sessions).execute();
    await this.db.deleteFrom('refresh_token').where('org_id', '=', orgId).where('session_id', 'in', sessions).execute();
    await this.db.deleteFrom('session').where('org_id', '=', orgId).where('connection_id', '=', connectionId).execute();
    // The link provider goes with the connection (on delete cascade).
    await this.db.deleteFrom('connection').where('org_id', '=', orgId).where('id', '=', connectionId).execute();
  }
}
