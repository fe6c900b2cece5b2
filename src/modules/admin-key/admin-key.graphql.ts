// Admin API keys in the schema (beyond the contract): Organization.adminApiKeys and the
// create/revoke mutations. Keys are created by a person (an org admin on the admin page), so a
// leaked key cannot mint more keys; any admin caller may revoke one.
import { builder } from '../../graphql/builder.ts';
import { actingAs, requireOwnOrganization } from '../../graphql/context.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { ForbiddenError } from '../../shared/errors.ts';
import { AccountRef, OrganizationRef } from '../org/org.graphql.ts';
import { isAdmin } from '../session/caller.ts';
import type { AdminApiKey } from './admin-key.service.ts';

const AdminApiKeyRef = builder.objectRef<AdminApiKey>('AdminApiKey').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('adminApiKey'),
  description: 'A key for scripts and `twg admin …`: admin fields only, not governed by the CLI permission settings. Its secret is shown once, at creation.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.created_at }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.expires_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revoked_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.last_used_at }),
    createdBy: t.field({ type: AccountRef, nullable: true, resolve: (k, _args, ctx) => ctx.services.orgs.account(k.org_id, k.created_by) }),
  }),
});

registerNodeLoader('adminApiKey', async (id, ctx) => (isAdmin(ctx.caller) ? ((await ctx.services.adminKeys.find(ctx.caller.orgId, id)) ?? null) : null));

builder.objectFields(OrganizationRef, (t) => ({
  adminApiKeys: t.field({
    authScopes: { orgAdmin: true },
    type: [AdminApiKeyRef],
    description: 'Newest first, revoked and expired ones included.',
    resolve: (org, _args, ctx) => ctx.services.adminKeys.list(org.id),
  }),
}));

const CreateAdminApiKeyInput = builder.inputType('CreateAdminApiKeyInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    name: t.string({ required: true }),
    expiresAt: t.field({ type: 'DateTime', description: 'Never expires when absent.' }),
  }),
});
const CreateAdminApiKeyPayloadRef = builder.objectRef<{ apiKey: AdminApiKey; secret: string }>('CreateAdminApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.field({ type: AdminApiKeyRef, resolve: (p) => p.apiKey }),
    secret: t.exposeString('secret', { description: 'Shown only in this response; store it now. Send it as a bearer token.' }),
  }),
});
const RevokeAdminApiKeyInput = builder.inputType('RevokeAdminApiKeyInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), id: t.id({ required: true }) }),
});
const RevokeAdminApiKeyPayloadRef = builder.objectRef<{ apiKey: AdminApiKey }>('RevokeAdminApiKeyPayload').implement({
  fields: (t) => ({ apiKey: t.field({ type: AdminApiKeyRef, resolve: (p) => p.apiKey }) }),
});

builder.mutationFields((t) => ({
  createAdminApiKey: t.field({
    type: CreateAdminApiKeyPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: CreateAdminApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      if (ctx.caller.kind !== 'account') throw new ForbiddenError('Admin API keys are created by an organisation admin on the admin page, not by another key.');
      return ctx.services.adminKeys.create(actingAs(ctx), input.orgId, ctx.caller.accountId, { name: input.name, expiresAt: input.expiresAt });
    },
  }),
  revokeAdminApiKey: t.field({
    type: RevokeAdminApiKeyPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: RevokeAdminApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return { apiKey: await ctx.services.adminKeys.revoke(actingAs(ctx), input.orgId, input.id) };
    },
  }),
}));
