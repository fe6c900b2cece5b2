// The Session type: an OAuth or operator-issued session of an account or a connection; where it
// was last used; and revokeSession, by its owner or an admin (issue 20).
import type { Selectable } from 'kysely';
import { builder } from '../../graphql/builder.ts';
import { actingAs } from '../../graphql/context.ts';
import { isNodeOfKind, NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { connectionRefs } from '../../graphql/pagination.ts';
import { ForbiddenError } from '../../shared/errors.ts';
import { isAdmin } from './caller.ts';
import { BITBUCKET_CLIENT_ID } from './credentials/client-ids.ts';
import type { SessionTable } from './session.table.ts';

export const SessionRef = builder.objectRef<Selectable<SessionTable>>('Session').implement({
  interfaces: [NodeRef],
  isTypeOf: isNodeOfKind('session'),
  fields: (t) => ({
    id: t.exposeID('id'),
    clientId: t.exposeString('client_id'),
    scopes: t.exposeStringList('scopes', { description: 'The permissions granted to the session at sign-in (or its last refresh).' }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.created_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.last_used_at }),
    expiresAt: t.field({ type: 'DateTime', resolve: (s) => s.expires_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.revoked_at }),
    ip: t.exposeString('last_ip', {
      nullable: true,
      description: 'The client address of its latest recorded use (recorded with lastUsedAt, at most a minute apart), else of its sign-in; null when never known.',
    }),
    country: t.string({
      nullable: true,
      description: 'The country of `ip` (ISO 3166-1 alpha-2) by the database location rules use; null when unknown.',
      resolve: (s, _args, ctx) => (s.last_ip ? ctx.services.ipAllowlist.countryOf(s.last_ip) : null),
    }),
    account: t.field({
      type: 'Account',
      nullable: true,
      description: 'Whose session it is; null for a connection’s.',
      resolve: (s, _args, ctx) => (s.account_id && s.org_id === ctx.caller.orgId ? ctx.accounts.account(s.account_id) : null),
    }),
  }),
});

export const SessionConnectionRef = connectionRefs('Session', SessionRef);

// A caller sees its own session, an account its own sessions, an admin every session of the organisation.
registerNodeLoader('session', async (id, ctx) => {
  const session = await ctx.services.sessions.findSession(ctx.caller.orgId, id);
  if (!session) return null;
  const owns = id === ctx.caller.sessionId || (ctx.caller.kind === 'account' && session.account_id === ctx.caller.accountId);
  return owns || isAdmin(ctx.caller) ? session : null;
});

builder.mutationField('revokeSession', (t) =>
  t.field({
    type: SessionRef,
    authScopes: { $any: { account: true, orgAdmin: true } },
    args: { id: t.arg.id({ required: true }) },
    description:
      'Ends one session at once: its next request is refused and its person signs in again. An organisation admin may end any session of the organisation, ' +
      'an account its own; NOT_FOUND for any other id. A session that had ended already is returned as it is. Audited as session.revoked.',
    resolve: (_root, { id }, ctx) => {
      if (ctx.caller.clientId === BITBUCKET_CLIENT_ID) throw new ForbiddenError('A Bitbucket token cannot end sessions; sign in with `twg login` first.');
      const requester = { accountId: ctx.caller.kind === 'account' ? ctx.caller.accountId : null, admin: isAdmin(ctx.caller) };
      return ctx.services.accountSessions.revoke(actingAs(ctx), ctx.caller.orgId, id, requester);
    },
  }),
);
