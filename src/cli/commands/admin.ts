// twg admin: the organisation's CLI permission settings, IP allowlist and audit log (PRODUCT §5,
// §7, §9; people and sessions are in admin-people.ts, object access in admin-access.ts, audit
// streams in admin-audit-streams.ts), as an admin API key from TWG_ADMIN_API_KEY. A twg-cli
// session never reaches admin fields, so these commands never send it.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { Api } from '../api.ts';
import type { Invocation } from '../invocation.ts';
import { action, repeatable } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { details, printJson, printList, table, tell } from '../output.ts';
import { type Connection, collect, type PageOptions, pagingOptions } from '../pagination.ts';
import { registerAccessCommand } from './admin-access.ts';
import { registerAuditStreamCommands } from './admin-audit-streams.ts';
import { registerKeyCommands } from './admin-keys.ts';
import { auditActor, registerPeopleCommands } from './admin-people.ts';
import { registerRateLimitCommands } from './admin-rate-limits.ts';

const CATEGORIES: Record<string, string> = { read: 'READ', write: 'WRITE_AND_MANAGE', 'write-and-manage': 'WRITE_AND_MANAGE', delete: 'DELETE' };
const SETTINGS_FIELDS = `allowAllByDefault selectedPermissions effectivePermissions version updatedAt updatedBy { email }
  categories { category permissions { allowed permission { key description product } } }`;
const ALLOWLIST_FIELDS = 'enabled rules { cidr description } locations version updatedAt';

interface CliPermissionState {
  allowed: boolean;
  permission: { key: string; description: string; product: string };
}

/** CliSettings as SETTINGS_FIELDS selects it. */
interface CliSettings {
  allowAllByDefault: boolean;
  selectedPermissions: string[];
  effectivePermissions: string[];
  version: number;
  updatedAt: string | null;
  updatedBy: { email: string } | null;
  categories: { category: string; permissions: CliPermissionState[] }[];
}

/** IpAllowlist as ALLOWLIST_FIELDS selects it. */
interface IpAllowlist {
  enabled: boolean;
  rules: { cidr: string; description: string | null }[];
  locations: string[];
  version: number;
  updatedAt: string | null;
}

/** AuditEvent as AUDIT_QUERY selects it. */
interface AuditEvent {
  id: string;
  time: string;
  action: string;
  command: string | null;
  family: string | null;
  outcome: string;
  statusCode: number | null;
  ip: string | null;
  actor: { accountId: string | null; email: string | null };
  objectTypes: string[];
  permissions: string[];
  invocationSource: string | null;
  agentRuntime: string | null;
  cliVersion: string | null;
  traceId: string | null;
}

type AuditFilterOptions = Partial<Record<'actor' | 'command' | 'action' | 'objectType' | 'outcome' | 'ip' | 'from' | 'to', string>>;

function categoryOf(value: string): string {
  const category = CATEGORIES[value.toLowerCase()] ?? (Object.values(CATEGORIES).includes(value.toUpperCase()) ? value.toUpperCase() : undefined);
  if (!category) throw new CliError(EXIT.usage, `unknown category "${value}": use read, write or delete`);
  return category;
}

/** The organisation of the admin API key, with the fields asked for (`T`, beside its id). */
async function organization<T = unknown>(api: Api, fields: string): Promise<{ id: string } & T> {
  const { viewer } = await api.request<{ viewer: { organization: ({ id: string } & T) | null } }>(`{ viewer { organization { id ${fields} } } }`, {}, 'admin');
  if (!viewer.organization) throw new CliError(EXIT.restricted, 'forbidden: this admin API key belongs to no organisation');
  return viewer.organization;
}

function printSettings(settings: CliSettings, revokedSessionCount?: number): void {
  process.stdout.write(
    `${details([
      ['allow all by default', settings.allowAllByDefault ? 'yes (permissions added later are allowed too)' : 'no (only the selection below)'],
      ['version', settings.version],
      ['updated', settings.updatedAt ? `${settings.updatedAt}${settings.updatedBy ? ` by ${settings.updatedBy.email}` : ''}` : 'never'],
      ...(revokedSessionCount === undefined ? [] : ([['sessions revoked', revokedSessionCount]] as [string, unknown][])),
    ])}\n\n`,
  );
  const rows = settings.categories.flatMap((c) => c.permissions.map((p) => ({ category: c.category, ...p })));
  process.stdout.write(
    `${table(rows, [
      ['category', (r) => r.category],
      ['permission', (r) => r.permission.key],
      ['allowed', (r) => (r.allowed ? 'yes' : 'no')],
      ['description', (r) => r.permission.description],
    ])}\n`,
  );
}

