/*
 * needs_form.js — the Post tab: the form that publishes a request or an
 * offer, and the author's own posts with their views. An author is told
 * once that a post of theirs was claimed: at once while the page is open
 * (the live stream), else on their next visit (the ids last seen claimed
 * are kept in localStorage).
 *
 * The author's posts are read again after a change that may be theirs
 * (events.js), once for a burst: a post published (here, or by the same
 * member elsewhere: the live stream), or any change of a post listed —
 * claimed by a volunteer, done, its comments (their count is shown).
 *
 * A member of active groups may address a post to one of them (the
 * optional "Groupe" field, shown only then): their groups are read when the
 * tab is shown, so a group joined or become active meanwhile is offered.
 */
import { api, qs, session, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t, CATEGORIES } from './i18n.js';
import * as M from './map.js';
import { toast, errorText, ui, currentTab, showTab, moreButton } from './ui.js';
import { on, changed, coalesce } from './events.js';
import { openPost, postIcon } from './needs_detail.js';

const newlyClaimed = new Set(); // the author's posts claimed since their last visit
let wantedGroup = null; // the group to select once the member's groups are read ("Publier dans ce groupe")
let groupSeq = 0;       // the newest reading of the member's groups

export function init() {
  const listed = (id) => id === null || !!$(`#my-posts .card[data-post="${id}"]`);
  on(['post', 'comment'], coalesce((batch) => {
    if (batch.some((e) => (e.kind === 'post' && e.action === 'create') || listed(e.id))) renderMyPosts();
  }));
  ui.addEventListener('tab', (e) => { if (e.detail === 'post') fillGroups(); });
}

/** Opens the Post tab with group id chosen (the group's page: "Publier dans ce groupe"). */
export function postToGroup(id) {
  wantedGroup = id;
  if (currentTab() === 'post') fillGroups(); else showTab('post', true);
}

/** The "Groupe" field: the member's active groups, shown only when there is one. */
async function fillGroups() {
  const field = $('#post-group');
  if (!field || !can.home()) return;
  const my = ++groupSeq;
  let r;
  try { r = await api('GET', '/api/groups' + qs({ mine: 1, limit: 100 })); } catch { r = { groups: [] }; }
  if (my !== groupSeq || !field.isConnected) return;
  const sel = field.querySelector('select');
  const active = r.groups.filter((g) => g.status === 'active');
  const keep = wantedGroup !== null ? String(wantedGroup) : sel.value;
  wantedGroup = null;
  fill(sel, h('option', { value: '' }, t('post_group_none')), active.map((g) => h('option', { value: String(g.id) }, g.name)));
  sel.value = active.some((g) => String(g.id) === keep) ? keep : '';
  field.hidden = active.length === 0;
}

/** The form, and the author's posts below it; nothing for an account without a home. */
export function renderPostPane() {
  const pane = $('#pane-post');
  if (!can.home()) { fill(pane); return; }
  const cat = h('select', { name: 'category', required: true }, CATEGORIES.map((c) => h('option', { value: c }, t('cat_' + c))));
  const days = h('select', { name: 'expires_in_days' }, [1, 3, 7, 14, 30].map((d) =>
    h('option', { value: String(d), selected: d === 7 }, t('n_days', { n: d }))));
  const err = h('p.error', { role: 'alert', hidden: true });
  const form = h('form#form-post.stack', { onsubmit: submitPost },
    h('h2.pane-title', null, t('post_title')),
    h('fieldset.kinds', null, h('legend', null, t('kind')),
      h('label.inline', null, h('input', { type: 'radio', name: 'kind', value: 'request', checked: true }), ' ', t('kind_request_long')),
      h('label.inline', null, h('input', { type: 'radio', name: 'kind', value: 'offer' }), ' ', t('kind_offer_long'))),
    h('label', null, h('span', null, t('category')), cat),
    h('label', null, h('span', null, t('title')), h('input', { type: 'text', name: 'title', required: true, maxlength: 200 })),
    h('label', null, h('span', null, t('details')), h('textarea', { name: 'body', rows: 4, maxlength: 4000 }),
      h('small', null, t('details_hint'))),
    h('label', null, h('span', null, t('expires_in')), days),
    h('label#post-group', { hidden: true }, h('span', null, t('post_group')),
      h('select', { name: 'group' }, h('option', { value: '' }, t('post_group_none'))),
      h('small', null, t('post_group_hint'))),
    // where it will show, said next to the button (the first field comes first on a small screen)
    h('p.hint', null, t('post_intro')),
    err,
    h('button.primary', { type: 'submit' }, t('publish')));
  fill(pane, form, h('section#my-posts', { 'aria-labelledby': 'my-posts-title' }));
  renderMyPosts();
  if (currentTab() === 'post' || wantedGroup !== null) fillGroups();
}

