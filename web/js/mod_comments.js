/*
 * mod_comments.js — the staff's queue of reported comments, in the
 * Moderation tab under the reported posts (moderation.js loads this module
 * when staff open the tab: members never fetch it). GET
 * /api/comments?reported=1 lists every comment reported at least once,
 * hidden ones included, newest first, a page at a time ("Afficher les
 * commentaires suivants"); each shows its post, author, text and count of
 * reports, is hidden or restored in place (POST /api/comments/{id}/hide or
 * /restore, announced as a `comment` change so an open post follows), and
 * links to its post (#post=ID, which main.js opens in the needs panel).
 */
import { api, qs, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { toast, errorText } from './ui.js';
import { changed } from './events.js';

const PAGE = 50;  // reported comments asked for at a time
let seq = 0;      // only the latest render of the queue is shown

/** The queue of reported comments: its first page, then the next ones on demand. */
export async function render() {
  const pane = $('#mod-comments');
  if (!can.staff()) { fill(pane); return; }
  const my = ++seq;
  const list = h('ul.cards.moderation');
  const status = h('p.hint', { role: 'status' }, t('loading'));
  const more = h('button.more', { type: 'button', hidden: true, onclick: () => page() }, t('cm_more'));
  let before = 0;
  fill(pane, h('section.mod-comments', { 'aria-labelledby': 'mod-comments-title' },
    h('h2.pane-title#mod-comments-title', null, t('cm_reported')),
    h('p.hint', null, t('cm_reported_hint')),
    status, list, more));
  /* One page of the queue, after the comments listed. */
  async function page() {
    more.disabled = true;
    let r;
    try {
      r = await api('GET', '/api/comments' + qs({ reported: 1, limit: PAGE, before: before || '' }));
    } catch (e) {
      if (my === seq) { status.textContent = errorText(e); more.disabled = false; }
      return;
    }
    if (my !== seq) return;
    for (const c of r.comments) { before = c.id; list.append(commentItem(c)); }
    status.textContent = list.children.length ? '' : t('cm_no_reports');
    status.classList.toggle('empty', list.children.length === 0);
    more.hidden = !r.more;
    more.disabled = false;
  }
  await page();
}

/** One reported comment: its post, author, text, reports, and Hide or Restore. */
function commentItem(c) {
  const toggle = c.hidden ? 'restore' : 'hide';
  const li = h('li.mod-item.mod-comment', { 'data-comment': c.id, 'data-post': c.post_id },
    h('p.card-title', null, t('cm_on_post', { title: c.post.title })),
    h('p.card-meta', null, [c.author && c.author.display_name, fmtDate(c.created_at),
      c.edited_at ? t('cm_edited') : null].filter(Boolean).join(' · ')),
    h('p.post-body', null, c.body),
    h('p', null, h('strong', null, t('n_reports', { n: c.reports ?? 0 })),
      c.hidden ? [' · ', h('span.chip.warn', null, t('cm_hidden'))] : null),
    h('div.row', null,
      h('button' + (c.hidden ? '.primary' : '.danger'), { type: 'button', 'data-act': toggle,
        onclick: async (e) => {
          const b = e.currentTarget;
          b.disabled = true;
          try {
            const next = commentItem({ ...c, ...await api('POST', `/api/comments/${c.id}/${toggle}`), post: c.post });
            li.replaceWith(next);
            next.querySelector('button[data-act]').focus();
            toast(t(toggle === 'hide' ? 'cm_hidden_ok' : 'cm_restored_ok'));
            changed({ kind: 'comment', id: c.post_id, action: toggle });
          } catch (err) { b.disabled = false; toast(errorText(err), true); }
        } }, c.hidden ? t('restore') : t('hide')),
      postLink(c.post_id)));
  return li;
}

/* A link to post id (#post=ID); followed again while the address already
   says it, it still opens the post (the address is cleared first, so the
   browser sees a new one). */
function postLink(id) {
  const href = `#post=${id}`;
  return h('a.button-link', { href, 'data-act': 'post', onclick: () => {
    if (location.hash === href) history.replaceState(null, '', location.pathname + location.search);
  } }, t('cm_see_post'));
}
