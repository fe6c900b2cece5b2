// POST (or GET) /graphql, on cached credentials under the no-stale-access protocol
// (modules/session/credentials/credential-cache.ts, steps 4 and 5): the answer is held until
// they are confirmed, and the request runs again when they changed. A browser's GET gets
// GraphiQL (http/graphiql/routes.ts). Every request that ran is charged to its credential's rate
// limit (issue 21): its answer carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset
// (seconds), and one that did not fit is a 429 with Retry-After. A mutation whose transaction
// collided with another (db/collisions.ts) runs again, up to RUNS_AFTER_COLLISIONS times in all;
// after that its answer says CONFLICT.
import { RUNS_AFTER_COLLISIONS } from '../db/collisions.ts';
import { inRoutingScope } from '../db/worker-routing.ts';
import { RateLimitMeter } from '../modules/rate-limit/rate-limit-meter.ts';
import { runOnCurrentCredentials } from '../modules/session/credentials/confirmed-run.ts';
import type { Speculation } from '../modules/session/credentials/speculation.ts';
import type { ParseMemo } from '../modules/session/credentials/use-parse-once.ts';
import type { createGraphqlHandler } from '../graphql/yoga.ts';
import type { Services } from '../services.ts';
import type { Audited } from './audited.ts';
import type { Answer, Authenticate } from './authenticate.ts';
import { bodyTooLarge, boundBody } from './body-limit.ts';
import { rateLimitHeaders } from './rate-limit-headers.ts';
import type { RoutedInfo } from './router.ts';

type Yoga = ReturnType<typeof createGraphqlHandler>;

export function graphqlRoute(services: Services, yoga: Yoga, authenticate: Authenticate, audited: Audited, graphiqlPage: () => Response, { rateLimits = true } = {}) {
  async function respond(rerunnable: Rerunnable, info: RoutedInfo, speculation?: Speculation): Promise<Answer> {
    const { requestId } = info.observed;
    // A later run (credentials that changed, a collision) tells its own outcome.
    info.observed.errorCode = undefined;
    rerunnable.collided = false;
    const auth = await authenticate(rerunnable.request, info, requestId, speculation);
    if (!auth.ok) return auth;
    const recorder = auth.recorder;
    const bounded = await rerunnable.body();
    if (!bounded) return { recorder, outcome: 'ERROR', response: bodyTooLarge(requestId) };
    const response = await yoga.handleRequest(bounded, {
      caller: auth.caller,
      org: auth.org,
      requestId,
      observed: info.observed,
      audit: recorder,
      clientAddress: info.clientAddress,
      credentialsConfirmed: () => speculation?.confirm() ?? Promise.resolve(true),
      collided: () => (rerunnable.collided = true),
      parseMemo: rerunnable.parsed,
      rateLimit: rerunnable.rateLimit ?? undefined,
    });
    response.headers.set('x-request-id', requestId);
    const status = rerunnable.rateLimit?.status;
    if (!status) return { recorder, response };
    for (const [name, value] of Object.entries(rateLimitHeaders(status, services.clock.now()))) response.headers.set(name, value);
    if (status.granted) return { recorder, response };
    return { recorder, outcome: 'RATE_LIMITED', response: new Response(response.body, { status: 429, headers: response.headers }) };
  }

  // A scope per request, in which a query's statements, its audit event too, may go to the node of
  // its organisation (db/worker-routing.ts).
  return (request: Request, info: RoutedInfo): Promise<Response> =>
    inRoutingScope(async () => {
      // Also with a query: GraphiQL keeps the one being edited in the address, so a reload opens it again.
      const wantsGraphiql = request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
      if (wantsGraphiql) return graphiqlPage();

      const rerunnable = new Rerunnable(request, rateLimits ? new RateLimitMeter(services.rateLimits) : null);
      let answer = await runOnCurrentCredentials(services.credentials, (speculation) => respond(rerunnable, info, speculation));
      for (let run = 2; rerunnable.collided && run <= RUNS_AFTER_COLLISIONS; run++) answer = await respond(rerunnable, info);
      return audited(answer.recorder, answer.response, answer.outcome);
    });
}

/**
 * A GraphQL request that may run more than once: its body is read (and bounded) once, what yoga
 * parsed from it is kept for the later runs (useParseOnce), which cannot read the body again, and
 * so is its rate-limit charge (RateLimitMeter).
 */
class Rerunnable {
  private bounded: Promise<Request | null> | null = null;
  readonly parsed: ParseMemo = {};
  /** Whether the last run's mutation collided with another and kept nothing (each run starts false). */
  collided = false;

  constructor(
    readonly request: Request,
    readonly rateLimit: RateLimitMeter | null,
  ) {}

  /** The request to execute; null when its body is over the limit. */
  body(): Promise<Request | null> {
    this.bounded ??= boundBody(this.request);
    return this.bounded;
  }
}
