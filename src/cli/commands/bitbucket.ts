// twg bitbucket: pull requests are read with a Bitbucket token alone (PRODUCT §8: its scopes, not
// the OAuth session's or the CLI settings, vouch for bitbucket:* objects); the tokens themselves
// are created, listed and revoked by the signed-in account.
import type { Command } from 'commander';
import { action, repeatable } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { printJson, printList, printRecord, tell } from '../output.ts';
import { type PageOptions, pagingOptions } from '../pagination.ts';
import { getObject, objectDetails, queryObjects } from './objects.ts';

const PULL_REQUEST = 'bitbucket:pull-request';
const TOKEN_FIELDS = 'id label scopes createdAt expiresAt lastUsedAt revokedAt';

/** BitbucketToken as TOKEN_FIELDS selects it. */
interface BitbucketToken {
  id: string;
  label: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function tokenStatus(token: { revokedAt: string | null; expiresAt: string | null }): string {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}

export function registerBitbucketCommands(program: Command): void {
  const bitbucket = program
    .command('bitbucket')
    .description('Bitbucket, with a Bitbucket token (TWG_BBC_TOKEN, else the one twg bitbucket token add stored)');

  const pr = bitbucket.command('pr').description('Pull requests (bitbucket:pull-request); needs a token with pullrequest:read');
  pagingOptions(
    pr
      .command('list')
      .description('List the pull requests you may view, newest update first')
      .option('--repository <id>', 'only those of this repository')
      .option('--text <text>', 'only those whose title or description contains this'),
  ).action(
      action<PageOptions & { repository?: string; text?: string }>(async ({ invocation, api, options }) => {
        const filter = { types: [PULL_REQUEST], ...(options.repository ? { containerId: options.repository } : {}), ...(options.text ? { text: options.text } : {}) };
        await queryObjects(invocation, api, filter, options, 'pull requests', 'bitbucket');
      }),
    );
  pr.command('get')
    .description('Show one pull request')
    .argument('<id>', "the pull request's id")
    .action(
      action(async ({ invocation, api, args: [id] }) => {
        const object = await getObject(api, id, {}, PULL_REQUEST, 'pull request', 'bitbucket');
        printRecord(invocation, object, objectDetails(object));
      }),
    );

  const token = bitbucket.command('token').description('Your Bitbucket tokens (signed in with twg login)');
  token
    .command('add')
    .description('Create a Bitbucket token and store it in the credentials file for twg bitbucket commands')
    .requiredOption('--label <label>', 'a name to recognise it by')
    .requiredOption('--scope <scope>', 'repository:read, repository:write, pullrequest:read or pullrequest:write (repeatable)', repeatable)
    .option('--expires-at <time>', 'when it stops working, an ISO 8601 time (never when absent)')
    .option('--print-secret', 'print the secret on stdout instead of storing it (it is shown only once)')
    .action(
      action<{ label: string; scope: string[]; expiresAt?: string; printSecret?: boolean }>(async ({ invocation, api, options }) => {
        const input = { label: options.label, scopes: options.scope, expiresAt: options.expiresAt };
        const { createBitbucketToken } = await api.request<{ createBitbucketToken: { secret: string; token: BitbucketToken } }>(`mutation($input: CreateBitbucketTokenInput!) { createBitbucketToken(input: $input) { secret token { ${TOKEN_FIELDS} } } }`, { input });
        const { secret, token: created } = createBitbucketToken;
        if (options.printSecret) {
          process.stdout.write(invocation.json ? `${JSON.stringify({ ...created, secret }, null, 2)}\n` : `${secret}\n`);
          tell(`created Bitbucket token ${created.id}; its secret is not shown again`);
          return;
        }
        invocation.store.update((c) => ({ ...c, bitbucket: { id: created.id, label: created.label, secret } }));
        if (invocation.json) return printJson(created);
        tell(`created Bitbucket token ${created.id} (${created.label}) and stored it in ${invocation.store.path}`);
      }),
    );

  token
    .command('list')
    .description('List your Bitbucket tokens, newest first, revoked and expired ones included')
    .action(
      action(async ({ invocation, api }) => {
        const { viewer } = await api.request<{ viewer: { bitbucketTokens: BitbucketToken[] } }>(`{ viewer { bitbucketTokens { ${TOKEN_FIELDS} } } }`);
        const storedId = invocation.store.read().bitbucket?.id;
        const tokens = viewer.bitbucketTokens.map((t) => ({ ...t, status: tokenStatus(t), stored: t.id === storedId }));
        printList(
          invocation,
          { items: tokens, hasMore: false },
          [
            ['id', (t) => t.id],
            ['label', (t) => t.label],
            ['scopes', (t) => t.scopes],
            ['status', (t) => t.status],
            ['stored', (t) => (t.stored ? 'yes' : '')],
            ['created', (t) => t.createdAt],
            ['last used', (t) => t.lastUsedAt],
          ],
          'Bitbucket tokens',
        );
      }),
    );

  token
    .command('revoke')
    .description('Revoke one of your Bitbucket tokens (and forget it here if it is the stored one)')
    .argument('<id>', "the token's id")
    .action(
      action(async ({ invocation, api, args: [id] }) => {
        if (!id.startsWith('bbt_')) throw new CliError(EXIT.usage, `"${id}" is not a Bitbucket token id (they start with bbt_)`);
        const { revokeBitbucketToken } = await api.request<{ revokeBitbucketToken: BitbucketToken }>(`mutation($id: ID!) { revokeBitbucketToken(id: $id) { ${TOKEN_FIELDS} } }`, { id });
        if (invocation.store.read().bitbucket?.id === id) invocation.store.update(({ bitbucket: _revoked, ...rest }) => rest);
        if (invocation.json) return printJson(revokeBitbucketToken);
        tell(`revoked Bitbucket token ${id}`);
      }),
    );
}
