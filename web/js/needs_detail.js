/*
 * needs_detail.js — one post in the needs panel: its detail, with the
 * actions its reader may take (claim, release, edit, done, cancel, report)
 * and, once claimed, the private conversation of its author and its claimer
 * (conversation.js). The exact address of a member is shown once, to the
 * volunteer who claims the post, as the API gives it.
 *
 * Under it, its comments (comments.js, fetched with the first post opened),
 * with their count beside the views; a post of a group links to the
 * group's page (groups.js, fetched when followed).
 *
 * Every change made here is announced (events.js): the map's tiles, the list
 * and the author's posts follow from there, never from a call made here.
 * When a change of the post shown is announced (here, or by the live
 * stream), needs.js calls refreshPost: the post is read again and drawn
 * again only when it differs from what is shown, so the echo of a change
 * made here, or a change of another post, leaves the detail (and the focus
 * in it) alone. The
 * detail knows nothing of the list either: needs.js tells it (init) what its
 * Back button does and whom to tell when it has shown something; the list
 * and the form import this module, never the other way round.
 */
import { api, session, can } from './api.js';
import { h, $, fill, swatch } from './dom.js';
import { t, fmtDate } from './i18n.js';
import * as M from './map.js';
import { toast, showTab, errorText } from './ui.js';
import { conversation, stopConversation } from './conversation.js';
import { changed } from './events.js';

let detailId = null;       // the post shown in detail, or null for the list
let detailAddress = null;  // {id, address} after a claim, for that post only
let noChat = null;         // the post whose conversation the server refused, until it is opened again
let drawn = null;          // the JSON of the post as last drawn (refreshPost compares with it)
const hooks = {
  back: async () => {},    // back(id): the list is shown again, the focus on post id
  shown: () => {},         // something is shown in the panel (a post, or an error)
};

/** Sets what Back does and whom to tell when something is shown: {back, shown}. */
export function init(given) { Object.assign(hooks, given); }

/** The post shown in detail, or null when the panel shows the list. */
export function shownPost() { return detailId; }

/** The panel goes back to the list; what a claim revealed stays, for the same post. */
export function leavePost() { detailId = null; }

/** The panel goes back to the list and forgets what the post revealed (address, conversation). */
export function forgetPost() {
  detailId = null;
  detailAddress = null;
  stopConversation();
}

/** The post's symbol, as on the map: a diamond (request) or a triangle (offer), hollow once claimed. */
export function postIcon(p) {
  const claimed = p.status !== 'open';
  return p.kind === 'request'
    ? swatch('diamond', M.COLORS.request, M.COLORS.requestLine, claimed)
    : swatch('triangle', M.COLORS.offer, M.COLORS.offerLine, claimed);
}

/** Opens post id in the panel: the needs tab shown, the post selected on the map (`fly`: the map goes to it), the focus on its title. */
export async function openPost(id, fly) {
  detailId = id;
  noChat = null;
  showTab('needs');
  M.selectNeed(id);
  await showPost(id, fly);
  // the list's button that had the focus is gone: the detail's title takes it
  const title = detailId === id && ($('#needs-body #post-title') || $('#needs-body button.back'));
  if (title) title.focus();
}

/** Reads post id and shows it (`fly`: the map goes to it). */
export async function showPost(id, fly) {
  const body = $('#needs-body');
  let f;
  try {
    f = await api('GET', `/api/posts/${id}`);
  } catch (e) {
    fill(body, backButton(), h('p.error', { role: 'alert' }, e.status === 401 ? t('login_to_see') : errorText(e)));
    hooks.shown();
    return;
  }
  if (detailId !== id) return;
  if (fly) M.flyTo(f.geometry.coordinates, 15.5);
  renderDetail(f);
  hooks.shown();
}

/**
 * Reads post id again and draws it only when it changed since it was drawn
 * (not while its author's edit form is open): one GET.
 */
export async function refreshPost(id) {
  if (detailId !== id) return;
  let f;
  try { f = await api('GET', `/api/posts/${id}`); } catch { return showPost(id); } // gone, or no longer visible: said there
  if (detailId !== id || shape(f) === drawn || $('#form-edit')) return;
  renderDetail(f);
}

