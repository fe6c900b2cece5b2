// @ts-check
// The audit streams screen (issue 21): the organisation's streams with how far delivery has got,
// adding one, and per stream pausing or resuming it, changing its receiver (URL, format, a new
// secret) and deleting it. A secret goes to the API and is never read back: the API has no field
// for it, and the page empties its inputs once the API has it. The inputs have no maxlength: a
// secret or URL cut short without a word would be a wrong one; the API refuses what is too long.
import { ApiError, gql } from './auth.js';
import { $, confirmAction, formatTime, h, hideAlert, openDialog, plural, say } from './dom.js';
import { currentOrg, reportError } from './router.js';

/**
 * @typedef {{ id: string, url: string, format: 'JSON_LINES' | 'SPLUNK_HEC', paused: boolean, pauseReason: string | null, createdAt: string,
 *   status: { lastDeliveredEventId: string | null, lastDeliveredAt: string | null, lagEvents: number, lastError: string | null, nextAttemptAt: string | null } }} AuditStream
 */

const STREAM_FIELDS = 'id url format paused pauseReason createdAt status { lastDeliveredEventId lastDeliveredAt lagEvents lastError nextAttemptAt }';
// Organization.auditStreams says "at most three"; TOO_MANY_STREAMS refuses a fourth.
const MAX_STREAMS = 3;
const FORMATS = { JSON_LINES: 'JSON lines', SPLUNK_HEC: 'Splunk HEC' };

/** The stream the change dialog is open for. @type {AuditStream | null} */
let editing = null;

export async function loadStreams() {
  hideAlert($('streams-error'));
  await renderStreams();
}

async function renderStreams() {
  const { organization } = /** @type {{ organization: { auditStreams: AuditStream[] } }} */ (
    await gql(`query AdminAuditStreams($id: ID!) { organization(id: $id) { auditStreams { ${STREAM_FIELDS} } } }`, { id: currentOrg().id })
  );
  const streams = organization.auditStreams;
  $('streams-empty').hidden = streams.length > 0;
  $('streams-table').hidden = streams.length === 0;
  const full = streams.length >= MAX_STREAMS;
  $('streams-full').hidden = !full;
  $('stream-form').hidden = full;
  $('stream-rows').replaceChildren(...streams.map(streamRow));
  return streams;
}

/** @param {AuditStream} s */
function streamRow(s) {
  const state = stateOf(s);
  return h(
    'tr',
    {},
    h('td', {}, h('span', { className: 'stream-url' }, s.url), h('br'), h('code', { className: 'muted' }, s.id)),
    h('td', {}, FORMATS[s.format] ?? s.format),
    h('td', { className: state.className }, state.text),
    h('td', {}, s.status.lastDeliveredAt ? formatTime(s.status.lastDeliveredAt) : 'Nothing yet'),
    h('td', {}, plural(s.status.lagEvents, 'event')),
    h('td', {}, s.status.lastError ?? 'None'),
    h('td', {}, s.status.nextAttemptAt ? formatTime(s.status.nextAttemptAt) : 'None'),
    h(
      'td',
      { className: 'row-actions' },
      h('button', { type: 'button', 'data-stream-toggle': s.id, 'aria-label': `${s.paused ? 'Resume' : 'Pause'} the stream to ${s.url}`, onclick: () => setPaused(s, !s.paused) }, s.paused ? 'Resume' : 'Pause'),
      h('button', { type: 'button', 'data-stream-change': s.id, 'aria-haspopup': 'dialog', 'aria-label': `Change the stream to ${s.url}`, onclick: (event) => openChange(s, event.currentTarget) }, 'Change…'),
      h('button', { type: 'button', className: 'danger', 'aria-haspopup': 'dialog', 'aria-label': `Delete the stream to ${s.url}`, onclick: (event) => deleteStream(s, event.currentTarget) }, 'Delete…'),
    ),
  );
}

