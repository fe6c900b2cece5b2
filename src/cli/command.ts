// How a commander action becomes a twg command: the invocation (command path, server, --json,
// credentials) is built from the command, and a CliError becomes its message and exit code.
import type { Command } from 'commander';
import { Api } from './api.ts';
import { CredentialsStore } from './credentials.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { type Invocation, newTraceId, resolveServer } from './invocation.ts';
import { printJson, tell } from './output.ts';

/** The options every command has (program.ts). */
export interface GlobalOptions {
  server?: string;
  json?: boolean;
}

/** `O` names the options the command declares with commander's .option(), by their camelCase keys. */
export type Handler<O> = (context: { invocation: Invocation; api: Api; args: string[]; options: O & GlobalOptions }) => Promise<void>;

/** `jira workitem get` for the command `get` under `workitem` under `jira`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function action<O extends object = Record<never, never>>(handler: Handler<O>) {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const options = command.optsWithGlobals<O & GlobalOptions>();
    const json = Boolean(options.json);
    try {
      const store = new CredentialsStore();
      const invocation: Invocation = { commandPath: commandPath(command), server: resolveServer(options.server, process.env, store), json, env: process.env, store, traceId: newTraceId() };
      await handler({ invocation, api: new Api(invocation), args: command.processedArgs as string[], options });
    } catch (error) {
      report(error instanceof CliError ? error : new CliError(EXIT.unavailable, `unexpected error: ${error instanceof Error ? error.message : String(error)}`), json);
    }
  };
}

function report(error: CliError, json: boolean): void {
  if (json) printJson({ error: { message: error.message, exitCode: error.exitCode, ...error.details } });
  tell(error.message);
  for (const hint of error.hints) tell(hint);
  process.exitCode = error.exitCode;
}

/** Collects a repeatable option (`--scope a --scope b`). */
export const repeatable = (value: string, previous: string[] = []) => [...previous, value];

export function parseJsonOption(name: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new CliError(EXIT.usage, `${name} must be JSON, e.g. '{"priority":"high"}'`);
  }
}
