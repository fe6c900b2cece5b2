// The organisation's CLI settings row. Writes are compare-and-set on the version.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

export class CliSettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(orgId: string) {
    return this.db.selectFrom('cli_settings').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  /** Stores the next version if the stored one is still `previousVersion` (0: none stored); false otherwise. */
  async save(row: { orgId: string; allowAll: boolean; selected: string[] | null; previousVersion: number; updatedAt: Date; updatedBy: string }): Promise<boolean> {
    const values = {
      allow_all_by_default: row.allowAll,
      selected_permissions: row.selected,
      version: row.previousVersion + 1,
      updated_at: row.updatedAt,
      updated_by: row.updatedBy,
    };
    if (row.previousVersion === 0) {
      const inserted = await this.db
        .insertInto('cli_settings')
        .values({ org_id: row.orgId, ...values })
        .onConflict((c) => c.column('org_id').doNothing())
        .returning('version')
        .executeTakeFirst();
      return inserted !== undefined;
    }
    const updated = await this.db
      .updateTable('cli_settings')
      .set(values)
      .where('org_id', '=', row.orgId)
      .where('version', '=', row.previousVersion)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }
}
