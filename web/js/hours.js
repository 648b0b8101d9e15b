/*
 * hours.js — a shop's OSM opening_hours, read and said in the reader's
 * language, and whether it is open now by the reader's own clock.
 *
 * Only the common subset of the OSM syntax is understood:
 *   rules separated by ';', a later rule replacing earlier ones on the days
 *   it names ("Mo-Sa 09:00-19:00; Sa 09:00-12:00");
 *   days as lists and ranges of Mo Tu We Th Fr Sa Su, ranges may wrap
 *   ("Sa-Mo"); a rule without days applies to every day, a rule without
 *   times to the whole day;
 *   times as HH:MM-HH:MM spans separated by ','; a span ending at or before
 *   its start ("10:00-02:00") runs past midnight and belongs to the day it
 *   starts;
 *   'off' or 'closed'; '24/7';
 *   PH (public holidays): ignored, neither claimed open nor closed; a rule
 *   only about PH is skipped.
 * Days no rule names are closed. Anything else (months, weeks, sunrise,
 * comments, '||', ',' between rules, open ends '+', …) makes parseHours()
 * answer null: the caller then shows the value as written and claims
 * nothing, since a wrong "open now" is worse than none.
 *
 * Pure functions, no DOM: tests/e2e/hours_test.mjs runs them under node.
 * A schedule is an array of 7 days, Monday first; each day a list of
 * [start, end] minutes after that day's midnight (end up to 48 h, sorted).
 */

const DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];
const DAY = 1440, WEEK = 7 * DAY, DASH = '–';
// Leading days: items of Mo..Su or PH joined by ',' or '-', then an optional ':'.
const D = `(?:${DAYS.join('|')}|PH)`;
const RULE = new RegExp(`^(${D}(?:\\s*[,-]\\s*${D})*)?\\s*:?\\s*(.*)$`);
const SPAN = /^(\d\d?):([0-5]\d)\s*-\s*(\d\d?):([0-5]\d)$/;

/** The days of a day list ("Mo-We,Fr", "Sa-Mo", "Su,PH"), Monday 0; null if malformed. */
function dayList(text) {
  const out = [];
  for (const item of text.split(',')) {
    if (item.trim() === 'PH') continue;
    const [a, b, extra] = item.split('-').map((s) => DAYS.indexOf(s.trim()));
    if (a < 0 || b < 0 || extra !== undefined) return null;
    // a single day, or every day from a to b, going round the week
    for (let d = a; ; d = (d + 1) % 7) { out.push(d); if (b === undefined || d === b) break; }
  }
  return out;
}

