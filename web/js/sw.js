/*
 * sw.js — the service worker of the built web map. web/build.mjs writes it
 * at the site's top as /sw.js (its scope is the whole site), minified, with
 * two constants put before this code: VERSION (a hash of every file below)
 * and PRECACHE (the site's shell: the map's page, every file it names, the
 * strings of both languages and config.json). The unbundled
 * web/ has no service worker: offline.js registers one only in the build.
 *
 * Why: on a phone with 2 s of latency, a returning visit used to wait for
 * the page to be revalidated before anything else could start. With the
 * shell in this cache, the page, its script and styles come at once, and the
 * only round trip left before the list is the API's (/api/me, /api/stats,
 * started together by boot.js). The shell works offline too: the page opens
 * and says the network is missing instead of the browser's error.
 *
 * Rules:
 *   - the shell is served from the cache (cache first). A new build has a new
 *     VERSION, hence a new sw.js: the browser fetches sw.js on navigations
 *     (mapd serves it "no-cache"), installs the new one in the background,
 *     which caches the new shell whole before it takes over (skipWaiting);
 *     the old cache is then deleted. The next visit gets the new build, whose
 *     files are all in the cache, never half of one;
 *   - config.json, which a deployment edits in place, is served from the
 *     cache and refreshed from the network at the same time
 *     (stale-while-revalidate): an edit shows from the visit after next;
 *   - other files under /assets/ (MapLibre, loaded only on devices that draw
 *     the map; chunks loaded on demand) are immutable by name: cached the
 *     first time they pass here, served from the cache after;
 *   - nothing else is touched: the API, tiles and anything personal go to
 *     the network as if there were no worker, and are never stored here.
 */
/* global VERSION, PRECACHE */
const CACHE = 'entraide-' + VERSION;
const scope = new URL(self.registration.scope);
/* Pathname → the URL the shell's copy is stored under (the page under its file name). */
const shell = new Map(PRECACHE.map((p) => [new URL(p, scope).pathname, new URL(p, scope).href]));
const CONFIG = new URL('config.json', scope).pathname;
const ASSETS = new URL('assets/', scope).pathname;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((c) => c.addAll([...shell.values()]))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith('entraide-') && k !== CACHE).map((k) => caches.delete(k)))));
});

/** The stored copy of url, else the network's answer (stored when keep and ok). */
async function cacheFirst(request, key, keep) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  const r = await fetch(request);
  if (keep && r.ok && r.status === 200) await cache.put(key, r.clone());
  return r;
}

/** The stored copy at once, the network's answer stored for next time. */
async function staleWhileRevalidate(event, key) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  const fresh = fetch(event.request).then(async (r) => {
    if (r.ok && r.status === 200) await cache.put(key, r.clone());
    return r;
  });
  if (!hit) return fresh;
  event.waitUntil(fresh.catch(() => undefined)); // offline: the stored copy stays
  return hit;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || request.headers.has('range')) return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin || url.search) return;
  let path = url.pathname;
  if (path.endsWith('/') && request.mode === 'navigate') path += 'index.html';
  if (path === CONFIG) event.respondWith(staleWhileRevalidate(event, shell.get(path) || url.href));
  else if (shell.has(path)) event.respondWith(cacheFirst(request, shell.get(path), false));
  else if (path.startsWith(ASSETS)) event.respondWith(cacheFirst(request, url.href, true));
});
