// @ts-check
// The IP allowlist screen: enforcement, address ranges and countries, edited on the page and saved
// as a whole.
import { ApiError, gql } from './auth.js';
import { $, formatTime, h, hideAlert, say } from './dom.js';
import { currentOrg, reportError } from './router.js';

/** @typedef {{ enabled: boolean, rules: { cidr: string, description: string | null }[], locations: string[], version: number, updatedAt: string | null }} IpAllowlist */
/** @typedef {{ enabled: boolean, rules: { cidr: string, description: string }[], locations: string[], version: number, updatedAt: string | null }} AllowlistState */

const ALLOWLIST_FIELDS = 'enabled rules { cidr description } locations version updatedAt';
/**
 * What the server has (`saved`) and what the admin is editing (`draft`), from the screen's first
 * load on; `editing` is the index of the rule being edited in place.
 * @type {{ saved: AllowlistState | null, draft: AllowlistState | null, editing: number | null }}
 */
const allowlist = { saved: null, draft: null, editing: null };

/** The saved and draft allowlists: the screen's controls act on them once it has loaded. */
function loaded() {
  const { saved, draft } = allowlist;
  if (!saved || !draft) throw new Error('The IP allowlist has not been loaded.');
  return { saved, draft };
}

/**
 * @param {IpAllowlist} a
 * @returns {AllowlistState}
 */
const allowlistState = (a) => ({ enabled: a.enabled, rules: a.rules.map((r) => ({ cidr: r.cidr, description: r.description ?? '' })), locations: [...a.locations], version: a.version, updatedAt: a.updatedAt });
/** @param {AllowlistState} a */
const cloneAllowlist = (a) => ({ ...a, rules: a.rules.map((r) => ({ ...r })), locations: [...a.locations] });
const allowlistDirty = () => {
  const { saved, draft } = loaded();
  return saved.enabled !== draft.enabled || JSON.stringify(saved.rules) !== JSON.stringify(draft.rules) || JSON.stringify(saved.locations) !== JSON.stringify(draft.locations);
};

export async function loadAllowlist() {
  hideAlert($('allowlist-error'));
  const data = /** @type {{ organization: { ipAllowlist: IpAllowlist } }} */ (
    await gql(`query AdminIpAllowlist($id: ID!) { organization(id: $id) { ipAllowlist { ${ALLOWLIST_FIELDS} } } }`, { id: currentOrg().id })
  );
  allowlist.saved = allowlistState(data.organization.ipAllowlist);
  allowlist.draft = cloneAllowlist(allowlist.saved);
  allowlist.editing = null;
  renderAllowlist();
}

/** @param {string} [focusSelector] what gets the focus once the screen is drawn again */
function renderAllowlist(focusSelector) {
  const { draft, saved } = loaded();
  const { editing } = allowlist;
  $('allowlist-enabled', HTMLInputElement).checked = draft.enabled;
  $('cidr-empty').hidden = draft.rules.length > 0;
  $('cidr-rows').replaceChildren(
    ...draft.rules.map((rule, index) => {
      if (editing === index) {
        const cidr = h('input', { value: rule.cidr, 'aria-label': `Address or range of rule ${index + 1}`, required: true, autocomplete: 'off', 'data-edit': 'cidr' });
        const description = h('input', { value: rule.description, 'aria-label': `Description of rule ${index + 1}`, maxLength: 255, autocomplete: 'off' });
        const apply = () => {
          if (!cidr.value.trim()) return cidr.focus();
          draft.rules[index] = { cidr: cidr.value.trim(), description: description.value.trim() };
          allowlist.editing = null;
          renderAllowlist(`[data-rule="${index}"][data-action="edit"]`);
        };
        for (const input of [cidr, description]) input.addEventListener('keydown', (event) => event.key === 'Enter' && apply());
        return h(
          'tr',
          {},
          h('td', {}, cidr),
          h('td', {}, description),
          h(
            'td',
            {},
            h('button', { type: 'button', onclick: apply }, 'Apply'),
            ' ',
            h('button', { type: 'button', onclick: () => ((allowlist.editing = null), renderAllowlist(`[data-rule="${index}"][data-action="edit"]`)) }, 'Cancel'),
          ),
        );
      }
      return h(
        'tr',
        {},
        h('td', {}, h('code', {}, rule.cidr)),
        h('td', {}, rule.description),
        h(
          'td',
          {},
          h('button', { type: 'button', 'data-rule': String(index), 'data-action': 'edit', 'aria-label': `Edit ${rule.cidr}`, onclick: () => ((allowlist.editing = index), renderAllowlist('[data-edit="cidr"]')) }, 'Edit'),
          ' ',
          h('button', { type: 'button', 'aria-label': `Remove ${rule.cidr}`, onclick: () => (draft.rules.splice(index, 1), (allowlist.editing = null), renderAllowlist('#cidr-input')) }, 'Remove'),
        ),
      );
    }),
  );
  $('locations-empty').hidden = draft.locations.length > 0;
  $('location-list').hidden = draft.locations.length === 0;
  $('location-list').replaceChildren(
    ...draft.locations.map((code, index) =>
      h('li', {}, h('span', {}, code), h('button', { type: 'button', 'aria-label': `Remove country ${code}`, onclick: () => (draft.locations.splice(index, 1), renderAllowlist('#location-input')) }, '×')),
    ),
  );
  const dirty = allowlistDirty();
  $('allowlist-save', HTMLButtonElement).disabled = !dirty;
  $('allowlist-discard', HTMLButtonElement).disabled = !dirty;
  const updated = saved.updatedAt ? `Version ${saved.version}, saved ${formatTime(saved.updatedAt)} UTC.` : 'Never saved.';
  say($('allowlist-meta'), `${updated}${dirty ? ' You have unsaved changes.' : ''}`);
  if (focusSelector) /** @type {HTMLElement | null} */ (document.querySelector(focusSelector))?.focus();
}

