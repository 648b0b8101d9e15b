/*
 * makers.js — mask makers: a maker's profile (capacity, stock, materials
 * needed) and incoming order book with its status changes; for neighbours,
 * the makers they may see and the orders they placed.
 */
import { api, session, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t, fmtDate, onLang } from './i18n.js';
import * as M from './map.js';
import { toast, errorText, showTab, ui, currentTab, moreButton } from './ui.js';
import { on, changed } from './events.js';

const NEXT = { pending: ['accepted', 'declined'], accepted: ['ready', 'declined'], ready: ['delivered'] };
let focusMaker = null;

export function init() {
  ui.addEventListener('tab', (e) => { if (e.detail === 'masks') render(); });
  on('session', () => { if (currentTab() === 'masks') render(); });
  // the order book and the orders placed
  on('order', () => { if (currentTab() === 'masks') render(); });
  onLang(() => { if (currentTab() === 'masks') render(); });
  M.mapEvents.addEventListener('maker', (e) => makerPopup(e.detail));
  M.mapEvents.addEventListener('makercluster', (e) => {
    const map = M.getMap();
    map.easeTo({ center: e.detail.lngLat, zoom: Math.min(map.getZoom() + 2, 17) });
  });
}

function makerPopup({ id, lngLat, props }) {
  const materials = (props.materials || '').split(',').map((s) => s.trim()).filter(Boolean);
  const node = h('div.popup', null,
    h('h3', null, props.display_name),
    h('p', null, t('maker_line', { n: props.capacity_per_day, cap: props.capacity_per_day, stock: props.stock })),
    materials.length ? h('p', null, t('materials_needed'), t('colon'), materials.join(', ')) : null,
    props.materials_post && session.me ? h('button', { type: 'button', 'data-materials': props.materials_post, onclick: () => {
      M.closePopup(); M.mapEvents.dispatchEvent(new CustomEvent('need', { detail: { id: Number(props.materials_post), lngLat } }));
    } }, t('see_materials_request')) : null,
    session.me && session.me.id !== id ? h('button.primary', { type: 'button', onclick: () => {
      M.closePopup(); focusMaker = id; showTab('masks', true);
    } }, t('order_masks')) : null);
  M.showPopup(lngLat, node);
}

export async function render() {
  const pane = $('#pane-masks');
  if (!session.me) { fill(pane); return; }
  const [mine, makers, orders] = await Promise.all([
    api('GET', '/api/makers/me').catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    api('GET', '/api/makers'),
    api('GET', '/api/orders'),
  ]).catch((e) => { fill(pane, h('p.error', null, errorText(e))); return []; });
  if (makers === undefined) return;
  fill(pane,
    can.home() ? profileSection(mine) : null,
    mine ? orderBook(mine.properties) : null,
    makersSection(makers),
    myOrders(orders));
  if (focusMaker !== null) {
    const id = focusMaker;
    focusMaker = null;
    let el = $(`[data-maker="${id}"]`, pane);
    if (!el && makers.more) { // past the first page: that maker alone, first in the list
      const r = await api('GET', `/api/makers?after=${id - 1}&limit=1`).catch(() => null);
      const f = r && r.features.find((x) => x.id === id);
      const ul = $('section[aria-labelledby="makers-title"] ul.cards', pane);
      if (f && ul) { ul.prepend(makerCard(f)); el = $(`[data-maker="${id}"]`, pane); }
    }
    if (el) { el.open = true; el.scrollIntoView({ block: 'start' }); $('input', el).focus(); }
  }
}

function profileSection(mine) {
  const p = mine ? mine.properties : { capacity_per_day: 0, stock: 0, materials: [] };
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form#form-maker.stack', { onsubmit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    const el = form.elements;
    const materials = el.materials.value.split(',').map((s) => s.trim()).filter(Boolean);
    try {
      await api('PUT', '/api/makers/me', { capacity_per_day: Number(el.capacity_per_day.value), stock: Number(el.stock.value), materials });
      toast(t('maker_saved'));
      changed({ kind: 'maker', id: session.me.id, action: 'edit' });
      render();
    } catch (e2) { err.textContent = errorText(e2); err.hidden = false; }
  } },
  h('h2.pane-title', null, mine ? t('my_maker_profile') : t('become_maker')),
  mine ? null : h('p.hint', null, t('become_maker_hint')),
  h('div.row', null,
    h('label', null, h('span', null, t('capacity_per_day')), h('input', { type: 'number', name: 'capacity_per_day', min: 0, max: 100000, required: true, value: String(p.capacity_per_day) })),
    h('label', null, h('span', null, t('stock')), h('input', { type: 'number', name: 'stock', min: 0, max: 1000000, required: true, value: String(p.stock) }))),
  h('label', null, h('span', null, t('materials_needed')),
    h('input', { type: 'text', name: 'materials', value: (p.materials || []).join(', '), placeholder: t('materials_placeholder') }),
    h('small', null, t('materials_hint'))),
  err,
  h('button.primary', { type: 'submit' }, mine ? t('save') : t('become_maker')));
  return h('section', null, form);
}

