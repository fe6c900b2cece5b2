// Connections for admins (issue 5, beyond the contract): Organization.connections, the rotation
// of a connection's client secret (shown once), disabling, enabling and deleting; all audited.
import type { Selectable } from 'kysely';
import { builder } from '../../graphql/builder.ts';
import { actingAs, requireOwnOrganization } from '../../graphql/context.ts';
import { OrganizationRef } from '../org/org.graphql.ts';
import type { ConnectionTable } from './connection.table.ts';

export const ConnectionRef = builder.objectRef<Selectable<ConnectionTable>>('Connection').implement({
  description: 'A connector installed in one site. It ingests with its own client credentials.',
  fields: (t) => ({
    id: t.exposeID('id'),
    cloudId: t.exposeID('cloud_id'),
    provider: t.exposeString('provider'),
    clientId: t.exposeString('client_id'),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.created_at }),
    enabled: t.boolean({ description: 'False while disabled: ingestion is refused and its objects are invisible to everyone.', resolve: (c) => c.disabled_at === null }),
    disabledAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.disabled_at }),
  }),
});

builder.objectFields(OrganizationRef, (t) => ({
  connections: t.field({
    authScopes: { orgAdmin: true },
    type: [ConnectionRef],
    description: 'Oldest first.',
    resolve: (org, _args, ctx) => ctx.services.connections.list(org.id),
  }),
}));

const connectionInput = (name: string) =>
  builder.inputType(name, { fields: (t) => ({ orgId: t.id({ required: true }), connectionId: t.id({ required: true }) }) });
const RotateConnectionSecretInput = connectionInput('RotateConnectionSecretInput');
const SetConnectionEnabledInput = connectionInput('SetConnectionEnabledInput');
const DeleteConnectionInput = connectionInput('DeleteConnectionInput');
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
      return ctx.services.connections.rotateSecret(actingAs(ctx), input.connectionId, input.orgId);
    },
  }),
);

for (const [field, enabled] of [['disableConnection', false], ['enableConnection', true]] as const) {
  builder.mutationField(field, (t) =>
    t.field({
      type: ConnectionRef,
      authScopes: { orgAdmin: true },
      description: enabled
        ? 'Ingestion is accepted and its objects are visible again, from the next request.'
        : 'From the next request: ingestion is refused (CONNECTION_DISABLED) and its objects are invisible to everyone; nothing is deleted.',
      args: { input: t.arg({ type: SetConnectionEnabledInput, required: true }) },
      resolve: async (_root, { input }, ctx) => {
        requireOwnOrganization(ctx, input.orgId);
        return ctx.services.connections.setEnabled(actingAs(ctx), input.connectionId, enabled, input.orgId);
      },
    }),
  );
}

const DeleteConnectionPayloadRef = builder
  .objectRef<{ connectionId: string; totalObjects: number; revokedSessionCount: number }>('DeleteConnectionPayload')
  .implement({
    fields: (t) => ({
      connectionId: t.exposeID('connectionId'),
      totalObjects: t.exposeInt('totalObjects', { description: 'Objects to remove; they are invisible already.' }),
      revokedSessionCount: t.exposeInt('revokedSessionCount'),
    }),
  });

builder.mutationField('deleteConnection', (t) =>
  t.field({
    type: DeleteConnectionPayloadRef,
    authScopes: { orgAdmin: true },
    description:
      'Hides the connection and ends its sessions at once, then removes its objects, relationships, users, groups and links in batches in the background (resumed after a restart). The connection leaves Organization.connections at once.',
    args: { input: t.arg({ type: DeleteConnectionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      const started = await ctx.services.connections.startDeletion(actingAs(ctx), input.connectionId, input.orgId);
      ctx.afterCommit.push(() => void ctx.services.connections.resumeDeletions());
      return { connectionId: input.connectionId, totalObjects: started.totalObjects, revokedSessionCount: started.revokedSessionCount };
    },
  }),
);
