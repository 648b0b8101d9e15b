/*
 * needs.js — requests and offers: the list kept in step with the map, its
 * filters, a post's detail with its actions (claim, release, edit, done,
 * cancel, report) and, once claimed, the private conversation of its author
 * and its claimer (conversation.js); the form that publishes one, and the
 * author's own posts with their views. An author is told once, on their next
 * visit, that a post of theirs was claimed (the ids last seen claimed are
 * kept in localStorage).
 *
 * The list is "near me", nearest first (GET /api/posts?near=…), measured
 * from (listOrigin): the device's position once the member has asked for it
 * ("Use my location"; never asked unprompted, kept in this tab only), else
 * their home area (GET /api/me's home_area: the public point of their own
 * posts, never the home) — either while it is on the map, or always without
 * a map — else the centre of the map (a member who moved the map away, an
 * account without a home). The radius covers the view from that point; the
 * map marks the point. The list does not need the map: without one, it
 * takes the nearest posts within 20 km. It is asked again when the map stops
 * moving or a filter changes; the same filters are applied to the needs
 * drawn on the map. The exact address of a member is shown once, to the
 * volunteer who claims the post, as the API gives it.
 *
 * `listReady` resolves once the panel first shows something (a list, the
 * visitor's counts, a post): main.js then counts the page as usable.
 */
import { api, qs, session, can } from './api.js';
import { h, $, fill, swatch } from './dom.js';
import { t, fmtDistance, fmtDate, onLang, CATEGORIES } from './i18n.js';
import * as M from './map.js';
import { toast, showTab, openLogin, openRegister, errorText } from './ui.js';
import { conversation, stopConversation } from './conversation.js';

const filters = { ...M.INITIAL_NEED_FILTERS };
let detailId = null;       // the post shown in detail, or null for the list
let detailAddress = null;  // {id, address} after a claim, for that post only
let noChat = null;         // the post whose conversation the server refused, until it is opened again
const newlyClaimed = new Set(); // the author's posts claimed since their last visit
let listSeq = 0;
let stats = null;
let position = null;       // [lon, lat] of the device, once the member asked for it
const MAX_RADIUS = 20000;  // metres: the API's bound
let markReady = null;
export const listReady = new Promise((resolve) => { markReady = resolve; });

export function init() {
  const form = $('#filters');
  const sel = (name, options) => fill(form.elements[name], ...options.map(([v, label]) => h('option', { value: v }, label)));
  const fillSelects = () => {
    sel('kind', [['', t('all')], ['request', t('kind_request_pl')], ['offer', t('kind_offer_pl')]]);
    sel('category', [['', t('all_categories')], ...CATEGORIES.map((c) => [c, t('cat_' + c)])]);
    sel('status', [['open', t('status_open')], ['claimed', t('status_claimed')], ['any', t('status_any')]]);
    for (const k of ['kind', 'category', 'status']) form.elements[k].value = filters[k];
  };
  fillSelects();
  let timer = null;
  const changed = () => {
    for (const k of ['q', 'kind', 'category', 'status']) filters[k] = form.elements[k].value.trim();
    if (!filters.q) M.setNeedFilters(filters);
    clearTimeout(timer);
    timer = setTimeout(() => { detailId = null; refresh(); }, 250);
  };
  form.addEventListener('input', changed);
  form.addEventListener('submit', (e) => { e.preventDefault(); changed(); });
  onLang(() => { fillSelects(); render(); renderPostPane(); if (detailId !== null) renderDetailById(detailId); });
  M.mapEvents.addEventListener('moved', debounce(() => { if (detailId === null) refresh(); }, 300));
  // the list shown before the map had loaded is measured again within its view
  M.mapEvents.addEventListener('ready', () => { if (detailId === null) refresh(); });
  M.mapEvents.addEventListener('names', debounce(() => { if (!session.me) renderAnonymous(); }, 200));
  M.mapEvents.addEventListener('need', (e) => openPost(e.detail.id, false));
  M.mapEvents.addEventListener('needcluster', (e) => clusterPopup(e.detail));
  session.addEventListener('session', () => {
    detailId = null; detailAddress = null; stopConversation();
    if (!session.me) position = null;
    refresh(); renderPostPane();
  });
  // Search and filters start folded on a small screen: the list comes first.
  if (window.matchMedia('(max-width: 720px)').matches) $('#filters-box').open = false;
  refresh();
  renderPostPane();
}

