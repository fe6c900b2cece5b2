// twg doctor: walks the checklist for a blocked command and says which step fails (issue 6):
// the server answers, this machine is signed in, the session is valid, the permission the
// command needs was granted to the session, the organisation allows it now, the client address
// is allowed, and whether the settings changed after the last login (so that twg login helps).
import type { Command } from 'commander';
import type { Api, GraphqlError } from '../api.ts';
import { action } from '../command.ts';
import { type NeededPermission, permissionFor } from '../command-permissions.ts';
import { CliError, EXIT, type ExitCode } from '../exit-codes.ts';
import { type Invocation, requestHeaders } from '../invocation.ts';
import { printJson } from '../output.ts';

type Status = 'ok' | 'fail' | 'unknown' | 'skipped';

interface Step {
  check: string;
  status: Status;
  detail: string;
}

const MARK: Record<Status, string> = { ok: '[ok]  ', fail: '[FAIL]', unknown: '[?]   ', skipped: '[skip]' };

const VIEWER = 'viewer { account { email } session { id createdAt } grantedPermissions effectivePermissions }';

/** Viewer as VIEWER selects it. */
interface Viewer {
  account: { email: string } | null;
  session: { id: string; createdAt: string } | null;
  grantedPermissions: string[];
  effectivePermissions: string[];
}

/** Finds the command a path names, so doctor refuses a typo rather than diagnosing nothing. */
function knownCommand(program: Command, words: string[]): Command | null {
  let command: Command | undefined = program;
  for (const word of words) {
    command = command.commands.find((c) => c.name() === word);
    if (!command) return null;
  }
  return command.commands.length === 0 ? command : null;
}

class Checklist {
  readonly steps: Step[] = [];
  /** Lines of advice after the list, e.g. `run: twg login`. */
  readonly advice: string[] = [];
  exitCode: ExitCode = EXIT.ok;

  add(check: string, status: Status, detail: string, failureCode: ExitCode = EXIT.restricted): void {
    this.steps.push({ check, status, detail });
    if (status === 'fail' && this.exitCode === EXIT.ok) this.exitCode = failureCode;
  }

  skipRest(checks: string[], why: string): void {
    for (const check of checks) if (!this.steps.some((s) => s.check === check)) this.add(check, 'skipped', why);
  }
}

const CHECKS = {
  server: 'server reachable',
  signedIn: 'signed in',
  session: 'session valid',
  granted: 'permission granted to the session',
  allowed: 'allowed by the organisation now',
  address: 'client address allowed',
  changed: 'settings changed after the last login',
};

async function diagnose(invocation: Invocation, api: Api, needed: NeededPermission | null): Promise<Checklist> {
  const list = new Checklist();
  const all = Object.values(CHECKS);

  try {
    const health = await fetch(`${invocation.server}/healthz`, { headers: requestHeaders(invocation) });
    if (!health.ok) throw new Error(`HTTP ${health.status}`);
    list.add(CHECKS.server, 'ok', invocation.server);
  } catch (error) {
    list.add(CHECKS.server, 'fail', `${invocation.server}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`, EXIT.unavailable);
    list.skipRest(all, 'the server did not answer');
    return list;
  }

  const stored = invocation.store.read();
  if (!stored.oauth || stored.server !== invocation.server) {
    list.add(CHECKS.signedIn, 'fail', stored.oauth ? `signed in to ${stored.server}, not to ${invocation.server}` : `no session in ${invocation.store.path}`, EXIT.notSignedIn);
    list.advice.push('run: twg login');
    list.skipRest(all, 'not signed in');
    return list;
  }
  list.add(CHECKS.signedIn, 'ok', `since ${new Date(stored.oauth.signedInAt).toISOString()}${stored.oauth.requestedScopes?.length ? ` with --scope ${stored.oauth.requestedScopes.join(' ')}` : ''}`);

  let viewer: Viewer;
  try {
    viewer = (await api.request<{ viewer: Viewer }>(`{ ${VIEWER} }`)).viewer;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    if (error.details.code === 'IP_NOT_ALLOWED') {
      // The server checks the address after the token: a refusal for the address means the session is good.
      list.add(CHECKS.session, 'ok', 'the server accepted the token');
      list.add(CHECKS.granted, 'unknown', 'the server says nothing more to this address');
      list.add(CHECKS.allowed, 'unknown', 'the server says nothing more to this address');
      list.add(CHECKS.address, 'fail', error.message.replace(/^forbidden: /, ''));
      list.add(CHECKS.changed, 'unknown', 'the server says nothing more to this address');
      list.advice.push('ask an organisation admin to add this address to the allowlist (twg admin allowlist set)');
      return list;
    }
    list.add(CHECKS.session, 'fail', error.message, error.exitCode);
    list.advice.push(...error.hints);
    list.skipRest(all, 'no valid session');
    return list;
  }
  list.add(CHECKS.session, 'ok', `${viewer.account?.email ?? 'no account'}, session ${viewer.session?.id ?? 'unknown'}`);

  if (!needed) {
    list.add(CHECKS.granted, 'skipped', 'the command needs no single permission');
    list.add(CHECKS.allowed, 'skipped', 'the command needs no single permission');
    list.add(CHECKS.address, 'ok', 'the server answered');
    list.add(CHECKS.changed, 'skipped', 'the command needs no single permission');
    return list;
  }

  const { permission } = needed;
  const granted = viewer.grantedPermissions.includes(permission);
  list.add(CHECKS.granted, granted ? 'ok' : 'fail', granted ? `${permission} was granted` : `${permission} was not granted to this session`);

  // Allowed now: from the session's effective permissions when granted; else from the settings
  // when an admin API key is at hand, else from why a read of the type is restricted.
  const settings = await adminSettings(invocation, api);
  let allowedNow: boolean | null;
  if (granted) allowedNow = viewer.effectivePermissions.includes(permission);
  else if (settings) allowedNow = settings.effectivePermissions.includes(permission);
  else allowedNow = needed.action === 'read' ? await organisationAllowsRead(api, needed) : null;
  list.add(
    CHECKS.allowed,
    allowedNow === null ? 'unknown' : allowedNow ? 'ok' : 'fail',
    allowedNow === null ? 'only an admin can see it: set TWG_ADMIN_API_KEY, or sign in again and rerun twg doctor' : allowedNow ? `your organisation allows ${permission}` : `your organisation does not allow ${permission}`,
  );
  list.add(CHECKS.address, 'ok', 'the server answered');

  const signedInAt = viewer.session?.createdAt ? Date.parse(viewer.session.createdAt) : null;
  const requested: string[] = stored.oauth.requestedScopes ?? [];
  const changedAt = settings?.updatedAt ? Date.parse(settings.updatedAt) : null;
  const changedSinceLogin = changedAt !== null && signedInAt !== null ? changedAt > signedInAt : null;
  const changedWhen = changedSinceLogin ? ` (saved ${settings!.updatedAt}, after the login of ${viewer.session!.createdAt})` : '';
  if (granted && allowedNow) {
    list.add(CHECKS.changed, 'ok', `nothing blocks ${permission}`);
  } else if (granted && allowedNow === false) {
    list.add(CHECKS.changed, 'fail', `yes: ${permission} was allowed at login and is not now${changedWhen}; signing in again will not help`);
    list.advice.push(`ask an organisation admin to allow ${permission} (twg admin permissions set --allow ${permission})`);
  } else if (allowedNow && requested.length > 0 && !requested.includes(permission)) {
    list.add(CHECKS.changed, 'ok', `no: you signed in with --scope ${requested.join(' ')}, without ${permission}`);
    list.advice.push(`run: twg login ${[...requested, permission].map((s) => `--scope ${s}`).join(' ')}`);
  } else if (allowedNow) {
    list.add(CHECKS.changed, 'fail', `yes: ${permission} is allowed now but was not granted at login${changedWhen}; twg login would help`);
    list.advice.push('run: twg login');
  } else if (allowedNow === false) {
    list.add(CHECKS.changed, changedSinceLogin ? 'fail' : 'ok', changedSinceLogin ? `yes${changedWhen}, but ${permission} is still not allowed` : `no: ${permission} is not allowed, now or at login`);
    list.advice.push(`ask an organisation admin to allow ${permission} (twg admin permissions set --allow ${permission})`);
  } else {
    list.add(CHECKS.changed, 'unknown', 'only an admin can see when the settings changed');
  }
  return list;
}

