/*
 * boot.js — a classic script run in <head>, before the modules load: it picks
 * the language and, on the map page (data-preload), starts the requests the
 * map needs first (the account, the tileset, the deployment's config, the
 * strings of the language), so they travel while MapLibre is being compiled.
 * main.js waits on these promises.
 */
(function () {
  var saved = null;
  try { saved = localStorage.getItem('entraide.lang'); } catch (e) { /* storage may be off */ }
  var prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'fr'];
  var lang = saved === 'fr' || saved === 'en' ? saved : null;
  for (var i = 0; !lang && i < prefs.length; i++) {
    var l = String(prefs[i]).slice(0, 2).toLowerCase();
    if (l === 'fr' || l === 'en') lang = l;
  }
  lang = lang || 'fr';
  document.documentElement.lang = lang;
  window.entraideBoot = { lang: lang };
  if (!document.currentScript || !document.currentScript.hasAttribute('data-preload')) return;
  var get = function (url) { return fetch(url, { credentials: 'same-origin' }); };
  window.entraideBoot = {
    lang: lang,
    strings: get('i18n/' + lang + '.json'),
    me: get('/api/me'),
    tilejson: get('/tiles.json'),
    config: get('config.json'),
  };
})();
