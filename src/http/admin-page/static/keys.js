// @ts-check
// The admin API keys screen: the organisation's keys with their state, creating one (its secret
// shown this once, with a copy button) and revoking one.
import { gql } from './auth.js';
import { $, confirmAction, formatTime, h, hideAlert, say } from './dom.js';
import { currentOrg, reportError } from './router.js';

/**
 * @typedef {{ id: string, name: string, createdAt: string, expiresAt: string | null, revokedAt: string | null, lastUsedAt: string | null,
 *   createdBy: { email: string, active: boolean, isOrgAdmin: boolean } | null }} AdminApiKey
 */

const KEY_FIELDS = 'id name createdAt expiresAt revokedAt lastUsedAt createdBy { email active isOrgAdmin }';
const DAY_MS = 86_400_000;

export async function loadKeys() {
  hideAlert($('keys-error'));
  forgetSecret();
  await renderKeys();
}

async function renderKeys() {
  const { organization } = /** @type {{ organization: { adminApiKeys: AdminApiKey[] } }} */ (
    await gql(`query AdminApiKeys($id: ID!) { organization(id: $id) { adminApiKeys { ${KEY_FIELDS} } } }`, { id: currentOrg().id })
  );
  const keys = organization.adminApiKeys;
  $('keys-empty').hidden = keys.length > 0;
  $('key-rows').replaceChildren(
    ...keys.map((key) => {
      const state = stateOf(key);
      return h(
        'tr',
        {},
        h('td', {}, key.name, h('br'), h('code', { className: 'muted' }, key.id)),
        h('td', {}, key.createdBy?.email ?? ''),
        h('td', {}, formatTime(key.createdAt)),
        h('td', {}, key.expiresAt ? formatTime(key.expiresAt) : 'Never'),
        h('td', {}, key.lastUsedAt ? formatTime(key.lastUsedAt) : 'Never'),
        h('td', { className: state.works ? 'key-works' : 'key-stopped' }, state.text),
        h('td', {}, key.revokedAt ? null : h('button', { type: 'button', className: 'danger', 'aria-label': `Revoke key ${key.name}`, 'aria-haspopup': 'dialog', onclick: (event) => revokeKey(key, event.currentTarget) }, 'Revoke…')),
      );
    }),
  );
}

/**
 * Whether the key works now, and why not (PRODUCT §5: a key acts for its creator, so it stops with them).
 * @param {AdminApiKey} key
 */
function stateOf(key) {
  if (key.revokedAt) return { works: false, text: `Revoked ${formatTime(key.revokedAt)}` };
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return { works: false, text: 'Expired' };
  if (!key.createdBy?.active) return { works: false, text: 'Not working: its creator is deactivated' };
  if (!key.createdBy.isOrgAdmin) return { works: false, text: 'Not working: its creator is no longer an admin' };
  return { works: true, text: 'Active' };
}

/** The secret leaves the page once the admin has stored it, or leaves the screen. */
function forgetSecret() {
  $('key-secret-value', HTMLInputElement).value = '';
  say($('key-copy-status'), '');
  $('key-secret').hidden = true;
}

/** @param {SubmitEvent} event */
async function createKey(event) {
  event.preventDefault();
  const form = $('key-form', HTMLFormElement);
  const name = $('key-name', HTMLInputElement).value.trim();
  const days = $('key-expiry', HTMLSelectElement).value;
  hideAlert($('keys-error'));
  say($('keys-status'), '');
  try {
    const { createAdminApiKey } = /** @type {{ createAdminApiKey: { secret: string, apiKey: AdminApiKey } }} */ (
      await gql(`mutation AdminCreateApiKey($input: CreateAdminApiKeyInput!) { createAdminApiKey(input: $input) { secret apiKey { ${KEY_FIELDS} } } }`, {
        input: { orgId: currentOrg().id, name, ...(days ? { expiresAt: new Date(Date.now() + Number(days) * DAY_MS).toISOString() } : {}) },
      })
    );
    form.reset();
    $('key-secret-value', HTMLInputElement).value = createAdminApiKey.secret;
    say($('key-secret-name'), `Key "${createAdminApiKey.apiKey.name}" is created.`);
    $('key-secret').hidden = false;
    $('key-secret-title').focus();
    await renderKeys();
  } catch (error) {
    reportError($('keys-error'), error, 'No key was created.');
  }
}

async function copySecret() {
  const input = $('key-secret-value', HTMLInputElement);
  try {
    await navigator.clipboard.writeText(input.value);
    say($('key-copy-status'), 'Copied to the clipboard.');
  } catch {
    // The clipboard may be refused (permissions, no secure context): the person copies it by hand.
    input.select();
    say($('key-copy-status'), 'The page may not write to the clipboard here: the key is selected, copy it with Ctrl+C (⌘C on a Mac).');
  }
}

/**
 * @param {AdminApiKey} key
 * @param {HTMLElement} opener
 */
async function revokeKey(key, opener) {
  const confirmed = await confirmAction(opener, {
    title: 'Revoke this admin API key?',
    text: `Key "${key.name}" stops working at once: every script and twg admin command using it is refused from its next request. This cannot be undone; create a new key to replace it.`,
    confirm: 'Revoke key',
  });
  if (!confirmed) return;
  hideAlert($('keys-error'));
  say($('keys-status'), '');
  try {
    await gql('mutation AdminRevokeApiKey($input: RevokeAdminApiKeyInput!) { revokeAdminApiKey(input: $input) { apiKey { id revokedAt } } }', { input: { orgId: currentOrg().id, id: key.id } });
    await renderKeys();
    say($('keys-status'), `Key "${key.name}" is revoked.`);
    // Its button is gone with the revocation: the list it was in keeps the focus.
    $('keys-list-title').focus();
  } catch (error) {
    reportError($('keys-error'), error, 'The key was not revoked.');
  }
}

export function wireKeys() {
  $('key-form', HTMLFormElement).addEventListener('submit', createKey);
  $('key-copy').addEventListener('click', copySecret);
  $('key-secret-done').addEventListener('click', () => {
    forgetSecret();
    $('key-name').focus();
  });
}
