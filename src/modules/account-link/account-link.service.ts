// User links through third-party OAuth, 3LO (PRODUCT §4, issue 5). A connection declares its
// provider; an account that signed in on the link page is sent there with authorization code +
// PKCE, and the service, as the OAuth client (oauth4webapi), checks the state and the browser
// that started the attempt, exchanges the code, reads the user-info and links the account to
// the external id it names. Links take effect at the next request, like mappings (the
// principal version moves with user_link).
import { isIP } from 'node:net';
import * as oauth from 'oauth4webapi';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, BadUserInputError, NotFoundError } from '../../shared/errors.ts';
import { isLoopbackHost } from '../../shared/ip-address.ts';
import { newId } from '../../shared/ids.ts';
import type { SecretBox } from '../../shared/secret-box.ts';
import { credentialKey, newOrgSecret, newSecret, sha256 } from '../../shared/secrets.ts';
import { type ActionAuthor, operatorAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { ConnectionRepository } from '../connection/connection.repository.ts';
import type { IpAllowlistService } from '../ip-allowlist/ip-allowlist.service.ts';
import { AccountLinkRepository, type LinkProviderRow } from './account-link.repository.ts';
import { isPublicAddress, type OutboundFetch } from '../../shared/outbound-fetch.ts';

export const LINK_ATTEMPT_SECONDS = 600;

export interface LinkProviderInput {
  /** Discovered from RFC 8414 / OpenID metadata when the endpoints are not given. */
  issuer?: string | null;
  authorizationEndpoint?: string | null;
  tokenEndpoint?: string | null;
  userinfoEndpoint?: string | null;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** The user-info member that is the third-party user's external id (default `sub`). */
  externalIdField?: string | null;
}

/** Why a link attempt failed, in words for the person in the browser; `code` is stable. */
export class LinkError extends Error {
  constructor(
    readonly code: 'UNKNOWN_CONNECTION' | 'OTHER_ORGANIZATION' | 'NO_PROVIDER' | 'IP_NOT_ALLOWED' | 'INVALID_STATE' | 'EXPIRED' | 'PROVIDER_ERROR' | 'NO_EXTERNAL_ID' | 'ACCOUNT_INACTIVE',
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * Providers must use https; plain http is accepted on loopback only (development and tests). An
 * address that is not public is refused here when it is written as one (a name is checked when it
 * is resolved, see shared/outbound-fetch.ts).
 */
function endpoint(value: string, name: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadUserInputError('INVALID_LINK_PROVIDER', `${name} is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new BadUserInputError('INVALID_LINK_PROVIDER', `${name} must be an https URL (http only on loopback): ${value}`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (host === 'localhost' || (isIP(host) && !isPublicAddress(host)))) {
    throw new BadUserInputError('INVALID_LINK_PROVIDER', `${name} must be at a public address; ${url.hostname} is not one (an operator may allow private addresses with TEAMGRAPH_ALLOW_PRIVATE_PROVIDER_URLS=1).`);
  }
  return url;
}

const insecureAllowed = (url: string) => new URL(url).protocol === 'http:';

export class AccountLinkService {
  private readonly links: AccountLinkRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly secrets: SecretBox,
    private readonly audit: AuditService,
    private readonly ipAllowlist: IpAllowlistService,
    private readonly provider: { fetch: OutboundFetch; allowPrivate: boolean },
  ) {
    this.links = new AccountLinkRepository(db);
  }

  /** oauth4webapi's options for a request to a provider: through the guarded fetch. */
  private requestOptions(url: string) {
    return { [oauth.customFetch]: this.provider.fetch as typeof fetch, [oauth.allowInsecureRequests]: insecureAllowed(url) };
  }

  private async liveConnection(orgId: string, connectionId: string) {
    const connection = await new ConnectionRepository(this.db).find(orgId, connectionId);
    if (!connection || connection.deletion_started_at) throw new NotFoundError(`No connection ${connectionId}.`);
    return connection;
  }

  /** Saves (replacing) the connection's provider; issuer-only input is completed by discovery. */
  async setProvider(by: ActionAuthor, orgId: string, connectionId: string, input: LinkProviderInput): Promise<LinkProviderRow> {
    await this.liveConnection(orgId, connectionId);
    if (!input.clientId.trim() || !input.clientSecret) throw new BadUserInputError('INVALID_LINK_PROVIDER', 'clientId and clientSecret are required.');
    let { authorizationEndpoint, tokenEndpoint, userinfoEndpoint } = input;
    const issuer = input.issuer ? endpoint(input.issuer, 'issuer', this.provider.allowPrivate) : null;
    if (issuer && !(authorizationEndpoint && tokenEndpoint && userinfoEndpoint)) {
      const metadata = await this.discover(issuer);
      authorizationEndpoint ??= metadata.authorization_endpoint;
      tokenEndpoint ??= metadata.token_endpoint;
      userinfoEndpoint ??= metadata.userinfo_endpoint;
    }
    if (!authorizationEndpoint || !tokenEndpoint || !userinfoEndpoint) {
      throw new BadUserInputError('INVALID_LINK_PROVIDER', 'Give the authorization, token and user-info endpoints, or an issuer whose metadata names them.');
    }
    const row = {
      org_id: orgId,
      connection_id: connectionId,
      issuer: issuer?.href.replace(/\/$/, '') ?? null,
      authorization_endpoint: endpoint(authorizationEndpoint, 'authorizationEndpoint', this.provider.allowPrivate).href,
      token_endpoint: endpoint(tokenEndpoint, 'tokenEndpoint', this.provider.allowPrivate).href,
      userinfo_endpoint: endpoint(userinfoEndpoint, 'userinfoEndpoint', this.provider.allowPrivate).href,
      client_id: input.clientId.trim(),
      client_secret_sealed: this.secrets.seal(input.clientSecret),
      scopes: [...new Set(input.scopes.map((s) => s.trim()).filter(Boolean))],
      external_id_field: input.externalIdField?.trim() || 'sub',
      updated_at: this.clock.now(),
    };
    await this.links.upsertProvider(row);
    await this.audit.recordAction(by, orgId, 'connection.link-provider.updated', publicDetails(row));
    return row;
  }

  /**
   * OpenID metadata first, then RFC 8414's: providers publish one or the other. Issue 15: every
   * failure (no such name, a closed or filtered port, an address that is not public, an answer
   * that is not metadata) is the same error, so discovery cannot probe the network behind it.
   */
  private async discover(issuer: URL): Promise<oauth.AuthorizationServer> {
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      try {
        const response = await oauth.discoveryRequest(issuer, { algorithm, ...this.requestOptions(issuer.href) });
        return await oauth.processDiscoveryResponse(issuer, response);
      } catch {
        // the next algorithm, then the one error below
      }
    }
    throw new BadUserInputError(
      'PROVIDER_UNREACHABLE',
      `The issuer's metadata could not be read from ${issuer.href}: it cannot be reached from teamgraph at a public address, or it does not publish OpenID or OAuth metadata there.`,
    );
  }

  async removeProvider(by: ActionAuthor, orgId: string, connectionId: string): Promise<boolean> {
    await this.liveConnection(orgId, connectionId);
    const removed = await this.links.deleteProvider(orgId, connectionId);
    if (removed) await this.audit.recordAction(by, orgId, 'connection.link-provider.removed', { connectionId });
    return removed;
  }

  findProvider(orgId: string, connectionId: string) {
    return this.links.findProvider(orgId, connectionId);
  }

  /** Where the link page's form leads in the end; null when there is no provider. */
  async providerOrigin(connectionId: string): Promise<string | null> {
    const connection = await new ConnectionRepository(this.db).findAnywhere(connectionId);
    const provider = connection && (await this.links.findProvider(connection.org_id, connection.id));
    return provider ? new URL(provider.authorization_endpoint).origin : null;
  }

  /**
   * Whether an account of `orgId` can link itself at the connection now, asked before the browser
   * is sent to the link page (twg connect), so a wrong id fails at once instead of after a sign-in.
   * The same refusals as `start`, as public codes; another organisation's connection is not found.
   */
  async linkTarget(orgId: string, connectionId: string): Promise<{ connectionId: string; provider: string }> {
    const connection = await new ConnectionRepository(this.db).find(orgId, connectionId);
    if (!connection || connection.deletion_started_at) {
      throw new AppError('NOT_FOUND', `There is no connection ${connectionId} in your organisation.`, { subCode: 'UNKNOWN_CONNECTION' });
    }
    if (connection.disabled_at) {
      throw new AppError('FORBIDDEN', `Connection ${connectionId} is disabled by an organisation admin; it cannot be linked until it is enabled again.`, { subCode: 'CONNECTION_DISABLED' });
    }
    if (!(await this.links.findProvider(orgId, connectionId))) {
      throw new AppError('NOT_FOUND', `Connection ${connectionId} has no third-party sign-in set up; ask an organisation admin to set one (setConnectionLinkProvider).`, { subCode: 'NO_PROVIDER' });
    }
    return { connectionId: connection.id, provider: connection.provider };
  }

  /**
   * After the person signed in on the link page: an attempt bound to their browser, and where to
   * send it. `redirectUri` is this service's callback for the connection.
   */
  async start(connectionId: string, account: { orgId: string; accountId: string }, redirectUri: string, address: string | undefined) {
    const connection = await new ConnectionRepository(this.db).findAnywhere(connectionId);
    if (!connection || connection.deletion_started_at || connection.disabled_at) throw new LinkError('UNKNOWN_CONNECTION', 'There is no such connection, or it is disabled.', 404);
    if (connection.org_id !== account.orgId) throw new LinkError('OTHER_ORGANIZATION', 'This connection belongs to another organisation than your account; sign in with an account of its organisation.', 403);
    if (!(await this.ipAllowlist.addressAllowed(account.orgId, address))) {
      throw new LinkError('IP_NOT_ALLOWED', `Your organisation does not allow sign-in from ${address ?? 'an unknown address'}.`, 403);
    }
    const provider = await this.links.findProvider(connection.org_id, connection.id);
    if (!provider) throw new LinkError('NO_PROVIDER', 'This connection has no third-party sign-in set up; ask an organisation admin.', 404);
    // The state names the organisation, so the callback finds the attempt on its shard (issue 18).
    const state = newOrgSecret('', connection.org_id);
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const browserBinding = newSecret('');
    const now = this.clock.now();
    await this.links.insertAttempt(
      {
        state_hash: sha256(state),
        org_id: connection.org_id,
        connection_id: connection.id,
        account_id: account.accountId,
        browser_binding_hash: sha256(browserBinding),
        code_verifier: codeVerifier,
        external_id: null,
        expires_at: new Date(now.getTime() + LINK_ATTEMPT_SECONDS * 1000),
      },
      now,
    );
    const authorizationUrl = new URL(provider.authorization_endpoint);
    authorizationUrl.searchParams.set('response_type', 'code');
    authorizationUrl.searchParams.set('client_id', provider.client_id);
    authorizationUrl.searchParams.set('redirect_uri', redirectUri);
    if (provider.scopes.length > 0) authorizationUrl.searchParams.set('scope', provider.scopes.join(' '));
    authorizationUrl.searchParams.set('state', state);
    authorizationUrl.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    authorizationUrl.searchParams.set('code_challenge_method', 'S256');
    return { authorizationUrl, browserBinding };
  }

  /**
   * The provider sent the browser back: check the state and the browser, exchange the code and
   * read the user-info. Nothing is linked yet: issue 15, the answer is bound to the account that
   * started the attempt and waits for that account to confirm it in the same browser, so a
   * sign-in forged in someone else's browser cannot take their identity at the provider.
   */
  async answer(connectionId: string, callback: URL, browserBinding: string | null, redirectUri: string) {
    const state = callback.searchParams.get('state');
    const attempt = state && browserBinding ? await this.links.takeAttempt(credentialKey(state), sha256(browserBinding), 'waiting-for-provider') : undefined;
    if (!attempt || attempt.connection_id !== connectionId) {
      throw new LinkError('INVALID_STATE', 'This link attempt is unknown, was already used, or was started in another browser. Start again from the link page.');
    }
    if (attempt.expires_at <= this.clock.now()) throw new LinkError('EXPIRED', 'This link attempt expired; start again from the link page.');
    const provider = await this.links.findProvider(attempt.org_id, attempt.connection_id);
    if (!provider) throw new LinkError('NO_PROVIDER', 'This connection no longer has third-party sign-in set up.', 404);
    const as: oauth.AuthorizationServer = {
      issuer: provider.issuer ?? new URL(provider.authorization_endpoint).origin,
      authorization_endpoint: provider.authorization_endpoint,
      token_endpoint: provider.token_endpoint,
      userinfo_endpoint: provider.userinfo_endpoint,
    };
    const client: oauth.Client = { client_id: provider.client_id };
    const clientAuth = oauth.ClientSecretBasic(this.secrets.open(provider.client_secret_sealed));
    let externalId: unknown;
    try {
      const params = oauth.validateAuthResponse(as, client, callback.searchParams, state!);
      const tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, attempt.code_verifier, this.requestOptions(provider.token_endpoint));
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse);
      const userinfoResponse = await oauth.userInfoRequest(as, client, tokens.access_token, this.requestOptions(provider.userinfo_endpoint));
      const userinfo = await oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck, userinfoResponse);
      externalId = (userinfo as Record<string, unknown>)[provider.external_id_field];
    } catch (error) {
      throw new LinkError('PROVIDER_ERROR', providerMessage(error), 502);
    }
    if ((typeof externalId !== 'string' && typeof externalId !== 'number') || String(externalId).length === 0 || String(externalId).length > 255 || String(externalId).includes('\u0000')) {
      throw new LinkError('NO_EXTERNAL_ID', `The provider's user-info has no usable "${provider.external_id_field}" (1 to 255 characters); nothing was linked.`, 502);
    }
    const confirmation = newOrgSecret('', attempt.org_id);
    const now = this.clock.now();
    await this.links.insertAttempt(
      { ...attempt, state_hash: sha256(confirmation), code_verifier: '', external_id: String(externalId), expires_at: new Date(now.getTime() + LINK_ATTEMPT_SECONDS * 1000) },
      now,
    );
    const connection = (await new ConnectionRepository(this.db).find(attempt.org_id, attempt.connection_id))!;
    return { confirmation, accountEmail: await this.links.accountEmail(attempt.org_id, attempt.account_id), provider: connection.provider, externalId: String(externalId) };
  }

  /**
   * The account that started the attempt confirms (or cancels) the provider's answer, in the
   * browser that started it; only then is the link made.
   */
  async confirm(connectionId: string, confirmation: string, browserBinding: string | null, accepted: boolean, address: string | undefined) {
    const attempt = confirmation && browserBinding ? await this.links.takeAttempt(credentialKey(confirmation), sha256(browserBinding), 'answered') : undefined;
    if (!attempt || attempt.external_id === null || attempt.connection_id !== connectionId) {
      throw new LinkError('INVALID_STATE', 'This link attempt is unknown, was already used, or was started in another browser. Start again from the link page.');
    }
    if (attempt.expires_at <= this.clock.now()) throw new LinkError('EXPIRED', 'This link attempt expired; start again from the link page.');
    const connection = await new ConnectionRepository(this.db).find(attempt.org_id, attempt.connection_id);
    if (!connection || connection.deletion_started_at || connection.disabled_at) throw new LinkError('UNKNOWN_CONNECTION', 'There is no such connection, or it is disabled.', 404);
    const result = { orgId: attempt.org_id, accountId: attempt.account_id, connectionId: attempt.connection_id, provider: connection.provider, externalId: attempt.external_id, linked: accepted };
    if (!accepted) return result;
    // Up to twenty minutes have passed since the password: the account and its address must still be allowed.
    if (!(await this.links.accountActive(attempt.org_id, attempt.account_id))) throw new LinkError('ACCOUNT_INACTIVE', 'Your account is deactivated; nothing was linked.', 403);
    if (!(await this.ipAllowlist.addressAllowed(attempt.org_id, address))) {
      throw new LinkError('IP_NOT_ALLOWED', `Your organisation does not allow requests from ${address ?? 'an unknown address'}; nothing was linked.`, 403);
    }
    const now = this.clock.now();
    await this.links.link(attempt.org_id, attempt.connection_id, attempt.external_id, attempt.account_id, now);
    // The person acted in their browser, with no session of this API: their account, no session.
    const person = operatorAuthor(() => now, { accountId: attempt.account_id, email: null });
    await this.audit.recordAction(person, attempt.org_id, 'user-link.created', { connectionId: attempt.connection_id, externalId: attempt.external_id, source: 'OAUTH_3LO' });
    return result;
  }

  linksOf(orgId: string, accountId: string) {
    return this.links.linksOf(orgId, accountId);
  }

  /** Removes one of the account's own links; false when it has no such link. */
  async unlink(by: ActionAuthor, orgId: string, accountId: string, connectionId: string, externalId: string): Promise<boolean> {
    const removed = await this.links.unlink(orgId, accountId, connectionId, externalId);
    if (removed) await this.audit.recordAction(by, orgId, 'user-link.removed', { connectionId, externalId });
    return removed;
  }
}

/** What to tell the person about a failure at the provider; never a secret or a token. */
function providerMessage(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError) {
    return `The provider did not authorise the link: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}. Nothing was linked.`;
  }
  if (error instanceof oauth.ResponseBodyError) return `The provider refused the code exchange: ${error.error}. Nothing was linked.`;
  // Issue 15: nothing about why (a refused connection, an address that is not public) leaves.
  return "The provider could not be reached, or its answer could not be used. Nothing was linked.";
}

/** What the audit log records of a saved provider: everything but the client secret. */
const publicDetails = (p: LinkProviderRow) => ({
  connectionId: p.connection_id,
  issuer: p.issuer,
  authorizationEndpoint: p.authorization_endpoint,
  tokenEndpoint: p.token_endpoint,
  userinfoEndpoint: p.userinfo_endpoint,
  clientId: p.client_id,
  scopes: p.scopes,
  externalIdField: p.external_id_field,
});
