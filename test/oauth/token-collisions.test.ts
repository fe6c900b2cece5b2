// The token endpoint's transactions run again after a collision (src/db/collisions.ts): a refresh
// that PostgreSQL refused to break a deadlock still answers new tokens, and the refresh token
// turns once. The deadlock is real (test/support/collisions.ts). A server back end only.
import { sql } from 'kysely';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collide } from '../support/collisions.ts';
import { CLI, OAuthHarness, READ_JIRA } from '../support/oauth-harness.ts';

const SERVER = Boolean(process.env.DATABASE_URL);

let h: OAuthHarness;
beforeAll(async () => {
  if (SERVER) h = await OAuthHarness.start();
});
afterAll(() => h?.close());

describe.runIf(SERVER)('the token endpoint after a collision', () => {
  it('runs a refresh refused for a deadlock again: the client gets new tokens, the old refresh token is used once', async () => {
    const tenant = await h.tenant('Collide');
    const person = await tenant.person();
    const { tokens } = await h.login(person.email, { scope: [READ_JIRA] });
    const { rows } = await sql<{ id: string }>`select id from session where org_id = ${tenant.orgId} and account_id = ${person.accountId}`.execute(h.t.db);
    expect(rows).toHaveLength(1);
    const session = rows[0].id;

    h.t.statements.length = 0;
    // The refresh claims its token, then waits for the session the other holds; the other then
    // asks for the token the refresh claimed.
    const response = await collide(
      h.t,
      ['select 1 from session where org_id = $1 and id = $2 for update', [tenant.orgId, session]],
      () => h.refreshRequest(tokens.refresh_token!),
      'update "session" set',
      ['update refresh_token set used_at = used_at where org_id = $1 and session_id = $2', [tenant.orgId, session]],
    );
    expect(response.status).toBe(200);
    const refreshed = await oauth.processRefreshTokenResponse(h.as, CLI, response);
    expect(h.t.statements.filter((s) => /^update "refresh_token" set "used_at"/.test(s))).toHaveLength(2);
    expect(h.t.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);

    await h.expectTokenWorks(refreshed.access_token);
    const { rows: turned } = await sql<{ used: number; live: number }>`
      select count(*) filter (where used_at is not null)::int as used, count(*) filter (where used_at is null)::int as live
      from refresh_token where org_id = ${tenant.orgId} and session_id = ${session}`.execute(h.t.db);
    expect(turned[0]).toEqual({ used: 1, live: 1 });
    const next = await h.refresh(refreshed.refresh_token!);
    await h.expectTokenWorks(next.tokens.access_token);
  });
});
