/*
 * map.js — the MapLibre map: basemap, Entraide's layers, legend, clicks.
 *
 * The data layers come from the tileset described by /tiles.json (one vector
 * source, "entraide", fetched with the session cookie, so members get the
 * needs and makers of the neighbourhoods they may see). The basemap is, by
 * deployment (config.json):
 *   - builtin (default, offline): paper background, neighbourhood outlines
 *     with names, and the address points of the tileset at high zoom;
 *   - a MapLibre style URL, drawn under Entraide's layers;
 *   - a PMTiles archive (raster, or vector drawn with a plain generic style).
 * No glyph URL is set by the builtin style: MapLibre then draws labels with
 * the browser's own fonts, so nothing is fetched from elsewhere.
 *
 * Colours follow the Okabe–Ito palette, and every kind of thing also has its
 * own shape (circle: shop, diamond: request, triangle: offer, square: mask
 * maker), so nothing rests on colour alone. A hollow symbol means "not
 * current": a shop status not confirmed for 7 days, or a need already claimed.
 *
 * The page works without the map: MapLibre (the largest file by far) is
 * loaded only when createMap is called, on a device with WebGL 2, and every
 * function exported below may be called before the map has loaded or when
 * it never does (no WebGL 2, a failure). Then they do nothing, keep what
 * they are told for the map to apply once it has loaded, or answer from the
 * tileset's area (viewQuery); a popup opens as a dialog. Callers never check
 * for the map.
 */
import { h, fill, swatch } from './dom.js';
import { t, onLang, stringsOf } from './i18n.js';
import { showDialog } from './ui.js';

let maplibregl = null; // the MapLibre module, once loadMapLibre() has it
let loading = null;
function loadMapLibre() {
  loading = loading || import('maplibre-gl').then((m) => (maplibregl = m));
  return loading;
}

export const COLORS = {
  open: '#009E73', delivery_only: '#56B4E9', takeaway_only: '#E69F00', closed: '#4D4D4D', unknown: '#ABABAB',
  request: '#CC79A7', requestLine: '#6B2A55', offer: '#0072B2', offerLine: '#00365A',
  maker: '#F0E442', makerLine: '#000000', needCluster: '#882255', shopCluster: '#1F4D40', shopClusterNone: '#767676',
};

const DATA_LAYERS = ['needs', 'needs-cluster', 'makers', 'shops', 'shops-cluster'];

export const mapEvents = new EventTarget();
let map = null;
let selectedNeed = null;
let overlayFonts = { regular: ['Noto Sans Regular'], bold: ['Noto Sans Bold'] };
const names = new Map(); // neighbourhood id -> name, learnt from the tiles

function emit(type, detail) { mapEvents.dispatchEvent(new CustomEvent(type, { detail })); }

/* Starts loading MapLibre, and its workers, while config, tileset and account are read. */
export function prewarm() {
  loadMapLibre().then((m) => m.prewarm(), () => { /* createMap will say */ });
}

/**
 * Whether this browser can draw the map: MapLibre needs WebGL 2. The probe's
 * context is released at once.
 */
export function webgl2() {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return false;
    const lose = gl.getExtension('WEBGL_lose_context');
    if (lose) lose.loseContext();
    return true;
  } catch { return false; }
}

/* Until the map has loaded (`ready`), what the page asks of it is kept here
   and applied once it has loaded; while it is being made (`starting`), a
   popup and a move wait for it too. When it fails, or is never made, a
   popup opens as a dialog and a move does nothing. */
let ready = false;
let starting = false;
const pending = { visible: null, filters: null, ids: null, tiles: null, popup: null, view: null };
let area = { center: [0, 0], bounds: null }; // the tileset's, for viewQuery without a map
let origin = null;        // {kind, lngLat} where "near me" is measured from, or null
let originMarker = null;  // its MapLibre marker

/** The tileset's area (from /tiles.json): what viewQuery answers from without a map. */
export function setArea(tilejson) {
  const b = tilejson && tilejson.bounds;
  const c = tilejson && tilejson.center;
  area = { bounds: b || null, center: c ? c.slice(0, 2) : b ? [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] : [0, 0] };
}

/* ---- style ---- */

/*
 * The tiles' URLs are the tileset's as they are, for every viewer and after
 * every change. mapd answers a tile with a strong ETag (a hash of its
 * bytes), `Cache-Control: no-cache` and `Vary: Accept-Encoding, Cookie`
 * (mapd/api_tiles.c): the browser asks again whenever MapLibre fetches a
 * tile, sending the ETag of its copy, and an unchanged tile costs a 304.
 * A new viewer (login, logout) needs no URL of its own: the answer is the
 * cookie's, and its ETag is its bytes', so a copy made for the previous
 * viewer is answered 304 only when the new viewer's tile is the same bytes
 * (and Vary: Cookie keeps the browser from even offering it).
 */
function tileSource(tilejson) {
  return {
    type: 'vector',
    tiles: tilejson.tiles.slice(),
    minzoom: tilejson.minzoom ?? 0,
    maxzoom: tilejson.maxzoom ?? 16,
    bounds: tilejson.bounds,
    attribution: tilejson.attribution || '',
    promoteId: { needs: 'id', shops: 'id', makers: 'id', neighbourhoods: 'id' },
  };
}

