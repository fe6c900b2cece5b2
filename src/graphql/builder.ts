// The only SchemaBuilder. Scopes: who the caller is (account, connection, org admin on an admin
// session) and `permission` (an OAuth permission, decided by the PermissionGate).
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin, { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import type { Selectable } from 'kysely';
import type { AccountTable } from '../modules/org/org.table.ts';
import { isAdmin } from '../modules/session/caller.ts';
import { BadUserInputError, ForbiddenError, RestrictedError } from '../shared/errors.ts';
import type { RequestContext } from './context.ts';

export const builder = new SchemaBuilder<{
  Context: RequestContext;
  // Types that a module names by string because importing their ref would close an import cycle
  // (org.graphql imports cli-permission.graphql); org.graphql implements Account.
  Objects: {
    Account: Selectable<AccountTable>;
  };
  AuthScopes: {
    account: boolean;
    connection: boolean;
    orgAdmin: boolean;
    permission: string;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      account: ctx.caller.kind === 'account',
      connection: ctx.caller.kind === 'connection',
      orgAdmin: isAdmin(ctx.caller),
      permission: async (permission) => (await ctx.gate.use(permission)) === null,
    }),
    unauthorizedError: (_parent, ctx, _info, result) => {
      const permission = findPermissionFailure(result.failure);
      if (permission) return new RestrictedError(permission, ctx.gate.reasonFor(permission));
      return new ForbiddenError(forbiddenMessage(result.failure));
    },
  },
});

function findPermissionFailure(failure: AuthFailure): string | null {
  if (failure.kind === AuthScopeFailureType.AuthScope && failure.scope === 'permission') return String(failure.parameter);
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) {
    for (const child of failure.failures) {
      const found = findPermissionFailure(child);
      if (found) return found;
    }
  }
  return null;
}

function forbiddenMessage(failure: AuthFailure): string {
  if (failure.kind === AuthScopeFailureType.AuthScope) {
    if (failure.scope === 'orgAdmin') return 'This needs an organisation admin signed in to the admin page (client teamgraph-admin), or an admin API key.';
    if (failure.scope === 'connection') return "This needs a connection's own token (client credentials).";
    if (failure.scope === 'account') return 'This needs a signed-in account.';
  }
  return 'You may not do this.';
}

builder.queryType({});
builder.mutationType({});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time with offset, e.g. 2026-11-23T08:00:00Z.',
  serialize: (value) => (value as Date).toISOString(),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

function parseDateTime(value: unknown): Date {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new BadUserInputError('INVALID_DATE_TIME', `Expected an ISO-8601 date-time with offset, got ${JSON.stringify(value)?.slice(0, 60)}.`);
}

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast) => literalToJson(ast),
});

function literalToJson(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value)]));
    default:
      throw new GraphQLError('JSON literals cannot use variables inside.');
  }
}

builder.scalarType('SafeInt', {
  description: 'An integer between -(2^53-1) and 2^53-1.',
  serialize: (value) => value,
  parseValue: (value) => parseSafeInt(value),
  parseLiteral: (ast) => parseSafeInt(ast.kind === Kind.INT ? Number(ast.value) : null),
});

function parseSafeInt(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new BadUserInputError('INVALID_SAFE_INT', `Expected an integer between -(2^53-1) and 2^53-1, got ${JSON.stringify(value)?.slice(0, 40)}.`);
}
