// Which OAuth permission each typed twg command needs, by the catalogue's naming rule
// (PRODUCT §5: `jira:work-item` is read, written and deleted with `<action>:work-item:jira`).
// The commands are registered from this list, and twg doctor checks against it.

export interface TypedResource {
  surface: string;
  /** The product's name, e.g. `Jira`. */
  productName: string;
  /** The word on the command line, e.g. `workitem`. */
  name: string;
  type: string;
  /** For messages: `work item`. */
  noun: string;
  plural: string;
  /** What contains one, for --container: `project`. */
  container: string;
}

export const TYPED_RESOURCES: readonly TypedResource[] = [
  { surface: 'jira', productName: 'Jira', name: 'workitem', type: 'jira:work-item', noun: 'work item', plural: 'work items', container: 'project' },
  { surface: 'confluence', productName: 'Confluence', name: 'page', type: 'confluence:page', noun: 'page', plural: 'pages', container: 'space' },
];

export type TypeAction = 'read' | 'write' | 'delete';

const VERB_ACTIONS: Record<string, TypeAction> = { get: 'read', query: 'read', create: 'write', update: 'write', delete: 'delete' };

export function permissionKey(action: TypeAction, type: string): string {
  const [product, resource] = type.split(':');
  return `${action}:${resource}:${product}`;
}

export interface NeededPermission {
  permission: string;
  type: string;
  action: TypeAction;
}

/** The permission a command path such as `jira workitem get` needs, or null when it needs no single one. */
export function permissionFor(commandPath: string): NeededPermission | null {
  const [surface, name, verb] = commandPath.split(/\s+/);
  const resource = TYPED_RESOURCES.find((r) => r.surface === surface && r.name === name);
  const action = VERB_ACTIONS[verb];
  if (!resource || !action) return null;
  return { permission: permissionKey(action, resource.type), type: resource.type, action };
}
