// The CLI permission catalogue, and the organisation's CLI settings (settings arrive with the
// OAuth and CLI settings issue; their fields exist now to keep the public contract).
import { builder } from '../../graphql/builder.ts';
import { PermissionCategoryEnum, ProductEnum } from '../../graphql/enums.ts';
import { notAvailableYet } from '../../graphql/not-available.ts';
import type { CliPermissionDef } from './catalog.ts';

export const CliPermissionRef = builder.objectRef<CliPermissionDef>('CliPermission').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    category: t.field({ type: PermissionCategoryEnum, resolve: (p) => p.category }),
    product: t.field({ type: ProductEnum, resolve: (p) => p.product as any }),
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

export interface CliSettingsShape {
  allowAllByDefault: boolean;
  selectedPermissions: string[];
  effectivePermissions: string[];
  categories: { category: 'READ' | 'WRITE_AND_MANAGE' | 'DELETE'; permissions: { permission: CliPermissionDef; allowed: boolean }[] }[];
  version: number;
  updatedAt: Date | null;
  updatedBy: { id: string } | null;
}

export const CliSettingsRef = builder.objectRef<CliSettingsShape>('CliSettings').implement({
  fields: (t) => ({
    allowAllByDefault: t.exposeBoolean('allowAllByDefault'),
    selectedPermissions: t.exposeStringList('selectedPermissions', { description: "The admin's own selection, kept while allow-all is on." }),
    effectivePermissions: t.exposeStringList('effectivePermissions', { description: 'What the CLI may request right now.' }),
    categories: t.field({ type: [CliPermissionCategoryStateRef], resolve: (s) => s.categories }),
    version: t.exposeInt('version'),
    updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.updatedAt }),
    updatedBy: t.field({ type: 'Account' as any, nullable: true, resolve: (s) => s.updatedBy as any }),
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
  fields: (t) => ({ orgId: t.id({ required: true }), accountId: t.id({ description: "Only this account's sessions; all of the organisation's when absent." }) }),
});
const RevokeCliSessionsPayloadRef = builder.objectRef<{ revokedSessionCount: number }>('RevokeCliSessionsPayload').implement({
  fields: (t) => ({ revokedSessionCount: t.exposeInt('revokedSessionCount') }),
});

builder.mutationFields((t) => ({
  updateCliPermissions: t.field({
    type: UpdateCliPermissionsPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: UpdateCliPermissionsInput, required: true }) },
    resolve: () => notAvailableYet('CLI permission settings'),
  }),
  revokeCliSessions: t.field({
    type: RevokeCliSessionsPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: RevokeCliSessionsInput, required: true }) },
    resolve: () => notAvailableYet('Revoking CLI sessions'),
  }),
}));
