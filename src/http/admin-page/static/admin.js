// The admin page's only script: a hand-written ES module, served as is (no build step). It signs
// in as the public OAuth client teamgraph-admin (authorization code + PKCE S256) and uses the
// same public GraphQL API as everyone else, plus GET /admin/audit/export. Every value from the
// server is put into the page as text, never as HTML.

const CLIENT_ID = 'teamgraph-admin';
const REDIRECT_URI = `${location.origin}/admin/callback`;
const SCREENS = ['permissions', 'allowlist', 'audit', 'sessions'];
const CATEGORY_NAMES = { READ: 'Read', WRITE_AND_MANAGE: 'Write and manage', DELETE: 'Delete' };
const CATEGORY_WARNINGS = {
  WRITE_AND_MANAGE: 'Write and manage permissions let twg, and any AI agent that drives it, create and change work items, pages and documents, move them and assign them.',
  DELETE: 'Delete permissions let twg, and any AI agent that drives it, delete work items, pages and documents.',
};

// --- tokens --------------------------------------------------------------------------------
// Tokens are kept in sessionStorage: a reload of this tab stays signed in, but no other tab, and
// nothing after the tab is closed, can read them. The access token lives 10 minutes; when it is
// refused it is replaced with the rotating refresh token (one refresh at a time: presenting a
// used refresh token would end the session).
const TOKENS = 'teamgraph-admin.tokens';
const PENDING = 'teamgraph-admin.pending';

const tokens = {
  get: () => JSON.parse(sessionStorage.getItem(TOKENS) ?? 'null'),
  set: (value) => sessionStorage.setItem(TOKENS, JSON.stringify(value)),
  clear: () => sessionStorage.removeItem(TOKENS),
};

const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomString = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

async function startSignIn() {
  if (!crypto.subtle) {
    showSignIn('This page needs HTTPS (or localhost) to sign in securely.');
    return;
  }
  const verifier = randomString(32);
  const state = randomString(16);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state });
  location.assign(`/oauth/authorize?${params}`);
}

/** The login page sent the browser back to /admin/callback: the code for tokens. */
async function completeSignIn(params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', '/admin');
  if (params.get('error')) throw new Error(params.get('error_description') ?? params.get('error'));
  // RFC 9207: the answer must come from this server, for the request this tab started.
  if (!pending || params.get('state') !== pending.state) throw new Error('The sign-in answer does not belong to a sign-in started in this tab. Sign in again.');
  if (params.get('iss') !== location.origin) throw new Error('The sign-in answer came from another server. Sign in again.');
  const issued = await tokenRequest({ grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: REDIRECT_URI, code_verifier: pending.verifier });
  tokens.set(issued);
}

