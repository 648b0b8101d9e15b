/*
 * moderation.js — the staff panels. Moderation lists the reported posts
 * (every neighbourhood, hidden ones included) with the reasons their
 * reporters gave, and hides, restores or dismisses the reports of one post,
 * or of the posts ticked (one request after another, then a count of those
 * that succeeded), and reads a reported post's private conversation.
 * Below it, the reported comments are mod_comments.js's (fetched when
 * staff first open the tab). The shop claims and password reset links
 * below the queues are requests.js's. The Data tab is staff_data.js's.
 */
import { api, qs, can } from './api.js';
import { h, $, $$, fill } from './dom.js';
import { t, fmtDate, onLang } from './i18n.js';
import * as M from './map.js';
import { toast, errorText, ui, currentTab } from './ui.js';
import { openPost } from './needs.js';
import { changed } from './events.js';

const MAX_PAGES = 20;     // 2000 posts at most are scanned for reports
const READERS = 4;        // reasons of that many posts are fetched at once
const selected = new Set(); // ids of the posts ticked, kept while they stay in the queue
let renderSeq = 0;        // only the latest render of the queue is shown
let busy = false;         // an action on the selection is under way
let notice = '';          // the outcome of the last action on the selection, shown once

export function init() {
  // the reported comments: their module is fetched with the tab
  const comments = () => import('./mod_comments.js').then((m) => m.render(), () => toast(t('err_network'), true));
  ui.addEventListener('tab', (e) => {
    if (e.detail === 'moderation') { render(); comments(); }
  });
  onLang(() => {
    if (currentTab() === 'moderation') { render(true); comments(); }
  });
}

async function reported() {
  const out = [];
  for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
    const fc = await api('GET', '/api/posts' + qs({ status: 'any', hidden: 1, reported: 1, limit: 100, offset }));
    out.push(...fc.features.filter((f) => f.properties.reports > 0));
    if (!fc.more) break;
    offset = fc.next_offset;
  }
  return out.sort((a, b) => Number(a.properties.hidden) - Number(b.properties.hidden) || b.properties.reports - a.properties.reports);
}

/** Announces what an action did to a post: hidden or restored, or its reports dismissed. */
const announce = (action, id) => changed(action === 'dismiss' ? { kind: 'report', id, action } : { kind: 'post', id, action });

/** One action on one post: 'hide', 'restore' or 'dismiss' (its reports). */
function act(action, id) {
  return action === 'dismiss' ? api('DELETE', `/api/posts/${id}/reports`) : api('POST', `/api/posts/${id}/${action}`);
}

/** The queue. `quiet`: keep what is shown until the new queue is read (after an action). */
export async function render(quiet) {
  const pane = $('#mod-queue');
  if (!can.staff()) { selected.clear(); fill(pane); return; }
  const seq = ++renderSeq;
  if (!quiet || !$('.moderation-queue', pane)) fill(pane, h('p.hint', { role: 'status' }, t('loading')));
  let posts;
  try { posts = await reported(); } catch (e) { if (seq === renderSeq) fill(pane, h('p.error', null, errorText(e))); return; }
  if (seq !== renderSeq) return;
  const ids = new Set(posts.map((f) => f.properties.id));
  for (const id of selected) if (!ids.has(id)) selected.delete(id);
  const status = h('p.hint.mod-status', { role: 'status' }, notice);
  notice = '';
  const items = posts.map((f) => item(f.properties));
  const bar = posts.length ? bulkBar(posts, status) : null;
  fill(pane,
    h('div.moderation-queue', null,
      h('h2.pane-title', null, t('reported_posts')),
      h('p.hint', null, t('moderation_hint')),
      h('p.hint', null, t('dismiss_hint')),
      posts.length ? bar.node : status,
      posts.length === 0 ? h('p.empty', null, t('no_reports')) : h('ul.cards.moderation', null, items.map((i) => i.node))));
  if (bar) bar.sync();
  readReasons(items, seq);
}

/** The reasons given, fetched a few posts at a time, each list filled as it comes. */
async function readReasons(items, seq) {
  let next = 0;
  const worker = async () => {
    while (next < items.length && seq === renderSeq) {
      const it = items[next++];
      try {
        const r = await api('GET', `/api/posts/${it.id}/reports`);
        if (seq === renderSeq) it.showReasons(r.reports);
      } catch (e) {
        if (seq === renderSeq) it.showReasons(null, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READERS, items.length) }, worker));
}

function reasonLine(r) {
  const who = r.reporter && r.reporter.display_name ? r.reporter.display_name : t('reporter_anonymous');
  return h('li', null,
    r.reason ? h('span.post-body', null, t('report_quote', { reason: r.reason })) : h('span.empty', null, t('report_no_reason')),
    ' ', h('span.hint', null, '— ' + t('report_by', { who, date: fmtDate(r.created_at) })));
}