const isCluster = ['==', ['get', 'cluster'], true];
const notCluster = ['!=', ['get', 'cluster'], true];

/** The filters the list starts with; the needs layers are built with them. */
export const INITIAL_NEED_FILTERS = Object.freeze({ kind: '', category: '', status: 'open', q: '' });

function needFilters({ kind, category, status, q }, ids) {
  const lone = ['all', notCluster];
  if (kind) lone.push(['==', ['get', 'kind'], kind]);
  if (category) lone.push(['==', ['get', 'category'], category]);
  if (status && status !== 'any') lone.push(['==', ['get', 'status'], status]);
  if (q && ids) lone.push(['in', ['get', 'id'], ['literal', ids]]);
  const cl = ['all', isCluster];
  if (category) cl.push(['has', 'count_' + category]);
  return { lone, cl };
}

function overlayLayers(builtin, visible) {
  const mine = ['in', ['get', 'id'], ['literal', visible]];
  const L = [];
  // For questions only ("which neighbourhoods are on screen?"): a layer whose
  // opacity is 0 is never drawn.
  L.push({
    id: 'nb-hit', type: 'fill', source: 'entraide', 'source-layer': 'neighbourhoods',
    filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-opacity': 0 },
  });
  // Only the member's area is tinted: every pixel a layer covers costs, and
  // software WebGL pays for each one on every frame.
  L.push({
    id: 'nb-fill', type: 'fill', source: 'entraide', 'source-layer': 'neighbourhoods',
    filter: ['all', ['==', ['geometry-type'], 'Polygon'], mine],
    paint: builtin ? { 'fill-color': '#E1EBF6', 'fill-antialias': false }
      : { 'fill-color': '#3F7FBF', 'fill-opacity': 0.13, 'fill-antialias': false },
  });
  // The offline map's streets, derived from the addresses (tileset layer
  // "streets", from zoom 13): a white fill on a light casing, as wide as a
  // street at zoom 17 and more.
  const streetWidth = (w13, w15, w17, w19) => ['interpolate', ['exponential', 1.5], ['zoom'], 13, w13, 15, w15, 17, w17, 19, w19];
  if (builtin) {
    L.push({
      id: 'street-casing', type: 'line', source: 'entraide', 'source-layer': 'streets', minzoom: 13,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#C4B8A4', 'line-width': streetWidth(1.3, 5, 15, 44) },
    });
    L.push({
      id: 'street', type: 'line', source: 'entraide', 'source-layer': 'streets', minzoom: 13,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#FFFFFF', 'line-width': streetWidth(0.5, 3.6, 12, 38) },
    });
  }
  L.push({
    id: 'nb-line', type: 'line', source: 'entraide', 'source-layer': 'neighbourhoods',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'line-color': '#5C6670', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.6, 15, 1.6] },
  });
  if (builtin) {
    L.push({
      id: 'addr-dot', type: 'circle', source: 'entraide', 'source-layer': 'addresses', minzoom: 16,
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 16, 1.6, 19, 3.5], 'circle-color': '#8C8C8C' },
    });
    L.push({
      id: 'addr-num', type: 'symbol', source: 'entraide', 'source-layer': 'addresses', minzoom: 17,
      layout: { 'text-field': ['get', 'number'], 'text-font': overlayFonts.regular, 'text-size': 10,
        'text-offset': [0, 0.9], 'text-padding': 1 },
      paint: { 'text-color': '#555555', 'text-halo-color': '#FFFFFF', 'text-halo-width': 1.2 },
    });
    L.push({
      id: 'addr-street', type: 'symbol', source: 'entraide', 'source-layer': 'addresses', minzoom: 16.5,
      layout: { 'text-field': ['get', 'street'], 'text-font': overlayFonts.regular, 'text-size': 11,
        'text-offset': [0, -1], 'text-padding': 60, 'symbol-sort-key': ['to-number', ['get', 'number']] },
      paint: { 'text-color': '#3A3A3A', 'text-halo-color': '#FFFFFF', 'text-halo-width': 1.5 },
    });
    L.push({
      id: 'street-name', type: 'symbol', source: 'entraide', 'source-layer': 'streets', minzoom: 15,
      layout: { 'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-font': overlayFonts.regular,
        'text-size': ['interpolate', ['linear'], ['zoom'], 15, 10, 17, 12, 19, 14], 'text-max-angle': 35,
        'symbol-spacing': 350, 'text-padding': 4 },
      paint: { 'text-color': '#333333', 'text-halo-color': '#FFFFFF', 'text-halo-width': 1.6 },
    });
  }
  L.push({
    id: 'nb-label', type: 'symbol', source: 'entraide', 'source-layer': 'neighbourhoods',
    filter: ['all', ['==', ['geometry-type'], 'Point'], ['==', ['get', 'label'], true]],
    layout: { 'text-field': ['get', 'name'], 'text-font': overlayFonts.bold,
      'text-size': ['interpolate', ['linear'], ['zoom'], 11, 11, 15, 15], 'text-max-width': 8,
      'text-transform': 'uppercase', 'text-letter-spacing': 0.05 },
    paint: { 'text-color': '#33404D', 'text-halo-color': '#FFFFFF', 'text-halo-width': 1.6 },
  });
  const status = ['get', 'status'];
  const statusColor = ['match', status, 'open', COLORS.open, 'delivery_only', COLORS.delivery_only,
    'takeaway_only', COLORS.takeaway_only, 'closed', COLORS.closed, COLORS.unknown];
  const confirmed = ['all', ['==', ['get', 'confirmed'], true], ['!=', status, 'unknown']];
  const count = (k) => ['coalesce', ['get', 'count_' + k], 0];
  const someOpen = ['>', ['+', count('open'), count('delivery_only'), count('takeaway_only')], 0];
  L.push({
    id: 'shops-cluster', type: 'circle', source: 'entraide', 'source-layer': 'shops', filter: isCluster,
    paint: { 'circle-color': '#FFFFFF', 'circle-stroke-color': ['case', someOpen, COLORS.open, COLORS.shopClusterNone],
      'circle-stroke-width': ['case', someOpen, 3, 2],
      'circle-radius': ['step', ['get', 'point_count'], 9, 5, 11, 20, 14, 50, 17] },
  });
  L.push({
    id: 'shops-cluster-count', type: 'symbol', source: 'entraide', 'source-layer': 'shops', filter: isCluster,
    layout: { 'text-field': ['to-string', ['get', 'point_count']], 'text-font': overlayFonts.bold, 'text-size': 11,
      'text-allow-overlap': true, 'text-ignore-placement': true },
    paint: { 'text-color': COLORS.shopCluster },
  });
  L.push({
    id: 'shops', type: 'circle', source: 'entraide', 'source-layer': 'shops', filter: notCluster,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, ['case', ['==', status, 'unknown'], 3, 4.5],
        17, ['case', ['==', status, 'unknown'], 5, 8]],
      'circle-color': ['case', confirmed, statusColor, '#FFFFFF'],
      'circle-stroke-color': ['case', ['==', status, 'unknown'], '#767676', statusColor],
      'circle-stroke-width': ['case', confirmed, 1.2, ['==', status, 'unknown'], 1.5, 2.5],
    },
  });
  const start = needFilters(INITIAL_NEED_FILTERS);
  L.push({
    id: 'needs-halo', type: 'circle', source: 'entraide', 'source-layer': 'needs', filter: start.lone,
    paint: { 'circle-radius': 16, 'circle-color': '#1A1A1A',
      'circle-opacity': ['case', ['boolean', ['feature-state', 'sel'], false], 0.28,
        ['boolean', ['feature-state', 'hover'], false], 0.14, 0] },
  });
  L.push({
    id: 'needs-cluster', type: 'symbol', source: 'entraide', 'source-layer': 'needs', filter: start.cl,
    layout: { 'icon-image': 'need-group', 'icon-size': ['step', ['get', 'point_count'], 0.8, 5, 0.95, 20, 1.15],
      'icon-allow-overlap': true, 'icon-ignore-placement': true,
      'text-field': ['to-string', ['get', 'point_count']], 'text-font': overlayFonts.bold, 'text-size': 12,
      'text-allow-overlap': true, 'text-ignore-placement': true },
    paint: { 'text-color': COLORS.needCluster },
  });
  L.push({
    id: 'needs', type: 'symbol', source: 'entraide', 'source-layer': 'needs', filter: start.lone,
    layout: {
      'icon-image': ['concat', 'need-', ['get', 'kind'], ['case', ['==', status, 'claimed'], '-claimed', '']],
      'icon-allow-overlap': true, 'icon-ignore-placement': true,
    },
  });
  // Above the needs: a maker's own materials request shares the maker's point.
  L.push({
    id: 'makers', type: 'symbol', source: 'entraide', 'source-layer': 'makers',
    layout: { 'icon-image': 'maker', 'icon-allow-overlap': true, 'icon-ignore-placement': true,
      'text-field': ['case', isCluster, ['to-string', ['get', 'point_count']], ''],
      'text-font': overlayFonts.bold, 'text-size': 10, 'text-allow-overlap': true, 'text-ignore-placement': true },
  });
  return L;
}

