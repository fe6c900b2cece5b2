// The catalogues that ship in code (PRODUCT §2, §5): object types, each naming the permission
// it needs to be read, written and deleted, and the OAuth permission keys the CLI may request.
// The app receives a Catalog as a dependency so tests can replace it.

export type Product = 'jira' | 'confluence' | 'bitbucket' | 'graph';
export type PermissionCategory = 'READ' | 'WRITE_AND_MANAGE' | 'DELETE';

/** Who vouches for a permission: an OAuth session's scopes, or (Bitbucket) a Bitbucket token. */
export type PermissionAuthority = 'oauth' | 'bitbucket-token';

export interface ObjectTypeDef {
  name: string;
  product: Product;
  description: string;
  authority: PermissionAuthority;
  readPermission: string;
  writePermission: string;
  deletePermission: string;
}

export interface CliPermissionDef {
  key: string;
  category: PermissionCategory;
  product: Product;
  description: string;
  introducedInCatalogVersion: number;
}

export interface Catalog {
  objectTypes: readonly ObjectTypeDef[];
  permissions: readonly CliPermissionDef[];
  objectType(name: string): ObjectTypeDef | undefined;
  permission(key: string): CliPermissionDef | undefined;
}

export function categoryOf(key: string): PermissionCategory {
  const action = key.slice(0, key.indexOf(':'));
  if (action === 'read') return 'READ';
  if (action === 'delete') return 'DELETE';
  return 'WRITE_AND_MANAGE';
}

interface TypeSeed {
  name: string;
  description: string;
  noun: string;
  introducedIn?: number;
}

const OAUTH_TYPES: TypeSeed[] = [
  { name: 'jira:work-item', description: 'A Jira work item (issue).', noun: 'work items' },
  { name: 'jira:project', description: 'A Jira project, the container of work items.', noun: 'projects' },
  { name: 'confluence:page', description: 'A Confluence page.', noun: 'pages' },
  { name: 'confluence:space', description: 'A Confluence space, the container of pages.', noun: 'spaces' },
  { name: 'graph:document', description: 'A document from a connected tool (for example Google Drive).', noun: 'documents' },
  { name: 'graph:message', description: 'A message from a connected chat tool.', noun: 'messages' },
  { name: 'graph:design', description: 'A design file from a connected design tool.', noun: 'designs', introducedIn: 2 },
  { name: 'graph:video', description: 'A video from a connected video tool.', noun: 'videos', introducedIn: 2 },
];

const BITBUCKET_TYPES: ObjectTypeDef[] = [
  {
    name: 'bitbucket:repository',
    product: 'bitbucket',
    description: 'A Bitbucket repository. Read and changed with a Bitbucket token, not OAuth.',
    authority: 'bitbucket-token',
    readPermission: 'repository:read',
    writePermission: 'repository:write',
    deletePermission: 'repository:write',
  },
  {
    name: 'bitbucket:pull-request',
    product: 'bitbucket',
    description: 'A Bitbucket pull request. Read and changed with a Bitbucket token, not OAuth.',
    authority: 'bitbucket-token',
    readPermission: 'pullrequest:read',
    writePermission: 'pullrequest:write',
    deletePermission: 'pullrequest:write',
  },
];

function permissionKey(action: string, typeName: string): string {
  const [product, resource] = typeName.split(':');
  return `${action}:${resource}:${product}`;
}

export function createCatalog(objectTypes: readonly ObjectTypeDef[], permissions: readonly CliPermissionDef[]): Catalog {
  const types = new Map(objectTypes.map((t) => [t.name, t]));
  const keys = new Map(permissions.map((p) => [p.key, p]));
  return {
    objectTypes,
    permissions,
    objectType: (name) => types.get(name),
    permission: (key) => keys.get(key),
  };
}

function buildDefaultCatalog(): Catalog {
  const objectTypes: ObjectTypeDef[] = [];
  const permissions: CliPermissionDef[] = [];
  for (const seed of OAUTH_TYPES) {
    const product = seed.name.split(':')[0] as Product;
    const def: ObjectTypeDef = {
      name: seed.name,
      product,
      description: seed.description,
      authority: 'oauth',
      readPermission: permissionKey('read', seed.name),
      writePermission: permissionKey('write', seed.name),
      deletePermission: permissionKey('delete', seed.name),
    };
    objectTypes.push(def);
    const version = seed.introducedIn ?? 1;
    permissions.push(
      { key: def.readPermission, category: 'READ', product, description: `Read ${seed.noun}.`, introducedInCatalogVersion: version },
      { key: def.writePermission, category: 'WRITE_AND_MANAGE', product, description: `Create and edit ${seed.noun}.`, introducedInCatalogVersion: version },
      { key: def.deletePermission, category: 'DELETE', product, description: `Delete ${seed.noun}.`, introducedInCatalogVersion: version },
    );
  }
  permissions.push(
    { key: 'manage:project:jira', category: 'WRITE_AND_MANAGE', product: 'jira', description: 'Manage project settings and members.', introducedInCatalogVersion: 1 },
    { key: 'write:transition:jira', category: 'WRITE_AND_MANAGE', product: 'jira', description: 'Transition and assign work items.', introducedInCatalogVersion: 1 },
  );
  objectTypes.push(...BITBUCKET_TYPES);
  return createCatalog(objectTypes, permissions);
}

export const defaultCatalog: Catalog = buildDefaultCatalog();
