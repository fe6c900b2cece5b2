// The organisation's people (issue 20): Organization.accounts, the directory admins search and
// page, Organization.accountByEmail, and what an account shows beyond the contract: its last
// sign-in, sites, live twg sessions, and its sessions for admins and for the account itself.
import type { Selectable } from 'kysely';
import { builder } from '../../graphql/builder.ts';
import type { RequestContext } from '../../graphql/context.ts';
import { connectionRefs } from '../../graphql/pagination.ts';
import { ForbiddenError } from '../../shared/errors.ts';
import { isAdmin } from '../session/caller.ts';
import { SessionConnectionRef } from '../session/session.graphql.ts';
import { AccountRef, OrganizationRef, SiteRef } from './org.graphql.ts';
import type { AccountTable } from './org.table.ts';

export const MAX_ACCOUNT_TEXT_FILTER = 200;

const AccountFilterInput = builder.inputType('AccountFilter', {
  fields: (t) => ({
    text: t.string({
      description: `Part of the e-mail or the display name, case-insensitive; % and _ match themselves. At most ${MAX_ACCOUNT_TEXT_FILTER} characters.`,
      extensions: { maxLength: MAX_ACCOUNT_TEXT_FILTER },
    }),
    active: t.boolean({ description: 'Only active (true) or only deactivated (false) accounts.' }),
    isOrgAdmin: t.boolean({ description: 'Only organisation admins (true) or only the others (false).' }),
  }),
});

const AccountConnectionRef = connectionRefs('Account', AccountRef);

/** Admins see any account's sessions, an account its own (a twg-cli session of an org admin is not an admin's). */
function maySeeSessions(ctx: RequestContext, account: Selectable<AccountTable>): boolean {
  if (account.org_id !== ctx.caller.orgId) return false;
  return isAdmin(ctx.caller) || (ctx.caller.kind === 'account' && ctx.caller.accountId === account.id);
}

builder.objectFields(AccountRef, (t) => ({
  lastSignInAt: t.field({
    type: 'DateTime',
    nullable: true,
    description: 'When the account last signed in through OAuth (twg login or the admin page); null when it never has.',
    resolve: (a) => a.last_sign_in_at,
  }),
  sites: t.field({ type: [SiteRef], description: 'The sites it is a member of.', resolve: (a, _args, ctx) => ctx.accounts.sitesOf(a) }),
  cliSessionCount: t.int({
    description: 'How many twg sessions of the account live now: not revoked, expired or idle past the limit (none while it is deactivated).',
    resolve: (a, _args, ctx) => ctx.accounts.cliSessionCount(a),
  }),
  sessions: t.field({
    type: SessionConnectionRef,
    description: 'Its live sessions of every client, newest first. For organisation admins and the account itself; FORBIDDEN for anyone else.',
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (a, args, ctx) => {
      if (!maySeeSessions(ctx, a)) throw new ForbiddenError("Only an organisation admin (on the admin page or with an admin API key) or the account itself may list an account's sessions.");
      return ctx.accounts.sessions(a, args);
    },
  }),
}));

builder.objectFields(OrganizationRef, (t) => ({
  accounts: t.field({
    authScopes: { orgAdmin: true },
    type: AccountConnectionRef,
    description: 'The organisation’s accounts, ordered by e-mail (case-insensitive).',
    args: { filter: t.arg({ type: AccountFilterInput }), first: t.arg.int(), after: t.arg.string() },
    resolve: (org, args, ctx) => ctx.services.orgs.accounts(org.id, args.filter ?? {}, args),
  }),
  accountByEmail: t.field({
    authScopes: { orgAdmin: true },
    type: AccountRef,
    nullable: true,
    description: 'The account with this e-mail, compared case-insensitively; null when the organisation has none.',
    args: { email: t.arg.string({ required: true, extensions: { maxLength: 320 } }) },
    resolve: (org, { email }, ctx) => ctx.services.orgs.accountByEmail(org.id, email),
  }),
}));
