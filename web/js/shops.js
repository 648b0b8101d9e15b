/*
 * shops.js — shops for everyone (a popup on the map, a list of the shops in
 * view), and the owner's panel: claim a shop (staff approve the claim), or
 * add one, then mark it open,
 * closed, delivery only or takeaway only, with delivery, takeaway, gift cards
 * and opening hours. Saving confirms the status for today; a status older
 * than 7 days is shown as unconfirmed (the API's `confirmed`). The list of
 * the shops in view follows changes of shops (events.js), the live
 * stream's among them.
 */
import { api, qs, can } from './api.js';
import { h, $, fill, swatch } from './dom.js';
import { t, lang, fmtDate, fmtDistance, onLang, isToday, shopKind } from './i18n.js';
import { parseHours, describe, nowText } from './hours.js';
import * as M from './map.js';
import { toast, errorText, showTab, ui, currentTab } from './ui.js';
import { addressAutocomplete } from './account.js';
import { on, changed, coalesce } from './events.js';

const STATUSES = ['open', 'closed', 'delivery_only', 'takeaway_only'];
let listFilter = '';
let focusShop = null;     // the shop whose form the owner's panel opens on
let ownerSeq = 0;         // only the latest render of the owner's panel is shown

export function init() {
  M.mapEvents.addEventListener('shop', (e) => openShop(e.detail.id, e.detail.lngLat));
  M.mapEvents.addEventListener('moved', () => { if (currentTab() === 'shops') renderList(); });
  ui.addEventListener('tab', (e) => {
    if (e.detail === 'shops') renderList();
    if (e.detail === 'myshop') { renderOwner(focusShop); focusShop = null; }
  });
  on('session', () => { if (currentTab() === 'myshop') renderOwner(); });
  // a shop's status changed (here, or by its owner or staff elsewhere: the live stream)
  on('shop', coalesce(() => { if (currentTab() === 'shops') renderList(); }));
  onLang(() => { if (currentTab() === 'shops') renderList(); if (currentTab() === 'myshop') renderOwner(); });
}

export function statusLine(p) {
  if (p.status === 'unknown') return t('shop_unknown');
  const s = t('shop_' + p.status);
  return p.confirmed ? s : t('shop_unconfirmed', { status: s });
}

function confirmedLine(p) {
  if (!p.confirmed_at) return t('never_confirmed');
  if (!p.confirmed) return t('confirmed_stale', { date: fmtDate(p.confirmed_at, true) });
  return isToday(p.confirmed_at) ? t('confirmed_today') : t('confirmed_on', { date: fmtDate(p.confirmed_at, true) });
}

function shopSwatch(p) {
  const c = M.COLORS[p.status] || M.COLORS.unknown;
  return swatch('circle', c, p.status === 'unknown' ? '#6E6E6E' : c, !p.confirmed || p.status === 'unknown');
}

/* What a status says of the services: closed, neither delivery nor takeaway;
 * delivery only, delivery and no takeaway; takeaway only, the reverse. Other
 * statuses say nothing, and the shop's own flags are read. The API keeps the
 * two in step; a shop saved before it did is read through the status too. */
const IMPLIED = {
  closed: { delivers: false, takeaway: false },
  delivery_only: { delivers: true, takeaway: false },
  takeaway_only: { delivers: false, takeaway: true },
};

export function services(p) {
  return IMPLIED[p.status] || { delivers: !!p.delivers, takeaway: !!p.takeaway };
}

/** The services to show beside the status line: never one it contradicts, nor one it already says. */
function flags(p) {
  const s = services(p);
  const said = IMPLIED[p.status] ? {} : s;
  return [said.delivers && t('delivers'), said.takeaway && t('takeaway'), p.gift_cards && t('gift_cards')].filter(Boolean);
}

/* The opening hours in the reader's language, a line a set of days, and
 * whether the shop is open now by the reader's clock; a closed status says
 * enough and wins. Hours outside what hours.js reads are shown as written,
 * with no claim. */
function hoursLines(p) {
  const label = h('span.label', null, t('opening_hours') + t('colon'));
  const week = parseHours(p.opening_hours);
  if (!week) return h('p.shop-hours', null, label, h('code', null, p.opening_hours));
  return [h('p.shop-hours', { title: p.opening_hours }, label, describe(week, lang(), t).map((l) => [h('br'), l])),
    p.status === 'closed' ? null : h('p.shop-now', null, nowText(week, new Date(), lang(), t))];
}

