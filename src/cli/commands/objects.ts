// The graph commands: `twg jira workitem …`, `twg confluence page …` (one typed resource each,
// with get, query, create, update and delete), `twg graph object get|query` over every type,
// and `twg graph relationships <id>` (PRODUCT §2, §11).
import type { Command } from 'commander';
import type { Api } from '../api.ts';
import { action, parseJsonOption, repeatable } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { TYPED_RESOURCES, type TypedResource } from '../command-permissions.ts';
import type { Invocation } from '../invocation.ts';
import { type Column, printJson, printList, printRecord, tell } from '../output.ts';
import { type Connection, collect, type PageOptions, pagingOptions } from '../pagination.ts';

export const OBJECT_FIELDS = `id type product externalId displayName description url cloudId connectionId
  container { id type displayName } properties createdAt lastUpdatedAt updateSequenceNumber viewerCanEdit viewerCanDelete`;

/** GraphObject as OBJECT_FIELDS selects it. */
export interface GraphObject {
  id: string;
  type: string;
  product: string;
  externalId: string;
  displayName: string;
  description: string | null;
  url: string | null;
  cloudId: string;
  connectionId: string;
  container: { id: string; type: string; displayName: string } | null;
  properties: unknown;
  createdAt: string | null;
  lastUpdatedAt: string | null;
  updateSequenceNumber: number;
  viewerCanEdit: boolean;
  viewerCanDelete: boolean;
}

/** The options of filterOptions below. */
interface FilterOptions {
  text?: string;
  container?: string;
  updatedAfter?: string;
  updatedBefore?: string;
}

export const OBJECT_COLUMNS: Column<GraphObject>[] = [
  ['id', (o) => o.id],
  ['key', (o) => o.externalId],
  ['type', (o) => o.type],
  ['title', (o) => o.displayName],
  ['updated', (o) => o.lastUpdatedAt],
];

const OBJECTS_QUERY = `query($filter: ObjectFilter, $first: Int, $after: String) {
  objects(filter: $filter, first: $first, after: $after) { edges { node { ${OBJECT_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;

export function objectDetails(o: GraphObject): [string, unknown][] {
  return [
    ['id', o.id],
    ['key', o.externalId],
    ['type', o.type],
    ['title', o.displayName],
    ['description', o.description],
    ['url', o.url],
    ['container', o.container ? `${o.container.displayName} (${o.container.id})` : null],
    ['properties', o.properties],
    ['updated', o.lastUpdatedAt],
    ['you may edit', o.viewerCanEdit],
    ['you may delete', o.viewerCanDelete],
  ];
}

/** Object ids as the API gives them (PRODUCT §2); anything else is a key or a mistake. */
const OBJECT_ID = /^obj_/;

/**
 * Looks an object up by id, or by its key within a connection; `type` must match when given.
 * `keys`: the command takes `--connection`, so a key given without it is pointed there.
 */
export async function getObject(
  api: Api,
  id: string,
  options: { connection?: string; keys?: boolean },
  type: string | undefined,
  noun: string,
  auth: 'session' | 'bitbucket' = 'session',
): Promise<GraphObject> {
  let object: GraphObject | null;
  if (options.connection) {
    if (!type) throw new CliError(EXIT.usage, '--connection needs a typed command, e.g. twg jira workitem get KEY --connection ID');
    const data = await api.request<{ objectByExternalId: GraphObject | null }>(`query($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { ${OBJECT_FIELDS} } }`, { c: options.connection, t: type, e: id }, auth);
    object = data.objectByExternalId;
  } else {
    object = (await api.request<{ object: GraphObject | null }>(`query($id: ID!) { object(id: $id) { ${OBJECT_FIELDS} } }`, { id }, auth)).object;
  }
  if (object && type && object.type !== type) {
    // The caller may view it, so saying what it is reveals nothing.
    throw new CliError(EXIT.usage, `not found: ${id} is a ${object.type}, not a ${noun}`, [`twg graph object get ${object.id} shows it whatever its type`], { code: 'NOT_FOUND' });
  }
  // An invisible object is indistinguishable from a missing one (PRODUCT §3).
  if (!object) {
    const where = options.connection ? ` in connection ${options.connection}` : '';
    throw new CliError(EXIT.usage, `not found: no ${noun} ${id}${where} that you may view`, notFoundHints(api, id, options), { code: 'NOT_FOUND' });
  }
  return object;
}

/** What to try when an object lookup found nothing: the other way of naming it. */
function notFoundHints(api: Api, id: string, options: { connection?: string; keys?: boolean }): string[] {
  const command = api.invocation.commandPath;
  if (options.connection) {
    return OBJECT_ID.test(id)
      ? [`${id} is an object id: leave out --connection (twg ${command} ${id})`]
      : ['check the key and the connection id: an object\'s connectionId is in --json output, e.g. of its query command'];
  }
  if (OBJECT_ID.test(id)) return [];
  if (options.keys) {
    return [`${id} is not an object id (obj_…); to look up a key such as PROJ-1, add --connection <connection id> (twg ${command} ${id} --connection ID; an object's connectionId is in --json output)`];
  }
  const byKey = command.startsWith('graph ') ? [`to look up a key, use a typed command with --connection, e.g. twg jira workitem get ${id} --connection ID`] : [];
  return [`${id} is not an object id (obj_…): the ID column of a query or list command shows them`, ...byKey];
}

