/*
 * needs_list.js — the needs panel's list: requests and offers "near me",
 * kept in step with the map, with its filters; for a visitor, the open
 * posts counted by neighbourhood in view; the posts of a group drawn on the
 * map, in a popup.
 *
 * The list is nearest first (GET /api/posts?near=…), measured from
 * (listOrigin): the device's position once the member has asked for it
 * ("Use my location"; never asked unprompted, kept in this tab only), else
 * their home area (GET /api/me's home_area: the public point of their own
 * posts, never the home) — either while it is on the map, or always without
 * a map — else the centre of the map (a member who moved the map away, an
 * account without a home). The radius covers the view from that point; the
 * map marks the point. The list does not need the map: without one, it
 * takes the nearest posts within 20 km. It is asked again when the map stops
 * moving or a filter changes (needs.js adds: a change of data or of the
 * session); the same filters are applied to the needs drawn on the map.
 *
 * With keywords and "also in comments" ticked, the comments that hold the
 * words are searched too (GET /api/comments?q=…: those of the posts the
 * member sees, newest first), and listed under the posts found, each
 * opening its post.
 *
 * While a post is shown (needs_detail.js), the panel is the post's: a
 * refresh shows the post again, and the list waits.
 */
import { api, qs, session, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t, fmtDistance, fmtDate, CATEGORIES } from './i18n.js';
import * as M from './map.js';
import { toast, openLogin, openRegister, errorText } from './ui.js';
import { stopConversation } from './conversation.js';
import { shownPost, leavePost, showPost, openPost, postIcon } from './needs_detail.js';

const filters = { ...M.INITIAL_NEED_FILTERS };
let inComments = false;    // the keywords are looked for in comments too
const COMMENT_HITS = 20;   // comments found listed at most
let listSeq = 0;
let stats = null;
let position = null;       // [lon, lat] of the device, once the member asked for it
const MAX_RADIUS = 20000;  // metres: the API's bound
let shown = () => {};      // told when the panel shows something (needs.js's listReady)

/** The filters' options, in the page's language, set to the filters in use. */
export function fillFilters() {
  const form = $('#filters');
  const sel = (name, options) => fill(form.elements[name], ...options.map(([v, label]) => h('option', { value: v }, label)));
  sel('kind', [['', t('all')], ['request', t('kind_request_pl')], ['offer', t('kind_offer_pl')]]);
  sel('category', [['', t('all_categories')], ...CATEGORIES.map((c) => [c, t('cat_' + c)])]);
  sel('status', [['open', t('status_open')], ['claimed', t('status_claimed')], ['any', t('status_any')]]);
  for (const k of ['kind', 'category', 'status']) form.elements[k].value = filters[k];
}

/** Wires the filters and the map's events; `onShown` is told when the panel shows something. */
export function init(onShown) {
  shown = onShown;
  const form = $('#filters');
  fillFilters();
  let timer = null;
  const changed = () => {
    for (const k of ['q', 'kind', 'category', 'status']) filters[k] = form.elements[k].value.trim();
    inComments = form.elements.in_comments.checked;
    if (!filters.q) M.setNeedFilters(filters);
    clearTimeout(timer);
    timer = setTimeout(() => { leavePost(); refresh(); }, 250);
  };
  form.addEventListener('input', changed);
  form.addEventListener('submit', (e) => { e.preventDefault(); changed(); });
  M.mapEvents.addEventListener('moved', debounce(() => { if (shownPost() === null) refresh(); }, 300));
  // the list shown before the map had loaded is measured again within its view
  M.mapEvents.addEventListener('ready', () => { if (shownPost() === null) refresh(); });
  M.mapEvents.addEventListener('names', debounce(() => { if (!session.me) renderAnonymous(); }, 200));
  M.mapEvents.addEventListener('need', (e) => openPost(e.detail.id, false));
  M.mapEvents.addEventListener('needcluster', (e) => clusterPopup(e.detail));
  // Search and filters start folded on a small screen: the list comes first.
  if (window.matchMedia('(max-width: 720px)').matches) $('#filters-box').open = false;
}

/** After a change of session: a visitor's position is not kept for the next account. */
export function sessionChanged() {
  if (!session.me) position = null;
}

/* A post whose button takes the focus when the list is next drawn: Back
 * from its detail. Kept for the drawing, not for this refresh, since a
 * newer refresh (the map settling) may draw the list instead of it. */
let focusWanted;

