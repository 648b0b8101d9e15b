/*
 * comments.js — the comments under a post's detail (needs_detail.js mounts
 * them): GET and POST /api/posts/{id}/comments, PATCH and DELETE
 * /api/comments/{id}, POST …/report, and for staff …/hide and …/restore.
 * Everyone who may see the post reads its comments, oldest first, and may
 * write one; the author of a comment edits or deletes it, others report
 * it, staff hide and restore it (a hidden one is shown to staff and to its
 * author only, marked so).
 *
 * The list is read each time the detail is drawn, and read again when the
 * post's comments change elsewhere (events.js `comment`, from the live
 * stream): a comment written, edited or hidden by someone else shows
 * without a reload, and the count beside the views follows. Read again, a
 * comment being edited or reported, or holding the focus, is kept as it
 * is. What is being typed is kept while the detail is drawn again, as the
 * conversation keeps it. Every change made here is announced (`comment`,
 * with the post's count), so the lists that show the count follow.
 *
 * The module is loaded with the first post opened (needs_detail.js imports
 * it then): a visit that opens no post does not pay for it.
 */
import { api, qs, session, can } from './api.js';
import { h, fill } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { toast, errorText } from './ui.js';
import { on, changed, coalesce } from './events.js';

export const BODY_MAX = 4000;          // bytes after trimming: the API's bound
let draft = { id: null, text: '' };    // what is being typed under post id
let mounted = null;                    // the comments shown: {id, section, follow(event)}, or null
let announcing = false;                // a change made here is being announced

/* Changes of comments made elsewhere reach the comments shown (one post's at a time). */
on('comment', (e) => {
  if (!mounted || announcing) return;
  if (!mounted.section.isConnected) { mounted = null; return; }
  if (e.id === null || e.id === mounted.id) mounted.follow(e);
});

const bytes = (s) => new TextEncoder().encode(s).length;

/** The sentence for an error of the API: a member commenting too fast is told to wait. */
const errorOf = (e) => (e && e.status === 429 ? t('cm_rate') : errorText(e));

/** The sentence for a body that cannot be sent, or null. */
function invalid(body) {
  if (!body) return t('cm_empty');
  if (bytes(body) > BODY_MAX) return t('cm_too_long');
  return null;
}

/**
 * Fills `section` with post p's comments and the form to write one.
 * `setCount(n)` is told the post's count of visible comments after each
 * change made here; `focus`: the form's field takes the focus (it had it
 * before the detail was drawn again).
 */
