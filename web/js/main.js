/*
 * main.js — start-up: the language, the deployment's config.json, the
 * tileset's /tiles.json and the account (/api/me) are read at once, then the
 * map is built and the panels are wired. Links of the form #post=ID,
 * #shop=ID open that post or shop; #reset=TOKEN, the new-password form.
 *
 * window.entraide holds what tests and curious people may read: the map, and
 * firstRender (ms from navigation start to the first 'idle' with data drawn).
 */
import { api, session } from './api.js';
import { $, $$ } from './dom.js';
import { initLang, setLang, applyI18n, onLang, t, lang } from './i18n.js';
import * as M from './map.js';
import { initTabs, updateTabs, toast } from './ui.js';
import * as account from './account.js';
import * as needs from './needs.js';
import * as shops from './shops.js';
import * as makers from './makers.js';
import * as moderation from './moderation.js';
import * as requests from './requests.js';
import * as reset from './reset.js';

window.entraide = { firstRender: null, map: null };

/** The JSON of a response started by boot.js; {} for an optional one that failed. */
async function json(pending, what, optional) {
  const r = await pending.catch(() => null);
  if (!r || !r.ok) {
    if (optional) return {};
    throw new Error(`${what}: ${r ? 'HTTP ' + r.status : 'no answer'}`);
  }
  return r.json();
}

/** The account of the cookie, or null (401: anonymous). */
async function accountOf(pending) {
  const r = await pending;
  if (r.status === 401) return null;
  if (!r.ok) throw new Error('/api/me: HTTP ' + r.status);
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
  M.prewarm();
  await initLang(boot);
  applyI18n(document);
  langButtons();
  for (const b of $$('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang).catch(() => toast(t('err_network'), true)));
  onLang(() => { applyI18n(document); langButtons(); });
  initTabs();

  const [config, tilejson, me] = await Promise.all([json(boot.config, 'config.json', true), json(boot.tilejson, '/tiles.json'), accountOf(boot.me)]);
  performance.mark('entraide-requests');
  // A session whose CSRF token is lost cannot change anything: treat it as logged out.
  session.me = me && session.csrf ? me : null;
  const view = savedView();
  const map = await M.createMap($('#map'), {
    tilejson, config, epoch: session.epoch, view,
    visible: (session.me && session.me.visible_neighbourhoods) || [],
  });

  account.init();
  needs.init();
  shops.init();
  makers.init();
  moderation.init();
  requests.init();
  reset.init();
  updateTabs();

  session.addEventListener('session', () => {
    updateTabs();
    M.reloadTiles(tilejson, session.epoch);
    M.setVisibleNeighbourhoods((session.me && session.me.visible_neighbourhoods) || []);
    if (session.me && session.me.neighbourhood) goHome();
  });
  window.addEventListener('entraide:data', () => {
    session.epoch = Date.now();
    M.reloadTiles(tilejson, session.epoch);
    needs.refresh();
  });

  // A member's first visit starts at their neighbourhood, once its label is loaded.
  if (!view && session.me && session.me.neighbourhood) goHome();
  openFromHash();
  window.addEventListener('hashchange', openFromHash);

  function goHome() {
    const id = session.me.neighbourhood.id;
    const tryIt = () => {
      const p = M.neighbourhoodPoint(id);
      if (!p) return false;
      map.jumpTo({ center: p, zoom: Math.max(map.getZoom(), 14.5) });
      return true;
    };
    if (tryIt()) return;
    if (tilejson.bounds) map.fitBounds(tilejson.bounds, { animate: false });
    const onData = () => { if (tryIt()) map.off('idle', onData); };
    map.on('idle', onData);
  }
}

function openFromHash() {
  const r = /^#reset=([A-Za-z0-9_-]{1,64})$/.exec(location.hash);
  if (r) { reset.openLink(r[1]); return; }
  const m = /^#(post|shop)=(\d+)$/.exec(location.hash);
  if (!m) return;
  const id = Number(m[2]);
  if (m[1] === 'post') needs.openPost(id, true);
  else api('GET', `/api/shops/${id}`).then((f) => {
    M.flyTo(f.geometry.coordinates, 17);
    shops.openShop(id, f.geometry.coordinates);
  }).catch(() => toast(t('not_found'), true));
}

start().catch((e) => {
  console.error(e);
  const el = $('#map-error');
  el.textContent = t('map_failed') + ' (' + e.message + ')';
  el.hidden = false;
});
