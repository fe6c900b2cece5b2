// twg admin people and twg admin sessions (issue 20): the organisation's directory, who is signed
// in, and ending sessions (one, one person's twg sessions, or everyone's), as an admin API key.
// A person is named by e-mail or account id; an e-mail is turned into the id by the API.
import type { Command } from 'commander';
import type { Api } from '../api.ts';
import { action } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { printJson, printList, tell } from '../output.ts';
import { type Connection, collect, type PageOptions, pagingOptions } from '../pagination.ts';

/** Account as ACCOUNT_FIELDS selects it. */
interface Person {
  id: string;
  email: string;
  displayName: string;
  active: boolean;
  isOrgAdmin: boolean;
  lastSignInAt: string | null;
  cliSessionCount: number;
  sites: { cloudId: string; name: string }[];
}

/** Session as SESSION_FIELDS selects it. */
interface Session {
  id: string;
  clientId: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  ip: string | null;
  country: string | null;
}

/** The id of the admin API key's organisation. */
export async function organizationId(api: Api): Promise<string> {
  const { viewer } = await api.request<{ viewer: { organization: { id: string } | null } }>('{ viewer { organization { id } } }', {}, 'admin');
  if (!viewer.organization) throw new CliError(EXIT.restricted, 'forbidden: this admin API key belongs to no organisation');
  return viewer.organization.id;
}

const ACCOUNT_FIELDS = 'id email displayName active isOrgAdmin lastSignInAt cliSessionCount sites { cloudId name }';
const SESSION_FIELDS = 'id clientId scopes createdAt lastUsedAt ip country';

/** The account a person typed: an e-mail (looked up, case-insensitively) or an account id (checked). */
export async function resolveAccount(api: Api, orgId: string, emailOrId: string): Promise<{ id: string; email: string }> {
  const value = emailOrId.trim();
  if (value.includes('@')) {
    const { organization: org } = await api.request<{ organization: { accountByEmail: { id: string; email: string } | null } | null }>(
      'query($o: ID!, $e: String!) { organization(id: $o) { accountByEmail(email: $e) { id email } } }',
      { o: orgId, e: value },
      'admin',
    );
    if (org?.accountByEmail) return org.accountByEmail;
    throw new CliError(EXIT.usage, `not found: no account of your organisation has the e-mail ${value}`, ['list them with: twg admin people list --search TEXT'], { code: 'NOT_FOUND' });
  }
  const { node } = await api.request<{ node: { id: string; email: string } | null }>('query($id: ID!) { node(id: $id) { ... on Account { id email } } }', { id: value }, 'admin');
  if (node?.email) return node;
  throw new CliError(EXIT.usage, `not found: no account ${value} in your organisation`, ['give an e-mail or an id from: twg admin people list'], { code: 'NOT_FOUND' });
}

function registerPeople(admin: Command): void {
  const people = admin.command('people').description("Your organisation's accounts");
  pagingOptions(
    people
      .command('list')
      .description('List accounts by e-mail, with their status, sites, last sign-in and live twg sessions')
      .option('--search <text>', 'only accounts whose e-mail or name contains this text (case-insensitive)')
      .option('--active', 'only active accounts')
      .option('--deactivated', 'only deactivated accounts')
      .option('--admins', 'only organisation admins'),
  ).action(
    action<{ search?: string; active?: boolean; deactivated?: boolean; admins?: boolean } & PageOptions>(async ({ invocation, api, options }) => {
      if (options.active && options.deactivated) throw new CliError(EXIT.usage, '--active and --deactivated contradict each other');
      const orgId = await organizationId(api);
      const filter = {
        ...(options.search ? { text: options.search } : {}),
        ...(options.active ? { active: true } : options.deactivated ? { active: false } : {}),
        ...(options.admins ? { isOrgAdmin: true } : {}),
      };
      const page = await collect(options, async (first, after) => {
        const { organization: found } = await api.request<{ organization: { accounts: Connection<Person> } }>(
          `query($o: ID!, $f: AccountFilter, $first: Int, $after: String) { organization(id: $o) { accounts(filter: $f, first: $first, after: $after) {
            edges { node { ${ACCOUNT_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`,
          { o: orgId, f: filter, first, after },
          'admin',
        );
        return found.accounts;
      });
      printList(
        invocation,
        page,
        [
          ['email', (p) => p.email],
          ['name', (p) => p.displayName],
          ['status', (p) => (p.active ? 'active' : 'deactivated')],
          ['admin', (p) => (p.isOrgAdmin ? 'yes' : 'no')],
          ['sites', (p) => p.sites.map((s) => s.name)],
          ['last sign-in', (p) => p.lastSignInAt],
          ['twg sessions', (p) => p.cliSessionCount],
          ['id', (p) => p.id],
        ],
        'accounts',
      );
    }),
  );
}

