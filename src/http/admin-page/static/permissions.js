// @ts-check
// The CLI permissions screen: allow-all, the categories and their side panel, the save dialog, and
// a save by another admin in between.
import { ApiError, gql } from './auth.js';
import { $, formatTime, h, hideAlert, openDialog, plural, say } from './dom.js';
import { currentOrg, reportError } from './router.js';

/** @type {Record<string, string>} */
const CATEGORY_NAMES = { READ: 'Read', WRITE_AND_MANAGE: 'Write and manage', DELETE: 'Delete' };
/** @type {Record<string, string>} */
const CATEGORY_WARNINGS = {
  WRITE_AND_MANAGE: 'Write and manage permissions let twg, and any AI agent that drives it, create and change work items, pages and documents, move them and assign them.',
  DELETE: 'Delete permissions let twg, and any AI agent that drives it, delete work items, pages and documents.',
};

/**
 * CliSettings, the fields of SETTINGS_FIELDS.
 * @typedef {{ allowAllByDefault: boolean, selectedPermissions: string[], effectivePermissions: string[], version: number, updatedAt: string | null, updatedBy: { email: string } | null, categories: { category: string, permissions: { permission: { key: string, description: string } }[] }[] }} CliSettings
 */
/** @typedef {{ key: string, description: string, category: string }} Permission */
/** @typedef {{ allowAll: boolean, selected: Set<string> }} Draft */
/** @typedef {Draft & { version: number, updatedAt: string | null, updatedBy: string | null }} Saved */

const SETTINGS_FIELDS = 'allowAllByDefault selectedPermissions effectivePermissions version updatedAt updatedBy { email } categories { category permissions { permission { key description } } }';

/**
 * What the server has (`saved`) and what the admin is editing (`draft`), from the screen's first
 * load on; the catalogue; the category open in the side panel.
 * @type {{ saved: Saved | null, draft: Draft | null, catalogue: Permission[], panelCategory: string | null }}
 */
const permissions = { saved: null, draft: null, catalogue: [], panelCategory: null };

/** The saved and draft settings: the screen's controls act on them once it has loaded. */
function loaded() {
  const { saved, draft } = permissions;
  if (!saved || !draft) throw new Error('The CLI permission settings have not been loaded.');
  return { saved, draft };
}

/**
 * @param {CliSettings} settings
 * @returns {{ catalogue: Permission[], saved: Saved }}
 */
function settingsState(settings) {
  const catalogue = settings.categories.flatMap((c) => c.permissions.map((p) => ({ ...p.permission, category: c.category })));
  // PRODUCT §5: with allow-all on, turning it off starts from the admin's kept selection, or the whole catalogue.
  const selection = settings.allowAllByDefault ? (settings.selectedPermissions.length > 0 ? settings.selectedPermissions : catalogue.map((p) => p.key)) : settings.effectivePermissions;
  return { catalogue, saved: { allowAll: settings.allowAllByDefault, selected: new Set(selection), version: settings.version, updatedAt: settings.updatedAt, updatedBy: settings.updatedBy?.email ?? null } };
}

/**
 * @param {Draft} state
 * @returns {Draft}
 */
const copyDraft = (state) => ({ allowAll: state.allowAll, selected: new Set(state.selected) });
/**
 * @param {Set<string>} a
 * @param {Set<string>} b
 */
const sameSet = (a, b) => a.size === b.size && [...a].every((key) => b.has(key));
const permissionsDirty = () => {
  const { draft, saved } = loaded();
  return draft.allowAll !== saved.allowAll || (!draft.allowAll && !sameSet(draft.selected, saved.selected));
};

async function fetchSettings() {
  const data = /** @type {{ organization: { cliSettings: CliSettings } }} */ (
    await gql(`query AdminCliSettings($id: ID!) { organization(id: $id) { cliSettings { ${SETTINGS_FIELDS} } } }`, { id: currentOrg().id })
  );
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
  const { draft, saved } = loaded();
  const { catalogue } = permissions;
  $('allow-all', HTMLInputElement).checked = draft.allowAll;
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
  $('permissions-save', HTMLButtonElement).disabled = !dirty;
  $('permissions-discard', HTMLButtonElement).disabled = !dirty;
  const updated = saved.updatedAt ? `Version ${saved.version}, saved ${formatTime(saved.updatedAt)} UTC${saved.updatedBy ? ` by ${saved.updatedBy}` : ''}.` : 'Never saved: the defaults apply.';
  say($('permissions-meta'), `${updated}${dirty ? ' You have unsaved changes.' : ''}`);
}

/**
 * @param {string} category
 * @param {HTMLElement} opener
 */
function openPanel(category, opener) {
  permissions.panelCategory = category;
  say($('panel-title'), `${CATEGORY_NAMES[category]} permissions`);
  const warning = CATEGORY_WARNINGS[category];
  $('panel-warning').hidden = !warning;
  say($('panel-warning'), warning ?? '');
  renderPanel();
  // The category cards are re-rendered by every toggle: find the category's button again.
  openDialog($('panel', HTMLDialogElement), () => /** @type {HTMLElement | null} */ (document.querySelector(`[data-category="${category}"] button`)) ?? opener);
}

