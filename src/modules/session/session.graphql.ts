// The Session type: an OAuth or operator-issued session of an account or a connection.
import type { Selectable } from 'kysely';
import { builder } from '../../graphql/builder.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import type { SessionTable } from './session.table.ts';

export const SessionRef = builder.objectRef<Selectable<SessionTable>>('Session').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('session'),
  fields: (t) => ({
    id: t.exposeID('id'),
    clientId: t.exposeString('client_id'),
    scopes: t.exposeStringList('scopes'),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.created_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.last_used_at }),
    expiresAt: t.field({ type: 'DateTime', resolve: (s) => s.expires_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.revoked_at }),
  }),
});

// A caller sees only its own session.
registerNodeLoader('session', async (id, ctx) => (id === ctx.caller.sessionId ? ((await ctx.services.sessions.findSession(ctx.caller.orgId, id)) ?? null) : null));