/* A post as compared by refreshPost: the address a claim reveals is kept
   apart (detailAddress), the rest as read. */
const shape = (f) => JSON.stringify({ ...f, properties: { ...f.properties, address: undefined } });

function backButton() {
  return h('button.back', { type: 'button', onclick: async () => {
    const id = detailId;
    forgetPost();
    M.selectNeed(null);
    await hooks.back(id);
  } },
  '← ', t('back_to_list'));
}

function renderDetail(f, editing) {
  const p = f.properties;
  drawn = shape(f);
  const body = $('#needs-body');
  const actions = [];
  const act = (label, fn, cls) => h('button' + (cls ? '.' + cls : ''), { type: 'button', onclick: fn }, label);
  if (can.member() && !p.mine && p.status === 'open') actions.push(act(t('claim'), () => claim(p.id), 'primary'));
  if (p.claimed_by_me && p.status === 'claimed') {
    actions.push(act(t('show_address'), () => claim(p.id)));
    actions.push(act(t('mark_done'), () => move(p.id, 'done', t('done_ok')), 'primary'));
    actions.push(act(t('release'), () => release(p.id), 'danger'));
  }
  if (p.mine && p.status === 'open') actions.push(act(t('edit'), () => renderDetail(f, true)));
  if (p.mine && ['open', 'claimed', 'expired'].includes(p.status)) {
    actions.push(act(t('mark_done'), () => move(p.id, 'done', t('done_ok'))));
    actions.push(act(t('cancel_post'), () => confirm(t('cancel_confirm')) && move(p.id, 'cancel', t('cancel_ok')), 'danger'));
  }
  const address = detailAddress && detailAddress.id === p.id ? detailAddress.address : null;
  const nb = M.neighbourhoodName(p.neighbourhood);
  // the conversation: the author and the claimer, once claimed (and after it is done)
  const other = p.mine ? p.claimed_by : p.claimed_by_me ? p.author : null;
  const chat = other && ['claimed', 'done'].includes(p.status) && noChat !== p.id
    ? conversation(p.id, other.display_name, () => { noChat = p.id; if (detailId === p.id) showPost(p.id); })
    : (stopConversation(), null);
  const comments = commentsSection(p);
  fill(body,
    backButton(),
    h('article.detail', { 'aria-labelledby': 'post-title', 'data-post': p.id, 'data-status': p.status },
      editing ? editForm(f) : [
        h('h2#post-title.pane-title', { tabindex: '-1' }, postIcon(p), ' ', p.title),
        h('p.chips', null,
          h('span.chip', null, t('kind_' + p.kind)), h('span.chip', null, t('cat_' + p.category)),
          h('span.chip.status-' + p.status, null, t('status_' + p.status)),
          p.hidden ? h('span.chip.warn', null, t('hidden')) : null),
        p.mine && p.claimed_by ? h('p.claimed-by', null, t('claimed_by', { name: p.claimed_by.display_name })) : null,
        p.body ? h('p.post-body', null, p.body) : null],
      h('dl.facts', null,
        h('dt', null, t('by')), h('dd', null, p.author ? p.author.display_name : '—'),
        nb ? [h('dt', null, t('neighbourhood')), h('dd', null, nb)] : null,
        h('dt', null, t('published')), h('dd', null, fmtDate(p.created_at)),
        p.expires_at ? [h('dt', null, t('expires')), h('dd', null, fmtDate(p.expires_at))] : null,
        p.views !== undefined ? [h('dt', null, t('views')), h('dd.views', null, String(p.views))] : null,
        p.comments !== undefined ? [h('dt', null, t('comments')), h('dd.comments-count', null, String(p.comments))] : null,
        p.group ? [h('dt', null, t('group')), h('dd', null, h('button.link.group-link', { type: 'button', 'data-group': p.group,
          onclick: () => import('./groups.js').then((m) => m.openGroup(p.group), () => toast(t('err_network'), true)) }, t('see_group')))] : null,
        p.reports !== undefined ? [h('dt', null, t('reports')), h('dd', null, String(p.reports))] : null),
      address ? h('div.address', { role: 'status' },
        h('h3', null, t('exact_address')), h('p.address-text', null, address), h('p.hint', null, t('address_private'))) : null,
      p.claimed_by_me && !address && p.status === 'claimed' ? h('p.hint', null, t('you_claimed')) : null,
      p.mine ? h('p.hint', null, t('public_point_note')) : null,
      actions.length && !editing ? h('div.row.actions', null, actions) : null,
      chat,
      comments,
      !p.mine && session.me ? reportForm(p) : null));
}

