// The CLI permissions screen: allow-all, the categories and their side panel, the save dialog, and
// a save by another admin in between.
import { gql } from './auth.js';
import { $, formatTime, h, hideAlert, openDialog, plural, say } from './dom.js';
import { org, reportError } from './router.js';

const CATEGORY_NAMES = { READ: 'Read', WRITE_AND_MANAGE: 'Write and manage', DELETE: 'Delete' };
const CATEGORY_WARNINGS = {
  WRITE_AND_MANAGE: 'Write and manage permissions let twg, and any AI agent that drives it, create and change work items, pages and documents, move them and assign them.',
  DELETE: 'Delete permissions let twg, and any AI agent that drives it, delete work items, pages and documents.',
};


const SETTINGS_FIELDS = 'allowAllByDefault selectedPermissions effectivePermissions version updatedAt updatedBy { email } categories { category permissions { permission { key description } } }';

/** What the server has (`saved`) and what the admin is editing (`draft`). */
const permissions = { saved: null, draft: null, catalogue: [], panelCategory: null };

function settingsState(settings) {
  const catalogue = settings.categories.flatMap((c) => c.permissions.map((p) => ({ ...p.permission, category: c.category })));
  // PRODUCT §5: with allow-all on, turning it off starts from the admin's kept selection, or the whole catalogue.
  const selection = settings.allowAllByDefault ? (settings.selectedPermissions.length > 0 ? settings.selectedPermissions : catalogue.map((p) => p.key)) : settings.effectivePermissions;
  return { catalogue, saved: { allowAll: settings.allowAllByDefault, selected: new Set(selection), version: settings.version, updatedAt: settings.updatedAt, updatedBy: settings.updatedBy?.email ?? null } };
}

const copyDraft = (state) => ({ allowAll: state.allowAll, selected: new Set(state.selected) });
const sameSet = (a, b) => a.size === b.size && [...a].every((key) => b.has(key));
const permissionsDirty = () => permissions.draft.allowAll !== permissions.saved.allowAll || (!permissions.draft.allowAll && !sameSet(permissions.draft.selected, permissions.saved.selected));

async function fetchSettings() {
  const data = await gql(`query AdminCliSettings($id: ID!) { organization(id: $id) { cliSettings { ${SETTINGS_FIELDS} } } }`, { id: org.id });
  return data.organization.cliSettings;
}

export async function loadPermissions() {
  $('permissions-conflict').hidden = true;
  hideAlert($('permissions-error'));
  const { catalogue, saved } = settingsState(await fetchSettings());
  Object.assign(permissions, { catalogue, saved, draft: copyDraft(saved) });
  renderPermissions();
}

function renderPermissions() {
  const { draft, saved, catalogue } = permissions;
  $('allow-all').checked = draft.allowAll;
  $('categories').hidden = draft.allowAll;
  $('categories').replaceChildren(
    ...Object.entries(CATEGORY_NAMES).map(([category, name]) => {
      const inCategory = catalogue.filter((p) => p.category === category);
      const allowed = inCategory.filter((p) => draft.selected.has(p.key)).length;
      const titleId = `category-${category}`;
      return h(
        'section',
        { className: 'category', 'aria-labelledby': titleId, 'data-category': category },
        h('h2', { id: titleId }, name),
        h('p', { 'data-count': '' }, `${allowed} of ${inCategory.length} allowed`),
        CATEGORY_WARNINGS[category] && h('p', { className: 'warning' }, CATEGORY_WARNINGS[category]),
        h('button', { type: 'button', 'aria-haspopup': 'dialog', onclick: (event) => openPanel(category, event.currentTarget) }, `Edit ${name} permissions`),
      );
    }),
  );
  const dirty = permissionsDirty();
  $('permissions-save').disabled = !dirty;
  $('permissions-discard').disabled = !dirty;
  const updated = saved.updatedAt ? `Version ${saved.version}, saved ${formatTime(saved.updatedAt)} UTC${saved.updatedBy ? ` by ${saved.updatedBy}` : ''}.` : 'Never saved: the defaults apply.';
  say($('permissions-meta'), `${updated}${dirty ? ' You have unsaved changes.' : ''}`);
}

function openPanel(category, opener) {
  permissions.panelCategory = category;
  say($('panel-title'), `${CATEGORY_NAMES[category]} permissions`);
  const warning = CATEGORY_WARNINGS[category];
  $('panel-warning').hidden = !warning;
  say($('panel-warning'), warning ?? '');
  renderPanel();
  // The category cards are re-rendered by every toggle: find the category's button again.
  openDialog($('panel'), () => document.querySelector(`[data-category="${category}"] button`) ?? opener);
}

