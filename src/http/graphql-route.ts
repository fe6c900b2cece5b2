// POST (or GET) /graphql. Cached credentials are used at once while the change feed's barrier
// runs beside the request (issue 3: on PostgreSQL the barrier is a round trip). Until it confirms
// them nothing leaves: no response, no audit event, and no mutation starts (useAudit waits for
// it; query fields only read). Should the barrier show that they changed, the request runs again
// from the database. A browser's GET without a query gets GraphiQL.
import { randomUUID } from 'node:crypto';
import type { ParseMemo } from '../graphql/plugins/use-parse-once.ts';
import type { createGraphqlHandler } from '../graphql/yoga.ts';
import type { Speculation } from '../modules/session/credential-cache.ts';
import type { Services } from '../services.ts';
import type { Audited } from './audited.ts';
import type { Answer, Authenticate, RequestInfo } from './authenticate.ts';
import { bodyTooLarge, boundBody } from './body-limit.ts';

type Yoga = ReturnType<typeof createGraphqlHandler>;

export function graphqlRoute(services: Services, yoga: Yoga, authenticate: Authenticate, audited: Audited) {
  async function respond(rerunnable: Rerunnable, info: RequestInfo, requestId: string, speculation?: Speculation): Promise<Answer> {
    const auth = await authenticate(rerunnable.request, info, requestId, speculation);
    if (!auth.ok) return auth;
    const recorder = auth.recorder;
    const bounded = await rerunnable.body();
    if (!bounded) return { recorder, outcome: 'ERROR', response: bodyTooLarge(requestId) };
    const response = await yoga.handleRequest(bounded, {
      caller: auth.caller,
      org: auth.org,
      requestId,
      audit: recorder,
      clientAddress: info.clientAddress,
      credentialsConfirmed: () => speculation?.confirm() ?? Promise.resolve(true),
      parseMemo: rerunnable.parsed,
    });
    response.headers.set('x-request-id', requestId);
    return { recorder, response };
  }

  return async (request: Request, info: RequestInfo): Promise<Response> => {
    const requestId = randomUUID();
    const wantsGraphiql = request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html') && !new URL(request.url).searchParams.has('query');
    if (wantsGraphiql) return yoga.handleRequest(request, { requestId } as never);

    const rerunnable = new Rerunnable(request);
    const speculation = services.credentials.speculate();
    let answer = await respond(rerunnable, info, requestId, speculation);
    if (speculation.relies && !(await speculation.confirm())) answer = await respond(rerunnable, info, requestId);
    return audited(answer.recorder, answer.response, answer.outcome);
  };
}

/**
 * A GraphQL request that may run twice: its body is read (and bounded) once, and what yoga parsed
 * from it is kept for the second run (useParseOnce), which cannot read the body again.
 */
class Rerunnable {
  private bounded: Promise<Request | null> | null = null;
  readonly parsed: ParseMemo = {};

  constructor(readonly request: Request) {}

  /** The request to execute; null when its body is over the limit. */
  body(): Promise<Request | null> {
    this.bounded ??= boundBody(this.request);
    return this.bounded;
  }
}
