// Who is calling, for every request that carries credentials (the GraphQL endpoint and the audit
// export): a bearer token (session or admin API key, told apart by prefix), an X-Bitbucket-Token
// (PRODUCT §8), or both of one account; and the IP allowlist (PRODUCT §7), which fences accounts
// and admin keys before anything is read for them. The answer is a Caller with its audit recorder
// (the audit log follows accounts and the admins behind API keys, not connections), or the
// refusal, for the route to record.
import type { Speculation } from '../modules/session/credentials/speculation.ts';
import { BITBUCKET_CLIENT_ID } from '../modules/session/credentials/client-ids.ts';
import { ADMIN_KEY_PREFIX } from '../modules/admin-key/admin-key.service.ts';
import type { AuditOutcome } from '../modules/audit/audit-event.ts';
import { AuditRecorder } from '../modules/audit/audit-recorder.ts';
import type { BitbucketAuthentication } from '../modules/bitbucket-token/bitbucket-token.service.ts';
import type { Caller, OrgSnapshot } from '../modules/session/caller.ts';
import type { ObservedRequest } from '../observability/request-scope.ts';
import type { Services } from '../services.ts';
import { errorResponse } from './error-response.ts';

/** What the HTTP server knows of a request beyond the Request itself. */
export interface RequestInfo {
  /** The client's IP address (PRODUCT §7, see client-ip.ts); undefined when unknown (tests without a socket). */
  clientAddress?: string;
  /** Set by the router: the request's id, and what its access log line and metrics are told (who called). */
  observed?: ObservedRequest;
}

/** A response not yet sent, with what its audit event needs. */
export interface Answer {
  response: Response;
  recorder: AuditRecorder | null;
  /** Overrides the outcome the response's status tells. */
  outcome?: AuditOutcome;
}

export type Authenticated = ({ ok: false } & Answer) | { ok: true; caller: Caller; org: OrgSnapshot; recorder: AuditRecorder | null };

/**
 * With a `speculation`, cached credentials are used before their barrier has confirmed them: the
 * route confirms before anything leaves (see graphql-route.ts).
 */
export type Authenticate = (request: Request, info: RequestInfo, requestId: string, speculation?: Speculation) => Promise<Authenticated>;

export function authenticator(services: Services, { auditLog }: { auditLog: boolean }): Authenticate {
  return async (request, info, requestId, speculation) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    const bitbucketSecret = request.headers.get('x-bitbucket-token')?.trim() || null;
    if (!token && !bitbucketSecret) {
      return { ok: false, recorder: null, response: errorResponse(401, 'UNAUTHENTICATED', 'Sign in first: send a bearer token (run `twg login`).', requestId, { 'www-authenticate': 'Bearer realm="teamgraph"' }) };
    }
    // Admin API keys and session tokens differ by prefix; both end as a Caller.
    const bearer = token ? (token.startsWith(ADMIN_KEY_PREFIX) ? await services.adminKeys.authenticate(token, speculation) : await services.sessions.authenticate(token, speculation, info.clientAddress)) : null;
    const bitbucket = bitbucketSecret ? await services.bitbucketTokens.authenticate(bitbucketSecret, speculation) : null;
    const actor = bearer?.actor ? { ...bearer.actor, bitbucketTokenId: bitbucket?.ok ? bitbucket.tokenId : null } : (bitbucket?.actor ?? null);
    const recorder = actor && auditLog ? new AuditRecorder(request, info.clientAddress ?? null, services.clock) : null;
    if (recorder) recorder.actor = actor!;
    const refuse = (status: number, code: string, message: string, outcome: AuditOutcome, headers: Record<string, string> = {}, subCode?: string): Authenticated => ({
      ok: false,
      recorder,
      outcome,
      response: errorResponse(status, code, message, requestId, headers, subCode),
    });

    if (bearer && !bearer.ok && bearer.reason === 'connection-disabled') {
      return refuse(403, 'FORBIDDEN', 'This connection is disabled by an organisation admin: nothing it sends is accepted until it is enabled again.', 'DENIED', {}, 'CONNECTION_DISABLED');
    }
    if (bearer && !bearer.ok) {
      return refuse(401, 'UNAUTHENTICATED', `The token is ${bearer.reason === 'unknown' ? 'not valid' : bearer.reason}. Run \`twg login\` to sign in again.`, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    if (bitbucket && !bitbucket.ok) {
      return refuse(401, 'UNAUTHENTICATED', `The Bitbucket token is ${bitbucket.reason === 'unknown' ? 'not valid' : bitbucket.reason}. Create a new one with createBitbucketToken.`, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    let caller: Caller;
    let org: OrgSnapshot;
    if (bearer?.ok) {
      ({ caller, org } = bearer);
      if (bitbucket?.ok) {
        if (caller.kind !== 'account' || caller.orgId !== bitbucket.orgId || caller.accountId !== bitbucket.accountId) {
          return refuse(403, 'FORBIDDEN', 'The Bitbucket token and the bearer token belong to different accounts; send the tokens of one account.', 'DENIED');
        }
        caller = { ...caller, bitbucket: { tokenId: bitbucket.tokenId, scopes: bitbucket.scopes } };
      }
    } else {
      const b = bitbucket as Extract<BitbucketAuthentication, { ok: true }>;
      caller = { kind: 'account', orgId: b.orgId, accountId: b.accountId, isOrgAdmin: b.isOrgAdmin, sessionId: b.tokenId, clientId: BITBUCKET_CLIENT_ID, scopes: [], bitbucket: { tokenId: b.tokenId, scopes: b.scopes } };
      org = b.org;
    }
    info.observed?.identify(caller);
    // PRODUCT §7: outside the allowlist, nothing is read for an account or an admin key.
    if (caller.kind !== 'connection' && !services.ipAllowlist.allows(caller.orgId, org.ipAllowlist, info.clientAddress)) {
      return refuse(403, 'IP_NOT_ALLOWED', `Your organisation does not allow requests from ${info.clientAddress ?? 'an unknown address'}.`, 'IP_BLOCKED');
    }
    return { ok: true, caller, org, recorder };
  };
}
