/*
 * staff_data.js — the "Données" (Data) tab, for municipal staff only.
 *
 * Four parts, each loaded when the tab is shown:
 *   - statistics of /api/stats over a window of days: three charts (posts
 *     per day, per category, per neighbourhood), each with a text summary
 *     for screen readers (aria-label) and its figures in a table, and links
 *     to the same figures as CSV;
 *   - the export form (GET /api/export): a file of at most 100,000 rows comes
 *     back at once and is saved; a larger one (202) becomes a job whose
 *     progress is polled until its file can be downloaded; below it the
 *     recent exports (/api/exports);
 *   - the OGC API – Features address to paste into QGIS, with a copy button
 *     and the steps;
 *   - the audit log (/api/audit), newest first, a page at a time.
 *
 * This module, and uPlot (the chart library, from npm), are loaded by a
 * dynamic import() only when a staff member opens the tab: bundled, each is a
 * chunk of its own, and nobody else downloads them (main.js).
 */
import { api, qs, can } from './api.js';
import { h, $, fill, field } from './dom.js';
import { t, fmtDate, lang, CATEGORIES } from './i18n.js';
import { toast, errorText } from './ui.js';
import { on } from './events.js';

const DAY = 86400;
const STATUSES = ['open', 'claimed', 'done', 'cancelled', 'expired'];
const SHOP_STATUSES = ['unknown', 'open', 'closed', 'delivery_only', 'takeaway_only'];
const LAYERS = ['needs', 'shops', 'makers', 'neighbourhoods'];
/* The filters each layer takes (the export's, geodata/read/features.c). */
const FILTERS = {
  needs: ['neighbourhood', 'category', 'status', 'since', 'until'],
  shops: ['neighbourhood', 'status'],
  makers: ['neighbourhood'],
  neighbourhoods: [],
};
/* Format names are the formats' own, the same in every language. */
const FORMATS = [['gpkg', 'GeoPackage (.gpkg)'], ['geojson', 'GeoJSON'], ['csv', 'CSV'],
  ['shp', 'Shapefile (.zip)'], ['fgb', 'FlatGeobuf'], ['kml', 'KML'], ['xlsx', 'XLSX']];
const CRSS = [['EPSG:2154', 'Lambert-93 (EPSG:2154)'], ['EPSG:4326', 'WGS 84 (EPSG:4326)']];
const TOP = 10;             // neighbourhoods in the chart (the table lists them all)
const POLL_MS = 1000;       // a background export's progress is read this often
const AUDIT_PAGE = 20;

let uplot = null;           // the uPlot module, once imported
let charts = [];            // the charts shown, resized with the pane
let seq = 0;                // only the latest render is shown
let poller = null;          // the timer of the export being polled
let windowArgs = null;      // {since, until} asked for, kept while the tab lives
let nbNames = new Map();    // neighbourhood id -> name, from the statistics
let nbSelect = null;        // the export form's neighbourhood list, filled once they are known

const dayText = (s) => new Date(s * 1000).toISOString().slice(0, 10);
const fmtDay = (iso, opts = { dateStyle: 'medium' }) => new Intl.DateTimeFormat(lang(), { ...opts, timeZone: 'UTC' }).format(new Date(iso + 'T00:00:00Z'));
const num = (n) => new Intl.NumberFormat(lang()).format(n);

