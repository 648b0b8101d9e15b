#!/usr/bin/env node
/*
 * tests/e2e/hours_test.mjs — unit tests of web/js/hours.js under plain node:
 * which OSM opening_hours values it reads (and into what), which it refuses
 * (null: the popup then shows them as written), whether a shop is open at
 * chosen dates and when it closes or opens next, and the lines it writes in
 * French and English with the app's own strings (web/i18n/*.json).
 *
 * The clock is Paris's (TZ set before any date is made), so that the dates
 * below, and one across the change to summer time, mean the same everywhere.
 * Exits 1 at the first failure of any test, after running them all.
 */
process.env.TZ = 'Europe/Paris';

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const { parseHours, isOpenAt, describe, nowText } = await import(path.join(WEB, 'js', 'hours.js'));

let passed = 0, failed = 0;
function test(name, f) {
  try { f(); passed++; console.log('ok - ' + name); }
  catch (e) { failed++; console.log('FAIL - ' + name + '\n' + String(e.stack || e).split('\n').slice(0, 6).join('\n')); }
}

/** t() of web/js/i18n.js over the real strings of a language. */
const dict = (l) => JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', l + '.json'), 'utf8'));
const strings = { fr: dict('fr'), en: dict('en') };
const tOf = (l) => (key, vars) => {
  assert.ok(key in strings[l], `the key ${key} is in ${l}.json`);
  return strings[l][key].replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] !== undefined ? String(vars[k]) : m));
};
const say = (v, l) => describe(parseHours(v), l, tOf(l));
const now = (v, date, l) => nowText(parseHours(v), date, l, tOf(l));

// 9–15 June 2025: Monday 9 to Sunday 15 (no change of time that week).
const at = (day, hh, mm = 0, month = 6) => new Date(2025, month - 1, day, hh, mm);
const MON = 9, TUE = 10, WED = 11, FRI = 13, SAT = 14, SUN = 15, NEXT_MON = 16;
const H = (hh, mm = 0) => hh * 60 + mm;
const every = (list) => Array.from({ length: 7 }, () => list);

/* ---- reading ---- */