/**
 * Whether the organisation allows a read the session was not granted, from the reason the server
 * gives for restricting it: it checks the organisation first, then the session (PRODUCT §5).
 */
async function organisationAllowsRead(api: Api, needed: NeededPermission): Promise<boolean | null> {
  const body = await api.send(`{ objects(filter: { types: ["${needed.type}"] }, first: 1) { edges { node { id } } } }`, {}, 'session');
  const restriction: GraphqlError | undefined = body.errors?.find((e) => e.extensions?.code === 'RESTRICTED' && e.extensions.permission === needed.permission);
  if (!restriction) return body.errors?.length ? null : true;
  return restriction.extensions!.reason !== 'NOT_ALLOWED_BY_ORGANIZATION';
}

/** The CLI settings, when TWG_ADMIN_API_KEY is set and accepted; doctor works without them. */
async function adminSettings(invocation: Invocation, api: Api): Promise<{ effectivePermissions: string[]; updatedAt: string | null } | null> {
  if (!invocation.env.TWG_ADMIN_API_KEY) return null;
  try {
    const { viewer } = await api.request<{ viewer: { organization: { cliSettings: { effectivePermissions: string[]; updatedAt: string | null } } | null } }>(
      '{ viewer { organization { cliSettings { effectivePermissions updatedAt } } } }',
      {},
      'admin',
    );
    return viewer.organization?.cliSettings ?? null;
  } catch {
    return null;
  }
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Find out why a command is blocked: walks the checklist from the server to the permission and says which step fails')
    .argument('[command...]', 'the blocked command, e.g. jira workitem get')
    .addHelpText('after', '\nExample: twg doctor jira workitem create\nWith TWG_ADMIN_API_KEY set it also reads the organisation settings and when they last changed.')
    .action(
      action(async ({ invocation, api, args: [words] }) => {
        const path = (words as unknown as string[] | undefined) ?? [];
        if (path.length > 0 && !knownCommand(program, path)) throw new CliError(EXIT.usage, `"${path.join(' ')}" is not a twg command; see twg help`);
        const blocked = path.join(' ');
        const needed = permissionFor(blocked);
        const list = await diagnose(invocation, api, needed);
        if (invocation.json) {
          printJson({ command: blocked || null, permission: needed?.permission ?? null, steps: list.steps, advice: list.advice, exitCode: list.exitCode });
        } else {
          if (blocked) process.stdout.write(`twg ${blocked}${needed ? ` needs ${needed.permission}` : ''}\n`);
          for (const step of list.steps) process.stdout.write(`${MARK[step.status]} ${step.check}: ${step.detail}\n`);
          for (const line of list.advice) process.stdout.write(`${line}\n`);
        }
        process.exitCode = list.exitCode;
      }),
    );
}