async function submitPost(e) {
  e.preventDefault();
  const form = e.target;
  const err = $('.error', form);
  err.hidden = true;
  const body = {
    kind: form.elements.kind.value, category: form.elements.category.value,
    title: form.elements.title.value.trim(), expires_in_days: Number(form.elements.expires_in_days.value),
  };
  if (form.elements.body.value.trim()) body.body = form.elements.body.value.trim();
  if (form.elements.group.value) body.group = Number(form.elements.group.value);
  try {
    const f = await api('POST', '/api/posts', body);
    form.reset();
    toast(t('post_ok'));
    changed({ kind: 'post', id: f.properties.id, action: 'create' });
    M.flyTo(f.geometry.coordinates, 15.5);
  } catch (e2) {
    err.textContent = errorText(e2);
    err.hidden = false;
  }
}

export async function renderMyPosts() {
  const sec = $('#my-posts');
  if (!sec || !can.home()) return;
  let fc;
  try { fc = await api('GET', '/api/posts' + qs({ mine: 1, status: 'any', limit: 100 })); } catch (e) {
    fill(sec, h('p.error', null, errorText(e)));
    return;
  }
  claimNotice(fc.features);
  const ul = h('ul.cards', null, fc.features.map(myPostCard));
  // Older posts page by cursor (before=ID), a hundred at a time.
  const more = moreButton(ul, fc.more, fc.next_before, async (before) => {
    const r = await api('GET', '/api/posts' + qs({ mine: 1, status: 'any', limit: 100, before }));
    return { items: r.features, more: r.more, cursor: r.next_before };
  }, myPostCard);
  fill(sec,
    h('h2#my-posts-title.pane-title', null, t('my_posts')),
    fc.features.length === 0 ? h('p.empty', null, t('no_posts_yet')) : ul,
    more);
}

function myPostCard(f) {
  const p = f.properties;
  return h('li', null, h('button.card', { type: 'button', 'data-post': p.id, onclick: () => openPost(p.id, true) },
    postIcon(p),
    h('span.card-main', null,
      h('span.card-title', null, p.title),
      h('span.card-meta', null, [t('status_' + p.status), t('cat_' + p.category), t('n_views', { n: p.views ?? 0 }),
        p.comments ? t('n_comments', { n: p.comments }) : null,
        p.hidden ? t('hidden') : null].filter(Boolean).join(' · ')),
      newlyClaimed.has(p.id) && p.status === 'claimed' ? h('span.chip.new', null, t('newly_claimed')) : null)));
}

/** Tells the author of their posts claimed since the ids last seen claimed in this browser. */
function claimNotice(features) {
  const key = 'entraide.claimed.' + session.me.id;
  let seen = [];
  try { seen = JSON.parse(localStorage.getItem(key)) || []; } catch { /* none kept */ }
  const claimed = features.filter((f) => f.properties.status === 'claimed');
  const fresh = claimed.filter((f) => !seen.includes(f.properties.id));
  try { localStorage.setItem(key, JSON.stringify(claimed.map((f) => f.properties.id))); } catch { /* storage may be off */ }
  for (const f of fresh) newlyClaimed.add(f.properties.id);
  if (fresh.length) toast(fresh.length === 1 ? t('claimed_notice', { title: fresh[0].properties.title }) : t('claimed_notice_n', { n: fresh.length }), false, 10000);
}