async function tokenRequest(fields) {
  const response = await fetch('/oauth/token', { method: 'POST', body: new URLSearchParams({ ...fields, client_id: CLIENT_ID }) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new SignedOut(body.error_description ?? 'Signing in failed. Sign in again.');
  return { access: body.access_token, refresh: body.refresh_token };
}

class SignedOut extends Error {}

let refreshing = null;
function refreshTokens(stale) {
  refreshing ??= (async () => {
    const current = tokens.get();
    // Another request refreshed meanwhile: use its tokens.
    if (current && current.access !== stale) return;
    if (!current?.refresh) throw new SignedOut('Sign in to continue.');
    try {
      tokens.set(await tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refresh }));
    } catch (error) {
      tokens.clear();
      throw error;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** fetch with the access token, refreshed once when the server says it expired. */
async function authorizedFetch(url, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const current = tokens.get();
    if (!current) throw new SignedOut('Sign in to continue.');
    const response = await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${current.access}` } });
    if (response.status !== 401) return response;
    if (attempt > 0) {
      tokens.clear();
      throw new SignedOut('Your session has ended. Sign in again.');
    }
    await refreshTokens(current.access);
  }
}

/** A GraphQL error as the API sent it: message, code and sub-code. */
class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
    this.subCode = error.extensions?.subCode;
  }
}

async function gql(query, variables = {}) {
  const response = await authorizedFetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new ApiError(body.errors[0]);
  return body.data;
}

// --- DOM helpers -----------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with properties (attributes for aria-*, data-* and a few others) and children as text or nodes. */
function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name.includes('-') || name === 'role' || name === 'for' || name === 'scope' || name === 'list') element.setAttribute(name, value === true ? '' : value);
    else element[name] = value;
  }
  element.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

function showAlert(element, title, message) {
  element.replaceChildren(...(title ? [h('strong', {}, title)] : []), message);
  element.hidden = false;
}
function hideAlert(element) {
  element.hidden = true;
  element.replaceChildren();
}
const say = (element, text) => {
  element.textContent = text;
};

/**
 * Opens a modal dialog (the rest of the page is inert meanwhile) and, when it closes, gives focus
 * back to `opener`: an element, or a function finding it again after a re-render.
 */
function openDialog(dialog, opener, fallback = $('main')) {
  dialog.addEventListener(
    'close',
    () => {
      const target = typeof opener === 'function' ? opener() : opener;
      (target?.isConnected && !target.disabled ? target : fallback).focus();
    },
    { once: true },
  );
  dialog.showModal();
}

/** Asks before a destructive action; resolves true when confirmed. */
function confirmAction(opener, { title, text, confirm }) {
  const dialog = $('confirm-dialog');
  say($('confirm-title'), title);
  say($('confirm-text'), text);
  say($('confirm-ok'), confirm);
  return new Promise((resolve) => {
    const ok = () => dialog.close('ok');
    const cancel = () => dialog.close('cancel');
    $('confirm-ok').addEventListener('click', ok);
    $('confirm-cancel').addEventListener('click', cancel);
    dialog.addEventListener(
      'close',
      () => {
        $('confirm-ok').removeEventListener('click', ok);
        $('confirm-cancel').removeEventListener('click', cancel);
        resolve(dialog.returnValue === 'ok');
      },
      { once: true },
    );
    dialog.returnValue = '';
    openDialog(dialog, opener);
    $('confirm-cancel').focus();
  });
}

const formatTime = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '');
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Turns an error of an action into text in `element`; a lost session goes back to sign-in. */
function reportError(element, error, title) {
  if (error instanceof SignedOut) return showSignIn(error.message);
  showAlert(element, title, error.message);
}

// --- screens and navigation --------------------------------------------------------------------

let org = null;

function showOnly(screen) {
  for (const section of document.querySelectorAll('main > .screen')) section.hidden = section.id !== `screen-${screen}`;
}

function showSignIn(message) {
  org = null;
  $('sections').hidden = true;
  $('sign-out').hidden = true;
  say($('who'), '');
  hideAlert($('page-alert'));
  if (message) showAlert($('signin-error'), null, message);
  else hideAlert($('signin-error'));
  showOnly('signin');
}

const loaders = { permissions: loadPermissions, allowlist: loadAllowlist, audit: loadAudit, sessions: loadSessions };

async function route(moveFocus) {
  if (!org) return;
  const screen = SCREENS.find((name) => location.hash === `#${name}`) ?? 'permissions';
  for (const link of document.querySelectorAll('#sections a')) {
    if (link.getAttribute('href') === `#${screen}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  showOnly(screen);
  document.title = `${$(`${screen}-title`).textContent} · teamgraph admin`;
  if (moveFocus) $(`${screen}-title`).focus();
  try {
    await loaders[screen]();
  } catch (error) {
    reportError($('page-alert'), error, 'The page could not be loaded.');
  }
}

async function start() {
  $('sign-in').addEventListener('click', startSignIn);
  $('sign-out').addEventListener('click', signOut);
  addEventListener('hashchange', () => route(true));
  wirePermissions();
  wireAllowlist();
  wireAudit();
  wireSessions();
  try {
    if (location.pathname === '/admin/callback') await completeSignIn(new URLSearchParams(location.search));
    if (!tokens.get()) return showSignIn();
    const { viewer } = await gql('query AdminViewer { viewer { account { id email displayName isOrgAdmin } organization { id name } } }');
    $('sign-out').hidden = false;
    say($('who'), `${viewer.account?.email ?? ''} · ${viewer.organization?.name ?? ''}`);
    if (!viewer.account?.isOrgAdmin || !viewer.organization) {
      showOnly('refused');
      return;
    }
    org = viewer.organization;
    $('sections').hidden = false;
    await route(false);
  } catch (error) {
    showSignIn(error.message);
  }
}

async function signOut() {
  const current = tokens.get();
  tokens.clear();
  // RFC 7009: ends the session on the server too, not only in this tab.
  if (current?.refresh) await fetch('/oauth/revoke', { method: 'POST', body: new URLSearchParams({ token: current.refresh, client_id: CLIENT_ID }) }).catch(() => {});
  showSignIn('You are signed out.');
  $('signin-title').focus();
}

// --- CLI permissions ----------------------------------------------------------------------------

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

async function loadPermissions() {
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

function wirePermissions() {
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

// --- IP allowlist ---------------------------------------------------------------------------------

const ALLOWLIST_FIELDS = 'enabled rules { cidr description } locations version updatedAt';
const allowlist = { saved: null, draft: null, editing: null };

const allowlistState = (a) => ({ enabled: a.enabled, rules: a.rules.map((r) => ({ cidr: r.cidr, description: r.description ?? '' })), locations: [...a.locations], version: a.version, updatedAt: a.updatedAt });
const cloneAllowlist = (a) => ({ ...a, rules: a.rules.map((r) => ({ ...r })), locations: [...a.locations] });
const allowlistDirty = () => {
  const { saved, draft } = allowlist;
  return saved.enabled !== draft.enabled || JSON.stringify(saved.rules) !== JSON.stringify(draft.rules) || JSON.stringify(saved.locations) !== JSON.stringify(draft.locations);
};

async function loadAllowlist() {
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

function wireAllowlist() {
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

// --- audit log ------------------------------------------------------------------------------------

const EVENT_FIELDS = 'id time action actor { accountId email } command objectTypes outcome ip';
/** `cursors[i]` is the `after` of page i; page 0 has none. */
const audit = { filter: {}, first: 25, cursors: [null], page: 0, endCursor: null, hasNext: false, objectTypesLoaded: false };

/** The filter form as AuditEventFilter; the times are read as UTC, as the labels say. */
function readFilter() {
  const form = new FormData($('audit-filter'));
  const filter = {};
  for (const name of ['actorAccountId', 'command', 'objectType', 'outcome', 'ip']) {
    const value = String(form.get(name) ?? '').trim();
    if (value) filter[name] = value;
  }
  for (const name of ['from', 'to']) {
    const value = String(form.get(name) ?? '');
    if (value) filter[name] = new Date(`${value.length === 16 ? `${value}:00` : value}Z`).toISOString();
  }
  return filter;
}

async function loadAudit() {
  if (!audit.objectTypesLoaded) {
    const { objectTypes } = await gql('query AdminObjectTypes { objectTypes { name } }');
    $('object-types').replaceChildren(...objectTypes.map((t) => h('option', { value: t.name })));
    audit.objectTypesLoaded = true;
  }
  await loadAuditPage();
  if ($('chain-status').dataset.verified === undefined) await verifyChain();
}

async function loadAuditPage() {
  hideAlert($('audit-error'));
  const data = await gql(
    `query AdminAuditEvents($id: ID!, $filter: AuditEventFilter, $first: Int, $after: String) { organization(id: $id) { auditEvents(filter: $filter, first: $first, after: $after) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`,
    { id: org.id, filter: audit.filter, first: audit.first, after: audit.cursors[audit.page] },
  );
  const { edges, pageInfo } = data.organization.auditEvents;
  audit.hasNext = pageInfo.hasNextPage;
  audit.endCursor = pageInfo.endCursor;
  rememberAccounts(edges.map((e) => e.node.actor));
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
  $('audit-newer').disabled = audit.page === 0;
  $('audit-older').disabled = !audit.hasNext;
  say($('audit-page'), `Page ${audit.page + 1}`);
  say($('audit-status'), `${plural(edges.length, 'event')} on page ${audit.page + 1}${audit.hasNext ? '; older events on the next page' : ''}.`);
}

async function showEvent(id, opener) {
  try {
    const { node } = await gql('query AdminAuditEvent($id: ID!) { node(id: $id) { ... on AuditEvent { id event } } }', { id });
    if (!node) throw new Error(`Event ${id} is not in this organisation's log.`);
    say($('event-title'), `Audit event ${node.id}`);
    say($('event-json'), JSON.stringify(node.event, null, 2));
    openDialog($('event-dialog'), opener);
  } catch (error) {
    reportError($('audit-error'), error, 'The event could not be loaded.');
  }
}

async function verifyChain() {
  const status = $('chain-status');
  say(status, 'Verifying the hash chain…');
  const { organization } = await gql('query AdminVerifyAuditChain($id: ID!) { organization(id: $id) { verifyAuditChain { valid eventsChecked firstBrokenEventId } } }', { id: org.id });
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

/** Downloads the export of the applied filters (it needs the bearer token, so it cannot be a plain link). */
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

function wireAudit() {
  const run = async (change) => {
    change();
    try {
      await loadAuditPage();
    } catch (error) {
      reportError($('audit-error'), error, 'The events could not be loaded.');
    }
  };
  $('audit-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    run(() => Object.assign(audit, { filter: readFilter(), first: Number($('filter-size').value), cursors: [null], page: 0 }));
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
  $('export-ndjson').addEventListener('click', (event) => exportAudit('ndjson', event.currentTarget));
  $('export-csv').addEventListener('click', (event) => exportAudit('csv', event.currentTarget));
  $('chain-verify').addEventListener('click', () => verifyChain().catch((error) => reportError($('audit-error'), error, 'The chain could not be verified.')));
  $('event-close').addEventListener('click', () => $('event-dialog').close());
}

// --- CLI sessions ---------------------------------------------------------------------------------

const knownAccounts = new Map();
function rememberAccounts(actors) {
  for (const actor of actors) if (actor.accountId && !knownAccounts.has(actor.accountId)) knownAccounts.set(actor.accountId, actor.email ?? '');
  $('known-accounts').replaceChildren(...[...knownAccounts].map(([id, email]) => h('option', { value: id, label: email })));
}

async function loadSessions() {
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

function wireSessions() {
  $('revoke-all').addEventListener('click', (event) => revokeSessions(null, event.currentTarget));
  $('revoke-account-form').addEventListener('submit', (event) => {
    event.preventDefault();
    revokeSessions($('revoke-account').value.trim(), event.submitter ?? $('revoke-account'));
  });
}

start();
