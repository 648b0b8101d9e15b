/*
 * alerts.js — the Alerts tab: email alerts of new needs (docs/api.md,
 * "Alerts"). "Mes alertes" lists the member's subscriptions (GET
 * /api/subscriptions): what (kinds, categories), where (a radius around
 * home, or a drawn area), how (at once or a daily digest, quiet hours) and,
 * when one is paused, why, with Resume and Delete. "Nouvelle alerte" makes
 * one (POST /api/subscriptions); the server's refusal (an area outside the
 * member's neighbourhoods…) is said under the form. "Historique des envois"
 * is the delivery log (GET /api/deliveries), with the test alert (POST
 * /api/subscriptions/test). When the server has no mail relay, the tab says
 * so: subscriptions are kept, nothing leaves.
 *
 * A drawn area: the member clicks points on the map; the shape is drawn as
 * they go (a GeoJSON source of its own), the last point can be taken back,
 * and "Terminer" closes it (3 points at least). While drawing, the map's
 * clickable layers (needs, shops, makers) are hidden, so that a click only
 * adds a point; they come back as they were when drawing ends. Drawing
 * needs the map: without one, the radius is the only choice.
 *
 * The module is loaded when the tab is first shown (main.js imports it
 * then): a visit that never opens it does not pay for it.
 */
import { api, qs, session } from './api.js';
import { h, $, fill } from './dom.js';
import { t, onLang, fmtDate, fmtDistance, CATEGORIES } from './i18n.js';
import { toast, errorText, ui, currentTab } from './ui.js';
import { on } from './events.js';
import * as M from './map.js';

const KINDS = ['request', 'offer'];
const RADII = [200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000]; // metres offered (the API takes 50 to 5,000)
const LOG_PAGE = 20;          // deliveries asked for at a time
const SOURCE = 'alert-draw';  // the drawn area's source and the prefix of its layers
const CLICKABLE = ['needs', 'needs-halo', 'needs-cluster', 'makers', 'shops', 'shops-cluster']; // map.js's layers
const ACCENT = '#005A9C';     // app.css --accent

let built = null;             // the account whose tab's skeleton is in the pane, or null
let seq = 0;                  // the newest refresh; older answers are dropped
let points = [];              // the drawn area's corners, [lon, lat]
let drawing = false;          // map clicks add points
let closed = false;           // "Terminer" was pressed with 3 points or more
let hiddenLayers = [];        // layers hidden while drawing, with their visibility before
let wiredMap = null;          // the map whose clicks are listened to
let banner = null;            // the note over the map while drawing

on('session', () => { stopDrawing(); clearArea(); built = null; });
onLang(() => { built = null; if (currentTab() === 'alerts') show(); });
ui.addEventListener('tab', (e) => {
  if (e.detail !== 'alerts') { stopDrawing(); drawArea(); }
});

/** Draws the tab: built once per session and language, its lists read again. */
export function show() {
  const pane = $('#pane-alerts');
  if (!session.me) { built = null; fill(pane, h('p.anon-intro', null, t('al_login'))); return; }
  if (built !== session.me.id) build(pane);
  drawArea();
  return refresh();
}

/* ---- the skeleton ---- */

function build(pane) {
  built = session.me.id;
  stopDrawing();
  clearArea();
  fill(pane,
    h('h2.pane-title', null, t('al_title')),
    h('p.hint', null, t('al_intro')),
    h('p#al-mail.al-mail', { role: 'status' }),
    h('section', { 'aria-labelledby': 'al-mine-title' },
      h('h3#al-mine-title', { tabindex: '-1' }, t('al_mine')),
      h('div#al-list')),
    h('section', { 'aria-labelledby': 'al-new-title' },
      h('h3#al-new-title', null, t('al_new')),
      form()),
    h('section', { 'aria-labelledby': 'al-log-title' },
      h('h3#al-log-title', null, t('al_log')),
      h('p.row', null, h('button#al-test', { type: 'button', onclick: sendTest }, t('al_test'))),
      h('p#al-test-error.error', { role: 'alert', hidden: true }),
      h('div#al-log')));
}

