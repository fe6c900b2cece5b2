// Who is signed in (issue 20): the live sessions of accounts, batched for a page of them, how many
// twg sessions each holds, and ending one session, by its owner or an admin, audited.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { NotFoundError } from '../../shared/errors.ts';
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { CLI_CLIENT_ID } from './credentials/client-ids.ts';
import { SessionRepository } from './session.repository.ts';
import type { SessionService } from './session.service.ts';
import type { SessionTable } from './session.table.ts';

export type SessionRow = Selectable<SessionTable>;

export class AccountSessionsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  /** Each account's live sessions, newest first: at most `perAccount` after the (created_at, id) key `after`. */
  async livePages(orgId: string, accountIds: readonly string[], perAccount: number, after?: { createdAt: Date; id: string }): Promise<Map<string, SessionRow[]>> {
    const pages = new Map<string, SessionRow[]>(accountIds.map((id) => [id, []]));
    if (accountIds.length === 0 || perAccount === 0) return pages;
    const rows = await new SessionRepository(this.db).listLive(orgId, accountIds, this.sessions.liveBounds(), perAccount, after);
    for (const { position: _position, ...row } of rows) pages.get(row.account_id!)?.push(row);
    return pages;
  }

  /** How many live twg sessions each account holds. */
  async liveCliCounts(orgId: string, accountIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(accountIds.map((id) => [id, 0]));
    if (accountIds.length === 0) return counts;
    for (const row of await new SessionRepository(this.db).countLive(orgId, accountIds, this.sessions.liveBounds(), CLI_CLIENT_ID)) counts.set(row.account_id!, Number(row.count));
    return counts;
  }

  /**
   * Ends one session of the organisation for an admin, or one of their own for its account;
   * NOT_FOUND for anyone else, so a session id tells a stranger nothing. An ended session is
   * returned as it is. Recorded as `session.revoked` either way.
   */
  async revoke(by: ActionAuthor, orgId: string, sessionId: string, requester: { accountId: string | null; admin: boolean }): Promise<SessionRow> {
    return this.db.transaction().execute(async (trx) => {
      const repository = new SessionRepository(trx);
      const session = await repository.findSession(orgId, sessionId);
      if (!session || (!requester.admin && (session.account_id === null || session.account_id !== requester.accountId))) throw new NotFoundError(`No session ${sessionId}.`);
      const revoked = (await repository.revoke(orgId, this.clock.now(), { sessionId })) === 1;
      await this.audit.recordAction(by, orgId, 'session.revoked', { sessionId, accountId: session.account_id, connectionId: session.connection_id, clientId: session.client_id, revoked }, trx);
      return (await repository.findSession(orgId, sessionId))!;
    });
  }
}