function addressText(a) {
  if (!a) return '';
  return [[a.housenumber, a.street].filter(Boolean).join(' '), [a.postcode, a.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
}

/** The popup of one shop, read fresh from the API. */
export async function openShop(id, lngLat) {
  let f;
  try { f = await api('GET', `/api/shops/${id}`); } catch (e) { toast(errorText(e), true); return; }
  const p = f.properties;
  const actions = [];
  if (can.shop() && !p.owned) {
    const pending = (await myClaims()).find((c) => c.shop.id === id && c.status === 'pending');
    actions.push(pending ? h('p.hint.claim-pending', null, t('claim_pending'))
      : h('button.primary', { type: 'button', onclick: (e) => e.currentTarget.replaceWith(claimForm(id)) }, t('this_is_my_shop')));
  }
  if (p.mine) actions.push(h('button.primary', { type: 'button', onclick: () => { M.closePopup(); focusShop = id; showTab('myshop', true); } }, t('update_status')));
  const node = h('div.popup.shop-popup', { 'data-shop': id },
    h('h3', null, p.name || t('shop_no_name')),
    h('p.hint', null, shopKind(p.shop)),
    h('p.shop-status', null, shopSwatch(p), ' ', h('strong', null, statusLine(p))),
    flags(p).length ? h('p.shop-flags', null, flags(p).join(' · ')) : null,
    h('p.hint.shop-confirmed', null, confirmedLine(p)),
    p.opening_hours ? hoursLines(p) : null,
    addressText(p.address) ? h('p.hint', null, addressText(p.address)) : null,
    actions.length ? h('div.row', null, actions) : null);
  M.showPopup(lngLat || f.geometry.coordinates, node);
}

/** The account's own claims (GET /api/shop-claims), [] when they cannot be read. */
async function myClaims() {
  try { return (await api('GET', '/api/shop-claims')).claims; } catch { return []; }
}

/** Asking to manage a shop: a note for staff, who check with the shop and approve. */
function claimForm(id) {
  const note = h('textarea', { name: 'note', rows: 2, maxlength: 500, placeholder: t('claim_note_placeholder') });
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form.stack.claim-form', { onsubmit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    try {
      const c = await api('POST', `/api/shops/${id}/claim`, { note: note.value.trim() });
      form.replaceWith(h('p.hint.claim-pending', { role: 'status' }, t('claim_pending')));
      toast(t('claim_sent'));
      if (c && c.id) changed({ kind: 'shop_claim', id: c.id, action: 'create' }); // none when already the account's
    } catch (e2) { err.textContent = errorText(e2); err.hidden = false; }
  } },
  h('label', null, h('span', null, t('claim_note')), note), err,
  h('div.row', null, h('button.primary', { type: 'submit' }, t('claim_send'))));
  return form;
}

/* ---- the shops in view ---- */

