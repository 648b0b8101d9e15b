/*
 * requests.js — what staff check by hand, under the moderation queue: shop
 * accounts' claims of imported shops (approve or turn down, after checking
 * with the shop as the claimant's note says) and the password reset links
 * to pass on to the members who asked (only to the person, once recognised:
 * the link sets their password).
 */
import { api, can } from './api.js';
import { h, $, fill } from './dom.js';
import { t, fmtDate, onLang } from './i18n.js';
import { toast, errorText, ui, currentTab } from './ui.js';
import { changed } from './events.js';

export function init() {
  ui.addEventListener('tab', (e) => { if (e.detail === 'moderation') render(); });
  onLang(() => { if (currentTab() === 'moderation') render(); });
}

export async function render() {
  const pane = $('#mod-requests');
  if (!can.staff()) { fill(pane); return; }
  let claims, resets;
  try {
    [claims, resets] = await Promise.all([api('GET', '/api/shop-claims'), api('GET', '/api/password-resets')]);
  } catch (e) { fill(pane, h('p.error', null, errorText(e))); return; }
  fill(pane,
    h('section.mod-claims', { 'aria-labelledby': 'mod-claims-title' },
      h('h2.pane-title#mod-claims-title', null, t('shop_claims')),
      h('p.hint', null, t('shop_claims_hint')),
      claims.claims.length ? h('ul.cards', null, claims.claims.map(claimCard)) : h('p.empty', null, t('no_shop_claims'))),
    h('section.mod-resets', { 'aria-labelledby': 'mod-resets-title' },
      h('h2.pane-title#mod-resets-title', null, t('reset_links')),
      h('p.hint', null, t('reset_links_hint')),
      resets.resets.length ? h('ul.cards', null, resets.resets.map(resetCard)) : h('p.empty', null, t('no_reset_links'))));
}

function claimCard(c) {
  const decide = (verb, done) => async (e) => {
    e.currentTarget.disabled = true;
    try {
      await api('POST', `/api/shop-claims/${c.id}/${verb}`);
      toast(t(done, { shop: c.shop.name || t('shop_no_name') }));
      changed({ kind: 'shop_claim', id: c.id, action: verb });
    } catch (err) { toast(errorText(err), true); }
    render();
  };
  return h('li.mod-item', { 'data-claim': c.id },
    h('p.card-title', null, c.shop.name || t('shop_no_name')),
    c.shop.address ? h('p.hint', null, c.shop.address) : null,
    h('p', null, t('claim_by', { name: c.claimant.display_name, email: c.claimant.email, date: fmtDate(c.created_at) })),
    c.note ? h('p.post-body', null, t('report_quote', { reason: c.note })) : null,
    h('div.row', null,
      h('button.primary', { type: 'button', 'data-act': 'approve', onclick: decide('approve', 'claim_approved_ok') }, t('approve')),
      h('button', { type: 'button', 'data-act': 'reject', onclick: decide('reject', 'claim_rejected_ok') }, t('reject'))));
}

function resetCard(r) {
  const url = new URL(r.link, location.href).href;
  const field = h('input', { type: 'text', readonly: true, value: url, 'aria-label': t('reset_link_for', { name: r.member.display_name }) });
  return h('li.mod-item', { 'data-reset': r.id },
    h('p.card-title', null, r.member.display_name),
    h('p.hint', null, r.member.email, ' · ', t('reset_expires', { date: fmtDate(r.expires_at) })),
    h('div.row', null, field,
      h('button', { type: 'button', onclick: async () => {
        field.select();
        try { await navigator.clipboard.writeText(url); toast(t('copied')); } catch { toast(t('copy_by_hand')); }
      } }, t('copy'))));
}
