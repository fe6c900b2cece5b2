// Who can see an object (issue 20, item 4): GraphObject.accessors and Organization.objectAccessors,
// admin-only, answered by authz/accessors.ts through ObjectReadService.accessors.
import type { Selectable } from 'kysely';
import { builder } from '../../graphql/builder.ts';
import { AclActionEnum } from '../../graphql/enums.ts';
import { connectionRefs } from '../../graphql/pagination.ts';
import { isAdmin } from '../session/caller.ts';
import { AccountRef, OrganizationRef } from '../org/org.graphql.ts';
import type { AccountTable } from '../org/org.table.ts';
import { GraphObjectRef } from './object.graphql.ts';

const AccessorRef = builder.objectRef<{ account: Selectable<AccountTable>; via: string }>('Accessor').implement({
  description: 'An account that may perform the action asked about, and why.',
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (a) => a.account }),
    via: t.exposeString('via', { description: 'How access comes about: the link, group path, site or container.' }),
  }),
});

const AccessorConnectionRef = connectionRefs('Accessor', AccessorRef);

builder.objectField(GraphObjectRef, 'accessors', (t) =>
  t.field({
    type: AccessorConnectionRef,
    nullable: true,
    description: 'The active accounts that may perform the action (VIEW by default) on this object, in account id order. Null for callers who are not org admins.',
    args: { action: t.arg({ type: AclActionEnum }), first: t.arg.int(), after: t.arg.string() },
    resolve: (object, args, ctx) => (isAdmin(ctx.caller) ? ctx.objects.accessors(object.id, args.action ?? 'VIEW', args) : null),
  }),
);

builder.objectField(OrganizationRef, 'objectAccessors', (t) =>
  t.field({
    authScopes: { orgAdmin: true },
    type: AccessorConnectionRef,
    description: 'The same as GraphObject.accessors for any object of the organisation, also one the admin may not view (as accessExplanation). NOT_FOUND for an object that is not there.',
    args: { objectId: t.arg.id({ required: true }), action: t.arg({ type: AclActionEnum }), first: t.arg.int(), after: t.arg.string() },
    resolve: (_org, args, ctx) => ctx.objects.accessors(args.objectId, args.action ?? 'VIEW', args),
  }),
);
