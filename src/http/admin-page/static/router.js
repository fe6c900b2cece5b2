// Which screen shows: sign-in, refusal, or one of the organisation's screens by its hash route; and
// errors, of which a lost session goes back to sign-in.
import { SignedOut } from './auth.js';
import { $, hideAlert, say, showAlert } from './dom.js';

export let org = null;

export function showOnly(screen) {
  for (const section of document.querySelectorAll('main > .screen')) section.hidden = section.id !== `screen-${screen}`;
}

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

/** What loads each screen's data, by its hash route; the first is the default. */
let screens = {};

/** Routes hash changes from now on to `loaders`' screens. */
export function startRouting(loaders) {
  screens = loaders;
  addEventListener('hashchange', () => route(true));
}

/** The signed-in admin's organisation: its screens show, starting with the one in the hash. */
export async function enterOrganisation(organisation) {
  org = organisation;
  $('sections').hidden = false;
  await route(false);
}

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

/** Turns an error of an action into text in `element`; a lost session goes back to sign-in. */
export function reportError(element, error, title) {
  if (error instanceof SignedOut) return showSignIn(error.message);
  showAlert(element, title, error.message);
}
