/*
 * groups.js — the Groups tab: the thematic groups of the member's
 * neighbourhood and of the contiguous ones (GET /api/groups), their own
 * (?mine=1), the form that creates one (the dialog #dlg-group), and one
 * group's page, read here (the group, its posts, its members) and drawn by
 * group_page.js. A group is "forming" until it has enough members (the
 * server's threshold, given in each group), then "active": only an active
 * group takes posts. A visitor is only invited to log in.
 *
 * The module is loaded when the tab is first shown (main.js imports it
 * then), or when a link #group=ID (or a post's "Voir le groupe") is
 * followed: a visit that never opens the tab does not pay for it. The map
 * part ("Voir sur la carte") is groups_map.js's.
 *
 * One render at a time: each render takes a number, and an answer that
 * comes back after a newer render started is dropped.
 */
import { api, qs, session, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t } from './i18n.js';
import { toast, errorText, showTab, showDialog, currentTab, openLogin, openRegister } from './ui.js';
import { on, coalesce } from './events.js';
import { updateGroupOnMap, clearGroupMap, shownGroup } from './groups_map.js';
import { groupPage, statusChip } from './group_page.js';

const GROUP_CATEGORIES = ['food', 'environment', 'education', 'culture', 'sport', 'solidarity', 'health', 'other'];
const PAGE = 50;            // groups asked for at a time
const NAME_MAX = 100;       // bytes: the API's bounds
const DESCRIPTION_MAX = 2000;

let openId = null;          // the group whose page is shown, or null for the lists
let focusNext = null;       // where the focus goes when the group page is next drawn: 'title', 'map' or null
let focusGroup = null;      // the group whose card takes the focus when the lists are next drawn
let category = '';          // the lists' category filter
let seq = 0;                // the newest render; older answers are dropped

const bytes = (s) => new TextEncoder().encode(s).length;

/* Once, when the module is loaded: the session and changes of posts. */
on('session', () => {
  openId = null;
  category = '';
  clearGroupMap();
});
// A post published, or a change of a post the group's page lists (taken
// out of the group, claimed, its comments counted): the page shown follows.
on(['post', 'comment'], coalesce((batch) => {
  if (currentTab() !== 'groups' || openId === null) return;
  const listed = (id) => id === null || !!$(`#pane-groups .grp-posts .card[data-post="${id}"]`);
  if (batch.some((e) => (e.kind === 'post' && e.action === 'create') || listed(e.id))) show();
}));
$('#form-group').addEventListener('submit', submitCreate);
$('#dlg-group .close').addEventListener('click', () => $('#dlg-group').close());

/** Draws the tab as it should be now: a group's page, or the lists. */
export function show() {
  return openId !== null ? renderGroup(openId) : renderLists();
}

/** Opens group id's page in the Groups tab, the focus on its title. */
export function openGroup(id) {
  openId = id;
  focusNext = 'title';
  if (currentTab() !== 'groups') showTab('groups'); // main.js then calls show()
  else show();
}

/* ---- the lists ---- */

function invitation() {
  return [h('h2.pane-title', null, t('tab_groups')),
    h('p.anon-intro', null, t('grp_login')),
    h('p.row', null,
      h('button.primary', { type: 'button', onclick: openRegister }, t('register')), ' ',
      h('button', { type: 'button', onclick: openLogin }, t('log_in')))];
}

function groupCard(g) {
  return h('li', null, h('button.card.group-card', { type: 'button', 'data-group': g.id, onclick: () => openGroup(g.id) },
    h('span.card-main', null,
      h('span.card-title', null, g.name),
      h('span.card-meta', null, [t('gcat_' + g.category), g.neighbourhood && g.neighbourhood.name].filter(Boolean).join(' · ')),
      h('span.chips', null, statusChip(g), g.joined ? h('span.chip.grp-joined', null, t('grp_joined')) : null))));
}

/** A list of groups, with "Show more" while the API has more (offset pages). */
function groupList(params, first, empty, label) {
  const ul = h('ul.cards', { 'aria-labelledby': label }, first.groups.map(groupCard));
  let offset = first.groups.length;
  const more = h('button.more', { type: 'button', hidden: !first.more, onclick: async () => {
    more.disabled = true;
    try {
      const r = await api('GET', '/api/groups' + qs({ ...params, limit: PAGE, offset }));
      offset += r.groups.length;
      ul.append(...r.groups.map(groupCard));
      more.hidden = !r.more;
    } catch (e) { toast(errorText(e), true); }
    more.disabled = false;
  } }, t('show_more'));
  return [first.groups.length ? ul : h('p.empty', null, empty), more];
}