function debounce(f, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(f, ms); };
}

/* ---- the list ---- */

let lastList = null;

const RAD = Math.PI / 180;
/** Metres between two [lon, lat] points (equirectangular: fine at a city's scale). */
function metres(a, b) {
  const k = Math.cos((a[1] + b[1]) / 2 * RAD);
  return 6371008.8 * Math.hypot((b[0] - a[0]) * RAD * k, (b[1] - a[1]) * RAD);
}

/**
 * Where the list is measured from: {kind, lngLat, radius}. kind is
 * 'position' or 'home' while that point is in the map's view (always without
 * a map), else 'centre' (the map's) or, without a map, 'area' (the
 * tileset's centre). The radius reaches the view's farthest corner; from
 * home or the position, 1 km at least (a phone's small map shows less).
 */
function listOrigin() {
  const v = M.viewQuery();
  const mine = position || (session.me && session.me.home_area) || null;
  const [w, s, e, n] = v.bbox;
  const inView = (p) => p[0] >= w && p[0] <= e && p[1] >= s && p[1] <= n;
  const reach = (p) => Math.round(Math.min(MAX_RADIUS, Math.max(1000,
    ...[[w, s], [w, n], [e, s], [e, n]].map((c) => metres(p, c)))));
  if (mine && (!v.map || inView(mine)))
    return { kind: position ? 'position' : 'home', lngLat: mine, radius: v.map ? reach(mine) : MAX_RADIUS };
  return v.map ? { kind: 'centre', lngLat: v.center, radius: v.radius } : { kind: 'area', lngLat: v.center, radius: MAX_RADIUS };
}

export async function refresh() {
  if (detailId !== null) return renderDetailById(detailId);
  stopConversation();
  if (!session.me) return renderAnonymous();
  const seq = ++listSeq;
  const origin = listOrigin();
  M.setOrigin(origin.kind === 'area' ? null : origin);
  const params = { near: origin.lngLat.map((x) => x.toFixed(6)).join(','), radius: origin.radius, limit: 50,
    kind: filters.kind, category: filters.category, status: filters.status, q: filters.q };
  try {
    const fc = await api('GET', '/api/posts' + qs(params));
    if (seq !== listSeq) return;
    lastList = { fc, radius: origin.radius, params, origin };
    if (filters.q) M.setNeedFilters(filters, fc.features.map((f) => f.properties.id));
    render();
  } catch (e) {
    if (seq !== listSeq) return;
    fill($('#needs-body'), h('p.error', { role: 'alert' }, errorText(e)));
    markReady();
  }
}

/** "Use my location": asked of the browser on this click only. */
function usePosition(button) {
  button.disabled = true;
  navigator.geolocation.getCurrentPosition((p) => {
    position = [p.coords.longitude, p.coords.latitude];
    M.jumpTo(position, 14.5);
    refresh();
  }, () => {
    button.disabled = false;
    toast(t('position_failed'), true);
  }, { enableHighAccuracy: false, timeout: 20000, maximumAge: 300000 });
}

/** Back from the position to the home area (brought into view). */
function forgetPosition() {
  position = null;
  if (session.me && session.me.home_area) M.jumpTo(session.me.home_area, 14.5);
  refresh();
}

