// PRODUCT §6 under concurrency: two refreshes of one refresh token sent at the same moment over
// real HTTP. Exactly one may win; the other presented an already-used token, which revokes the
// whole session, so even the winner's fresh tokens must stop working (design decision: reuse
// revokes the session even in a race).
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, OAuthHarness, type Person, READ_JIRA } from '../support/oauth-harness.ts';

const ROUNDS = 50;

let h: OAuthHarness;
let ross: Person;

beforeAll(async () => {
  h = await OAuthHarness.start();
  ross = await (await h.tenant('Race')).person();
});
afterAll(() => h?.close());

it(`lets exactly one of two concurrent refreshes win and then revokes the session, in each of ${ROUNDS} rounds`, { timeout: 180_000 }, async () => {
  const problems: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { tokens } = await h.login(ross.email, { scope: [READ_JIRA] });
    const refreshToken = tokens.refresh_token!;
    const responses = await Promise.all([h.refreshRequest(refreshToken), h.refreshRequest(refreshToken)]);
    const outcomes = await Promise.allSettled(responses.map((response) => oauth.processRefreshTokenResponse(h.as, CLI, response)));

    const winners = outcomes.filter((o): o is PromiseFulfilledResult<oauth.TokenEndpointResponse> => o.status === 'fulfilled');
    const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (winners.length !== 1) {
      problems.push(`round ${round}: ${winners.length} of 2 refreshes succeeded (statuses ${responses.map((r) => r.status).join(', ')})`);
      continue;
    }
    const loss = losers[0].reason;
    if (!(loss instanceof oauth.ResponseBodyError) || loss.status !== 400 || loss.error !== 'invalid_grant') {
      const what = loss instanceof oauth.ResponseBodyError ? `${loss.status} ${loss.error}` : String(loss);
      problems.push(`round ${round}: the losing refresh answered ${what}, not 400 invalid_grant`);
    }

    const winner = winners[0].value;
    const graphql = await h.viewer(winner.access_token);
    if (graphql.status !== 401 || !/error="invalid_token"/.test(graphql.headers.get('www-authenticate') ?? '')) {
      problems.push(`round ${round}: the winner's access token still answers ${graphql.status} on /graphql after the reuse`);
    }
    const again = await h.refreshRequest(winner.refresh_token!);
    const againBody = (await again.json().catch(() => ({}))) as { error?: string };
    if (again.status !== 400 || againBody.error !== 'invalid_grant') {
      problems.push(`round ${round}: the winner's refresh token answers ${again.status} ${againBody.error ?? ''} after the reuse, not 400 invalid_grant`);
    }
  }
  expect(problems).toEqual([]);
});