/** The [start, end] spans of "09:00-12:00,14:00-18:30"; null if malformed. */
function spans(text) {
  const out = [];
  for (const item of text.split(',')) {
    const m = SPAN.exec(item.trim());
    if (!m) return null;
    const s = m[1] * 60 + +m[2];
    let e = m[3] * 60 + +m[4];
    if (s >= DAY || e > 2 * DAY) return null;
    if (e <= s) e += DAY;            // past midnight: 22:00-02:00, 09:00-00:00
    if (e > s + DAY) return null;    // longer than a day
    out.push([s, e]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

/** The schedule of an opening_hours value, or null when outside the subset above. */
export function parseHours(text) {
  const week = [[], [], [], [], [], [], []];
  let any = false;
  for (const raw of String(text || '').split(';')) {
    const rule = raw.trim();
    if (!rule) continue;
    let days = [0, 1, 2, 3, 4, 5, 6], times;
    if (rule === '24/7') times = [[0, DAY]];
    else {
      const m = RULE.exec(rule);
      if (m[1]) {
        days = dayList(m[1]);
        if (!days) return null;
      }
      const rest = m[2];
      times = rest === 'off' || rest === 'closed' ? [] : rest ? spans(rest) : m[1] ? [[0, DAY]] : null;
      if (!times) return null;
      if (m[1] && !days.length) continue; // only about public holidays: skipped
    }
    any = true;
    for (const d of days) week[d] = times;
  }
  return any ? week : null;
}

/** Midnight of the day `days` after date's, plus `min` minutes, in the local clock. */
const at = (date, days, min) => new Date(date.getFullYear(), date.getMonth(), date.getDate() + days, 0, min);

/**
 * Whether the schedule is open at date (a Date, read in local time):
 * { open: true, until } until the Date it closes (none when never closing),
 * or { open: false, next } next the Date it opens (none when never opening).
 */
export function isOpenAt(week, date) {
  const today = (date.getDay() + 6) % 7;
  const now = today * DAY + date.getHours() * 60 + date.getMinutes();
  // Every minute of the week, Monday 0:00 first, open or not; a span past
  // Sunday midnight goes round to Monday.
  const open = new Uint8Array(WEEK);
  week.forEach((list, d) => list.forEach(([s, e]) => { for (let m = s; m < e; m++) open[(d * DAY + m) % WEEK] = 1; }));
  // The first minute ahead that differs from now: its closing, or its next opening.
  const r = { open: !!open[now] };
  let k = 1;
  while (k < WEEK && open[(now + k) % WEEK] === open[now]) k++;
  if (k < WEEK) r[r.open ? 'until' : 'next'] = at(date, -today, now + k);
  return r;
}

/** "9:00"; minutes past 24 h read on the next day; an end at midnight is "24:00". */
const hm = (m, end) => {
  m = m % DAY || (end ? DAY : 0);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
};

const dayName = (lang, d, style) => new Intl.DateTimeFormat(lang, { weekday: style }).format(new Date(2024, 0, 1 + d)); // 2024-01-01: a Monday

/**
 * The schedule as short lines in the reader's language, one per set of days
 * with the same hours, e.g. ["lun.–sam. 9:00–19:00", "dim. fermé"].
 * t is i18n.js's t (or any function of the same keys).
 */
export function describe(week, lang, t) {
  const key = (d) => JSON.stringify(week[d]);
  if (week.every((_, d) => key(d) === `[[0,${DAY}]]`)) return [t('hours_always')];
  const groups = {};                  // hours → days, in the order of their first day
  week.forEach((_, d) => (groups[key(d)] ||= []).push(d));
  return Object.values(groups).map((days) => {
    const runs = [];                  // consecutive days as ranges: lun.–mer., ven.
    for (const d of days) {
      const r = runs[runs.length - 1];
      if (r && r[1] === d - 1) r[1] = d; else runs.push([d, d]);
    }
    const name = (d) => dayName(lang, d, 'short');
    const label = days.length === 7 ? t('hours_every_day')
      : runs.map(([a, b]) => (a === b ? name(a) : name(a) + DASH + name(b))).join(', ');
    const list = week[days[0]];
    return `${label} ${list.length ? list.map(([s, e]) => hm(s) + DASH + hm(e, true)).join(', ') : t('hours_closed')}`;
  });
}

/**
 * One line on whether the shop is open at date: "Ouvert maintenant · ferme à
 * 19:00", "Fermé maintenant · ouvre lundi à 9:00", and the like.
 */
export function nowText(week, date, lang, t) {
  const { open, until, next } = isOpenAt(week, date);
  const when = until || next;
  if (!when) return open ? t('hours_open_now') : t('hours_closed_now');
  // closing at midnight is 24:00 of the day before
  const d = open ? new Date(when - 60000) : when;
  const v = { time: hm(when.getHours() * 60 + when.getMinutes(), open), day: dayName(lang, (d.getDay() + 6) % 7, 'long') };
  if (open) return when - date < DAY * 60000 ? t('hours_open_until', v) : t('hours_open_until_day', v);
  const days = Math.round((at(when, 0, 0) - at(date, 0, 0)) / (DAY * 60000));
  return days === 0 ? t('hours_opens_at', v) : days === 1 ? t('hours_opens_tomorrow', v) : t('hours_opens_day', v);
}