function form() {
  const radius = h('select', { name: 'radius_m' },
    RADII.map((m) => h('option', { value: String(m), selected: m === 800 }, fmtDistance(m))));
  const check = (name, value, label, checked) =>
    h('label.inline', null, h('input', { type: 'checkbox', name, value, checked }), h('span', null, label));
  const radio = (name, value, label, checked) =>
    h('label.inline', null, h('input', { type: 'radio', name, value, checked, onchange: whereChanged }), h('span', null, label));
  const f = h('form#form-alert.stack', { novalidate: true, onsubmit: submit },
    h('fieldset', null, h('legend', null, t('al_kinds')),
      KINDS.map((k) => check('kinds', k, t(`kind_${k}_pl`), true))),
    h('fieldset.al-cats', null, h('legend', null, t('al_categories')),
      h('p.hint', null, t('al_categories_hint')),
      CATEGORIES.map((c) => check('categories', c, t('cat_' + c), false))),
    h('fieldset', null, h('legend', null, t('al_where')),
      radio('where', 'radius', t('al_where_radius'), true),
      h('label.al-radius', null, h('span', null, t('al_radius')), radius),
      radio('where', 'polygon', t('al_where_polygon'), false),
      h('div#al-draw.al-draw', { hidden: true },
        h('p.hint', null, t('al_draw_hint')),
        h('p#al-draw-state', { role: 'status' }),
        h('p.row', null,
          h('button#al-draw-start', { type: 'button', onclick: startDrawing }, t('al_draw_start')),
          h('button#al-draw-undo', { type: 'button', onclick: undoPoint }, t('al_draw_undo')),
          h('button#al-draw-finish.primary', { type: 'button', onclick: finishDrawing }, t('al_draw_finish')),
          h('button#al-draw-clear', { type: 'button', onclick: () => { clearArea(); drawState(); } }, t('al_draw_clear'))))),
    h('fieldset', null, h('legend', null, t('al_mode')),
      h('label.inline', null, h('input', { type: 'radio', name: 'mode', value: 'immediate', checked: true }), h('span', null, t('al_mode_immediate'))),
      h('label.inline', null, h('input', { type: 'radio', name: 'mode', value: 'digest' }), h('span', null, t('al_mode_digest')))),
    h('fieldset', null, h('legend', null, t('al_quiet')),
      h('label.inline', null, h('input', { type: 'checkbox', name: 'quiet', onchange: quietChanged }), h('span', null, t('al_quiet_on'))),
      h('div.row.al-quiet', null,
        h('label', null, h('span', null, t('al_quiet_start')), h('input', { type: 'time', name: 'quiet_start', value: '22:00', disabled: true })),
        h('label', null, h('span', null, t('al_quiet_end')), h('input', { type: 'time', name: 'quiet_end', value: '07:00', disabled: true })))),
    h('p#al-form-error.error', { role: 'alert', hidden: true }),
    h('div.row', null, h('button.primary', { type: 'submit' }, t('al_create'))));
  // what reset() returns to after an alert is made
  f.elements.quiet_start.defaultValue = '22:00';
  f.elements.quiet_end.defaultValue = '07:00';
  return f;
}

function whereChanged() {
  const f = $('#form-alert');
  const polygon = f.elements.where.value === 'polygon';
  f.elements.radius_m.disabled = polygon;
  $('#al-draw').hidden = !polygon;
  if (!polygon) { stopDrawing(); clearArea(); }
  drawState();
}

function quietChanged() {
  const f = $('#form-alert');
  f.elements.quiet_start.disabled = f.elements.quiet_end.disabled = !f.elements.quiet.checked;
}

/* ---- the lists ---- */

