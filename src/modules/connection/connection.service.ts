// The connection lifecycle (issue 5): list, rotate the client secret, disable and enable, and
// delete. A disabled connection keeps its data, but nobody sees its objects (the principal sets
// name it hidden) and its tokens are refused. Deletion first hides the connection and ends its
// sessions in one transaction, then removes its rows in batches, each batch its own transaction,
// so a crash loses at most one batch of work and running it again carries on.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { inRequestTransaction } from '../../db/request-transaction.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { newSecret, sha256 } from '../../shared/secrets.ts';
import { type ActionAuthor, operatorAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { SessionRepository } from '../session/session.repository.ts';
import { ConnectionRepository, type ConnectionRow } from './connection.repository.ts';

export const DELETION_BATCH = 1000;

export interface DeletionProgress {
  connectionId: string;
  /** Objects removed so far by this run, and those left when it started. */
  deletedObjects: number;
  totalObjects: number;
  done: boolean;
}

export interface DeletionRun {
  batchSize?: number;
  onProgress?: (progress: DeletionProgress) => void;
  /** Checked between batches: an aborted run stops there, and a later run carries on. */
  signal?: AbortSignal;
}

export class ConnectionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly logger: Logger,
  ) {}

  list(orgId: string) {
    return new ConnectionRepository(this.db).list(orgId);
  }

  /** `orgId` undefined: the operator names the connection alone. */
  private async require(repository: ConnectionRepository, connectionId: string, orgId: string | undefined): Promise<ConnectionRow> {
    const connection = orgId ? await repository.find(orgId, connectionId) : await repository.findAnywhere(connectionId);
    if (!connection || connection.deletion_started_at) throw new NotFoundError(`No connection ${connectionId}.`);
    return connection;
  }

  /**
   * A new client secret: the old one is refused from now on, and the connection's sessions end
   * with it, since whoever held the old secret may hold their tokens.
   */
  async rotateSecret(by: ActionAuthor, connectionId: string, orgId?: string): Promise<{ orgId: string; connectionId: string; clientId: string; clientSecret: string; revokedSessionCount: number }> {
    return this.db.transaction().execute(async (trx) => {
      const connections = new ConnectionRepository(trx);
      const connection = await this.require(connections, connectionId, orgId);
      const clientSecret = newSecret('twgcs_');
      await connections.update(connection.org_id, connection.id, { client_secret_hash: sha256(clientSecret) });
      const revokedSessionCount = await new SessionRepository(trx).revoke(connection.org_id, this.clock.now(), { clientId: connection.client_id });
      await this.audit.recordAction(by, connection.org_id, 'connection.secret-rotated', { connectionId: connection.id, revokedSessionCount }, trx);
      return { orgId: connection.org_id, connectionId: connection.id, clientId: connection.client_id, clientSecret, revokedSessionCount };
    });
  }

  /** Disables or enables; the change is seen by the next request everywhere. Idempotent. */
  async setEnabled(by: ActionAuthor, connectionId: string, enabled: boolean, orgId?: string): Promise<ConnectionRow> {
    return this.db.transaction().execute(async (trx) => {
      const connections = new ConnectionRepository(trx);
      const before = await this.require(connections, connectionId, orgId);
      if (enabled === (before.disabled_at === null)) return before;
      await connections.update(before.org_id, before.id, { disabled_at: enabled ? null : this.clock.now() });
      await this.audit.recordAction(by, before.org_id, enabled ? 'connection.enabled' : 'connection.disabled', { connectionId: before.id }, trx);
      return (await connections.find(before.org_id, before.id))!;
    });
  }

  /**
   * Starts deleting: from this commit the connection's objects are hidden, its tokens refused and
   * its secret useless. Returns the connection; the rows go with runDeletion.
   */
  async startDeletion(by: ActionAuthor, connectionId: string, orgId?: string): Promise<{ connection: ConnectionRow; revokedSessionCount: number; totalObjects: number }> {
    return this.db.transaction().execute(async (trx) => {
      const connections = new ConnectionRepository(trx);
      const connection = await this.require(connections, connectionId, orgId);
      const now = this.clock.now();
      await connections.update(connection.org_id, connection.id, { deletion_started_at: now });
      const revokedSessionCount = await new SessionRepository(trx).revoke(connection.org_id, now, { clientId: connection.client_id });
      const totalObjects = await connections.countObjects(connection.org_id, connection.id);
      await this.audit.recordAction(by, connection.org_id, 'connection.deletion-started', { connectionId: connection.id, totalObjects, revokedSessionCount }, trx);
      return { connection: { ...connection, deletion_started_at: now }, revokedSessionCount, totalObjects };
    });
  }

  /**
   * Removes a connection whose deletion started: its objects (with their ACL entries and every
   * relationship touching them) in batches, then its relationships, groups, users, links,
   * sessions and the connection itself. Safe to run again after an interruption; an audit event
   * records the end.
   */
  async runDeletion(connectionId: string, run: DeletionRun = {}): Promise<DeletionProgress> {
    const batchSize = run.batchSize ?? DELETION_BATCH;
    const connections = new ConnectionRepository(this.db);
    const connection = await connections.findAnywhere(connectionId);
    if (!connection) throw new NotFoundError(`No connection ${connectionId}.`);
    if (!connection.deletion_started_at) throw new BadUserInputError('DELETION_NOT_STARTED', `Connection ${connectionId} is not being deleted; start with deleteConnection.`);
    const { org_id: orgId } = connection;
    const progress: DeletionProgress = { connectionId, deletedObjects: 0, totalObjects: await connections.countObjects(orgId, connectionId), done: false };
    run.onProgress?.({ ...progress });
    // Each batch in a transaction of its own, until one removes nothing.
    const drain = async (batch: (repository: ConnectionRepository) => Promise<number>, onBatch: (removed: number) => void = () => {}) => {
      for (;;) {
        run.signal?.throwIfAborted();
        const removed = await this.db.transaction().execute((trx) => batch(new ConnectionRepository(trx)));
        if (removed === 0) return;
        onBatch(removed);
      }
    };
    await drain(
      (repository) => repository.deleteObjectBatch(orgId, connectionId, batchSize),
      (removed) => {
        progress.deletedObjects += removed;
        run.onProgress?.({ ...progress });
      },
    );
    await drain((repository) => repository.deleteDirectoryBatch(orgId, connectionId, batchSize));
    run.signal?.throwIfAborted();
    // One transaction for the last rows and the event: the audit service joins it this way.
    await inRequestTransaction(this.db, async () => {
      await connections.deleteRest(orgId, connectionId);
      await this.audit.recordAction(operatorAuthor(() => this.clock.now()), orgId, 'connection.deleted', {
        connectionId,
        provider: connection.provider,
        cloudId: connection.cloud_id,
        deletionStartedAt: connection.deletion_started_at,
      });
    });
    progress.done = true;
    run.onProgress?.({ ...progress });
    return progress;
  }

  private resuming: Promise<void> | null = null;
  private resumeAgain = false;
  private readonly shutdown = new AbortController();

  /** Issue 19, graceful shutdown: a running deletion stops after its batch; the next start resumes it. */
  async pauseDeletions(): Promise<void> {
    this.shutdown.abort();
    await this.resuming;
  }

  /**
   * Runs every deletion that started and did not finish, one after another: at server start, and
   * after a deletion is requested. A call while a run is going makes it look again when done.
   */
  resumeDeletions(): Promise<void> {
    const onError = (error: unknown, connectionId: string | null) =>
      this.shutdown.signal.aborted
        ? this.logger.info('connection deletion paused for shutdown; it resumes at the next server start', { connectionId })
        : this.logger.error('connection deletion failed; it resumes at the next server start', { error, connectionId });
    if (this.shutdown.signal.aborted) return Promise.resolve();
    if (this.resuming) {
      this.resumeAgain = true;
      return this.resuming;
    }
    this.resuming = (async () => {
      do {
        this.resumeAgain = false;
        for (const connection of await new ConnectionRepository(this.db).listDeleting()) {
          if (this.shutdown.signal.aborted) break;
          const done = await this.runDeletion(connection.id, {
            signal: this.shutdown.signal,
            onProgress: (p) => !p.done && this.logger.info('deleting connection', { connectionId: p.connectionId, deletedObjects: p.deletedObjects, totalObjects: p.totalObjects }),
          }).catch((error) => onError(error, connection.id));
          if (done) this.logger.info('connection deleted', { connectionId: connection.id, deletedObjects: done.deletedObjects });
        }
      } while (this.resumeAgain && !this.shutdown.signal.aborted);
    })()
      .catch((error) => onError(error, null))
      .finally(() => {
        this.resuming = null;
      });
    return this.resuming;
  }
}
