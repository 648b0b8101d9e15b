/*
 * live.js — the page follows the server's live stream, GET /api/events
 * (Server-Sent Events; docs/api.md, "The live stream"), by announcing what
 * it says on the page's one change channel (events.js). Whatever shows
 * posts, comments or shops (the map's tiles, the needs list and the open
 * post, My posts, a group's page, the shops in view) then follows a change
 * made by someone else as it follows one made in the page:
 *
 *   stream event                          announced (events.js)
 *   post  created, updated, claimed,      post  create, edit, claim, done,
 *         done, cancelled, removed              cancel, hide
 *   comment {post_id, comments}           comment count (id: the post's,
 *                                                 count: its comments)
 *   shop  updated                         shop  edit
 *   reset (events were lost)              post stale, comment count and
 *                                         shop edit, each with id null:
 *                                         whatever is shown is read again
 *
 * One stream per page, opened by start() once the page is usable: an
 * EventSource on the same origin, which sends the session cookie (the only
 * authentication the stream takes). A change of session (login, logout, a
 * new home) changes what the stream may carry: it is closed and opened
 * again, from now (the panels read everything again on that change). After
 * a cut, EventSource reconnects by itself, sending the id of the last event
 * received, and the server replays what was missed. A stream the server
 * refuses (429: too many from this address; 503: stopping, or the stream
 * turned off) is given up by the browser: it is opened again from here
 * after a delay that doubles up to RETRY_MAX, from the last id received.
 *
 * Bursts: the browser delivers each event in a task of its own, so the
 * events of a burst (a reconnection catching up) are gathered for BATCH_MS
 * and announced in one run: handlers that coalesce (events.js) then do
 * their work once for all of them.
 *
 * Echoes: the page's own changes come back through the stream. A change
 * the page announces itself is remembered for ECHO_MS, and the first event
 * of the stream that says the same (kind, id, action; for a comment, the
 * same count) is dropped, once: the page has followed it already.
 *
 * What the person sees: nothing while the stream is open. When it breaks,
 * a line at the top of the panel (#live-state, a status region) says that
 * live updates are interrupted and being tried again; it is emptied when
 * the stream is open again. window.entraide.live says 'connecting',
 * 'open' or 'retrying' (for tests and the curious).
 */
import { changed, on } from './events.js';
import { t, onLang } from './i18n.js';
import { $ } from './dom.js';

const PATH = '/api/events';
const BATCH_MS = 100;        // a burst of events is announced together
const ECHO_MS = 10000;       // how long a change of the page awaits its echo
const ECHOES_MAX = 200;      // changes of the page remembered at most
const RETRY_MIN = 5000;      // ms before a refused stream is opened again…
const RETRY_MAX = 300000;    // …doubling up to this

/* The stream's post actions, as events.js names them. */
const POST_ACTIONS = { created: 'create', updated: 'edit', claimed: 'claim', done: 'done', cancelled: 'cancel', removed: 'hide' };
/* What the stream says after a change of a post made here (hide and restore
   reach staff as the post's status: not matched, followed twice). */
const POST_ECHO = { create: 'create', edit: 'edit', claim: 'claim', release: 'edit', done: 'done', cancel: 'cancel' };

let started = false;
let source = null;           // the EventSource, or null between a refusal and the next try
let lastId = '';             // the id of the last event received since the session changed
let retryTimer = null;
let retryMs = RETRY_MIN;
let state = 'connecting';    // 'connecting' | 'open' | 'retrying'
let queue = [];              // events received, waiting to be announced
let flushTimer = null;
let relaying = false;        // changed() is being called from here
let echoes = [];             // {kind, id, action, count, until}: changes made here, awaiting their echo

/** Opens the page's stream (once; later calls do nothing), and follows the session. */
export function start() {
  if (started) return;
  started = true;
  on(['post', 'shop', 'comment'], remember);
  on('session', () => {
    close();
    lastId = '';
    retryMs = RETRY_MIN;
    open();
  });
  onLang(showState);
  open();
}