async function refresh() {
  const my = ++seq;
  let subs, log;
  try {
    [subs, log] = await Promise.all([api('GET', '/api/subscriptions'), api('GET', '/api/deliveries' + qs({ limit: LOG_PAGE }))]);
  } catch (e) {
    if (my === seq && $('#al-list')) fill($('#al-list'), h('p.error', { role: 'alert' }, errorText(e)));
    return;
  }
  if (my !== seq || !$('#al-list')) return;
  const mail = $('#al-mail');
  mail.textContent = subs.mail && subs.mail.configured ? t('al_mail_on') : t('al_mail_off');
  mail.classList.toggle('warn', !(subs.mail && subs.mail.configured));
  fill($('#al-list'), subs.subscriptions.length
    ? h('ul.cards.al-subs', { 'aria-labelledby': 'al-mine-title' }, subs.subscriptions.map(subCard))
    : h('p.empty', null, t('al_none')));
  drawLog(log);
}

/** A subscription: what, where, how, and why it is paused. */
function subCard(s) {
  const what = [(s.kinds.length === KINDS.length ? t('al_kinds_both') : s.kinds.map((k) => t(`kind_${k}_pl`)).join(', ')),
    s.categories.length ? s.categories.map((c) => t('cat_' + c)).join(', ') : t('al_all_categories')].join(' · ');
  const where = s.polygon ? t('al_in_area') : t('al_within', { d: fmtDistance(s.radius_m) });
  let how = s.mode === 'digest' ? t('al_mode_digest') : t('al_mode_immediate');
  if (s.quiet_hours) how += ' · ' + t('al_quiet_between', { start: s.quiet_hours.start, end: s.quiet_hours.end });
  const title = `al-sub-${s.id}`;
  return h('li.card.al-sub', { 'data-sub': s.id },
    h('span.card-main', null,
      h('span.card-title', { id: title }, what),
      h('span.card-meta', null, where),
      h('span.card-meta', null, how),
      s.paused ? h('span.al-paused', null, t('al_paused', { why: mailReason(s.paused_reason) || t('al_paused_unknown') })) : null),
    h('span.row', null,
      s.paused ? h('button', { type: 'button', 'aria-describedby': title, onclick: (e) => act(e, 'POST', `/api/subscriptions/${s.id}/resume`, 'al_resumed') }, t('al_resume')) : null,
      h('button.danger', { type: 'button', 'data-act': 'delete', 'aria-describedby': title, onclick: (e) => act(e, 'DELETE', `/api/subscriptions/${s.id}`, 'al_deleted') },
        t('al_delete'))));
}

async function act(e, method, path, done) {
  const b = e.currentTarget;
  b.disabled = true;
  try {
    await api(method, path);
    toast(t(done));
    await refresh();
    $('#al-mine-title').focus(); // the button is gone with its card
  } catch (e2) {
    toast(errorText(e2), true);
    b.disabled = false;
  }
}

