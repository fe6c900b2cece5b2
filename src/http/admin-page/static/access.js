// @ts-check
// The Object access screen (issue 20): who may view, edit or delete one object of the
// organisation, each with how access comes about, in pages; and why one person can or cannot,
// control by control.
import { ApiError, gql } from './auth.js';
import { $, h, hideAlert, plural, say } from './dom.js';
import { resolvePerson, suggestPeople } from './people.js';
import { currentOrg, reportError } from './router.js';

/** @typedef {import('./people.js').PersonRef} PersonRef */
/** @typedef {'VIEW' | 'EDIT' | 'DELETE'} AclAction */
/** @typedef {{ account: PersonRef & { displayName: string }, via: string }} Accessor */
/** @typedef {{ type: string, id: string | null }} Principal */
/** @typedef {{ action: AclAction, permissionIndex: number, controlIndex: number, satisfied: boolean, matchedPrincipal: Principal | null, via: string | null }} ControlExplanation */
/** @typedef {{ allowed: boolean, summary: string, controls: ControlExplanation[] }} Explanation */

const ACCESSORS_QUERY = `query AdminObjectAccessors($id: ID!, $objectId: ID!, $action: AclAction, $first: Int, $after: String) { organization(id: $id) {
  objectAccessors(objectId: $objectId, action: $action, first: $first, after: $after) { edges { node { account { id email displayName } via } } pageInfo { hasNextPage endCursor } } } }`;
const EXPLAIN_QUERY = `query AdminAccessExplanation($id: ID!, $objectId: ID!, $accountId: ID!, $action: AclAction) { organization(id: $id) {
  accessExplanation(objectId: $objectId, accountId: $accountId, action: $action) { allowed summary controls { action permissionIndex controlIndex satisfied matchedPrincipal { type id } via } } } }`;
const PAGE_SIZE = 50;
/** @type {Record<AclAction, string>} */
const VERBS = { VIEW: 'view', EDIT: 'edit', DELETE: 'delete' };
/** @type {Record<string, string>} */
const PRINCIPALS = { USER: 'Third-party user', GROUP: 'Group', ATLASSIAN_WORKSPACE: 'Members of the site', CONTAINER: 'Whoever may act on the container' };

/**
 * The object and action shown, and how far its list is loaded.
 * @type {{ objectId: string, action: AclAction, endCursor: string | null, hasNext: boolean, count: number } | null}
 */
let shown = null;

/** @param {PersonRef} person */
const nameOf = (person) => (person.displayName ? `${person.displayName} (${person.email})` : person.email);
/** @param {Principal} p */
const principalText = (p) => `${PRINCIPALS[p.type] ?? p.type}${p.id ? ` ${p.id}` : ''}`;

export async function loadAccess() {
  hideAlert($('access-error'));
  await suggestPeople();
}

/**
 * The object's id as the API refused it: NOT_FOUND is told in words, with what to check.
 * @param {unknown} error
 * @param {string} objectId
 */
function objectError(error, objectId) {
  if (error instanceof ApiError && error.code === 'NOT_FOUND') return new Error(`No object ${objectId} in your organisation. Check the id: it is the object's teamgraph id, as twg graph object get or the audit log show it, not a key such as PROJ-1.`);
  return error;
}

/**
 * Loads the next page of `shown`'s accessors, after the rows already there unless `fresh`.
 * @param {boolean} fresh
 */
async function loadAccessors(fresh) {
  if (!shown) return;
  const { objectId, action } = shown;
  const { organization } = /** @type {{ organization: { objectAccessors: { edges: { node: Accessor }[], pageInfo: { hasNextPage: boolean, endCursor: string | null } } } }} */ (
    await gql(ACCESSORS_QUERY, { id: currentOrg().id, objectId, action, first: PAGE_SIZE, after: fresh ? null : shown.endCursor }).catch((error) => {
      throw objectError(error, objectId);
    })
  );
  const { edges, pageInfo } = organization.objectAccessors;
  shown.endCursor = pageInfo.endCursor;
  shown.hasNext = pageInfo.hasNextPage;
  shown.count = (fresh ? 0 : shown.count) + edges.length;
  const rows = edges.map(({ node }) => accessorRow(node, action));
  if (fresh) $('accessor-rows').replaceChildren(...rows);
  else $('accessor-rows').append(...rows);
  const verb = VERBS[action];
  say($('accessors-title'), `Who may ${verb} ${objectId}`);
  $('accessors-empty').hidden = shown.count > 0;
  $('accessors-table').hidden = shown.count === 0;
  say($('accessors-empty'), `Nobody may ${verb} this object: no active account matches its access controls for ${action}.`);
  $('accessors-more').hidden = !shown.hasNext;
  say($('access-status'), `${plural(shown.count, 'account')} may ${verb} ${objectId}${shown.hasNext ? ' so far; load more to see the rest' : ''}.`);
}

