// @ts-check
// The CLI sessions screen: revoking twg sessions, and the accounts seen in the audit log that its
// form and the audit filter suggest.
import { gql } from './auth.js';
import { $, confirmAction, h, hideAlert, plural, say } from './dom.js';
import { currentOrg, reportError } from './router.js';

/** @typedef {{ accountId: string | null, email: string | null }} AuditActor */

/**
 * Every account seen so far: its id to its e-mail, or ''.
 * @type {Map<string, string>}
 */
const knownAccounts = new Map();

/** @param {AuditActor[]} actors */
export function rememberAccounts(actors) {
  for (const actor of actors) if (actor.accountId && !knownAccounts.has(actor.accountId)) knownAccounts.set(actor.accountId, actor.email ?? '');
  $('known-accounts').replaceChildren(...[...knownAccounts].map(([id, email]) => h('option', { value: id, label: email })));
}

export async function loadSessions() {
  hideAlert($('sessions-error'));
  const { organization } = /** @type {{ organization: { auditEvents: { edges: { node: { actor: AuditActor } }[] } } }} */ (
    await gql(`query AdminRecentActors($id: ID!) { organization(id: $id) { auditEvents(first: 100) { edges { node { actor { accountId email } } } } } }`, { id: currentOrg().id })
  );
  rememberAccounts(organization.auditEvents.edges.map((e) => e.node.actor));
}

/**
 * @param {string | null} accountId null for everyone in the organisation
 * @param {HTMLElement} opener
 */
async function revokeSessions(accountId, opener) {
  const who = accountId ? `account ${accountId}${knownAccounts.get(accountId) ? ` (${knownAccounts.get(accountId)})` : ''}` : 'everyone in the organisation';
  const confirmed = await confirmAction(opener, {
    title: accountId ? "Revoke this account's twg sessions?" : 'Revoke all twg sessions?',
    text: `Every twg session of ${who} ends now; the next command is refused until they run twg login again. Admin page sessions, admin API keys and Bitbucket tokens keep working.`,
    confirm: 'Revoke sessions',
  });
  if (!confirmed) return;
  hideAlert($('sessions-error'));
  say($('sessions-status'), '');
  try {
    const { revokeCliSessions } = /** @type {{ revokeCliSessions: { revokedSessionCount: number } }} */ (
      await gql('mutation AdminRevokeCliSessions($input: RevokeCliSessionsInput!) { revokeCliSessions(input: $input) { revokedSessionCount } }', {
        input: { orgId: currentOrg().id, ...(accountId ? { accountId } : {}) },
      })
    );
    say($('sessions-status'), `${plural(revokeCliSessions.revokedSessionCount, 'twg session')} of ${who} revoked.`);
  } catch (error) {
    reportError($('sessions-error'), error, 'Nothing was revoked.');
  }
}

export function wireSessions() {
  const revokeAll = $('revoke-all');
  revokeAll.addEventListener('click', () => revokeSessions(null, revokeAll));
  $('revoke-account-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const account = $('revoke-account', HTMLInputElement);
    revokeSessions(account.value.trim(), event.submitter ?? account);
  });
}
