/*
 * group_page.js — what one group's page shows (groups.js fetches the
 * group, its posts and its members, and draws the page in the Groups tab):
 * its name, category, state, neighbourhood and creator; why it cannot post
 * yet while it is forming; Join or Leave, Post in this group once it is
 * active, Show on the map (groups_map.js); its posts, each opening in the
 * needs panel; its members, by display name. Its moderators (its creator,
 * staff: `moderator` in the group) get "Remove" beside each other member and
 * each post.
 *
 * After an action the page is drawn again by groups.js, told through the
 * hooks: redraw(focus) draws it now, willRedraw(focus) says where the focus
 * goes when a change announced (events.js) draws it; focus is 'title' (the
 * group's name) or 'map' (the map button).
 */
import { api, qs, session, can } from './api.js';
import { h } from './dom.js';
import { t, fmtDate } from './i18n.js';
import * as M from './map.js';
import { toast, errorText } from './ui.js';
import { changed } from './events.js';
import { openPost, postIcon } from './needs_detail.js';
import { postToGroup } from './needs_form.js';
import { showGroupOnMap, clearGroupMap, shownGroup } from './groups_map.js';

/** "En formation · 4/10 membres" or "Actif · 12 membres". */
export function statusText(g) {
  return g.status === 'active' ? t('grp_active', { n: g.member_count })
    : t('grp_forming', { n: g.threshold, count: g.member_count, threshold: g.threshold });
}

export const statusChip = (g) => h('span.chip.grp-status.status-' + g.status, null, statusText(g));

/**
 * The page of group g, with its posts (a FeatureCollection, or {error})
 * and the first page of its members ({members, more}, or {error}).
 */
export function groupPage(g, posts, members, hooks) {
  const actions = [];
  const act = (label, fn, cls, name) => h('button' + (cls ? '.' + cls : ''), { type: 'button', 'data-act': name, onclick: fn }, label);
  if (!g.joined && can.home()) actions.push(act(t('grp_join'), () => membership(g, 'POST', hooks), 'primary', 'join'));
  if (g.joined) {
    if (g.status === 'active' && can.home()) actions.push(act(t('grp_post_here'), () => postToGroup(g.id), 'primary', 'post'));
    actions.push(act(t('grp_leave'), () => confirm(t('grp_leave_confirm', { name: g.name })) && membership(g, 'DELETE', hooks), 'danger', 'leave'));
  }
  if (M.getMap() && posts.features && posts.features.length) {
    actions.push(shownGroup() === g.id
      ? act(t('grp_map_clear'), () => { clearGroupMap(); hooks.redraw('map'); }, null, 'map')
      : act(t('grp_map_show'), () => {
        if (!showGroupOnMap(g, posts, () => hooks.redraw(null))) return;
        toast(t('grp_map_shown', { name: g.name, n: posts.features.length }));
        hooks.redraw('map');
      }, null, 'map'));
  }
  return h('article.group-page', { 'aria-labelledby': 'group-title', 'data-group': g.id, 'data-status': g.status },
    h('h2#group-title.pane-title', { tabindex: '-1' }, g.name),
    h('p.chips', null, h('span.chip', null, t('gcat_' + g.category)), statusChip(g),
      g.joined ? h('span.chip.grp-joined', null, t('grp_joined')) : null),
    g.status !== 'active' ? h('p.note.grp-forming-note', null, t('grp_forming_note', { n: g.threshold })) : null,
    g.description ? h('p.post-body', null, g.description) : null,
    h('dl.facts', null,
      h('dt', null, t('neighbourhood')), h('dd', null, g.neighbourhood ? g.neighbourhood.name : '—'),
      h('dt', null, t('grp_creator')), h('dd', null, g.creator ? g.creator.display_name : '—'),
      h('dt', null, t('grp_created_at')), h('dd', null, fmtDate(g.created_at, false)),
      h('dt', null, t('grp_members')), h('dd.grp-count', null, String(g.member_count))),
    actions.length ? h('div.row.actions', null, actions) : null,
    postsSection(g, posts, hooks),
    membersSection(g, members, hooks));
}

