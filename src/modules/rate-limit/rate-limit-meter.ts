// One HTTP request's rate-limit charge. A request the HTTP layer runs twice (credentials that
// changed on the way, step 5 of the no-stale-access protocol in credential-cache.ts) is charged
// once: the second run on the same credential gets the first run's answer.
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
    if (this.charged?.credential !== credential) this.charged = { credential, status: this.limits.charge(caller, org, points) };
    this.status = await this.charged.status;
    return this.status;
  }
}