async function renderList() {
  const pane = $('#pane-shops');
  // The list is drawn again as the map moves: the keyboard focus stays on
  // the same shop, or on the filter.
  const had = pane.contains(document.activeElement) ? document.activeElement : null;
  const keep = had && (had.dataset.shop ? `button[data-shop="${had.dataset.shop}"]` : had.tagName === 'SELECT' ? 'select' : null);
  const show = (...children) => {
    fill(pane, ...children);
    const el = keep && $(keep, pane);
    if (el && (!document.activeElement || document.activeElement === document.body)) el.focus();
  };
  const v = M.viewQuery();
  const [w, s, e, n] = v.bbox;
  const sel = h('select', { onchange: (ev) => { listFilter = ev.target.value; renderList(); } },
    [['', t('all')], ['open', t('shop_open')], ['delivery_only', t('shop_delivery_only')],
      ['takeaway_only', t('shop_takeaway_only')], ['closed', t('shop_closed')], ['delivers', t('delivers')]]
      .map(([val, label]) => h('option', { value: val, selected: val === listFilter }, label)));
  const head = [h('h2.pane-title', null, t('shops_in_view')), h('label', null, h('span', null, t('show')), sel)];
  if ((e - w) * (n - s) > 1) { show(...head, h('p.empty', null, t('zoom_in_shops'))); return; }
  let fc;
  try {
    fc = await api('GET', '/api/shops' + qs({ bbox: [w, s, e, n].map((x) => x.toFixed(6)).join(','), limit: 1000,
      status: listFilter && listFilter !== 'delivers' ? listFilter : '' }));
  } catch (err) { show(...head, h('p.error', null, errorText(err))); return; }
  const [cx, cy] = v.center;
  const k = Math.cos(cy * Math.PI / 180);
  const dist = (f) => Math.hypot((f.geometry.coordinates[0] - cx) * k, f.geometry.coordinates[1] - cy) * 111195;
  let shops = fc.features.filter((f) => listFilter !== 'delivers' || services(f.properties).delivers);
  shops.sort((a, b) => dist(a) - dist(b));
  const total = shops.length;
  shops = shops.slice(0, 60);
  show(...head,
    h('p.hint', null, t('n_shops', { n: total })),
    // More than a page in view (the API says so): the nearest of those read only.
    fc.more ? h('p.hint', null, t('more_shops_zoom', { n: fc.numberMatched })) : null,
    h('ul.cards', null, shops.map((f) => {
      const p = f.properties;
      return h('li', null, h('button.card', { type: 'button', 'data-shop': p.id, onclick: () => { M.flyTo(f.geometry.coordinates, 16.5); openShop(p.id, f.geometry.coordinates); } },
        shopSwatch(p),
        h('span.card-main', null, h('span.card-title', null, p.name || t('shop_no_name')),
          h('span.card-meta', null, [shopKind(p.shop), statusLine(p), ...flags(p), fmtDistance(dist(f))].join(' · ')))));
    })));
}

/* ---- the owner's panel ---- */

/** The account's own shops, every page of them (after=ID). */
async function myShops() {
  const out = [];
  for (let after = 0, more = true; more;) {
    const fc = await api('GET', '/api/shops' + qs({ mine: 1, limit: 1000, after }));
    out.push(...fc.features);
    [more, after] = [fc.more, fc.next_after];
  }
  return out;
}

/** The account's claims still waiting or turned down (an approved one is a shop above). */
function claimsSection(claims) {
  const open = claims.filter((c) => c.status === 'pending' || c.status === 'rejected');
  if (!open.length) return null;
  return h('section.my-claims', null, h('h3', null, t('my_claims')),
    h('ul.mini', null, open.map((c) => h('li', { 'data-claim': c.id },
      h('strong', null, c.shop.name || t('shop_no_name')), ' — ', t('claim_' + c.status),
      c.decided_at ? ' (' + fmtDate(c.decided_at) + ')' : ''))));
}

export async function renderOwner(focusId) {
  const pane = $('#pane-myshop');
  if (!can.shop()) { fill(pane); return; }
  const seq = ++ownerSeq;
  fill(pane, h('p.hint', { role: 'status' }, t('loading')));
  let shops, claims;
  try { [shops, claims] = await Promise.all([myShops(), myClaims()]); } catch (e) { fill(pane, h('p.error', null, errorText(e))); return; }
  if (seq !== ownerSeq) return;
  fill(pane,
    h('h2.pane-title', null, t('my_shops')),
    shops.length === 0 ? h('p', null, t('no_shop_yet')) : null,
    claimsSection(claims),
    shops.map((f) => shopForm(f)),
    addShopForm());
  if (focusId) {
    const el = $(`[data-shop-form="${focusId}"]`, pane);
    if (el) { el.scrollIntoView({ block: 'start' }); $('input', el).focus(); }
  }
}