/** The buttons that change where the list is measured from. */
function originButtons() {
  const home = session.me && session.me.home_area;
  if (position) return h('p.row', null, h('button.origin-btn', { type: 'button', onclick: forgetPosition }, t(home ? 'use_home' : 'forget_position')));
  if (!('geolocation' in navigator)) return null;
  return h('p.row', null, h('button.origin-btn', { type: 'button', onclick: (e) => usePosition(e.currentTarget) }, t('use_position')));
}

function render() {
  if (detailId !== null) return;
  if (!session.me) return renderAnonymous();
  if (!lastList) return;
  const { fc, radius, params, origin } = lastList;
  const body = $('#needs-body');
  $('#filters-box').hidden = !can.home() && !can.staff();
  body.dataset.query = new URLSearchParams(params).toString(); // what the list shows, for scripts and tests
  const items = fc.features;
  const had = body.contains(document.activeElement) ? document.activeElement.dataset.post : undefined;
  fill(body,
    h('h2#needs-title.pane-title', { 'data-origin': origin.kind }, t('needs_near_' + origin.kind)),
    h('p.hint', null, t('needs_hint_' + origin.kind, { radius: fmtDistance(radius) })),
    originButtons(),
    !can.home() && !can.staff() ? h('p.note', null, t('no_home_note')) : null,
    items.length === 0
      ? h('p.empty', { role: 'status' }, filters.q || filters.kind || filters.category ? t('no_match') : t('no_needs_here'))
      : h('ul.cards', { 'aria-labelledby': 'needs-title' }, items.map(postItem)),
    fc.more ? h('p.hint', null, M.getMap() ? t('more_zoom') : t('more_nearest', { n: items.length })) : null,
  );
  markReady();
  // drawn again as the map moves: the keyboard focus stays on the same post
  if (had !== undefined) focusPost(had);
}

/** Puts the focus on the list's button of post `id`, else on the list's pane. */
function focusPost(id) {
  const b = $(`#needs-body button[data-post="${id}"]`);
  (b || $('#pane-needs')).focus();
}

function postIcon(p) {
  const claimed = p.status !== 'open';
  return p.kind === 'request'
    ? swatch('diamond', M.COLORS.request, M.COLORS.requestLine, claimed)
    : swatch('triangle', M.COLORS.offer, M.COLORS.offerLine, claimed);
}

function postItem(f) {
  const p = f.properties;
  const nb = M.neighbourhoodName(p.neighbourhood);
  return h('li', null, h('button.card', {
    type: 'button', 'data-post': p.id,
    onclick: () => openPost(p.id, true),
    onmouseenter: () => M.hoverNeed(p.id, true), onmouseleave: () => M.hoverNeed(p.id, false),
    onfocus: () => M.hoverNeed(p.id, true), onblur: () => M.hoverNeed(p.id, false),
  },
  postIcon(p),
  h('span.card-main', null,
    h('span.card-title', null, p.title),
    h('span.card-meta', null,
      [t('kind_' + p.kind), t('cat_' + p.category),
        p.distance_m !== undefined ? fmtDistance(p.distance_m) : null, nb,
        p.status !== 'open' ? t('status_' + p.status) : null,
        p.claimed_by_me ? t('claimed_by_me') : null, p.mine ? t('mine') : null].filter(Boolean).join(' · ')))));
}

/** The counts boot.js started fetching with the page (once), or null. */
async function bootStats() {
  const boot = window.entraideBoot || {};
  const pending = boot.stats;
  boot.stats = null;
  const r = pending && await pending.catch(() => null);
  return r && r.ok ? r.json().catch(() => null) : null;
}