/** Back from a post (needs_detail.js's Back): the list again, the focus on that post's button. */
export async function back(id) {
  focusWanted = id === null ? undefined : id;
  await refresh();
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

/** Shows the list as it is now (or, while a post is shown, the post). */
export async function refresh() {
  if (shownPost() !== null) return showPost(shownPost());
  stopConversation();
  if (!session.me) return renderAnonymous();
  const seq = ++listSeq;
  const origin = listOrigin();
  M.setOrigin(origin.kind === 'area' ? null : origin);
  const params = { near: origin.lngLat.map((x) => x.toFixed(6)).join(','), radius: origin.radius, limit: 50,
    kind: filters.kind, category: filters.category, status: filters.status, q: filters.q };
  // the comments holding the words, asked at the same time (an error is the section's alone)
  const found = filters.q && inComments
    ? api('GET', '/api/comments' + qs({ q: filters.q, limit: COMMENT_HITS })).catch((error) => ({ error }))
    : null;
  try {
    const fc = await api('GET', '/api/posts' + qs(params));
    const comments = found && await found;
    if (seq !== listSeq) return;
    lastList = { fc, radius: origin.radius, params, origin, comments };
    if (filters.q) M.setNeedFilters(filters, fc.features.map((f) => f.properties.id));
    render();
  } catch (e) {
    if (seq !== listSeq) return;
    focusWanted = undefined;
    fill($('#needs-body'), h('p.error', { role: 'alert' }, errorText(e)));
    shown();
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

/** Draws the list last read again (after a change of language). */
export function render() {
  if (shownPost() !== null) return;
  if (!session.me) return renderAnonymous();
  if (!lastList) return;
  const { fc, radius, params, origin, comments } = lastList;
  const body = $('#needs-body');
  $('#filters-box').hidden = !can.home() && !can.staff();
  body.dataset.query = new URLSearchParams(params).toString(); // what the list shows, for scripts and tests
  body.dataset.comments = comments ? params.q : '';
  const items = fc.features;
  const had = focusWanted !== undefined ? focusWanted
    : body.contains(document.activeElement) ? document.activeElement.dataset.post : undefined;
  focusWanted = undefined;
  fill(body,
    h('h2#needs-title.pane-title', { 'data-origin': origin.kind }, t('needs_near_' + origin.kind)),
    h('p.hint', null, t('needs_hint_' + origin.kind, { radius: fmtDistance(radius) })),
    originButtons(),
    !can.home() && !can.staff() ? h('p.note', null, t('no_home_note')) : null,
    items.length === 0
      ? h('p.empty', { role: 'status' }, filters.q || filters.kind || filters.category ? t('no_match') : t('no_needs_here'))
      : h('ul.cards', { 'aria-labelledby': 'needs-title' }, items.map(postItem)),
    fc.more ? h('p.hint', null, M.getMap() ? t('more_zoom') : t('more_nearest', { n: items.length })) : null,
    comments ? commentHits(comments) : null,
  );
  shown();
  // drawn again as the map moves: the keyboard focus stays on the same post
  if (had !== undefined) focusPost(had);
}

/** Puts the focus on the list's button of post `id`, else on the list's pane. */
function focusPost(id) {
  const b = $(`#needs-body button[data-post="${id}"]`);
  (b || $('#pane-needs')).focus();
}


/** The comments found with the keywords ({comments, more}, or {error}): each opens its post. */
function commentHits(r) {
  const list = r.error ? h('p.error', null, errorText(r.error))
    : r.comments.length === 0 ? h('p.empty', null, t('cm_found_none'))
      : h('ul.cards', { 'aria-labelledby': 'comment-hits-title' }, r.comments.map((c) => h('li', null, h('button.card.comment-hit', {
        type: 'button', 'data-post': c.post_id, 'data-comment': c.id, onclick: () => openPost(c.post_id, true),
      },
      h('span.card-main', null,
        h('span.card-title', null, c.post.title),
        h('span.comment-excerpt', null, c.body),
        h('span.card-meta', null, [c.mine ? t('you') : c.author.display_name, fmtDate(c.created_at),
          c.hidden ? t('cm_hidden') : null].filter(Boolean).join(' · ')))))));
  return h('section.comment-hits', { 'aria-labelledby': 'comment-hits-title' },
    h('h3#comment-hits-title', null, t('cm_found')),
    list,
    r.more ? h('p.hint', null, t('cm_found_more', { n: r.comments.length })) : null);
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
  if (session.me || shownPost() !== null) return;
  M.setOrigin(null);
  $('#filters-box').hidden = true; // nothing to filter: a visitor sees no post
  if (!stats) {
    stats = await bootStats() || await api('GET', '/api/stats').catch(() => ({ open_posts: {} }));
  }
  if (session.me || shownPost() !== null) return;
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
  shown();
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
