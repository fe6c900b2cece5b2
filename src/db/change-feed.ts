// Notifications of the database's changes (what the credential cache and the principal cache
// follow): on PostgreSQL one dedicated LISTEN connection, on PGlite the embedded database itself.
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { CITUS_PRESENT_SQL } from '../../migrations/distribution.ts';

/**
 * LISTEN for one channel. `onState(true)` once listening; `onState(false)` while the feed is
 * down (a lost connection), when anything may have changed unseen, until it is up again.
 */
/** The application_name of the listening connection on PostgreSQL. */
export const CHANGE_FEED_APPLICATION = 'teamgraph-change-feed';

export interface ChangeFeed {
  listen(channel: string, onMessage: (payload: string) => void, onState: (listening: boolean) => void): Promise<void>;
  /**
   * Resolves once every notification of a transaction committed before the call has reached the
   * listeners, at least those about organisation `orgId` (a feed may follow organisations one by
   * one); rejects when the feed is down.
   */
  sync(orgId: string): Promise<void>;
  /** For readiness (issue 19): listening, down (reconnecting), or not used on this database (Citus). */
  state(): 'listening' | 'down' | 'not used';
}

/**
 * One dedicated connection LISTENs; when it is lost, the listeners hear so and it reconnects.
 * On Citus (distributed PostgreSQL) it never listens: the triggers that notify would run on the
 * workers' shards, where nobody listens and a notifying transaction cannot be prepared, so
 * migration 020 drops them there. The credential cache then follows stamps instead
 * (modules/session/credentials/stamp-feed.ts).
 */
export function postgresChangeFeed(databaseUrl: string): ChangeFeed & { close(): Promise<void>; reconnects(): number } {
  type Listener = { onMessage: (payload: string) => void; onState: (listening: boolean) => void };
  const channels = new Map<string, Listener[]>();
  const everyone = () => [...channels.values()].flat();
  let client: pg.Client | null = null;
  let closed = false;
  let citus = false;
  let retry: NodeJS.Timeout | undefined;
  let listenedBefore = false;
  let reconnects = 0;
  const down = () => {
    for (const listener of everyone()) listener.onState(false);
    if (closed || citus || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1000);
    retry.unref();
  };
  const connect = async () => {
    // Named, so an operator (and the readiness test) can tell it from the pool's connections.
    const next = new pg.Client({ connectionString: databaseUrl, application_name: CHANGE_FEED_APPLICATION });
    next.on('error', () => {});
    next.on('end', () => {
      if (client === next) client = null;
      down();
    });
    next.on('notification', (message) => {
      for (const listener of channels.get(message.channel) ?? []) listener.onMessage(message.payload ?? '');
    });
    try {
      await next.connect();
      const { rows } = await next.query<{ found: boolean }>(CITUS_PRESENT_SQL);
      if (rows[0].found) {
        citus = true;
        return void (await next.end());
      }
      for (const name of channels.keys()) await next.query(`listen ${pg.escapeIdentifier(name)}`);
      if (closed) return void (await next.end());
      client = next;
      if (listenedBefore) reconnects++;
      listenedBefore = true;
      for (const listener of everyone()) listener.onState(true);
    } catch {
      await next.end().catch(() => {});
      down();
    }
  };
  // PostgreSQL sends a listening session the notifications of every transaction committed before
  // its own statement finishes, ahead of that statement's result: a round trip on the listening
  // connection is a barrier.
  const sync = sharedRoundTrips(async () => {
    if (!client) throw new Error('The change feed is down.');
    await client.query('select 1');
  });
  return {
    sync,
    state: () => (client ? 'listening' : citus ? 'not used' : 'down'),
    reconnects: () => reconnects,
    async listen(channel, onMessage, onState) {
      const known = channels.has(channel);
      channels.set(channel, [...(channels.get(channel) ?? []), { onMessage, onState }]);
      onState(false);
      if (!client) return citus ? undefined : connect();
      if (!known) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      onState(true);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end();
    },
  };
}

/**
 * `roundTrip` as a barrier many callers share: a caller that arrives while one is in flight waits
 * for the next (the one in flight may have started before the caller's own changes committed), and
 * everyone who arrived meanwhile shares that next one.
 */
export function sharedRoundTrips(roundTrip: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const sync = (): Promise<void> => {
    if (!inFlight) {
      inFlight = roundTrip().finally(() => {
        inFlight = null;
      });
      return inFlight;
    }
    queued ??= inFlight
      .catch(() => {})
      .then(() => {
        queued = null;
        return sync();
      });
    return queued;
  };
  return sync;
}

/**
 * One process owns the embedded database, and PGlite hands a transaction's notifications to
 * listeners as its commit returns: the feed is never down.
 */
export function pgliteChangeFeed(pglite: PGlite): ChangeFeed {
  return {
    async listen(channel, onMessage, onState) {
      await pglite.listen(channel, onMessage);
      onState(true);
    },
    sync: async () => {},
    state: () => 'listening',
  };
}
