// Bitbucket tokens (PRODUCT §8): created by an account (shown once, stored hashed), listed by
// their owner, revoked by the owner or an admin; X-Bitbucket-Token vouches for bitbucket:*
// objects with its scopes, unaffected by the CLI settings and session revocation, while the ACLs,
// the allowlist and the audit log apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/shared/secrets.ts';
import { createTenant, objectInput, startTestApp, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const CREATE = 'mutation($i: CreateBitbucketTokenInput!) { createBitbucketToken(input: $i) { secret token { id label scopes expiresAt revokedAt } } }';
const REVOKE = 'mutation($id: ID!) { revokeBitbucketToken(id: $id) { id revokedAt } }';
const PULL_REQUESTS = '{ objects(filter: { types: ["bitbucket:pull-request"] }) { edges { node { externalId } } } }';

async function bitbucketTenant() {
  const tenant = await createTenant(t, 'Bits');
  const admin = await tenant.account({ admin: true });
  const dev = await tenant.account();
  await tenant.ingest('setUsers', { users: [{ externalId: 'bb-dev', updateSequenceNumber: 1 }] });
  await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'bb-dev', accountId: dev.accountId, updateSequenceNumber: 1 }] });
  await tenant.ingest('setObjects', {
    objects: [
      objectInput('REPO', { type: 'bitbucket:repository', displayName: 'api' }),
      objectInput('PR-1', { type: 'bitbucket:pull-request', container: { type: 'bitbucket:repository', externalId: 'REPO' } }),
      objectInput('PR-SECRET', { type: 'bitbucket:pull-request', permissions: viewAcl([userPrincipal('someone-else')]) }),
      objectInput('W-1'),
    ],
  });
  const token = async (scopes: string[], account = dev, expiresAt?: string) => {
    const r = await t.graphql(account.token, CREATE, { i: { label: 'laptop', scopes, ...(expiresAt ? { expiresAt } : {}) } });
    expect(r.body.errors).toBeUndefined();
    return r.body.data.createBitbucketToken as { secret: string; token: { id: string } };
  };
  return { tenant, admin, dev, token };
}

const withBitbucket = (secret: string, bearer: string | null, query: string, variables?: Record<string, unknown>) => t.graphql(bearer, query, variables, { 'x-bitbucket-token': secret });

