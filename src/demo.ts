// The demo data set: one organisation with a Jira and a Confluence connection and two people
// who see different objects. Created through the same services as the operator command line;
// loading it again only issues fresh tokens.
import { ADMIN_CLIENT_ID, CLI_CLIENT_ID } from './modules/session/credentials/client-ids.ts';
import type { Services } from './services.ts';
import type { ConnectionCaller } from './modules/session/caller.ts';
import { OrgRepository } from './modules/org/org.repository.ts';

const ALICE = 'alice@demo.teamgraph.test';
const BOB = 'bob@demo.teamgraph.test';
const DEMO_PASSWORD = 'demo-password';
const TOKEN_TTL_SECONDS = 12 * 3600;

export interface DemoSummary {
  orgId: string;
  cloudId: string;
  accounts: { alice: string; bob: string };
  tokens: { alice: string; bob: string; aliceAdmin: string };
  /** False when the organisation was already there and only fresh tokens were issued. */
  created: boolean;
  instructions: string;
}

export async function loadDemoIfEmpty(services: Services): Promise<DemoSummary | null> {
  const orgs = new OrgRepository(services.db);
  const existing = await orgs.findAccountByEmail(ALICE);
  if (!existing && (await services.db.selectFrom('organization').select('id').limit(1).executeTakeFirst())) return null;
  return loadDemo(services);
}

export async function loadDemo(services: Services): Promise<DemoSummary> {
  const orgs = new OrgRepository(services.db);
  const alice = await orgs.findAccountByEmail(ALICE);
  const bob = await orgs.findAccountByEmail(BOB);
  const created = !(alice && bob);
  const ids = alice && bob ? { orgId: alice.org_id, alice: alice.id, bob: bob.id, cloudId: (await orgs.listSites(alice.org_id))[0].cloud_id } : await createDemo(services);
  const scopes = services.catalog.permissions.map((p) => p.key);
  const issue = (accountId: string, client: string) => services.sessions.issue({ orgId: ids.orgId, accountId }, client, scopes, TOKEN_TTL_SECONDS);
  const tokens = {
    alice: (await issue(ids.alice, CLI_CLIENT_ID)).accessToken,
    bob: (await issue(ids.bob, CLI_CLIENT_ID)).accessToken,
    aliceAdmin: (await issue(ids.alice, ADMIN_CLIENT_ID)).accessToken,
  };
  const instructions = [
    '',
    `${created ? 'Demo organisation loaded.' : 'Demo organisation already there; fresh tokens issued.'} Paste one of these into GraphiQL's Headers tab (valid 12 hours):`,
    `  Alice (sees everything, org admin):  {"Authorization": "Bearer ${tokens.alice}"}`,
    `  Bob (no Confluence, no security):    {"Authorization": "Bearer ${tokens.bob}"}`,
    `  Alice on the admin client (admin fields such as accessExplanation, permissions):`,
    `                                        {"Authorization": "Bearer ${tokens.aliceAdmin}"}`,
    `Passwords for the login page: ${ALICE} / ${BOB}, password "${DEMO_PASSWORD}".`,
    `An admin API key for twg admin: the admin page's Admin API keys (/admin#keys, as ${ALICE}), or with the server stopped`,
    `  npm run --silent admin -- admin-key create --email ${ALICE}`,
    '',
  ].join('\n');
  return { orgId: ids.orgId, cloudId: ids.cloudId, accounts: { alice: ids.alice, bob: ids.bob }, tokens, created, instructions };
}

