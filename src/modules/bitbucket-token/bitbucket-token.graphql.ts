// Bitbucket tokens (PRODUCT §8): types of the public contract; tokens are created from the
// Bitbucket token issue on, so no account holds one yet.
import { builder } from '../../graphql/builder.ts';
import { isNodeOfKind, NodeRef } from '../../graphql/node.ts';
import { notAvailableYet } from '../../graphql/not-available.ts';

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
    resolve: () => notAvailableYet('Bitbucket tokens'),
  }),
  revokeBitbucketToken: t.field({
    type: BitbucketTokenRef,
    authScopes: { account: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: () => notAvailableYet('Bitbucket tokens'),
  }),
}));
