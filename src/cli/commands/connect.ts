// twg connect: link the signed-in account to its identity at a connection's provider (3LO, issue
// 5). twg first asks the server whether the account can link there (a wrong, disabled or unprepared
// connection fails at once), then the link is made in the browser at the server's link page and
// twg waits until it shows in viewer.userLinks.
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

/** What the server's link check answers: where the account links itself, at which provider. */
interface LinkTarget {
  connectionId: string;
  provider: string;
  linkUrl: string;
}

/** The server's refusal with what the person can do about it. */
function withHints(error: CliError, connectionId: string): CliError {
  const hints: Record<string, string[]> = {
    UNKNOWN_CONNECTION: [
      ...(connectionId.startsWith('conn_') ? [] : [`a connection id looks like conn_…; "${connectionId}" is not one (not the provider's name)`]),
      'ask an organisation admin for the id of the connection to link (it is in its link address, /connections/<id>/link)',
    ],
    CONNECTION_DISABLED: ['ask an organisation admin to enable the connection, then run twg connect again'],
    NO_PROVIDER: ["ask an organisation admin to set up the connection's third-party sign-in (setConnectionLinkProvider)"],
  };
  const subCode = typeof error.details.subCode === 'string' ? error.details.subCode : '';
  const more = hints[subCode];
  if (!more) return error;
  return new CliError(error.exitCode, error.message, [...error.hints, ...more], error.details);
}

export function registerConnectCommand(program: Command): void {
  program
    .command('connect')
    .description("Link your account to your identity at a connection's provider, in the browser; what that identity may see becomes visible to you")
    .argument('<connection>', 'the connection id')
    .addHelpText('after', '\nAn organisation admin sets up the provider (setConnectionLinkProvider). twg waits up to 10 minutes; press Enter to check at once.')
    .action(
      action(async ({ invocation, api, args: [connectionId] }) => {
        // Asked first: a wrong, disabled or unprepared connection fails now, not after ten minutes.
        const target = await api.sessionGet<LinkTarget>(`/connections/${encodeURIComponent(connectionId)}/link/check`).catch((error: unknown) => {
          throw error instanceof CliError ? withHints(error, connectionId) : error;
        });
        const linksOf = async () => (await api.request<{ viewer: { userLinks: UserLink[] } }>(LINKS)).viewer.userLinks.filter((l) => l.connectionId === connectionId);
        const before = new Set((await linksOf()).map((l) => `${l.externalId}\u0000${l.createdAt}`));
        const address = target.linkUrl;
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
