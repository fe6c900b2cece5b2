// The organisation's CLI permission settings (PRODUCT §5): allow-all (the default, so catalogue
// additions are allowed automatically) or a selection (catalogue additions not allowed), saved
// with optimistic concurrency, optionally revoking every CLI session at once.
import { CLI_CLIENT_ID } from '../session/credentials/client-ids.ts';
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, ConflictError, NotFoundError } from '../../shared/errors.ts';
import { OrgRepository } from '../org/org.repository.ts';
import { type OrgSnapshot } from '../session/caller.ts';
import { SessionRepository } from '../session/session.repository.ts';
import type { Catalog } from './catalog.ts';
import { CliSettingsRepository } from './cli-settings.repository.ts';

export interface CliSettingsState {
  allowAllByDefault: boolean;
  /** The admin's own selection, kept while allow-all is on. */
  selectedPermissions: string[];
  /** What the CLI may request right now. */
  effectivePermissions: string[];
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface UpdateCliSettingsInput {
  allowAllByDefault: boolean;
  selectedPermissions?: string[] | null;
  revokeSessions: boolean;
  expectedVersion?: number | null;
}

export class CliSettingsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly catalog: Catalog,
    private readonly audit: AuditService,
  ) {}

  async get(orgId: string): Promise<CliSettingsState> {
    return this.toState(await new CliSettingsRepository(this.db).find(orgId));
  }

  /** The permissions the organisation lets the CLI use, from the settings a request read with its session. */
  allowedPermissions(settings: OrgSnapshot['cliSettings']): ReadonlySet<string> {
    return new Set(this.effective(settings?.allowAllByDefault ?? true, settings?.selectedPermissions ?? []));
  }

  /** Allow-all means the whole current catalogue, so permissions added later are included. */
  private effective(allowAll: boolean, selected: readonly string[]): string[] {
    const catalogue = this.catalog.permissions.map((p) => p.key);
    if (allowAll) return catalogue;
    const selectedSet = new Set(selected);
    return catalogue.filter((key) => selectedSet.has(key));
  }

  async update(by: ActionAuthor, orgId: string, accountId: string, input: UpdateCliSettingsInput): Promise<{ settings: CliSettingsState; revokedSessionCount: number }> {
    const unknown = (input.selectedPermissions ?? []).filter((key) => !this.catalog.permission(key));
    if (unknown.length > 0) {
      throw new BadUserInputError('UNKNOWN_PERMISSION', `Not permissions of the catalogue: ${unknown.slice(0, 10).join(', ')}.`);
    }
    return this.db.transaction().execute(async (trx) => {
      const settings = new CliSettingsRepository(trx);
      const current = await settings.find(orgId);
      const currentVersion = current?.version ?? 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== currentVersion) {
        throw new ConflictError(`The settings changed since version ${input.expectedVersion} (now ${currentVersion}); reload them and save again.`);
      }
      // PRODUCT §5: when allow-all is first turned off, the selection starts as the whole catalogue.
      const selected =
        input.selectedPermissions !== undefined && input.selectedPermissions !== null
          ? [...new Set(input.selectedPermissions)]
          : (current?.selected_permissions ?? (input.allowAllByDefault ? null : this.catalog.permissions.map((p) => p.key)));
      const saved = await settings.save({
        orgId,
        allowAll: input.allowAllByDefault,
        selected,
        previousVersion: currentVersion,
        updatedAt: this.clock.now(),
        updatedBy: accountId,
      });
      if (!saved) throw new ConflictError('Someone else saved the settings at the same time; reload them and save again.');
      const revokedSessionCount = input.revokeSessions ? await new SessionRepository(trx).revoke(orgId, this.clock.now(), { clientId: CLI_CLIENT_ID }) : 0;
      const after = this.toState(await settings.find(orgId));
      await this.audit.recordAction(by, orgId, 'cli.settings.updated', { before: audited(this.toState(current)), after: audited(after), revokeSessions: input.revokeSessions, revokedSessionCount }, trx);
      return { settings: after, revokedSessionCount };
    });
  }

  /** Ends the organisation's CLI sessions, or one account's; admin sessions and keys survive. */
  async revokeCliSessions(by: ActionAuthor, orgId: string, accountId?: string | null): Promise<number> {
    // A mistyped id would otherwise revoke nothing and report 0 as if that account had no session.
    if (accountId && !(await new OrgRepository(this.db).findAccount(orgId, accountId))) throw new NotFoundError(`No account ${accountId} in your organisation.`);
    return this.db.transaction().execute(async (trx) => {
      const revokedSessionCount = await new SessionRepository(trx).revoke(orgId, this.clock.now(), { clientId: CLI_CLIENT_ID, accountId: accountId ?? undefined });
      await this.audit.recordAction(by, orgId, 'cli.sessions.revoked', { accountId: accountId ?? null, revokedSessionCount }, trx);
      return revokedSessionCount;
    });
  }

  private toState(row: Awaited<ReturnType<CliSettingsRepository['find']>>): CliSettingsState {
    const allowAll = row?.allow_all_by_default ?? true;
    const selected = row?.selected_permissions ?? [];
    return {
      allowAllByDefault: allowAll,
      selectedPermissions: selected,
      effectivePermissions: this.effective(allowAll, selected),
      version: row?.version ?? 0,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    };
  }
}

/** What the audit log keeps of a state of the settings (PRODUCT §9: before and after). */
function audited(s: CliSettingsState) {
  return { allowAllByDefault: s.allowAllByDefault, selectedPermissions: s.selectedPermissions, effectivePermissions: s.effectivePermissions, version: s.version };
}
