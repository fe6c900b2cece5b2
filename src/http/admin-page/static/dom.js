// @ts-check
// Building the page: the shell's elements, new elements whose every value is text, alerts, status
// text, modal dialogs, and how times and counts are written.

/**
 * The shell's element with this id, as an instance of `type` (HTMLElement when not given). Every
 * id asked for is in admin-page.html: a missing one, or one of another class, is a bug of the page.
 * @template {HTMLElement} [E=HTMLElement]
 * @param {string} id
 * @param {new () => E} [type]
 * @returns {E}
 */
export function $(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof (type ?? HTMLElement))) throw new Error(`The page has no ${type?.name ?? 'element'} #${id}.`);
  return /** @type {E} */ (element);
}

/**
 * Properties of a new element, and `on<event>` listeners whose `currentTarget` is that element; no
 * HTML, as everything goes into the page as text.
 * @template {HTMLElement} E
 * @typedef {{ [name: string]: unknown, innerHTML?: never, outerHTML?: never, onclick?: (event: MouseEvent & { currentTarget: E }) => void, onchange?: (event: Event & { currentTarget: E }) => void }} Props
 */

/** @typedef {Node | string | null | undefined | false} Child */

/**
 * An element with properties (attributes for aria-*, data-* and a few others) and children as text or nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props<HTMLElementTagNameMap[K]>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name.includes('-') || name === 'role' || name === 'for' || name === 'scope' || name === 'list') element.setAttribute(name, value === true ? '' : String(value));
    else /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (element))[name] = value;
  }
  element.append(...children.flat().filter(/** @returns {c is Node | string} */ (c) => c !== null && c !== undefined && c !== false));
  return element;
}

/**
 * @param {HTMLElement} element
 * @param {string | null} title
 * @param {string} message
 */
export function showAlert(element, title, message) {
  element.replaceChildren(...(title ? [h('strong', {}, title)] : []), message);
  element.hidden = false;
}
/** @param {HTMLElement} element */
export function hideAlert(element) {
  element.hidden = true;
  element.replaceChildren();
}
/**
 * @param {HTMLElement} element
 * @param {string} text
 */
export const say = (element, text) => {
  element.textContent = text;
};

/**
 * Opens a modal dialog (the rest of the page is inert meanwhile) and, when it closes, gives focus
 * back to `opener`: an element, or a function finding it again after a re-render.
 * @param {HTMLDialogElement} dialog
 * @param {HTMLElement | (() => HTMLElement | null)} opener
 * @param {HTMLElement} [fallback]
 */
export function openDialog(dialog, opener, fallback = $('main')) {
  dialog.addEventListener(
    'close',
    () => {
      const target = typeof opener === 'function' ? opener() : opener;
      (target?.isConnected && !(/** @type {{ disabled?: boolean }} */ (target).disabled) ? target : fallback).focus();
    },
    { once: true },
  );
  dialog.showModal();
}

/**
 * Asks before a destructive action; resolves true when confirmed.
 * @param {HTMLElement} opener
 * @param {{ title: string, text: string, confirm: string }} question
 * @returns {Promise<boolean>}
 */
export function confirmAction(opener, { title, text, confirm }) {
  const dialog = $('confirm-dialog', HTMLDialogElement);
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

/** @param {string | null | undefined} iso */
export const formatTime = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '');
/**
 * @param {number} n
 * @param {string} one
 */
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