/** Seconds as "2 h 5 min", "3 j 4 h", "45 s" in the page's language. */
function fmtDuration(s) {
  const parts = [];
  let left = Math.round(s);
  for (const [size, unit] of [[DAY, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']]) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n || (parts.length === 0 && size === 1)) parts.push(new Intl.NumberFormat(lang(), { style: 'unit', unit, unitDisplay: 'short' }).format(n));
    else if (parts.length) break;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** Shows the tab (called by main.js each time it is opened, and on a change of language). */
export async function show() {
  const pane = $('#pane-data');
  if (!can.staff()) { stopPolling(); fill(pane); return; }
  const my = ++seq;
  const stats = h('section.data-part', { 'aria-labelledby': 'data-stats-title' });
  const exp = h('section.data-part', { 'aria-labelledby': 'data-export-title' });
  const ogc = qgisPart();
  const audit = h('section.data-part', { 'aria-labelledby': 'data-audit-title' });
  fill(pane, h('h2.pane-title', null, t('tab_data')), stats, exp, ogc, audit);
  renderStats(stats, my);
  renderExport(exp);
  renderAudit(audit, null);
}

/* ---- statistics ------------------------------------------------------------ */

async function renderStats(box, my) {
  const form = h('form.row.data-window', { onsubmit: (e) => {
    e.preventDefault();
    windowArgs = { since: form.since.value, until: form.until.value };
    renderStats(box, my);
  } },
  field(t('data_since'), h('input', { type: 'date', name: 'since', value: windowArgs ? windowArgs.since : '' })),
  field(t('data_until'), h('input', { type: 'date', name: 'until', value: windowArgs ? windowArgs.until : '' })),
  h('button', { type: 'submit' }, t('data_show')));
  const body = h('div.data-stats', { 'aria-live': 'polite' }, h('p.hint', { role: 'status' }, t('loading')));
  fill(box, h('h3#data-stats-title', null, t('data_stats_title')), form, body);
  let s;
  try {
    [s, uplot] = await Promise.all([api('GET', '/api/stats' + qs(windowArgs || {})), uplot || import('uplot').then((m) => m.default)]);
  } catch (e) {
    if (my === seq) fill(body, h('p.error', { role: 'alert' }, e instanceof Error && e.status === undefined ? t('data_chart_failed') : errorText(e)));
    return;
  }
  if (my !== seq) return;
  form.since.value = s.window.since;
  form.until.value = s.window.until;
  nbNames = new Map(s.neighbourhoods.map((n) => [n.id, n.name]));
  fillNeighbourhoods();
  const csv = (table) => '/api/stats' + qs({ format: 'csv', table, since: s.window.since, until: s.window.until });
  const median = (m, key) => (m.posts ? t(key, { n: m.posts, time: fmtDuration(m.median_seconds) }) : t(key + '_unknown'));
  for (const c of charts) c.destroy();
  charts = [];
  const days = s.needs.by_day;
  const cats = CATEGORIES.map((c) => [t('cat_' + c), s.needs.by_category[c] || 0]);
  const nbs = s.neighbourhoods.filter((n) => n.posts > 0).sort((a, b) => b.posts - a.posts || a.name.localeCompare(b.name));
  const top = nbs.slice(0, TOP).map((n) => [n.name, n.posts]);
  fill(body,
    h('p.data-summary', null, t('data_summary', { n: s.needs.posts, since: fmtDay(s.window.since), until: fmtDay(s.window.until) })),
    h('ul.data-facts', null,
      h('li', null, median(s.times.to_claim, 'data_median_claim')),
      h('li', null, median(s.times.to_done, 'data_median_done')),
      h('li', null, t('data_shops_line', { n: s.shops.total, unconfirmed: num(s.shops.unconfirmed) }))),
    chartBlock('days', t('data_chart_days'), daysSummary(days), () => daysChart(days),
      [t('col_day'), t('col_posts')], days.filter((d) => d.posts).map((d) => [fmtDay(d.day), num(d.posts)])),
    chartBlock('categories', t('data_chart_categories'), barsSummary(cats), () => barsChart(cats),
      [t('category'), t('col_posts')], cats.map(([k, v]) => [k, num(v)])),
    chartBlock('neighbourhoods', t('data_chart_neighbourhoods', { n: TOP }), barsSummary(top), () => barsChart(top),
      [t('col_neighbourhood'), t('col_posts'), t('col_members'), t('col_shops_unconfirmed')],
      s.neighbourhoods.slice().sort((a, b) => b.posts - a.posts || a.name.localeCompare(b.name))
        .map((n) => [n.name, num(n.posts), num(n.verified_members), `${num(n.shops_unconfirmed)} / ${num(n.shops)}`])),
    h('p.data-csv', null, t('data_csv'), ' ',
      h('a', { href: csv('needs'), download: '' }, t('data_csv_needs')), ' · ',
      h('a', { href: csv('neighbourhoods'), download: '' }, t('data_csv_neighbourhoods')), ' · ',
      h('a', { href: csv('shops'), download: '' }, t('data_csv_shops'))));
  for (const el of body.querySelectorAll('.chart[data-chart]')) el.draw();
}

function daysSummary(days) {
  const total = days.reduce((a, d) => a + d.posts, 0);
  const max = days.reduce((m, d) => (d.posts > m.posts ? d : m), days[0]);
  return total ? t('data_days_summary', { n: total, days: days.length, max: num(max.posts), day: fmtDay(max.day) }) : t('data_nothing');
}

function barsSummary(rows) {
  const shown = rows.filter(([, v]) => v > 0);
  return shown.length ? shown.map(([k, v]) => `${k} ${num(v)}`).join(', ') : t('data_nothing');
}

/**
 * A figure: its title, the chart (role img, its summary as label), and the
 * figures in a table a screen reader or a keyboard can read.
 */
function chartBlock(name, title, summary, make, cols, rows) {
  const id = 'data-chart-' + name;
  const holder = h('div.chart', { 'data-chart': name, role: 'img', 'aria-label': `${title}. ${summary}` });
  holder.draw = () => {
    try { charts.push(make()(holder)); } catch (e) { console.warn('chart:', e); fill(holder, h('p.error', null, t('data_chart_failed'))); }
  };
  return h('figure.data-figure', { 'aria-labelledby': id },
    h('figcaption', { id }, title),
    holder,
    h('details', null, h('summary', null, t('data_table_show')),
      h('div.table-wrap', null,
        h('table.data-table', null,
          h('caption', null, title),
          h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, rows.length ? rows.map((r) => h('tr', null, r.map((v, i) => (i ? h('td', null, v) : h('th', { scope: 'row' }, v)))))
            : h('tr', null, h('td', { colspan: cols.length }, t('data_nothing'))))))));
}

const ACCENT = '#005A9C', INK = '#1B1F23', GRID = '#E2E5E8';
const axisFont = '14px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';

function chartWidth(holder) { return Math.max(260, Math.floor(holder.getBoundingClientRect().width || 320)); }

/** What both kinds of chart share: no legend nor cursor, one series of bars, integer ticks. */
function chart(holder, opts, x, y, size) {
  const ints = (u, splits) => splits.map((v) => (Number.isInteger(v) ? num(v) : ''));
  opts.axes[1].values = ints;
  for (const a of opts.axes) Object.assign(a, { stroke: INK, font: axisFont, grid: a.grid || { show: false } });
  return new uplot({
    width: chartWidth(holder), legend: { show: false }, cursor: { show: false }, ...opts,
    series: [{}, { fill: ACCENT, stroke: ACCENT, paths: uplot.paths.bars({ size }), points: { show: false } }],
  }, [x, y], holder);
}
const fromZero = (u, lo, hi) => [0, Math.max(1, hi)];

/** Posts per day: bars over the days of the window (UTC days). */
function daysChart(days) {
  return (holder) => {
    const short = new Intl.DateTimeFormat(lang(), { day: 'numeric', month: 'short', timeZone: 'UTC' });
    return chart(holder, {
      height: 200, tzDate: (ts) => uplot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: fromZero } },
      axes: [{ space: 70, values: (u, splits) => splits.map((v) => short.format(new Date(v * 1000))) }, { grid: { stroke: GRID }, size: 44 }],
    }, days.map((d) => Date.parse(d.day + 'T00:00:00Z') / 1000), days.map((d) => d.posts), [0.8, 40]);
  };
}

/** Horizontal bars, one per [label, value], the labels on the left. */
function barsChart(rows) {
  return (holder) => {
    const width = chartWidth(holder);
    // the labels' room: the longest one measured, at most half the width; longer ones are cut
    // with "…" (the table and the summary say them whole)
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = axisFont;
    const room = Math.round(width * 0.5) - 16;
    const fit = (l) => { let s = l; while (s.length > 4 && ctx.measureText(s).width > room) s = s.slice(0, -2) + '…'; return s; };
    const labels = rows.map(([k]) => fit(k));
    const labelW = 16 + Math.ceil(Math.max(30, ...labels.map((l) => ctx.measureText(l).width)));
    const index = labels.map((_, i) => i);
    return chart(holder, {
      height: Math.max(80, 30 * rows.length + 40),
      scales: { x: { time: false, ori: 1, dir: -1, range: [-0.5, Math.max(0.5, rows.length - 0.5)] }, y: { ori: 0, range: fromZero } },
      axes: [{ side: 3, size: labelW, splits: () => index, values: (u, splits) => splits.map((i) => labels[i] || '') }, { side: 0, grid: { stroke: GRID } }],
    }, index, rows.map(([, v]) => v), [0.7, 24]);
  };
}

/* The charts follow the pane's width (a phone turned, a window resized). */
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { for (const c of charts) if (c.root.isConnected) c.setSize({ width: chartWidth(c.root.parentElement), height: c.height }); }, 150);
});

