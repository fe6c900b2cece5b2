// IP and location allowlists (PRODUCT §7): the organisation's allowlist and the admin mutation
// that saves it (versioned, never locking out the admin saving it, audited with before and after).
import { builder } from '../../graphql/builder.ts';
import { actingAs, requireOwnOrganization } from '../../graphql/context.ts';
import { actingAccountId } from '../session/caller.ts';

const IpRuleRef = builder.objectRef<{ cidr: string; description: string | null }>('IpRule').implement({
  fields: (t) => ({ cidr: t.exposeString('cidr'), description: t.exposeString('description', { nullable: true }) }),
});

export const IpAllowlistRef = builder
  .objectRef<{ enabled: boolean; rules: { cidr: string; description: string | null }[]; locations: string[]; version: number; updatedAt: Date | null }>('IpAllowlist')
  .implement({
    fields: (t) => ({
      enabled: t.exposeBoolean('enabled'),
      rules: t.field({ type: [IpRuleRef], resolve: (a) => a.rules }),
      locations: t.exposeStringList('locations'),
      version: t.exposeInt('version'),
      updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.updatedAt }),
    }),
  });

const IpRuleInput = builder.inputType('IpRuleInput', {
  fields: (t) => ({ cidr: t.string({ required: true }), description: t.string() }),
});
const UpdateIpAllowlistInput = builder.inputType('UpdateIpAllowlistInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    enabled: t.boolean({ required: true }),
    rules: t.field({ type: [IpRuleInput], required: true }),
    locations: t.stringList(),
    expectedVersion: t.int(),
  }),
});

builder.mutationField('updateIpAllowlist', (t) =>
  t.field({
    type: IpAllowlistRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: UpdateIpAllowlistInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return ctx.services.ipAllowlist.update(actingAs(ctx), input.orgId, actingAccountId(ctx.caller) ?? '', input, ctx.clientAddress);
    },
  }),
);