function registerPermissions(admin: Command): void {
  const permissions = admin.command('permissions').description('Which OAuth permissions the CLI may use in your organisation');
  permissions
    .command('show')
    .description('Show the CLI permission settings, by category')
    .action(
      action(async ({ invocation, api }) => {
        const org = await organization<{ cliSettings: CliSettings }>(api, `cliSettings { ${SETTINGS_FIELDS} }`);
        if (invocation.json) return printJson(org.cliSettings);
        printSettings(org.cliSettings);
      }),
    );

  permissions
    .command('set')
    .description('Change and save the CLI permission settings. Edits start from what is allowed now; any edit turns allow-all off unless --allow-all is given')
    .option('--allow-all', 'allow every permission of the catalogue, including ones added later')
    .option('--no-allow-all', 'allow only the selection (which starts as everything allowed now)')
    .option('--select-all <category>', 'allow every permission of a category: read, write or delete (repeatable)', repeatable)
    .option('--clear <category>', 'allow no permission of a category (repeatable)', repeatable)
    .option('--allow <permission>', 'allow one permission (repeatable)', repeatable)
    .option('--deny <permission>', 'stop allowing one permission (repeatable)', repeatable)
    .option('--revoke-sessions', "save and end every active twg session of the organisation at once (else existing sessions keep what they were granted, within what is allowed)")
    .addHelpText(
      'after',
      [
        '',
        'Order: cleared categories, then selected categories, then --deny, then --allow.',
        'An unknown permission or category in any flag is refused (exit 1) and nothing is saved.',
        'When the settings already are what you ask for, nothing is saved: twg says "no change" and exits 0',
        '(with --revoke-sessions the sessions are still ended).',
        'Example: twg admin permissions set --clear delete --allow delete:work-item:jira --revoke-sessions',
      ].join('\n'),
    )
    .action(
      action<{ allowAll?: boolean; selectAll?: string[]; clear?: string[]; allow?: string[]; deny?: string[]; revokeSessions?: boolean }>(async ({ invocation, api, options }) => {
        const clear: string[] = (options.clear ?? []).map(categoryOf);
        const selectAll: string[] = (options.selectAll ?? []).map(categoryOf);
        const allow: string[] = options.allow ?? [];
        const deny: string[] = options.deny ?? [];
        const both = clear.filter((c) => selectAll.includes(c));
        if (both.length > 0) throw new CliError(EXIT.usage, `${both.join(', ')} is both cleared and selected; choose one`);
        const contradictions = allow.filter((p) => deny.includes(p));
        if (contradictions.length > 0) throw new CliError(EXIT.usage, `${contradictions.join(', ')} is both allowed and denied; choose one`);
        // With allow-all on every permission is allowed: a removal would be silently ignored.
        if (options.allowAll === true && (clear.length > 0 || deny.length > 0)) {
          throw new CliError(EXIT.usage, `--allow-all allows every permission, so ${clear.length > 0 ? '--clear' : '--deny'} would change nothing; leave out --allow-all to restrict`);
        }
        const edits = clear.length + selectAll.length + allow.length + deny.length > 0;
        if (!edits && options.allowAll === undefined && !options.revokeSessions) throw new CliError(EXIT.usage, 'nothing to change: give --allow-all, --no-allow-all, --select-all, --clear, --allow, --deny or --revoke-sessions');

        const org = await organization<{ cliSettings: CliSettings }>(api, `cliSettings { ${SETTINGS_FIELDS} }`);
        const current = org.cliSettings;
        const catalogue = current.categories.flatMap((c) => c.permissions.map((p) => p.permission.key));
        for (const [flag, keys] of [['--allow', allow], ['--deny', deny]] as const) {
          const unknown = keys.find((key) => !catalogue.includes(key));
          if (unknown !== undefined) throw unknownPermission(flag, unknown, catalogue);
        }
        // The server lists every category, so the one asked for is there.
        const keysOf = (category: string): string[] => current.categories.find((c) => c.category === category)!.permissions.map((p) => p.permission.key);
        const selection = new Set<string>(current.effectivePermissions);
        for (const category of clear) for (const key of keysOf(category)) selection.delete(key);
        for (const category of selectAll) for (const key of keysOf(category)) selection.add(key);
        for (const key of deny) selection.delete(key);
        for (const key of allow) selection.add(key);

        const allowAllByDefault = options.allowAll ?? (edits ? false : current.allowAllByDefault);
        const effective = allowAllByDefault ? catalogue : [...selection];
        const unchanged = allowAllByDefault === current.allowAllByDefault && sameSet(effective, current.effectivePermissions);
        if (unchanged) return reportNoChange(invocation, api, org.id, current, Boolean(options.revokeSessions));

        const input = {
          orgId: org.id,
          allowAllByDefault,
          ...(edits || allowAllByDefault === false ? { selectedPermissions: [...selection] } : {}),
          revokeSessions: Boolean(options.revokeSessions),
          expectedVersion: current.version,
        };
        const { updateCliPermissions } = await api.request<{ updateCliPermissions: { revokedSessionCount: number; settings: CliSettings } }>(
          `mutation($input: UpdateCliPermissionsInput!) { updateCliPermissions(input: $input) { revokedSessionCount settings { ${SETTINGS_FIELDS} } } }`,
          { input },
          'admin',
        );
        if (invocation.json) return printJson({ changed: true, ...updateCliPermissions });
        printSettings(updateCliPermissions.settings, updateCliPermissions.revokedSessionCount);
        tell(`saved version ${updateCliPermissions.settings.version}${options.revokeSessions ? `; ${updateCliPermissions.revokedSessionCount} twg sessions revoked` : '; existing sessions kept'}`);
      }),
    );
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && new Set([...a, ...b]).size === a.length;

/** A refusal naming the flag and the value, with the nearest permission when one is close. */
function unknownPermission(flag: string, key: string, catalogue: string[]): CliError {
  const [nearest] = catalogue.map((candidate) => ({ candidate, distance: editDistance(key, candidate) })).sort((a, b) => a.distance - b.distance);
  const close = nearest && nearest.distance <= Math.max(2, Math.floor(key.length / 4));
  return new CliError(EXIT.usage, `unknown permission "${key}" in ${flag}; nothing was saved`, [...(close ? [`did you mean ${nearest.candidate}?`] : []), 'twg admin permissions show lists every permission'], {
    code: 'UNKNOWN_PERMISSION',
    flag,
    permission: key,
  });
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/**
 * Nothing would change: no new version is saved (it would only add an audit event with the same
 * before and after). Asked to revoke sessions all the same, it revokes them, audited as such.
 */
async function reportNoChange(invocation: Invocation, api: Api, orgId: string, current: CliSettings, revokeSessions: boolean): Promise<void> {
  let revokedSessionCount = 0;
  if (revokeSessions) {
    const { revokeCliSessions } = await api.request<{ revokeCliSessions: { revokedSessionCount: number } }>(
      'mutation($input: RevokeCliSessionsInput!) { revokeCliSessions(input: $input) { revokedSessionCount } }',
      { input: { orgId } },
      'admin',
    );
    revokedSessionCount = revokeCliSessions.revokedSessionCount;
  }
  if (invocation.json) return printJson({ changed: false, revokedSessionCount, settings: current });
  printSettings(current, revokeSessions ? revokedSessionCount : undefined);
  tell(`no change: the settings already are so (version ${current.version}); nothing saved${revokeSessions ? `; ${revokedSessionCount} twg sessions revoked` : ''}`);
}

function printAllowlist(allowlist: IpAllowlist): void {
  process.stdout.write(
    `${details([
      ['enabled', allowlist.enabled ? 'yes' : 'no'],
      ['locations', allowlist.locations],
      ['version', allowlist.version],
      ['updated', allowlist.updatedAt ?? 'never'],
    ])}\n`,
  );
  if (allowlist.rules.length > 0)
    process.stdout.write(
      `\n${table(allowlist.rules, [
        ['cidr', (r) => r.cidr],
        ['description', (r) => r.description],
      ])}\n`,
    );
}

function parseRule(value: string): { cidr: string; description?: string } {
  const at = value.indexOf('=');
  return at < 0 ? { cidr: value.trim() } : { cidr: value.slice(0, at).trim(), description: value.slice(at + 1).trim() };
}

function registerAllowlist(admin: Command): void {
  const allowlist = admin.command('allowlist').description('The IP and location allowlist of your organisation');
  allowlist
    .command('show')
    .description('Show the allowlist')
    .action(
      action(async ({ invocation, api }) => {
        const org = await organization<{ ipAllowlist: IpAllowlist }>(api, `ipAllowlist { ${ALLOWLIST_FIELDS} }`);
        if (invocation.json) return printJson(org.ipAllowlist);
        printAllowlist(org.ipAllowlist);
      }),
    );
  allowlist
    .command('set')
    .description('Change and save the allowlist. Rules and locations given replace the current ones; those not given stay')
    .option('--enable', 'refuse requests from addresses outside the rules')
    .option('--disable', 'allow requests from any address')
    .option('--rule <cidr[=description]>', 'an allowed range, e.g. 203.0.113.0/24=Office (repeatable)', repeatable)
    .option('--clear-rules', 'remove every rule')
    .option('--location <country>', 'an allowed country code, e.g. DE (repeatable)', repeatable)
    .option('--clear-locations', 'remove every location')
    .addHelpText('after', '\nThe server refuses a list that would lock out the address you save it from.')
    .action(
      action<{ enable?: boolean; disable?: boolean; rule?: string[]; clearRules?: boolean; location?: string[]; clearLocations?: boolean }>(async ({ invocation, api, options }) => {
        if (options.enable && options.disable) throw new CliError(EXIT.usage, '--enable and --disable contradict each other');
        if (options.rule && options.clearRules) throw new CliError(EXIT.usage, '--rule and --clear-rules contradict each other');
        if (options.location && options.clearLocations) throw new CliError(EXIT.usage, '--location and --clear-locations contradict each other');
        const org = await organization<{ ipAllowlist: IpAllowlist }>(api, `ipAllowlist { ${ALLOWLIST_FIELDS} }`);
        const current = org.ipAllowlist;
        const input = {
          orgId: org.id,
          enabled: options.enable ? true : options.disable ? false : current.enabled,
          rules: options.clearRules ? [] : options.rule ? options.rule.map(parseRule) : current.rules.map((r) => ({ cidr: r.cidr, description: r.description })),
          locations: options.clearLocations ? [] : (options.location?.map((l) => l.toUpperCase()) ?? current.locations),
          expectedVersion: current.version,
        };
        const { updateIpAllowlist } = await api.request<{ updateIpAllowlist: IpAllowlist }>(`mutation($input: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $input) { ${ALLOWLIST_FIELDS} } }`, { input }, 'admin');
        if (invocation.json) return printJson(updateIpAllowlist);
        printAllowlist(updateIpAllowlist);
        tell(`saved version ${updateIpAllowlist.version}`);
      }),
    );
}

const filterOptions = (command: Command) =>
  command
    .option('--actor <email-or-id>', "only this person's events, by e-mail or account id")
    .option('--command <command>', 'only this command, e.g. "jira workitem get"')
    .option('--action <action>', 'only this action, e.g. cli.settings.updated')
    .option('--object-type <type>', 'only events that touched this object type')
    .option('--outcome <outcome>', 'only this outcome: SUCCESS, RESTRICTED, DENIED, IP_BLOCKED, UNAUTHENTICATED, RATE_LIMITED or ERROR')
    .option('--ip <address>', 'only requests from this address')
    .option('--from <time>', 'only events at or after this ISO 8601 time')
    .option('--to <time>', 'only events before this ISO 8601 time');

function auditFilter(options: AuditFilterOptions): Record<string, string> {
  const filter: Record<string, string> = {};
  const names: [option: keyof AuditFilterOptions, field: string][] = [
    ['actor', 'actorAccountId'],
    ['command', 'command'],
    ['action', 'action'],
    ['objectType', 'objectType'],
    ['outcome', 'outcome'],
    ['ip', 'ip'],
    ['from', 'from'],
    ['to', 'to'],
  ];
  for (const [option, field] of names) {
    const value = options[option];
    if (value) filter[field] = field === 'outcome' ? value.toUpperCase() : value;
  }
  return filter;
}

const AUDIT_QUERY = `query($filter: AuditEventFilter, $first: Int, $after: String) { viewer { organization { auditEvents(filter: $filter, first: $first, after: $after) {
  edges { node { id time action command family outcome statusCode ip actor { accountId email } objectTypes permissions invocationSource agentRuntime cliVersion traceId } }
  pageInfo { hasNextPage endCursor }
} } } }`;

function registerAudit(admin: Command): void {
  const audit = admin.command('audit').description("Your organisation's audit log");
  pagingOptions(filterOptions(audit.command('query').description('List audit events, newest first'))).action(
      action<AuditFilterOptions & PageOptions>(async ({ invocation, api, options }) => {
        const filter = await auditActor(api, auditFilter(options));
        const page = await collect(options, async (first, after) => {
          const { viewer } = await api.request<{ viewer: { organization: { auditEvents: Connection<AuditEvent> } | null } }>(AUDIT_QUERY, { filter, first, after }, 'admin');
          if (!viewer.organization) throw new CliError(EXIT.restricted, 'forbidden: this admin API key belongs to no organisation');
          return viewer.organization.auditEvents;
        });
        printList(
          invocation,
          page,
          [
            ['time', (e) => e.time],
            ['actor', (e) => e.actor.email ?? e.actor.accountId],
            ['action', (e) => e.action],
            ['command', (e) => e.command],
            ['outcome', (e) => e.outcome],
            ['ip', (e) => e.ip],
          ],
          'audit events',
        );
      }),
    );

  filterOptions(audit.command('export').description('Export every matching audit event, streamed, as NDJSON (default) or CSV'))
    .option('--format <format>', 'ndjson or csv', 'ndjson')
    .option('--output <file>', 'write to this file instead of stdout')
    .action(
      action<AuditFilterOptions & { format: string; output?: string }>(async ({ invocation, api, options }) => {
        const format = String(options.format).toLowerCase();
        if (format !== 'ndjson' && format !== 'csv') throw new CliError(EXIT.usage, `--format must be ndjson or csv, got "${options.format}"`);
        const query = new URLSearchParams({ format, ...(await auditActor(api, auditFilter(options))) });
        const response = await api.adminGet(`/admin/audit/export?${query}`);
        const output = options.output ? createWriteStream(options.output, { mode: 0o600 }) : process.stdout;
        const progress = new ExportProgress(format === 'csv' ? 1 : 0);
        const reader = response.body!.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            progress.add(value);
            if (!output.write(value)) await once(output, 'drain');
          }
        } catch (error) {
          throw new CliError(EXIT.unavailable, `the export stopped after ${progress.events} events: ${(error as Error).message}`);
        } finally {
          if (output !== process.stdout) await new Promise<void>((resolve) => output.end(() => resolve()));
        }
        progress.finish(options.output ?? 'stdout');
        if (invocation.json && options.output) printJson({ events: progress.events, bytes: progress.bytes, file: options.output });
      }),
    );
  registerAuditStreamCommands(audit);
}

/** The progress line of an export on stderr: rewritten in place on a terminal, once at the end elsewhere. */
class ExportProgress {
  events = 0;
  bytes = 0;
  private lines = 0;
  private lastShown = 0;

  constructor(private readonly headerLines: number) {}

  add(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    for (const byte of chunk) if (byte === 10) this.lines++;
    this.events = Math.max(0, this.lines - this.headerLines);
    if (process.stderr.isTTY && Date.now() - this.lastShown > 100) {
      this.lastShown = Date.now();
      process.stderr.write(`\rexporting: ${this.events} events, ${this.bytes} bytes`);
    }
  }

  finish(destination: string): void {
    process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}exported ${this.events} events (${this.bytes} bytes) to ${destination}\n`);
  }
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('Organisation administration, as the admin API key in TWG_ADMIN_API_KEY');
  registerPermissions(admin);
  registerPeopleCommands(admin);
  registerKeyCommands(admin);
  registerAccessCommand(admin);
  registerAllowlist(admin);
  registerRateLimitCommands(admin);
  registerAudit(admin);
}