function item(p) {
  const act1 = p.hidden ? 'restore' : 'hide';
  const reasons = h('div.mod-reasons', { 'aria-live': 'polite' }, h('p.hint', null, t('loading')));
  const one = (action, done) => async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    try {
      await act(action, p.id);
      toast(t(done));
      announce(action, p.id);
      selected.delete(p.id);
      await render(true);
    } catch (err) { b.disabled = false; toast(errorText(err), true); }
  };
  const talk = h('div.mod-thread', { 'aria-live': 'polite' });
  const node = h('li.mod-item', { 'data-post': p.id },
    h('label.inline.mod-select', null,
      h('input', { type: 'checkbox', name: 'select', value: p.id, checked: selected.has(p.id),
        onchange: (e) => { if (e.target.checked) selected.add(p.id); else selected.delete(p.id); syncBar(); } }),
      h('span.card-title', null, p.title)),
    h('p.card-meta', null, [t('kind_' + p.kind), t('cat_' + p.category), t('status_' + p.status),
      p.author && p.author.display_name, M.neighbourhoodName(p.neighbourhood), fmtDate(p.created_at)].filter(Boolean).join(' · ')),
    p.body ? h('p.post-body', null, p.body) : null,
    h('p', null, h('strong', null, t('n_reports', { n: p.reports })), p.hidden ? [' · ', h('span.chip.warn', null, t('hidden'))] : null),
    reasons,
    h('div.row', null,
      h('button' + (p.hidden ? '.primary' : '.danger'), { type: 'button', 'data-act': act1,
        onclick: one(act1, p.hidden ? 'restored' : 'hidden_ok') }, p.hidden ? t('restore') : t('hide')),
      h('button', { type: 'button', 'data-act': 'dismiss', onclick: one('dismiss', 'dismissed_ok') }, t('dismiss_reports')),
      h('button', { type: 'button', onclick: () => openPost(p.id, true) }, t('show_on_map')),
      p.status !== 'open' ? h('button', { type: 'button', 'data-act': 'conversation', onclick: (e) => readThread(p.id, talk, e.currentTarget) }, t('read_conversation')) : null),
    talk);
  return {
    id: p.id, node,
    showReasons(list, err) {
      if (err) { fill(reasons, h('p.error', null, errorText(err))); return; }
      const more = p.reports - list.length;
      fill(reasons,
        h('p.hint', null, t('report_reasons')),
        h('ul.mini', null, list.map(reasonLine)),
        more > 0 ? h('p.hint', null, t('reports_more', { n: more })) : null);
    },
  };
}

/**
 * A reported post's private conversation, read only: staff may read it once
 * the post is reported, to judge the report (the first page of messages).
 */
async function readThread(id, box, button) {
  button.disabled = true;
  try {
    const r = await api('GET', `/api/posts/${id}/messages`);
    fill(box, h('h3', null, t('conversation')),
      r.messages.length ? h('ol.messages', null, r.messages.map((m) => h('li.msg', null,
        h('p.msg-meta', null, h('strong', null, m.author.display_name), ' · ', fmtDate(m.created_at)),
        h('p.msg-body', null, m.body)))) : h('p.empty', null, t('conv_none')),
      r.more ? h('p.hint', null, t('conv_more')) : null);
  } catch (e) {
    fill(box, h('p.empty', null, e.status === 409 || e.status === 404 ? t('conv_none') : errorText(e)));
    button.disabled = false;
  }
}

let syncBar = () => {};

/** Select all, how many are ticked, and the two actions on them. */
function bulkBar(posts, status) {
  const all = h('input', { type: 'checkbox', name: 'select_all', onchange: (e) => {
    for (const f of posts) if (e.target.checked) selected.add(f.properties.id); else selected.delete(f.properties.id);
    for (const box of $$('.mod-item input[name=select]')) box.checked = e.target.checked;
    sync();
  } });
  const count = h('span.hint.mod-count');
  const run = (action, doneKey) => async () => {
    const ids = posts.map((f) => f.properties.id).filter((id) => selected.has(id));
    if (!ids.length || busy) return;
    busy = true;
    sync();
    let ok = 0, failed = null;
    const done = [];
    for (const [i, id] of ids.entries()) {
      status.textContent = t('bulk_working', { i: i + 1, n: ids.length });
      try {
        await act(action, id);
        ok++;
        done.push(id);
        selected.delete(id);
      } catch (e) {
        failed = failed || e;
        if (e.status === 401 || e.status === 403) break; // the session is gone: the others would fail too
      }
    }
    busy = false;
    notice = t(doneKey, { n: ok, total: ids.length }) + (failed ? ' ' + t('bulk_failed', { n: ids.length - ok, error: errorText(failed) }) : '');
    toast(notice, ok < ids.length);
    // announced together: the map and the lists follow once (events.js's coalesce)
    for (const id of done) announce(action, id);
    await render(true);
  };
  const hide = h('button.danger', { type: 'button', 'data-bulk': 'hide', onclick: run('hide', 'bulk_hidden') }, t('hide_selected'));
  const dismiss = h('button', { type: 'button', 'data-bulk': 'dismiss', onclick: run('dismiss', 'bulk_dismissed') }, t('dismiss_selected'));
  const sync = () => {
    const n = posts.filter((f) => selected.has(f.properties.id)).length;
    all.checked = n > 0 && n === posts.length;
    all.indeterminate = n > 0 && n < posts.length;
    count.textContent = t('n_selected', { n });
    hide.disabled = dismiss.disabled = busy || n === 0;
  };
  syncBar = sync;
  const node = h('fieldset.mod-bulk', null, h('legend', null, t('selection')),
    h('label.inline', null, all, t('select_all')), count,
    h('div.row', null, hide, dismiss), status);
  return { node, sync };
}
