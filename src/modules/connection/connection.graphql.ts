// Connections for admins (issue 5, beyond the contract): Organization.connections and the
// rotation of a connection's client secret, shown once and audited.
import type { Selectable } from 'kysely';
import type { ConnectionTable } from '../../db/database.ts';
import { builder } from '../../graphql/builder.ts';
import { requireOwnOrganization } from '../../graphql/context.ts';
import { recordAdminAction } from '../audit/audit.graphql.ts';
import { OrganizationRef } from '../org/org.graphql.ts';

const ConnectionRef = builder.objectRef<Selectable<ConnectionTable>>('Connection').implement({
  description: 'A connector installed in one site. It ingests with its own client credentials.',
  fields: (t) => ({
    id: t.exposeID('id'),
    cloudId: t.exposeID('cloud_id'),
    provider: t.exposeString('provider'),
    clientId: t.exposeString('client_id'),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.created_at }),
  }),
});

builder.objectFields(OrganizationRef, (t) => ({
  connections: t.field({
    authScopes: { orgAdmin: true },
    type: [ConnectionRef],
    description: 'Oldest first.',
    resolve: (org, _args, ctx) => ctx.services.orgs.listConnections(org.id),
  }),
}));

const RotateConnectionSecretInput = builder.inputType('RotateConnectionSecretInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), connectionId: t.id({ required: true }) }),
});
const RotateConnectionSecretPayloadRef = builder
  .objectRef<{ clientId: string; clientSecret: string; revokedSessionCount: number }>('RotateConnectionSecretPayload')
  .implement({
    fields: (t) => ({
      clientId: t.exposeString('clientId'),
      clientSecret: t.exposeString('clientSecret', { description: 'Shown only in this response. The old secret is refused from now on.' }),
      revokedSessionCount: t.exposeInt('revokedSessionCount', { description: "The connection's sessions ended with the old secret." }),
    }),
  });

builder.mutationField('rotateConnectionSecret', (t) =>
  t.field({
    type: RotateConnectionSecretPayloadRef,
    authScopes: { orgAdmin: true },
    args: { input: t.arg({ type: RotateConnectionSecretInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      const rotated = await ctx.services.orgs.rotateConnectionSecret(input.connectionId, input.orgId);
      await recordAdminAction(ctx, 'connection.secret-rotated', { connectionId: rotated.connectionId, revokedSessionCount: rotated.revokedSessionCount });
      return rotated;
    },
  }),
);