function shopForm(f) {
  const p = f.properties;
  const err = h('p.error', { role: 'alert', hidden: true });
  const conf = h('p.confirmed-line', { role: 'status' }, shopSwatch(p), ' ', statusLine(p), ' — ', confirmedLine(p));
  // The services follow the status: a status that implies them ticks and
  // locks their boxes; back to open, the boxes are the owner's choice again.
  const chosen = services(p);
  const implied = h('small.hint.services-implied', { 'aria-live': 'polite' });
  const follow = () => {
    const el = form.elements;
    const rule = IMPLIED[el.status.value];
    for (const name of ['delivers', 'takeaway']) {
      el[name].disabled = !!rule;
      el[name].checked = rule ? rule[name] : chosen[name];
    }
    implied.textContent = rule ? t('services_implied_' + el.status.value) : '';
    implied.hidden = !rule;
  };
  const radio = (s) => h('label.inline', null,
    h('input', { type: 'radio', name: 'status', value: s, checked: p.status === s, required: true, onchange: follow }), ' ', t('shop_' + s));
  const box = (name) => h('label.inline', null, h('input', { type: 'checkbox', name, checked: name === 'gift_cards' ? !!p[name] : chosen[name],
    onchange: (e) => { if (name in chosen && !e.target.disabled) chosen[name] = e.target.checked; } }), ' ', t(name));
  const form = h('form.stack.shop-form', { 'data-shop-form': p.id, onsubmit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    const el = form.elements;
    const body = { delivers: el.delivers.checked, takeaway: el.takeaway.checked, gift_cards: el.gift_cards.checked,
      opening_hours: el.opening_hours.value.trim() };
    if (el.status.value) body.status = el.status.value;
    try {
      const g = await api('PATCH', `/api/shops/${p.id}`, body);
      form.replaceWith(shopForm(g));
      toast(t('shop_saved'));
      changed({ kind: 'shop', id: p.id, action: 'edit' });
    } catch (e2) { err.textContent = errorText(e2); err.hidden = false; }
  } },
  h('h3', null, p.name || t('shop_no_name'), ' ', h('small', null, shopKind(p.shop))),
  conf,
  h('fieldset', null, h('legend', null, t('shop_status_q')), STATUSES.map(radio)),
  h('fieldset', null, h('legend', null, t('services')), ['delivers', 'takeaway', 'gift_cards'].map(box), implied),
  h('label', null, h('span', null, t('opening_hours')),
    h('input', { type: 'text', name: 'opening_hours', maxlength: 255, value: p.opening_hours || '', placeholder: 'Mo-Sa 08:00-20:00; Su off' }),
    h('small', null, t('opening_hours_hint'))),
  err,
  h('div.row', null,
    h('button.primary', { type: 'submit' }, t('save_confirm')),
    h('button', { type: 'button', onclick: () => { M.flyTo(f.geometry.coordinates, 17); openShop(p.id, f.geometry.coordinates); } }, t('show_on_map'))));
  follow();
  return form;
}

function addShopForm() {
  const err = h('p.error', { role: 'alert', hidden: true });
  const address = h('input', { type: 'text', name: 'address', required: true, maxlength: 512, autocomplete: 'off' });
  const form = h('form.stack', { onsubmit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    const el = form.elements;
    const body = { name: el.name.value.trim(), shop: el.shop.value.trim(), address: el.address.value.trim() };
    if (el.opening_hours.value.trim()) body.opening_hours = el.opening_hours.value.trim();
    try {
      const g = await api('POST', '/api/shops', body);
      toast(t('shop_added'));
      changed({ kind: 'shop', id: g.properties.id, action: 'create' });
      M.flyTo(g.geometry.coordinates, 17);
      renderOwner(g.properties.id);
    } catch (e2) {
      // An address the geocoder refuses is said in the page's language.
      const key = 'shop_reason_' + (e2.status === 422 && e2.problem && e2.problem.reason);
      err.textContent = t(key) !== key ? t(key) : errorText(e2);
      err.hidden = false;
    }
  } },
  h('p.hint', null, t('claim_hint')),
  h('label', null, h('span', null, t('shop_name')), h('input', { type: 'text', name: 'name', required: true, maxlength: 200 })),
  h('label', null, h('span', null, t('shop_type')), h('input', { type: 'text', name: 'shop', required: true, maxlength: 63, placeholder: 'bakery' })),
  h('label', null, h('span', null, t('address')), address),
  h('label', null, h('span', null, t('opening_hours')), h('input', { type: 'text', name: 'opening_hours', maxlength: 255 })),
  err,
  h('button', { type: 'submit' }, t('add_shop')));
  addressAutocomplete(address);
  return h('details.add-shop', null, h('summary', null, t('add_my_shop')), form);
}

export { shopKind };
