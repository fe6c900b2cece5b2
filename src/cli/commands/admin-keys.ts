// twg admin keys (issue 20, item 3): the organisation's admin API keys from the command line, as
// an admin API key: list them with their state and revoke one. A key never makes another (the API
// refuses): keys come from the admin page's keys screen or the operator's `admin-key create`.
import type { Command } from 'commander';
import { action } from '../command.ts';
import { printJson, printList, tell } from '../output.ts';
import { organizationId } from './admin-people.ts';

interface AdminKey {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdBy: { email: string } | null;
}

const KEY_FIELDS = 'id name createdAt expiresAt lastUsedAt revokedAt createdBy { email }';

const stateOf = (key: AdminKey, now = Date.now()) => (key.revokedAt ? 'revoked' : key.expiresAt && Date.parse(key.expiresAt) <= now ? 'expired' : 'active');

export function registerKeyCommands(admin: Command): void {
  const keys = admin
    .command('keys')
    .description("Your organisation's admin API keys")
    .addHelpText('after', '\nA key is created on the admin page (Admin API keys) or by the operator: npm run --silent admin -- admin-key create --account ACC');

  keys
    .command('list')
    .description('List admin API keys, newest first, with who created them and whether they still work')
    .action(
      action(async ({ invocation, api }) => {
        const orgId = await organizationId(api);
        const { organization } = await api.request<{ organization: { adminApiKeys: AdminKey[] } }>(`query($o: ID!) { organization(id: $o) { adminApiKeys { ${KEY_FIELDS} } } }`, { o: orgId }, 'admin');
        printList(
          invocation,
          { items: organization.adminApiKeys, hasMore: false },
          [
            ['id', (k) => k.id],
            ['name', (k) => k.name],
            ['state', (k) => stateOf(k)],
            ['created', (k) => k.createdAt],
            ['by', (k) => k.createdBy?.email ?? null],
            ['expires', (k) => k.expiresAt],
            ['last used', (k) => k.lastUsedAt],
          ],
          'admin API keys',
        );
      }),
    );

  keys
    .command('revoke')
    .description('Revoke an admin API key at once')
    .requiredOption('--key <id>', 'the key, by its id from twg admin keys list')
    .action(
      action<{ key: string }>(async ({ invocation, api, options }) => {
        const orgId = await organizationId(api);
        const { revokeAdminApiKey } = await api.request<{ revokeAdminApiKey: { apiKey: AdminKey } }>(
          `mutation($input: RevokeAdminApiKeyInput!) { revokeAdminApiKey(input: $input) { apiKey { ${KEY_FIELDS} } } }`,
          { input: { orgId, id: options.key } },
          'admin',
        );
        if (invocation.json) return printJson(revokeAdminApiKey.apiKey);
        tell(`revoked admin API key ${revokeAdminApiKey.apiKey.id} (${revokeAdminApiKey.apiKey.name})`);
      }),
    );
}
