// @ts-check
// The audit log screen: filters, pages, an event's JSON, the exports and the hash chain check.
import { ApiError, authorizedFetch, gql } from './auth.js';
import { $, formatTime, h, hideAlert, openDialog, plural, say } from './dom.js';
import { rememberPeople, resolvePerson } from './people.js';
import { currentOrg, reportError } from './router.js';

/** @typedef {{ accountId: string | null, email: string | null }} AuditActor */
/**
 * An event's row: the fields of EVENT_FIELDS.
 * @typedef {{ id: string, time: string, action: string, actor: AuditActor, command: string | null, objectTypes: string[], outcome: string, ip: string | null }} EventRow
 */

const EVENT_FIELDS = 'id time action actor { accountId email } command objectTypes outcome ip';
/**
 * `filter` is an AuditEventFilter; `cursors[i]` is the `after` of page i; page 0 has none.
 * @type {{ filter: Record<string, string>, first: number, cursors: (string | null)[], page: number, endCursor: string | null, hasNext: boolean, objectTypesLoaded: boolean }}
 */
const audit = { filter: {}, first: 25, cursors: [null], page: 0, endCursor: null, hasNext: false, objectTypesLoaded: false };

/** The filter form as AuditEventFilter: an actor typed as an e-mail becomes its account's id; the times are read as UTC, as the labels say. */
async function readFilter() {
  const form = new FormData($('audit-filter', HTMLFormElement));
  /** @type {Record<string, string>} */
  const filter = {};
  for (const name of ['actorAccountId', 'command', 'objectType', 'outcome', 'ip']) {
    const value = String(form.get(name) ?? '').trim();
    if (value) filter[name] = value;
  }
  if (filter.actorAccountId) filter.actorAccountId = (await resolvePerson(filter.actorAccountId)).id;
  for (const name of ['from', 'to']) {
    const value = String(form.get(name) ?? '');
    if (value) filter[name] = new Date(`${value.length === 16 ? `${value}:00` : value}Z`).toISOString();
  }
  return filter;
}

export async function loadAudit() {
  if (!audit.objectTypesLoaded) {
    const { objectTypes } = /** @type {{ objectTypes: { name: string }[] }} */ (await gql('query AdminObjectTypes { objectTypes { name } }'));
    $('object-types').replaceChildren(...objectTypes.map((t) => h('option', { value: t.name })));
    audit.objectTypesLoaded = true;
  }
  await loadAuditPage();
  if ($('chain-status').dataset.verified === undefined) await verifyChain();
}

async function loadAuditPage() {
  hideAlert($('audit-error'));
  const data = /** @type {{ organization: { auditEvents: { edges: { node: EventRow }[], pageInfo: { hasNextPage: boolean, endCursor: string | null } } } }} */ (
    await gql(
      `query AdminAuditEvents($id: ID!, $filter: AuditEventFilter, $first: Int, $after: String) { organization(id: $id) { auditEvents(filter: $filter, first: $first, after: $after) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`,
      { id: currentOrg().id, filter: audit.filter, first: audit.first, after: audit.cursors[audit.page] },
    )
  );
  const { edges, pageInfo } = data.organization.auditEvents;
  audit.hasNext = pageInfo.hasNextPage;
  audit.endCursor = pageInfo.endCursor;
  rememberPeople(edges.flatMap(({ node: { actor } }) => (actor.accountId && actor.email ? [{ id: actor.accountId, email: actor.email }] : [])));
  $('audit-rows').replaceChildren(
    ...(edges.length === 0
      ? [h('tr', {}, h('td', { colSpan: 7 }, 'No event matches these filters.'))]
      : edges.map(({ node: e }) =>
          h(
            'tr',
            {},
            h('td', {}, h('button', { type: 'button', className: 'link', 'aria-haspopup': 'dialog', 'aria-label': `${formatTime(e.time)}: show event ${e.id}`, onclick: (event) => showEvent(e.id, event.currentTarget) }, formatTime(e.time))),
            h('td', {}, e.actor.email ?? e.actor.accountId ?? ''),
            h('td', {}, e.action),
            h('td', {}, e.command ?? ''),
            h('td', {}, e.objectTypes.join(', ')),
            h('td', { className: `outcome outcome-${e.outcome}` }, e.outcome),
            h('td', {}, e.ip ?? ''),
          ),
        )),
  );
  $('audit-newer', HTMLButtonElement).disabled = audit.page === 0;
  $('audit-older', HTMLButtonElement).disabled = !audit.hasNext;
  say($('audit-page'), `Page ${audit.page + 1}`);
  say($('audit-status'), `${plural(edges.length, 'event')} on page ${audit.page + 1}${audit.hasNext ? '; older events on the next page' : ''}.`);
}

