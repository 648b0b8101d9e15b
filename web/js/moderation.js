/*
 * moderation.js — the staff panels. Moderation lists the reported posts
 * (every neighbourhood, hidden ones included) and hides or restores them.
 * The data panel is where exports and statistics for municipal staff go.
 */
import { api, qs, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t, fmtDate, onLang } from './i18n.js';
import * as M from './map.js';
import { toast, errorText, ui, currentTab } from './ui.js';
import { openPost } from './needs.js';

const MAX_PAGES = 20; // 2000 posts at most are scanned for reports

export function init() {
  ui.addEventListener('tab', (e) => {
    if (e.detail === 'moderation') render();
    if (e.detail === 'data') renderData();
  });
  onLang(() => {
    if (currentTab() === 'moderation') render();
    if (currentTab() === 'data') renderData();
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

export async function render() {
  const pane = $('#pane-moderation');
  if (!can.staff()) { fill(pane); return; }
  fill(pane, h('p.hint', { role: 'status' }, t('loading')));
  let posts;
  try { posts = await reported(); } catch (e) { fill(pane, h('p.error', null, errorText(e))); return; }
  fill(pane,
    h('h2.pane-title', null, t('reported_posts')),
    h('p.hint', null, t('moderation_hint')),
    posts.length === 0 ? h('p.empty', null, t('no_reports')) : h('ul.cards.moderation', null, posts.map((f) => {
      const p = f.properties;
      const act = p.hidden ? 'restore' : 'hide';
      return h('li.mod-item', { 'data-post': p.id },
        h('p.card-title', null, p.title),
        h('p.card-meta', null, [t('kind_' + p.kind), t('cat_' + p.category), t('status_' + p.status),
          p.author && p.author.display_name, M.neighbourhoodName(p.neighbourhood), fmtDate(p.created_at)].filter(Boolean).join(' · ')),
        p.body ? h('p.post-body', null, p.body) : null,
        h('p', null, h('strong', null, t('n_reports', { n: p.reports })), p.hidden ? [' · ', h('span.chip.warn', null, t('hidden'))] : null),
        h('div.row', null,
          h('button' + (p.hidden ? '.primary' : '.danger'), { type: 'button', onclick: async () => {
            try {
              await api('POST', `/api/posts/${p.id}/${act}`);
              toast(p.hidden ? t('restored') : t('hidden_ok'));
              window.dispatchEvent(new Event('entraide:data'));
              render();
            } catch (e) { toast(errorText(e), true); }
          } }, p.hidden ? t('restore') : t('hide')),
          h('button', { type: 'button', onclick: () => openPost(p.id, true) }, t('show_on_map'))));
    })));
}

function renderData() {
  const pane = $('#pane-data');
  if (!can.staff()) { fill(pane); return; }
  fill(pane, h('h2.pane-title', null, t('tab_data')), h('p', null, t('data_soon')));
}