/**
 * @param {Accessor} accessor
 * @param {AclAction} action
 */
function accessorRow({ account, via }, action) {
  return h(
    'tr',
    {},
    h('td', {}, account.displayName),
    h('td', {}, account.email),
    h('td', {}, via),
    h(
      'td',
      {},
      h('button', {
        type: 'button',
        'aria-label': `Why ${account.email} may ${VERBS[action]}`,
        onclick: () => {
          $('explain-person', HTMLInputElement).value = account.email;
          explain(account).catch((error) => reportError($('access-error'), error, 'No explanation to show.'));
        },
      }, 'Why?'),
    ),
  );
}

/** @param {PersonRef} person */
async function explain(person) {
  if (!shown) return;
  const { objectId, action } = shown;
  hideAlert($('access-error'));
  const { organization } = /** @type {{ organization: { accessExplanation: Explanation } }} */ (
    await gql(EXPLAIN_QUERY, { id: currentOrg().id, objectId, accountId: person.id, action }).catch((error) => {
      throw objectError(error, objectId);
    })
  );
  const { allowed, summary, controls } = organization.accessExplanation;
  say($('explanation-title'), `${nameOf(person)} ${allowed ? 'may' : 'may not'} ${VERBS[action]} ${objectId}`);
  say($('explanation-summary'), summary);
  $('explanation-summary').className = allowed ? 'access-yes' : 'access-no';
  $('explanation-rows').replaceChildren(
    ...(controls.length === 0
      ? [h('tr', {}, h('td', { colSpan: 4 }, `The object has no access control for ${action}.`))]
      : controls.map((c) =>
          h(
            'tr',
            {},
            h('td', {}, `${c.action} permission ${c.permissionIndex + 1}, control ${c.controlIndex + 1}`),
            h('td', { className: c.satisfied ? 'access-yes' : 'access-no' }, c.satisfied ? 'Satisfied' : 'Not satisfied'),
            h('td', {}, c.matchedPrincipal ? principalText(c.matchedPrincipal) : 'None'),
            h('td', {}, c.via ?? ''),
          ),
        )),
  );
  $('explanation').hidden = false;
  $('explanation-title').focus();
}

/** @param {SubmitEvent} event */
async function showObject(event) {
  event.preventDefault();
  const objectId = $('access-object', HTMLInputElement).value.trim();
  const action = /** @type {AclAction} */ ($('access-action', HTMLSelectElement).value);
  hideAlert($('access-error'));
  say($('access-status'), '');
  $('explanation').hidden = true;
  shown = { objectId, action, endCursor: null, hasNext: false, count: 0 };
  try {
    await loadAccessors(true);
    $('access-result').hidden = false;
  } catch (error) {
    shown = null;
    $('access-result').hidden = true;
    reportError($('access-error'), error, 'No access to show.');
  }
}

export function wireAccess() {
  $('access-form', HTMLFormElement).addEventListener('submit', showObject);
  $('accessors-more').addEventListener('click', async () => {
    try {
      await loadAccessors(false);
      // The button hides with the last page: the list keeps the focus.
      if (!shown?.hasNext) $('accessors-title').focus();
    } catch (error) {
      reportError($('access-error'), error, 'No more accounts could be loaded.');
    }
  });
  $('explain-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('explanation').hidden = true;
    try {
      await explain(await resolvePerson($('explain-person', HTMLInputElement).value));
    } catch (error) {
      reportError($('access-error'), error, 'No explanation to show.');
    }
  });
}