async function renderLists() {
  const pane = $('#pane-groups');
  const my = ++seq;
  if (!session.me) { fill(pane, invitation()); return; }
  let near, mine;
  try {
    [near, mine] = await Promise.all([
      api('GET', '/api/groups' + qs({ category, limit: PAGE })),
      api('GET', '/api/groups' + qs({ mine: 1, limit: PAGE })),
    ]);
  } catch (e) {
    if (my === seq) fill(pane, h('p.error', { role: 'alert' }, errorText(e)));
    return;
  }
  if (my !== seq) return;
  const filter = h('select', { name: 'category', onchange: () => { category = filter.value; renderLists(); } },
    h('option', { value: '' }, t('all_categories')),
    GROUP_CATEGORIES.map((c) => h('option', { value: c, selected: c === category }, t('gcat_' + c))));
  const had = focusGroup ?? (pane.contains(document.activeElement) && document.activeElement.name === 'category' ? 'filter' : null);
  focusGroup = null;
  fill(pane,
    h('section', { 'aria-labelledby': 'groups-near-title' },
      h('h2#groups-near-title.pane-title', null, t('grp_near')),
      h('p.hint', null, t('grp_near_hint')),
      can.home() ? h('p.row', null, h('button#btn-group-create.primary', { type: 'button', onclick: openCreate }, t('grp_create'))) : null,
      h('label.grp-filter', null, h('span', null, t('category')), filter),
      groupList({ category }, near, category ? t('grp_none_match') : t('grp_none_near'), 'groups-near-title')),
    h('section', { 'aria-labelledby': 'groups-mine-title' },
      h('h2#groups-mine-title.pane-title', null, t('grp_mine')),
      groupList({ mine: 1 }, mine, t('grp_none_mine'), 'groups-mine-title')));
  // drawn again (Back, the filter): the focus stays where it was
  if (had === 'filter') filter.focus();
  else if (had !== null) ($(`#pane-groups button[data-group="${had}"]`) || $('#pane-groups')).focus();
}

/* ---- creating a group ---- */

function openCreate(e) {
  const form = $('#form-group');
  const sel = form.elements.category;
  const was = sel.value;
  fill(sel, GROUP_CATEGORIES.map((c) => h('option', { value: c }, t('gcat_' + c))));
  if (was) sel.value = was;
  $('.error', form).hidden = true;
  showDialog($('#dlg-group'), e && e.currentTarget);
  form.elements.name.focus();
}

async function submitCreate(e) {
  e.preventDefault();
  const form = e.target;
  const err = $('.error', form);
  err.hidden = true;
  const body = { name: form.elements.name.value.trim(), description: form.elements.description.value.trim(), category: form.elements.category.value };
  const say = (text) => { err.textContent = text; err.hidden = false; };
  if (!body.name) return say(t('grp_name_needed'));
  if (bytes(body.name) > NAME_MAX) return say(t('grp_name_too_long'));
  if (bytes(body.description) > DESCRIPTION_MAX) return say(t('grp_description_too_long'));
  const button = $('button[type=submit]', form);
  button.disabled = true;
  try {
    const g = await api('POST', '/api/groups', body);
    form.reset();
    $('#dlg-group').close();
    toast(t('grp_created'));
    openGroup(g.id);
  } catch (e2) {
    say(errorText(e2));
  } finally {
    button.disabled = false;
  }
}

/* ---- one group's page ---- */

function backButton() {
  return h('button.back', { type: 'button', onclick: () => {
    focusGroup = openId;
    openId = null;
    renderLists();
  } }, '← ', t('grp_back'));
}

async function renderGroup(id) {
  const pane = $('#pane-groups');
  const my = ++seq;
  const focus = focusNext;
  focusNext = null;
  if (!session.me) { fill(pane, invitation()); return; }
  let g;
  try {
    g = await api('GET', `/api/groups/${id}`);
  } catch (e) {
    if (my !== seq) return;
    fill(pane, backButton(), h('p.error.grp-missing', { role: 'alert' }, e.status === 404 ? t('grp_not_found') : errorText(e)));
    if (focus) $('button.back', pane).focus();
    return;
  }
  // its posts and its members; either may fail alone (said in its section)
  const [posts, members] = await Promise.all([
    api('GET', '/api/posts' + qs({ group: id, limit: 100 })).catch((e) => ({ error: e })),
    api('GET', `/api/groups/${id}/members`).catch((e) => ({ error: e })),
  ]);
  if (my !== seq || openId !== id) return;
  if (posts.features && shownGroup() === id) updateGroupOnMap(posts);
  fill(pane, backButton(), groupPage(g, posts, members, {
    redraw: (where) => { focusNext = where; return currentTab() === 'groups' ? show() : null; },
    willRedraw: (where) => { focusNext = where; },
  }));
  if (focus === 'title') $('#group-title', pane).focus();
  else if (focus === 'map' && $('button[data-act=map]', pane)) $('button[data-act=map]', pane).focus();
}
