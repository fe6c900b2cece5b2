// twg login, logout and whoami (PRODUCT §6, §11).
import type { Command } from 'commander';
import { Api } from '../api.ts';
import { action, repeatable } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { discover, loginWithBrowser, loginWithDevice, revokeToken, tokensFrom } from '../oauth.ts';
import { printJson, printRecord, tell } from '../output.ts';

const WHOAMI = `{ viewer {
  account { id email displayName isOrgAdmin }
  organization { id name }
  session { id clientId createdAt expiresAt }
  grantedPermissions
  effectivePermissions
  rateLimit { limit remaining resetAt }
} }`;

/** The answer to WHOAMI. */
interface Whoami {
  viewer: {
    account: { id: string; email: string; displayName: string; isOrgAdmin: boolean } | null;
    organization: { id: string; name: string } | null;
    session: { id: string; clientId: string; createdAt: string; expiresAt: string } | null;
    grantedPermissions: string[];
    effectivePermissions: string[];
    rateLimit: { limit: number; remaining: number; resetAt: string };
  };
}

/** `4,990 of 5,000 points left this hour, all back at 21:03 UTC` (issue 21). */
function rateLimitLine({ limit, remaining, resetAt }: Whoami['viewer']['rateLimit']): string {
  return `${remaining.toLocaleString('en')} of ${limit.toLocaleString('en')} points left this hour, all back at ${resetAt.slice(11, 16)} UTC`;
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description('Sign in with the browser (authorization code + PKCE on a loopback address), or with --device on a machine without one')
    .option('--device', 'sign in on another device: print a code and the address to enter it at')
    .option('--scope <permission>', 'request only this permission (repeatable); all that your organisation allows when absent', repeatable)
    .addHelpText('after', '\nThe tokens are stored in $XDG_CONFIG_HOME/twg/credentials.json (mode 0600) and never printed.')
    .action(
      action<{ device?: boolean; scope?: string[] }>(async ({ invocation, api, options }) => {
        const as = await discover(invocation);
        const previous = invocation.store.read();
        const printer = { tell };
        const scopes: string[] = options.scope ?? [];
        const response = options.device ? await loginWithDevice(invocation, as, scopes, printer) : await loginWithBrowser(invocation, as, scopes, printer);
        const sameServer = previous.server === invocation.server;
        invocation.store.write({ server: invocation.server, oauth: tokensFrom(response, scopes), ...(sameServer && previous.bitbucket ? { bitbucket: previous.bitbucket } : {}) });
        // The session this login replaces would otherwise stay valid on the server.
        const replaced = sameServer ? previous.oauth : undefined;
        if (replaced) await revokeToken(invocation, as, replaced.refreshToken ?? replaced.accessToken, replaced.refreshToken ? 'refresh_token' : 'access_token').catch(() => {});
        const { viewer } = await api.request<Whoami>(WHOAMI);
        if (invocation.json) return printJson(viewer);
        tell(`signed in to ${invocation.server} as ${viewer.account?.email ?? 'unknown account'} (${viewer.organization?.name ?? 'no organisation'}), ${viewer.grantedPermissions.length} permissions granted`);
      }),
    );

  program
    .command('logout')
    .description('Sign out: revoke the session on the server (RFC 7009) and remove the tokens from the credentials file')
    .action(
      action(async ({ invocation, api }) => {
        const stored = invocation.store.read();
        if (!stored.oauth && !stored.bitbucket) {
          tell('not signed in; nothing to do');
          return;
        }
        let serverNotified = true;
        if (stored.bitbucket) {
          // A Bitbucket token outlives sessions (PRODUCT §8): forgetting it without revoking would
          // leave it usable. It revokes itself, so TWG_BBC_TOKEN (another token) must not stand in.
          const self = new Api({ ...invocation, env: { ...invocation.env, TWG_BBC_TOKEN: '' } });
          await self.request('mutation($id: ID!) { revokeBitbucketToken(id: $id) { id } }', { id: stored.bitbucket.id }, 'bitbucket').catch(() => (serverNotified = false));
        }
        if (stored.oauth) {
          const token = stored.oauth.refreshToken ?? stored.oauth.accessToken;
          await discover(invocation)
            .then((as) => revokeToken(invocation, as, token, stored.oauth!.refreshToken ? 'refresh_token' : 'access_token'))
            .catch(() => (serverNotified = false));
        }
        invocation.store.update(({ oauth: _oauth, bitbucket: _bitbucket, ...rest }) => rest);
        if (invocation.json) printJson({ signedOut: true, revokedOnServer: serverNotified });
        tell(serverNotified ? 'signed out' : `signed out on this machine; ${invocation.server} could not be told, so the session may stay valid until it expires`);
      }),
    );

  program
    .command('whoami')
    .description('Show the signed-in account, its organisation, and the permissions granted to the session and in effect now')
    .action(
      action(async ({ invocation, api }) => {
        const { viewer } = await api.request<Whoami>(WHOAMI);
        if (!viewer.account) throw new CliError(EXIT.notSignedIn, 'this session belongs to no account', ['run: twg login']);
        const granted: string[] = [...viewer.grantedPermissions].sort();
        const effective = new Set<string>(viewer.effectivePermissions);
        printRecord(invocation, viewer, [
          ['account', `${viewer.account.email} (${viewer.account.id})${viewer.account.isOrgAdmin ? ', organisation admin' : ''}`],
          ['organisation', viewer.organization ? `${viewer.organization.name} (${viewer.organization.id})` : null],
          ['server', invocation.server],
          ['session', viewer.session ? `${viewer.session.id}, expires ${viewer.session.expiresAt}` : null],
          ['granted', granted],
          ['effective', granted.filter((p) => effective.has(p))],
          ['not allowed now', granted.filter((p) => !effective.has(p))],
          ['rate limit', rateLimitLine(viewer.rateLimit)],
        ]);
      }),
    );
}
