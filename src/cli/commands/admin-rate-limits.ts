// twg admin rate-limits (issue 21): the organisation's budgets of points per hour for each kind of
// credential, and lowering them (never above the operator's default, which the server refuses).
import type { Command } from 'commander';
import { action } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { printJson, table, tell } from '../output.ts';
import { organizationId } from './admin-people.ts';

type Budgets = { session: number; adminApiKey: number; bitbucketToken: number; connection: number };
interface RateLimitSettings {
  effective: Budgets;
  defaults: Budgets;
  custom: { [K in keyof Budgets]: number | null };
  version: number;
  updatedAt: string | null;
}

/** Each kind of credential: its field, its flag (commander gives it back under `key`) and its words. */
const KINDS: { key: keyof Budgets; flag: string; label: string }[] = [
  { key: 'session', flag: 'session', label: 'each session' },
  { key: 'adminApiKey', flag: 'admin-api-key', label: 'each admin API key' },
  { key: 'bitbucketToken', flag: 'bitbucket-token', label: 'each Bitbucket token' },
  { key: 'connection', flag: 'connection', label: 'each connection' },
];

const BUDGETS = 'session adminApiKey bitbucketToken connection';
const FIELDS = `effective { ${BUDGETS} } defaults { ${BUDGETS} } custom { ${BUDGETS} } version updatedAt`;

function print(settings: RateLimitSettings): void {
  process.stdout.write(
    `${table(KINDS, [
      ['points per hour', (k) => k.label],
      ['now', (k) => settings.effective[k.key]],
      ['default', (k) => settings.defaults[k.key]],
      ['organisation', (k) => settings.custom[k.key] ?? 'default'],
    ])}\n`,
  );
}

/** `default` (the operator's) or a whole number of points per hour. */
function parseBudget(flag: string, value: string): number | null {
  if (value.trim().toLowerCase() === 'default') return null;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new CliError(EXIT.usage, `--${flag} must be a whole number of points per hour of at least 1, or default; got "${value}"`);
  return Number(value);
}

export function registerRateLimitCommands(admin: Command): void {
  const limits = admin
    .command('rate-limits')
    .description("Your organisation's budgets of points per hour for each session, admin API key, Bitbucket token and connection")
    .addHelpText('after', "\nA request costs its query cost in points (at least 1). An organisation may lower the operator's defaults, never raise them.");

  const read = async (api: Parameters<Parameters<typeof action>[0]>[0]['api']) => {
    const orgId = await organizationId(api);
    const { organization } = await api.request<{ organization: { rateLimits: RateLimitSettings } }>(`query($o: ID!) { organization(id: $o) { rateLimits { ${FIELDS} } } }`, { o: orgId }, 'admin');
    return { orgId, settings: organization.rateLimits };
  };

  limits
    .command('show')
    .description('Show the budgets in force, the defaults and what the organisation set')
    .action(
      action(async ({ invocation, api }) => {
        const { settings } = await read(api);
        if (invocation.json) return printJson(settings);
        print(settings);
      }),
    );

  const set = limits.command('set').description('Lower budgets (points per hour, or default); those not given stay');
  for (const kind of KINDS) set.option(`--${kind.flag} <points>`, `points per hour for ${kind.label}, or default`);
  set.action(
    action<Partial<Record<keyof Budgets, string>>>(async ({ invocation, api, options }) => {
      const given = KINDS.filter((k) => options[k.key] !== undefined);
      if (given.length === 0) throw new CliError(EXIT.usage, 'name at least one budget, e.g. --session 1000');
      const { orgId, settings } = await read(api);
      const input: Record<string, unknown> = { orgId, expectedVersion: settings.version, ...settings.custom };
      for (const kind of given) input[kind.key] = parseBudget(kind.flag, options[kind.key]!);
      const { setRateLimits } = await api.request<{ setRateLimits: RateLimitSettings }>(`mutation($input: SetRateLimitsInput!) { setRateLimits(input: $input) { ${FIELDS} } }`, { input }, 'admin');
      if (invocation.json) return printJson(setRateLimits);
      print(setRateLimits);
      tell(`saved version ${setRateLimits.version}`);
    }),
  );
}
