/*
 * main.js — start-up: the language, the deployment's config.json, the
 * tileset's /tiles.json and the account (/api/me) are read at once, then the
 * panels are wired, and only then is the map built: the panels never wait
 * for it, and work without it. MapLibre is fetched by map.js only on a
 * device with WebGL 2; without it, or when the map fails, the map's area
 * says so once, in the page's language, and the lists go on. Links of the
 * form #post=ID, #shop=ID, #group=ID open that post, shop or group;
 * #reset=TOKEN, the new-password form.
 *
 * The map's data follows changes (events.js): a post, a shop or a maker
 * changed makes the map ask for the tiles in view again, under the same
 * URLs (map.js's reloadTiles: the browser revalidates them, and unchanged
 * tiles cost a 304); a change of session does too, and tints the new
 * account's neighbourhoods and, for a member, goes to their home area.
 *
 * Once the page is usable, the server's live stream is opened (live.js):
 * the changes others make reach the same channel, and the page follows
 * them as it follows its own.
 *
 * window.entraide holds what tests and curious people may read: the map;
 * usableMs (ms from navigation start until the panels are wired and the
 * first list is shown; also the mark 'entraide-usable'); firstRender
 * (ms from navigation start to the first 'idle' with data drawn); and live
 * (the live stream: 'connecting', 'open' or 'retrying'; null before it is
 * opened).
 */
import { api, session, keepToken } from './api.js';
import { $, $$ } from './dom.js';
import { initLang, setLang, applyI18n, onLang, t, lang } from './i18n.js';
import * as M from './map.js';
import { initTabs, updateTabs, toast, ui, currentTab } from './ui.js';
import * as account from './account.js';
import * as needs from './needs.js';
import * as shops from './shops.js';
import * as makers from './makers.js';
import * as moderation from './moderation.js';
import * as requests from './requests.js';
import * as reset from './reset.js';
import { registerWorker } from './offline.js';
import * as live from './live.js';
import { on, coalesce } from './events.js';

window.entraide = { firstRender: null, map: null, usableMs: null, live: null };

/** The JSON of a response started by boot.js; {} for an optional one that failed. */
async function json(pending, what, optional) {
  const r = await pending.catch(() => null);
  if (!r || !r.ok) {
    if (optional) return {};
    throw new Error(`${what}: ${r ? 'HTTP ' + r.status : 'no answer'}`);
  }
  return r.json();
}

/** The account of the cookie, or null (401: anonymous; or unreadable, said in a toast). */
async function accountOf(pending) {
  const r = await pending.catch(() => null);
  if (r && r.status === 401) return null;
  if (!r || !r.ok) { toast(t(r ? 'err_server' : 'err_network'), true); return null; }
  return r.json();
}

function savedView() {
  try {
    const v = JSON.parse(localStorage.getItem('entraide.view'));
    return v && Array.isArray(v.center) && Number.isFinite(v.zoom) ? v : null;
  } catch { return null; }
}

function langButtons() {
  for (const b of $$('[data-lang]')) b.setAttribute('aria-pressed', b.dataset.lang === lang() ? 'true' : 'false');
}

