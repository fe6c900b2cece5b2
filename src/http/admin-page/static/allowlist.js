// The IP allowlist screen: enforcement, address ranges and countries, edited on the page and saved
// as a whole.
import { gql } from './auth.js';
import { $, formatTime, h, hideAlert, say } from './dom.js';
import { org, reportError } from './router.js';

const ALLOWLIST_FIELDS = 'enabled rules { cidr description } locations version updatedAt';
const allowlist = { saved: null, draft: null, editing: null };

const allowlistState = (a) => ({ enabled: a.enabled, rules: a.rules.map((r) => ({ cidr: r.cidr, description: r.description ?? '' })), locations: [...a.locations], version: a.version, updatedAt: a.updatedAt });
const cloneAllowlist = (a) => ({ ...a, rules: a.rules.map((r) => ({ ...r })), locations: [...a.locations] });
const allowlistDirty = () => {
  const { saved, draft } = allowlist;
  return saved.enabled !== draft.enabled || JSON.stringify(saved.rules) !== JSON.stringify(draft.rules) || JSON.stringify(saved.locations) !== JSON.stringify(draft.locations);
};

export async function loadAllowlist() {
  hideAlert($('allowlist-error'));
  const data = await gql(`query AdminIpAllowlist($id: ID!) { organization(id: $id) { ipAllowlist { ${ALLOWLIST_FIELDS} } } }`, { id: org.id });
  allowlist.saved = allowlistState(data.organization.ipAllowlist);
  allowlist.draft = cloneAllowlist(allowlist.saved);
  allowlist.editing = null;
  renderAllowlist();
}

function renderAllowlist(focusSelector) {
  const { draft, saved, editing } = allowlist;
  $('allowlist-enabled').checked = draft.enabled;
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
  $('allowlist-save').disabled = !dirty;
  $('allowlist-discard').disabled = !dirty;
  const updated = saved.updatedAt ? `Version ${saved.version}, saved ${formatTime(saved.updatedAt)} UTC.` : 'Never saved.';
  say($('allowlist-meta'), `${updated}${dirty ? ' You have unsaved changes.' : ''}`);
  if (focusSelector) document.querySelector(focusSelector)?.focus();
}

async function saveAllowlist() {
  const { draft, saved } = allowlist;
  hideAlert($('allowlist-error'));
  say($('allowlist-status'), '');
  $('allowlist-save').disabled = true;
  const input = { orgId: org.id, enabled: draft.enabled, rules: draft.rules.map((r) => ({ cidr: r.cidr, description: r.description || null })), locations: draft.locations, expectedVersion: saved.version };
  try {
    const { updateIpAllowlist } = await gql(`mutation AdminSaveIpAllowlist($input: UpdateIpAllowlistInput!) { updateIpAllowlist(input: $input) { ${ALLOWLIST_FIELDS} } }`, { input });
    allowlist.saved = allowlistState(updateIpAllowlist);
    allowlist.draft = cloneAllowlist(allowlist.saved);
    renderAllowlist();
    say($('allowlist-status'), `Saved (version ${allowlist.saved.version}). The allowlist is ${allowlist.saved.enabled ? 'enforced' : 'not enforced'}.`);
  } catch (error) {
    renderAllowlist();
    const titles = {
      WOULD_LOCK_OUT: 'Not saved: this allowlist would lock you out.',
      CONFLICT: 'Not saved: another admin saved the allowlist meanwhile. Discard your changes to see theirs, then make yours again.',
    };
    reportError($('allowlist-error'), error, titles[error.subCode] ?? titles[error.code] ?? 'Not saved.');
  }
}

export function wireAllowlist() {
  $('allowlist-enabled').addEventListener('change', (event) => {
    allowlist.draft.enabled = event.currentTarget.checked;
    renderAllowlist();
  });
  $('cidr-form').addEventListener('submit', (event) => {
    event.preventDefault();
    allowlist.draft.rules.push({ cidr: $('cidr-input').value.trim(), description: $('cidr-description').value.trim() });
    event.currentTarget.reset();
    renderAllowlist('#cidr-input');
  });
  $('location-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $('location-input').value.trim().toUpperCase();
    if (!allowlist.draft.locations.includes(code)) allowlist.draft.locations.push(code);
    event.currentTarget.reset();
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