/**
 * @param {string} id
 * @param {HTMLElement} opener
 */
async function showEvent(id, opener) {
  try {
    const { node } = /** @type {{ node: { id: string, event: unknown } | null }} */ (await gql('query AdminAuditEvent($id: ID!) { node(id: $id) { ... on AuditEvent { id event } } }', { id }));
    if (!node) throw new Error(`Event ${id} is not in this organisation's log.`);
    say($('event-title'), `Audit event ${node.id}`);
    say($('event-json'), JSON.stringify(node.event, null, 2));
    openDialog($('event-dialog', HTMLDialogElement), opener);
  } catch (error) {
    reportError($('audit-error'), error, 'The event could not be loaded.');
  }
}

async function verifyChain() {
  const status = $('chain-status');
  say(status, 'Verifying the hash chain…');
  const { organization } = /** @type {{ organization: { verifyAuditChain: { valid: boolean, eventsChecked: number, firstBrokenEventId: string | null } } }} */ (
    await gql('query AdminVerifyAuditChain($id: ID!) { organization(id: $id) { verifyAuditChain { valid eventsChecked firstBrokenEventId } } }', { id: currentOrg().id })
  );
  const result = organization.verifyAuditChain;
  status.dataset.verified = String(result.valid);
  status.className = result.valid ? 'chain-intact' : 'chain-broken';
  say(
    status,
    result.valid
      ? `Hash chain intact: ${plural(result.eventsChecked, 'event')} checked since the last check, none changed or removed.`
      : `Hash chain broken at event ${result.firstBrokenEventId}: it, or an event before it, was changed or removed (${plural(result.eventsChecked, 'event')} checked).`,
  );
}

/**
 * Downloads the export of the applied filters (it needs the bearer token, so it cannot be a plain link).
 * @param {'ndjson' | 'csv'} format
 * @param {HTMLButtonElement} button
 */
async function exportAudit(format, button) {
  button.disabled = true;
  hideAlert($('audit-error'));
  try {
    const params = new URLSearchParams({ format, ...audit.filter });
    const response = await authorizedFetch(`/admin/audit/export?${params}`);
    if (!response.ok) throw new ApiError((await response.json()).errors[0]);
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `audit.${format}`;
    const url = URL.createObjectURL(await response.blob());
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    say($('audit-status'), `Exported ${name}.`);
  } catch (error) {
    reportError($('audit-error'), error, 'The export failed.');
  } finally {
    button.disabled = false;
  }
}

export function wireAudit() {
  /** @param {() => unknown} change */
  const run = async (change) => {
    try {
      await change();
      await loadAuditPage();
    } catch (error) {
      reportError($('audit-error'), error, 'The events could not be loaded.');
    }
  };
  $('audit-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    run(async () => Object.assign(audit, { filter: await readFilter(), first: Number($('filter-size', HTMLSelectElement).value), cursors: [null], page: 0 }));
  });
  $('audit-filter').addEventListener('reset', () => {
    // After the browser has cleared the fields.
    setTimeout(() => run(() => Object.assign(audit, { filter: {}, first: 25, cursors: [null], page: 0 })));
  });
  $('audit-older').addEventListener('click', () =>
    run(() => {
      audit.cursors[audit.page + 1] = audit.endCursor;
      audit.page += 1;
    }),
  );
  $('audit-newer').addEventListener('click', () => run(() => (audit.page = Math.max(0, audit.page - 1))));
  const exportNdjson = $('export-ndjson', HTMLButtonElement);
  exportNdjson.addEventListener('click', () => exportAudit('ndjson', exportNdjson));
  const exportCsv = $('export-csv', HTMLButtonElement);
  exportCsv.addEventListener('click', () => exportAudit('csv', exportCsv));
  $('chain-verify').addEventListener('click', () => verifyChain().catch((error) => reportError($('audit-error'), error, 'The chain could not be verified.')));
  $('event-close').addEventListener('click', () => $('event-dialog', HTMLDialogElement).close());
}