function renderPanel() {
  const category = permissions.panelCategory;
  const inCategory = permissions.catalogue.filter((p) => p.category === category);
  const { selected } = loaded().draft;
  say($('panel-summary'), `${inCategory.filter((p) => selected.has(p.key)).length} of ${inCategory.length} allowed. Changes are saved with Save changes on the page.`);
  const list = $('panel-list');
  // Re-rendering keeps the focused toggle focused.
  const focusedKey = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.key;
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
  if (focusedKey) /** @type {HTMLElement | null} */ (list.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`))?.focus();
}

/**
 * @param {string} key
 * @param {boolean} on
 */
function togglePermission(key, on) {
  if (on) loaded().draft.selected.add(key);
  else loaded().draft.selected.delete(key);
  renderPanel();
  renderPermissions();
}

/** @param {boolean} on */
function setCategory(on) {
  for (const p of permissions.catalogue) if (p.category === permissions.panelCategory) togglePermission(p.key, on);
}

function describeChange() {
  const { draft, saved } = loaded();
  const { catalogue } = permissions;
  if (draft.allowAll) return 'Allow all permissions by default: on. twg may request every permission of the catalogue, including ones added later.';
  const added = catalogue.filter((p) => draft.selected.has(p.key) && !(saved.allowAll || saved.selected.has(p.key))).length;
  const removed = catalogue.filter((p) => !draft.selected.has(p.key) && (saved.allowAll || saved.selected.has(p.key))).length;
  const total = `${draft.selected.size} of ${catalogue.length} permissions allowed`;
  if (draft.selected.size === 0) return `Allow all: off, and no permission allowed: twg is blocked for the whole organisation (${plural(removed, 'permission')} removed).`;
  return `Allow all: off. ${total} (${plural(added, 'permission')} added, ${removed} removed).`;
}

/**
 * @param {boolean} revokeSessions
 * @param {HTMLButtonElement} button
 */
async function savePermissions(revokeSessions, button) {
  const { draft, saved } = loaded();
  const { catalogue } = permissions;
  const input = {
    orgId: currentOrg().id,
    allowAllByDefault: draft.allowAll,
    revokeSessions,
    expectedVersion: saved.version,
    ...(draft.allowAll ? {} : { selectedPermissions: catalogue.filter((p) => draft.selected.has(p.key)).map((p) => p.key) }),
  };
  button.disabled = true;
  try {
    const { updateCliPermissions: result } = /** @type {{ updateCliPermissions: { revokedSessionCount: number, settings: CliSettings } }} */ (
      await gql(
        `mutation AdminSaveCliSettings($input: UpdateCliPermissionsInput!) { updateCliPermissions(input: $input) { revokedSessionCount settings { ${SETTINGS_FIELDS} } } }`,
        { input },
      )
    );
    $('save-dialog', HTMLDialogElement).close();
    const { catalogue: fresh, saved: now } = settingsState(result.settings);
    Object.assign(permissions, { catalogue: fresh, saved: now, draft: copyDraft(now) });
    $('permissions-conflict').hidden = true;
    hideAlert($('permissions-error'));
    renderPermissions();
    say($('permissions-status'), `Saved (version ${now.version}).${revokeSessions ? ` ${plural(result.revokedSessionCount, 'twg session')} revoked.` : ' Existing twg sessions were kept.'}`);
  } catch (error) {
    $('save-dialog', HTMLDialogElement).close();
    say($('permissions-status'), '');
    if (error instanceof ApiError && error.code === 'CONFLICT') return showPermissionsConflict();
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
  const allowAll = $('allow-all', HTMLInputElement);
  allowAll.addEventListener('change', () => {
    loaded().draft.allowAll = allowAll.checked;
    renderPermissions();
  });
  $('panel-select-all').addEventListener('click', () => setCategory(true));
  $('panel-clear-all').addEventListener('click', () => setCategory(false));
  $('panel-close').addEventListener('click', () => $('panel', HTMLDialogElement).close());
  /** @param {HTMLElement} opener */
  const openSave = (opener) => {
    say($('save-summary'), describeChange());
    say($('permissions-status'), '');
    openDialog($('save-dialog', HTMLDialogElement), opener, allowAll);
    $('save-keep').focus();
  };
  const save = $('permissions-save');
  save.addEventListener('click', () => openSave(save));
  const conflictSave = $('permissions-conflict-save');
  conflictSave.addEventListener('click', () => openSave(conflictSave));
  $('permissions-conflict-discard').addEventListener('click', () => {
    permissions.draft = copyDraft(loaded().saved);
    $('permissions-conflict').hidden = true;
    renderPermissions();
    say($('permissions-status'), 'Your changes were discarded; this is the saved version.');
    $('allow-all').focus();
  });
  $('permissions-discard').addEventListener('click', () => {
    permissions.draft = copyDraft(loaded().saved);
    renderPermissions();
    say($('permissions-status'), 'Changes discarded.');
    $('allow-all').focus();
  });
  const keep = $('save-keep', HTMLButtonElement);
  keep.addEventListener('click', () => savePermissions(false, keep));
  const revoke = $('save-revoke', HTMLButtonElement);
  revoke.addEventListener('click', () => savePermissions(true, revoke));
  $('save-cancel').addEventListener('click', () => $('save-dialog', HTMLDialogElement).close());
}