/* ---- exports --------------------------------------------------------------------- */

function options(list, current) {
  return list.map(([v, label]) => h('option', { value: v, selected: v === current }, label));
}

function renderExport(box) {
  const err = h('p.error', { role: 'alert', hidden: true });
  const progress = h('div.export-progress', { 'aria-live': 'polite' });
  const recent = h('div.export-recent');
  const sel = (name, list) => h('select', { name }, options(list));
  const form = h('form.stack.export-form', null,
    h('div.row',
      null,
      field(t('data_layer'), sel('layer', LAYERS.map((l) => [l, t('layer_' + l)]))),
      field(t('data_format'), sel('format', FORMATS)),
      field(t('data_crs'), sel('crs', CRSS))),
    h('div.row', null,
      h('label', { 'data-filter': 'neighbourhood' }, h('span', null, t('data_neighbourhood')),
        nbSelect = sel('neighbourhood', [])),
      h('label', { 'data-filter': 'category' }, h('span', null, t('category')),
        sel('category', [['', t('all_categories')], ...CATEGORIES.map((c) => [c, t('cat_' + c)])])),
      h('label', { 'data-filter': 'status' }, h('span', null, t('status')), sel('status', []))),
    h('div.row', null,
      h('label', { 'data-filter': 'since' }, h('span', null, t('data_posted_since')), h('input', { type: 'date', name: 'since' })),
      h('label', { 'data-filter': 'until' }, h('span', null, t('data_posted_until')), h('input', { type: 'date', name: 'until' }))),
    err,
    h('div.row', null, h('button.primary', { type: 'submit' }, t('data_export_go'))));
  const layerChanged = () => {
    const layer = form.layer.value;
    for (const el of form.querySelectorAll('[data-filter]')) el.hidden = !FILTERS[layer].includes(el.dataset.filter);
    const statuses = layer === 'needs' ? STATUSES.map((s) => [s, t('status_' + s)]) : SHOP_STATUSES.map((s) => [s, t('shop_' + s)]);
    fill(form.status, options([['', t('data_any_status')], ...statuses], ''));
  };
  form.layer.addEventListener('change', layerChanged);
  layerChanged();
  fillNeighbourhoods();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    const layer = form.layer.value;
    const args = { layer, format: form.format.value, crs: form.crs.value };
    for (const f of FILTERS[layer]) args[f] = form[f].value;
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    try { await runExport('/api/export' + qs(args), progress, recent); } catch (ex) { err.textContent = errorText(ex); err.hidden = false; } finally { button.disabled = false; }
  });
  fill(box, h('h3#data-export-title', null, t('data_export_title')),
    h('p.hint', null, t('data_export_hint')), form, progress,
    h('h4', null, t('data_exports_recent')), recent);
  renderRecent(recent);
}

