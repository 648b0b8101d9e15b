/*
 * account.js — log in, register (the home address autocompletes through
 * /api/geocode and a refusal says why), log out, and who is logged in; "My
 * account": the display name, the password and the home changed (PATCH
 * /api/me, the last two with the current password), the account deleted
 * (DELETE /api/me), and the private feed's address made, replaced or
 * revoked (/api/feeds: the address is shown once, when made).
 */
import autocomplete from 'autocompleter';
import { api, qs, session, login, logout, setSession, can } from './api.js';
import { h, $, $$, fill } from './dom.js';
import { t, onLang, fmtDate } from './i18n.js';
import { toast, errorText, openLogin, openRegister } from './ui.js';
import { on } from './events.js';

export function init() {
  $('#btn-login').addEventListener('click', openLogin);
  $('#btn-register').addEventListener('click', openRegister);
  $('#btn-logout').addEventListener('click', async () => { await logout(); toast(t('logged_out')); $('#btn-login').focus(); });
  for (const d of [$('#dlg-login'), $('#dlg-register')])
    $('.close', d).addEventListener('click', () => d.close());
  $('#form-login').addEventListener('submit', submitLogin);
  $('#form-register').addEventListener('submit', submitRegister);
  addressAutocomplete($('#reg-address'));
  initMe();
  on('session', renderWho);
  onLang(renderWho);
  renderWho();
}

function renderWho() {
  const me = session.me;
  $('#btn-login').hidden = !!me;
  $('#btn-register').hidden = !!me;
  $('#btn-logout').hidden = !me;
  $('#btn-me').hidden = !me;
  if (!me && $('#dlg-me').open) $('#dlg-me').close();
  const who = $('#who');
  who.hidden = !me;
  if (me) {
    fill(who, h('strong', null, me.display_name), ' ',
      h('span.role', null, [t('role_' + me.role), me.neighbourhood ? me.neighbourhood.name : null].filter(Boolean).join(' · ')));
  }
}

async function submitLogin(e) {
  e.preventDefault();
  const form = e.target;
  const err = $('.error', form);
  err.hidden = true;
  try {
    const me = await login(form.elements.email.value.trim(), form.elements.password.value);
    form.reset();
    $('#dlg-login').close();
    $('#btn-me').focus(); // where "Log in" was
    toast(t('welcome', { name: me.display_name }));
  } catch (e2) {
    err.textContent = e2.status === 401 ? t('err_wrong_password') : errorText(e2);
    err.hidden = false;
  }
}

/** The reason a registration was refused, in words, with the candidates to pick from. */
function refusal(e, input) {
  const p = e.problem || {};
  const box = [];
  if (e.status === 422 && p.reason) {
    box.push(h('p', null, t('reason_' + p.reason)));
    if (Array.isArray(p.candidates) && p.candidates.length) {
      box.push(h('p', null, t('pick_candidate')));
      box.push(h('ul.mini', null, p.candidates.map((c) => h('li', null, h('button.link', {
        type: 'button', onclick: () => { input.value = c.label; input.focus(); },
      }, c.label)))));
    }
  } else if (e.status === 409) box.push(h('p', null, t('err_email_taken')));
  else box.push(h('p', null, errorText(e))); // the server's words, in the page's language
  return box;
}

async function submitRegister(e) {
  e.preventDefault();
  const form = e.target;
  const err = $('.error', form);
  err.hidden = true;
  const body = {
    email: form.elements.email.value.trim(), password: form.elements.password.value,
    display_name: form.elements.display_name.value.trim(), address: form.elements.address.value.trim(),
  };
  try {
    const r = await api('POST', '/api/members', body);
    await login(body.email, body.password);
    form.reset();
    $('#dlg-register').close();
    $('#btn-me').focus();
    toast(t('registered', { name: r.display_name, nb: r.neighbourhood.name }));
  } catch (e2) {
    err.dataset.reason = (e2.problem && e2.problem.reason) || String(e2.status);
    fill(err, ...refusal(e2, form.elements.address));
    err.hidden = false;
  }
}

/* ---- My account ---- */

