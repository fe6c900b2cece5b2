// One HTTP request's rate-limit charge. A request the HTTP layer runs twice (credentials that
// changed on the way, step 5 of the no-stale-access protocol in credential-cache.ts) is charged
// once: the second run on the same credential gets the first run's answer. When the change was
// the organisation's budget (an admin lowered or cleared it), that answer is told against the
// new budget, since the first run charged under the old one: the points it spent stay spent,
// and the request runs only if they fit in the new budget.
import type { Caller, OrgSnapshot } from '../session/caller.ts';
import { credentialOf, type RateLimitService, type RateLimitStatus } from './rate-limit.service.ts';

export class RateLimitMeter {
  /** The charge of this request, once made: what the RateLimit-* headers tell. */
  status: RateLimitStatus | null = null;
  private charged: { credential: string; status: Promise<RateLimitStatus> } | null = null;

  constructor(private readonly limits: RateLimitService) {}

  async charge(caller: Caller, org: OrgSnapshot, points: number): Promise<RateLimitStatus> {
    const { kind, id } = credentialOf(caller);
    const credential = `${caller.orgId}/${kind}/${id}`;
    const limit = this.limits.limitOf(caller, org);
    const reusable = this.charged?.credential === credential && (await this.charged.status);
    // A first run that did not fit wrote nothing: under another budget it is charged afresh.
    if (!reusable || (!reusable.granted && reusable.limit !== limit)) {
      this.charged = { credential, status: this.limits.charge(caller, org, points) };
      this.status = await this.charged.status;
    } else {
      // Granted, so nothing was clamped: the points spent in the window are limit - remaining.
      const used = reusable.limit - reusable.remaining;
      this.status = reusable.limit === limit ? reusable : { ...reusable, limit, remaining: Math.max(0, limit - used), granted: used <= limit };
    }
    return this.status;
  }
}
