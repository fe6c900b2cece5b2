// @ts-check
// The People screen: the organisation's accounts (search, status and role filters, pages) with
// their sites, last sign-in and live twg sessions; and the directory the other screens share: the
// people seen so far, suggested wherever a person is typed, and a typed e-mail or account id
// turned into the account through the API.
import { gql } from './auth.js';
import { $, formatTime, h, hideAlert, plural, say } from './dom.js';
import { currentOrg, reportError } from './router.js';

/** @typedef {{ id: string, email: string, displayName?: string }} PersonRef */
/** @typedef {PersonRef & { displayName: string, active: boolean, isOrgAdmin: boolean, lastSignInAt: string | null, cliSessionCount: number, sites: { cloudId: string, name: string }[] }} Person */
/** @typedef {{ edges: { node: Person }[], pageInfo: { hasNextPage: boolean, endCursor: string | null } }} PersonPage */

const PERSON_FIELDS = 'id email displayName active isOrgAdmin lastSignInAt cliSessionCount sites { cloudId name }';
const PEOPLE_QUERY = `query AdminPeople($id: ID!, $filter: AccountFilter, $first: Int, $after: String) { organization(id: $id) {
  accounts(filter: $filter, first: $first, after: $after) { edges { node { ${PERSON_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`;
const PAGE_SIZE = 25;

/**
 * Every person seen so far, by lower-case e-mail.
 * @type {Map<string, PersonRef>}
 */
const known = new Map();
let suggestionsLoaded = false;

/** @param {PersonRef[]} people */
export function rememberPeople(people) {
  for (const person of people) if (person.email && person.id) known.set(person.email.toLowerCase(), person);
  $('known-accounts').replaceChildren(...[...known.values()].map((p) => h('option', { value: p.email, label: p.displayName || undefined })));
}

/** Fills the suggestions with the first page of people, once. */
export async function suggestPeople() {
  if (suggestionsLoaded) return;
  const { organization } = /** @type {{ organization: { accounts: PersonPage } }} */ (await gql(PEOPLE_QUERY, { id: currentOrg().id, first: 100 }));
  rememberPeople(organization.accounts.edges.map((e) => e.node));
  suggestionsLoaded = true;
}

/**
 * The account a person typed: an e-mail (compared case-insensitively) or an account id.
 * @param {string} text
 * @returns {Promise<PersonRef>}
 */
export async function resolvePerson(text) {
  const value = text.trim();
  if (value.includes('@')) {
    const { organization } = /** @type {{ organization: { accountByEmail: PersonRef | null } }} */ (
      await gql('query AdminAccountByEmail($id: ID!, $email: String!) { organization(id: $id) { accountByEmail(email: $email) { id email displayName } } }', { id: currentOrg().id, email: value })
    );
    if (!organization.accountByEmail) throw new Error(`No account of your organisation has the e-mail ${value}.`);
    rememberPeople([organization.accountByEmail]);
    return organization.accountByEmail;
  }
  const { node } = /** @type {{ node: PersonRef | null }} */ (await gql('query AdminAccount($id: ID!) { node(id: $id) { ... on Account { id email displayName } } }', { id: value }));
  if (!node?.email) throw new Error(`No account ${value} in your organisation. Type an e-mail, or pick someone from the list.`);
  return node;
}

/**
 * The person chosen on the People screen for the Sessions screen, taken once.
 * @type {PersonRef | null}
 */
let chosen = null;
export function takeChosenPerson() {
  const person = chosen;
  chosen = null;
  return person;
}

/**
 * `cursors[i]` is the `after` of page i; page 0 has none.
 * @type {{ filter: Record<string, string | boolean>, cursors: (string | null)[], page: number, endCursor: string | null, hasNext: boolean }}
 */
const people = { filter: {}, cursors: [null], page: 0, endCursor: null, hasNext: false };

function readFilter() {
  const form = new FormData($('people-search', HTMLFormElement));
  /** @type {Record<string, string | boolean>} */
  const filter = {};
  const text = String(form.get('text') ?? '').trim();
  if (text) filter.text = text;
  const status = form.get('status');
  if (status) filter.active = status === 'active';
  const role = form.get('role');
  if (role) filter.isOrgAdmin = role === 'admin';
  return filter;
}

export async function loadPeople() {
  hideAlert($('people-error'));
  const data = /** @type {{ organization: { accounts: PersonPage } }} */ (
    await gql(PEOPLE_QUERY, { id: currentOrg().id, filter: people.filter, first: PAGE_SIZE, after: people.cursors[people.page] })
  );
  const { edges, pageInfo } = data.organization.accounts;
  people.hasNext = pageInfo.hasNextPage;
  people.endCursor = pageInfo.endCursor;
  rememberPeople(edges.map((e) => e.node));
  $('people-rows').replaceChildren(
    ...(edges.length === 0
      ? [h('tr', {}, h('td', { colSpan: 8 }, 'Nobody matches this search.'))]
      : edges.map(({ node: p }) =>
          h(
            'tr',
            {},
            h('td', {}, p.displayName),
            h('td', {}, p.email),
            h('td', {}, p.active ? 'Active' : 'Deactivated'),
            h('td', {}, p.isOrgAdmin ? 'Admin' : 'Member'),
            h('td', {}, p.sites.map((s) => s.name).join(', ')),
            h('td', {}, p.lastSignInAt ? formatTime(p.lastSignInAt) : 'Never'),
            h('td', {}, String(p.cliSessionCount)),
            h(
              'td',
              {},
              h('button', {
                type: 'button',
                'aria-label': `Sessions of ${p.email}`,
                onclick: () => {
                  chosen = p;
                  location.hash = 'sessions';
                },
              }, 'Sessions'),
            ),
          ),
        )),
  );
  $('people-previous', HTMLButtonElement).disabled = people.page === 0;
  $('people-next', HTMLButtonElement).disabled = !people.hasNext;
  say($('people-page'), `Page ${people.page + 1}`);
  say($('people-status'), `${plural(edges.length, 'person', 'people')} on page ${people.page + 1}${people.hasNext ? '; more on the next page' : ''}.`);
}

export function wirePeople() {
  /** @param {() => unknown} change */
  const run = async (change) => {
    change();
    try {
      await loadPeople();
    } catch (error) {
      reportError($('people-error'), error, 'The people could not be loaded.');
    }
  };
  $('people-search').addEventListener('submit', (event) => {
    event.preventDefault();
    run(() => Object.assign(people, { filter: readFilter(), cursors: [null], page: 0 }));
  });
  $('people-search').addEventListener('reset', () => {
    // After the browser has cleared the fields.
    setTimeout(() => run(() => Object.assign(people, { filter: {}, cursors: [null], page: 0 })));
  });
  $('people-next').addEventListener('click', () =>
    run(() => {
      people.cursors[people.page + 1] = people.endCursor;
      people.page += 1;
    }),
  );
  $('people-previous').addEventListener('click', () => run(() => (people.page = Math.max(0, people.page - 1))));
}