export async function queryObjects(invocation: Invocation, api: Api, filter: Record<string, unknown>, options: PageOptions, noun: string, auth: 'session' | 'bitbucket' = 'session') {
  const page = await collect(options, async (first, after) => (await api.request<{ objects: Connection<GraphObject> }>(OBJECTS_QUERY, { filter, first, after }, auth)).objects);
  printList(invocation, page, OBJECT_COLUMNS, noun);
}

function filterFrom(options: FilterOptions): Record<string, unknown> {
  return {
    ...(options.text ? { text: options.text } : {}),
    ...(options.container ? { containerId: options.container } : {}),
    ...(options.updatedAfter ? { updatedAfter: options.updatedAfter } : {}),
    ...(options.updatedBefore ? { updatedBefore: options.updatedBefore } : {}),
  };
}

const filterOptions = (command: Command, container: string) =>
  command
    .option('--text <text>', 'only those whose title or description contains this (case-insensitive)')
    .option('--container <id>', `only those in this ${container}`)
    .option('--updated-after <time>', 'only those updated after this ISO 8601 time')
    .option('--updated-before <time>', 'only those updated before this ISO 8601 time');

export function registerTypedResource(surface: Command, resource: TypedResource): void {
  const command = surface.command(resource.name).description(`${resource.plural[0].toUpperCase()}${resource.plural.slice(1)} (${resource.type})`);

  command
    .command('get')
    .description(`Show one ${resource.noun}`)
    .argument('<id>', `the ${resource.noun}'s id, or its key with --connection`)
    .option('--connection <id>', 'look the key up in this connection')
    .action(
      action<{ connection?: string }>(async ({ invocation, api, args: [id], options }) => {
        const object = await getObject(api, id, { ...options, keys: true }, resource.type, resource.noun);
        printRecord(invocation, object, objectDetails(object));
      }),
    );

  pagingOptions(filterOptions(command.command('query').description(`List the ${resource.plural} you may view, newest update first`), resource.container)).action(
    action<FilterOptions & PageOptions>(async ({ invocation, api, options }) => queryObjects(invocation, api, { types: [resource.type], ...filterFrom(options) }, options, resource.plural)),
  );

  command
    .command('create')
    .description(`Create a ${resource.noun}`)
    .requiredOption('--container <id>', `the ${resource.container} it goes into`)
    .requiredOption('--title <title>', 'its title')
    .option('--description <text>', 'its description')
    .option('--properties <json>', 'its properties, a JSON object')
    .action(
      action<{ container: string; title: string; description?: string; properties?: string }>(async ({ invocation, api, options }) => {
        const input = { type: resource.type, containerId: options.container, displayName: options.title, description: options.description, properties: parseJsonOption('--properties', options.properties) };
        const { createObject } = await api.request<{ createObject: GraphObject }>(`mutation($input: CreateObjectInput!) { createObject(input: $input) { ${OBJECT_FIELDS} } }`, { input });
        if (invocation.json) return printJson(createObject);
        process.stdout.write(`${createObject.id}\n`);
        tell(`created ${resource.noun} ${createObject.id}`);
      }),
    );

  command
    .command('update')
    .description(`Change a ${resource.noun}'s title, description or properties`)
    .argument('<id>', `the ${resource.noun}'s id`)
    .option('--title <title>', 'the new title')
    .option('--description <text>', 'the new description')
    .option('--properties <json>', 'the new properties, a JSON object')
    .action(
      action<{ title?: string; description?: string; properties?: string }>(async ({ invocation, api, args: [id], options }) => {
        if (options.title === undefined && options.description === undefined && options.properties === undefined) {
          throw new CliError(EXIT.usage, 'nothing to change: give --title, --description or --properties');
        }
        const input = { id, displayName: options.title, description: options.description, properties: parseJsonOption('--properties', options.properties) };
        const { updateObject } = await api.request<{ updateObject: GraphObject }>(`mutation($input: UpdateObjectInput!) { updateObject(input: $input) { ${OBJECT_FIELDS} } }`, { input });
        if (invocation.json) return printJson(updateObject);
        tell(`updated ${resource.noun} ${id}`);
      }),
    );

  command
    .command('delete')
    .description(`Delete a ${resource.noun}`)
    .argument('<id>', `the ${resource.noun}'s id`)
    .action(
      action(async ({ invocation, api, args: [id] }) => {
        const { deleteObject } = await api.request<{ deleteObject: { deletedObjectId: string } }>('mutation($id: ID!) { deleteObject(id: $id) { deletedObjectId } }', { id });
        if (invocation.json) return printJson(deleteObject);
        tell(`deleted ${resource.noun} ${id}`);
      }),
    );
}

