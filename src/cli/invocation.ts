// What one run of twg knows: the command path it sends as X-TWG-Command, the server, the output
// mode and the credentials file; and the headers every request carries (issue 6, PRODUCT §9).
import { randomBytes } from 'node:crypto';
import type { CredentialsStore } from './credentials.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { USER_AGENT } from './version.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:4000';

export interface Invocation {
  /** e.g. `jira workitem get`. */
  commandPath: string;
  /** The server's origin, without a trailing slash. */
  server: string;
  json: boolean;
  env: NodeJS.ProcessEnv;
  store: CredentialsStore;
}

/** --server, else $TWG_SERVER, else the server signed in to, else the local default. */
export function resolveServer(option: string | undefined, env: NodeJS.ProcessEnv, store: CredentialsStore): string {
  const chosen = option ?? env.TWG_SERVER ?? store.read().server ?? DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(chosen);
  } catch {
    throw new CliError(EXIT.usage, `--server must be a URL such as ${DEFAULT_SERVER}, got "${chosen}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(EXIT.usage, `--server must be an http or https URL, got "${chosen}"`);
  return url.origin;
}

/** A fresh W3C trace context per request, so the audit event can be found by its trace id. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

export function requestHeaders(invocation: Pick<Invocation, 'commandPath' | 'env'>): Record<string, string> {
  const agentRuntime = invocation.env.TWG_AGENT_RUNTIME?.trim();
  return {
    'user-agent': USER_AGENT,
    'x-twg-command': invocation.commandPath,
    // PRODUCT §9 names the two sources `user` and `agent`.
    'x-twg-invocation-source': agentRuntime ? 'agent' : 'user',
    ...(agentRuntime ? { 'x-twg-agent-runtime': agentRuntime } : {}),
    traceparent: newTraceparent(),
  };
}
