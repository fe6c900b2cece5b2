// The HTTP side of a rate-limit charge (issue 21): RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (seconds until the whole budget is back) on every charged answer, and
// Retry-After on a refusal that waiting can cure.
import { type RateLimitStatus, secondsUntil } from '../modules/rate-limit/rate-limit.service.ts';

export function rateLimitHeaders(status: RateLimitStatus, now: Date): Record<string, string> {
  const reset = String(secondsUntil(status.resetAt, now));
  const headers: Record<string, string> = { 'ratelimit-limit': String(status.limit), 'ratelimit-remaining': String(status.remaining), 'ratelimit-reset': reset };
  // A request that alone costs more than the whole budget: waiting does not help, so no Retry-After.
  if (!status.granted && status.cost <= status.limit) headers['retry-after'] = reset;
  return headers;
}