function initMe() {
  const d = $('#dlg-me');
  $('#btn-me').addEventListener('click', () => {
    for (const f of $$('form', d)) { f.reset(); for (const m of $$('.error, .done', f)) m.hidden = true; }
    $('#form-me-name').elements.display_name.value = session.me.display_name;
    $('#me-email').textContent = t('me_logged_as', { email: session.me.email });
    // staff accounts are removed by an administrator
    $('#form-me-delete').hidden = can.staff();
    $('#me-staff').hidden = !can.staff();
    d.showModal();
    feedState();
  });
  $('#btn-feed-new').addEventListener('click', feedNew);
  $('#btn-feed-revoke').addEventListener('click', feedRevoke);
  $('.close', d).addEventListener('click', () => d.close());
  addressAutocomplete($('#me-address'));
  meForm('#form-me-name', 'PATCH', (f) => ({ display_name: f.display_name.value.trim() }), (r) => {
    session.me.display_name = r.display_name;
    renderWho();
    return t('me_name_saved');
  });
  meForm('#form-me-password', 'PATCH', (f) => ({ password: f.password.value, new_password: f.new_password.value }),
    () => t('me_password_saved'));
  meForm('#form-me-home', 'PATCH', (f) => ({ address: f.address.value.trim(), password: f.password.value }), async (r) => {
    // what depends on the neighbourhood (the map, the list, the tabs) follows the session
    setSession(await api('GET', '/api/me'));
    return t('me_home_saved', { nb: r.neighbourhood.name });
  });
  meForm('#form-me-delete', 'DELETE', (f) => confirm(t('me_delete_confirm')) && { password: f.password.value }, () => {
    setSession(null, null); // the server ended every session of the account
    $('#btn-login').focus();
    toast(t('me_deleted'));
  });
}

/* ---- the private feed ---- */

/** Shows whether a feed address is active; `made`: the address just made, shown this once. */
async function feedState(made = null) {
  const box = $('#me-feed'), err = $('.error', box);
  err.hidden = true;
  $('#me-feed-url-label').hidden = !made;
  if (made) $('#me-feed-url').value = made;
  try {
    const st = await api('GET', '/api/feeds');
    $('#me-feed-state').textContent = made ? t('me_feed_made')
      : st.active ? t('me_feed_active', { date: fmtDate(st.created_at) }) : t('me_feed_none');
    $('#btn-feed-new').textContent = t(st.active ? 'me_feed_replace' : 'me_feed_new');
    $('#btn-feed-revoke').hidden = !st.active;
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

async function feedNew() {
  try {
    const r = await api('POST', '/api/feeds');
    await feedState(r.url);
    $('#me-feed-url').focus();
    $('#me-feed-url').select();
  } catch (e) {
    const err = $('.error', $('#me-feed'));
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

async function feedRevoke() {
  if (!confirm(t('me_feed_revoke_confirm'))) return;
  try {
    await api('DELETE', '/api/feeds');
    await feedState();
    $('#me-feed-state').textContent = t('me_feed_revoked');
    $('#btn-feed-new').focus();
  } catch (e) {
    const err = $('.error', $('#me-feed'));
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

/** One form of "My account": body(elements) is what is sent (false: nothing), done(answer) the message shown. */
function meForm(sel, method, body, done) {
  const form = $(sel);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = $('.error', form), ok = $('.done', form), b = body(form.elements);
    err.hidden = ok.hidden = true;
    if (!b) return;
    try {
      const msg = await done(await api(method, '/api/me', b));
      for (const i of $$('input[type=password]', form)) i.value = '';
      ok.textContent = msg || '';
      ok.hidden = !msg;
    } catch (e2) {
      err.dataset.reason = (e2.problem && e2.problem.reason) || String(e2.status);
      fill(err, ...refusal(e2, form.elements.address));
      err.hidden = false;
    }
  });
}

/** Suggestions from the geocoder under an address field, completing the word being typed. */
export function addressAutocomplete(input) {
  const wrap = h('div.ac-wrap');
  input.replaceWith(wrap);
  const list = h('div.ac-list');
  wrap.append(input, list);
  // Escape closes the suggestions first; with none shown or on their way, it
  // is the dialog's (the library would take every Escape, and the dialog
  // could not be closed from this field).
  let asking = false;
  input.addEventListener('input', () => { asking = input.value.length >= 3; });
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (asking || input.getAttribute('aria-expanded') === 'true') asking = false;
    else e.stopImmediatePropagation();
  });
  const settings = {
    input, container: list, minLength: 3, debounceWaitMs: 200, preventSubmit: 2,
    emptyMsg: t('no_address_match'),
    fetch: async (text, update) => {
      try {
        // autocomplete=1: the last word may be the first letters of a word being typed
        const r = await api('GET', '/api/geocode' + qs({ q: text, limit: 6, autocomplete: 1 }));
        update(r.filter((x) => x.type !== 'none'));
      } catch { update([]); }
    },
    render: (item) => h('div.ac-item', null, h('span', null, item.label),
      h('small', null, item.neighbourhood ? item.neighbourhood.name : t('outside_all'))),
    onSelect: (item) => { asking = false; input.value = item.label; input.dispatchEvent(new Event('change')); },
    // In the flow under the field rather than floating: inside a dialog, a
    // floating list would be cut at the dialog's edge.
    customize: (inp, rect, container) => {
      Object.assign(container.style, { position: 'static', top: '', left: '', width: 'auto', maxHeight: '16rem' });
    },
  };
  autocomplete(settings);
  onLang(() => { settings.emptyMsg = t('no_address_match'); });
}
