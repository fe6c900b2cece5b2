// Step 3 of the no-stale-access protocol on Citus (told in credential-cache.ts). No notification
// reaches a server process there (migration 020), so the barrier of an organisation's cached rows
// reads its credential stamp instead: principal_version's version and count of credential changes,
// which every change to what a lookup reads raises in its own transaction (migration 027), in one
// single-shard statement. A stamp other than the one this process last read for the organisation
// is taken as a notification, and drops the organisation's cached rows.
//
// Why a stamp equal to the last one read is enough: stamps only grow, and every cached row was
// read after that last stamp was (a row whose reading a drop overtook is not kept: the cache's
// generation check), so no change committed between the row's reading and the barrier. The first
// barrier of an organisation drops its rows, having nothing to compare with.
import { type ChangeFeed, sharedRoundTrips } from '../../../db/change-feed.ts';
import { outsideRequestTransaction } from '../../../db/request-transaction.ts';

/** At most this many organisations are followed at once; forgetting one costs its next barrier a drop. */
const MAX_ORGS = 10_000;

/** A feed of one channel, the credential cache's: `readStamp` reads an organisation's stamp (null: none yet). */
export function stampFeed(readStamp: (orgId: string) => Promise<string | null>): ChangeFeed {
  const listeners: ((orgId: string) => void)[] = [];
  const followed = new Map<string, { lastRead?: string | null; barrier: () => Promise<void> }>();
  const follow = (orgId: string) => {
    const org: { lastRead?: string | null; barrier: () => Promise<void> } = {
      // Shared by the requests that wait for it: never inside the transaction of the one that started it.
      barrier: sharedRoundTrips(async () => {
        try {
          const stamp = await outsideRequestTransaction(() => readStamp(orgId));
          if (org.lastRead !== undefined && org.lastRead === stamp) return;
          for (const listener of listeners) listener(orgId);
          org.lastRead = stamp;
        } catch (error) {
          // Unknown now: the next barrier drops again.
          org.lastRead = undefined;
          throw error;
        }
      }),
    };
    // A forgotten organisation's round trip in flight may still finish; it only drops, or sets a
    // stamp no one compares with again.
    if (followed.size >= MAX_ORGS) followed.clear();
    followed.set(orgId, org);
    return org;
  };
  return {
    async listen(_channel, onMessage, onState) {
      listeners.push(onMessage);
      onState(true);
    },
    sync: (orgId) => (followed.get(orgId) ?? follow(orgId)).barrier(),
    state: () => 'listening',
  };
}
