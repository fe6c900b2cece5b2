// The CLI sessions screen: revoking twg sessions, and the accounts seen in the audit log that its
// form and the audit filter suggest.
import { gql } from './auth.js';
import { $, confirmAction, h, hideAlert, plural, say } from './dom.js';
import { org, reportError } from './router.js';

const knownAccounts = new Map();
export function rememberAccounts(actors) {
  for (const actor of actors) if (actor.accountId && !knownAccounts.has(actor.accountId)) knownAccounts.set(actor.accountId, actor.email ?? '');
  $('known-accounts').replaceChildren(...[...knownAccounts].map(([id, email]) => h('option', { value: id, label: email })));
}

export async function loadSessions() {
  hideAlert($('sessions-error'));
  const { organization } = await gql(`query AdminRecentActors($id: ID!) { organization(id: $id) { auditEvents(first: 100) { edges { node { actor { accountId email } } } } } }`, { id: org.id });
  rememberAccounts(organization.auditEvents.edges.map((e) => e.node.actor));
}

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
    const { revokeCliSessions } = await gql('mutation AdminRevokeCliSessions($input: RevokeCliSessionsInput!) { revokeCliSessions(input: $input) { revokedSessionCount } }', {
      input: { orgId: org.id, ...(accountId ? { accountId } : {}) },
    });
    say($('sessions-status'), `${plural(revokeCliSessions.revokedSessionCount, 'twg session')} of ${who} revoked.`);
  } catch (error) {
    reportError($('sessions-error'), error, 'Nothing was revoked.');
  }
}

export function wireSessions() {
  $('revoke-all').addEventListener('click', (event) => revokeSessions(null, event.currentTarget));
  $('revoke-account-form').addEventListener('submit', (event) => {
    event.preventDefault();
    revokeSessions($('revoke-account').value.trim(), event.submitter ?? $('revoke-account'));
  });
}
