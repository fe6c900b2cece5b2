// 3LO user links in GraphQL (issue 5, beyond the contract): admins declare a connection's
// third-party OAuth provider (its secret is never returned), and an account sees and removes
// its own links. The link itself is made in the browser, at Connection.linkUrl.
import { builder } from '../../graphql/builder.ts';
import { actingAs, requireOwnOrganization } from '../../graphql/context.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { ConnectionRef } from '../connection/connection.graphql.ts';
import { ViewerRef } from '../org/org.graphql.ts';
import type { LinkProviderRow } from './account-link.repository.ts';

const LinkProviderRef = builder.objectRef<LinkProviderRow>('ConnectionLinkProvider').implement({
  description: "The third-party OAuth provider through which accounts link themselves to the connection's users.",
  fields: (t) => ({
    issuer: t.string({ nullable: true, resolve: (p) => p.issuer }),
    authorizationEndpoint: t.exposeString('authorization_endpoint'),
    tokenEndpoint: t.exposeString('token_endpoint'),
    userinfoEndpoint: t.exposeString('userinfo_endpoint'),
    clientId: t.exposeString('client_id'),
    scopes: t.exposeStringList('scopes'),
    externalIdField: t.exposeString('external_id_field', { description: 'The user-info member holding the external user id.' }),
    updatedAt: t.field({ type: 'DateTime', resolve: (p) => p.updated_at }),
  }),
});

const provenance = (source: string) => (source === 'OAUTH_3LO' ? 'OAUTH_3LO' : 'MAPPING');
const UserLinkSource = builder.enumType('UserLinkSource', {
  values: { MAPPING: { description: 'Mapped by the connection (mapUsers).' }, OAUTH_3LO: { description: 'Made by the account through the provider.' } } as const,
});

const UserLinkRef = builder
  .objectRef<{ connection_id: string; provider: string; external_id: string; source: string; created_at: Date }>('UserLink')
  .implement({
    description: 'A third-party user linked to the signed-in account: USER and GROUP principals naming it match the account.',
    fields: (t) => ({
      connectionId: t.exposeID('connection_id'),
      provider: t.exposeString('provider'),
      externalId: t.exposeString('external_id'),
      source: t.field({ type: UserLinkSource, resolve: (l) => provenance(l.source) }),
      createdAt: t.field({ type: 'DateTime', resolve: (l) => l.created_at }),
    }),
  });

builder.objectFields(ConnectionRef, (t) => ({
  linkProvider: t.field({
    type: LinkProviderRef,
    nullable: true,
    resolve: async (c, _args, ctx) => (await ctx.services.accountLinks.findProvider(c.org_id, c.id)) ?? null,
  }),
  linkUrl: t.string({
    nullable: true,
    description: 'Where an account starts linking itself in a browser; null without a provider.',
    resolve: async (c, _args, ctx) => ((await ctx.services.accountLinks.findProvider(c.org_id, c.id)) ? `/connections/${c.id}/link` : null),
  }),
}));

builder.objectFields(ViewerRef, (t) => ({
  userLinks: t.field({
    type: [UserLinkRef],
    description: 'The third-party users linked to the signed-in account, oldest first.',
    resolve: (caller, _args, ctx) => (caller.kind === 'account' ? ctx.services.accountLinks.linksOf(caller.orgId, caller.accountId) : []),
  }),
}));

const SetConnectionLinkProviderInput = builder.inputType('SetConnectionLinkProviderInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    connectionId: t.id({ required: true }),
    issuer: t.string({ description: 'Endpoints not given are discovered from its metadata.' }),
    authorizationEndpoint: t.string(),
    tokenEndpoint: t.string(),
    userinfoEndpoint: t.string(),
    clientId: t.string({ required: true }),
    clientSecret: t.string({ required: true, description: 'Stored sealed; never returned.' }),
    scopes: t.stringList({ required: true }),
    externalIdField: t.string({ description: 'Default sub.' }),
  }),
});
const ConnectionOnlyInput = builder.inputType('RemoveConnectionLinkProviderInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), connectionId: t.id({ required: true }) }),
});
const UnlinkExternalUserInput = builder.inputType('UnlinkExternalUserInput', {
  fields: (t) => ({ connectionId: t.id({ required: true }), externalId: t.string({ required: true }) }),
});


builder.mutationFields((t) => ({
  setConnectionLinkProvider: t.field({
    type: LinkProviderRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: SetConnectionLinkProviderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return ctx.services.accountLinks.setProvider(actingAs(ctx), input.orgId, input.connectionId, input);
    },
  }),
  removeConnectionLinkProvider: t.boolean({
    authScopes: { orgAdmin: true },
    description: 'Existing links stay; no new ones can be made.',
    args: { input: t.arg({ type: ConnectionOnlyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return ctx.services.accountLinks.removeProvider(actingAs(ctx), input.orgId, input.connectionId);
    },
  }),
  unlinkExternalUser: t.field({
    type: 'Boolean',
    authScopes: { account: true },
    description: "Removes one of the signed-in account's links; principals naming that user stop matching at the next request. NOT_FOUND when the account has no such link.",
    args: { input: t.arg({ type: UnlinkExternalUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (ctx.caller.kind !== 'account') throw new Error('unreachable: authScopes account');
      const removed = await ctx.services.accountLinks.unlink(actingAs(ctx), ctx.caller.orgId, ctx.caller.accountId, input.connectionId, input.externalId);
      if (!removed) throw new NotFoundError(`You have no link to ${input.externalId} of connection ${input.connectionId}.`);
      return true;
    },
  }),
}));
