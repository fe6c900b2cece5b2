// twg help and --help describe every command, argument and flag (issue 6).
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { CliHarness } from '../support/cli-harness.ts';

function everyCommand(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((c) => [{ path: [...path, c.name()].join(' '), command: c }, ...everyCommand(c, [...path, c.name()])]);
}

describe('the command tree', () => {
  const program = buildProgram();
  const commands = everyCommand(program);

  it('has every command the issue asks for', () => {
    const paths = new Set(commands.map((c) => c.path));
    for (const verb of ['get', 'query', 'create', 'update', 'delete']) {
      expect(paths).toContain(`jira workitem ${verb}`);
      expect(paths).toContain(`confluence page ${verb}`);
    }
    for (const path of [
      'login', 'logout', 'whoami', 'doctor', 'help',
      'graph object get', 'graph object query', 'graph relationships',
      'bitbucket pr list', 'bitbucket pr get', 'bitbucket token add', 'bitbucket token list', 'bitbucket token revoke',
      'admin permissions show', 'admin permissions set', 'admin sessions revoke', 'admin allowlist show', 'admin allowlist set', 'admin audit query', 'admin audit export',
    ]) {
      expect(paths).toContain(path);
    }
  });

  it('describes every command, argument and flag', () => {
    for (const { path, command } of commands) {
      expect(command.description(), path).not.toBe('');
      for (const argument of command.registeredArguments) expect(argument.description, `${path} <${argument.name()}>`).not.toBe('');
      for (const option of command.options) expect(option.description, `${path} ${option.flags}`).not.toBe('');
    }
  });
});

describe('twg help', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await CliHarness.start();
  });
  afterAll(() => h?.close());

  it('describes a nested command and its flags, the same as --help', async () => {
    const machine = h.machine();
    const help = await machine.run(['help', 'admin', 'permissions', 'set']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: twg admin permissions set \[options\]$/m);
    expect(help.stdout).toMatch(/--revoke-sessions\s+save and end every active twg session/);
    expect(help.stdout).toMatch(/--json\s+print JSON/);
    expect((await machine.run(['admin', 'permissions', 'set', '--help'])).stdout).toBe(help.stdout);
  });

  it('lists the exit codes, and refuses an unknown command with exit 1', async () => {
    const machine = h.machine();
    expect((await machine.run(['help'])).stdout).toMatch(/77\s+the session is expired or revoked: run twg login/);
    const unknown = await machine.run(['help', 'jira', 'ticket']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/"jira ticket" is not a twg command/);
    expect((await machine.run(['jira', 'ticket', 'get'])).code).toBe(1);
  });
});
