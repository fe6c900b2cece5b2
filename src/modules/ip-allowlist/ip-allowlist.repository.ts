// The organisation's allowlist row. Writes are compare-and-set on the version; requests read the
// enabled allowlist in their session statement through `enabledAllowlist`.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { OrgOfLookup } from '../../shared/secrets.ts';
import type { AllowlistSnapshot } from './ip-allowlist.service.ts';

/** A subquery for a session statement: the organisation's allowlist when enabled, else null. */
export function enabledAllowlist(org: OrgOfLookup) {
  return sql<AllowlistSnapshot | null>`(select jsonb_build_object('version', l.version, 'rules', l.rules, 'locations', l.locations)
    from ip_allowlist l where l.org_id = ${org} and l.enabled)`;
}

export class IpAllowlistRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(orgId: string) {
    return this.db.selectFrom('ip_allowlist').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  /** Stores the next version if the stored one is still `previousVersion` (0: none stored); false otherwise. */
  async save(row: { orgId: string; enabled: boolean; rules: { cidr: string; description: string | null }[]; locations: string[]; previousVersion: number; updatedAt: Date; updatedBy: string }): Promise<boolean> {
    const values = {
      enabled: row.enabled,
      rules: JSON.stringify(row.rules),
      locations: row.locations,
      version: row.previousVersion + 1,
      updated_at: row.updatedAt,
      updated_by: row.updatedBy,
    };
    if (row.previousVersion === 0) {
      const inserted = await this.db.insertInto('ip_allowlist').values({ org_id: row.orgId, ...values }).onConflict((c) => c.column('org_id').doNothing()).returning('version').executeTakeFirst();
      return inserted !== undefined;
    }
    const updated = await this.db.updateTable('ip_allowlist').set(values).where('org_id', '=', row.orgId).where('version', '=', row.previousVersion).executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }
}
