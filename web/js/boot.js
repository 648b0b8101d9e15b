/*
 * boot.js — a classic script run in <head>, before the modules load: it picks
 * the language and, on the map page (data-preload), starts the requests the
 * map needs first (the account, the tileset, the deployment's config, the
 * strings of the language; for a visitor without a session, the counts their
 * first list shows), so they travel together, in one round trip, while the
 * modules are compiled. main.js and needs_list.js wait on these promises.
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
  // Offline, these fail before main.js waits on them: marked as handled
  // here, so the browser does not report them; main.js still sees them fail.
  var get = function (url) {
    var pending = fetch(url, { credentials: 'same-origin' });
    pending.catch(function () {});
    return pending;
  };
  window.entraideBoot = {
    lang: lang,
    strings: get('i18n/' + lang + '.json'),
    me: get('/api/me'),
    tilejson: get('/tiles.json'),
    config: get('config.json'),
  };
  // Without a session (no CSRF token kept), the first list is the counts.
  var csrf = null;
  try { csrf = localStorage.getItem('entraide.csrf'); } catch (e) { /* storage may be off */ }
  if (!csrf) window.entraideBoot.stats = get('/api/stats');
})();
