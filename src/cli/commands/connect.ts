// twg connect: link the signed-in account to its identity at a connection's provider (3LO, issue
// 5). The link is made in the browser at the server's link page; twg waits until it shows in
// viewer.userLinks.
import type { Command } from 'commander';
import { action } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { openInBrowser } from '../oauth.ts';
import { printJson, tell } from '../output.ts';
import { pollUntil } from '../poll.ts';

const LINKS = '{ viewer { userLinks { connectionId provider externalId source createdAt } } }';
const WAIT_MS = 10 * 60 * 1000;
const POLL_MS = 2000;

interface UserLink {
  connectionId: string;
  provider: string;
  externalId: string;
  source: string;
  createdAt: string;
}

export function registerConnectCommand(program: Command): void {
  program
    .command('connect')
    .description("Link your account to your identity at a connection's provider, in the browser; what that identity may see becomes visible to you")
    .argument('<connection>', 'the connection id')
    .addHelpText('after', '\nAn organisation admin sets up the provider (setConnectionLinkProvider). twg waits up to 10 minutes; press Enter to check at once.')
    .action(
      action(async ({ invocation, api, args: [connectionId] }) => {
        const linksOf = async () => (await api.request<{ viewer: { userLinks: UserLink[] } }>(LINKS)).viewer.userLinks.filter((l) => l.connectionId === connectionId);
        const before = new Set((await linksOf()).map((l) => `${l.externalId}\u0000${l.createdAt}`));
        const address = `${invocation.server}/connections/${encodeURIComponent(connectionId)}/link`;
        tell('Open this address in a browser, sign in, and approve at the provider:');
        tell(address);
        openInBrowser(invocation.env, address);
        tell('Waiting for the link; press Enter to check now.');
        const linked = await pollUntil(async () => (await linksOf()).find((l) => !before.has(`${l.externalId}\u0000${l.createdAt}`)), {
          intervalMs: () => POLL_MS,
          deadline: Date.now() + WAIT_MS,
          expired: () => new CliError(EXIT.usage, 'no link was made within 10 minutes; run twg connect again'),
        });
        if (invocation.json) return printJson(linked);
        tell(`linked to ${linked.externalId} at ${linked.provider} (connection ${linked.connectionId})`);
      }),
    );
}
