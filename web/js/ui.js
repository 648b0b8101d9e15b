/*
 * ui.js — what every panel shares: the tabs (WAI-ARIA tabs pattern, arrow
 * keys move between them), the status toast, the two dialogs' openers, and
 * the sentence shown for an API error.
 */
import { h, $, $$ } from './dom.js';
import { t } from './i18n.js';
import { can } from './api.js';

export const ui = new EventTarget();
let current = 'needs';

/** Shows the tabs the account may use, and keeps the current one if allowed. */
export function updateTabs() {
  for (const b of $$('[role="tab"]')) {
    const need = b.dataset.need;
    b.hidden = !!need && !can[need]();
  }
  const cur = $(`[role="tab"][data-tab="${current}"]`);
  showTab(cur && !cur.hidden ? current : 'needs', false);
}

export function showTab(name, focus) {
  current = name;
  for (const b of $$('[role="tab"]')) {
    const on = b.dataset.tab === name;
    b.setAttribute('aria-selected', on ? 'true' : 'false');
    b.tabIndex = on ? 0 : -1;
    $('#' + b.getAttribute('aria-controls')).hidden = !on;
    // on a small screen the tabs scroll sideways: the current one is brought into sight
    if (on && b.parentElement.scrollWidth > b.parentElement.clientWidth) b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (on && focus) b.focus();
  }
  ui.dispatchEvent(new CustomEvent('tab', { detail: name }));
}

export function currentTab() { return current; }

export function initTabs() {
  const list = $('[role="tablist"]');
  list.addEventListener('click', (e) => {
    const b = e.target.closest('[role="tab"]');
    if (b) showTab(b.dataset.tab, true);
  });
  list.addEventListener('keydown', (e) => {
    const tabs = $$('[role="tab"]', list).filter((b) => !b.hidden);
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabs.length - 1;
    if (j === null) return;
    e.preventDefault();
    showTab(tabs[j].dataset.tab, true);
  });
}

let toastTimer = null;
/** A short message in the live region; errors stay longer, and so may a notice (ms). */
export function toast(message, isError, ms) {
  const el = $('#toast');
  el.textContent = message;
  el.classList.toggle('error', !!isError);
  el.classList.add('on');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('on'), ms || (isError ? 8000 : 4000));
}

const returnTo = new WeakMap(); // dialog -> the element to give the focus back to when it closes

/**
 * Opens a modal dialog (Escape closes it, as any <dialog>). When it closes,
 * the focus goes back to `from`, by default what had the focus, if it can
 * still take it (shown, and not in a closed dialog). Browsers give it back
 * to what had it too; `from` lets a caller name another element.
 */
export function showDialog(dlg, from = document.activeElement) {
  if (!returnTo.has(dlg)) {
    dlg.addEventListener('close', () => {
      const el = returnTo.get(dlg);
      returnTo.set(dlg, null);
      if (el && el.isConnected && el.getClientRects().length && !el.closest('dialog:not([open])')) el.focus();
    });
  }
  returnTo.set(dlg, from && from !== document.body ? from : null);
  dlg.showModal();
}

export function openLogin() { $('#dlg-login').showModal(); }
export function openRegister() { $('#dlg-register').showModal(); }

/** The sentence for an API error: ours for the common statuses, else the server's detail. */
export function errorText(e) {
  if (!e || e.status === undefined) return t('err_generic');
  if (e.status === 0) return t('err_network');
  if (e.status === 401) return t('err_login');
  if (e.status === 429) return t('err_rate');
  if (e.status === 403 && /CSRF/i.test(e.message)) return t('err_csrf');
  if (e.status >= 500) return t('err_server');
  return e.message;
}

/**
 * A "Show more" button for a list whose first page said more exist (the API
 * pages by cursor): next(cursor) reads the following page as {items, more,
 * cursor}, whose items join ul, rendered by row.
 */
export function moreButton(ul, more, cursor, next, row) {
  const btn = h('button.more', { type: 'button', hidden: !more, onclick: async () => {
    btn.disabled = true;
    try {
      const r = await next(cursor);
      ul.append(...r.items.map(row));
      cursor = r.cursor;
      btn.hidden = !r.more;
    } catch (e) { toast(errorText(e), true); }
    btn.disabled = false;
  } }, t('show_more'));
  return btn;
}