function renderPanel() {
  const category = permissions.panelCategory;
  const inCategory = permissions.catalogue.filter((p) => p.category === category);
  const selected = permissions.draft.selected;
  say($('panel-summary'), `${inCategory.filter((p) => selected.has(p.key)).length} of ${inCategory.length} allowed. Changes are saved with Save changes on the page.`);
  const list = $('panel-list');
  // Re-rendering keeps the focused toggle focused.
  const focusedKey = document.activeElement?.dataset?.key;
  list.replaceChildren(
    ...inCategory.map((p) => {
      const id = `permission-${p.key.replace(/[^a-z0-9]/gi, '-')}`;
      return h(
        'li',
        {},
        h('input', { type: 'checkbox', role: 'switch', id, checked: selected.has(p.key), 'aria-describedby': `${id}-description`, 'data-key': p.key, onchange: (event) => togglePermission(p.key, event.currentTarget.checked) }),
        h('label', { for: id }, p.key),
        h('p', { id: `${id}-description` }, p.description),
      );
    }),
  );
  if (focusedKey) list.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

function togglePermission(key, on) {
  if (on) permissions.draft.selected.add(key);
  else permissions.draft.selected.delete(key);
  renderPanel();
  renderPermissions();
}

function setCategory(on) {
  for (const p of permissions.catalogue) if (p.category === permissions.panelCategory) togglePermission(p.key, on);
}

function describeChange() {
  const { draft, saved, catalogue } = permissions;
  if (draft.allowAll) return 'Allow all permissions by default: on. twg may request every permission of the catalogue, including ones added later.';
  const added = catalogue.filter((p) => draft.selected.has(p.key) && !(saved.allowAll || saved.selected.has(p.key))).length;
  const removed = catalogue.filter((p) => !draft.selected.has(p.key) && (saved.allowAll || saved.selected.has(p.key))).length;
  const total = `${draft.selected.size} of ${catalogue.length} permissions allowed`;
  if (draft.selected.size === 0) return `Allow all: off, and no permission allowed: twg is blocked for the whole organisation (${plural(removed, 'permission')} removed).`;
  return `Allow all: off. ${total} (${plural(added, 'permission')} added, ${removed} removed).`;
}

async function savePermissions(revokeSessions, button) {
  const { draft, saved, catalogue } = permissions;
  const input = {
    orgId: org.id,
    allowAllByDefault: draft.allowAll,
    revokeSessions,
    expectedVersion: saved.version,
    ...(draft.allowAll ? {} : { selectedPermissions: catalogue.filter((p) => draft.selected.has(p.key)).map((p) => p.key) }),
  };
  button.disabled = true;
  try {
    const { updateCliPermissions: result } = await gql(
      `mutation AdminSaveCliSettings($input: UpdateCliPermissionsInput!) { updateCliPermissions(input: $input) { revokedSessionCount settings { ${SETTINGS_FIELDS} } } }`,
      { input },
    );
    $('save-dialog').close();
    const { catalogue: fresh, saved: now } = settingsState(result.settings);
    Object.assign(permissions, { catalogue: fresh, saved: now, draft: copyDraft(now) });
    $('permissions-conflict').hidden = true;
    hideAlert($('permissions-error'));
    renderPermissions();
    say($('permissions-status'), `Saved (version ${now.version}).${revokeSessions ? ` ${plural(result.revokedSessionCount, 'twg session')} revoked.` : ' Existing twg sessions were kept.'}`);
  } catch (error) {
    $('save-dialog').close();
    say($('permissions-status'), '');
    if (error.code === 'CONFLICT') return showPermissionsConflict();
    reportError($('permissions-error'), error, 'Not saved.');
  } finally {
    button.disabled = false;
  }
}

/** Someone else saved meanwhile: their version becomes the base, the admin's draft stays as it is. */
async function showPermissionsConflict() {
  const { saved } = settingsState(await fetchSettings());
  permissions.saved = saved;
  renderPermissions();
  const who = saved.updatedBy ?? 'another admin';
  say(
    $('permissions-conflict-text'),
    `Not saved: ${who} saved these settings at ${formatTime(saved.updatedAt)} UTC (version ${saved.version}) while you were editing. Your changes are still on this page, not saved: save them over theirs, or discard them to see their version.`,
  );
  $('permissions-conflict').hidden = false;
  $('permissions-conflict').focus();
}

export function wirePermissions() {
  $('allow-all').addEventListener('change', (event) => {
    permissions.draft.allowAll = event.currentTarget.checked;
    renderPermissions();
  });
  $('panel-select-all').addEventListener('click', () => setCategory(true));
  $('panel-clear-all').addEventListener('click', () => setCategory(false));
  $('panel-close').addEventListener('click', () => $('panel').close());
  const openSave = (opener) => {
    say($('save-summary'), describeChange());
    say($('permissions-status'), '');
    openDialog($('save-dialog'), opener, $('allow-all'));
    $('save-keep').focus();
  };
  $('permissions-save').addEventListener('click', (event) => openSave(event.currentTarget));
  $('permissions-conflict-save').addEventListener('click', (event) => openSave(event.currentTarget));
  $('permissions-conflict-discard').addEventListener('click', () => {
    permissions.draft = copyDraft(permissions.saved);
    $('permissions-conflict').hidden = true;
    renderPermissions();
    say($('permissions-status'), 'Your changes were discarded; this is the saved version.');
    $('allow-all').focus();
  });
  $('permissions-discard').addEventListener('click', () => {
    permissions.draft = copyDraft(permissions.saved);
    renderPermissions();
    say($('permissions-status'), 'Changes discarded.');
    $('allow-all').focus();
  });
  $('save-keep').addEventListener('click', (event) => savePermissions(false, event.currentTarget));
  $('save-revoke').addEventListener('click', (event) => savePermissions(true, event.currentTarget));
  $('save-cancel').addEventListener('click', () => $('save-dialog').close());
}