describe('Bitbucket tokens', () => {
  it('shows the secret once, stores its SHA-256, lists the owner’s tokens and refuses bad input', async () => {
    const { dev, token } = await bitbucketTenant();
    const created = await token(['pullrequest:read', 'repository:read']);
    expect(created.secret).toMatch(/^twgb_org_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const row = await t.db.selectFrom('bitbucket_token').selectAll().where('id', '=', created.token.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sha256(created.secret));
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(5));
    const listed = await t.graphql(dev.token, '{ viewer { bitbucketTokens { id label scopes } } }');
    expect(listed.body.data.viewer.bitbucketTokens).toEqual([{ id: created.token.id, label: 'laptop', scopes: ['pullrequest:read', 'repository:read'] }]);
    const bad = await t.graphql(dev.token, CREATE, { i: { label: 'x', scopes: ['admin:everything'] } });
    expect(bad.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'INVALID_SCOPE' });
    const none = await t.graphql(dev.token, CREATE, { i: { label: 'x', scopes: [] } });
    expect(none.body.errors?.[0].extensions.subCode).toBe('INVALID_SCOPE');
  });

  it('lists pull requests with the token alone in an organisation whose CLI is blocked, and the ACLs still apply', async () => {
    const { tenant, admin, dev, token } = await bitbucketTenant();
    const { secret } = await token(['pullrequest:read', 'repository:read']);
    const blocked = await t.graphql(admin.token, 'mutation($i: UpdateCliPermissionsInput!) { updateCliPermissions(input: $i) { revokedSessionCount } }', {
      i: { orgId: tenant.orgId, allowAllByDefault: false, selectedPermissions: [], revokeSessions: true },
    });
    expect(blocked.body.data.updateCliPermissions.revokedSessionCount).toBeGreaterThan(0);
    expect((await t.graphql(dev.token, '{ viewer { account { id } } }')).status).toBe(401);

    const prs = await withBitbucket(secret, null, PULL_REQUESTS);
    expect(prs.body.errors).toBeUndefined();
    // PR-SECRET's ACL names another user: invisible, token or not.
    expect(prs.body.data.objects.edges.map((e: any) => e.node.externalId)).toEqual(['PR-1']);
    // Without a type filter the token covers Bitbucket only: the Jira item needs OAuth.
    const all = await withBitbucket(secret, null, '{ objects { edges { node { externalId } } } }');
    expect(all.body.data.objects.edges.map((e: any) => e.node.externalId).sort()).toEqual(['PR-1', 'REPO']);
  });

  it('needs the token for Bitbucket objects: OAuth alone is RESTRICTED with advice', async () => {
    const { dev } = await bitbucketTenant();
    const r = await t.graphql(dev.token, PULL_REQUESTS);
    expect(r.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', permission: 'pullrequest:read' });
    expect(r.body.errors?.[0].message).toContain('X-Bitbucket-Token');
  });

  it('does not let a repository:read token write', async () => {
    const { dev, token } = await bitbucketTenant();
    const { secret } = await token(['repository:read']);
    const repo = (await withBitbucket(secret, null, '{ objects(filter: { types: ["bitbucket:repository"] }) { edges { node { id } } } }')).body.data.objects.edges[0].node.id;
    const write = await withBitbucket(secret, dev.token, 'mutation($i: UpdateObjectInput!) { updateObject(input: $i) { id } }', { i: { id: repo, displayName: 'renamed' } });
    expect(write.body.errors?.[0].extensions).toMatchObject({ code: 'RESTRICTED', permission: 'repository:write' });
    const writer = await token(['repository:read', 'repository:write']);
    const allowed = await withBitbucket(writer.secret, dev.token, 'mutation($i: UpdateObjectInput!) { updateObject(input: $i) { displayName } }', { i: { id: repo, displayName: 'renamed' } });
    expect(allowed.body.data?.updateObject).toEqual({ displayName: 'renamed' });
  });

  it('answers 401 for a revoked or expired token, and lets only the owner or an admin revoke', async () => {
    const { tenant, admin, dev, token } = await bitbucketTenant();
    const other = await tenant.account();
    const first = await token(['pullrequest:read']);
    expect((await t.graphql(other.token, REVOKE, { id: first.token.id })).body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await withBitbucket(first.secret, null, PULL_REQUESTS)).status).toBe(200);
    const revoked = await t.graphql(dev.token, REVOKE, { id: first.token.id });
    expect(revoked.body.data.revokeBitbucketToken.revokedAt).not.toBeNull();
    const after = await withBitbucket(first.secret, null, PULL_REQUESTS);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

    const second = await token(['pullrequest:read']);
    expect((await t.graphql(admin.token, REVOKE, { id: second.token.id })).body.data.revokeBitbucketToken.revokedAt).not.toBeNull();

    const expiring = await token(['pullrequest:read'], dev, new Date(t.clock.now().getTime() + 3600_000).toISOString());
    expect((await withBitbucket(expiring.secret, null, PULL_REQUESTS)).status).toBe(200);
    t.clock.advance(3600_000);
    expect((await withBitbucket(expiring.secret, null, PULL_REQUESTS)).status).toBe(401);
  });

  it('refuses a Bitbucket token and a bearer token of two different accounts in one request', async () => {
    const { tenant, token } = await bitbucketTenant();
    const { secret } = await token(['pullrequest:read']);
    const stranger = await tenant.account();
    const r = await withBitbucket(secret, stranger.token, PULL_REQUESTS);
    expect(r.status).toBe(403);
    expect(r.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('records Bitbucket commands in the audit log with the token id, and applies the allowlist', async () => {
    const { tenant, admin, dev, token } = await bitbucketTenant();
    const created = await token(['pullrequest:read']);
    await t.graphql(null, PULL_REQUESTS, undefined, { 'x-bitbucket-token': created.secret, 'x-twg-command': 'bitbucket pr list' }, '203.0.113.5');
    const events = await t.graphql(admin.token, 'query($o: ID!) { organization(id: $o) { auditEvents(filter: { command: "bitbucket pr list" }) { edges { node { actor { accountId } clientId outcome objectTypes event } } } } }', { o: tenant.orgId });
    const [event] = events.body.data.organization.auditEvents.edges.map((e: any) => e.node);
    expect(event).toMatchObject({ actor: { accountId: dev.accountId }, clientId: 'bitbucket-token', outcome: 'SUCCESS', objectTypes: ['bitbucket:pull-request'] });
    expect(event.event).toMatchObject({ bitbucketTokenId: created.token.id, action: 'cli.command.invoked', family: 'bitbucket.pr' });

    const fenced = await t.graphql(admin.token, 'mutation($i: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $i) { version } }', { i: { orgId: tenant.orgId, enabled: true, rules: [{ cidr: '203.0.113.0/24' }] } }, {}, '203.0.113.1');
    expect(fenced.body.errors).toBeUndefined();
    const outside = await t.graphql(null, PULL_REQUESTS, undefined, { 'x-bitbucket-token': created.secret }, '192.0.2.1');
    expect(outside.status).toBe(403);
    expect(outside.body.errors?.[0].extensions.code).toBe('IP_NOT_ALLOWED');
  });
});