/* The server's reasons (English, from mapd/alerts.c and the delivery log) in the page's words. */
const REASONS = [
  [/^the mail server refused the message \(SMTP (\d+)\)$/, 'al_why_refused'],
  [/^the mail server did not take the message now \(SMTP (\d+)\)$/, 'al_why_later'],
  [/^the mail server could not be reached$/, 'al_why_unreachable'],
  [/^the server stopped while sending$/, 'al_why_stopped'],
  [/^the connection to the mail server failed$/, 'al_why_connection'],
  [/^the account's email address cannot be used for mail$/, 'al_why_address'],
  [/^the server is short of memory$/, 'al_why_memory'],
  [/^the subscription is paused$/, 'al_why_paused'],
  [/^the post is no longer open$/, 'al_why_closed'],
  [/^nothing of the digest is open any more$/, 'al_why_digest_closed'],
];
function mailReason(s) {
  if (!s) return '';
  for (const [re, key] of REASONS) {
    const m = re.exec(s);
    if (m) return t(key, { code: m[1] });
  }
  return s;
}

function drawLog(first) {
  const ol = h('ol.al-log', { 'aria-labelledby': 'al-log-title' }, first.deliveries.map(logItem));
  let last = first.deliveries.length ? first.deliveries[first.deliveries.length - 1].id : null;
  const more = h('button.more', { type: 'button', hidden: !first.more, onclick: async () => {
    more.disabled = true;
    try {
      const r = await api('GET', '/api/deliveries' + qs({ limit: LOG_PAGE, before: last }));
      ol.append(...r.deliveries.map(logItem));
      if (r.deliveries.length) last = r.deliveries[r.deliveries.length - 1].id;
      more.hidden = !r.more;
    } catch (e) { toast(errorText(e), true); }
    more.disabled = false;
  } }, t('show_more'));
  fill($('#al-log'), first.deliveries.length ? ol : h('p.empty', null, t('al_log_none')), more);
}

function logItem(d) {
  const title = d.type === 'test' ? t('al_type_test')
    : d.type === 'digest' ? t('al_type_digest')
    : t(d.type === 'item' ? 'al_type_item' : 'al_type_post', { title: d.post && d.post.title ? d.post.title : t('al_post_hidden') });
  let state;
  if (d.status === 'sent') state = t('al_st_sent', { date: fmtDate(d.sent_at) });
  else if (d.status === 'retrying') state = t('al_st_retrying', { date: fmtDate(d.next_attempt_at) });
  else state = t('al_st_' + d.status);
  const why = d.last_error && d.status !== 'sent' ? mailReason(d.last_error) : '';
  return h('li.al-delivery', { 'data-delivery': d.id, 'data-status': d.status, 'data-type': d.type },
    h('span.card-title', null, title),
    h('span.card-meta', null, [t('al_asked', { date: fmtDate(d.created_at) }),
      d.attempts > 0 ? t('al_attempts', { n: d.attempts }) : null].filter(Boolean).join(' · ')),
    h('span.chip.al-st-' + d.status, null, state),
    why ? h('span.al-why', null, t('al_why', { why })) : null);
}

async function sendTest(e) {
  const b = e.currentTarget;
  const err = $('#al-test-error');
  err.hidden = true;
  b.disabled = true;
  try {
    await api('POST', '/api/subscriptions/test');
    toast(t('al_test_asked'));
    await refresh();
    // the sender takes it at once: the log is read again to show how it went
    setTimeout(() => { if (currentTab() === 'alerts' && built !== null) refresh(); }, 3000);
  } catch (e2) {
    err.textContent = e2.status === 429 || e2.status === 503 ? e2.message : errorText(e2);
    err.hidden = false;
  } finally {
    b.disabled = false;
  }
}

/* ---- creating one ---- */

async function submit(e) {
  e.preventDefault();
  const f = e.target;
  const err = $('#al-form-error');
  err.hidden = true;
  const say = (text) => { err.textContent = text; err.hidden = false; };
  const picked = (name) => [...f.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
  const body = { kinds: picked('kinds'), categories: picked('categories'), mode: f.elements.mode.value, quiet_hours: null };
  if (!body.kinds.length) return say(t('al_need_kind'));
  if (f.elements.where.value === 'polygon') {
    if (!closed || points.length < 3) return say(t('al_need_area'));
    body.polygon = { type: 'Polygon', coordinates: [[...points, points[0]]] };
  } else body.radius_m = Number(f.elements.radius_m.value);
  if (f.elements.quiet.checked) {
    const start = f.elements.quiet_start.value, end = f.elements.quiet_end.value;
    if (!start || !end) return say(t('al_quiet_needed'));
    if (start === end) return say(t('al_quiet_same'));
    body.quiet_hours = { start, end };
  }
  const button = $('button[type=submit]', f);
  button.disabled = true;
  try {
    await api('POST', '/api/subscriptions', body);
    toast(t('al_created'));
    stopDrawing();
    clearArea();
    f.reset();
    whereChanged();
    quietChanged();
    await refresh();
  } catch (e2) {
    say(e2.status === 422 || e2.status === 409 || e2.status === 403 ? e2.message : errorText(e2));
  } finally {
    button.disabled = false;
  }
}

/* ---- drawing an area ---- */

function drawState() {
  const el = $('#al-draw-state');
  if (!el) return;
  const n = points.length;
  el.textContent = !M.getMap() ? t('al_draw_nomap')
    : drawing ? t('al_draw_count', { n }) + (n >= 3 ? ' ' + t('al_draw_can_finish') : '')
    : closed ? t('al_draw_done', { n }) : n ? t('al_draw_count', { n }) : t('al_draw_none');
  $('#al-draw-start').disabled = drawing || !M.getMap();
  $('#al-draw-start').textContent = n ? t('al_draw_resume') : t('al_draw_start');
  $('#al-draw-undo').disabled = !n;
  $('#al-draw-finish').disabled = !drawing || n < 3;
  $('#al-draw-clear').disabled = !n;
  drawBanner();
}

function startDrawing() {
  const map = M.getMap();
  if (!map) { drawState(); return; }
  if (wiredMap !== map) {
    wiredMap = map;
    map.on('click', (e) => {
      if (!drawing) return;
      points.push([Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))]);
      drawArea();
      drawState();
    });
  }
  drawing = true;
  closed = false;
  hiddenLayers = CLICKABLE.filter((l) => map.getLayer(l)).map((l) => [l, map.getLayoutProperty(l, 'visibility') || 'visible']);
  for (const [l] of hiddenLayers) map.setLayoutProperty(l, 'visibility', 'none');
  M.closePopup();
  document.body.classList.add('drawing');
  drawArea();
  drawState();
}

