/*
 * offline.js — registers the service worker of the built site (sw.js, which
 * keeps the page's shell for returning and offline visits). web/build.mjs
 * names it through ENTRAIDE_SW; the unbundled page, served from web/ during
 * development, has none and registers nothing.
 *
 * Registered once the page is usable and loaded, so that its first
 * downloads (the shell it keeps, mostly already in the HTTP cache) never
 * compete with the page's own on a slow line.
 */
/* global ENTRAIDE_SW */
const WORKER = typeof ENTRAIDE_SW === 'string' ? ENTRAIDE_SW : null;

export function registerWorker() {
  if (!WORKER || !('serviceWorker' in navigator)) return;
  const go = () => navigator.serviceWorker.register(WORKER).catch((e) => console.warn('service worker:', e));
  if (document.readyState === 'complete') go();
  else window.addEventListener('load', go, { once: true });
}