/** The neighbourhoods of the export form, by name, the choice kept. */
function fillNeighbourhoods() {
  if (!nbSelect) return;
  const v = nbSelect.value;
  const list = [...nbNames].sort((a, b) => a[1].localeCompare(b[1], lang()));
  fill(nbSelect, options([['', t('data_any_neighbourhood')], ...list], v));
}

/**
 * Asks for an export: a file (200) is saved at once; a job (202) is
 * followed until its file is ready. Throws ApiError-like errors for 4xx/5xx.
 */
async function runExport(url, progress, recent) {
  stopPolling();
  fill(progress, h('p.hint', null, t('data_export_asking')));
  let r;
  try {
    r = await fetch(url, { credentials: 'same-origin', headers: { 'Accept-Language': lang() } });
  } catch { fill(progress); throw { status: 0 }; }
  if (!r.ok) {
    fill(progress);
    let doc = null;
    try { doc = await r.json(); } catch { /* not a problem document */ }
    throw Object.assign(new Error((doc && doc.detail) || `HTTP ${r.status}`), { status: r.status });
  }
  if (r.status === 202) {
    const job = await r.json();
    follow(job, progress, recent);
    return;
  }
  const name = (/filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '') || [])[1] || 'entraide-export';
  const blob = await r.blob();
  const href = URL.createObjectURL(blob);
  const link = h('a.button-link', { href, download: name, 'data-export-file': name }, t('data_export_download'));
  fill(progress, h('p.done', { role: 'status' }, t('data_export_ready', { name })), link);
  link.click();
  renderRecent(recent);
}