/** @param {AuditStream} s */
function stateOf(s) {
  if (s.paused) return { className: 'stream-stopped', text: `Paused: ${s.pauseReason ?? 'no reason recorded'}` };
  if (s.status.lastError) return { className: 'stream-stopped', text: 'Active, deliveries failing' };
  return { className: 'stream-works', text: 'Active' };
}

/**
 * A refusal of the API shown by the form it concerns: the message in the form's alert, and the
 * field the sub-code names marked invalid, described by that message and focused.
 * @param {HTMLElement} alert
 * @param {unknown} error
 * @param {string} title
 * @param {Record<string, HTMLInputElement>} fields by sub-code
 */
function reportFormError(alert, error, title, fields) {
  reportError(alert, error, title);
  const field = error instanceof ApiError && error.subCode ? fields[error.subCode] : undefined;
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', `${field.dataset.hint} ${alert.id}`);
    field.focus();
  }
}

/**
 * @param {HTMLElement} alert
 * @param {HTMLInputElement[]} fields
 */
function clearInvalid(alert, fields) {
  hideAlert(alert);
  for (const field of fields) {
    field.removeAttribute('aria-invalid');
    field.setAttribute('aria-describedby', field.dataset.hint ?? '');
  }
}

/** @param {SubmitEvent} event */
async function createStream(event) {
  event.preventDefault();
  const url = $('stream-url', HTMLInputElement);
  const secret = $('stream-secret', HTMLInputElement);
  const alert = $('stream-form-error');
  clearInvalid(alert, [url, secret]);
  hideAlert($('streams-error'));
  say($('streams-status'), '');
  try {
    const { createAuditStream } = /** @type {{ createAuditStream: AuditStream }} */ (
      await gql(`mutation AdminCreateAuditStream($input: CreateAuditStreamInput!) { createAuditStream(input: $input) { ${STREAM_FIELDS} } }`, {
        input: { orgId: currentOrg().id, url: url.value.trim(), format: $('stream-format', HTMLSelectElement).value, secret: secret.value },
      })
    );
    $('stream-form', HTMLFormElement).reset();
    await renderStreams();
    say($('streams-status'), `The stream to ${createAuditStream.url} is added; its first event is its own creation.`);
    $('streams-list-title').focus();
  } catch (error) {
    reportFormError(alert, error, 'No stream was added.', { INVALID_URL: url, INVALID_SECRET: secret });
  }
}

/**
 * @param {AuditStream} s
 * @param {boolean} paused
 */
async function setPaused(s, paused) {
  hideAlert($('streams-error'));
  say($('streams-status'), '');
  try {
    await gql(paused ? 'mutation AdminPauseAuditStream($id: ID!) { pauseAuditStream(id: $id) { id } }' : 'mutation AdminResumeAuditStream($id: ID!) { resumeAuditStream(id: $id) { id } }', { id: s.id });
    await renderStreams();
    say(
      $('streams-status'),
      paused ? `The stream to ${s.url} is paused: events wait and are sent in order when it is resumed.` : `The stream to ${s.url} is resumed: what waited is sent in order.`,
    );
    // The row was drawn again: its button, now saying the opposite, keeps the focus.
    /** @type {HTMLElement | null} */ (document.querySelector(`[data-stream-toggle="${CSS.escape(s.id)}"]`))?.focus();
  } catch (error) {
    reportError($('streams-error'), error, paused ? 'The stream was not paused.' : 'The stream was not resumed.');
  }
}

/**
 * @param {AuditStream} s
 * @param {HTMLElement} opener
 */
function openChange(s, opener) {
  editing = s;
  const url = $('stream-edit-url', HTMLInputElement);
  const secret = $('stream-edit-secret', HTMLInputElement);
  clearInvalid($('stream-edit-error'), [url, secret]);
  url.value = s.url;
  secret.value = '';
  $('stream-edit-format', HTMLSelectElement).value = s.format;
  say($('stream-dialog-text'), `Stream ${s.id}. Delivery carries on from where it stood: what the stream owes goes to the receiver saved here.`);
  const id = s.id;
  openDialog($('stream-dialog', HTMLDialogElement), () => /** @type {HTMLElement | null} */ (document.querySelector(`[data-stream-change="${CSS.escape(id)}"]`)));
  url.focus();
}

