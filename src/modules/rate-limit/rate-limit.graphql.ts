// Rate limits (issue 21): the caller's own budget (viewer.rateLimit), the organisation's budgets
// (Organization.rateLimits) and the admin mutation that lowers them (setRateLimits).
import { builder } from '../../graphql/builder.ts';
import { actingAs, requireOwnOrganization } from '../../graphql/context.ts';
import { OrganizationRef, ViewerRef } from '../org/org.graphql.ts';
import { actingAccountId } from '../session/caller.ts';
import type { OrgBudgets } from './rate-limit.repository.ts';
import { COST_UNITS_PER_POINT, type RateLimitBudgets, type RateLimitSettingsState, type RateLimitStatus } from './rate-limit.service.ts';

const RateLimitRef = builder.objectRef<RateLimitStatus>('RateLimit').implement({
  description:
    'The hourly budget of points of the credential a request came with (a session, an admin API key, a Bitbucket token or a connection). ' +
    `A request costs its query cost (as the cost limit computes it, page sizes given as variables counted at their value) divided by ${COST_UNITS_PER_POINT}, rounded up, at least 1 point; ` +
    'one that does not fit in what is left is refused with RATE_LIMITED (HTTP 429, Retry-After) and does nothing.',
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Points per hour.' }),
    cost: t.exposeInt('cost', { description: 'What this request cost, in points.' }),
    remaining: t.exposeInt('remaining', { description: 'Points left after this request.' }),
    resetAt: t.field({ type: 'DateTime', description: 'When the hour ends and the whole budget is back.', resolve: (s) => s.resetAt }),
  }),
});

builder.objectFields(ViewerRef, (t) => ({
  rateLimit: t.field({
    type: RateLimitRef,
    description: "The caller's budget: this request's cost and what is left after it.",
    resolve: (_caller, _args, ctx) => ctx.rateLimit.current(),
  }),
}));

const RateLimitBudgetsRef = builder.objectRef<RateLimitBudgets>('RateLimitBudgets').implement({
  description: 'Points per hour for each kind of credential.',
  fields: (t) => ({
    session: t.exposeInt('session', { description: 'Each OAuth session (twg, the admin page), with or without a Bitbucket token beside it.' }),
    adminApiKey: t.exposeInt('adminApiKey', { description: 'Each admin API key.' }),
    bitbucketToken: t.exposeInt('bitbucketToken', { description: 'Each Bitbucket token sent alone.' }),
    connection: t.exposeInt('connection', { description: 'Each connection (all its tokens together).' }),
  }),
});

const RateLimitOverridesRef = builder.objectRef<OrgBudgets>('RateLimitOverrides').implement({
  description: "The organisation's own budgets; null follows the operator's default.",
  fields: (t) => ({
    session: t.exposeInt('session', { nullable: true }),
    adminApiKey: t.exposeInt('adminApiKey', { nullable: true }),
    bitbucketToken: t.exposeInt('bitbucketToken', { nullable: true }),
    connection: t.exposeInt('connection', { nullable: true }),
  }),
});

const RateLimitSettingsRef = builder.objectRef<RateLimitSettingsState>('RateLimitSettings').implement({
  fields: (t) => ({
    effective: t.field({ type: RateLimitBudgetsRef, description: 'The budgets that apply now: for each kind, the lower of the default and the custom budget.', resolve: (s) => s.effective }),
    defaults: t.field({ type: RateLimitBudgetsRef, description: "The operator's defaults: the most an organisation may set.", resolve: (s) => s.defaults }),
    custom: t.field({ type: RateLimitOverridesRef, description: 'What organisation admins set.', resolve: (s) => s.custom }),
    version: t.exposeInt('version'),
    updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.updatedAt }),
    updatedBy: t.field({
      type: 'Account',
      nullable: true,
      resolve: (s, _args, ctx) => (s.updatedBy ? ctx.services.orgs.account(ctx.caller.orgId, s.updatedBy) : null),
    }),
  }),
});

builder.objectFields(OrganizationRef, (t) => ({
  rateLimits: t.field({
    authScopes: { orgAdmin: true },
    type: RateLimitSettingsRef,
    resolve: (org, _args, ctx) => ctx.services.rateLimits.settings(org.id),
  }),
}));

const SetRateLimitsInput = builder.inputType('SetRateLimitsInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    session: t.int({ description: "Points per hour, from 1 to the operator's default; null or absent: the default." }),
    adminApiKey: t.int(),
    bitbucketToken: t.int(),
    connection: t.int(),
    expectedVersion: t.int(),
  }),
});

builder.mutationField('setRateLimits', (t) =>
  t.field({
    type: RateLimitSettingsRef,
    authScopes: { orgAdmin: true },
    description:
      "Sets the organisation's budgets, each at most the operator's default (ABOVE_DEFAULT_RATE_LIMIT otherwise); they apply from the next request " +
      'on every server. A stale expectedVersion is CONFLICT. Audited as rate-limits.updated with the before and after.',
    args: { input: t.arg({ type: SetRateLimitsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireOwnOrganization(ctx, input.orgId);
      return ctx.services.rateLimits.update(actingAs(ctx), input.orgId, actingAccountId(ctx.caller) ?? '', input);
    },
  }),
);