async function renderAnonymous() {
  const body = $('#needs-body');
  if (session.me || detailId !== null) return;
  M.setOrigin(null);
  $('#filters-box').hidden = true; // nothing to filter: a visitor sees no post
  if (!stats) {
    stats = await bootStats() || await api('GET', '/api/stats').catch(() => ({ open_posts: {} }));
  }
  if (session.me || detailId !== null) return;
  const map = M.getMap();
  const inView = [];
  if (map) {
    const seen = new Set();
    for (const f of map.queryRenderedFeatures({ layers: ['nb-hit'] })) {
      const id = String(f.properties.id);
      if (seen.has(id)) continue;
      seen.add(id);
      const counts = stats.open_posts[id] || {};
      const n = Object.values(counts).reduce((a, b) => a + b, 0);
      if (n) inView.push({ id, name: f.properties.name, n, counts });
    }
  }
  inView.sort((a, b) => b.n - a.n || a.name.localeCompare(b.name));
  // Without the map, the count of the whole area.
  let total = 0;
  if (!map) for (const counts of Object.values(stats.open_posts)) for (const n of Object.values(counts)) total += n;
  fill(body,
    h('h2.pane-title', null, t('needs_near')),
    h('p.anon-intro', null, t('anon_intro')),
    h('p.row', null,
      h('button.primary', { type: 'button', onclick: openRegister }, t('register')), ' ',
      h('button', { type: 'button', onclick: openLogin }, t('log_in'))),
    map ? [h('h3', null, t('anon_counts')),
      inView.length
        ? h('ul.counts', null, inView.slice(0, 30).map((x) => h('li', null,
          h('strong', null, x.name), ' — ', t('n_open_needs', { n: x.n }), t('colon'),
          Object.entries(x.counts).map(([c, n]) => `${t('cat_' + c)} ${n}`).join(', '))))
        : h('p.empty', null, t('anon_none'))]
      : [h('h3', null, t('anon_counts_all')),
        total ? h('p', null, t('n_open_needs', { n: total })) : h('p.empty', null, t('anon_none_all'))]);
  markReady();
}

/* ---- clusters: several posts at one public point ---- */

