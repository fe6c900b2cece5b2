// Bitbucket tokens (PRODUCT §8): an account creates, lists and revokes its own; admins revoke
// any of the organisation's. Creating one needs no OAuth permission: Bitbucket is the exception
// to the CLI permission settings.
import { BITBUCKET_CLIENT_ID } from '../session/credentials/client-ids.ts';
import { builder } from '../../graphql/builder.ts';
import { actingAs } from '../../graphql/context.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { isAdmin } from '../session/caller.ts';
import { ForbiddenError } from '../../shared/errors.ts';
import { type BitbucketToken } from './bitbucket-token.service.ts';

export interface BitbucketTokenShape {
  id: string;
  label: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export const BitbucketTokenRef = builder.objectRef<BitbucketTokenShape>('BitbucketToken').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('bitbucketToken'),
  fields: (t) => ({
    id: t.exposeID('id'),
    label: t.exposeString('label'),
    scopes: t.exposeStringList('scopes'),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.expiresAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.lastUsedAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.revokedAt }),
  }),
});

export function toBitbucketTokenShape(t: BitbucketToken): BitbucketTokenShape {
  return { id: t.id, label: t.label, scopes: t.scopes, createdAt: t.created_at, expiresAt: t.expires_at, lastUsedAt: t.last_used_at, revokedAt: t.revoked_at };
}

registerNodeLoader('bitbucketToken', async (id, ctx) => {
  if (ctx.caller.kind !== 'account') return null;
  const owned = await ctx.services.bitbucketTokens.listOwned(ctx.caller.orgId, ctx.caller.accountId);
  const token = owned.find((t) => t.id === id);
  return token ? toBitbucketTokenShape(token) : null;
});

const CreateBitbucketTokenInput = builder.inputType('CreateBitbucketTokenInput', {
  fields: (t) => ({ label: t.string({ required: true }), scopes: t.stringList({ required: true }), expiresAt: t.field({ type: 'DateTime' }) }),
});
const CreateBitbucketTokenPayloadRef = builder.objectRef<{ token: BitbucketTokenShape; secret: string }>('CreateBitbucketTokenPayload').implement({
  fields: (t) => ({
    token: t.field({ type: BitbucketTokenRef, resolve: (p) => p.token }),
    secret: t.exposeString('secret', { description: 'Shown once.' }),
  }),
});

builder.mutationFields((t) => ({
  createBitbucketToken: t.field({
    type: CreateBitbucketTokenPayloadRef,
    authScopes: { account: true },
    args: { input: t.arg({ type: CreateBitbucketTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (ctx.caller.kind !== 'account') throw new Error('unreachable: authScopes account');
      if (ctx.caller.clientId === BITBUCKET_CLIENT_ID) throw new ForbiddenError('A Bitbucket token cannot create Bitbucket tokens; sign in with `twg login` first.');
      const { token, secret } = await ctx.services.bitbucketTokens.create(actingAs(ctx), ctx.caller.orgId, ctx.caller.accountId, input);
      return { token: toBitbucketTokenShape(token), secret };
    },
  }),
  revokeBitbucketToken: t.field({
    type: BitbucketTokenRef,
    authScopes: { $any: { account: true, orgAdmin: true } },
    args: { id: t.arg.id({ required: true }) },
    description: 'By the owner, or an organisation admin; NOT_FOUND for anyone else.',
    resolve: async (_root, { id }, ctx) => {
      const requester = { accountId: ctx.caller.kind === 'account' ? ctx.caller.accountId : null, admin: isAdmin(ctx.caller) };
      const token = await ctx.services.bitbucketTokens.revoke(actingAs(ctx), ctx.caller.orgId, id, requester);
      return toBitbucketTokenShape(token);
    },
  }),
}));