async function start() {
  performance.mark('entraide-modules');
  const boot = window.entraideBoot;
  const canDraw = M.webgl2();
  if (canDraw) M.prewarm();
  await initLang(boot);
  applyI18n(document);
  langButtons();
  for (const b of $$('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang).catch(() => toast(t('err_network'), true)));
  onLang(() => { applyI18n(document); langButtons(); });
  initTabs();

  // The tileset is the map's: the panels go on without it.
  const [config, tilejson, me] = await Promise.all([json(boot.config, 'config.json', true), json(boot.tilejson, '/tiles.json', true), accountOf(boot.me)]);
  performance.mark('entraide-requests');
  // The account carries its session's CSRF token: a page whose storage lost
  // it (or holds another session's) takes it from there, and stays logged in.
  if (me && me.csrf) keepToken(me.csrf);
  session.me = me && session.csrf ? me : null;
  M.setArea(tilejson);

  account.init();
  needs.init();
  shops.init();
  makers.init();
  moderation.init();
  // The Data tab's code and its chart library are fetched when staff open it.
  const showData = () => {
    if (currentTab() === 'data') import('./staff_data.js').then((m) => m.show(), () => toast(t('err_network'), true));
  };
  ui.addEventListener('tab', showData);
  onLang(showData);
  // So is the Groups tab's (groups.js), when it is first shown.
  const showGroups = () => {
    if (currentTab() === 'groups') import('./groups.js').then((m) => m.show(), () => toast(t('err_network'), true));
  };
  ui.addEventListener('tab', showGroups);
  onLang(showGroups);
  on('session', showGroups);
  // So is the Alerts tab's (alerts.js).
  const showAlerts = () => {
    if (currentTab() === 'alerts') import('./alerts.js').then((m) => m.show(), () => toast(t('err_network'), true));
  };
  ui.addEventListener('tab', showAlerts);
  on('session', showAlerts);
  requests.init();
  reset.init();
  updateTabs();

  on('session', () => {
    updateTabs();
    M.reloadTiles();
    M.setVisibleNeighbourhoods((session.me && session.me.visible_neighbourhoods) || []);
    const home = homeView();
    if (home) M.jumpTo(home.center, home.zoom);
  });
  // What the tiles draw: needs (a maker's materials post among them), shops, makers.
  on(['post', 'shop', 'maker'], coalesce(() => M.reloadTiles()));

  // The map comes after the panels. A member's first visit starts at their home area.
  const mapDone = canDraw && tilejson.tiles ? startMap(tilejson, config, savedView() || homeView())
    : Promise.resolve(mapUnavailable(canDraw ? 'map_failed' : 'map_unavailable'));
  openFromHash();
  window.addEventListener('hashchange', openFromHash);

  await needs.listReady;
  window.entraide.usableMs = Math.round(performance.now());
  performance.mark('entraide-usable');
  registerWorker();
  live.start();
  await mapDone;
}

/** Where a member's map opens: their home area (else their neighbourhood's label point). */
function homeView() {
  const me = session.me;
  const center = me && (me.home_area || (me.neighbourhood && me.neighbourhood.center));
  return center ? { center, zoom: 14.5 } : null;
}

async function startMap(tilejson, config, view) {
  const loadingNote = $('#map-loading');
  loadingNote.hidden = false;
  try {
    await M.createMap($('#map'), {
      tilejson, config, view,
      visible: (session.me && session.me.visible_neighbourhoods) || [],
    });
  } catch (e) {
    // MapLibre's own words stay in the console; the page says it in its language.
    console.warn('map:', e);
    mapUnavailable(/webgl/i.test(String(e && e.message)) ? 'map_unavailable' : 'map_failed');
  } finally {
    loadingNote.hidden = true;
  }
}

/** Says once, in the map's area and the page's language, that there is no map. */
function mapUnavailable(key) {
  const el = $('#map-error');
  if (!el.hidden) return;
  el.dataset.i18n = key; // follows a change of language (applyI18n)
  el.textContent = t(key);
  el.hidden = false;
  document.body.classList.add('no-map');
}

function openFromHash() {
  const r = /^#reset=([A-Za-z0-9_-]{1,64})$/.exec(location.hash);
  if (r) { reset.openLink(r[1]); return; }
  const m = /^#(post|shop|group)=(\d+)$/.exec(location.hash);
  if (!m) return;
  const id = Number(m[2]);
  if (m[1] === 'post') needs.openPost(id, true);
  else if (m[1] === 'group') import('./groups.js').then((g) => g.openGroup(id), () => toast(t('err_network'), true));
  else api('GET', `/api/shops/${id}`).then((f) => {
    M.flyTo(f.geometry.coordinates, 17);
    shops.openShop(id, f.geometry.coordinates);
  }).catch(() => toast(t('not_found'), true));
}

start().catch((e) => {
  console.error(e);
  toast(t('err_generic'), true);
});