async function createDemo(services: Services) {
  const { orgs, sessions } = services;
  const { orgId } = await orgs.createOrganization('Demo Org');
  const { cloudId } = await orgs.createSite(orgId, 'demo');
  const alice = await orgs.createAccount({ orgId, email: ALICE, displayName: 'Alice Admin', password: DEMO_PASSWORD, admin: true, cloudIds: [cloudId] });
  const bob = await orgs.createAccount({ orgId, email: BOB, displayName: 'Bob Builder', password: DEMO_PASSWORD, cloudIds: [cloudId] });

  const connectAs = async (provider: string): Promise<ConnectionCaller> => {
    const connection = await orgs.createConnection(cloudId, provider);
    const { accessToken } = await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, []);
    const auth = await sessions.authenticate(accessToken);
    if (!auth.ok || auth.caller.kind !== 'connection') throw new Error('demo connection could not authenticate');
    return auth.caller;
  };
  const jira = await connectAs('jira');
  const confluence = await connectAs('confluence');

  for (const connection of [jira, confluence]) {
    await services.directory.setUsers(connection, connection.connectionId, [
      { externalId: 'u-alice', displayName: 'Alice', email: ALICE, updateSequenceNumber: 1 },
      { externalId: 'u-bob', displayName: 'Bob', email: BOB, updateSequenceNumber: 1 },
    ]);
    await services.directory.mapUsers(connection, connection.connectionId, [
      { externalId: 'u-alice', externalEmailAddress: ALICE, updateSequenceNumber: 1 },
      { externalId: 'u-bob', externalEmailAddress: BOB, updateSequenceNumber: 1 },
    ]);
  }
  await services.directory.setGroups(jira, jira.connectionId, [
    { externalId: 'security-leads', displayName: 'Security leads', members: [{ type: 'USER', externalId: 'u-alice' }], updateSequenceNumber: 1 },
    { externalId: 'security', displayName: 'Security', members: [{ type: 'GROUP', externalId: 'security-leads' }], updateSequenceNumber: 1 },
  ]);

  const workspace = [{ accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' as const }] }] }];
  const inherit = [{ accessControls: [{ principals: [{ type: 'CONTAINER' as const }] }] }, { action: 'EDIT' as const, accessControls: [{ principals: [{ type: 'CONTAINER' as const }] }] }];
  const project = { type: 'jira:project', externalId: 'DEMO' };
  await services.objects.setObjects(jira, jira.connectionId, [
    { ...project, displayName: 'Demo project', url: 'https://demo.example/projects/DEMO', updateSequenceNumber: 1, permissions: workspace },
    ...['Set up the build', 'Write the onboarding guide', 'Fix the login redirect'].map((title, i) => ({
      type: 'jira:work-item',
      externalId: `DEMO-${i + 1}`,
      displayName: title,
      description: `Demo work item ${i + 1}.`,
      container: project,
      properties: { status: i === 0 ? 'Done' : 'To Do' },
      updateSequenceNumber: 1,
      permissions: inherit,
    })),
    {
      type: 'jira:work-item',
      externalId: 'DEMO-4',
      displayName: 'Rotate the signing keys',
      description: 'Only the security group sees this one.',
      container: project,
      updateSequenceNumber: 1,
      permissions: [
        { accessControls: [{ principals: [{ type: 'CONTAINER' as const }] }, { principals: [{ type: 'GROUP' as const, id: 'security' }] }] },
      ],
    },
  ]);
  const space = { type: 'confluence:space', externalId: 'ENG' };
  await services.objects.setObjects(confluence, confluence.connectionId, [
    { ...space, displayName: 'Engineering space', updateSequenceNumber: 1, permissions: [{ accessControls: [{ principals: [{ type: 'USER' as const, id: 'u-alice' }] }] }] },
    { type: 'confluence:page', externalId: 'page-1', displayName: 'Architecture overview', container: space, updateSequenceNumber: 1, permissions: inherit },
  ]);
  await services.relationships.setRelationships(jira, jira.connectionId, [
    { type: 'work-item-belongs-to-project', from: { type: 'jira:work-item', externalId: 'DEMO-1' }, to: project, updateSequenceNumber: 1 },
    { type: 'work-item-blocks-work-item', from: { type: 'jira:work-item', externalId: 'DEMO-3' }, to: { type: 'jira:work-item', externalId: 'DEMO-4' }, updateSequenceNumber: 1 },
  ]);
  return { orgId, cloudId, alice: alice.accountId, bob: bob.accountId };
}
