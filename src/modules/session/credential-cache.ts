// Credential lookups kept across requests (issue 3: authentication should add ≤ 1 ms). A cached
// row is the database's row as the lookup read it; what depends on the time (expiry, idle end)
// is still decided per request from it. It is exact under change because:
//  - every change to what a lookup reads notifies `teamgraph_credentials` with its organisation
//    (migration 013), and the notification drops that organisation's rows in every process;
//  - this process also drops everything after each of its own writes that can end access (a
//    mutation, an OAuth endpoint), without waiting for its notification to come back;
//  - a row read while anything was dropped is not kept (the generation check), so a read that
//    raced a change cannot outlive it;
//  - a cached row counts only once the feed's barrier (ChangeFeed.sync) has passed with the row
//    still cached: every notification of a transaction committed before the request has been
//    applied by then. On PostgreSQL that is one `select 1` on the listening connection, shared by
//    the requests that wait for it; the embedded database delivers notifications with the commit,
//    so there it costs nothing. A request may go ahead on a cached row while its barrier is in
//    flight (a Speculation) if nothing it does is seen or kept before the barrier confirms it;
//  - nothing is cached while the feed is down (until it is listening again everything could have
//    changed unseen), and no row is kept longer than MAX_AGE_MS in any case.
import type { ChangeFeed } from '../../db/change-feed.ts';

export const CREDENTIALS_CHANNEL = 'teamgraph_credentials';
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  orgId: string;
  row: unknown;
  storedAt: number;
}

export class CredentialCache {
  private readonly rows = new Map<string, Entry>();
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

  /** A request's way to use cached rows before their barrier has passed; see Speculation. */
  speculate(): Speculation {
    return new Speculation(this);
  }

  /**
   * The row under `key`, from the cache when it may be, else from `load` (and kept if it still
   * may be). With a `speculation`, a cached row is returned at once and the speculation confirms
   * it later; without, the barrier is awaited first.
   */
  async lookup<T extends { org_id: string }>(key: string, load: () => Promise<T | undefined>, speculation?: Speculation): Promise<T | undefined> {
    if (!this.listening) return load();
    const hit = this.rows.get(key);
    if (hit && this.feed && performance.now() - hit.storedAt < MAX_AGE_MS) {
      if (speculation) {
        speculation.rely(key, hit);
        return hit.row as T;
      }
      if ((await this.barrier()) && this.holds(key, hit)) return hit.row as T;
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

  /**
   * Resolves once every change committed before the call has been heard (and has dropped its
   * organisation's entries): true then, false when the feed is down and cannot tell.
   */
  barrier(): Promise<boolean> {
    return this.feed!.sync().then(
      () => true,
      () => false,
    );
  }

  /** Whether `entry` is still what the cache holds under `key`: nothing has dropped it. */
  holds(key: string, entry: Entry): boolean {
    return this.rows.get(key) === entry;
  }
}

/**
 * The cached credentials one request went ahead with before their barrier passed, so that the
 * barrier's round trip overlaps the request's own work instead of preceding it. Its owner must
 * keep everything that depends on them unseen and unwritten (no response sent, no audit event,
 * no mutation run) until `confirm()` says true, and start again without speculation otherwise.
 */
export class Speculation {
  private readonly entries: [string, Entry][] = [];
  /** Started by the first cached row, so that it runs while the request does. */
  private barrier: Promise<boolean> | null = null;
  private confirmation: Promise<boolean> | null = null;

  constructor(private readonly cache: CredentialCache) {}

  /** Whether the request used any cached row; only then is there anything to confirm. */
  get relies(): boolean {
    return this.entries.length > 0;
  }

  rely(key: string, entry: Entry): void {
    if (this.confirmation) throw new Error('A speculation takes no more rows once it is being confirmed.');
    this.entries.push([key, entry]);
    this.barrier ??= this.cache.barrier();
  }

  /** True when every row relied on was still cached after the barrier; asked any number of times. */
  confirm(): Promise<boolean> {
    this.confirmation ??= this.barrier ? this.barrier.then((synced) => synced && this.entries.every(([key, entry]) => this.cache.holds(key, entry))) : Promise.resolve(true);
    return this.confirmation;
  }
}
