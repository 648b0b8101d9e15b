/*
 * conversation.js — the private conversation of a claimed post, between its
 * author and the member who claimed it (GET and POST
 * /api/posts/{id}/messages). It is part of the post's detail: the messages
 * are fetched when the detail is drawn, then only the new ones (?after=ID)
 * every 20 s while the panel stays on screen. One panel is live at a time.
 */
import { api } from './api.js';
import { h } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { errorText } from './ui.js';
import { changed } from './events.js';

export const POLL_MS = 20000;
let live = null; // the panel on screen: {timer}
let draft = { id: null, text: '' }; // what is being typed, kept when the detail is drawn again

export function stopConversation() {
  if (live) clearTimeout(live.timer);
  live = null;
}

/**
 * The panel of post `id`, with `name` the other person's display name.
 * `gone` is called once when the server no longer offers the conversation to
 * this viewer (the claim was released, the post cancelled: 403, 404 or 409).
 */
export function conversation(id, name, gone) {
  const refocus = !!(document.activeElement && document.activeElement.closest('.conversation'));
  stopConversation();
  const me = live = { timer: null, last: 0, started: false };
  const seen = new Set();
  const url = `/api/posts/${id}/messages`;
  const title = h('h3#conv-title', null, t('conv_with', { name }));
  const list = h('ol.messages', { 'aria-label': t('messages'), 'aria-live': 'polite' });
  const empty = h('p.empty', null, t('conv_empty'));
  const text = h('textarea', { name: 'message', rows: 3, maxlength: 2000, required: true,
    value: draft.id === id ? draft.text : '', oninput: () => { draft = { id, text: text.value }; } });
  const err = h('p.error', { role: 'alert', hidden: true });
  const send = h('button.primary', { type: 'submit' }, t('send'));
  const lost = (e) => {
    if (![403, 404, 409].includes(e.status) || live !== me) return false;
    stopConversation();
    gone();
    return true;
  };
  const form = h('form.stack', {
    onsubmit: async (e) => {
      e.preventDefault();
      const body = text.value.trim();
      if (!body) return;
      if (new TextEncoder().encode(body).length > 2000) { err.textContent = t('msg_too_long'); err.hidden = false; return; }
      send.disabled = true;
      err.hidden = true;
      try {
        add([await api('POST', url, { body })]);
        changed({ kind: 'message', id, action: 'create' });
        text.value = '';
        draft = { id: null, text: '' };
      } catch (e2) {
        if (!lost(e2)) { err.textContent = errorText(e2); err.hidden = false; }
      }
      send.disabled = false;
    },
  },
  h('label', null, h('span', null, t('your_message')), text),
  err, h('div.row', null, send));
  // Ctrl+Enter (⌘+Enter) sends, as in most messaging
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });

  function add(messages) {
    const fresh = messages.filter((m) => !seen.has(m.id));
    for (const m of fresh) {
      seen.add(m.id);
      me.last = Math.max(me.last, m.id);
      list.append(h('li.msg' + (m.mine ? '.mine' : ''), { 'data-message': m.id },
        h('p.msg-meta', null, h('strong', null, m.mine ? t('you') : m.author.display_name), ' · ',
          h('time', { datetime: m.created_at }, fmtDate(m.created_at))),
        h('p.msg-body', null, m.body)));
    }
    empty.hidden = seen.size > 0;
    if (fresh.length) list.scrollTop = list.scrollHeight;
  }

  async function load() {
    if (live !== me) return;
    if (me.started && !section.isConnected) { stopConversation(); return; }
    if (!me.started && refocus) text.focus();
    me.started = true;
    if (!document.hidden || !me.last) {
      try {
        const r = await api('GET', url + (me.last ? '?after=' + me.last : ''));
        if (live !== me) return;
        if (r.with) title.textContent = t('conv_with', { name: r.with.display_name });
        add(r.messages || []);
        if (r.more) { me.timer = setTimeout(load, 0); return; } // a long thread comes in pages
      } catch (e) {
        if (lost(e)) return; // a network error: try again at the next turn
      }
    }
    if (live === me) me.timer = setTimeout(load, POLL_MS);
  }

  const section = h('section.conversation', { 'aria-labelledby': 'conv-title' },
    title,
    h('p.hint', null, t('conv_hint'), ' ', h('a', { href: 'guide.html' }, t('guide_link')), '.'),
    list, empty, form);
  me.timer = setTimeout(load, 0);
  return section;
}
