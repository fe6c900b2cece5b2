// Connections: one connector installed in one site, with a hashed client secret.
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

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
  list(orgId: string) {
    return this.db.selectFrom('connection').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
  }
  async setSecretHash(orgId: string, connectionId: string, secretHash: string) {
    await this.db.updateTable('connection').set({ client_secret_hash: secretHash }).where('org_id', '=', orgId).where('id', '=', connectionId).execute();
  }
  findByClientId(clientId: string) {
    return this.db.selectFrom('connection').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }
}
