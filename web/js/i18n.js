/*
 * i18n.js — French and English. The language follows the browser
 * (navigator.languages, read by boot.js) until the person picks one with the
 * switch; the choice is kept in localStorage. The strings of each language
 * are data, in i18n/fr.json and i18n/en.json (the same keys in both): only
 * the language in use is fetched. Static text in the HTML carries
 * data-i18n="key" (and data-i18n-attr="attr:key,…"); code calls t(key, vars).
 * A missing key shows as the key itself. A string with a count has its
 * plural forms as keys of their own (see t()): never "(s)".
 */

export const CATEGORIES = ['groceries', 'pharmacy', 'childcare', 'schooling', 'masks', 'errands', 'company', 'pets', 'materials', 'other'];

export const LANGS = ['fr', 'en'];
const dicts = {};
const listeners = new Set();
let current = 'fr';

export function lang() { return current; }

async function load(l, pending) {
  if (!dicts[l]) {
    const r = await (pending || fetch(`i18n/${l}.json`));
    if (!r.ok) throw new Error(`i18n/${l}.json: HTTP ${r.status}`);
    dicts[l] = await r.json();
  }
  return dicts[l];
}

/** Loads the strings of the language boot.js chose. */
export async function initLang(boot) {
  current = boot.lang;
  await load(current, boot.strings);
  document.documentElement.lang = current;
}

/** Switches language: fetches its strings, then tells every listener. */
export async function setLang(l) {
  if (!LANGS.includes(l) || l === current) return;
  await load(l);
  current = l;
  try { localStorage.setItem('entraide.lang', l); } catch { /* storage may be off */ }
  document.documentElement.lang = l;
  for (const f of listeners) f(l);
}

export function onLang(f) { listeners.add(f); }

const pluralRules = {}; // language -> Intl.PluralRules, made once

/**
 * The string of `key` in the language in use, its {placeholders} filled from
 * `vars`. With a number `vars.n`, the plural form of that language is
 * chosen: `key_one` (and `key_two`, `key_few`, `key_many`, `key_zero` where a
 * language has them) by Intl.PluralRules; the plain `key` is the form for
 * every other count. French counts 0 and 1 as "one" ("0 annonce", "1 jour"),
 * English 1 only.
 */
export function t(key, vars) {
  const d = dicts[current] || {};
  let s = null;
  const n = vars && vars.n !== undefined && vars.n !== null ? Number(vars.n) : NaN;
  if (Number.isFinite(n)) {
    const rules = pluralRules[current] || (pluralRules[current] = new Intl.PluralRules(current));
    s = d[key + '_' + rules.select(n)] ?? null;
  }
  s = s ?? d[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
  return s;
}

/** The strings whose keys start with `prefix`, keyed by the rest of their keys. */
export function stringsOf(prefix) {
  const d = dicts[current] || {};
  return Object.fromEntries(Object.keys(d).filter((k) => k.startsWith(prefix)).map((k) => [k.slice(prefix.length), d[k]]));
}

/** Fills every [data-i18n] and [data-i18n-attr] under root. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]'))
    for (const pair of el.dataset.i18nAttr.split(',')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  document.title = 'Entraide — ' + t('tagline');
}

export function fmtDistance(m) {
  const n = Number(m);
  if (n < 1000) return `${Math.round(n / 10) * 10} m`;
  return `${new Intl.NumberFormat(current, { maximumFractionDigits: 1 }).format(n / 1000)} km`;
}

export function fmtDate(iso, withTime) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Intl.DateTimeFormat(current, withTime === false ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function isToday(iso) {
  const d = new Date(iso), n = new Date();
  return d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
}

export function shopKind(k) {
  const s = dicts[current] && dicts[current]['shopkind_' + k];
  return s || (k ? k.replace(/_/g, ' ') : '');
}
