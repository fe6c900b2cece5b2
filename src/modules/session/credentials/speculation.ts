// Step 4 of the no-stale-access protocol (told in credential-cache.ts): a request that goes
// ahead on cached credentials while their barrier is in flight.
import type { CredentialCache, Entry } from './credential-cache.ts';

/**
 * The cached credentials one request went ahead with before their barrier passed, so that the
 * barrier's round trip overlaps the request's own work instead of preceding it. Its owner must
 * keep everything that depends on them unseen and unwritten (no response sent, no audit event,
 * no mutation run) until `confirm()` says true, and start again without speculation otherwise.
 */
export class Speculation {
  private readonly entries: [string, Entry][] = [];
  /** Each organisation's, started by its first cached row, so that it runs while the request does. */
  private readonly barriers = new Map<string, Promise<boolean>>();
  private confirmation: Promise<boolean> | null = null;

  constructor(private readonly cache: CredentialCache) {}

  /** Whether the request used any cached row; only then is there anything to confirm. */
  get relies(): boolean {
    return this.entries.length > 0;
  }

  rely(key: string, entry: Entry): void {
    if (this.confirmation) throw new Error('A speculation takes no more rows once it is being confirmed.');
    this.entries.push([key, entry]);
    if (!this.barriers.has(entry.orgId)) this.barriers.set(entry.orgId, this.cache.barrier(entry.orgId));
  }

  /** True when every row relied on was still cached after the barrier; asked any number of times. */
  confirm(): Promise<boolean> {
    this.confirmation ??= Promise.all(this.barriers.values()).then((synced) => synced.every(Boolean) && this.entries.every(([key, entry]) => this.cache.holds(key, entry)));
    return this.confirmation;
  }
}
