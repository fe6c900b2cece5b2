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
  /** The W3C trace id of this run: its requests and the server's work for them form one trace. */
  traceId: string;
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

export const newTraceId = (): string => randomBytes(16).toString('hex');

/**
 * The run's trace id with a fresh span id per request (W3C Trace Context), sampled: the server's
 * spans of every request of one command join one trace, and its audit events carry the trace id.
 */
export function newTraceparent(traceId: string): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

export function requestHeaders(invocation: Pick<Invocation, 'commandPath' | 'env' | 'traceId'>): Record<string, string> {
  const agentRuntime = invocation.env.TWG_AGENT_RUNTIME?.trim();
  return {
    'user-agent': USER_AGENT,
    'x-twg-command': invocation.commandPath,
    // PRODUCT §9 names the two sources `user` and `agent`.
    'x-twg-invocation-source': agentRuntime ? 'agent' : 'user',
    ...(agentRuntime ? { 'x-twg-agent-runtime': agentRuntime } : {}),
    traceparent: newTraceparent(invocation.traceId),
  };
}
