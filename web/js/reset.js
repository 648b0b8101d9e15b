/*
 * reset.js — a forgotten password. From the login dialog, the member asks
 * for a link (POST /api/password-resets: the same answer whether or not the
 * email has an account). The link, "/#reset=TOKEN", reaches them through
 * staff for now (the moderation tab lists it) and later by mail; opening it
 * shows the second form, which sets the new password (POST
 * /api/password-resets/complete), then the login dialog. The token is taken
 * out of the address bar at once, so it stays in neither history nor a
 * screenshot.
 */
import { api } from './api.js';
import { $ } from './dom.js';
import { errorText, openLogin, toast } from './ui.js';
import { t } from './i18n.js';

let token = null;

export function init() {
  const dlg = $('#dlg-reset');
  for (const b of dlg.querySelectorAll('.close')) b.addEventListener('click', () => dlg.close());
  $('#btn-forgot').addEventListener('click', () => {
    const email = $('#form-login').elements.email.value;
    $('#dlg-login').close();
    show('ask');
    $('#form-reset-ask').elements.email.value = email;
  });
  $('#form-reset-ask').addEventListener('submit', ask);
  $('#form-reset-new').addEventListener('submit', complete);
}

function show(which) {
  for (const f of [$('#form-reset-ask'), $('#form-reset-new')]) {
    f.hidden = f.id !== 'form-reset-' + which;
    for (const m of f.querySelectorAll('.error, .done')) m.hidden = true;
    f.querySelector('button[type=submit]').disabled = false;
  }
  $('#dlg-reset').showModal();
}

/** Opens the form of a link's token (from #reset=TOKEN), taken out of the address. */
export function openLink(value) {
  token = value;
  history.replaceState(null, '', location.pathname + location.search);
  $('#form-reset-new').reset();
  show('new');
}

async function ask(e) {
  e.preventDefault();
  const form = e.target, err = form.querySelector('.error'), done = form.querySelector('.done');
  err.hidden = done.hidden = true;
  try {
    await api('POST', '/api/password-resets', { email: form.elements.email.value.trim() });
    done.hidden = false;
    form.querySelector('button[type=submit]').disabled = true;
  } catch (e2) { err.textContent = errorText(e2); err.hidden = false; }
}

async function complete(e) {
  e.preventDefault();
  const form = e.target, err = form.querySelector('.error');
  err.hidden = true;
  try {
    const r = await api('POST', '/api/password-resets/complete', { token, new_password: form.elements.new_password.value });
    token = null;
    form.reset();
    $('#dlg-reset').close();
    $('#form-login').elements.email.value = r.email;
    openLogin();
    toast(t('reset_done'));
  } catch (e2) {
    err.textContent = e2.status === 404 ? t('reset_link_dead') : errorText(e2);
    err.hidden = false;
  }
}
