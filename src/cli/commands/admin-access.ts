// twg admin access (issue 20, item 4): who may view, edit or delete one object of the
// organisation and how, and why one person can or cannot, as an admin API key.
import type { Command } from 'commander';
import type { Api } from '../api.ts';
import { action } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { details, printJson, printList, table } from '../output.ts';
import { type Connection, collect, type PageOptions, pagingOptions } from '../pagination.ts';
import { organizationId, resolveAccount } from './admin-people.ts';

const ACTIONS = ['VIEW', 'EDIT', 'DELETE'] as const;
type AclAction = (typeof ACTIONS)[number];
const OBJECT_ID = /^obj_[A-Za-z0-9_-]+$/;

interface Accessor {
  account: { id: string; email: string; displayName: string };
  via: string;
}

interface Explanation {
  allowed: boolean;
  summary: string;
  controls: { action: AclAction; permissionIndex: number; controlIndex: number; satisfied: boolean; matchedPrincipal: { type: string; id: string | null } | null; via: string | null }[];
}

function actionOf(value: string | undefined): AclAction {
  const upper = (value ?? 'VIEW').toUpperCase();
  if (!(ACTIONS as readonly string[]).includes(upper)) throw new CliError(EXIT.usage, `--action must be VIEW, EDIT or DELETE, got "${value}"`);
  return upper as AclAction;
}

/** The API's NOT_FOUND for the object, with what to check. */
async function forObject<T>(objectId: string, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (!(error instanceof CliError) || error.details.code !== 'NOT_FOUND') throw error;
    const hints = OBJECT_ID.test(objectId)
      ? ['check the id: the ID column of a query or list command, or twg graph object get, shows it']
      : [`${objectId} is not an object id (obj_…): the ID column of a query or list command shows them; a key such as PROJ-1 is looked up with e.g. twg jira workitem get KEY --connection ID`];
    throw new CliError(EXIT.usage, `not found: no object ${objectId} in your organisation`, hints, { code: 'NOT_FOUND', objectId });
  }
}

async function explain(api: Api, orgId: string, objectId: string, verb: AclAction, person: string, json: boolean): Promise<void> {
  const account = await resolveAccount(api, orgId, person);
  const { organization } = await forObject(
    objectId,
    api.request<{ organization: { accessExplanation: Explanation } }>(
      `query($o: ID!, $object: ID!, $account: ID!, $action: AclAction) { organization(id: $o) { accessExplanation(objectId: $object, accountId: $account, action: $action) {
        allowed summary controls { action permissionIndex controlIndex satisfied matchedPrincipal { type id } via } } } }`,
      { o: orgId, object: objectId, account: account.id, action: verb },
      'admin',
    ),
  );
  const explanation = organization.accessExplanation;
  if (json) return printJson({ objectId, account, action: verb, ...explanation });
  process.stdout.write(
    `${details([
      ['object', objectId],
      ['account', `${account.email} (${account.id})`],
      ['action', verb],
      ['allowed', explanation.allowed ? 'yes' : 'no'],
      ['summary', explanation.summary],
    ])}\n\n`,
  );
  if (explanation.controls.length === 0) {
    process.stdout.write(`the object has no access control for ${verb}\n`);
    return;
  }
  process.stdout.write(
    `${table(explanation.controls, [
      ['control', (c) => `${c.action} permission ${c.permissionIndex + 1}, control ${c.controlIndex + 1}`],
      ['result', (c) => (c.satisfied ? 'satisfied' : 'not satisfied')],
      ['matched principal', (c) => (c.matchedPrincipal ? `${c.matchedPrincipal.type}${c.matchedPrincipal.id ? ` ${c.matchedPrincipal.id}` : ''}` : null)],
      ['via', (c) => c.via],
    ])}\n`,
  );
}

export function registerAccessCommand(admin: Command): void {
  pagingOptions(
    admin
      .command('access')
      .description('List who may view, edit or delete an object, and how each gets in; or, with --explain, why one person can or cannot')
      .argument('<object-id>', "the object's id (obj_…)")
      .option('--action <action>', 'VIEW (default), EDIT or DELETE')
      .option('--explain <email-or-id>', 'explain, control by control, whether this person (by e-mail or account id) may do it'),
  )
    .addHelpText('after', '\nDeactivated accounts are left out. Editing needs viewing too, and deleting needs editing; an action\nwith no access control of its own goes with the one before it.\nExample: twg admin access obj_… --action EDIT --all')
    .action(
      action<{ action?: string; explain?: string } & PageOptions>(async ({ invocation, api, args, options }) => {
        const [objectId] = args;
        const verb = actionOf(options.action);
        if (options.explain && (options.all || options.limit !== undefined)) throw new CliError(EXIT.usage, '--explain shows one person: leave out --limit and --all');
        const orgId = await organizationId(api);
        if (options.explain) return explain(api, orgId, objectId, verb, options.explain, invocation.json);
        const page = await collect(options, async (first, after) => {
          const { organization } = await forObject(
            objectId,
            api.request<{ organization: { objectAccessors: Connection<Accessor> } }>(
              `query($o: ID!, $object: ID!, $action: AclAction, $first: Int, $after: String) { organization(id: $o) { objectAccessors(objectId: $object, action: $action, first: $first, after: $after) {
                edges { node { account { id email displayName } via } } pageInfo { hasNextPage endCursor } } } }`,
              { o: orgId, object: objectId, action: verb, first, after },
              'admin',
            ),
          );
          return organization.objectAccessors;
        });
        if (!invocation.json && page.items.length === 0) {
          process.stdout.write(`nobody may ${verb} ${objectId}: no active account matches its access controls\n`);
          return;
        }
        printList(
          invocation,
          page,
          [
            ['email', (a) => a.account.email],
            ['name', (a) => a.account.displayName],
            ['via', (a) => a.via],
          ],
          `accounts that may ${verb} ${objectId}`,
        );
      }),
    );
}
