// Building the page: the shell's elements, new elements whose every value is text, alerts, status
// text, modal dialogs, and how times and counts are written.
export const $ = (id) => document.getElementById(id);

/** An element with properties (attributes for aria-*, data-* and a few others) and children as text or nodes. */
export function h(tag, props = {}, ...children) {
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

export function showAlert(element, title, message) {
  element.replaceChildren(...(title ? [h('strong', {}, title)] : []), message);
  element.hidden = false;
}
export function hideAlert(element) {
  element.hidden = true;
  element.replaceChildren();
}
export const say = (element, text) => {
  element.textContent = text;
};

/**
 * Opens a modal dialog (the rest of the page is inert meanwhile) and, when it closes, gives focus
 * back to `opener`: an element, or a function finding it again after a re-render.
 */
export function openDialog(dialog, opener, fallback = $('main')) {
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
export function confirmAction(opener, { title, text, confirm }) {
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

export const formatTime = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '');
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
