// @ts-check
// The Sessions screen: who is signed in, one person at a time (typed by e-mail or account id, or
// chosen on the People screen), ending one of their sessions or all their twg sessions, and
// ending every twg session of the organisation.
import { gql } from './auth.js';
import { $, confirmAction, formatTime, h, hideAlert, plural, say } from './dom.js';
import { resolvePerson, suggestPeople, takeChosenPerson } from './people.js';
import { currentOrg, reportError } from './router.js';

/** @typedef {import('./people.js').PersonRef} PersonRef */
/** @typedef {{ id: string, clientId: string, scopes: string[], createdAt: string, lastUsedAt: string | null, ip: string | null, country: string | null }} Session */

const SESSION_FIELDS = 'id clientId scopes createdAt lastUsedAt ip country';
/** @type {Record<string, string>} */
const CLIENTS = { 'twg-cli': 'twg', 'teamgraph-admin': 'Admin page' };

/**
 * The person whose sessions show, and the session this page itself uses.
 * @type {{ person: PersonRef | null, current: string | null }}
 */
const shown = { person: null, current: null };

/** @param {PersonRef} person */
const nameOf = (person) => (person.displayName ? `${person.displayName} (${person.email})` : person.email);
/** @param {Session} s */
const clientOf = (s) => CLIENTS[s.clientId] ?? s.clientId;

export async function loadSessions() {
  hideAlert($('sessions-error'));
  const chosen = takeChosenPerson();
  if (chosen) {
    $('person-input', HTMLInputElement).value = chosen.email;
    await showPerson(chosen);
  } else if (shown.person) {
    await showPerson(shown.person);
  }
  await suggestPeople();
}

/** @param {PersonRef} person */
async function showPerson(person) {
  const data = /** @type {{ viewer: { session: { id: string } | null }, node: { sessions: { edges: { node: Session }[], pageInfo: { hasNextPage: boolean } } } | null }} */ (
    await gql(
      `query AdminPersonSessions($id: ID!) { viewer { session { id } } node(id: $id) { ... on Account { sessions(first: 100) { edges { node { ${SESSION_FIELDS} } } pageInfo { hasNextPage } } } } }`,
      { id: person.id },
    )
  );
  if (!data.node) throw new Error(`No account ${person.id} in your organisation.`);
  shown.person = person;
  shown.current = data.viewer.session?.id ?? null;
  const { edges, pageInfo } = data.node.sessions;
  say($('person-sessions-title'), `Sessions of ${nameOf(person)}`);
  $('person-sessions-empty').hidden = edges.length > 0;
  $('person-sessions-table').hidden = edges.length === 0;
  $('person-sessions-rows').replaceChildren(...edges.map(({ node }) => sessionRow(node)));
  say($('person-sessions-count'), `${plural(edges.length, 'live session')}${pageInfo.hasNextPage ? ', the newest 100 shown' : ''}.`);
  $('person-sessions').hidden = false;
}

/** @param {Session} s */
function sessionRow(s) {
  const here = s.id === shown.current;
  return h(
    'tr',
    {},
    h('td', {}, clientOf(s), here ? ' (this page)' : ''),
    h('td', {}, formatTime(s.createdAt)),
    h('td', {}, s.lastUsedAt ? formatTime(s.lastUsedAt) : 'Not yet'),
    h('td', {}, s.ip ?? 'Unknown'),
    h('td', {}, s.country ?? 'Unknown'),
    h('td', {}, s.scopes.length === 0 ? 'None' : h('details', {}, h('summary', {}, plural(s.scopes.length, 'permission')), h('ul', {}, s.scopes.map((scope) => h('li', {}, h('code', {}, scope)))))),
    h('td', {}, h('button', { type: 'button', className: 'danger', 'aria-haspopup': 'dialog', 'aria-label': `End the ${clientOf(s)} session signed in ${formatTime(s.createdAt)}`, onclick: (event) => endSession(s, event.currentTarget) }, 'End…')),
  );
}

/**
 * @param {Session} session
 * @param {HTMLElement} opener
 */
async function endSession(session, opener) {
  const person = shown.person;
  if (!person) return;
  const here = session.id === shown.current;
  const confirmed = await confirmAction(opener, {
    title: 'End this session?',
    text: `The ${clientOf(session)} session of ${nameOf(person)}, signed in ${formatTime(session.createdAt)} UTC, ends now; its next request is refused until they sign in again.${here ? ' It is the session of this page: you will be signed out.' : ''}`,
    confirm: 'End session',
  });
  if (!confirmed) return;
  hideAlert($('sessions-error'));
  say($('sessions-status'), '');
  try {
    await gql('mutation AdminRevokeSession($id: ID!) { revokeSession(id: $id) { id revokedAt } }', { id: session.id });
    say($('sessions-status'), `The ${clientOf(session)} session of ${person.email} signed in ${formatTime(session.createdAt)} UTC was ended.`);
    await showPerson(person);
    $('person-sessions-title').focus();
  } catch (error) {
    reportError($('sessions-error'), error, 'The session was not ended.');
  }
}

/**
 * @param {PersonRef | null} person null for everyone in the organisation
 * @param {HTMLElement} opener
 */
async function revokeCliSessions(person, opener) {
  const who = person ? nameOf(person) : 'everyone in the organisation';
  const confirmed = await confirmAction(opener, {
    title: person ? "End this person's twg sessions?" : 'Revoke all twg sessions?',
    text: `Every twg session of ${who} ends now; the next command is refused until they run twg login again. Admin page sessions, admin API keys and Bitbucket tokens keep working.`,
    confirm: person ? 'End twg sessions' : 'Revoke sessions',
  });
  if (!confirmed) return;
  hideAlert($('sessions-error'));
  say($('sessions-status'), '');
  try {
    const { revokeCliSessions } = /** @type {{ revokeCliSessions: { revokedSessionCount: number, account: { email: string } | null } }} */ (
      await gql('mutation AdminRevokeCliSessions($input: RevokeCliSessionsInput!) { revokeCliSessions(input: $input) { revokedSessionCount account { email } } }', {
        input: { orgId: currentOrg().id, ...(person ? { accountId: person.id } : {}) },
      })
    );
    const whose = revokeCliSessions.account ? revokeCliSessions.account.email : 'everyone in the organisation';
    say($('sessions-status'), `${plural(revokeCliSessions.revokedSessionCount, 'twg session')} of ${whose} revoked.`);
    if (shown.person) await showPerson(shown.person);
  } catch (error) {
    reportError($('sessions-error'), error, 'Nothing was revoked.');
  }
}

export function wireSessions() {
  const revokeAll = $('revoke-all');
  revokeAll.addEventListener('click', () => revokeCliSessions(null, revokeAll));
  const revokePerson = $('revoke-person');
  revokePerson.addEventListener('click', () => revokeCliSessions(shown.person, revokePerson));
  $('person-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    hideAlert($('sessions-error'));
    say($('sessions-status'), '');
    try {
      await showPerson(await resolvePerson($('person-input', HTMLInputElement).value));
    } catch (error) {
      $('person-sessions').hidden = true;
      shown.person = null;
      reportError($('sessions-error'), error, 'No sessions to show.');
    }
  });
}