const RELATIONSHIPS_QUERY = `query($id: ID!, $first: Int, $after: String, $direction: RelationshipDirection, $type: String) {
  object(id: $id) { id relationships(first: $first, after: $after, direction: $direction, type: $type) {
    edges { node { type properties from { id type displayName } to { id type displayName } } } pageInfo { hasNextPage endCursor }
  } }
}`;

/** Relationship as RELATIONSHIPS_QUERY selects it. */
interface Relationship {
  type: string;
  properties: unknown;
  from: { id: string; type: string; displayName: string };
  to: { id: string; type: string; displayName: string };
}

export function registerGraphCommands(program: Command): void {
  const graph = program.command('graph').description('Every object of the graph, whatever its product');
  const object = graph.command('object').description('Objects of any type');

  object
    .command('get')
    .description('Show one object')
    .argument('<id>', "the object's id")
    .action(
      action(async ({ invocation, api, args: [id] }) => {
        const found = await getObject(api, id, {}, undefined, 'object');
        printRecord(invocation, found, objectDetails(found));
      }),
    );

  pagingOptions(
    filterOptions(object.command('query').description('List the objects you may view, newest update first'), 'container')
      .option('--type <type>', 'only this type, e.g. graph:document (repeatable)', repeatable)
      .option('--product <product>', 'only this product: jira, confluence, bitbucket or graph (repeatable)', repeatable),
  ).action(
    action<FilterOptions & PageOptions & { type?: string[]; product?: string[] }>(async ({ invocation, api, options }) => {
      const filter = {
        ...filterFrom(options),
        ...(options.type ? { types: options.type } : {}),
        ...(options.product ? { products: options.product.map((p) => p.toUpperCase()) } : {}),
      };
      await queryObjects(invocation, api, filter, options, 'objects');
    }),
  );

  pagingOptions(
    graph
      .command('relationships')
      .description("List an object's relationships to other objects you may view")
      .argument('<id>', "the object's id")
      .option('--direction <direction>', 'outgoing, incoming or both (default both)')
      .option('--type <type>', 'only relationships of this type, e.g. work-item-links-page'),
  ).action(
    action<PageOptions & { direction?: string; type?: string }>(async ({ invocation, api, args: [id], options }) => {
      const direction = options.direction?.toUpperCase();
      if (direction && !['OUTGOING', 'INCOMING', 'BOTH'].includes(direction)) throw new CliError(EXIT.usage, `--direction must be outgoing, incoming or both, got "${options.direction}"`);
      const page = await collect(options, async (first, after) => {
        const data = await api.request<{ object: { id: string; relationships: Connection<Relationship> } | null }>(RELATIONSHIPS_QUERY, { id, first, after, direction, type: options.type });
        if (!data.object) throw new CliError(EXIT.usage, `not found: no object ${id} that you may view`, notFoundHints(api, id, {}), { code: 'NOT_FOUND' });
        return data.object.relationships;
      });
      printList(
        invocation,
        page,
        [
          ['type', (r) => r.type],
          ['from', (r) => `${r.from.displayName} (${r.from.id})`],
          ['to', (r) => `${r.to.displayName} (${r.to.id})`],
        ],
        'relationships',
      );
    }),
  );
}

export function registerProductCommands(program: Command): void {
  const surfaces = new Map<string, Command>();
  for (const resource of TYPED_RESOURCES) {
    const surface = surfaces.get(resource.surface) ?? program.command(resource.surface).description(resource.productName);
    surfaces.set(resource.surface, surface);
    registerTypedResource(surface, resource);
  }
  registerGraphCommands(program);
}