export function mountComments(section, p, { setCount = () => {}, focus = false } = {}) {
  let count = p.comments ?? 0;
  let after = 0;     // the id of the last comment read
  let pages = 0;     // pages of comments read (a reading again reads as many)
  let readSeq = 0;   // the newest reading; an older one's answer is dropped
  const counted = (n) => { count = Math.max(0, count + n); setCount(count); };
  /** Announces a change made here, with the post's count (this list does not follow its own). */
  const announce = (action) => {
    announcing = true;
    try { changed({ kind: 'comment', id: p.id, action, count }); } finally { announcing = false; }
  };
  const list = h('ol.comment-list', { 'aria-labelledby': 'comments-title' });
  const empty = h('p.empty', { hidden: true }, t('cm_none'));
  const status = h('p.error', { role: 'alert', hidden: true });
  const more = h('button.more', { type: 'button', hidden: true, onclick: () => load() }, t('cm_more'));

  function item(c) {
    const li = h('li.comment' + (c.mine ? '.mine' : '') + (c.hidden ? '.is-hidden' : ''), { 'data-comment': c.id },
      h('p.comment-meta', null,
        h('strong', null, c.mine ? t('you') : c.author.display_name), ' · ',
        h('time', { datetime: c.created_at }, fmtDate(c.created_at)),
        c.edited_at ? [' · ', h('span', null, t('cm_edited'))] : null,
        c.hidden ? [' ', h('span.chip.warn', null, t('hidden'))] : null),
      h('p.comment-body', null, c.body));
    const row = actions(c, li);
    if (row) li.append(row);
    return li;
  }

  function actions(c, li) {
    const b = (label, fn, cls, act) => h('button' + (cls ? '.' + cls : ''), { type: 'button', 'data-act': act, onclick: fn }, label);
    const row = [];
    if (c.mine) {
      row.push(b(t('edit'), () => edit(c, li), null, 'edit'));
      row.push(b(t('cm_delete'), () => remove(c, li), 'danger', 'delete'));
    }
    if (can.staff()) {
      row.push(c.hidden ? b(t('restore'), () => moderate(c, li, 'restore'), null, 'restore')
        : b(t('hide'), () => moderate(c, li, 'hide'), 'danger', 'hide'));
    }
    const report = !c.mine && session.me ? reportForm(c) : null;
    return row.length || report ? h('div.row.comment-actions', null, row, report) : null;
  }

  function reportForm(c) {
    const details = h('details.report.comment-report');
    const reason = h('textarea', { name: 'reason', maxlength: 500, rows: 2 });
    details.append(h('summary', null, t('cm_report')), h('form.stack', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('POST', `/api/comments/${c.id}/report`, { reason: reason.value.trim() || undefined });
        details.open = false;
        reason.value = '';
        toast(t('report_ok'));
      } catch (err) { toast(errorText(err), true); }
    } },
    h('label', null, h('span', null, t('report_reason')), reason),
    h('button', { type: 'submit' }, t('report_send'))));
    return details;
  }

  function edit(c, li) {
    const text = h('textarea', { name: 'body', rows: 3, maxlength: BODY_MAX, required: true, value: c.body });
    const err = h('p.error', { role: 'alert', hidden: true });
    const form = h('form.stack.comment-edit', { onsubmit: async (e) => {
      e.preventDefault();
      const body = text.value.trim();
      const bad = invalid(body);
      if (bad) { err.textContent = bad; err.hidden = false; return; }
      try {
        const next = item(await api('PATCH', `/api/comments/${c.id}`, { body }));
        li.replaceWith(next);
        $first(next, 'button').focus();
        toast(t('cm_edit_ok'));
        announce('edit');
      } catch (e2) { err.textContent = errorText(e2); err.hidden = false; }
    } },
    h('label', null, h('span', null, t('cm_edit_label')), text), err,
    h('div.row', null, h('button.primary', { type: 'submit' }, t('save')),
      h('button', { type: 'button', onclick: () => { const back = item(c); li.replaceWith(back); $first(back, 'button').focus(); } }, t('cancel'))));
    fill(li, form);
    text.focus();
  }

  async function remove(c, li) {
    if (!confirm(t('cm_delete_confirm'))) return;
    try {
      await api('DELETE', `/api/comments/${c.id}`);
      li.remove();
      if (!c.hidden) counted(-1);
      empty.hidden = list.children.length > 0;
      toast(t('cm_deleted'));
      text.focus();
      announce('delete');
    } catch (e) { toast(errorText(e), true); }
  }

  async function moderate(c, li, action) {
    try {
      const next = item(await api('POST', `/api/comments/${c.id}/${action}`));
      li.replaceWith(next);
      counted(action === 'hide' ? -1 : 1);
      toast(t(action === 'hide' ? 'cm_hidden_ok' : 'cm_restored_ok'));
      $first(next, `button[data-act="${action === 'hide' ? 'restore' : 'hide'}"]`).focus();
      announce(action);
    } catch (e) { toast(errorText(e), true); }
  }

  /** The next page of comments, after the last one shown. */
  async function load() {
    more.disabled = true;
    const my = readSeq;
    try {
      const r = await api('GET', `/api/posts/${p.id}/comments` + qs({ after: after || '' }));
      if (my !== readSeq) return; // read again meanwhile
      for (const c of r.comments) { after = Math.max(after, c.id); list.append(item(c)); }
      pages++;
      more.hidden = !r.more;
      status.hidden = true;
    } catch (e) {
      status.textContent = errorText(e);
      status.hidden = false;
    }
    more.disabled = false;
    empty.hidden = list.children.length > 0 || !status.hidden;
  }

  /* A comment in use: being edited or reported, or holding the focus. */
  const inUse = (li) => !!(li.querySelector('form.comment-edit, details[open]') || li.contains(document.activeElement));

  /**
   * Reads the comments again, as many pages as were read (one GET each, at
   * most the pages shown), after a change made elsewhere. A comment in use
   * keeps its node. Without `known` (the stream's count), the count is the
   * visible comments read, when they were all read.
   */
  async function reread(known) {
    const my = ++readSeq;
    const want = Math.max(1, pages);
    const got = [];
    let last = 0, hasMore = false;
    try {
      for (let i = 0; i < want; i++) {
        const r = await api('GET', `/api/posts/${p.id}/comments` + qs({ after: last || '' }));
        got.push(...r.comments);
        hasMore = r.more;
        if (!r.more || !r.comments.length) break;
        last = r.comments[r.comments.length - 1].id;
      }
    } catch { return; } // the list stays as it was; the next change reads it again
    if (my !== readSeq || !section.isConnected) return;
    const had = list.contains(document.activeElement);
    const old = new Map([...list.children].map((li) => [li.dataset.comment, li]));
    list.replaceChildren(...got.map((c) => {
      const li = old.get(String(c.id));
      return li && inUse(li) ? li : item(c);
    }));
    after = got.reduce((a, c) => Math.max(a, c.id), 0);
    pages = want;
    more.hidden = !hasMore;
    status.hidden = true;
    empty.hidden = list.children.length > 0;
    if (!Number.isInteger(known) && !hasMore) { count = got.filter((c) => !c.hidden).length; setCount(count); }
    // the comment that had the focus is gone: the section's title takes it
    if (had && !list.contains(document.activeElement)) section.querySelector('#comments-title').focus();
  }
  const follow = coalesce((batch) => reread(batch[batch.length - 1].count));
  mounted = { id: p.id, section, follow: (e) => {
    if (Number.isInteger(e.count)) { count = e.count; setCount(count); }
    follow(e);
  } };

  // the form
  const text = h('textarea', { name: 'comment', rows: 3, maxlength: BODY_MAX, required: true,
    value: draft.id === p.id ? draft.text : '', oninput: () => { draft = { id: p.id, text: text.value }; } });
  const err = h('p.error', { role: 'alert', hidden: true });
  const send = h('button.primary', { type: 'submit' }, t('cm_send'));
  const form = h('form.stack.comment-form', { onsubmit: async (e) => {
    e.preventDefault();
    const body = text.value.trim();
    const bad = invalid(body);
    if (bad) { err.textContent = bad; err.hidden = false; return; }
    send.disabled = true;
    err.hidden = true;
    try {
      const c = await api('POST', `/api/posts/${p.id}/comments`, { body });
      after = Math.max(after, c.id);
      list.append(item(c));
      empty.hidden = true;
      counted(1);
      text.value = '';
      draft = { id: null, text: '' };
      toast(t('cm_sent'));
      announce('create');
    } catch (e2) { err.textContent = errorOf(e2); err.hidden = false; }
    send.disabled = false;
  } },
  h('label', null, h('span', null, t('cm_your')), text,
    h('small', null, t('cm_hint'))),
  err, h('div.row', null, send));
  // Ctrl+Enter (⌘+Enter) sends, as in the conversation
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });

  fill(section,
    h('h3#comments-title', { tabindex: '-1' }, t('cm_title')),
    list, empty, status, more,
    session.me ? form : null);
  if (focus) text.focus();
  load();
}

function $first(root, sel) {
  return root.querySelector(sel) || root;
}