/* The builtin basemap draws nothing under the data: the page's background
   shows through the transparent canvas (see #map in app.css). */
const BUILTIN = () => ({ sources: {}, layers: [] });

/** The basemap part of the style, from config.basemap. */
async function basemapStyle(conf) {
  if (!conf || conf.type === 'builtin' || (!conf.style && !conf.pmtiles)) return { style: BUILTIN(), builtin: true };
  if (conf.pmtiles) {
    const { Protocol, PMTiles, TileType } = await import('pmtiles');
    const protocol = new Protocol();
    maplibregl.addProtocol('pmtiles', protocol.tile);
    const url = new URL(conf.pmtiles, location.href).href;
    const archive = new PMTiles(url);
    protocol.add(archive);
    const header = await archive.getHeader();
    const src = 'pmtiles://' + url;
    const style = { sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#EFEBE3' } }] };
    if (header.tileType === TileType.Mvt) {
      const meta = await archive.getMetadata();
      style.sources.basemap = { type: 'vector', url: src, attribution: conf.attribution || meta.attribution };
      style.layers.push(...genericVectorLayers(meta.vector_layers || []));
    } else {
      style.sources.basemap = { type: 'raster', url: src, tileSize: conf.tileSize || 256, attribution: conf.attribution };
      style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap' });
    }
    return { style, builtin: false };
  }
  const r = await fetch(conf.style);
  if (!r.ok) throw new Error('basemap style: HTTP ' + r.status);
  const style = await r.json();
  if (JSON.stringify(style).includes('pmtiles://')) {
    const { Protocol } = await import('pmtiles');
    maplibregl.addProtocol('pmtiles', new Protocol().tile);
  }
  const sym = (style.layers || []).find((l) => l.type === 'symbol' && l.layout && Array.isArray(l.layout['text-font']));
  if (style.glyphs && sym) overlayFonts = { regular: sym.layout['text-font'], bold: sym.layout['text-font'] };
  return { style, builtin: false };
}

/* A plain style for any vector basemap: water, green, buildings, roads. */
function genericVectorLayers(vectorLayers) {
  const out = [];
  for (const { id } of vectorLayers) {
    const base = { source: 'basemap', 'source-layer': id };
    if (/water|ocean|river/i.test(id)) out.push({ ...base, id: 'bm-' + id, type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#B9D3E8' } });
    else if (/park|landuse|landcover|green/i.test(id)) out.push({ ...base, id: 'bm-' + id, type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#DCE8D2', 'fill-opacity': 0.7 } });
    else if (/building/i.test(id)) out.push({ ...base, id: 'bm-' + id, type: 'fill', minzoom: 14, paint: { 'fill-color': '#DDD6CB' } });
    else if (/road|transport|street/i.test(id)) out.push({ ...base, id: 'bm-' + id, type: 'line', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#FFFFFF', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.5, 16, 6] } });
  }
  return out;
}

/* ---- icons ---- */

function drawIcon(shape, fillColor, stroke, hollow, size = 22) {
  const ratio = 2, px = size * ratio, k = size / 22;
  const c = document.createElement('canvas');
  c.width = c.height = px;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.scale(ratio * k, ratio * k);
  g.beginPath();
  if (shape === 'diamond') { g.moveTo(11, 1.5); g.lineTo(20.5, 11); g.lineTo(11, 20.5); g.lineTo(1.5, 11); }
  else if (shape === 'triangle') { g.moveTo(11, 2); g.lineTo(20.5, 19); g.lineTo(1.5, 19); }
  else g.rect(3.5, 3.5, 15, 15);
  g.closePath();
  g.fillStyle = hollow ? '#FFFFFF' : fillColor;
  g.fill();
  g.lineWidth = hollow ? 3 : 1.5;
  g.strokeStyle = hollow ? fillColor : stroke;
  g.stroke();
  if (hollow) { g.lineWidth = 1; g.strokeStyle = stroke; g.stroke(); }
  return g.getImageData(0, 0, px, px);
}

function addIcons() {
  const add = (name, ...a) => { if (!map.hasImage(name)) map.addImage(name, drawIcon(...a), { pixelRatio: 2 }); };
  add('need-request', 'diamond', COLORS.request, COLORS.requestLine, false);
  add('need-request-claimed', 'diamond', COLORS.request, COLORS.requestLine, true);
  add('need-offer', 'triangle', COLORS.offer, COLORS.offerLine, false);
  add('need-offer-claimed', 'triangle', COLORS.offer, COLORS.offerLine, true);
  add('maker', 'square', COLORS.maker, COLORS.makerLine, false);
  add('need-group', 'diamond', '#FBEAF3', COLORS.needCluster, false, 34);
}

/* ---- legend ---- */

class LegendControl {
  onAdd() {
    this.el = h('details.legend.maplibregl-ctrl', { open: window.innerWidth > 720 ? true : null });
    this.render();
    onLang(() => this.render());
    return this.el;
  }
  render() {
    const row = (sw, label) => h('li', null, sw, ' ', label);
    fill(this.el,
      h('summary', null, t('legend')),
      h('ul', null,
        row(swatch('diamond', COLORS.request, COLORS.requestLine), t('kind_request')),
        row(swatch('triangle', COLORS.offer, COLORS.offerLine), t('kind_offer')),
        row(swatch('diamond', COLORS.request, COLORS.requestLine, true), t('legend_claimed')),
        row(swatch('diamond', '#FBEAF3', COLORS.needCluster), t('legend_need_group')),
        row(swatch('square', COLORS.maker, COLORS.makerLine), t('legend_maker')),
        row(swatch('circle', COLORS.open, COLORS.open), t('shop_open')),
        row(swatch('circle', COLORS.delivery_only, COLORS.delivery_only), t('shop_delivery_only')),
        row(swatch('circle', COLORS.takeaway_only, COLORS.takeaway_only), t('shop_takeaway_only')),
        row(swatch('circle', COLORS.closed, COLORS.closed), t('shop_closed')),
        row(swatch('circle', COLORS.unknown, '#767676', true), t('shop_unknown')),
        row(swatch('circle', COLORS.open, COLORS.open, true), t('legend_unconfirmed')),
        row(swatch('circle', '#FFFFFF', COLORS.open), t('legend_shop_group')),
        row(swatch('circle', '#FFFFFF', COLORS.shopClusterNone), t('legend_shop_group_none')),
      ));
  }
  onRemove() { this.el.remove(); }
}

/* ---- the map ---- */

/* MapLibre's own UI strings (its `locale` option) in the page's language:
   the keys "maplibre:…" of i18n/*.json. */
const controlLabels = () => stringsOf('maplibre:');

/* MapLibre reads its labels when it draws a control or a popup; a change of
   language relabels the buttons already drawn, and gives the map the new
   strings for what it draws next (it has no public setter for them). */
function relabelControls(container) {
  const L = controlLabels();
  const set = (sel, key, attr) => {
    for (const el of container.querySelectorAll(sel)) { el.setAttribute('aria-label', L[key]); if (attr !== false) el.title = L[key]; }
  };
  if (map && map._locale) Object.assign(map._locale, L);
  set('.maplibregl-ctrl-zoom-in', 'NavigationControl.ZoomIn');
  set('.maplibregl-ctrl-zoom-out', 'NavigationControl.ZoomOut');
  set('.maplibregl-ctrl-compass', 'NavigationControl.ResetBearing');
  set('.maplibregl-ctrl-geolocate', 'GeolocateControl.FindMyLocation');
  set('.maplibregl-popup-close-button', 'Popup.Close', false);
  set('.maplibregl-canvas', 'Map.Title', false);
}

/* The credits mapd's tileset gives when the deployment sets none
   (DEFAULT_ATTRIBUTION in mapd/api_tiles.c): shown in the page's language. */
const SERVER_CREDITS = 'Addresses: Base Adresse Nationale (Licence Ouverte 2.0); shops: © OpenStreetMap contributors (ODbL)';

/* The data sources' attributions, shown for good under the panel (not over the map). */
function attribution(style) {
  const el = document.getElementById('attribution');
  if (!el) return;
  const texts = Object.values(style.sources).map((s) => (s.attribution === SERVER_CREDITS ? t('credits_data') : s.attribution)).filter(Boolean);
  el.textContent = '';
  for (const text of texts) {
    // Attributions may carry links (from a basemap style): keep their text and href only.
    // DOMParser's document runs no script and loads nothing.
    const doc = new DOMParser().parseFromString(text, 'text/html');
    for (const node of doc.body.childNodes) {
      if (node.nodeName === 'A' && /^https?:/.test(node.getAttribute('href') || '')) {
        const a = document.createElement('a');
        a.href = node.getAttribute('href');
        a.textContent = node.textContent;
        el.append(a);
      } else el.append(node.textContent);
    }
    el.append(' · ');
  }
  el.append('MapLibre');
}

/**
 * Builds the map in `container`. Resolves once the style is loaded. Records
 * window.entraide.firstRender (ms since navigation start) at the first 'idle'
 * with data features on screen. Rejects when MapLibre cannot be loaded or
 * cannot draw (no WebGL 2): the page then goes on without a map.
 */
export async function createMap(container, options) {
  starting = true;
  try {
    return await buildMap(container, options);
  } finally {
    starting = false;
    if (!ready && pending.popup) popupDialog(pending.popup.node);
    pending.popup = pending.view = null;
  }
}

/* MapLibre's stylesheet, fetched without blocking the page (media="print" in
   index.html), applied now; resolves once it is loaded. */
function applyMapStyles() {
  const link = document.getElementById('maplibre-css');
  if (!link) return Promise.resolve();
  link.media = 'all';
  if (link.sheet) return Promise.resolve();
  return new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
  });
}

async function buildMap(container, { tilejson, config, visible, view }) {
  await Promise.all([loadMapLibre(), applyMapStyles()]);
  const { style: base, builtin } = await basemapStyle(config.basemap);
  const style = {
    version: 8,
    ...base,
    sources: { ...base.sources, entraide: tileSource(tilejson) },
    layers: [...base.layers, ...overlayLayers(builtin, visible)],
  };
  if (builtin) delete style.glyphs;
  const opts = { container, style, attributionControl: false, maxZoom: 19, fadeDuration: 0, dragRotate: false,
    pitchWithRotate: false, touchPitch: false, locale: controlLabels() };
  if (view) { opts.center = view.center; opts.zoom = view.zoom; }
  else if (tilejson.bounds) {
    opts.bounds = tilejson.bounds;
    // Keep the whole area clear of the legend (bottom left) and the buttons (top right).
    const wide = container.clientWidth > 720;
    opts.fitBoundsOptions = { padding: wide ? { top: 20, right: 50, bottom: 150, left: 20 } : 10 };
  }
  else if (tilejson.center) { opts.center = tilejson.center.slice(0, 2); opts.zoom = tilejson.center[2] ?? 12; }
  map = new maplibregl.Map(opts);
  map.touchZoomRotate.disableRotation();
  onLang(() => relabelControls(container));
  // Escape closes the popup from anywhere in the map: its buttons, its fields, the canvas.
  container.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && popup) { e.stopPropagation(); closePopup(); }
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.GeolocateControl({ positionOptions: { enableHighAccuracy: false }, trackUserLocation: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-right');
  map.addControl(new LegendControl(), 'bottom-left');
  // The icons go in as soon as the style is parsed: added after the tiles,
  // they would make MapLibre lay the symbols out again.
  map.on('style.load', addIcons);
  map.on('styleimagemissing', addIcons);
  map.on('error', (e) => console.warn('map:', e.error && e.error.message));
  performance.mark('entraide-map-created');
  try {
    await new Promise((resolve, reject) => {
      map.once('load', resolve);
      map.once('webglcontextlost', () => reject(new Error('WebGL context lost before the map loaded')));
    });
  } catch (e) {
    map.remove();
    map = null;
    throw e;
  }
  performance.mark('entraide-map-loaded');
  wireEvents();
  watchFirstRender();
  window.entraide.map = map;
  ready = true;
  applyPending();
  attribution(style);
  onLang(() => attribution(style));
  return map;
}

/*
 * firstRender: the first 'idle' (every tile of the view loaded and drawn)
 * with data features on screen, once that frame has reached the compositor.
 */
function watchFirstRender() {
  const check = () => {
    const n = map.queryRenderedFeatures({ layers: DATA_LAYERS.filter((l) => map.getLayer(l)) }).length;
    if (n === 0) return;
    map.off('idle', check);
    requestAnimationFrame(() => {
      const ms = Math.round(performance.now());
      window.entraide.firstRender = { ms, features: n };
      performance.mark('entraide-first-render');
      emit('firstrender', { ms });
    });
  };
  map.on('idle', check);
}

function wireEvents() {
  const pickLayers = ['needs', 'needs-cluster', 'makers', 'shops', 'shops-cluster'];
  let hovered = null;
  map.on('mousemove', (e) => {
    const f = topFeature(e.point, pickLayers);
    map.getCanvas().style.cursor = f ? 'pointer' : '';
    const id = f && f.layer.id === 'needs' ? f.id : null;
    if (hovered !== null && hovered !== id) map.setFeatureState({ source: 'entraide', sourceLayer: 'needs', id: hovered }, { hover: false });
    if (id !== null && id !== undefined) map.setFeatureState({ source: 'entraide', sourceLayer: 'needs', id }, { hover: true });
    hovered = id ?? null;
  });
  map.on('click', (e) => {
    // A maker's square under the pointer wins over the needs around it: the
    // maker's own materials request sits on the same point (its popup links to it).
    const f = map.queryRenderedFeatures(e.point, { layers: ['makers'] })[0] || topFeature(e.point, pickLayers);
    if (!f) return;
    const p = f.properties;
    const lngLat = f.geometry.type === 'Point' ? f.geometry.coordinates : [e.lngLat.lng, e.lngLat.lat];
    if (f.layer.id === 'needs') emit('need', { id: Number(p.id), lngLat });
    else if (f.layer.id === 'needs-cluster') emit('needcluster', { lngLat, count: p.point_count, bbox: clusterBox(lngLat), props: p });
    else if (f.layer.id === 'makers') {
      if (p.cluster) emit('makercluster', { lngLat });
      else emit('maker', { id: Number(p.id), lngLat, props: p });
    } else if (f.layer.id === 'shops') emit('shop', { id: Number(f.id ?? p.id), lngLat, props: p });
    else if (f.layer.id === 'shops-cluster') {
      map.easeTo({ center: lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
    }
  });
  map.on('moveend', () => {
    const c = map.getCenter();
    localStorage.setItem('entraide.view', JSON.stringify({ center: [c.lng, c.lat], zoom: map.getZoom() }));
    emit('moved', {});
  });
  map.on('idle', learnNames);
}

function learnNames() {
  const before = names.size;
  for (const f of map.querySourceFeatures('entraide', { sourceLayer: 'neighbourhoods', filter: ['==', ['get', 'label'], true] }))
    names.set(String(f.properties.id), f.properties.name);
  if (names.size !== before) emit('names', {});
}

function topFeature(point, layers) {
  const box = [[point.x - 6, point.y - 6], [point.x + 6, point.y + 6]];
  const fs = map.queryRenderedFeatures(box, { layers: layers.filter((l) => map.getLayer(l)) });
  for (const l of layers) {
    const f = fs.find((x) => x.layer.id === l);
    if (f) return f;
  }
  return null;
}

/*
 * The tileset merges points that fall in one cell of a grid of 16 × 16 cells
 * per tile, aligned on the tile (MAPD_TILE_CELL in mapd/tile_render.c). A
 * group's posts are those of the cell holding its point, at the zoom of the
 * tiles drawn: that cell, a little widened, as WEST,SOUTH,EAST,NORTH.
 */
const CELLS_PER_TILE = 16;
export function clusterBox(lngLat) {
  const z = Math.min(Math.floor(map.getZoom()), map.getSource('entraide').maxzoom ?? 16);
  const n = 2 ** z * CELLS_PER_TILE;
  const rad = Math.PI / 180;
  const x = Math.floor((lngLat[0] + 180) / 360 * n);
  const y = Math.floor((1 - Math.log(Math.tan(lngLat[1] * rad) + 1 / Math.cos(lngLat[1] * rad)) / Math.PI) / 2 * n);
  const lon = (i) => i / n * 360 - 180;
  const lat = (j) => Math.atan(Math.sinh(Math.PI * (1 - 2 * j / n))) / rad;
  const pad = 0.05;
  return [lon(x - pad), lat(y + 1 + pad), lon(x + 1 + pad), lat(y - pad)].map((v) => v.toFixed(6)).join(',');
}

export function getMap() { return ready ? map : null; }
export function neighbourhoodName(id) { return names.get(String(id)) || null; }

let reloadQueued = false; // a reloadTiles waits for the next frame

/**
 * Asks the server again for the tiles in view, under the same URLs (after a
 * login, a post, a claim…): each is drawn until its answer comes, and one
 * the server answers 304 (its ETag unchanged) is not even parsed again.
 * MapLibre 6's way is map.refreshTiles(source): every tile of the view is
 * marked 'expired', which loads it from the network again, and its cache of
 * tiles out of view is emptied (TileManager.reload with sourceDataChanged).
 * Its plain reload() would not do: it re-parses the tiles it holds without
 * asking the server.
 *
 * Done at the end of the next frame, once: a change of the style's layers
 * (a filter: a new account's neighbourhoods, the list's search) pauses the
 * source until the next frame applies it, and a refresh asked meanwhile is
 * then done as a mere re-parse; so is setTiles's, whose answer also comes a
 * frame later. Several calls before that frame make one refresh.
 */
export function reloadTiles() {
  if (!ready) { pending.tiles = true; return; }
  if (reloadQueued) return;
  reloadQueued = true;
  map.once('render', () => {
    reloadQueued = false;
    if (map.getSource('entraide')) map.refreshTiles('entraide');
  });
  map.triggerRepaint();
}

/** Tints the neighbourhoods whose posts the member sees. */
export function setVisibleNeighbourhoods(ids) {
  if (!ready) { pending.visible = ids; return; }
  if (!map.getLayer('nb-fill')) return;
  map.setFilter('nb-fill', ['all', ['==', ['geometry-type'], 'Polygon'], ['in', ['get', 'id'], ['literal', ids]]]);
}

/**
 * Applies the list's filters to the needs drawn. Lone posts follow every
 * filter; with keywords, only the posts the search found (`ids`) stay, since
 * the server matches words in the body that tiles do not carry. Groups carry
 * only counts per category, so they follow the category alone.
 */
export function setNeedFilters(filters, ids) {
  if (!ready) { pending.filters = { ...filters }; pending.ids = ids; return; }
  if (!map.getLayer('needs')) return;
  const { lone, cl } = needFilters(filters, ids);
  map.setFilter('needs', lone);
  map.setFilter('needs-halo', lone);
  map.setFilter('needs-cluster', cl);
}

export function selectNeed(id) {
  if (!ready) { selectedNeed = id; return; }
  if (selectedNeed !== null) map.setFeatureState({ source: 'entraide', sourceLayer: 'needs', id: selectedNeed }, { sel: false });
  selectedNeed = id;
  if (id !== null) map.setFeatureState({ source: 'entraide', sourceLayer: 'needs', id }, { sel: true });
}

export function hoverNeed(id, on) {
  if (!ready || id === null || id === undefined) return;
  map.setFeatureState({ source: 'entraide', sourceLayer: 'needs', id }, { hover: on });
}

let popup = null;
/**
 * Shows one popup at a point; the content is a DOM node. The focus moves into
 * it; Escape closes it (see createMap), and the focus then goes back to what
 * had it before, unless an action of the popup has put it elsewhere.
 */
export function showPopup(lngLat, node, opts = {}) {
  if (!ready && starting) { pending.popup = { lngLat, node, opts }; return null; }
  if (!ready) return popupDialog(node);
  // a popup opened from another one gives the focus back to what opened the first
  const held = popup && popup.getElement() && popup.getElement().contains(document.activeElement);
  const back = held ? popup.back : focusReturn(document.activeElement);
  if (popup) popup.remove();
  const p = popup = new maplibregl.Popup({ maxWidth: '320px', focusAfterOpen: true, ...opts }).setLngLat(lngLat).setDOMContent(node);
  p.back = back;
  p.on('close', () => {
    if (popup === p) popup = null;
    // the focus was in the popup, gone with it: nothing has it now
    if (!document.activeElement || document.activeElement === document.body) back();
  });
  p.addTo(map);
  return p;
}
export function closePopup() {
  if (popup) popup.remove();
  popup = null;
  pending.popup = null;
  const dlg = document.getElementById('dlg-popup');
  if (dlg && dlg.open) dlg.close();
}

/* Without the map, a popup's content opens in a dialog of its own, titled
   by its heading; Escape or the close button closes it. */
function popupDialog(node) {
  let dlg = document.getElementById('dlg-popup');
  if (!dlg) {
    dlg = h('dialog#dlg-popup.popup-dialog');
    dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); }); // outside the content
    document.body.append(dlg);
  }
  const title = node.querySelector('h2, h3');
  if (title) { title.id = title.id || 'dlg-popup-title'; dlg.setAttribute('aria-labelledby', title.id); }
  else dlg.removeAttribute('aria-labelledby');
  fill(dlg, h('div.stack', null, node,
    h('div.row', null, h('button.close', { type: 'button', onclick: () => dlg.close() }, t('close')))));
  if (!dlg.open) showDialog(dlg);
  return null;
}

/* Gives the focus back to `el`; when a list was drawn again meanwhile, to
   the button of the same shop or post. */
function focusReturn(el) {
  if (!el || el === document.body) return () => {};
  const key = ['shop', 'post'].find((k) => el.dataset && el.dataset[k] !== undefined);
  const sel = key ? `button[data-${key}="${el.dataset[key]}"]` : null;
  const list = el.closest('[id]');
  return () => {
    const target = el.isConnected ? el : sel && ((list && list.isConnected && list.querySelector(sel)) || document.querySelector(sel));
    if (target) target.focus();
  };
}

export function flyTo(lngLat, zoom) {
  if (!ready) { if (starting) pending.view = { lngLat, zoom: zoom ?? 15.5 }; return; }
  map.easeTo({ center: lngLat, zoom: Math.max(map.getZoom(), zoom ?? 15.5), duration: 600 });
}

/** Centres the map on a point, zoomed in to `minZoom` at least (nothing without a map). */
export function jumpTo(lngLat, minZoom) {
  if (!ready) { if (starting) pending.view = { lngLat, zoom: minZoom }; return; }
  map.jumpTo({ center: lngLat, zoom: Math.max(map.getZoom(), minZoom) });
}

/**
 * The view: its centre (`near`, `center`), the radius from the centre that
 * covers it, its `bbox`, and `map: true`. Without a map, a square of 2 km
 * around where "near me" is measured from (else the tileset's centre), with
 * `map: false`.
 */
export function viewQuery() {
  if (!ready) {
    const [lng, lat] = origin ? origin.lngLat : area.center;
    const dLat = 2000 / 111195, dLng = dLat / Math.max(Math.cos(lat * Math.PI / 180), 0.01);
    return { near: `${lng.toFixed(6)},${lat.toFixed(6)}`, radius: 2000, center: [lng, lat],
      bbox: [lng - dLng, lat - dLat, lng + dLng, lat + dLat], map: false };
  }
  const c = map.getCenter();
  const b = map.getBounds();
  const R = 6371008.8, rad = Math.PI / 180;
  const dLat = (b.getNorth() - c.lat) * rad, dLng = (b.getEast() - c.lng) * rad * Math.cos(c.lat * rad);
  const radius = Math.round(Math.min(20000, Math.max(300, R * Math.hypot(dLat, dLng))));
  return { near: `${c.lng.toFixed(6)},${c.lat.toFixed(6)}`, radius, center: [c.lng, c.lat],
    bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], map: true };
}

/* What the page asked of the map before it had loaded. */
function applyPending() {
  if (pending.visible) setVisibleNeighbourhoods(pending.visible);
  if (pending.filters) setNeedFilters(pending.filters, pending.ids);
  if (pending.tiles) reloadTiles();
  if (selectedNeed !== null) { const id = selectedNeed; selectedNeed = null; selectNeed(id); }
  if (pending.view) jumpTo(pending.view.lngLat, pending.view.zoom);
  if (pending.popup) showPopup(pending.popup.lngLat, pending.popup.node, pending.popup.opts);
  pending.visible = pending.filters = pending.ids = pending.tiles = pending.popup = pending.view = null;
  drawOrigin();
  emit('ready', {});
}

/* ---- where "near me" is measured from ---- */

/**
 * Marks the point "near me" is measured from: `{kind: 'home'|'position'|'centre',
 * lngLat}` (the home area is the public point of the member's posts, never
 * the home), or null for none. A marker above the point, not taking clicks,
 * so the member's own posts under it stay visible and clickable.
 */
export function setOrigin(o) {
  origin = o ? { kind: o.kind, lngLat: o.lngLat } : null;
  drawOrigin();
}

function drawOrigin() {
  if (!ready) return;
  if (originMarker && (!origin || originMarker.getElement().dataset.kind !== origin.kind)) {
    originMarker.remove();
    originMarker = null;
  }
  if (!origin) return;
  if (originMarker) originMarker.setLngLat(origin.lngLat);
  else {
    // drawn by app.css (.origin-home: a house, .origin-position: a dot, .origin-centre: a cross)
    const el = h('div.origin-marker.origin-' + origin.kind, { role: 'img', 'data-kind': origin.kind });
    // the house stands above the point, the dot and the cross on it
    originMarker = new maplibregl.Marker({ element: el, anchor: origin.kind === 'home' ? 'bottom' : 'center' })
      .setLngLat(origin.lngLat).addTo(map);
  }
  labelOrigin();
}

onLang(() => labelOrigin());
function labelOrigin() {
  if (!originMarker || !origin) return;
  const el = originMarker.getElement();
  el.setAttribute('aria-label', t('origin_' + origin.kind));
  el.title = t('origin_' + origin.kind);
}

