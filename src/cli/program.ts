// The twg command tree (PRODUCT §11, issue 6): `twg <surface> <resource> <verb>` over the
// server's HTTP API only; it imports nothing from the server.
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.ts';
import { registerAuthCommands } from './commands/auth.ts';
import { registerBitbucketCommands } from './commands/bitbucket.ts';
import { registerConnectCommand } from './commands/connect.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerProductCommands } from './commands/objects.ts';
import { EXIT } from './exit-codes.ts';
import { VERSION } from './version.ts';

const EXIT_CODES = `
Exit codes:
  0   ok
  1   usage: a wrong command or flag, or input the server refused
  2   restricted or forbidden (the message names the permission and why)
  3   not signed in
  4   the server could not be reached or failed
  75  rate limited: the message says when to try again (reads are retried by
      themselves when that is soon)
  77  the session is expired or revoked: run twg login

Environment:
  TWG_SERVER          the server when --server is not given (default: the one signed in to)
  XDG_CONFIG_HOME     where twg/credentials.json lives (default: ~/.config)
  TWG_ADMIN_API_KEY   the admin API key that twg admin commands send
  TWG_BBC_TOKEN       the Bitbucket token that twg bitbucket commands send
  TWG_AGENT_RUNTIME   set by agents: requests are recorded as made by an agent of this runtime
  TWG_NO_BROWSER      set to 1 to only print the sign-in address, never open a browser
  TWG_RATE_LIMIT_MAX_WAIT  the longest twg waits, in seconds, before it asks again after a
                      read was rate limited (default 60; 0: never wait)`;

export function buildProgram(): Command {
  const program = new Command('twg')
    .description('The teamgraph command line: sign in, then work with Jira, Confluence, Bitbucket and the graph.')
    .version(VERSION)
    .option('--server <url>', 'the teamgraph server, e.g. https://teamgraph.example.com')
    .option('--json', 'print JSON on stdout instead of tables')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_CODES);
  registerAuthCommands(program);
  registerProductCommands(program);
  registerBitbucketCommands(program);
  registerAdminCommands(program);
  registerDoctorCommand(program);
  registerConnectCommand(program);
  program
    .command('help')
    .description('Describe a command and its flags, e.g. twg help jira workitem get')
    .argument('[command...]', 'the command')
    .action((words: string[]) => {
      let command: Command = program;
      for (const word of words) {
        const next = command.commands.find((c) => c.name() === word);
        if (!next) command.error(`"${words.join(' ')}" is not a twg command`, { exitCode: EXIT.usage });
        command = next!;
      }
      command.outputHelp();
    });
  // One way to ask for help on a command: `twg help <command…>` (or --help), not `twg jira help`.
  const withoutImplicitHelp = (command: Command): void => {
    command.helpCommand(false);
    command.commands.forEach(withoutImplicitHelp);
  };
  withoutImplicitHelp(program);
  program.exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));
  return program;
}