function orderLine(o, who) {
  return [t('n_masks', { n: o.quantity }), who, t('order_' + o.status), fmtDate(o.created_at)].filter(Boolean).join(' · ');
}

/** The next page of the viewer's orders, as the maker (GET /api/orders?as=maker) or as the requester. */
async function ordersAfter(as, before) {
  const r = await api('GET', `/api/orders?as=${as}&before=${before}`);
  return { items: r.orders, more: r.more, cursor: r.next_before };
}

function orderBook(props) {
  const orders = props.orders || [];
  const row = (o) => h('li.order', { 'data-order': o.id },
    h('p', null, h('strong', null, o.requester.display_name), ' — ', orderLine(o)),
    o.note ? h('p.hint', null, t('report_quote', { reason: o.note })) : null,
    // Given by the server once the maker has accepted the order, to the maker alone.
    o.delivery_address ? h('p.delivery', null, t('deliver_to'), ' ', h('strong', null, o.delivery_address)) : null,
    (NEXT[o.status] || []).length ? h('div.row', null, NEXT[o.status].map((s) => h('button' + (s === 'declined' ? '.danger' : '.primary'), {
      type: 'button', onclick: async () => {
        try {
          await api('POST', `/api/orders/${o.id}/status`, { status: s });
          toast(t('order_now', { status: t('order_' + s) }));
          changed({ kind: 'order', id: o.id, action: 'status' });
        } catch (e) { toast(errorText(e), true); }
      },
    }, t('order_to_' + s)))) : null);
  const ul = h('ul.orders', null, orders.map(row));
  return h('section#order-book', { 'aria-labelledby': 'order-book-title' },
    h('h2#order-book-title.pane-title', null, t('order_book')),
    orders.length ? ul : h('p.empty', null, t('no_orders')),
    moreButton(ul, props.orders_more, props.orders_next_before, (c) => ordersAfter('maker', c), row));
}

function makersSection(page) {
  const others = (fc) => fc.features.filter((f) => f.id !== session.me.id);
  const makers = others(page);
  const ul = h('ul.cards', null, makers.map(makerCard));
  return h('section', { 'aria-labelledby': 'makers-title' },
    h('h2#makers-title.pane-title', null, t('makers_near')),
    makers.length === 0 && !page.more ? h('p.empty', null, t('no_makers')) : ul,
    moreButton(ul, page.more, page.next_after, async (after) => {
      const r = await api('GET', `/api/makers?after=${after}`);
      // a maker already shown first (opened from the map) is not listed twice
      return { items: others(r).filter((f) => !$(`[data-maker="${f.id}"]`, ul)), more: r.more, cursor: r.next_after };
    }, makerCard));
}

function makerCard(f) {
  const p = f.properties;
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form.stack', { onsubmit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    const body = { quantity: Number(form.elements.quantity.value) };
    if (form.elements.note.value.trim()) body.note = form.elements.note.value.trim();
    try {
      const o = await api('POST', `/api/makers/${p.id}/orders`, body);
      toast(t('order_sent'));
      changed({ kind: 'order', id: o.id, action: 'create' });
    } catch (e2) { err.textContent = errorText(e2); err.hidden = false; }
  } },
  h('label', null, h('span', null, t('quantity')), h('input', { type: 'number', name: 'quantity', min: 1, max: 1000, value: '10', required: true })),
  h('label', null, h('span', null, t('note')), h('input', { type: 'text', name: 'note', maxlength: 500 })),
  err,
  h('button.primary', { type: 'submit' }, t('send_order')));
  return h('li', null, h('details.maker', { 'data-maker': p.id },
    h('summary', null, h('strong', null, p.display_name), ' — ', t('maker_line', { n: p.capacity_per_day, cap: p.capacity_per_day, stock: p.stock }),
      (p.materials || []).length ? [h('br'), h('small', null, t('materials_needed'), t('colon'), p.materials.join(', '))] : null),
    form));
}

function myOrders(page) {
  const orders = page.orders || [];
  const row = (o) => h('li.order', null, h('strong', null, o.maker.display_name), ' — ', orderLine(o));
  const ul = h('ul.orders', null, orders.map(row));
  return h('section', { 'aria-labelledby': 'my-orders-title' },
    h('h2#my-orders-title.pane-title', null, t('my_orders')),
    orders.length === 0 ? h('p.empty', null, t('no_orders_placed')) : ul,
    moreButton(ul, page.more, page.next_before, (c) => ordersAfter('requester', c), row));
}
