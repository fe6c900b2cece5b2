// Accounts, sites, the organisation (its admin fields need an org admin on an admin session)
// and the viewer.
import type { Selectable } from 'kysely';
import type { AclAction } from '../../authz/acl.ts';
import type { ControlExplanation } from '../../authz/acl-engine.ts';
import { builder } from '../../graphql/builder.ts';
import { type RequestContext, requireCurrentCredentials } from '../../graphql/context.ts';
import { AclActionEnum } from '../../graphql/enums.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { AuditChainVerificationRef, AuditEventConnectionRef, AuditEventFilterInput, auditEventsOf } from '../audit/audit.graphql.ts';
import { BitbucketTokenRef, toBitbucketTokenShape } from '../bitbucket-token/bitbucket-token.graphql.ts';
import { CliSettingsRef, cliSettingsOf } from '../cli-permission/cli-permission.graphql.ts';
import { IpAllowlistRef } from '../ip-allowlist/ip-allowlist.graphql.ts';
import { PrincipalRef } from '../object/object.graphql.ts';
import { SessionRef } from '../session/session.graphql.ts';
import type { AccountTable, OrganizationTable } from './org.table.ts';

export const AccountRef = builder.objectRef<Selectable<AccountTable>>('Account').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('account'),
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    displayName: t.exposeString('display_name'),
    active: t.exposeBoolean('active'),
    isOrgAdmin: t.exposeBoolean('is_org_admin'),
  }),
});

export const SiteRef = builder.objectRef<{ id: string; cloudId: string; name: string }>('Site').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('site'),
  fields: (t) => ({ id: t.exposeID('id'), cloudId: t.exposeID('cloudId'), name: t.exposeString('name') }),
});

const AccessControlExplanationRef = builder
  .objectRef<ControlExplanation>('AccessControlExplanation')
  .implement({
    fields: (t) => ({
      action: t.field({ type: AclActionEnum, resolve: (c) => c.action }),
      permissionIndex: t.exposeInt('permissionIndex'),
      controlIndex: t.exposeInt('controlIndex'),
      satisfied: t.exposeBoolean('satisfied'),
      matchedPrincipal: t.field({ type: PrincipalRef, nullable: true, resolve: (c) => c.matchedPrincipal }),
      via: t.exposeString('via', { nullable: true, description: 'How the match came about, e.g. the link, the group path or the container.' }),
    }),
  });

const AccessExplanationRef = builder
  .objectRef<{ allowed: boolean; action: AclAction; controls: ControlExplanation[]; summary: string }>('AccessExplanation')
  .implement({
    fields: (t) => ({
      allowed: t.exposeBoolean('allowed'),
      action: t.field({ type: AclActionEnum, resolve: (e) => e.action }),
      controls: t.field({ type: [AccessControlExplanationRef], resolve: (e) => e.controls }),
      summary: t.exposeString('summary'),
    }),
  });

const adminOnly = { authScopes: { orgAdmin: true } } as const;

export const OrganizationRef = builder.objectRef<Selectable<OrganizationTable>>('Organization').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('organization'),
  description: 'Admin-only fields are inside; null when the organisation is not the caller’s.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    sites: t.field({
      type: [SiteRef],
      resolve: (org, _args, ctx) => ctx.services.orgs.sites(org.id),
    }),
    cliSettings: t.field({ ...adminOnly, type: CliSettingsRef, resolve: (org, _args, ctx) => cliSettingsOf(ctx, org.id) }),
    ipAllowlist: t.field({ ...adminOnly, type: IpAllowlistRef, resolve: (org, _args, ctx) => ctx.services.ipAllowlist.get(org.id) }),
    auditEvents: t.field({
      ...adminOnly,
      type: AuditEventConnectionRef,
      args: { filter: t.arg({ type: AuditEventFilterInput }), first: t.arg.int(), after: t.arg.string() },
      resolve: (org, args, ctx) => auditEventsOf(ctx, org.id, args),
    }),
    verifyAuditChain: t.field({
      ...adminOnly,
      type: AuditChainVerificationRef,
      description: 'Checks the audit hash chain from where the last intact check ended to the newest event, and moves that point forward when it holds.',
      // It moves the checkpoint: a write, so it waits for the caller's credentials to be confirmed.
      resolve: async (org, _args, ctx) => {
        await requireCurrentCredentials(ctx);
        return ctx.services.audit.verify(org.id);
      },
    }),
    accessExplanation: t.field({
      ...adminOnly,
      type: AccessExplanationRef,
      args: { objectId: t.arg.id({ required: true }), accountId: t.arg.id({ required: true }), action: t.arg({ type: AclActionEnum }) },
      resolve: (_org, args, ctx) => ctx.objects.explain(args.objectId, args.accountId, args.action ?? 'VIEW'),
    }),
  }),
});

registerNodeLoader('organization', (id, ctx) => ctx.services.orgs.ownOrganization(ctx.caller, id));
registerNodeLoader('account', (id, ctx) => ctx.services.orgs.visibleAccount(ctx.caller, id));
registerNodeLoader('site', (id, ctx) => ctx.services.orgs.ownSite(ctx.caller, id));

export const ViewerRef = builder.objectRef<RequestContext['caller']>('Viewer').implement({
  fields: (t) => ({
    account: t.field({
      type: AccountRef,
      nullable: true,
      resolve: (caller, _args, ctx) => (caller.kind === 'account' ? ctx.services.orgs.visibleAccount(caller, caller.accountId) : null),
    }),
    organization: t.field({ type: OrganizationRef, nullable: true, resolve: (caller, _args, ctx) => ctx.services.orgs.ownOrganization(caller, caller.orgId) }),
    session: t.field({
      type: SessionRef,
      nullable: true,
      resolve: async (caller, _args, ctx) => (await ctx.services.sessions.findSession(caller.orgId, caller.sessionId)) ?? null,
    }),
    grantedPermissions: t.stringList({
      description: 'Scopes granted to this session at login (or refresh).',
      resolve: (caller) => [...caller.scopes],
    }),
    effectivePermissions: t.stringList({
      description: 'Granted scopes that the organisation still allows right now.',
      resolve: (_caller, _args, ctx) => ctx.gate.effectivePermissions(),
    }),
    bitbucketTokens: t.field({
      type: [BitbucketTokenRef],
      description: "The signed-in account's own Bitbucket tokens, newest first, revoked and expired ones included.",
      resolve: async (caller, _args, ctx) => (caller.kind === 'account' ? (await ctx.services.bitbucketTokens.listOwned(caller.orgId, caller.accountId)).map(toBitbucketTokenShape) : []),
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({ type: ViewerRef, resolve: (_root, _args, ctx) => ctx.caller }),
  organization: t.field({
    type: OrganizationRef,
    nullable: true,
    description: 'Admin-only fields are inside; null when the organisation is not the caller’s.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.orgs.ownOrganization(ctx.caller, id),
  }),
}));