function open() {
  clearTimeout(retryTimer);
  retryTimer = null;
  const es = source = new EventSource(lastId ? `${PATH}?last_event_id=${encodeURIComponent(lastId)}` : PATH);
  setState('connecting');
  es.addEventListener('open', () => {
    if (es !== source) return;
    retryMs = RETRY_MIN;
    setState('open');
  });
  es.addEventListener('error', () => {
    if (es !== source) return;
    if (es.readyState === EventSource.CLOSED) { // refused: the browser will not try again
      source = null;
      retryTimer = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX);
    }
    setState('retrying');
  });
  for (const type of ['post', 'comment', 'shop', 'reset']) {
    es.addEventListener(type, (m) => { if (es === source) receive(type, m); });
  }
}

function close() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (source) source.close();
  source = null;
}

function setState(s) {
  state = s;
  showState();
}

function showState() {
  if (window.entraide) window.entraide.live = state;
  const el = $('#live-state');
  if (el) el.textContent = state === 'retrying' ? t('live_interrupted') : '';
}

/** The id of a Feature (or of {id}) of the stream, or null. */
function idOf(f) {
  if (!f) return null;
  const id = f.id ?? (f.properties && f.properties.id);
  return Number.isInteger(id) ? id : null;
}

/** One event of the stream, as the events.js events it makes (none for one it cannot read). */
function receive(type, m) {
  let data;
  try { data = JSON.parse(m.data); } catch { return; }
  if (m.lastEventId) lastId = m.lastEventId;
  if (!data || typeof data !== 'object') return;
  if (type === 'post') {
    const id = idOf(data.post);
    if (id !== null) queue.push({ kind: 'post', id, action: POST_ACTIONS[data.action] || 'edit' });
  } else if (type === 'comment') {
    if (Number.isInteger(data.post_id)) queue.push({ kind: 'comment', id: data.post_id, action: 'count', count: data.comments });
  } else if (type === 'shop') {
    const id = idOf(data.shop);
    if (id !== null) queue.push({ kind: 'shop', id, action: 'edit' });
  } else if (type === 'reset') {
    queue.push({ kind: 'post', id: null, action: 'stale' }, { kind: 'comment', id: null, action: 'count' },
      { kind: 'shop', id: null, action: 'edit' });
  }
  if (queue.length && !flushTimer) flushTimer = setTimeout(flush, BATCH_MS);
}

/**
 * Announces the events gathered, in one run: one per kind, id and action
 * (a comment's, one per post, with the latest count), the echoes of the
 * page's own changes left out.
 */
function flush() {
  flushTimer = null;
  const batch = new Map();
  for (const e of queue) batch.set(e.kind === 'comment' ? `comment ${e.id}` : `${e.kind} ${e.id} ${e.action}`, e);
  queue = [];
  const now = Date.now();
  echoes = echoes.filter((x) => x.until > now);
  relaying = true;
  try {
    for (const e of batch.values()) if (!isEcho(e)) changed(e);
  } finally {
    relaying = false;
  }
}

/** Remembers a change the page announced itself, to know its echo. */
function remember(e) {
  if (relaying || e.id === null) return;
  let action = e.action;
  if (e.kind === 'post') action = POST_ECHO[e.action];
  else if (e.kind === 'shop') action = 'edit';
  else if (e.kind === 'comment') action = 'count';
  if (!action) return;
  echoes.push({ kind: e.kind, id: e.id, action, count: e.count, until: Date.now() + ECHO_MS });
  if (echoes.length > ECHOES_MAX) echoes.shift();
}

/** Whether e says what a change of the page said (that change is then forgotten). */
function isEcho(e) {
  const i = echoes.findIndex((x) => x.kind === e.kind && x.id === e.id && x.action === e.action &&
    (e.kind !== 'comment' || x.count === e.count));
  if (i < 0) return false;
  echoes.splice(i, 1);
  return true;
}