async function clusterPopup({ lngLat, bbox, count }) {
  const map = M.getMap();
  const [w, s, e, n] = bbox.split(',').map(Number);
  if ((count > 25 && map.getZoom() < 15) || (e - w) * (n - s) > 1) {
    map.easeTo({ center: lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
    return;
  }
  const params = { bbox, limit: 50, kind: filters.kind, category: filters.category, status: filters.status, q: filters.q };
  let fc;
  try { fc = await api('GET', '/api/posts' + qs(params)); } catch (e) { toast(errorText(e), true); return; }
  const node = h('div.popup',
    null,
    h('h3', null, t('n_posts_here', { n: fc.features.length })),
    h('p.hint', null, t('cluster_hint')),
    h('ul.mini', null, fc.features.map((f) => h('li', null, h('button.link', {
      type: 'button', onclick: () => { M.closePopup(); openPost(f.properties.id, false); },
    }, postIcon(f.properties), ' ', f.properties.title)))),
    map.getZoom() < 16 ? h('button', { type: 'button', onclick: () => { M.closePopup(); map.easeTo({ center: lngLat, zoom: 17 }); } }, t('zoom_in')) : null);
  M.showPopup(lngLat, node);
}

/* ---- one post ---- */

export async function openPost(id, fly) {
  detailId = id;
  noChat = null;
  showTab('needs');
  M.selectNeed(id);
  await renderDetailById(id, fly);
  // the list's button that had the focus is gone: the detail's title takes it
  const title = detailId === id && ($('#needs-body #post-title') || $('#needs-body button.back'));
  if (title) title.focus();
}

async function renderDetailById(id, fly) {
  const body = $('#needs-body');
  let f;
  try {
    f = await api('GET', `/api/posts/${id}`);
  } catch (e) {
    fill(body, backButton(), h('p.error', { role: 'alert' }, e.status === 401 ? t('login_to_see') : errorText(e)));
    markReady();
    return;
  }
  if (detailId !== id) return;
  if (fly) M.flyTo(f.geometry.coordinates, 15.5);
  renderDetail(f);
  markReady();
}

function backButton() {
  return h('button.back', { type: 'button', onclick: async () => {
    const id = detailId;
    detailId = null; detailAddress = null; stopConversation(); M.selectNeed(null);
    await refresh();
    if (detailId === null && id !== null) focusPost(id);
  } },
  '← ', t('back_to_list'));
}

function renderDetail(f, editing) {
  const p = f.properties;
  const body = $('#needs-body');
  const actions = [];
  const act = (label, fn, cls) => h('button' + (cls ? '.' + cls : ''), { type: 'button', onclick: fn }, label);
  if (can.member() && !p.mine && p.status === 'open') actions.push(act(t('claim'), () => claim(p.id), 'primary'));
  if (p.claimed_by_me && p.status === 'claimed') {
    actions.push(act(t('show_address'), () => claim(p.id)));
    actions.push(act(t('mark_done'), () => move(p.id, 'done', t('done_ok')), 'primary'));
    actions.push(act(t('release'), () => release(p.id), 'danger'));
  }
  if (p.mine && p.status === 'open') actions.push(act(t('edit'), () => renderDetail(f, true)));
  if (p.mine && ['open', 'claimed', 'expired'].includes(p.status)) {
    actions.push(act(t('mark_done'), () => move(p.id, 'done', t('done_ok'))));
    actions.push(act(t('cancel_post'), () => confirm(t('cancel_confirm')) && move(p.id, 'cancel', t('cancel_ok')), 'danger'));
  }
  const address = detailAddress && detailAddress.id === p.id ? detailAddress.address : null;
  const nb = M.neighbourhoodName(p.neighbourhood);
  // the conversation: the author and the claimer, once claimed (and after it is done)
  const other = p.mine ? p.claimed_by : p.claimed_by_me ? p.author : null;
  const chat = other && ['claimed', 'done'].includes(p.status) && noChat !== p.id
    ? conversation(p.id, other.display_name, () => { noChat = p.id; if (detailId === p.id) renderDetailById(p.id); })
    : (stopConversation(), null);
  fill(body,
    backButton(),
    h('article.detail', { 'aria-labelledby': 'post-title', 'data-post': p.id, 'data-status': p.status },
      editing ? editForm(f) : [
        h('h2#post-title.pane-title', { tabindex: '-1' }, postIcon(p), ' ', p.title),
        h('p.chips', null,
          h('span.chip', null, t('kind_' + p.kind)), h('span.chip', null, t('cat_' + p.category)),
          h('span.chip.status-' + p.status, null, t('status_' + p.status)),
          p.hidden ? h('span.chip.warn', null, t('hidden')) : null),
        p.mine && p.claimed_by ? h('p.claimed-by', null, t('claimed_by', { name: p.claimed_by.display_name })) : null,
        p.body ? h('p.post-body', null, p.body) : null],
      h('dl.facts', null,
        h('dt', null, t('by')), h('dd', null, p.author ? p.author.display_name : '—'),
        nb ? [h('dt', null, t('neighbourhood')), h('dd', null, nb)] : null,
        h('dt', null, t('published')), h('dd', null, fmtDate(p.created_at)),
        p.expires_at ? [h('dt', null, t('expires')), h('dd', null, fmtDate(p.expires_at))] : null,
        p.views !== undefined ? [h('dt', null, t('views')), h('dd.views', null, String(p.views))] : null,
        p.reports !== undefined ? [h('dt', null, t('reports')), h('dd', null, String(p.reports))] : null),
      address ? h('div.address', { role: 'status' },
        h('h3', null, t('exact_address')), h('p.address-text', null, address), h('p.hint', null, t('address_private'))) : null,
      p.claimed_by_me && !address && p.status === 'claimed' ? h('p.hint', null, t('you_claimed')) : null,
      p.mine ? h('p.hint', null, t('public_point_note')) : null,
      actions.length && !editing ? h('div.row.actions', null, actions) : null,
      chat,
      !p.mine && session.me ? reportForm(p) : null));
}

/** The author's form to edit an open post's title and details (PATCH). */
function editForm(f) {
  const p = f.properties;
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form#form-edit.stack', {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const g = await api('PATCH', `/api/posts/${p.id}`, { title: form.elements.title.value.trim(), body: form.elements.body.value.trim() });
        renderDetail(g);
        toast(t('edit_ok'));
        window.dispatchEvent(new Event('entraide:data'));
        renderMyPosts();
      } catch (e2) {
        err.textContent = errorText(e2);
        err.hidden = false;
      }
    },
  },
  h('h2#post-title.pane-title', null, t('edit_title')),
  h('label', null, h('span', null, t('title')), h('input', { type: 'text', name: 'title', required: true, maxlength: 200, value: p.title })),
  h('label', null, h('span', null, t('details')), h('textarea', { name: 'body', rows: 4, maxlength: 4000, value: p.body || '' }),
    h('small', null, t('details_hint'))),
  err,
  h('div.row', null, h('button.primary', { type: 'submit' }, t('save')),
    h('button', { type: 'button', onclick: () => renderDetail(f) }, t('cancel'))));
  return form;
}