function registerSessions(admin: Command): void {
  const sessions = admin.command('sessions').description('Who is signed in, and ending their sessions');
  pagingOptions(
    sessions
      .command('list')
      .description("List a person's live sessions, newest first: client, when, from where and with which permissions")
      .requiredOption('--account <email-or-id>', 'the person, by e-mail or account id'),
  ).action(
    action<{ account: string } & PageOptions>(async ({ invocation, api, options }) => {
      const orgId = await organizationId(api);
      const account = await resolveAccount(api, orgId, options.account);
      const page = await collect(options, async (first, after) => {
        const { node } = await api.request<{ node: { sessions: Connection<Session> } }>(
          `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Account { sessions(first: $first, after: $after) {
            edges { node { ${SESSION_FIELDS} } } pageInfo { hasNextPage endCursor } } } } }`,
          { id: account.id, first, after },
          'admin',
        );
        return node.sessions;
      });
      printList(
        invocation,
        page,
        [
          ['id', (s) => s.id],
          ['client', (s) => s.clientId],
          ['signed in', (s) => s.createdAt],
          ['last used', (s) => s.lastUsedAt],
          ['address', (s) => s.ip],
          ['country', (s) => s.country],
          ['permissions', (s) => s.scopes.length],
        ],
        `sessions of ${account.email}`,
      );
    }),
  );

  sessions
    .command('revoke')
    .description("End sessions at once: one session (--session), one person's twg sessions (--account), or, with neither, every twg session of the organisation")
    .option('--session <id>', 'only this session, of any client (its id from twg admin sessions list)')
    .option('--account <email-or-id>', "only this person's twg sessions, by e-mail or account id")
    .addHelpText('after', '\nAdmin page sessions, admin API keys and Bitbucket tokens survive --account and the organisation-wide revocation.')
    .action(
      action<{ session?: string; account?: string }>(async ({ invocation, api, options }) => {
        if (options.session && options.account) throw new CliError(EXIT.usage, '--session and --account contradict each other: give one');
        if (options.session) {
          const { revokeSession } = await api.request<{ revokeSession: Session & { revokedAt: string; account: { email: string } | null } }>(
            `mutation($id: ID!) { revokeSession(id: $id) { ${SESSION_FIELDS} revokedAt account { email } } }`,
            { id: options.session },
            'admin',
          );
          if (invocation.json) return printJson(revokeSession);
          tell(`revoked session ${revokeSession.id}${revokeSession.account ? ` of ${revokeSession.account.email}` : ''}`);
          return;
        }
        const orgId = await organizationId(api);
        const account = options.account ? await resolveAccount(api, orgId, options.account) : null;
        const { revokeCliSessions } = await api.request<{ revokeCliSessions: { revokedSessionCount: number; account: { id: string; email: string } | null } }>(
          'mutation($input: RevokeCliSessionsInput!) { revokeCliSessions(input: $input) { revokedSessionCount account { id email } } }',
          { input: { orgId, ...(account ? { accountId: account.id } : {}) } },
          'admin',
        );
        if (invocation.json) return printJson(revokeCliSessions);
        const count = revokeCliSessions.revokedSessionCount;
        const whose = revokeCliSessions.account ? `of ${revokeCliSessions.account.email} (${revokeCliSessions.account.id})` : 'of the organisation';
        tell(`revoked ${count} twg session${count === 1 ? '' : 's'} ${whose}`);
      }),
    );
}

/** The audit filter's actor as the API takes it: an e-mail becomes its account's id. */
export async function auditActor(api: Api, filter: Record<string, string>): Promise<Record<string, string>> {
  if (!filter.actorAccountId?.includes('@')) return filter;
  const orgId = await organizationId(api);
  return { ...filter, actorAccountId: (await resolveAccount(api, orgId, filter.actorAccountId)).id };
}

export function registerPeopleCommands(admin: Command): void {
  registerPeople(admin);
  registerSessions(admin);
}
