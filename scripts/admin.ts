// The operator command line: `npm run --silent admin -- <command> [flags]`. Prints exactly one
// JSON object on stdout; an error is one line on stderr and exit code 1.
import { ADMIN_CLIENT_ID, CLI_CLIENT_ID } from '../src/modules/session/credentials/client-ids.ts';
import { parseArgs } from 'node:util';
import { createServices } from '../src/services.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { loadDemo } from '../src/demo.ts';
import type { Services } from '../src/services.ts';
import { type ActionAuthor, operatorAuthor } from '../src/modules/audit/audit-event.ts';
import { AdminKeyRepository } from '../src/modules/admin-key/admin-key.repository.ts';
import { ConnectionRepository } from '../src/modules/connection/connection.repository.ts';
import { OrgRepository } from '../src/modules/org/org.repository.ts';

const USAGE = `usage: npm run --silent admin -- <command>
  org create --name N
  site create --org O --name N
  site add-member --site C --account A
  account create --org O --email E --name N [--password P] [--admin] [--site C]...
  account deactivate --account A
  account make-admin --account A
  connection create --site C --provider P
  connection list --org O
  connection rotate-secret --connection X
  connection disable --connection X
  connection enable --connection X
  connection delete --connection X   (progress on stderr; run it again to resume)
  admin-key create (--account A | --email E) [--label L] [--expires-in-days N]   (the secret is printed once)
  admin-key list --org O
  admin-key revoke --key K
  token --account A [--client twg-cli|teamgraph-admin] [--scope S]... [--ttl SECONDS]
  token --connection X
  audit verify --org O [--full]   (--full: the whole chain, progress on stderr)
  audit purge
  demo`;

class UsageError extends Error {}