function reportForm(p) {
  const details = h('details.report');
  const reason = h('textarea', { name: 'reason', maxlength: 500, rows: 2 });
  const form = h('form.stack', { onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/api/posts/${p.id}/report`, { reason: reason.value.trim() || undefined });
      details.open = false;
      toast(t('report_ok'));
    } catch (err) { toast(errorText(err), true); }
  } },
  h('label', null, h('span', null, t('report_reason')), reason),
  h('button', { type: 'submit' }, t('report_send')));
  details.append(h('summary', null, t('report')), form);
  return details;
}

async function claim(id) {
  try {
    const f = await api('POST', `/api/posts/${id}/claim`);
    detailAddress = { id, address: f.properties.address };
    noChat = null;
    renderDetail(f);
    toast(t('claim_ok'));
    window.dispatchEvent(new Event('entraide:data'));
  } catch (e) {
    if (e.status !== 409) return toast(errorText(e), true);
    // another volunteer was first (or the post closed meanwhile): show it as it is now
    const f = await api('GET', `/api/posts/${id}`).catch(() => null);
    const taken = f && f.properties.status === 'claimed' && !f.properties.claimed_by_me;
    toast(taken ? t('claim_lost') : t('claim_closed'), true);
    if (f && detailId === id) renderDetail(f);
    window.dispatchEvent(new Event('entraide:data'));
  }
}

/** The claimer gives the post back: it is open again, and they lose the address and the conversation. */
async function release(id) {
  if (!confirm(t('release_confirm'))) return;
  try {
    const f = await api('POST', `/api/posts/${id}/release`);
    detailAddress = null;
    renderDetail(f);
    toast(t('release_ok'));
    window.dispatchEvent(new Event('entraide:data'));
  } catch (e) {
    toast(errorText(e), true);
  }
}

async function move(id, action, message) {
  try {
    const f = await api('POST', `/api/posts/${id}/${action}`);
    renderDetail(f);
    toast(message);
    window.dispatchEvent(new Event('entraide:data'));
    renderMyPosts();
  } catch (e) {
    toast(errorText(e), true);
  }
}

/* ---- publishing, and the author's posts ---- */

function renderPostPane() {
  const pane = $('#pane-post');
  if (!can.home()) { fill(pane); return; }
  const cat = h('select', { name: 'category', required: true }, CATEGORIES.map((c) => h('option', { value: c }, t('cat_' + c))));
  const days = h('select', { name: 'expires_in_days' }, [1, 3, 7, 14, 30].map((d) =>
    h('option', { value: String(d), selected: d === 7 }, t('n_days', { n: d }))));
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form#form-post.stack', { onsubmit: submitPost },
    h('h2.pane-title', null, t('post_title')),
    h('fieldset.kinds', null, h('legend', null, t('kind')),
      h('label.inline', null, h('input', { type: 'radio', name: 'kind', value: 'request', checked: true }), ' ', t('kind_request_long')),
      h('label.inline', null, h('input', { type: 'radio', name: 'kind', value: 'offer' }), ' ', t('kind_offer_long'))),
    h('label', null, h('span', null, t('category')), cat),
    h('label', null, h('span', null, t('title')), h('input', { type: 'text', name: 'title', required: true, maxlength: 200 })),
    h('label', null, h('span', null, t('details')), h('textarea', { name: 'body', rows: 4, maxlength: 4000 }),
      h('small', null, t('details_hint'))),
    h('label', null, h('span', null, t('expires_in')), days),
    // where it will show, said next to the button (the first field comes first on a small screen)
    h('p.hint', null, t('post_intro')),
    err,
    h('button.primary', { type: 'submit' }, t('publish')));
  fill(pane, form, h('section#my-posts', { 'aria-labelledby': 'my-posts-title' }));
  renderMyPosts();
}

async function submitPost(e) {
  e.preventDefault();
  const form = e.target;
  const err = $('.error', form);
  err.hidden = true;
  const body = {
    kind: form.elements.kind.value, category: form.elements.category.value,
    title: form.elements.title.value.trim(), expires_in_days: Number(form.elements.expires_in_days.value),
  };
  if (form.elements.body.value.trim()) body.body = form.elements.body.value.trim();
  try {
    const f = await api('POST', '/api/posts', body);
    form.reset();
    toast(t('post_ok'));
    window.dispatchEvent(new Event('entraide:data'));
    M.flyTo(f.geometry.coordinates, 15.5);
    renderMyPosts();
  } catch (e2) {
    err.textContent = errorText(e2);
    err.hidden = false;
  }
}

export async function renderMyPosts() {
  const sec = $('#my-posts');
  if (!sec || !can.home()) return;
  let fc;
  try { fc = await api('GET', '/api/posts' + qs({ mine: 1, status: 'any', limit: 100 })); } catch (e) {
    fill(sec, h('p.error', null, errorText(e)));
    return;
  }
  claimNotice(fc.features);
  fill(sec,
    h('h2#my-posts-title.pane-title', null, t('my_posts')),
    fc.features.length === 0 ? h('p.empty', null, t('no_posts_yet')) : h('ul.cards', null, fc.features.map((f) => {
      const p = f.properties;
      return h('li', null, h('button.card', { type: 'button', 'data-post': p.id, onclick: () => openPost(p.id, true) },
        postIcon(p),
        h('span.card-main', null,
          h('span.card-title', null, p.title),
          h('span.card-meta', null, [t('status_' + p.status), t('cat_' + p.category), t('n_views', { n: p.views ?? 0 }),
            p.hidden ? t('hidden') : null].filter(Boolean).join(' · ')),
          newlyClaimed.has(p.id) && p.status === 'claimed' ? h('span.chip.new', null, t('newly_claimed')) : null)));
    })));
}

/** Tells the author of their posts claimed since the ids last seen claimed in this browser. */
function claimNotice(features) {
  const key = 'entraide.claimed.' + session.me.id;
  let seen = [];
  try { seen = JSON.parse(localStorage.getItem(key)) || []; } catch { /* none kept */ }
  const claimed = features.filter((f) => f.properties.status === 'claimed');
  const fresh = claimed.filter((f) => !seen.includes(f.properties.id));
  try { localStorage.setItem(key, JSON.stringify(claimed.map((f) => f.properties.id))); } catch { /* storage may be off */ }
  for (const f of fresh) newlyClaimed.add(f.properties.id);
  if (fresh.length) toast(fresh.length === 1 ? t('claimed_notice', { title: fresh[0].properties.title }) : t('claimed_notice_n', { n: fresh.length }), false, 10000);
}
