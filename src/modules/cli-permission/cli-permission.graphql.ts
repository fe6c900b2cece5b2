// The CLI permission catalogue, and the organisation's CLI settings with the admin mutations
// that save them and revoke CLI sessions (PRODUCT §5).
import type { Selectable } from 'kysely';
import { builder } from '../../graphql/builder.ts';
import { actingAs, type RequestContext, requireOwnOrganization } from '../../graphql/context.ts';
import { PermissionCategoryEnum, ProductEnum } from '../../graphql/enums.ts';
import { actingAccountId } from '../session/caller.ts';
import type { AccountTable } from '../org/org.table.ts';
import type { CliPermissionDef, PermissionCategory } from './catalog.ts';
import type { CliSettingsState } from './cli-settings.service.ts';

export const CliPermissionRef = builder.objectRef<CliPermissionDef>('CliPermission').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    category: t.field({ type: PermissionCategoryEnum, resolve: (p) => p.category }),
    product: t.field({ type: ProductEnum, resolve: (p) => p.product }),
    description: t.exposeString('description'),
    introducedInCatalogVersion: t.exposeInt('introducedInCatalogVersion'),
  }),
});

const CliPermissionStateRef = builder.objectRef<{ permission: CliPermissionDef; allowed: boolean }>('CliPermissionState').implement({
  fields: (t) => ({
    permission: t.field({ type: CliPermissionRef, resolve: (s) => s.permission }),
    allowed: t.exposeBoolean('allowed'),
  }),
});

const CliPermissionCategoryStateRef = builder
  .objectRef<{ category: 'READ' | 'WRITE_AND_MANAGE' | 'DELETE'; permissions: { permission: CliPermissionDef; allowed: boolean }[] }>('CliPermissionCategoryState')
  .implement({
    fields: (t) => ({
      category: t.field({ type: PermissionCategoryEnum, resolve: (c) => c.category }),
      permissions: t.field({ type: [CliPermissionStateRef], resolve: (c) => c.permissions }),
    }),
  });

const CATEGORIES: PermissionCategory[] = ['READ', 'WRITE_AND_MANAGE', 'DELETE'];

export interface CliSettingsShape extends CliSettingsState {
  categories: { category: PermissionCategory; permissions: { permission: CliPermissionDef; allowed: boolean }[] }[];
}

function toShape(ctx: RequestContext, state: CliSettingsState): CliSettingsShape {
  const allowed = new Set(state.effectivePermissions);
  return {
    ...state,
    categories: CATEGORIES.map((category) => ({
      category,
      permissions: ctx.catalog.permissions.filter((p) => p.category === category).map((permission) => ({ permission, allowed: allowed.has(permission.key) })),
    })),
  };
}

/** The settings of the caller's organisation, for Organization.cliSettings. */
export async function cliSettingsOf(ctx: RequestContext, orgId: string): Promise<CliSettingsShape> {
  return toShape(ctx, await ctx.services.cliSettings.get(orgId));
}

/** The settings as the audit log keeps them (PRODUCT §5: every save with the before and after). */
export const CliSettingsRef = builder.objectRef<CliSettingsShape>('CliSettings').implement({
  fields: (t) => ({
    allowAllByDefault: t.exposeBoolean('allowAllByDefault'),
    selectedPermissions: t.exposeStringList('selectedPermissions', { description: "The admin's own selection, kept while allow-all is on." }),
    effectivePermissions: t.exposeStringList('effectivePermissions', { description: 'What the CLI may request right now.' }),
    categories: t.field({ type: [CliPermissionCategoryStateRef], resolve: (s) => s.categories }),
    version: t.exposeInt('version'),
    updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.updatedAt }),
    updatedBy: t.field({
      type: 'Account',
      nullable: true,
      resolve: (s, _args, ctx) => (s.updatedBy ? ctx.services.orgs.account(ctx.caller.orgId, s.updatedBy) : null),
    }),
  }),
});

builder.queryField('cliPermissionCatalog', (t) => t.field({ type: [CliPermissionRef], resolve: (_root, _args, ctx) => [...ctx.catalog.permissions] }));

const UpdateCliPermissionsInput = builder.inputType('UpdateCliPermissionsInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    allowAllByDefault: t.boolean({ required: true }),
    selectedPermissions: t.stringList(),
    revokeSessions: t.boolean({ required: true }),
    expectedVersion: t.int(),
  }),
});
const UpdateCliPermissionsPayloadRef = builder.objectRef<{ settings: CliSettingsShape; revokedSessionCount: number }>('UpdateCliPermissionsPayload').implement({
  fields: (t) => ({
    settings: t.field({ type: CliSettingsRef, resolve: (p) => p.settings }),
    revokedSessionCount: t.exposeInt('revokedSessionCount'),
  }),
});
const RevokeCliSessionsInput = builder.inputType('RevokeCliSessionsInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    accountId: t.id({ description: "Only this account's sessions; all of the organisation's when absent. An id no account of the organisation has is NOT_FOUND." }),
  }),
});
const RevokeCliSessionsPayloadRef = builder.objectRef<{ revokedSessionCount: number; account: Selectable<AccountTable> | null }>('RevokeCliSessionsPayload').implement({
  fields: (t) => ({
    revokedSessionCount: t.exposeInt('revokedSessionCount'),
    account: t.field({
      type: 'Account',
      nullable: true,
      description: 'The account whose sessions were revoked; null when they were all of the organisation’s.',
      resolve: (p) => p.account,
    }),
  }),
});

builder.mutationFields((t) => ({
  updateCliPermissions: t.field({
    type: UpdateCliPermissionsPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: UpdateCliPermissionsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      const { settings, revokedSessionCount } = await ctx.services.cliSettings.update(actingAs(ctx), input.orgId, actingAccountId(ctx.caller) ?? '', input);
      return { settings: toShape(ctx, settings), revokedSessionCount };
    },
  }),
  revokeCliSessions: t.field({
    type: RevokeCliSessionsPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: RevokeCliSessionsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return ctx.services.cliSettings.revokeCliSessions(actingAs(ctx), input.orgId, input.accountId);
    },
  }),
}));