/**
 * The section of post p's comments, filled once comments.js is loaded. A
 * field that had the focus (the detail drawn again while typing) gets it back.
 */
function commentsSection(p) {
  const section = h('section.comments', { 'aria-labelledby': 'comments-title', 'data-post': p.id });
  const focus = !!(document.activeElement && document.activeElement.closest('.comment-form'));
  const setCount = (n) => { const dd = $('#needs-body dd.comments-count'); if (dd) dd.textContent = String(n); };
  import('./comments.js').then((m) => { if (section.isConnected) m.mountComments(section, p, { setCount, focus }); },
    () => fill(section, h('p.error', null, t('err_network'))));
  return section;
}

/** The author's form to edit an open post's title and details (PATCH). */
function editForm(f) {
  const p = f.properties;
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form#form-edit.stack', {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const g = await api('PATCH', `/api/posts/${p.id}`, { title: form.elements.title.value.trim(), body: form.elements.body.value.trim() });
        renderDetail(g);
        toast(t('edit_ok'));
        changed({ kind: 'post', id: p.id, action: 'edit' });
      } catch (e2) {
        err.textContent = errorText(e2);
        err.hidden = false;
      }
    },
  },
  h('h2#post-title.pane-title', null, t('edit_title')),
  h('label', null, h('span', null, t('title')), h('input', { type: 'text', name: 'title', required: true, maxlength: 200, value: p.title })),
  h('label', null, h('span', null, t('details')), h('textarea', { name: 'body', rows: 4, maxlength: 4000, value: p.body || '' }),
    h('small', null, t('details_hint'))),
  err,
  h('div.row', null, h('button.primary', { type: 'submit' }, t('save')),
    h('button', { type: 'button', onclick: () => renderDetail(f) }, t('cancel'))));
  return form;
}

function reportForm(p) {
  const details = h('details.report');
  const reason = h('textarea', { name: 'reason', maxlength: 500, rows: 2 });
  const form = h('form.stack', { onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/api/posts/${p.id}/report`, { reason: reason.value.trim() || undefined });
      details.open = false;
      toast(t('report_ok'));
    } catch (err) { toast(errorText(err), true); }
  } },
  h('label', null, h('span', null, t('report_reason')), reason),
  h('button', { type: 'submit' }, t('report_send')));
  details.append(h('summary', null, t('report')), form);
  return details;
}

async function claim(id) {
  try {
    const f = await api('POST', `/api/posts/${id}/claim`);
    detailAddress = { id, address: f.properties.address };
    noChat = null;
    renderDetail(f);
    toast(t('claim_ok'));
    changed({ kind: 'post', id, action: 'claim' });
  } catch (e) {
    if (e.status !== 409) return toast(errorText(e), true);
    // another volunteer was first (or the post closed meanwhile): show it as it is now
    const f = await api('GET', `/api/posts/${id}`).catch(() => null);
    const taken = f && f.properties.status === 'claimed' && !f.properties.claimed_by_me;
    toast(taken ? t('claim_lost') : t('claim_closed'), true);
    if (f && detailId === id) renderDetail(f);
    changed({ kind: 'post', id, action: 'stale' });
  }
}

/** The claimer gives the post back: it is open again, and they lose the address and the conversation. */
async function release(id) {
  if (!confirm(t('release_confirm'))) return;
  try {
    const f = await api('POST', `/api/posts/${id}/release`);
    detailAddress = null;
    renderDetail(f);
    toast(t('release_ok'));
    changed({ kind: 'post', id, action: 'release' });
  } catch (e) {
    toast(errorText(e), true);
  }
}

/** The post is done or cancelled (action: 'done' | 'cancel'). */
async function move(id, action, message) {
  try {
    const f = await api('POST', `/api/posts/${id}/${action}`);
    renderDetail(f);
    toast(message);
    changed({ kind: 'post', id, action });
  } catch (e) {
    toast(errorText(e), true);
  }
}
