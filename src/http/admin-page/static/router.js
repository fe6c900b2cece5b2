// @ts-check
// Which screen shows: sign-in, refusal, or one of the organisation's screens by its hash route; and
// errors, of which a lost session goes back to sign-in.
import { SignedOut } from './auth.js';
import { $, hideAlert, say, showAlert } from './dom.js';

/** @typedef {{ id: string, name: string }} Organization */

/** @type {Organization | null} */
let org = null;

/** The organisation whose screens show: they act only while an admin is signed in to one. */
export function currentOrg() {
  if (!org) throw new Error('No organisation is signed in.');
  return org;
}

/** @param {string} screen */
export function showOnly(screen) {
  for (const section of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('main > .screen'))) section.hidden = section.id !== `screen-${screen}`;
}

/** @param {string} [message] */
export function showSignIn(message) {
  org = null;
  $('sections').hidden = true;
  $('sign-out').hidden = true;
  say($('who'), '');
  hideAlert($('page-alert'));
  if (message) showAlert($('signin-error'), null, message);
  else hideAlert($('signin-error'));
  showOnly('signin');
}

/**
 * What loads each screen's data, by its hash route; the first is the default.
 * @typedef {Record<string, () => Promise<void>>} Screens
 */

/** @type {Screens} */
let screens = {};

/**
 * Routes hash changes from now on to `loaders`' screens.
 * @param {Screens} loaders
 */
export function startRouting(loaders) {
  screens = loaders;
  addEventListener('hashchange', () => route(true));
}

/**
 * The signed-in admin's organisation: its screens show, starting with the one in the hash.
 * @param {Organization} organisation
 */
export async function enterOrganisation(organisation) {
  org = organisation;
  $('sections').hidden = false;
  await route(false);
}

/** @param {boolean} moveFocus */
async function route(moveFocus) {
  if (!org) return;
  const names = Object.keys(screens);
  const screen = names.find((name) => location.hash === `#${name}`) ?? names[0];
  for (const link of document.querySelectorAll('#sections a')) {
    if (link.getAttribute('href') === `#${screen}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  showOnly(screen);
  document.title = `${$(`${screen}-title`).textContent} · teamgraph admin`;
  if (moveFocus) $(`${screen}-title`).focus();
  try {
    await screens[screen]();
  } catch (error) {
    reportError($('page-alert'), error, 'The page could not be loaded.');
  }
}

/**
 * Turns an error of an action into text in `element`; a lost session goes back to sign-in.
 * @param {HTMLElement} element
 * @param {unknown} error what the action threw: always an Error
 * @param {string} title
 */
export function reportError(element, error, title) {
  if (error instanceof SignedOut) return showSignIn(error.message);
  showAlert(element, title, /** @type {Error} */ (error).message);
}