const OPTIONS = {
  name: { type: 'string' },
  org: { type: 'string' },
  site: { type: 'string', multiple: true },
  account: { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  admin: { type: 'boolean' },
  provider: { type: 'string' },
  client: { type: 'string' },
  scope: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  connection: { type: 'string' },
  label: { type: 'string' },
  'expires-in-days': { type: 'string' },
  key: { type: 'string' },
  full: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function required(flags: Flags, name: keyof Flags): string {
  const value = flags[name];
  const single = Array.isArray(value) ? value[0] : value;
  if (typeof single !== 'string' || single === '') throw new UsageError(`--${name} is required`);
  return single;
}

async function run(services: Services, command: string, flags: Flags): Promise<object> {
  const { orgs } = services;
  switch (command) {
    case 'org create':
      return orgs.createOrganization(required(flags, 'name'));
    case 'site create':
      return orgs.createSite(required(flags, 'org'), required(flags, 'name'));
    case 'site add-member':
      return orgs.addSiteMember(required(flags, 'site'), required(flags, 'account'));
    case 'account create':
      return orgs.createAccount({
        orgId: required(flags, 'org'),
        email: required(flags, 'email'),
        displayName: required(flags, 'name'),
        password: flags.password,
        admin: flags.admin ?? false,
        cloudIds: flags.site ?? [],
      });
    case 'account deactivate':
      return orgs.setAccountActive(required(flags, 'account'), false);
    case 'account make-admin':
      return orgs.setOrgAdmin(required(flags, 'account'), true);
    case 'connection create':
      return orgs.createConnection(required(flags, 'site'), required(flags, 'provider'));
    case 'connection list':
      return {
        connections: (await services.connections.list(required(flags, 'org'))).map((c) => ({
          connectionId: c.id,
          cloudId: c.cloud_id,
          provider: c.provider,
          clientId: c.client_id,
          enabled: c.disabled_at === null,
          createdAt: c.created_at.toISOString(),
        })),
      };
    case 'connection rotate-secret': {
      return services.connections.rotateSecret(operator(services), required(flags, 'connection'));
    }
    case 'connection disable':
    case 'connection enable': {
      const enabled = command === 'connection enable';
      const after = await services.connections.setEnabled(operator(services), required(flags, 'connection'), enabled);
      return { connectionId: after.id, enabled };
    }
    case 'connection delete':
      return deleteConnection(services, required(flags, 'connection'));
    case 'admin-key create':
      return createAdminKey(services, flags);
    case 'admin-key list':
      return listAdminKeys(services, required(flags, 'org'));
    case 'admin-key revoke':
      return revokeAdminKey(services, required(flags, 'key'));
    case 'token':
      return issueToken(services, flags);
    case 'audit verify':
      return verifyAuditChain(services, required(flags, 'org'), flags.full ?? false);
    case 'audit purge':
      return { retentionDays: services.audit.retentionDays, purged: await services.audit.purgeExpired() };
    case 'demo': {
      const demo = await loadDemo(services);
      return { orgId: demo.orgId, cloudId: demo.cloudId, accounts: demo.accounts, tokens: demo.tokens };
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** What this command line does is recorded as the operator's (PRODUCT §9): no account, no address. */
function operator(services: Services): ActionAuthor {
  return operatorAuthor(() => services.clock.now());
}

/** Starts the deletion unless an earlier run did, then removes the rows, a progress line per batch. */
async function deleteConnection(services: Services, connectionId: string) {
  const existing = await new ConnectionRepository(services.db).findAnywhere(connectionId);
  if (!existing) throw new Error(`No connection ${connectionId}.`);
  if (!existing.deletion_started_at) {
    await services.connections.startDeletion(operator(services), connectionId);
  }
  const result = await services.connections.runDeletion(connectionId, {
    onProgress: (p) => process.stderr.write(`deleting connection ${connectionId}: ${p.deletedObjects}/${p.totalObjects} objects${p.done ? ', done' : ''}\n`),
  });
  return { connectionId, deleted: true, deletedObjects: result.deletedObjects };
}

/** Progress lines on stderr every this many events of a full check. */
const VERIFY_PROGRESS_EVERY = 10_000;

/**
 * What verifyAuditChain checks (what is new since the last intact check), or with `full` the
 * whole chain from the purge checkpoint (PRODUCT §9: a change to an event a check had already
 * verified is only found this way), with a progress line every 10,000 events and at the end.
 */
async function verifyAuditChain(services: Services, orgId: string, full: boolean) {
  if (!full) return { orgId, ...(await services.audit.verify(orgId)) };
  let reported = 0;
  const result = await services.audit.verifyFull(orgId, ({ checked, total }) => {
    if (checked - reported < VERIFY_PROGRESS_EVERY && checked < total) return;
    reported = checked;
    const percent = total > 0 ? Math.floor((checked * 100) / total) : 100;
    process.stderr.write(`verifying the audit chain of ${orgId}: ${checked}/${total} events (${percent}%)\n`);
  });
  return { orgId, ...result };
}

const KEY_DAYS_MAX = 3650;

/**
 * The first admin API key of an organisation comes from here (PRODUCT §5: keys are otherwise made
 * by an admin on the admin page). A key acts for its account and works only while that account is
 * an active admin, so any other account is refused rather than given a key that cannot work.
 */
async function createAdminKey(services: Services, flags: Flags) {
  if (flags.account && flags.email) throw new UsageError('give --account or --email, not both');
  if (!flags.account && !flags.email) throw new UsageError('--account (or --email) is required');
  const accounts = new OrgRepository(services.db);
  const account = flags.email ? await accounts.findAccountByEmail(flags.email) : await accounts.findAccountAnywhere(flags.account!);
  if (!account) throw new Error(flags.email ? `No account with the e-mail ${flags.email}.` : `No account ${flags.account}; account create prints the ids.`);
  const accountId = account.id;
  if (!account.active) throw new Error(`Account ${accountId} is deactivated; a key acts for its account, so it would not work.`);
  if (!account.is_org_admin) throw new Error(`Account ${accountId} is not an organisation admin; a key works only for an admin: run account make-admin --account ${accountId} first.`);
  const daysText = flags['expires-in-days'];
  const days = daysText === undefined ? undefined : Number(daysText);
  if (days !== undefined && (!Number.isInteger(days) || days <= 0 || days > KEY_DAYS_MAX)) throw new UsageError(`--expires-in-days must be a whole number of days from 1 to ${KEY_DAYS_MAX}`);
  const expiresAt = days === undefined ? null : new Date(services.clock.now().getTime() + days * 86_400_000);
  const { apiKey, secret } = await services.adminKeys.create(operator(services), account.org_id, account.id, { name: flags.label ?? 'operator command line', expiresAt });
  return { apiKeyId: apiKey.id, secret };
}

async function listAdminKeys(services: Services, orgId: string) {
  if (!(await new OrgRepository(services.db).findOrganization(orgId))) throw new Error(`No organisation ${orgId}; org create prints the ids.`);
  const now = services.clock.now();
  return {
    adminApiKeys: (await services.adminKeys.list(orgId)).map((k) => ({
      apiKeyId: k.id,
      label: k.name,
      accountId: k.created_by,
      status: k.revoked_at ? 'revoked' : k.expires_at && k.expires_at <= now ? 'expired' : 'active',
      createdAt: k.created_at.toISOString(),
      expiresAt: k.expires_at?.toISOString() ?? null,
      revokedAt: k.revoked_at?.toISOString() ?? null,
      lastUsedAt: k.last_used_at?.toISOString() ?? null,
    })),
  };
}

async function revokeAdminKey(services: Services, apiKeyId: string) {
  const key = await new AdminKeyRepository(services.db).findAnywhere(apiKeyId);
  if (!key) throw new Error(`No admin API key ${apiKeyId}; admin-key list --org ORG lists them.`);
  const after = await services.adminKeys.revoke(operator(services), key.org_id, key.id);
  return { apiKeyId: after.id, revokedAt: after.revoked_at!.toISOString() };
}

async function issueToken(services: Services, flags: Flags) {
  const ttl = flags.ttl === undefined ? undefined : Number(flags.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) throw new UsageError('--ttl must be a positive number of seconds');
  const format = (t: { accessToken: string; sessionId: string; expiresAt: Date; scopes: string[] }) => ({ ...t, expiresAt: t.expiresAt.toISOString() });
  if (flags.connection) {
    const connection = await new ConnectionRepository(services.db).findAnywhere(flags.connection);
    if (!connection) throw new Error(`No connection ${flags.connection}.`);
    return format(await services.sessions.issue({ orgId: connection.org_id, connectionId: connection.id }, connection.client_id, [], ttl));
  }
  const accountId = required(flags, 'account');
  const account = await new OrgRepository(services.db).findAccountAnywhere(accountId);
  if (!account) throw new Error(`No account ${accountId}.`);
  const client = flags.client ?? CLI_CLIENT_ID;
  if (client !== CLI_CLIENT_ID && client !== ADMIN_CLIENT_ID) throw new UsageError(`--client must be ${CLI_CLIENT_ID} or ${ADMIN_CLIENT_ID}`);
  const scopes = flags.scope ?? services.catalog.permissions.map((p) => p.key);
  const unknown = scopes.filter((s) => !services.catalog.permission(s));
  if (unknown.length > 0) throw new UsageError(`unknown scope ${unknown.join(', ')}`);
  return format(await services.sessions.issue({ orgId: account.org_id, accountId }, client, [...new Set(scopes)], ttl));
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = positionals[0] === 'token' || positionals[0] === 'demo' ? positionals[0] : positionals.slice(0, 2).join(' ');
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await migrateToLatest(database.db);
    const result = await run(createServices({ db: database.db, lifetimes: config.lifetimes, auditRetentionDays: config.auditRetentionDays }), command, flags);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${error instanceof UsageError ? `${message} (npm run --silent admin -- --help)` : message}\n`.replace(/\n(?!$)/g, ' '));
  process.exit(1);
});