function stopDrawing() {
  if (!drawing) return;
  drawing = false;
  const map = M.getMap();
  if (map) for (const [l, v] of hiddenLayers) if (map.getLayer(l)) map.setLayoutProperty(l, 'visibility', v);
  hiddenLayers = [];
  document.body.classList.remove('drawing');
  drawState();
}

function undoPoint() {
  points.pop();
  if (points.length < 3) closed = false;
  drawArea();
  drawState();
}

function finishDrawing() {
  if (points.length < 3) return;
  stopDrawing();
  closed = true;
  drawArea();
  drawState();
  $('#form-alert button[type=submit]').focus();
}

function clearArea() {
  points = [];
  closed = false;
  drawArea();
}

/** The drawn area on the map, while the tab is shown: its corners, its outline, and its inside once 3 points are in. */
function drawArea() {
  const map = M.getMap();
  if (!map) return;
  const shown = currentTab() === 'alerts' && points.length > 0;
  const features = !shown ? [] : [
    ...points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } })),
    points.length >= 2 ? { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: closed || points.length >= 3 ? [...points, points[0]] : points } } : null,
    points.length >= 3 ? { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...points, points[0]]] } } : null,
  ].filter(Boolean);
  const data = { type: 'FeatureCollection', features };
  if (map.getSource(SOURCE)) { map.getSource(SOURCE).setData(data); return; }
  map.addSource(SOURCE, { type: 'geojson', data });
  map.addLayer({ id: SOURCE + '-fill', type: 'fill', source: SOURCE, filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'fill-color': ACCENT, 'fill-opacity': 0.15 } });
  map.addLayer({ id: SOURCE + '-line', type: 'line', source: SOURCE, filter: ['==', ['geometry-type'], 'LineString'],
    paint: { 'line-color': ACCENT, 'line-width': 3, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: SOURCE + '-points', type: 'circle', source: SOURCE, filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 6, 'circle-color': '#FFFFFF', 'circle-stroke-color': ACCENT, 'circle-stroke-width': 3 } });
}

/* The note over the map while drawing: how many points, take one back, finish. */
function drawBanner() {
  if (!drawing) { if (banner) banner.hidden = true; return; }
  if (!banner) {
    banner = h('div#map-draw.map-group', { role: 'group', 'aria-label': t('al_where_polygon') });
    document.querySelector('.mapwrap').append(banner);
  }
  banner.setAttribute('aria-label', t('al_where_polygon'));
  fill(banner, h('span', null, t('al_draw_count', { n: points.length })),
    h('button', { type: 'button', disabled: !points.length, onclick: undoPoint }, t('al_draw_undo')),
    h('button.primary', { type: 'button', disabled: points.length < 3, onclick: finishDrawing }, t('al_draw_finish')));
  banner.hidden = false;
}