/** Polls a background export until it is done or failed. */
function follow(job, progress, recent) {
  const bar = h('progress', { max: Math.max(1, job.rows_total), value: job.rows_done });
  const line = h('p.hint', { role: 'status' });
  const update = (j) => {
    bar.max = Math.max(1, j.rows_total);
    bar.value = j.rows_done;
    line.textContent = j.status === 'queued' ? t('data_export_queued') : t('data_export_working', { done: num(j.rows_done), total: num(j.rows_total), n: j.rows_total });
  };
  update(job);
  fill(progress, line, bar);
  const tick = async () => {
    let j;
    try { j = await api('GET', `/api/exports/${job.id}`); } catch (e) { fill(progress, h('p.error', { role: 'alert' }, errorText(e))); return; }
    if (j.status === 'done') {
      fill(progress, h('p.done', { role: 'status' }, t('data_export_ready', { name: j.filename })),
        h('a.button-link', { href: j.file, download: j.filename, 'data-export-file': j.filename }, t('data_export_download')));
      renderRecent(recent);
    } else if (j.status === 'failed') {
      fill(progress, h('p.error', { role: 'alert' }, t('data_export_failed', { error: j.error || '' })));
      renderRecent(recent);
    } else {
      update(j);
      poller = setTimeout(tick, POLL_MS);
    }
  };
  poller = setTimeout(tick, POLL_MS);
}

function stopPolling() { clearTimeout(poller); poller = null; }

async function renderRecent(box) {
  let list;
  try { list = (await api('GET', '/api/exports')).exports; } catch (e) { fill(box, h('p.error', null, errorText(e))); return; }
  if (!list.length) { fill(box, h('p.empty', null, t('data_exports_none'))); return; }
  fill(box, h('ul.cards.export-list', null, list.map((j) => h('li.mod-item', { 'data-export': j.id },
    h('p', null, h('strong', null, t('layer_' + j.layer)), ' · ', j.format.toUpperCase(), ' · ', j.crs, ' · ',
      t('data_rows', { n: j.rows_total, count: num(j.rows_total) })),
    h('p.hint', null, fmtDate(j.created_at), ' · ', t('data_job_' + j.status),
      j.requested_by && j.requested_by.display_name ? ' · ' + j.requested_by.display_name : ''),
    j.status === 'done' && j.file ? h('a', { href: j.file, download: j.filename }, t('data_export_download') + ' (' + j.filename + ')') : null))));
}

/* ---- QGIS ------------------------------------------------------------------------------- */

function qgisPart() {
  const url = location.origin + '/ogc';
  const input = h('input#data-ogc-url', { type: 'text', readonly: true, value: url, onfocus: (e) => e.target.select() });
  return h('section.data-part', { 'aria-labelledby': 'data-qgis-title' },
    h('h3#data-qgis-title', null, t('data_qgis_title')),
    h('div.row', null,
      h('label', null, h('span', null, t('data_qgis_url')), input),
      h('button', { type: 'button', 'data-copy': 'ogc', onclick: async () => {
        input.select();
        try { await navigator.clipboard.writeText(url); toast(t('data_copied')); } catch { toast(t('data_copy_by_hand')); }
      } }, t('copy'))),
    h('ol.data-steps', null, ['data_qgis_1', 'data_qgis_2', 'data_qgis_3', 'data_qgis_4'].map((k) => h('li', null, t(k)))));
}

/* ---- the audit log ----------------------------------------------------------------------- */

function actionText(action) {
  const key = 'audit_' + action.replace(/\W+/g, '_');
  const s = t(key);
  return s === key ? h('code', { lang: 'en' }, action) : s;
}

async function renderAudit(box, before, list) {
  if (!list) {
    list = h('ol.audit-list');
    fill(box, h('h3#data-audit-title', null, t('data_audit_title')), h('p.hint', null, t('data_audit_hint')), list);
  }
  const more = box.querySelector('button[data-audit-more]');
  if (more) more.remove();
  let page;
  try { page = await api('GET', '/api/audit' + qs({ limit: AUDIT_PAGE, before })); } catch (e) { box.append(h('p.error', null, errorText(e))); return; }
  if (!page.entries.length && !before) list.replaceWith(h('p.empty', null, t('data_audit_none')));
  for (const en of page.entries) {
    list.append(h('li.audit-entry', { 'data-audit': en.id },
      h('p', null, h('strong', null, actionText(en.action)), en.target ? [' · ', h('span', { lang: 'en' }, en.target)] : null),
      h('p.hint', null, fmtDate(en.at), ' · ', en.actor ? en.actor.display_name : t('data_audit_cli')),
      en.detail ? h('p.audit-detail', null, h('code', { lang: 'en' }, en.detail)) : null));
  }
  if (page.next_before) {
    box.append(h('button', { type: 'button', 'data-audit-more': '', onclick: () => renderAudit(box, page.next_before, list) }, t('data_audit_more')));
  }
}

on('session', () => { if (!can.staff()) { stopPolling(); windowArgs = null; } });
