// No stale access (PRODUCT §4, §5, §6; issue 3: authentication should add ≤ 1 ms). This folder
// holds the whole protocol that lets a request authenticate from credentials cached across
// requests without ever acting on credentials that changed; this comment tells it end to end.
//
// 1. Every kind of credential has a client id (client-ids.ts). A request's credential is looked
//    up (session, admin API key or Bitbucket token, with the organisation's snapshot) through
//    CredentialCache.lookup below. A cached row is the database's row as the lookup read it; what
//    depends on the time (expiry, idle end) is still decided per request from it.
// 2. Every change to what a lookup reads notifies `teamgraph_credentials` with its organisation
//    (migration 013), except a credential's last use, which its writer applies to its own cached
//    row (recordUse below, migration 028). The change feed (db/change-feed.ts) delivers it to
//    every process, this one included, where it drops that organisation's rows. A row read while
//    anything was dropped is not kept (the generation check), so a read that raced a change
//    cannot outlive it. Nothing is cached while the feed is down, and no row is kept longer than
//    MAX_AGE_MS in any case. On Citus no notification reaches a server process: the same changes
//    raise the organisation's credential stamp instead (migration 027), and stamp-feed.ts turns a
//    new stamp into the drop. This process's own writes (a mutation, an OAuth endpoint) take the
//    same path and drop nothing themselves: most of them (ingestion above all) change no
//    credential, and a request on a credential one of them did change runs again (step 5).
// 3. A cached row counts only once the feed's barrier (ChangeFeed.sync) for its organisation has
//    passed with the row still cached: every notification of a transaction committed before the
//    request has been applied by then. On PostgreSQL that is one `select 1` on the listening
//    connection, shared by the requests that wait for it; the embedded database delivers
//    notifications with the commit, so there it costs nothing; on Citus it is one single-shard
//    read of the organisation's stamp, shared likewise.
// 4. So that the barrier's round trip overlaps the request instead of preceding it, a request may
//    go ahead on cached rows while the barrier is in flight: a Speculation (speculation.ts). Until
//    it confirms, nothing the request does is seen or kept: no response leaves and no audit event
//    is written (http/graphql-route.ts holds the answer), and nothing is written (a mutation, or a
//    query field that writes, awaits requireCurrentCredentials in graphql/context.ts first). The
//    one write that does not wait is the rate-limit charge (issue 21), made before the operation
//    runs: a charge to a credential that turns out to have ended gives nothing to anyone.
// 5. Should the barrier show that a row changed, the request runs again from the database
//    (runOnCurrentCredentials, confirmed-run.ts), with the body read once and yoga's parse of it
//    kept for the second run (use-parse-once.ts), since the first run consumed the body; so is
//    its rate-limit charge, when the second run has the same credential, told against the new
//    budget if that is what changed (rate-limit-meter.ts).
import type { ChangeFeed } from '../../../db/change-feed.ts';
import { Speculation } from './speculation.ts';
import { stampFeed } from './stamp-feed.ts';

export const CREDENTIALS_CHANNEL = 'teamgraph_credentials';
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;
/** last_used_at is written at most this often, so a busy credential does not write on every request. */
const TOUCH_INTERVAL_MS = 60 * 1000;

/** A cached row; a Speculation holds on to the entries it relied on. */
export interface Entry {
  orgId: string;
  row: unknown;
  storedAt: number;
}

export class CredentialCache {
  private readonly rows = new Map<string, Entry>();
  private generation = 0;
  private listening = false;

  private feed: ChangeFeed | null = null;

  /** `onLookup` hears how each lookup was answered (the metrics); `uncached` while the feed is down. */
  constructor(private readonly onLookup: (result: 'hit' | 'miss' | 'uncached') => void = () => {}) {}

  /**
   * Starts caching once the feed listens; without a feed nothing is ever cached. On Citus, where
   * the feed is not used, `readStamp` (an organisation's credential stamp) stands in for it.
   */
  async follow(feed: ChangeFeed, readStamp?: (orgId: string) => Promise<string | null>): Promise<void> {
    this.feed = feed;
    await feed.listen(
      CREDENTIALS_CHANNEL,
      (orgId) => this.drop(orgId),
      (listening) => {
        this.listening = listening;
        this.drop();
      },
    );
    if (feed.state() === 'not used' && readStamp) await this.follow(stampFeed(readStamp));
  }

  /** Forgets an organisation's rows, or all of them. */
  drop(orgId?: string): void {
    this.generation++;
    if (orgId === undefined) this.rows.clear();
    else for (const [key, entry] of this.rows) if (entry.orgId === orgId) this.rows.delete(key);
  }

  /** A request's way to use cached rows before their barrier has passed (step 4). */
  speculate(): Speculation {
    return new Speculation(this);
  }

  /**
   * The row under `key`, from the cache when it may be, else from `load` (and kept if it still
   * may be). With a `speculation`, a cached row is returned at once and the speculation confirms
   * it later; without, the barrier is awaited first.
   */
  async lookup<T extends { org_id: string }>(key: string, load: () => Promise<T | undefined>, speculation?: Speculation): Promise<T | undefined> {
    if (!this.listening) {
      this.onLookup('uncached');
      return load();
    }
    const hit = this.rows.get(key);
    if (hit && this.feed && performance.now() - hit.storedAt < MAX_AGE_MS) {
      if (speculation) {
        speculation.rely(key, hit);
        this.onLookup('hit');
        return hit.row as T;
      }
      if ((await this.barrier(hit.orgId)) && this.holds(key, hit)) {
        this.onLookup('hit');
        return hit.row as T;
      }
    }
    this.onLookup('miss');
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
   * Resolves once every change to organisation `orgId` committed before the call has been heard
   * (and has dropped its entries): true then, false when the feed is down and cannot tell.
   */
  barrier(orgId: string): Promise<boolean> {
    return this.feed!.sync(orgId).then(
      () => true,
      () => false,
    );
  }

  /**
   * Writes a credential's last use (sessions, admin keys, Bitbucket tokens) through `write` when
   * one is due, and gives the row cached under `key` the same time. A last-use write is not a
   * credential change (migration 028), so nothing drops the row for it: kept as read, it would
   * have every request write again until it aged out. Another process's copy may keep the older
   * time for MAX_AGE_MS; it can only end an idle session a few seconds early, never keep one.
   */
  async recordUse(key: string, row: { last_used_at: Date | null }, now: Date, write: () => Promise<unknown>): Promise<void> {
    if (row.last_used_at && now.getTime() - row.last_used_at.getTime() < TOUCH_INTERVAL_MS) return;
    await write();
    const entry = this.rows.get(key);
    if (entry?.row === row) entry.row = { ...row, last_used_at: now };
  }

  /** Whether `entry` is still what the cache holds under `key`: nothing has dropped it. */
  holds(key: string, entry: Entry): boolean {
    return this.rows.get(key) === entry;
  }
}