test('Mo-Sa 09:00-19:00; Su off', () => {
  assert.deepEqual(parseHours('Mo-Sa 09:00-19:00; Su off'), [...every([[H(9), H(19)]]).slice(0, 6), []]);
});
test('two spans a day, a second rule for Saturday, Sunday not named (closed)', () => {
  const w = parseHours('Mo-Fr 08:00-12:00,14:00-18:30; Sa 09:00-12:00');
  assert.deepEqual(w.slice(0, 5), every([[H(8), H(12)], [H(14), H(18, 30)]]).slice(0, 5));
  assert.deepEqual(w[5], [[H(9), H(12)]]);
  assert.deepEqual(w[6], []);
});
test('24/7, and 24/7 with a day off after it', () => {
  assert.deepEqual(parseHours('24/7'), every([[0, H(24)]]));
  assert.deepEqual(parseHours('24/7; Su off')[6], []);
  assert.deepEqual(parseHours('24/7; Su off')[5], [[0, H(24)]]);
});
test('past midnight: Tu-Su 10:00-02:00 belongs to the day it starts; 09:00-00:00 ends at 24:00', () => {
  assert.deepEqual(parseHours('Tu-Su 10:00-02:00'), [[], ...every([[H(10), H(26)]]).slice(1)]);
  assert.deepEqual(parseHours('Mo-Fr 09:00-00:00')[0], [[H(9), H(24)]]);
  assert.deepEqual(parseHours('Fr 22:00-26:00')[4], [[H(22), H(26)]]);
  assert.deepEqual(parseHours('Sa 10:00-10:00')[5], [[H(10), H(34)]], 'an end equal to the start: round the clock');
});
test('PH: "PH off" and a PH-only rule are ignored; PH in a day list is dropped', () => {
  assert.deepEqual(parseHours('Mo-Fr 09:00-19:00; PH off'), [...every([[H(9), H(19)]]).slice(0, 5), [], []]);
  assert.deepEqual(parseHours('PH 10:00-12:00; Mo 09:00-10:00')[0], [[H(9), H(10)]]);
  assert.deepEqual(parseHours('Mo-Sa 09:00-19:00; Su,PH off')[6], []);
  assert.deepEqual(parseHours('Mo,PH 09:00-10:00')[0], [[H(9), H(10)]]);
});
test('a rule without days applies every day; a rule without times, all day', () => {
  assert.deepEqual(parseHours('09:00-18:00'), every([[H(9), H(18)]]));
  assert.deepEqual(parseHours('Mo-Fr')[0], [[0, H(24)]]);
  assert.deepEqual(parseHours('Mo-Fr')[5], []);
  assert.deepEqual(parseHours('off'), every([]));
});
test('day lists and ranges, a range wrapping round the week', () => {
  const w = parseHours('Sa-Mo 10:00-12:00');
  assert.deepEqual(w.map((l) => l.length), [1, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual(parseHours('Mo,We,Fr 10:00-12:00').map((l) => l.length), [1, 0, 1, 0, 1, 0, 0]);
  assert.deepEqual(parseHours('Mo-Tu,Th-Fr 10:00-12:00').map((l) => l.length), [1, 1, 0, 1, 1, 0, 0]);
});
test('a later rule replaces the hours of the days it names, only those', () => {
  const w = parseHours('Mo-Su 08:00-20:00; Su 10:00-13:00');
  assert.deepEqual(w[6], [[H(10), H(13)]]);
  assert.deepEqual(w[5], [[H(8), H(20)]]);
  assert.deepEqual(parseHours('Mo-Sa 08:00-22:00; 08:00-12:30'), every([[H(8), H(12, 30)]]));
  assert.deepEqual(parseHours('Mo-Fr 08:00-12:00; Sa closed')[5], []);
});
test('loose but unambiguous spellings: no space after ";", one-digit hours, a colon after the days', () => {
  assert.deepEqual(parseHours('Mo-Sa 08:30-22:00;Su 08:30-13:00')[6], [[H(8, 30), H(13)]]);
  assert.deepEqual(parseHours('Mo-Sa 8:00-20:00')[0], [[H(8), H(20)]]);
  assert.deepEqual(parseHours('Mo-Fr: 09:00-12:00')[0], [[H(9), H(12)]]);
  assert.deepEqual(parseHours('Mo-Sa 09:00-19:00;')[0], [[H(9), H(19)]]);
});

test('anything outside the subset is refused (null)', () => {
  for (const v of ['', '   ', null, undefined, 'PH off', 'SH off', 'Jan-Mar Mo-Fr 09:00-12:00', 'Mo-Fr 09:00-12:00; Dec 25 off',
    'week 01-26 Mo 09:00-12:00', 'Mo-Fr sunrise-sunset', 'Mo-Fr 09:00-(sunset-01:00)', 'Mo-Fr 09:00-12:00 "sur rendez-vous"',
    '"sur rendez-vous"', 'Mo-Fr 09:00-12:00 || "sur rendez-vous"', 'Mo-Fr 17:00+', 'Mo-Su 09:00-23:00, Fr-Sa 09:00-24:00',
    'Mo[1] 09:00-12:00', 'Lu-Sa 09:00-19:00', 'mo-su 09:00-23:30', 'Mon-Fri 9am-5pm', 'Mo-We-Fr 10:00-12:00',
    'Mo-Fr 24:00-26:00', 'Mo-Fr 09:60-10:00', 'Mo-Fr 09:00-49:00', 'Mo 10:00-36:00', 'Mo-Fr 09:00-12:00 open', 'Mo-Fr 09:00-12:00 off',
    'Mo-Fr 09:00-12:00/30', 'Mo-Fr 08:00-10:00-12:00', '2025 Mo-Fr 09:00-12:00', 'easter off', 'Mo-Fr 09:00', ':', '24/7 closed']) {
    assert.equal(parseHours(v), null, JSON.stringify(v));
  }
});

/* ---- open or closed ---- */

const A = parseHours('Mo-Sa 09:00-19:00; Su off');
test('Mo-Sa 09:00-19:00: open on Saturday morning until 19:00', () => {
  assert.deepEqual(isOpenAt(A, at(SAT, 10, 30)), { open: true, until: at(SAT, 19) });
  assert.deepEqual(isOpenAt(A, at(MON, 9)), { open: true, until: at(MON, 19) });
});
test('closed at 19:00 sharp on Saturday, and on Sunday (off): next Monday 9:00', () => {
  assert.deepEqual(isOpenAt(A, at(SAT, 19)), { open: false, next: at(NEXT_MON, 9) });
  assert.deepEqual(isOpenAt(A, at(SUN, 12)), { open: false, next: at(NEXT_MON, 9) });
  assert.deepEqual(isOpenAt(A, at(SAT, 8, 59)), { open: false, next: at(SAT, 9) });
  assert.deepEqual(isOpenAt(A, at(TUE, 22)), { open: false, next: at(WED, 9) });
});
test('past midnight: Tu-Su 10:00-02:00', () => {
  const w = parseHours('Tu-Su 10:00-02:00');
  assert.deepEqual(isOpenAt(w, at(NEXT_MON, 1, 30)), { open: true, until: at(NEXT_MON, 2) }, 'Sunday night into Monday');
  assert.deepEqual(isOpenAt(w, at(WED, 1)), { open: true, until: at(WED, 2) }, 'Tuesday night into Wednesday');
  assert.deepEqual(isOpenAt(w, at(SAT, 23)), { open: true, until: at(SUN, 2) });
  assert.deepEqual(isOpenAt(w, at(NEXT_MON, 2)), { open: false, next: at(NEXT_MON + 1, 10) });
  assert.deepEqual(isOpenAt(w, at(TUE, 1)), { open: false, next: at(TUE, 10) }, 'Monday is off: nothing runs into Tuesday');
});
test('24/7 is open with no closing time; "off" is never open', () => {
  assert.deepEqual(isOpenAt(parseHours('24/7'), at(SUN, 3)), { open: true });
  assert.deepEqual(isOpenAt(parseHours('Mo-Su 00:00-24:00'), at(WED, 23, 59)), { open: true });
  assert.deepEqual(isOpenAt(parseHours('off'), at(WED, 12)), { open: false });
});
test('a rule override: Sunday 10:00-13:00 instead of 08:00-20:00', () => {
  const w = parseHours('Mo-Su 08:00-20:00; Su 10:00-13:00');
  assert.deepEqual(isOpenAt(w, at(SUN, 9)), { open: false, next: at(SUN, 10) });
  assert.deepEqual(isOpenAt(w, at(SUN, 15)), { open: false, next: at(NEXT_MON, 8) });
  assert.deepEqual(isOpenAt(w, at(SAT, 19)), { open: true, until: at(SAT, 20) });
});
test('the week wraps: the next opening may be next week, or the same day a week later', () => {
  assert.deepEqual(isOpenAt(parseHours('Sa-Mo 10:00-12:00'), at(WED, 12)), { open: false, next: at(SAT, 10) });
  assert.deepEqual(isOpenAt(parseHours('Mo 09:00-12:00'), at(MON, 13)), { open: false, next: at(NEXT_MON, 9) });
  assert.deepEqual(isOpenAt(parseHours('Mo-Fr 09:00-19:00; PH off'), at(FRI, 20)), { open: false, next: at(NEXT_MON, 9) });
});
test('touching spans run on: Friday 18:00-24:00 then Saturday 00:00-03:00', () => {
  assert.deepEqual(isOpenAt(parseHours('Fr 18:00-24:00; Sa 00:00-03:00'), at(FRI, 23)), { open: true, until: at(SAT, 3) });
});
test('across the change to summer time (Paris, 30 March 2025): Monday 9:00 is still 9:00', () => {
  const r = isOpenAt(A, at(29, 20, 0, 3));
  assert.equal(r.open, false);
  assert.deepEqual([r.next.getDate(), r.next.getHours(), r.next.getMinutes()], [31, 9, 0]);
});

/* ---- said in French and English ---- */

test('the lines of the hours, in French', () => {
  assert.deepEqual(say('Mo-Sa 09:00-19:00; Su off', 'fr'), ['lun.–sam. 9:00–19:00', 'dim. fermé']);
  assert.deepEqual(say('Mo-Fr 08:00-12:00,14:00-18:30; Sa 09:00-12:00', 'fr'),
    ['lun.–ven. 8:00–12:00, 14:00–18:30', 'sam. 9:00–12:00', 'dim. fermé']);
  assert.deepEqual(say('Tu-Su 10:00-02:00', 'fr'), ['lun. fermé', 'mar.–dim. 10:00–2:00']);
  assert.deepEqual(say('09:00-18:00', 'fr'), ['Tous les jours 9:00–18:00']);
  assert.deepEqual(say('24/7', 'fr'), ['Ouvert 24 h/24, 7 j/7']);
  assert.deepEqual(say('Mo-Fr 09:00-00:00', 'fr'), ['lun.–ven. 9:00–24:00', 'sam.–dim. fermé']);
  assert.deepEqual(say('Sa-Mo 10:00-12:00', 'fr'), ['lun., sam.–dim. 10:00–12:00', 'mar.–ven. fermé']);
  assert.deepEqual(say('Mo,Sa 13:00-15:00,16:00-21:00; Tu-Fr 10:30-14:30,16:00-21:00', 'fr'),
    ['lun., sam. 13:00–15:00, 16:00–21:00', 'mar.–ven. 10:30–14:30, 16:00–21:00', 'dim. fermé']);
});
test('the lines of the hours, in English', () => {
  assert.deepEqual(say('Mo-Sa 09:00-19:00; Su off', 'en'), ['Mon–Sat 9:00–19:00', 'Sun closed']);
  assert.deepEqual(say('09:00-18:00', 'en'), ['Every day 9:00–18:00']);
  assert.deepEqual(say('24/7', 'en'), ['Open 24/7']);
});
test('open or closed now, in French', () => {
  const v = 'Mo-Sa 09:00-19:00; Su off';
  assert.equal(now(v, at(SAT, 10, 30), 'fr'), 'Ouvert maintenant · ferme à 19:00');
  assert.equal(now(v, at(SAT, 20), 'fr'), 'Fermé maintenant · ouvre lundi à 9:00');
  assert.equal(now(v, at(SUN, 12), 'fr'), 'Fermé maintenant · ouvre demain à 9:00');
  assert.equal(now(v, at(MON, 8), 'fr'), 'Fermé maintenant · ouvre à 9:00');
  assert.equal(now('Tu-Su 10:00-02:00', at(SAT, 23), 'fr'), 'Ouvert maintenant · ferme à 2:00');
  assert.equal(now('Mo-Fr 09:00-00:00', at(MON, 23), 'fr'), 'Ouvert maintenant · ferme à 24:00');
  assert.equal(now('Mo-Fr 00:00-24:00', at(TUE, 10), 'fr'), 'Ouvert maintenant · ferme vendredi à 24:00');
  assert.equal(now('24/7', at(TUE, 10), 'fr'), 'Ouvert maintenant');
  assert.equal(now('off', at(TUE, 10), 'fr'), 'Fermé maintenant');
});
test('open or closed now, in English', () => {
  const v = 'Mo-Sa 09:00-19:00; Su off';
  assert.equal(now(v, at(SAT, 10, 30), 'en'), 'Open now · closes at 19:00');
  assert.equal(now(v, at(SAT, 20), 'en'), 'Closed now · opens Monday at 9:00');
  assert.equal(now(v, at(SUN, 12), 'en'), 'Closed now · opens tomorrow at 9:00');
  assert.equal(now('Mo 09:00-12:00', at(MON, 13), 'en'), 'Closed now · opens Monday at 9:00');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