function postsSection(g, fc, hooks) {
  const items = fc.features || [];
  return h('section.grp-posts', { 'aria-labelledby': 'grp-posts-title' },
    h('h3#grp-posts-title', null, t('grp_posts')),
    fc.error ? h('p.error', null, errorText(fc.error))
      : items.length === 0 ? h('p.empty', null, t('grp_no_posts'))
        : h('ul.cards', null, items.map((f) => {
          const p = f.properties;
          return h('li.grp-item', null,
            h('button.card', { type: 'button', 'data-post': p.id, onclick: () => openPost(p.id, true) },
              postIcon(p),
              h('span.card-main', null,
                h('span.card-title', null, p.title),
                h('span.card-meta', null, [t('kind_' + p.kind), t('cat_' + p.category), p.author && p.author.display_name,
                  p.comments ? t('n_comments', { n: p.comments }) : null].filter(Boolean).join(' · ')))),
            g.moderator ? h('button.danger.grp-remove', { type: 'button', 'data-remove-post': p.id, 'aria-label': t('grp_remove_post_label', { title: p.title }),
              onclick: () => removePost(g, p, hooks) }, t('grp_remove')) : null);
        })));
}

function membersSection(g, first, hooks) {
  const ul = h('ul.grp-members');
  let after = 0;
  const add = (list) => {
    for (const m of list) {
      after = Math.max(after, m.id);
      const self = session.me && m.id === session.me.id;
      ul.append(h('li', { 'data-member': m.id },
        h('span', null, m.display_name, m.creator ? h('span.hint', null, ' · ', t('grp_founder')) : null, self ? h('span.hint', null, ' · ', t('you')) : null),
        g.moderator && !m.creator && !self ? h('button.danger.grp-remove', { type: 'button', 'aria-label': t('grp_remove_member_label', { name: m.display_name }),
          onclick: () => removeMember(g, m, hooks) }, t('grp_remove')) : null));
    }
  };
  if (first.members) add(first.members);
  const more = h('button.more', { type: 'button', hidden: !first.more, onclick: async () => {
    more.disabled = true;
    try {
      const r = await api('GET', `/api/groups/${g.id}/members` + qs({ after }));
      add(r.members);
      more.hidden = !r.more;
    } catch (e) { toast(errorText(e), true); }
    more.disabled = false;
  } }, t('show_more'));
  return h('section.grp-members-part', { 'aria-labelledby': 'grp-members-title' },
    h('h3#grp-members-title', null, t('grp_members')),
    first.error ? h('p.error', null, errorText(first.error)) : ul, more);
}

/** Joins (POST) or leaves (DELETE) group g; the page is drawn again. */
async function membership(g, method, hooks) {
  try {
    const after = await api(method, method === 'POST' ? `/api/groups/${g.id}/members` : `/api/groups/${g.id}/members/me`);
    toast(method === 'DELETE' ? t('grp_left')
      : after.status === 'active' && g.status !== 'active' ? t('grp_now_active') : t('grp_welcome', { name: g.name }));
  } catch (e) { toast(errorText(e), true); }
  await hooks.redraw('title');
}

async function removeMember(g, m, hooks) {
  if (!confirm(t('grp_remove_member_confirm', { name: m.display_name }))) return;
  try {
    await api('DELETE', `/api/groups/${g.id}/members/${m.id}`);
    toast(t('grp_member_removed', { name: m.display_name }));
  } catch (e) { toast(errorText(e), true); }
  await hooks.redraw('title');
}

async function removePost(g, p, hooks) {
  if (!confirm(t('grp_remove_post_confirm', { title: p.title }))) return;
  try {
    await api('DELETE', `/api/groups/${g.id}/posts/${p.id}`);
    toast(t('grp_post_removed'));
    hooks.willRedraw('title');
    changed({ kind: 'post', id: p.id, action: 'edit' }); // the page is drawn again from there
  } catch (e) { toast(errorText(e), true); }
}