/** Only what differs from the stream is sent; nothing differing is the API's NOTHING_TO_CHANGE. @param {SubmitEvent} event */
async function saveChange(event) {
  event.preventDefault();
  const s = editing;
  if (!s) return;
  const url = $('stream-edit-url', HTMLInputElement);
  const secret = $('stream-edit-secret', HTMLInputElement);
  const format = $('stream-edit-format', HTMLSelectElement).value;
  const alert = $('stream-edit-error');
  clearInvalid(alert, [url, secret]);
  /** @type {Record<string, string>} */
  const input = { id: s.id };
  if (url.value.trim() !== s.url) input.url = url.value.trim();
  if (format !== s.format) input.format = format;
  if (secret.value) input.secret = secret.value;
  try {
    const { updateAuditStream } = /** @type {{ updateAuditStream: AuditStream }} */ (
      await gql(`mutation AdminUpdateAuditStream($input: UpdateAuditStreamInput!) { updateAuditStream(input: $input) { ${STREAM_FIELDS} } }`, { input })
    );
    secret.value = '';
    // Drawn again before the dialog closes, so that the focus goes back to the row's new Change button.
    await renderStreams();
    $('stream-dialog', HTMLDialogElement).close();
    const changed = [input.url ? 'URL' : '', input.format ? 'format' : '', input.secret ? 'secret' : ''].filter(Boolean).join(', ');
    say($('streams-status'), `The stream to ${updateAuditStream.url} is changed (${changed}).`);
  } catch (error) {
    reportFormError(alert, error, 'The stream was not changed.', { INVALID_URL: url, INVALID_SECRET: secret });
  }
}

function closeChange() {
  $('stream-edit-secret', HTMLInputElement).value = '';
  editing = null;
}

/**
 * @param {AuditStream} s
 * @param {HTMLElement} opener
 */
async function deleteStream(s, opener) {
  const confirmed = await confirmAction(opener, {
    title: 'Delete this audit stream?',
    text: `Nothing more is sent to ${s.url}${s.status.lagEvents > 0 ? `, including the ${plural(s.status.lagEvents, 'event')} not delivered yet` : ''}. The audit log itself keeps every event. This cannot be undone; add the stream again to start anew from that moment.`,
    confirm: 'Delete stream',
  });
  if (!confirmed) return;
  hideAlert($('streams-error'));
  say($('streams-status'), '');
  try {
    await gql('mutation AdminDeleteAuditStream($id: ID!) { deleteAuditStream(id: $id) }', { id: s.id });
    await renderStreams();
    say($('streams-status'), `The stream to ${s.url} is deleted.`);
    // Its row is gone: the list it was in keeps the focus.
    $('streams-list-title').focus();
  } catch (error) {
    reportError($('streams-error'), error, 'The stream was not deleted.');
  }
}

async function refresh() {
  hideAlert($('streams-error'));
  try {
    const streams = await renderStreams();
    say($('streams-status'), `Status as of ${formatTime(new Date().toISOString())} UTC: ${plural(streams.length, 'stream')}.`);
  } catch (error) {
    reportError($('streams-error'), error, 'The streams could not be loaded.');
  }
}

export function wireStreams() {
  for (const id of ['stream-url', 'stream-secret', 'stream-edit-url', 'stream-edit-secret']) {
    const field = $(id, HTMLInputElement);
    field.dataset.hint = field.getAttribute('aria-describedby') ?? '';
  }
  $('stream-form', HTMLFormElement).addEventListener('submit', createStream);
  $('streams-refresh').addEventListener('click', refresh);
  $('stream-edit-form', HTMLFormElement).addEventListener('submit', saveChange);
  $('stream-edit-cancel').addEventListener('click', () => $('stream-dialog', HTMLDialogElement).close());
  $('stream-dialog').addEventListener('close', closeChange);
}

