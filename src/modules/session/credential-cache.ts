// Credential lookups kept across requests (issue 3: authentication should add ≤ 1 ms). A cached
// row is the database's row as the lookup read it; what depends on the time (expiry, idle end)
// is still decided per request from it. It is exact under change because:
//  - every change to what a lookup reads notifies `teamgraph_credentials` with its organisation
//    (migration 013), and the notification drops that organisation's rows in every process;
//  - this process also drops everything after each of its own writes that can end access (a
//    mutation, an OAuth endpoint), without waiting for its notification to come back;
//  - a row read while anything was dropped is not kept (the generation check), so a read that
//    raced a change cannot outlive it;
//  - a cached row is used only after the feed's barrier (ChangeFeed.sync): every notification of
//    a transaction committed before the request has been applied by then. On PostgreSQL that is
//    one `select 1` on the listening connection, shared by the requests that wait for it; the
//    embedded database delivers notifications with the commit, so there it costs nothing;
//  - nothing is cached while the feed is down (until it is listening again everything could have
//    changed unseen), and no row is kept longer than MAX_AGE_MS in any case.
import type { ChangeFeed } from '../../db/client.ts';

export const CREDENTIALS_CHANNEL = 'teamgraph_credentials';
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

export class CredentialCache {
  private readonly rows = new Map<string, { orgId: string; row: unknown; storedAt: number }>();
  private generation = 0;
  private listening = false;

  private feed: ChangeFeed | null = null;

  /** Starts caching once the feed listens; without a feed nothing is ever cached. */
  async follow(feed: ChangeFeed): Promise<void> {
    this.feed = feed;
    await feed.listen(
      CREDENTIALS_CHANNEL,
      (orgId) => this.drop(orgId),
      (listening) => {
        this.listening = listening;
        this.drop();
      },
    );
  }

  /** Forgets an organisation's rows, or all of them. */
  drop(orgId?: string): void {
    this.generation++;
    if (orgId === undefined) this.rows.clear();
    else for (const [key, entry] of this.rows) if (entry.orgId === orgId) this.rows.delete(key);
  }

  /** The row under `key`, from the cache when it may be, else from `load` (and kept if it still may be). */
  async lookup<T extends { org_id: string }>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!this.listening) return load();
    if (this.rows.has(key) && this.feed) {
      // Every change committed before this request is heard first; a feed that cannot tell
      // sends the lookup to the database.
      const synced = await this.feed.sync().then(
        () => true,
        () => false,
      );
      const hit = this.rows.get(key);
      if (synced && hit && performance.now() - hit.storedAt < MAX_AGE_MS) return hit.row as T;
    }
    const now = performance.now();
    const generation = this.generation;
    const row = await load();
    // Unknown tokens are not kept: a token issued a moment later must work at once.
    if (row && this.listening && generation === this.generation) {
      this.rows.delete(key);
      this.rows.set(key, { orgId: row.org_id, row, storedAt: now });
      if (this.rows.size > MAX_ENTRIES) this.rows.delete(this.rows.keys().next().value!);
    }
    return row;
  }
}
