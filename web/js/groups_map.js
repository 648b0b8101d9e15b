/*
 * groups_map.js — one group's posts alone on the map ("Voir sur la carte"
 * on a group's page). The tiles carry no group, so the group's posts, as
 * the posts list gives them (GeoJSON, at their public points), are drawn
 * from a source of their own, ringed, and the tiles' needs layers are
 * hidden until the member clears the filter: with the banner's button over
 * the map, or the group page's. The map's other layers (shops, makers,
 * neighbourhoods) stay. A need of the group clicked opens in the needs
 * panel, as one of the tiles does.
 *
 * Without a map (none yet, no WebGL 2) nothing is drawn: showGroupOnMap
 * answers false and the group page offers no such button.
 */
import { h, fill } from './dom.js';
import { t, onLang } from './i18n.js';
import * as M from './map.js';
import { openPost } from './needs_detail.js';

const SOURCE = 'group-posts';
const RING = 'group-needs-ring', ICONS = 'group-needs';
const TILE_NEEDS = ['needs', 'needs-halo', 'needs-cluster']; // map.js's layers of the tiles' needs
const RING_COLOR = '#005A9C'; // the page's accent (app.css --accent): a colour no layer of the map uses
let shown = null;      // {id, name, cleared} of the group drawn alone, or null
let wired = null;      // the map whose clicks on the group's needs are wired
let banner = null;     // the note over the map while the filter is on

/** The group whose posts the map shows alone, or null. */
export function shownGroup() { return shown ? shown.id : null; }

/**
 * Draws group g's posts (fc, a FeatureCollection of the posts list) alone
 * on the map and brings them into view; `cleared` is called when the
 * banner's button ends it. False when there is no map.
 */
export function showGroupOnMap(g, fc, cleared) {
  const map = M.getMap();
  if (!map) return false;
  wire(map);
  const data = { type: 'FeatureCollection', features: fc.features };
  if (map.getSource(SOURCE)) map.getSource(SOURCE).setData(data);
  else {
    map.addSource(SOURCE, { type: 'geojson', data });
    map.addLayer({ id: RING, type: 'circle', source: SOURCE,
      paint: { 'circle-radius': 16, 'circle-color': '#FFFFFF', 'circle-opacity': 0.85,
        'circle-stroke-color': RING_COLOR, 'circle-stroke-width': 3 } });
    map.addLayer({ id: ICONS, type: 'symbol', source: SOURCE,
      layout: { 'icon-image': ['concat', 'need-', ['get', 'kind'], ['case', ['==', ['get', 'status'], 'claimed'], '-claimed', '']],
        'icon-allow-overlap': true, 'icon-ignore-placement': true } });
  }
  for (const l of TILE_NEEDS) if (map.getLayer(l)) map.setLayoutProperty(l, 'visibility', 'none');
  shown = { id: g.id, name: g.name, cleared };
  drawBanner();
  const pts = fc.features.map((f) => f.geometry.coordinates);
  if (pts.length === 1) M.flyTo(pts[0], 15);
  else if (pts.length > 1) {
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 60, maxZoom: 16, duration: 600 });
  }
  return true;
}

/** The group drawn alone has changed (a post added or taken out): its points follow. */
export function updateGroupOnMap(fc) {
  const map = M.getMap();
  if (map && shown && map.getSource(SOURCE)) map.getSource(SOURCE).setData({ type: 'FeatureCollection', features: fc.features });
}

/** Back to every need of the tiles. */
export function clearGroupMap() {
  shown = null;
  drawBanner();
  const map = M.getMap();
  if (!map) return;
  for (const l of [ICONS, RING]) if (map.getLayer(l)) map.removeLayer(l);
  if (map.getSource(SOURCE)) map.removeSource(SOURCE);
  for (const l of TILE_NEEDS) if (map.getLayer(l)) map.setLayoutProperty(l, 'visibility', 'visible');
}

function wire(map) {
  if (wired === map) return;
  wired = map;
  map.on('click', ICONS, (e) => {
    const f = e.features && e.features[0];
    if (f) openPost(Number(f.properties.id), false);
  });
  onLang(drawBanner);
}

/* The note over the map: which group is shown, and the button that shows every need again. */
function drawBanner() {
  if (!shown) { if (banner) banner.hidden = true; return; }
  if (!banner) {
    banner = h('div#map-group.map-group');
    document.querySelector('.mapwrap').append(banner);
  }
  fill(banner, h('span', null, t('grp_map_only', { name: shown.name })),
    h('button', { type: 'button', onclick: () => {
      const { cleared } = shown;
      clearGroupMap();
      if (cleared) cleared();
    } }, t('grp_map_clear')));
  banner.hidden = false;
}