async function saveAllowlist() {
  const { draft, saved } = loaded();
  hideAlert($('allowlist-error'));
  say($('allowlist-status'), '');
  $('allowlist-save', HTMLButtonElement).disabled = true;
  const input = { orgId: currentOrg().id, enabled: draft.enabled, rules: draft.rules.map((r) => ({ cidr: r.cidr, description: r.description || null })), locations: draft.locations, expectedVersion: saved.version };
  try {
    const { updateIpAllowlist } = /** @type {{ updateIpAllowlist: IpAllowlist }} */ (
      await gql(`mutation AdminSaveIpAllowlist($input: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $input) { ${ALLOWLIST_FIELDS} } }`, { input })
    );
    allowlist.saved = allowlistState(updateIpAllowlist);
    allowlist.draft = cloneAllowlist(allowlist.saved);
    renderAllowlist();
    say($('allowlist-status'), `Saved (version ${allowlist.saved.version}). The allowlist is ${allowlist.saved.enabled ? 'enforced' : 'not enforced'}.`);
  } catch (error) {
    renderAllowlist();
    /** @type {Record<string, string>} */
    const titles = {
      WOULD_LOCK_OUT: 'Not saved: this allowlist would lock you out.',
      CONFLICT: 'Not saved: another admin saved the allowlist meanwhile. Discard your changes to see theirs, then make yours again.',
    };
    const api = error instanceof ApiError ? error : undefined;
    reportError($('allowlist-error'), error, titles[api?.subCode ?? ''] ?? titles[api?.code ?? ''] ?? 'Not saved.');
  }
}

export function wireAllowlist() {
  const enabled = $('allowlist-enabled', HTMLInputElement);
  enabled.addEventListener('change', () => {
    loaded().draft.enabled = enabled.checked;
    renderAllowlist();
  });
  const cidrForm = $('cidr-form', HTMLFormElement);
  cidrForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loaded().draft.rules.push({ cidr: $('cidr-input', HTMLInputElement).value.trim(), description: $('cidr-description', HTMLInputElement).value.trim() });
    cidrForm.reset();
    renderAllowlist('#cidr-input');
  });
  const locationForm = $('location-form', HTMLFormElement);
  locationForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $('location-input', HTMLInputElement).value.trim().toUpperCase();
    const { locations } = loaded().draft;
    if (!locations.includes(code)) locations.push(code);
    locationForm.reset();
    renderAllowlist('#location-input');
  });
  $('allowlist-save').addEventListener('click', saveAllowlist);
  $('allowlist-discard').addEventListener('click', async () => {
    try {
      await loadAllowlist();
      say($('allowlist-status'), 'Changes discarded; this is the saved allowlist.');
      $('allowlist-enabled').focus();
    } catch (error) {
      reportError($('allowlist-error'), error, 'The allowlist could not be loaded.');
    }
  });
}
