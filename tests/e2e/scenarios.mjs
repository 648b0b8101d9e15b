/*
 * tests/e2e/scenarios.mjs — what a person does on the map, in the browser.
 * Each scenario starts from a page with no cookie and no local storage, acts
 * through the page as a person would (clicks, typing, the keyboard), and
 * checks what is drawn on the map (MapLibre's rendered features) and shown
 * in the panels. Each saves a screenshot into ctx.shots (run.mjs --shots).
 */
import fs from 'node:fs';
import path from 'node:path';
import { rasterArchive } from './pmtiles_fixture.mjs';
import { axeCheck } from './axe.mjs';

/* ---- helpers ---- */

async function freshPage(ctx, opts = {}) {
  for (const p of ctx.browser.pages()) await p.close();
  await ctx.browser.clearCookies();
  const page = await ctx.browser.newPage();
  const cdp = await ctx.browser.newCDPSession(page);
  await cdp.send('Storage.clearDataForOrigin', { origin: ctx.base, storageTypes: 'local_storage,cookies' });
  await cdp.detach();
  if (opts.viewport) await page.setViewportSize(opts.viewport);
  page.errors = [];
  page.offsite = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('request', (r) => { if (!r.url().startsWith(ctx.base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) page.offsite.push(r.url()); });
  return page;
}

async function open(page, ctx, hash = '') {
  await page.goto(ctx.base + '/' + hash);
  await page.waitForFunction(() => window.entraide && window.entraide.map && window.entraide.map.loaded(), null, { timeout: 20000 });
  await idle(page);
}

/** Waits until the map has drawn everything it has asked for. */
async function idle(page) {
  await page.evaluate(() => new Promise((resolve, reject) => {
    const m = window.entraide.map;
    // An 'idle' event can be missed (it fires once, maybe before we listen):
    // once a frame has been drawn, the map's own state is also looked at
    // every 100 ms.
    let settled = false, poll = null;
    const timer = setTimeout(() => { settled = true; clearInterval(poll); reject(new Error('the map did not settle in 45 s')); }, 45000);
    const check = () => {
      if (settled || !(m.loaded() && m.areTilesLoaded() && !m.isMoving())) return false;
      settled = true; clearTimeout(timer); clearInterval(poll); resolve();
      return true;
    };
    const done = () => { if (!check() && !settled) m.once('idle', done); };
    m.once('render', () => { if (!settled) poll = setInterval(check, 100); });
    m.once('idle', done);
    m.triggerRepaint();
  }));
}

async function jump(page, center, zoom) {
  await page.evaluate(([c, z]) => window.entraide.map.jumpTo({ center: c, zoom: z }), [center, zoom]);
  await idle(page);
}

/** The features drawn on screen in these layers: their properties, id and point. */
function rendered(page, layers) {
  return page.evaluate((ls) => {
    const m = window.entraide.map;
    return m.queryRenderedFeatures({ layers: ls.filter((l) => m.getLayer(l)) }).map((f) => ({
      layer: f.layer.id, id: f.id, props: f.properties,
      at: f.geometry.type === 'Point' ? f.geometry.coordinates : null,
    }));
  }, layers);
}

/** How many needs the map shows at a public point (lone posts and cluster counts). */
async function needsAt(page, lngLat) {
  return page.evaluate((p) => {
    const m = window.entraide.map;
    const q = m.project(p);
    const fs = m.queryRenderedFeatures([[q.x - 4, q.y - 4], [q.x + 4, q.y + 4]], { layers: ['needs', 'needs-cluster'] });
    return { count: fs.reduce((n, f) => n + (f.properties.cluster ? f.properties.point_count : 1), 0), ids: fs.filter((f) => !f.properties.cluster).map((f) => f.id) };
  }, lngLat);
}

/** Clicks the map where a point is drawn. */
async function clickMapAt(page, lngLat) {
  const box = await page.locator('#map canvas').boundingBox();
  const q = await page.evaluate((p) => { const r = window.entraide.map.project(p); return [r.x, r.y]; }, lngLat);
  await page.mouse.click(box.x + q[0], box.y + q[1]);
}

async function shot(page, ctx, name, { quiet } = {}) {
  if (quiet) { // without the passing message at the bottom
    await page.evaluate(() => document.getElementById('toast').classList.remove('on'));
    await page.waitForTimeout(400);
  }
  await page.screenshot({ path: path.join(ctx.shots, name + '.png') });
}

async function login(page, email) {
  await page.click('#btn-login');
  await page.fill('#form-login input[name=email]', email);
  await page.fill('#form-login input[name=password]', 'correct horse');
  await page.click('#form-login button[type=submit]');
  // argon2id hashing under the sanitizers on a loaded machine takes seconds:
  // a hang guard, not a speed check
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  await idle(page);
}

async function logout(page) {
  await page.click('#btn-logout');
  await page.waitForSelector('#btn-login:not([hidden])');
}

async function tab(page, name) {
  await page.click(`[role=tab][data-tab=${name}]`);
}

/** Types keywords (and picks a status) in the filters; resolves once the list shows that search. */
async function search(page, words, status) {
  if (status) await page.selectOption('#filters select[name=status]', status);
  await page.fill('#filters input[name=q]', words);
  await page.waitForFunction(([q, st]) => {
    const p = new URLSearchParams(document.querySelector('#needs-body').dataset.query || '');
    return p.get('q') === q && (!st || p.get('status') === st);
  }, [words, status], { timeout: 10000 });
}

const listTitles = (page) => page.$$eval('#needs-body .card-title', (els) => els.map((e) => e.textContent));
const cityView = async (page) => {
  await page.evaluate(() => { const m = window.entraide.map; m.fitBounds(m.getSource('entraide').bounds || [[2.22, 48.81], [2.47, 48.91]], { animate: false }); });
  await idle(page);
};

/** Opens a post's detail through its link (#post=ID), as a shared link would. */
async function openPostLink(page, id) {
  await page.evaluate((pid) => {
    if (location.hash === '#post=' + pid) history.replaceState(null, '', location.pathname);
    location.hash = '#post=' + pid;
  }, id);
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"]`, { timeout: 10000 });
}

const toastHas = (page, text, timeout = 10000) =>
  page.waitForFunction((s) => document.getElementById('toast').textContent.includes(s), text, { timeout });

/** The shop becomes the shop account's: its claim, approved by staff (when not already its own). */
async function ownShop(ctx, owner, id) {
  const claim = await owner.req('POST', `/api/shops/${id}/claim`, { note: 'e2e' });
  if (claim.status === 'pending') await (await member(ctx, 'moderation@e2e.test')).req('POST', `/api/shop-claims/${claim.id}/approve`);
}

/** A member's API client, logged in. */
async function member(ctx, email) {
  const c = new ctx.Client(ctx.base);
  await c.login(email);
  return c;
}

async function post(ctx, id, client) {
  const c = client || new ctx.Client(ctx.base);
  if (!client) await c.login('moderation@e2e.test');
  return c.req('GET', `/api/posts/${id}`);
}

/* ---- 1. anonymous ---- */
async function anonymous(ctx) {
  const { check } = ctx;
  const page = await freshPage(ctx);
  // The browser has just started: let its own start-up settle on a blank
  // page, so that the figure is the page's (its caches are still empty).
  await page.goto('about:blank');
  await page.waitForTimeout(500);
  await page.goto(ctx.base + '/');
  await page.waitForFunction(() => window.entraide && window.entraide.firstRender, null, { timeout: 20000 });
  const fr = await page.evaluate(() => window.entraide.firstRender);
  ctx.figures.firstRender = [['anonymous, first visit', fr.ms]];
  check(`first render with data within ${ctx.budgetMs} ms (${fr.ms} ms, ${fr.features} features)`, fr.ms <= ctx.budgetMs, fr);
  await idle(page);
  const all = await rendered(page, ['shops', 'shops-cluster', 'nb-line', 'nb-label', 'needs', 'needs-cluster', 'makers']);
  const count = (l) => all.filter((f) => f.layer === l).length;
  check(`shops are drawn (${count('shops')} shops, ${count('shops-cluster')} groups)`, count('shops') + count('shops-cluster') > 20);
  const shopTotal = all.filter((f) => f.layer === 'shops-cluster').reduce((n, f) => n + f.props.point_count, 0) + count('shops');
  check(`the groups of shops account for the sample's shops (${shopTotal})`, shopTotal > 500, shopTotal);
  check(`neighbourhoods are drawn with their names (${count('nb-line')} outlines, ${count('nb-label')} labels)`, count('nb-line') >= 40 && count('nb-label') >= 30);
  check('no need and no maker is drawn for an anonymous visitor', count('needs') + count('needs-cluster') + count('makers') === 0);
  const inTiles = await page.evaluate(() => window.entraide.map.querySourceFeatures('entraide', { sourceLayer: 'needs' }).length +
    window.entraide.map.querySourceFeatures('entraide', { sourceLayer: 'makers' }).length);
  check('the tiles sent to an anonymous visitor hold no need and no maker', inTiles === 0, inTiles);
  check('the panel shows counts, not posts', (await page.$$('#needs-body [data-post]')).length === 0 &&
    (await page.textContent('#needs-body')).includes('ouverte'));
  check('the legend is shown', await page.isVisible('.legend li'));
  await shot(page, ctx, 'anonymous');

  // The offline basemap at high zoom: address points and numbers show the streets.
  await jump(page, ctx.data.homeV, 17.3);
  const hi = await rendered(page, ['addr-dot', 'addr-num', 'shops', 'nb-line']);
  check(`address points and numbers are drawn at high zoom (${hi.filter((f) => f.layer === 'addr-dot').length})`,
    hi.filter((f) => f.layer === 'addr-dot').length > 50 && hi.filter((f) => f.layer === 'addr-num').length > 10);
  await shot(page, ctx, 'basemap-high-zoom');
  check('nothing was fetched from another origin (works offline)', page.offsite.length === 0, page.offsite.slice(0, 5));
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- 2. a volunteer registers, sees their area, claims a need ---- */
async function volunteer(ctx) {
  const { check, data } = ctx;
  const page = await freshPage(ctx);
  await open(page, ctx);
  await page.click('#btn-register');
  await page.fill('#form-register input[name=display_name]', 'Valentin');
  await page.fill('#form-register input[name=email]', 'valentin@e2e.test');
  await page.fill('#form-register input[name=password]', 'correct horse');
  await page.locator('#reg-address').pressSequentially(data.addr.v.toLowerCase(), { delay: 15 });
  await page.waitForSelector('.ac-item', { timeout: 10000 });
  const first = await page.textContent('.ac-item');
  check(`the address autocompletes, with the neighbourhood (${first})`, first.includes(data.names.a));
  await shot(page, ctx, 'register-autocomplete');
  await page.keyboard.press('Enter');
  const picked = await page.inputValue('#reg-address');
  check(`picking a suggestion fills the address (${picked})`, /Paris/.test(picked));
  await page.click('#form-register button[type=submit]');
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  check('registering logs the volunteer in', (await page.textContent('#who')).includes('Valentin'));
  await logout(page);
  await login(page, 'valentin@e2e.test');
  check('the volunteer logs in again', (await page.textContent('#who')).includes(data.names.a));

  const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
  check('their neighbourhoods are their own and the contiguous ones',
    JSON.stringify([...me.visible_neighbourhoods].sort()) === JSON.stringify([...data.visible].sort()), me.visible_neighbourhoods);

  // Their area, with its needs.
  await jump(page, data.homeV, 14.5);
  const needs = await rendered(page, ['needs', 'needs-cluster']);
  const lone = needs.filter((f) => f.layer === 'needs');
  check(`needs are drawn around their home (${lone.length} posts, ${needs.length - lone.length} groups)`, needs.length > 3);
  const foreign = lone.filter((f) => !data.visible.includes(String(f.props.neighbourhood)));
  check('every post drawn belongs to their neighbourhood or a contiguous one', lone.length > 0 && foreign.length === 0, foreign.slice(0, 3));
  await page.waitForSelector('#needs-body .card');
  check('the list beside the map shows the needs near the centre, nearest first',
    await page.$$eval('#needs-body .card-meta', (els) => {
      const d = els.map((e) => { const m = /(\d+(?:,\d)?) (m|km)/.exec(e.textContent); return m ? parseFloat(m[1].replace(',', '.')) * (m[2] === 'km' ? 1000 : 1) : NaN; });
      return d.length > 3 && d.every((x, i) => !Number.isNaN(x) && (i === 0 || x >= d[i - 1]));
    }));
  await shot(page, ctx, 'volunteer-map', { quiet: true });

  // A group: clicking it lists the posts of its cell.
  const group = needs.filter((f) => f.layer === 'needs-cluster' && f.props.point_count <= 25)[0];
  if (check('groups of posts are drawn', !!group)) {
    await clickMapAt(page, group.at);
    await page.waitForSelector('.maplibregl-popup .popup h3', { timeout: 10000 });
    const n = await page.$$eval('.maplibregl-popup .mini li', (els) => els.length);
    check(`clicking a group lists its posts (${n} of ${group.props.point_count})`, n >= 1 && n <= group.props.point_count);
    await page.click('.maplibregl-popup .mini li button');
    await page.waitForSelector('#needs-body article.detail');
    check('a post of the group opens in the panel', true);
    await page.click('#needs-body .back');
  }

  // A distant quartier: nothing is drawn there.
  await jump(page, data.labelC, 15);
  const far = await rendered(page, ['needs', 'needs-cluster']);
  check(`no need is drawn in a distant quartier (${data.names.c})`, far.length === 0, far.slice(0, 3));

  // Search the whole city: B's post is found, C's is not.
  await cityView(page);
  await search(page, 'ordonnance pharmacie', 'any');
  check('a post of a contiguous quartier is found', (await listTitles(page)).some((s) => s.includes('Ordonnance')));
  await search(page, 'hebdomadaire lointain', 'any');
  check('the post of a distant quartier is not found', (await listTitles(page)).length === 0 && (await page.isVisible('#needs-body .empty')));

  // Claim A's post: the exact address appears.
  await search(page, 'ascenseur', 'open');
  const titles = await listTitles(page);
  check('the post to claim is listed', titles.length === 1 && titles[0].includes('ascenseur'), titles);
  await page.click('#needs-body .card');
  await page.waitForSelector('#needs-body article.detail');
  await idle(page);
  await page.click('#needs-body .actions button.primary');
  await page.waitForSelector('.address-text', { timeout: 10000 });
  const address = await page.textContent('.address-text');
  check(`after claiming, the exact address is shown (${address})`, address === data.expectedAddress, { address, expected: data.expectedAddress });
  await shot(page, ctx, 'volunteer-claim');
  const after = await post(ctx, data.posts.a);
  check('the post is claimed', after.properties.status === 'claimed');
  check('no script error', page.errors.length === 0, page.errors);

  // The first render for a member, on a reload (the browser cache is warm).
  await page.goto(ctx.base + '/');
  await page.waitForFunction(() => window.entraide && window.entraide.firstRender, null, { timeout: 20000 });
  const fr = await page.evaluate(() => window.entraide.firstRender);
  (ctx.figures.firstRender ||= []).push(['member, reload', fr.ms]);
  check(`member's first render with data within ${ctx.budgetMs} ms (${fr.ms} ms)`, fr.ms <= ctx.budgetMs, fr);
}

/* ---- 3. a shop owner marks their shop open and delivering ---- */
async function shopOwner(ctx) {
  const { check, data } = ctx;
  let page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'commerce@e2e.test');
  check('the shop panel is offered', await page.isVisible('[role=tab][data-tab=myshop]'));
  await jump(page, data.shopAt, 17.5);
  await clickMapAt(page, data.shopAt);
  await page.waitForSelector(`.shop-popup[data-shop="${data.shop.id}"]`);
  // Claiming the imported shop asks staff, who check with the shop first.
  await page.click('.shop-popup button.primary');
  await page.fill('.shop-popup .claim-form textarea[name=note]', 'Appelez la boutique, demandez Ana');
  await page.click('.shop-popup .claim-form button[type=submit]');
  await page.waitForSelector('.shop-popup .claim-pending');
  check('the claim is sent and waits for staff', (await page.textContent('.shop-popup .claim-pending')).includes('en attente'));
  await tab(page, 'myshop');
  await page.waitForSelector('#pane-myshop .my-claims');
  check('My shop lists the request, and no shop form yet',
    (await page.textContent('#pane-myshop .my-claims')).includes('en attente') && !(await page.isVisible(`[data-shop-form="${data.shop.id}"]`)));
  const owner = await member(ctx, 'commerce@e2e.test');
  check('nor can the account change the shop yet (403)',
    await owner.req('PATCH', `/api/shops/${data.shop.id}`, { status: 'open' }).then(() => false, (e) => / 403 /.test(e.message)));

  check('no script error (claim)', page.errors.length === 0, page.errors);

  // Staff find it under Moderation, with the note, and approve it.
  const desk = await freshPage(ctx);
  await open(desk, ctx);
  await login(desk, 'moderation@e2e.test');
  await tab(desk, 'moderation');
  const card = desk.locator('#mod-requests [data-claim]').filter({ hasText: 'demandez Ana' });
  await card.waitFor({ timeout: 15000 });
  check('staff see the claim with who asked and the note',
    (await card.textContent()).includes('commerce@e2e.test'));
  await card.locator('button[data-act=approve]').click();
  await toastHas(desk, 'a maintenant son commerçant');
  await desk.waitForSelector('#mod-requests .mod-claims p.empty');
  check('the claim leaves the list once approved', true);
  check('no script error (staff desk)', desk.errors.length === 0, desk.errors);

  page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'commerce@e2e.test');
  await jump(page, data.shopAt, 17.5);
  await tab(page, 'myshop');
  await page.waitForSelector(`[data-shop-form="${data.shop.id}"]`, { timeout: 15000 });
  const form = page.locator(`[data-shop-form="${data.shop.id}"]`);
  await form.locator('input[name=status][value=open]').check();
  await form.locator('input[name=delivers]').check();
  await form.locator('input[name=opening_hours]').fill('Mo-Sa 08:00-20:00; Su 09:00-13:00');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector(`[data-shop-form="${data.shop.id}"] .confirmed-line:has-text("aujourd’hui")`);
  check('the panel says the status is confirmed today', (await page.textContent(`[data-shop-form="${data.shop.id}"] .confirmed-line`)).includes('Confirmé aujourd’hui'));
  await page.waitForFunction((id) => window.entraide.map.queryRenderedFeatures({ layers: ['shops'] })
    .some((f) => f.id === id && f.properties.status === 'open'), data.shop.id, { timeout: 10000 });
  await idle(page);
  check('the map redraws the shop as open at once', true);
  await shot(page, ctx, 'shop-panel');

  await page.reload();
  await page.waitForFunction(() => window.entraide && window.entraide.map && window.entraide.map.loaded(), null, { timeout: 20000 });
  await idle(page);
  const shops = (await rendered(page, ['shops'])).filter((f) => f.id === data.shop.id);
  check('after a reload the map draws the shop open, delivering, confirmed',
    shops.length === 1 && shops[0].props.status === 'open' && shops[0].props.delivers === true && shops[0].props.confirmed === true, shops);
  await clickMapAt(page, data.shopAt);
  await page.waitForSelector(`.shop-popup[data-shop="${data.shop.id}"]`);
  const text = await page.textContent('.shop-popup');
  check(`its popup says open, delivers, confirmed today, and the hours in French (${text.slice(0, 120)}…)`,
    text.includes('Ouvert') && text.includes('Livraison') && text.includes('Confirmé aujourd’hui') && text.includes('lun.–sam. 8:00–20:00'));
  await shot(page, ctx, 'shop-popup');
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- 4. a maker receives an order and accepts it ---- */
async function maker(ctx) {
  const { check, data } = ctx;
  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'voisin@e2e.test');
  const makers = await rendered(page, ['makers']);
  check(`mask makers are drawn for a member (${makers.length})`, makers.length > 0);
  // The maker's own materials request shares the maker's point: tapping the
  // square opens the maker, whose popup leads to the request.
  const at = (await (await member(ctx, 'voisin@e2e.test')).req('GET', '/api/makers')).features
    .find((f) => f.id === data.makerId).geometry.coordinates;
  await jump(page, at, 17);
  await clickMapAt(page, at);
  await page.waitForSelector('.popup button[data-materials]', { timeout: 10000 });
  const pop = await page.textContent('.popup');
  check('tapping the maker’s square opens the maker, with an order button and the materials needed',
    pop.includes('Mathilde couture') && pop.includes('élastique') && await page.isVisible('.popup button.primary'), pop);
  await page.click('.popup button[data-materials]');
  await page.waitForSelector('#needs-body :text("Matériel pour masques")', { timeout: 10000 });
  check('its link opens the materials request', (await page.textContent('#needs-body')).includes('tissu coton'));
  await tab(page, 'masks');
  const item = page.locator(`details.maker[data-maker="${data.makerId}"]`);
  await item.locator('summary').click();
  await item.locator('input[name=quantity]').fill('30');
  await item.locator('input[name=note]').fill('Pour la crèche de la rue');
  await item.locator('button[type=submit]').click();
  await page.waitForSelector('#pane-masks .order:has-text("Mathilde")');
  check('the neighbour sees the order as pending', (await page.textContent('#pane-masks')).includes('en attente'));
  await logout(page);

  await login(page, 'maker@e2e.test');
  await tab(page, 'masks');
  const order = page.locator('#order-book .order', { hasText: 'Nadia' });
  await order.waitFor();
  check('the maker receives the order (30 masks, from Nadia)', (await order.textContent()).includes('30 masque'));
  await order.locator('button', { hasText: 'Accepter' }).click();
  await page.waitForSelector('#order-book .order:has-text("acceptée")');
  check('the maker accepts it', (await page.locator('#order-book .order', { hasText: 'Nadia' }).textContent()).includes('acceptée'));
  const delivery = await page.locator('#order-book .order', { hasText: 'Nadia' }).locator('.delivery').textContent().catch(() => '');
  check('and now sees where to deliver (the requester’s address)', /^Livrer à : \d+ /.test(delivery.trim()), delivery);
  await shot(page, ctx, 'maker-orders');
  const n = new ctx.Client(ctx.base);
  await n.login('voisin@e2e.test');
  const mine = await n.req('GET', '/api/orders');
  check('the neighbour’s order is accepted', mine.orders.length === 1 && mine.orders[0].status === 'accepted', mine.orders);
  check('the neighbour is not sent their own address', !('delivery_address' in mine.orders[0]), mine.orders[0]);
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- 5. staff hide a reported post; it leaves members' maps ---- */
async function moderation(ctx) {
  const { check, data } = ctx;
  const h = await post(ctx, data.posts.h);
  const at = h.geometry.coordinates;
  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'voisin@e2e.test');
  await jump(page, at, 16);
  const before = await needsAt(page, at);
  check(`a member sees the post on the map before (${before.count} at its point)`, before.count >= 1 &&
    (before.ids.includes(data.posts.h) || before.ids.length < before.count));
  await logout(page);

  await login(page, 'moderation@e2e.test');
  await tab(page, 'moderation');
  const item = page.locator(`.mod-item[data-post="${data.posts.h}"]`);
  await item.waitFor();
  check('staff see the reported post with its reports', (await item.textContent()).includes('2 signalement'));
  await item.locator('button.danger').click();
  await page.waitForSelector(`.mod-item[data-post="${data.posts.h}"] .chip.warn`);
  await shot(page, ctx, 'moderation');
  check('the post is hidden', (await post(ctx, data.posts.h)).properties.hidden === true);
  await logout(page);

  await login(page, 'voisin@e2e.test');
  await jump(page, at, 16);
  const after = await needsAt(page, at);
  check(`it disappears from the member's map (${before.count} → ${after.count})`, after.count === before.count - 1 && !after.ids.includes(data.posts.h), { before, after });
  await cityView(page);
  await search(page, 'dix euros', 'any');
  check('and from their list', (await listTitles(page)).length === 0);
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- 6. an address outside every neighbourhood is refused, with the reason ---- */
async function outside(ctx) {
  const { check, data } = ctx;
  if (!check('the sample has an address outside every neighbourhood', !!data.outside)) return;
  const page = await freshPage(ctx);
  await open(page, ctx);
  await page.click('#btn-register');
  await page.fill('#form-register input[name=display_name]', 'Olga');
  await page.fill('#form-register input[name=email]', 'olga@e2e.test');
  await page.fill('#form-register input[name=password]', 'correct horse');
  await page.locator('#reg-address').pressSequentially(data.outside, { delay: 10 });
  await page.waitForSelector('.ac-item', { timeout: 10000 });
  check('the suggestion already says it is outside', (await page.textContent('.ac-item')).includes('hors des quartiers'));
  await page.keyboard.press('Enter');
  await page.click('#form-register button[type=submit]');
  await page.waitForSelector('#form-register .error[data-reason=outside]:not([hidden])');
  const text = await page.textContent('#form-register .error');
  check(`the refusal says why (${text.slice(0, 80)}…)`, text.includes('en dehors de tous les quartiers'));
  check('nobody is logged in', await page.isVisible('#btn-login'));
  await shot(page, ctx, 'register-outside');
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- 7. the address field completes a word being typed; another town is refused ---- */
async function otherTown(ctx) {
  const { check } = ctx;
  const page = await freshPage(ctx);
  await open(page, ctx);
  const asked = [];
  page.on('request', (r) => { if (r.url().includes('/api/geocode?')) asked.push(new URL(r.url()).searchParams); });
  await page.click('#btn-register');
  await page.locator('#reg-address').pressSequentially('7 rue montorg', { delay: 10 });
  await page.waitForSelector('.ac-item', { timeout: 10000 });
  check('the suggestions ask the geocoder to complete the last word (autocomplete=1)',
    asked.length > 0 && asked.every((p) => p.get('autocomplete') === '1'), asked.map(String));
  const first = await page.textContent('.ac-item span');
  check(`"7 rue montorg" suggests 7 Rue Montorgueil first (${first})`, first.startsWith('7 Rue Montorgueil'));
  await page.keyboard.press('Escape');
  await page.fill('#form-register input[name=display_name]', 'Yves');
  await page.fill('#form-register input[name=email]', 'yves@e2e.test');
  await page.fill('#form-register input[name=password]', 'correct horse');
  await page.fill('#reg-address', '12 rue de Paris 93100 Montreuil');
  await page.keyboard.press('Escape');
  await page.click('#form-register button[type=submit]');
  // refused (the error shows) or, wrongly, registered (the name shows)
  await page.waitForFunction(() => !document.querySelector('#form-register .error').hidden ||
    !document.getElementById('who').hidden, null, { timeout: 30000 });
  const reason = await page.getAttribute('#form-register .error', 'data-reason');
  const text = await page.textContent('#form-register .error');
  check(`a Montreuil address is refused as not covered (${reason})`, reason === 'not_covered');
  check(`the refusal says so in French (${text.slice(0, 80)}…)`,
    text.includes('dans une commune ou un code postal que le service ne couvre pas'));
  const buttons = await page.$$eval('#form-register .error button', (els) => els.map((e) => e.textContent));
  check('no street of another town is suggested instead', buttons.length === 0, buttons);
  check('nobody is logged in', await page.isVisible('#btn-login'));
  await shot(page, ctx, 'register-not-covered');
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- everyone: language, phone, keyboard, the guide ---- */
async function everyone(ctx) {
  const { check } = ctx;
  const page = await freshPage(ctx, { viewport: { width: 390, height: 844 } });
  await open(page, ctx);
  check('French by default for a French browser', (await page.getAttribute('html', 'lang')) === 'fr');
  await page.click('[data-lang=en]');
  await page.waitForFunction(() => document.querySelector('#tab-needs').textContent === 'Needs', null, { timeout: 5000 }).catch(() => {});
  check('the switch turns the page to English', (await page.textContent('#tab-needs')) === 'Needs' &&
    (await page.getAttribute('html', 'lang')) === 'en');
  check('nothing overflows sideways on a phone', await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  await shot(page, ctx, 'phone');
  await page.reload();
  await page.waitForSelector('#tab-needs');
  check('the choice of language is kept', (await page.textContent('#tab-needs')) === 'Needs');
  // Keyboard: the tabs move with the arrow keys.
  await page.focus('#tab-needs');
  await page.keyboard.press('ArrowRight');
  check('arrow keys move between the tabs', await page.evaluate(() => document.activeElement.dataset.tab === 'shops' &&
    !document.getElementById('pane-shops').hidden));
  const unlabelled = await page.$$eval('input, select, textarea', (els) => els.filter((e) => e.offsetParent !== null &&
    !e.closest('label') && !e.getAttribute('aria-label') && !e.labels?.length).map((e) => e.name || e.id));
  check('every visible field has a label', unlabelled.length === 0, unlabelled);
  await page.goto(ctx.base + '/guide.html');
  const guide = await page.textContent('main');
  check('the good-practice guide covers doorstep drop-off, cash, hygiene and privacy',
    /door/i.test(guide) && /cash/i.test(guide) && /wash|hygiene/i.test(guide) && /privacy|private/i.test(guide));
  await page.setViewportSize({ width: 1000, height: 900 });
  await shot(page, ctx, 'guide');
}

/* ---- a deployment's basemap: a PMTiles archive, then a style URL ---- */
async function basemap(ctx) {
  const { check } = ctx;
  const { zxyToTileId } = await import(path.join(ctx.webDir, 'node_modules', 'pmtiles', 'dist', 'esm', 'index.js'));
  const archive = rasterArchive(zxyToTileId, [2.224, 48.815, 2.47, 48.902], 12);
  const page = await freshPage(ctx);
  const ranges = [];
  await page.route('**/config.json', (r) => r.fulfill({ json: { basemap: { pmtiles: 'basemap/e2e.pmtiles', attribution: 'E2E test basemap' } } }));
  await page.route('**/basemap/e2e.pmtiles', (r) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(r.request().headers().range || '');
    if (!m) return r.fulfill({ status: 200, body: archive, contentType: 'application/vnd.pmtiles' });
    const first = Number(m[1]), last = Math.min(Number(m[2]), archive.length - 1);
    ranges.push(`${first}-${last}`);
    return r.fulfill({ status: 206, body: archive.subarray(first, last + 1), contentType: 'application/vnd.pmtiles',
      headers: { 'Content-Range': `bytes ${first}-${last}/${archive.length}`, 'Accept-Ranges': 'bytes' } });
  });
  await page.goto(ctx.base + '/');
  await page.waitForFunction(() => window.entraide && window.entraide.firstRender, null, { timeout: 20000 });
  await idle(page);
  const st = await page.evaluate(() => {
    const m = window.entraide.map;
    return { type: m.getStyle().sources.basemap && m.getStyle().sources.basemap.type, loaded: m.isSourceLoaded('basemap'),
      shops: m.queryRenderedFeatures({ layers: ['shops', 'shops-cluster'] }).length };
  });
  check('a PMTiles raster basemap is drawn under the layers', st.type === 'raster' && st.loaded && st.shops > 0, st);
  check(`it is read with byte ranges (${ranges.length} requests)`, ranges.length >= 2, ranges);
  check('its attribution is shown', (await page.textContent('#attribution')).includes('E2E test basemap'));
  await shot(page, ctx, 'basemap-pmtiles');
  check('no script error', page.errors.length === 0, page.errors);

  const styled = await freshPage(ctx);
  await styled.route('**/config.json', (r) => r.fulfill({ json: { basemap: { style: 'e2e-style.json' } } }));
  await styled.route('**/e2e-style.json', (r) => r.fulfill({ json: { version: 8, sources: {},
    layers: [{ id: 'e2e-background', type: 'background', paint: { 'background-color': '#dde7f0' } }] } }));
  await styled.goto(ctx.base + '/');
  await styled.waitForFunction(() => window.entraide && window.entraide.firstRender, null, { timeout: 20000 });
  const layers = await styled.evaluate(() => window.entraide.map.getStyle().layers.map((l) => l.id));
  check('a style URL is used as the basemap, with the layers on top', layers[0] === 'e2e-background' && layers.includes('shops') &&
    !layers.includes('addr-dot'), layers.slice(0, 4));
  check('no script error', styled.errors.length === 0, styled.errors);
}

/* ---- 10. the help loop: claim, private conversation, the author told ---- */
async function helpLoop(ctx) {
  const { check, data } = ctx;
  const page = await freshPage(ctx);
  await open(page, ctx);
  // Madeleine (quartier A) publishes a request, choosing 3 days.
  await login(page, 'a1@e2e.test');
  await tab(page, 'post');
  const form = page.locator('#form-post');
  await form.locator('select[name=category]').selectOption('groceries');
  await form.locator('input[name=title]').fill('Pain, lait et pommes pour jeudi');
  await form.locator('textarea[name=body]').fill('Une baguette, un litre de lait demi-écrémé, un kilo de pommes.');
  await form.locator('select[name=expires_in_days]').selectOption('3');
  await form.locator('button[type=submit]').click();
  const card = page.locator('#my-posts .card', { hasText: 'Pain, lait et pommes pour jeudi' });
  await card.waitFor({ timeout: 10000 });
  const id = Number(await card.getAttribute('data-post'));
  data.posts.loop = id;
  const a = await member(ctx, 'a1@e2e.test');
  const published = (await a.req('GET', `/api/posts/${id}`)).properties;
  const days = (Date.parse(published.expires_at) - Date.parse(published.created_at)) / 86400000;
  check(`the request is published for the 3 days chosen (${days.toFixed(2)})`, Math.abs(days - 3) < 0.01, published);
  const after = await form.evaluate((f) => ({ days: f.elements.expires_in_days.value, kind: f.elements.kind.value, title: f.elements.title.value }));
  check('after publishing, the form is back to its defaults: visible for 7 days, a request, no title',
    after.days === '7' && after.kind === 'request' && after.title === '', after);
  await logout(page);

  // Bernard (quartier B, next to A) claims it and writes to her.
  await login(page, 'b1@e2e.test');
  await openPostLink(page, id);
  await page.click('#needs-body .actions button.primary');
  await page.waitForSelector('.address-text', { timeout: 10000 });
  await page.waitForSelector('.conversation h3');
  check('the claimer gets a private conversation with the author',
    (await page.textContent('.conversation h3')) === 'Conversation privée avec Madeleine', await page.textContent('.conversation h3'));
  const hint = await page.textContent('.conversation .hint');
  check('its hint says what to agree on (the list, the amount, the time) and links to the guide',
    /liste/.test(hint) && /montant/.test(hint) && /heure/.test(hint) && await page.isVisible('.conversation a[href="guide.html"]'), hint);
  check('the claimer is offered "Je ne peux plus m’en occuper"', await page.isVisible('#needs-body .actions button:has-text("Je ne peux plus m’en occuper")'));
  await page.fill('.conversation textarea', 'Bonjour Madeleine, je passe jeudi vers 18 h. Du lait demi-écrémé, c’est bien ça ?');
  await page.click('.conversation button[type=submit]');
  await page.waitForSelector('.conversation .msg.mine');
  check('the message sent shows as the volunteer’s own, on the right',
    await page.$eval('.conversation .msg.mine', (el) => getComputedStyle(el).alignSelf === 'flex-end' && el.textContent.includes('Vous')));
  check('the textarea is emptied once sent', (await page.inputValue('.conversation textarea')) === '');
  check('no script error (volunteer)', page.errors.length === 0, page.errors);
  await logout(page);

  // Madeleine comes back: she is told, sees who claimed it, reads and answers.
  await login(page, 'a1@e2e.test');
  const told = await toastHas(page, '« Pain, lait et pommes pour jeudi » a été prise en charge').then(() => true, () => false);
  check('on her next visit the author is told her request was claimed', told, await page.textContent('#toast'));
  await tab(page, 'post');
  check('My posts marks it as newly claimed', await page.isVisible(`#my-posts .card[data-post="${id}"] .chip.new`));
  await page.click(`#my-posts .card[data-post="${id}"]`);
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"]`);
  check('the author sees "Prise en charge par Bernard"', (await page.textContent('#needs-body .claimed-by')) === 'Prise en charge par Bernard');
  await page.waitForSelector('.conversation .msg:not(.mine)', { timeout: 10000 });
  const theirs = await page.textContent('.conversation .msg:not(.mine)');
  check('she reads Bernard’s message, with his name', theirs.includes('jeudi vers 18 h') && theirs.includes('Bernard'), theirs);
  check('her panel is titled with his name', (await page.textContent('.conversation h3')) === 'Conversation privée avec Bernard');
  check('a claimed post cannot be edited', !(await page.isVisible('#needs-body .actions button:has-text("Modifier")')));
  check('she can still mark it done or cancel it', await page.isVisible('#needs-body .actions button:has-text("Marquer comme fait")') &&
    await page.isVisible('#needs-body .actions button:has-text("Annuler l’annonce")'));
  await page.fill('.conversation textarea', 'Oui, demi-écrémé. Merci Bernard ! Je vous fais un virement dès réception du ticket.');
  await page.click('.conversation button[type=submit]');
  await page.waitForSelector('.conversation .msg.mine');
  const order = await page.$$eval('.conversation .msg', (els) => els.map((e) => e.classList.contains('mine')));
  check('the thread reads oldest first, her answer last', JSON.stringify(order) === '[false,true]', order);
  await shot(page, ctx, 'conversation', { quiet: true });
  // On a phone the conversation fits the width, its field and button within reach.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('.conversation button[type=submit]').scrollIntoViewIfNeeded();
  const fit = await page.evaluate(() => {
    const r = (s) => document.querySelector(s).getBoundingClientRect();
    return { overflow: document.documentElement.scrollWidth > window.innerWidth,
      right: Math.max(r('.conversation textarea').right, r('.conversation button[type=submit]').right, ...[...document.querySelectorAll('.msg')].map((e) => e.getBoundingClientRect().right)) };
  });
  check('on a phone the conversation fits the screen', !fit.overflow && fit.right <= 390, fit);
  await page.setViewportSize({ width: 1280, height: 800 });
  check('no script error (author)', page.errors.length === 0, page.errors);
  await logout(page);

  // Bernard reads the answer; a new message comes in while he looks, without a reload.
  await login(page, 'b1@e2e.test');
  const polls = [];
  page.on('request', (r) => { if (r.url().includes(`/api/posts/${id}/messages?after=`)) polls.push(r.url()); });
  await openPostLink(page, id);
  await page.waitForSelector('.conversation .msg:not(.mine):has-text("virement")', { timeout: 10000 });
  check('the volunteer reads the author’s answer', true);
  await page.evaluate(() => { window.sameDocument = true; });
  const sentAt = Date.now();
  await a.req('POST', `/api/posts/${id}/messages`, { body: 'À jeudi, je serai là dès 17 h.' });
  await page.waitForSelector('.conversation .msg:has-text("À jeudi")', { timeout: 35000 });
  check(`a new message appears within the polling interval, no reload (${((Date.now() - sentAt) / 1000).toFixed(1)} s; ${polls.length} GET …?after=)`,
    await page.evaluate(() => window.sameDocument === true) && polls.length > 0, polls);
  await page.locator('.conversation .msg:last-child').scrollIntoViewIfNeeded();
  await shot(page, ctx, 'conversation-volunteer', { quiet: true });
  check('no script error (volunteer, again)', page.errors.length === 0, page.errors);
  await logout(page);

  // Nadia, a neighbour who sees the post, sees no conversation and may not read it.
  await login(page, 'voisin@e2e.test');
  await openPostLink(page, id);
  check('another neighbour sees the post taken, without its conversation',
    (await page.textContent('#needs-body .chip.status-claimed')) === 'Prise en charge' && (await page.$$('.conversation')).length === 0 &&
    !(await page.isVisible('#needs-body .actions button.primary')));
  const status = await page.evaluate((pid) => fetch(`/api/posts/${pid}/messages`).then((r) => r.status), id);
  check(`and GET /api/posts/${id}/messages answers her 403 (${status})`, status === 403, status);
  check('no script error (neighbour)', page.errors.length === 0, page.errors);
}

/** The post of the help loop, claimed by Bernard (made through the API when that scenario did not run). */
async function loopPost(ctx) {
  if (ctx.data.posts.loop) return ctx.data.posts.loop;
  const a = await member(ctx, 'a1@e2e.test');
  const id = (await a.req('POST', '/api/posts', { kind: 'request', category: 'groceries', title: 'Pain, lait et pommes pour jeudi', body: 'Une baguette.' })).properties.id;
  await (await member(ctx, 'b1@e2e.test')).req('POST', `/api/posts/${id}/claim`);
  return (ctx.data.posts.loop = id);
}

/* ---- 11. the volunteer hands the post back; the author edits it ---- */
async function release(ctx) {
  const { check } = ctx;
  const id = await loopPost(ctx);
  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'b1@e2e.test');
  await openPostLink(page, id);
  const asked = [];
  page.on('dialog', (d) => { asked.push(d.message()); d.accept(); });
  await page.click('#needs-body .actions button:has-text("Je ne peux plus m’en occuper")');
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"][data-status=open]`, { timeout: 10000 });
  check('the volunteer is asked to confirm first', asked.length === 1 && asked[0].includes('circulation'), asked);
  check('the post shows open again, without the address or the conversation',
    (await page.textContent('#needs-body .chip.status-open')) === 'Ouverte' && (await page.$$('.address-text, .conversation')).length === 0);
  check('it can be claimed again', (await page.textContent('#needs-body .actions button.primary')) === 'Je m’en occupe');
  const b = await member(ctx, 'b1@e2e.test');
  check('the server has it open', (await b.req('GET', `/api/posts/${id}`)).properties.status === 'open');
  const status = await page.evaluate((pid) => fetch(`/api/posts/${pid}/messages`).then((r) => r.status), id);
  check(`the former volunteer no longer reads the conversation (${status})`, status === 403 || status === 409, status);
  check('no script error (volunteer)', page.errors.length === 0, page.errors);
  await logout(page);

  // Madeleine sees it open, and changes its title.
  await login(page, 'a1@e2e.test');
  await tab(page, 'post');
  await page.click(`#my-posts .card[data-post="${id}"]`);
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"]`);
  check('the author sees her post open again, claimed by nobody',
    (await page.textContent('#needs-body .chip.status-open')) === 'Ouverte' && (await page.$$('#needs-body .claimed-by, .conversation')).length === 0);
  const before = (await b.req('GET', `/api/posts/${id}`)).properties;
  await page.click('#needs-body .actions button:has-text("Modifier")');
  await page.fill('#form-edit input[name=title]', 'Pain, lait et pommes pour vendredi');
  await shot(page, ctx, 'post-edit', { quiet: true });
  await page.click('#form-edit button[type=submit]');
  await page.waitForSelector('#needs-body h2:has-text("pour vendredi")', { timeout: 10000 });
  const after = (await b.req('GET', `/api/posts/${id}`)).properties;
  check(`the author edits the open post’s title (${after.title}), its details kept`,
    after.title === 'Pain, lait et pommes pour vendredi' && after.body === before.body && after.status === 'open', after);
  check('no script error (author)', page.errors.length === 0, page.errors);
}

/* ---- 12. two volunteers, one post: the second is told, in French, and sees it taken ---- */
async function lostRace(ctx) {
  const { check } = ctx;
  const a = await member(ctx, 'a1@e2e.test');
  const id = (await a.req('POST', '/api/posts', { kind: 'request', category: 'pets', title: 'Promenade du chien samedi matin',
    body: 'Un labrador très calme, une demi-heure.' })).properties.id;
  const page = await freshPage(ctx);
  // His page is cut from the live stream (refused here), so the post stays as
  // he opened it: the case of two volunteers pressing at the same moment.
  await page.route('**/api/events*', (r) => r.abort());
  await open(page, ctx);
  await login(page, 'b1@e2e.test');
  await openPostLink(page, id);
  check('Bernard sees the post open, with the claim button', (await page.textContent('#needs-body .actions button.primary')) === 'Je m’en occupe');
  // Nadia, on her own phone, had the same post open and claims it first.
  await (await member(ctx, 'voisin@e2e.test')).req('POST', `/api/posts/${id}/claim`);
  await page.click('#needs-body .actions button.primary');
  const told = await toastHas(page, 'Quelqu’un d’autre vient de prendre en charge cette annonce.').then(() => true, () => false);
  check('the second volunteer is told someone else has just claimed it', told, await page.textContent('#toast'));
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"][data-status=claimed]`, { timeout: 10000 });
  const chip = await page.textContent('#needs-body .chip[class*=status-]');
  const buttons = await page.$$eval('#needs-body .actions button', (els) => els.map((e) => e.textContent));
  check(`the post is shown taken: "${chip}", no claim button`, chip === 'Prise en charge' && !buttons.includes('Je m’en occupe'), buttons);
  check('and without the address or a conversation', (await page.$$('.address-text, .conversation')).length === 0);
  await shot(page, ctx, 'claim-lost');
  check('no script error', page.errors.length === 0, page.errors);
}

/* ---- 13. the moderation queue: reasons, dismissing, acting on a selection; a closed shop's services ---- */
async function moderationQueue(ctx) {
  const { check, data } = ctx;
  // Madeleine publishes three offers; Nadia and Bernard report them.
  const a = await member(ctx, 'a1@e2e.test');
  const n = await member(ctx, 'voisin@e2e.test');
  const b = await member(ctx, 'b1@e2e.test');
  const offer = async (title) => (await a.req('POST', '/api/posts', { kind: 'offer', category: 'other', title, body: 'Appelez le 06 12 34 56 78.' })).properties.id;
  const fine = await offer('Prêt d’une perceuse ce week-end');
  const spam1 = await offer('Crédit rapide sans justificatif');
  const spam2 = await offer('Gagnez 500 euros par jour depuis chez vous');
  await n.req('POST', `/api/posts/${fine}/report`, { reason: 'numéro de téléphone dans l’annonce' });
  for (const id of [spam1, spam2]) {
    await n.req('POST', `/api/posts/${id}/report`, { reason: 'publicité' });
    await b.req('POST', `/api/posts/${id}/report`, {});
  }

  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'moderation@e2e.test');
  await tab(page, 'moderation');
  const item = (id) => page.locator(`.mod-item[data-post="${id}"]`);
  await item(fine).locator('.mod-reasons li').first().waitFor({ timeout: 10000 });
  const reasons = await item(fine).locator('.mod-reasons').textContent();
  check(`the reported post is in the queue with its reason and its reporter (${reasons})`,
    reasons.includes('« numéro de téléphone dans l’annonce »') && reasons.includes('Nadia'), reasons);
  await item(spam1).locator('.mod-reasons li').nth(1).waitFor({ timeout: 10000 });
  const two = await item(spam1).locator('.mod-reasons li').allTextContents();
  check('a report without a reason says so, after the other, oldest first',
    two.length === 2 && two[0].includes('« publicité »') && two[0].includes('Nadia') && two[1].includes('(sans raison)') && two[1].includes('Bernard'), two);
  await item(data.posts.h).locator('.mod-reasons li').nth(1).waitFor({ timeout: 10000 });
  const h = await item(data.posts.h).locator('.mod-reasons li').allTextContents();
  check('the post reported twice at start shows both reasons', h.length === 2 && h.some((r) => r.includes('arnaque')), h);

  await item(fine).locator('button[data-act=dismiss]').click();
  await item(fine).waitFor({ state: 'detached', timeout: 10000 });
  const staff = await member(ctx, 'moderation@e2e.test');
  const queue = async () => (await staff.req('GET', '/api/posts?status=any&hidden=1&reported=1&limit=100')).features.map((f) => f.id);
  const afterDismiss = (await post(ctx, fine, staff)).properties;
  check('dismissing its reports takes it out of the queue, neither hidden nor removed',
    !(await queue()).includes(fine) && afterDismiss.hidden === false && afterDismiss.status === 'open', afterDismiss);

  const bar = page.locator('.mod-bulk');
  check('nothing selected: the actions on the selection are off',
    await bar.locator('[data-bulk=hide]').isDisabled() && await bar.locator('[data-bulk=dismiss]').isDisabled());
  await item(spam1).locator('input[name=select]').check();
  await item(spam2).locator('input[name=select]').check();
  check('the bar counts the selection', (await bar.locator('.mod-count').textContent()) === '2 annonces sélectionnées',
    await bar.locator('.mod-count').textContent());
  await bar.locator('[data-bulk=hide]').click();
  await page.waitForSelector('.mod-status:has-text("2 annonces masquées sur 2.")', { timeout: 15000 });
  await item(spam1).locator('.chip.warn').waitFor();
  await item(spam2).locator('.chip.warn').waitFor();
  check('"Masquer la sélection" hides both, says so, and the queue shows them hidden', true);
  const [p1, p2] = [(await post(ctx, spam1, staff)).properties, (await post(ctx, spam2, staff)).properties];
  check('the server has both hidden, still in the queue', p1.hidden && p2.hidden && (await queue()).includes(spam1) && (await queue()).includes(spam2));
  check('the selection is emptied once done', (await bar.locator('.mod-count').textContent()) === '0 annonce sélectionnée');
  const aSees = (await a.req('GET', '/api/posts?status=any&limit=100')).features.map((f) => f.id);
  check('members no longer get them in lists', !aSees.includes(spam1) && !aSees.includes(spam2) && aSees.includes(fine));
  await shot(page, ctx, 'moderation-queue', { quiet: true });
  check('no script error (staff)', page.errors.length === 0, page.errors);
  await logout(page);

  // The shop owner: a status that implies the services ticks and locks their boxes.
  const owner = await member(ctx, 'commerce@e2e.test');
  await ownShop(ctx, owner, data.shop.id);
  await owner.req('PATCH', `/api/shops/${data.shop.id}`, { status: 'open', delivers: true, takeaway: false });
  await login(page, 'commerce@e2e.test');
  await tab(page, 'myshop');
  const form = page.locator(`[data-shop-form="${data.shop.id}"]`);
  await form.waitFor({ timeout: 15000 });
  const boxes = () => form.evaluate((f) => ['delivers', 'takeaway'].map((k) => [f.elements[k].checked, f.elements[k].disabled]));
  check('the service reads "Livraison"', (await form.locator('label:has(input[name=delivers])').textContent()).trim() === 'Livraison');
  await form.locator('input[name=takeaway]').check();
  await form.locator('input[name=status][value=closed]').check();
  check('"Fermé": delivery and takeaway unchecked and disabled', JSON.stringify(await boxes()) === '[[false,true],[false,true]]', await boxes());
  check('and the panel says why', (await form.locator('.services-implied').textContent()) === 'Fermé : ni livraison ni vente à emporter.');
  await form.locator('input[name=status][value=delivery_only]').check();
  check('"Livraison seulement": delivery ticked, no takeaway, both disabled', JSON.stringify(await boxes()) === '[[true,true],[false,true]]', await boxes());
  await form.locator('input[name=status][value=open]').check();
  check('back to "Ouvert": the owner’s own choice again (delivery and takeaway), enabled', JSON.stringify(await boxes()) === '[[true,false],[true,false]]', await boxes());
  await form.locator('input[name=status][value=closed]').check();
  await shot(page, ctx, 'shop-closed', { quiet: true });
  await form.locator('button[type=submit]').click();
  await page.waitForSelector(`[data-shop-form="${data.shop.id}"] .confirmed-line:has-text("Fermé")`, { timeout: 10000 });
  const saved = (await new ctx.Client(ctx.base).req('GET', `/api/shops/${data.shop.id}`)).properties;
  check('saved closed, with neither delivery nor takeaway', saved.status === 'closed' && !saved.delivers && !saved.takeaway, saved);
  check('the saved form keeps the boxes unchecked and disabled',
    JSON.stringify(await page.locator(`[data-shop-form="${data.shop.id}"]`).evaluate((f) => ['delivers', 'takeaway'].map((k) => [f.elements[k].checked, f.elements[k].disabled]))) === '[[false,true],[false,true]]');
  await page.locator(`[data-shop-form="${data.shop.id}"] button:has-text("Voir sur la carte")`).click();
  await page.waitForSelector(`.shop-popup[data-shop="${data.shop.id}"]`, { timeout: 10000 });
  const text = await page.textContent('.shop-popup');
  check(`its popup says closed and no service it contradicts (${text.slice(0, 100)}…)`,
    text.includes('Fermé') && !text.includes('À emporter') && !text.includes('Livraison'), text);
  check('no script error (shop)', page.errors.length === 0, page.errors);
}

export const list = [
  { name: 'anonymous', title: '1. anonymous: the map loads, shops and neighbourhoods render, no individual need', run: anonymous },
  { name: 'volunteer', title: '2. a volunteer registers, sees their area and not a distant one, claims a need', run: volunteer },
  { name: 'shop', title: '3. a shop owner marks their shop open and delivering', run: shopOwner },
  { name: 'maker', title: '4. a maker receives an order and accepts it', run: maker },
  { name: 'moderation', title: '5. staff hide a reported post; it leaves the members’ map', run: moderation },
  { name: 'outside', title: '6. a registration outside every neighbourhood shows the reason', run: outside },
  { name: 'other-town', title: '7. the address field completes "7 rue montorg"; a Montreuil address is refused as not covered', run: otherTown },
  { name: 'everyone', title: '8. everyone: language switch, phone, keyboard, guide', run: everyone },
  { name: 'basemap', title: '9. a deployment’s basemap: a PMTiles archive, a style URL', run: basemap },
  { name: 'help-loop', title: '10. the help loop: a request claimed, a private conversation, the author told; a neighbour kept out', run: helpLoop },
  { name: 'release', title: '11. the volunteer can no longer do it: the post is open again; its author edits it', run: release },
  { name: 'lost-race', title: '12. two volunteers, one post: the second claim is told it came too late', run: lostRace },
  { name: 'moderation-queue', title: '13. staff read the reasons, dismiss a post’s reports, hide two posts at once; a closed shop neither delivers nor does takeaway', run: moderationQueue },
];

/* ---- 14. My account: a member changes their name, password and home, then deletes the account (on a phone) ---- */
async function myAccount(ctx) {
  const { check, data } = ctx;
  const email = 'odile@e2e.test', first = 'correct horse', second = 'cheval agrafe';
  const page = await freshPage(ctx, { viewport: { width: 390, height: 844 } });
  await open(page, ctx);
  await page.click('#btn-register');
  await page.fill('#form-register input[name=display_name]', 'Odile');
  await page.fill('#form-register input[name=email]', email);
  await page.fill('#form-register input[name=password]', first);
  await page.fill('#reg-address', data.addr.v);
  await page.keyboard.press('Escape');
  await page.click('#form-register button[type=submit]');
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  await idle(page);
  check('a member registers (in French) and is offered "Mon compte"', (await page.textContent('#btn-me')) === 'Mon compte' &&
    await page.isVisible('#btn-me'));

  // The page's storage cleared while the session cookie lives: the reloaded
  // page takes the CSRF token from GET /api/me and shows her logged in; the
  // name changed below goes through with it.
  const token = await page.evaluate(() => localStorage.getItem('entraide.csrf'));
  await page.evaluate(() => { localStorage.removeItem('entraide.csrf'); sessionStorage.clear(); });
  await open(page, ctx);
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  const kept = await page.evaluate(() => localStorage.getItem('entraide.csrf'));
  check('with the stored CSRF token gone, a reload shows her logged in, the token taken again from /api/me',
    /^[0-9a-f]{64}$/.test(token || '') && kept === token && await page.isVisible('#btn-me') && !(await page.isVisible('#btn-login')), { token, kept });

  await page.click('#btn-me');
  await page.waitForSelector('#dlg-me[open]');
  const form = (id) => page.locator('#' + id);
  /** Submits a form of the dialog; resolves to what it says (done or error). */
  const submit = async (id) => {
    await form(id).locator('button[type=submit]').click();
    await page.waitForFunction((f) => [...document.querySelectorAll(`#${f} .done, #${f} .error`)].some((e) => !e.hidden), id, { timeout: 30000 });
    return { ok: await form(id).locator('.done').isVisible(), text: await form(id).locator('.done:not([hidden]), .error:not([hidden])').textContent(),
      reason: await form(id).locator('.error').getAttribute('data-reason') };
  };
  check('the dialog shows the current name and the email', (await form('form-me-name').locator('input[name=display_name]').inputValue()) === 'Odile' &&
    (await page.textContent('#me-email')).includes(email));

  // The display name: the header follows.
  await form('form-me-name').locator('input[name=display_name]').fill('Odile M.');
  const named = await submit('form-me-name');
  check(`the display name is changed (${named.text})`, named.ok && named.text === 'Nom affiché enregistré.', named);
  check('the header shows the new name', (await page.textContent('#who strong')) === 'Odile M.', await page.textContent('#who'));
  const fits = await page.evaluate(() => { const r = document.getElementById('dlg-me').getBoundingClientRect();
    return r.left >= 0 && r.right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth; });
  check('the dialog fits a phone’s width', fits);
  await shot(page, ctx, 'my-account', { quiet: true });

  // The password: a wrong current one is refused, then it changes; the new one logs in, the old one no longer.
  const pw = form('form-me-password');
  await pw.locator('input[name=password]').fill('pas le bon');
  await pw.locator('input[name=new_password]').fill(second);
  const wrong = await submit('form-me-password');
  check(`a wrong current password is refused (${wrong.text})`, !wrong.ok && wrong.text === 'Mot de passe actuel incorrect.', wrong);
  await pw.locator('input[name=password]').fill(first);
  await pw.locator('input[name=new_password]').fill(second);
  const changed = await submit('form-me-password');
  check(`the password is changed (${changed.text})`, changed.ok && changed.text === 'Mot de passe changé.', changed);
  const tryLogin = (password) => page.evaluate(([e, p]) => fetch('/api/session', { method: 'POST', credentials: 'omit',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: e, password: p }) }).then((r) => r.status), [email, password]);
  const [withNew, withOld] = [await tryLogin(second), await tryLogin(first)];
  check(`logging in with the new password works (${withNew}), not with the old one (${withOld})`, withNew === 200 && withOld === 401);
  // (a request of hers, to see it cancelled with the account)
  const c = new ctx.Client(ctx.base);
  c.csrf = (await c.req('POST', '/api/session', { email, password: second })).csrf;
  const postId = (await c.req('POST', '/api/posts', { kind: 'request', category: 'errands', title: 'Poster une lettre recommandée' })).properties.id;

  // A home in another town: refused, with the registration's words and no street suggested.
  const home = form('form-me-home');
  await page.fill('#me-address', '12 rue de Paris 93100 Montreuil');
  await page.keyboard.press('Escape');
  await home.locator('input[name=password]').fill(second);
  const refused = await submit('form-me-home');
  check(`a Montreuil home is refused as not covered (${refused.reason})`, !refused.ok && refused.reason === 'not_covered', refused);
  check(`and said in French (${refused.text.slice(0, 70)}…)`, refused.text.includes('dans une commune ou un code postal que le service ne couvre pas'));
  check('no street of another town is offered', (await home.locator('.error button').count()) === 0);
  const stay = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
  check('her neighbourhood is unchanged', stay.neighbourhood.id === data.a, stay.neighbourhood);

  // A home in the next quartier: the suggestions come as at registration, and the page follows.
  await page.locator('#me-address').fill('');
  await page.locator('#me-address').pressSequentially(data.addr.b1.toLowerCase(), { delay: 10 });
  await page.waitForSelector('#dlg-me .ac-item', { timeout: 10000 });
  check(`the address field of the dialog suggests addresses (${await page.textContent('#dlg-me .ac-item')})`,
    (await page.textContent('#dlg-me .ac-item')).includes(data.names.b));
  await page.keyboard.press('Enter');
  await home.locator('input[name=password]').fill(second);
  const moved = await submit('form-me-home');
  check(`a home in ${data.names.b} is accepted (${moved.text})`, moved.ok && moved.text === `Vous êtes maintenant inscrit·e dans le quartier ${data.names.b}.`, moved);
  await page.waitForFunction((nb) => document.getElementById('who').textContent.includes(nb), data.names.b, { timeout: 10000 });
  const now = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
  check('the header and the account show the new neighbourhood', now.neighbourhood.id === data.b && now.visible_neighbourhoods.includes(data.b));

  // The private feed: an address made in the dialog, read without a session
  // as a feed reader would, then revoked.
  check('no feed address yet', (await page.textContent('#me-feed-state')) === 'Vous n’avez pas d’adresse de flux.');
  await page.click('#btn-feed-new');
  await page.waitForSelector('#me-feed-url-label:not([hidden])');
  const feedUrl = await page.inputValue('#me-feed-url');
  check(`a feed address is made and shown once (${feedUrl.slice(0, 60)}…)`,
    /\/feeds\/needs\.atom\?token=[A-Za-z0-9_-]{43}$/.test(feedUrl)
    && (await page.textContent('#me-feed-state')).startsWith('Voici votre nouvelle adresse'));
  const atom = await fetch(feedUrl);   // from the test, without a cookie: a feed reader
  const xml = await atom.text();
  check(`the feed reads without a session: Atom, with her area's needs (${(xml.match(/<entry>/g) || []).length} entries)`,
    atom.status === 200 && atom.headers.get('content-type').startsWith('application/atom+xml')
    && xml.includes('<feed xmlns="http://www.w3.org/2005/Atom"') && xml.includes('<entry>'), xml.slice(0, 200));
  page.once('dialog', (d) => d.accept());
  await page.click('#btn-feed-revoke');
  await page.waitForFunction(() => document.getElementById('me-feed-state').textContent.includes('révoquée'));
  check('revoked in the dialog: the address no longer answers', (await fetch(feedUrl)).status === 404);

  // Deleting the account: what happens is said, the password and a confirmation are asked.
  const del = form('form-me-delete');
  const intro = await del.locator('.hint').textContent();
  check('deleting says what happens (requests cancelled, claims handed back, conversations and maker profile deleted, done posts kept)',
    /annulées/.test(intro) && /prises en charge/.test(intro) && /conversations/.test(intro) && /fabricant/.test(intro) && /terminées/.test(intro), intro);
  await del.locator('input[name=password]').fill(second);
  const asked = [];
  page.once('dialog', (d) => { asked.push(d.message()); d.accept(); });
  await del.locator('button[type=submit]').click();
  await page.waitForSelector('#btn-login:not([hidden])', { timeout: 30000 });
  check('a confirmation is asked first', asked.length === 1 && asked[0].includes('Supprimer définitivement'), asked);
  check('the page is logged out, the dialog closed, and says so', !(await page.isVisible('#who')) && !(await page.isVisible('#dlg-me')) &&
    await toastHas(page, 'Votre compte est supprimé').then(() => true, () => false));
  check('the server agrees: no session', (await page.evaluate(() => fetch('/api/me').then((r) => r.status))) === 401);
  const gone = (await post(ctx, postId)).properties;
  check(`her open request is cancelled (${gone.status})`, gone.status === 'cancelled', gone);

  // Logging in again fails.
  await page.click('#btn-login');
  await page.fill('#form-login input[name=email]', email);
  await page.fill('#form-login input[name=password]', second);
  await page.click('#form-login button[type=submit]');
  await page.waitForSelector('#form-login .error:not([hidden])', { timeout: 30000 });
  check(`logging in again fails (${await page.textContent('#form-login .error')})`,
    (await page.textContent('#form-login .error')) === 'Adresse ou mot de passe incorrect.' && !(await page.isVisible('#who')));
  check('no script error', page.errors.length === 0, page.errors);
}

list.push({ name: 'my-account', title: '14. My account: a member changes their name, password and home (another town refused), then deletes the account', run: myAccount });

/* ---- 15. a shop's opening hours in the reader's language, open or closed now by the reader's clock ---- */
async function shopHours(ctx) {
  const { check, data } = ctx;
  const id = data.shop.id;
  // Staff may correct any shop: they set its hours (and open: a closed status says enough).
  const staff = await member(ctx, 'moderation@e2e.test');
  const set = async (body) => (await staff.req('PATCH', `/api/shops/${id}`, body)).properties.opening_hours;
  const hours = await set({ status: 'open', opening_hours: 'Mo-Sa 09:00-19:00; Su off' });
  const page = await freshPage(ctx);
  await open(page, ctx);
  await jump(page, data.shopAt, 17.5);
  // The browser's clock is fixed at chosen times of next week, in its own
  // time zone (next week: the shop's confirmation, today, stays in the past).
  const monday = await page.evaluate(() => { const t = new Date(); return [t.getFullYear(), t.getMonth(), t.getDate() - (t.getDay() + 6) % 7 + 7]; });
  const [SAT, SUN, MON] = [5, 6, 7];
  const clock = async (day, hh, mm = 0) => page.clock.setFixedTime(await page.evaluate(([[y, m, d], off, hr, mi]) => new Date(y, m, d + off, hr, mi).getTime(), [monday, day, hh, mm]));
  /** Opens the shop's popup afresh; what it says of the hours. */
  const popup = async () => {
    await page.evaluate(() => { const b = document.querySelector('.maplibregl-popup-close-button'); if (b) b.click(); });
    await page.waitForSelector('.shop-popup', { state: 'detached' });
    await clickMapAt(page, data.shopAt);
    const el = page.locator(`.shop-popup[data-shop="${id}"]`);
    await el.waitFor({ timeout: 10000 });
    const has = async (sel) => (await el.locator(sel).count()) > 0;
    return {
      lines: (await el.locator('.shop-hours').innerText()).split('\n').slice(1),
      title: await el.locator('.shop-hours').getAttribute('title'),
      code: await has('.shop-hours code') ? await el.locator('.shop-hours code').textContent() : null,
      now: await has('.shop-now') ? await el.locator('.shop-now').textContent() : null,
    };
  };

  await clock(SAT, 10, 30);
  let p = await popup();
  check(`French, Saturday 10:30: the hours a line a set of days (${p.lines.join(' / ')}), the value as written in a title`,
    JSON.stringify(p.lines) === JSON.stringify(['lun.–sam. 9:00–19:00', 'dim. fermé']) && p.title === hours && p.code === null, p);
  check(`and open now until 19:00 (${p.now})`, p.now === 'Ouvert maintenant · ferme à 19:00', p);
  await shot(page, ctx, 'shop-hours');
  await clock(SAT, 20);
  p = await popup();
  check(`Saturday 20:00: closed, opens Monday (${p.now})`, p.now === 'Fermé maintenant · ouvre lundi à 9:00', p);

  await page.click('[data-lang=en]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await clock(SUN, 12);
  p = await popup();
  check(`English, Sunday noon: the hours (${p.lines.join(' / ')}), closed, opens tomorrow (${p.now})`,
    JSON.stringify(p.lines) === JSON.stringify(['Mon–Sat 9:00–19:00', 'Sun closed']) && p.now === 'Closed now · opens tomorrow at 9:00', p);
  await set({ opening_hours: 'Tu-Su 10:00-02:00' });
  await clock(MON, 1, 30);
  p = await popup();
  check(`past midnight: Monday 1:30 is still Sunday's evening (${p.lines.join(' / ')}; ${p.now})`,
    JSON.stringify(p.lines) === JSON.stringify(['Mon closed', 'Tue–Sun 10:00–2:00']) && p.now === 'Open now · closes at 2:00', p);

  await set({ status: 'closed' });
  p = await popup();
  check(`a shop marked closed: the hours, and no "open now" (${p.lines.join(' / ')}; ${p.now})`,
    p.lines.length === 2 && p.now === null, p);
  const odd = await set({ status: 'open', opening_hours: 'Mo-Fr 09:00-18:00; Dec 25 off' });
  p = await popup();
  check(`hours outside the subset read are shown as written, with no claim (${p.code})`, p.code === odd && p.now === null, p);
  check('no script error', page.errors.length === 0, page.errors);
}

list.push({ name: 'shop-hours', title: '15. a shop’s hours in the reader’s language, open or closed now', run: shopHours });

/* ---- 16. the staff desk: a forgotten password passed on by staff; a reported conversation read ---- */
async function staffDesk(ctx) {
  const { check, data } = ctx;
  const email = 'pierre@e2e.test';
  const pierre = new ctx.Client(ctx.base);
  await pierre.register(email, data.addr.n, 'Pierre');
  // A claimed request, talked over, then reported by a neighbour.
  const a = await member(ctx, 'a1@e2e.test');
  const b = await member(ctx, 'b1@e2e.test');
  const id = (await a.req('POST', '/api/posts', { kind: 'request', category: 'errands', title: 'Déposer un colis à la poste', body: '' })).properties.id;
  await b.req('POST', `/api/posts/${id}/claim`);
  await a.req('POST', `/api/posts/${id}/messages`, { body: 'Merci ! Le colis est prêt, passez quand vous voulez.' });
  await (await member(ctx, 'voisin@e2e.test')).req('POST', `/api/posts/${id}/report`, { reason: 'propos déplacés dans la conversation' });

  // Pierre forgot his password (on a phone).
  let page = await freshPage(ctx, { viewport: { width: 390, height: 844 } });
  await open(page, ctx);
  await page.click('#btn-login');
  await page.fill('#form-login input[name=email]', email);
  await page.click('#btn-forgot');
  check('the reset form takes the email already typed', (await page.inputValue('#form-reset-ask input[name=email]')) === email);
  await page.click('#form-reset-ask button[type=submit]');
  await page.waitForSelector('#form-reset-ask .done:not([hidden])');
  check('the page says what happens next, in French', (await page.textContent('#form-reset-ask .done')).includes('l’équipe vous transmettra un lien'));
  check('no script error (request)', page.errors.length === 0, page.errors);

  // Staff read the link to pass on, and the reported conversation.
  page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'moderation@e2e.test');
  await tab(page, 'moderation');
  const card = page.locator('#mod-requests [data-reset]').filter({ hasText: email });
  await card.waitFor({ timeout: 15000 });
  const link = await card.locator('input[readonly]').inputValue();
  check(`staff see Pierre's link (${link.slice(0, 40)}…)`, link.startsWith(ctx.base + '/#reset=') && link.length > 60, link);
  const item = page.locator(`#mod-queue .mod-item[data-post="${id}"]`);
  await item.waitFor({ timeout: 15000 });
  await item.locator('button[data-act=conversation]').click();
  await item.locator('.mod-thread .msg').first().waitFor({ timeout: 10000 });
  check('staff read the reported post’s conversation', (await item.locator('.mod-thread').textContent()).includes('Le colis est prêt'));
  check('no script error (staff)', page.errors.length === 0, page.errors);

  // Pierre opens the link: a new password, then the login.
  page = await freshPage(ctx, { viewport: { width: 390, height: 844 } });
  await page.goto(link);
  await page.waitForSelector('#form-reset-new:not([hidden])', { timeout: 20000 });
  check('the link opens the new-password form and leaves the address bar', !page.url().includes('reset='), page.url());
  await page.fill('#form-reset-new input[name=new_password]', 'nouveau cheval');
  await page.click('#form-reset-new button[type=submit]');
  await page.waitForSelector('#dlg-login[open]');
  check('then the login dialog, with the email filled in', (await page.inputValue('#form-login input[name=email]')) === email);
  await page.fill('#form-login input[name=password]', 'nouveau cheval');
  await page.click('#form-login button[type=submit]');
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  check('Pierre is logged in with the new password', (await page.textContent('#who')).includes('Pierre'));
  const old = new ctx.Client(ctx.base);
  check('the old one no longer works', await old.login(email).then(() => false, (e) => / 401 /.test(e.message)));
  await page.goto(ctx.base + '/' + new URL(link).hash);
  await page.waitForSelector('#form-reset-new:not([hidden])', { timeout: 20000 });
  await page.fill('#form-reset-new input[name=new_password]', 'encore un autre');
  await page.click('#form-reset-new button[type=submit]');
  await page.waitForSelector('#form-reset-new .error:not([hidden])');
  check('a link works once', (await page.textContent('#form-reset-new .error')).includes('ne fonctionne plus'));
  check('no script error (reset)', page.errors.length === 0, page.errors);
}

list.push({ name: 'staff-desk', title: '16. a forgotten password passed on by staff; staff read a reported conversation', run: staffDesk });

/* ---- 17. accessibility: axe on every page and dialog, keyboard paths, French that reads as French ---- */

/** Presses `key` until the focus is on an element matching `sel`; false after `max` presses. */
async function tabTo(page, sel, { key = 'Tab', max = 80 } = {}) {
  const on = () => page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), sel);
  for (let i = 0; i < max; i++) {
    if (await on()) return true;
    await page.keyboard.press(key);
  }
  return on();
}

/** Whether the focus is on an element matching `sel`, and what has it (for the report). */
const focusOn = (page, sel) => page.evaluate((s) => {
  const e = document.activeElement;
  return { ok: !!e && e.matches(s), on: e ? `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className} "${(e.textContent || '').trim().slice(0, 40)}"` : null };
}, sel);

/**
 * The app's English strings: the values of en.json that differ from
 * fr.json, and MapLibre's own UI strings (its default, English, locale), as
 * the fragments between their {placeholders}.
 */
function englishStrings(ctx) {
  const read = (l) => JSON.parse(fs.readFileSync(path.join(ctx.webDir, 'i18n', l + '.json'), 'utf8'));
  const fr = read('fr'), en = read('en');
  const out = new Set();
  const add = (text) => {
    for (const part of text.split(/\{\w+\}/)) {
      const p = part.replace(/^[\s.,:;·()…«»"“”’—–+-]+|[\s.,:;·()…«»"“”’—–+-]+$/g, '');
      if (/[A-Za-z]{3}/.test(p)) out.add(p);
    }
  };
  for (const [k, v] of Object.entries(en)) if (fr[k] !== v) add(v);
  const ml = fs.readFileSync(path.join(ctx.webDir, 'node_modules', 'maplibre-gl', 'dist', 'maplibre-gl.mjs'), 'utf8');
  for (const m of ml.matchAll(/"[A-Za-z]+\.[A-Za-z]+":`([^`]*)`/g)) add(m[1]);
  return [...out];
}

/**
 * What a French reader sees that is not French: "(s)"-style plurals, and
 * the app's English strings, in the visible text, the options of the
 * visible lists and the labels and titles of visible elements. Names that
 * people or OpenStreetMap gave (titles, bodies, shop names) and elements
 * marked with another language (the EN button) are left out.
 */
async function notFrench(page, english) {
  return page.evaluate((eng) => {
    const skip = '.card-title, .post-body, .msg-body, .shop-popup h3, #who strong, [lang]:not(html), script, style';
    const seen = (el) => el.checkVisibility({ visibilityProperty: true }) && !el.closest(skip);
    const texts = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (n.nodeValue.trim() && el && !['OPTION', 'SCRIPT', 'STYLE'].includes(el.tagName) && seen(el)) texts.push(n.nodeValue.trim());
    }
    for (const el of document.querySelectorAll('body *')) {
      if (!seen(el)) continue;
      if (el.tagName === 'SELECT') for (const o of el.options) texts.push(o.textContent.trim());
      for (const a of ['aria-label', 'title', 'placeholder', 'alt']) if (el.getAttribute(a)) texts.push(el.getAttribute(a));
    }
    const all = texts.join('\n');
    const found = [];
    const plural = all.match(/\S*\((?:s|es|e|x)\)\S*/g);
    if (plural) found.push(...plural);
    const esc = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const e of eng) if (new RegExp(`(^|[^\\p{L}\\p{N}])${esc(e)}($|[^\\p{L}\\p{N}])`, 'u').test(all)) found.push(e);
    return { found, size: all.length };
  }, english);
}

async function accessibility(ctx) {
  const { check, data } = ctx;
  const english = englishStrings(ctx);
  const french = async (page, where) => {
    const r = await notFrench(page, english);
    return check(`French that reads as French on ${where}: no "(s)", no English (${r.size} characters read)`, r.found.length === 0 && r.size > 100, r.found);
  };
  /* Every count written in `sel` with the singular `one` or the plural `other` agrees with its number. */
  const agree = async (page, sel, lang, one, other, what) => {
    const counted = `(\\d+)\\s+(?:(${one})|(${other}))(?![\\p{L}])`;
    await page.waitForFunction(([s, re]) => new RegExp(re, 'u').test(document.querySelector(s).innerText), [sel, counted], { timeout: 10000 }).catch(() => {});
    const text = await page.innerText(sel);
    const said = [...text.matchAll(new RegExp(counted, 'gu'))]
      .map((m) => ({ n: Number(m[1]), one: !!m[2] }));
    const singular = (n) => (lang === 'fr' ? n < 2 : n === 1); // French: 0 and 1 take the singular
    const wrong = said.filter((x) => x.one !== singular(x.n));
    return check(`${lang === 'fr' ? 'French' : 'English'} plurals agree with their count: ${what} (${said.map((x) => x.n + (x.one ? ' ' + one : ' ' + other)).slice(0, 4).join(', ')}…)`,
      said.length > 0 && wrong.length === 0, { said: said.length, wrong });
  };
  const closed = (page, sel) => page.waitForFunction((s) => !document.querySelector(s).open, sel, { timeout: 5000 }).then(() => true, () => false);

  // The strings themselves: plural forms are keys of their own, never "(s)".
  const dict = Object.fromEntries(['fr', 'en'].map((l) => [l, JSON.parse(fs.readFileSync(path.join(ctx.webDir, 'i18n', l + '.json'), 'utf8'))]));
  const bracketed = Object.entries(dict).flatMap(([l, d]) => Object.entries(d).filter(([, v]) => /\((?:s|es|e|x)\)/.test(v)).map(([k]) => `${l}:${k}`));
  check('no string of either language writes a plural as "(s)"', bracketed.length === 0, bracketed);
  const orphans = Object.entries(dict).flatMap(([l, d]) => Object.keys(d).filter((k) => /_(?:zero|one|two|few|many)$/.test(k) && !(k.replace(/_[a-z]+$/, '') in d)).map((k) => `${l}:${k}`));
  check('every plural form has its plain key (the form for other counts)', orphans.length === 0, orphans);
  // MapLibre's UI strings: each one it has (but the scale's unit symbols) is said in both languages.
  const mlKeys = [...fs.readFileSync(path.join(ctx.webDir, 'node_modules', 'maplibre-gl', 'dist', 'maplibre-gl.mjs'), 'utf8')
    .matchAll(/"([A-Za-z]+\.[A-Za-z]+)":`[^`]*`/g)].map((m) => m[1]).filter((k) => !k.startsWith('ScaleControl.'));
  const untold = Object.entries(dict).flatMap(([l, d]) => mlKeys.filter((k) => !d['maplibre:' + k]).map((k) => `${l}:${k}`));
  check(`MapLibre's ${mlKeys.length} UI strings are translated (maplibre:… keys)`, mlKeys.length >= 15 && untold.length === 0, untold);
  const ML = ['NavigationControl.ZoomIn', 'NavigationControl.ZoomOut', 'GeolocateControl.FindMyLocation', 'Map.Title'];

  /* ---- anonymous, in French ---- */
  let page = await freshPage(ctx);
  await open(page, ctx);
  await axeCheck(page, check, 'the map page, anonymous, in French');
  await french(page, 'the map page, anonymous');
  await agree(page, '#needs-body', 'fr', 'annonce ouverte', 'annonces ouvertes', 'the open posts of each neighbourhood');
  const controls = await page.evaluate(() => ['.maplibregl-ctrl-zoom-in', '.maplibregl-ctrl-zoom-out', '.maplibregl-ctrl-geolocate', '.maplibregl-canvas']
    .map((s) => document.querySelector(s).getAttribute('aria-label')));
  check(`MapLibre's controls speak French (${controls.join(', ')})`, JSON.stringify(controls) === JSON.stringify(
    ML.map((k) => dict.fr['maplibre:' + k])), controls);
  const credits = await page.textContent('#attribution');
  check(`the footer credits are in French (${credits})`, credits.includes(dict.fr.credits_data), credits);

  // Log in: opened and closed with the keyboard, the focus back on the button.
  check('the keyboard reaches "Se connecter"', await tabTo(page, '#btn-login'));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlg-login[open]');
  await axeCheck(page, check, 'the login dialog');
  await french(page, 'the login dialog');
  await page.keyboard.type('quelquun@e2e.test');
  await page.keyboard.press('Escape');
  let f = await focusOn(page, '#btn-login');
  check(`Escape in the login dialog's field closes it, and the focus is back on "Se connecter" (${f.on})`, await closed(page, '#dlg-login') && f.ok, f);

  // Forgotten password, from the login dialog.
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlg-login[open]');
  check('the keyboard reaches "Mot de passe oublié ?" in the dialog', await tabTo(page, '#btn-forgot', { max: 10 }));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlg-reset[open]');
  await axeCheck(page, check, 'the forgotten-password dialog');
  await french(page, 'the forgotten-password dialog');
  await page.keyboard.press('Escape');
  f = await focusOn(page, '#btn-login');
  check(`Escape closes the forgotten-password dialog, and the focus is back on "Se connecter" (${f.on})`, await closed(page, '#dlg-reset') && f.ok, f);

  // Register, with the address suggestions open: Escape closes them first, then the dialog.
  check('the keyboard reaches "S’inscrire"', await tabTo(page, '#btn-register'));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlg-register[open]');
  await axeCheck(page, check, 'the registration dialog');
  await french(page, 'the registration dialog');
  check('the keyboard reaches the address field', await tabTo(page, '#reg-address', { max: 10 }));
  await page.keyboard.type('7 rue montorg', { delay: 10 });
  await page.waitForSelector('#dlg-register .ac-item', { timeout: 10000 });
  await axeCheck(page, check, 'the registration dialog with address suggestions');
  await page.keyboard.press('Escape');
  check('a first Escape closes the suggestions and leaves the dialog open',
    (await page.$$('#dlg-register .ac-item')).length === 0 && await page.evaluate(() => document.getElementById('dlg-register').open));
  await page.keyboard.press('Escape');
  f = await focusOn(page, '#btn-register');
  check(`a second Escape closes the dialog, and the focus is back on "S’inscrire" (${f.on})`, await closed(page, '#dlg-register') && f.ok, f);

  // The shops, and a shop's popup opened from the list with the keyboard.
  await tabTo(page, '[role=tab][aria-selected=true]');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#pane-shops button.card[data-shop]', { timeout: 15000 });
  await axeCheck(page, check, 'the shops tab');
  await french(page, 'the shops tab');
  check('the keyboard reaches a shop of the list', await tabTo(page, '#pane-shops button.card[data-shop]', { max: 20 }));
  const shopId = await page.evaluate(() => document.activeElement.dataset.shop);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.shop-popup[data-shop="${shopId}"]`, { timeout: 10000 });
  await idle(page);
  f = await focusOn(page, '.maplibregl-popup *');
  check(`the shop's popup takes the focus (${f.on})`, f.ok, f);
  await axeCheck(page, check, 'a shop’s popup');
  await french(page, 'a shop’s popup');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('.maplibregl-popup'), null, { timeout: 5000 }).catch(() => {});
  f = await focusOn(page, `#pane-shops button.card[data-shop="${shopId}"]`);
  check(`Escape closes the popup, and the focus is back on the shop in the list (${f.on})`,
    (await page.$$('.maplibregl-popup')).length === 0 && f.ok, f);

  // The same page in English: the controls, the credits and the plurals follow.
  check('the keyboard reaches the EN switch', await tabTo(page, '[data-lang=en]'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#tab-needs').textContent === 'Needs', null, { timeout: 5000 });
  await axeCheck(page, check, 'the map page, anonymous, in English');
  const controlsEn = await page.evaluate(() => ['.maplibregl-ctrl-zoom-in', '.maplibregl-ctrl-zoom-out', '.maplibregl-ctrl-geolocate', '.maplibregl-canvas']
    .map((s) => document.querySelector(s).getAttribute('aria-label')));
  check(`after the switch, MapLibre's controls speak English (${controlsEn.join(', ')})`, JSON.stringify(controlsEn) === JSON.stringify(
    ML.map((k) => dict.en['maplibre:' + k])), controlsEn);
  check('and the footer credits too', (await page.textContent('#attribution')).includes(dict.en.credits_data));
  await tab(page, 'needs');
  await agree(page, '#needs-body', 'en', 'open post', 'open posts', 'the open posts of each neighbourhood, in English');
  await tab(page, 'shops');
  await page.click(`#pane-shops button.card[data-shop="${shopId}"]`);
  await page.waitForSelector(`.shop-popup[data-shop="${shopId}"]`, { timeout: 10000 });
  check('a popup opened after the switch has an English close button',
    (await page.getAttribute('.maplibregl-popup-close-button', 'aria-label')) === dict.en['maplibre:Popup.Close']);
  check('no script error (anonymous)', page.errors.length === 0, page.errors);

  // The guide, in both languages.
  await page.goto(ctx.base + '/guide.html');
  await page.waitForSelector('main');
  await axeCheck(page, check, 'the guide, in English');
  await page.click('[data-lang=fr]');
  await axeCheck(page, check, 'the guide, in French');

  /* ---- a member, in French ---- */
  page = await freshPage(ctx);
  await open(page, ctx);
  await tabTo(page, '#btn-login');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlg-login[open]');
  await page.keyboard.type('a1@e2e.test');
  await page.keyboard.press('Tab');
  await page.keyboard.type('correct horse');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  await idle(page);
  f = await focusOn(page, '#btn-me');
  check(`logged in with the keyboard, the focus is on "Mon compte", where "Se connecter" was (${f.on})`, f.ok, f);
  await jump(page, data.labelA, 15);
  await page.waitForSelector('#needs-body button.card[data-post]', { timeout: 15000 });
  await axeCheck(page, check, 'the needs tab, as a member');
  await french(page, 'the needs tab');

  // A post's detail from the list, and back to the list.
  check('the keyboard reaches a post of the list', await tabTo(page, '#needs-body button.card[data-post]'));
  const postId = await page.evaluate(() => document.activeElement.dataset.post);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`#needs-body article.detail[data-post="${postId}"]`, { timeout: 10000 });
  await idle(page);
  f = await focusOn(page, '#post-title');
  check(`the detail's title takes the focus (${f.on})`, f.ok, f);
  await axeCheck(page, check, 'a post’s detail');
  await french(page, 'a post’s detail');
  check('the keyboard reaches "Retour à la liste"', await tabTo(page, '#needs-body button.back', { key: 'Shift+Tab', max: 5 }));
  await page.keyboard.press('Enter');
  await page.waitForSelector(`#needs-body button.card[data-post="${postId}"]`, { timeout: 10000 });
  await idle(page);
  f = await focusOn(page, `#needs-body button.card[data-post="${postId}"]`);
  check(`back to the list, the focus is on the same post (${f.on})`, f.ok, f);

  // The tabs, with the arrow keys.
  const tabs = { post: '#form-post', masks: '#pane-masks section', shops: '#pane-shops button.card' };
  await tabTo(page, '[role=tab][aria-selected=true]', { key: 'Shift+Tab' });
  for (const [name, ready] of Object.entries(tabs)) {
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector(ready, { timeout: 15000 });
    check(`the arrow key goes to the ${name} tab`, await page.evaluate((n) => document.activeElement.dataset.tab === n, name));
    await axeCheck(page, check, `the ${name} tab`);
    await french(page, `the ${name} tab`);
    if (name === 'post') {
      const days = await page.$$eval('#form-post select[name=expires_in_days] option', (os) => os.map((o) => o.textContent));
      check(`the post form's durations are real French plurals (${days.join(', ')})`, days[0] === '1 jour' && days.includes('7 jours'), days);
      await page.waitForSelector('#my-posts .card');
      await agree(page, '#my-posts', 'fr', 'vue', 'vues', 'the views of My posts');
    }
  }

  // My account, with the home's suggestions open.
  check('the keyboard reaches "Mon compte"', await tabTo(page, '#btn-me', { key: 'Shift+Tab' }));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlg-me[open]');
  await axeCheck(page, check, 'the My account dialog');
  await french(page, 'the My account dialog');
  check('the keyboard reaches the home address field', await tabTo(page, '#me-address', { max: 15 }));
  await page.keyboard.type(data.addr.b1.slice(0, 12).toLowerCase(), { delay: 10 });
  await page.waitForSelector('#dlg-me .ac-item', { timeout: 10000 });
  await axeCheck(page, check, 'the My account dialog with address suggestions');
  await page.keyboard.press('Escape');
  check('Escape closes the suggestions, the dialog stays', (await page.$$('#dlg-me .ac-item')).length === 0 &&
    await page.evaluate(() => document.getElementById('dlg-me').open));
  await page.keyboard.press('Escape');
  f = await focusOn(page, '#btn-me');
  check(`Escape again closes My account, and the focus is back on "Mon compte" (${f.on})`, await closed(page, '#dlg-me') && f.ok, f);
  check('no script error (member)', page.errors.length === 0, page.errors);

  /* ---- a shop account: My shop ---- */
  await ownShop(ctx, await member(ctx, 'commerce@e2e.test'), data.shop.id);
  page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'commerce@e2e.test');
  await tab(page, 'myshop');
  await page.waitForSelector(`[data-shop-form="${data.shop.id}"]`, { timeout: 15000 });
  await axeCheck(page, check, 'My shop');
  await french(page, 'My shop');
  check('no script error (shop)', page.errors.length === 0, page.errors);

  /* ---- staff: moderation and data ---- */
  page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'moderation@e2e.test');
  await tab(page, 'moderation');
  await page.waitForSelector('#mod-queue .mod-reasons ul, #mod-queue p.empty', { timeout: 20000 });
  await page.waitForSelector('#mod-requests section', { timeout: 20000 });
  await axeCheck(page, check, 'the moderation tab');
  await french(page, 'the moderation tab');
  await agree(page, '#mod-queue', 'fr', 'signalement', 'signalements', 'the reports of each post');
  await agree(page, '#mod-queue', 'fr', 'annonce sélectionnée', 'annonces sélectionnées', 'the selection, empty');
  await tab(page, 'data');
  await page.waitForSelector('#pane-data .chart canvas', { timeout: 20000 });
  await page.waitForSelector('#pane-data .audit-entry, #pane-data .data-part p.empty', { timeout: 20000 });
  await axeCheck(page, check, 'the data tab');
  await french(page, 'the data tab');
  await agree(page, '#pane-data .data-summary', 'fr', 'annonce publiée', 'annonces publiées', 'the posts of the statistics window');
  await page.click('#pane-data .data-figure summary');
  await axeCheck(page, check, 'the data tab with a chart’s table open');
  check('no script error (staff)', page.errors.length === 0, page.errors);
}

list.push({ name: 'accessibility', title: '17. accessibility: axe on every page and dialog, keyboard paths, French that reads as French', run: accessibility });

/* ---- 18. no map: a phone without WebGL 2 registers, posts, and a neighbour claims ---- */

/** Makes the page's WebGL (1 and 2) unavailable, as on an old phone: getContext answers null. */
async function withoutWebgl(page) {
  await page.addInitScript(() => {
    const get = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
      return /^(webgl2?|experimental-webgl)$/.test(kind) ? null : get.call(this, kind, ...rest);
    };
  });
}

/** open() for a page with no map: waits until the panels are usable (window.entraide.usableMs). */
async function openNoMap(page, ctx, hash = '') {
  await page.goto(ctx.base + '/' + hash);
  await page.waitForFunction(() => window.entraide && window.entraide.usableMs, null, { timeout: 20000 });
}

const NO_MAP_FR = 'La carte ne peut pas s’afficher sur cet appareil';

/** What the page says of the map: how often the French sentence shows, and no raw MapLibre/WebGL words. */
function mapMessage(page) {
  return page.evaluate((s) => {
    const text = document.body.innerText;
    const el = document.getElementById('map-error');
    return { count: text.split(s).length - 1, raw: /webgl|maplibre|failed to/i.test(text),
      shown: !!el && !el.hidden && el.getBoundingClientRect().height > 0, lang: document.documentElement.lang };
  }, NO_MAP_FR);
}

async function noMap(ctx) {
  const { check, data } = ctx;
  const title = 'Lettre recommandée à poster, sans carte';
  let page = await freshPage(ctx, { viewport: { width: 390, height: 844 } });
  const mapFiles = [];
  page.on('request', (r) => { if (/maplibre-gl(-worker)?\.mjs/.test(r.url())) mapFiles.push(r.url()); });
  await withoutWebgl(page);
  await openNoMap(page, ctx);
  // (page.clock, used by shop-hours, is the whole browser context's: once installed it also fakes
  // performance's timeline, whose marks then cannot be read; they are checked when it is the browser's own)
  const usable = await page.evaluate(() => [window.entraide.usableMs,
    /\[native code\]/.test(String(performance.getEntriesByName)) ? performance.getEntriesByName('entraide-usable').length : 1]);
  check(`usable without a map: window.entraide.usableMs (${usable[0]} ms) and the mark entraide-usable are set`,
    usable[0] > 0 && usable[1] === 1, usable);
  let said = await mapMessage(page);
  check(`the map's area says once, in French, that the map is unavailable on this device (${said.count})`,
    said.count === 1 && said.shown && said.lang === 'fr' && !said.raw, said);
  check('MapLibre is not even downloaded', mapFiles.length === 0, mapFiles);
  check('a visitor sees one sentence and the register button first, no filters',
    await page.evaluate(() => {
      const body = document.getElementById('needs-body');
      const first = body.querySelector('button');
      return document.getElementById('filters-box').hidden && body.querySelector('p').textContent.includes('inscrivez-vous') &&
        first && first.classList.contains('primary') && first.getBoundingClientRect().bottom <= innerHeight;
    }));

  // Registration, in French, with no map.
  await page.click('#needs-body button.primary');
  await page.fill('#form-register input[name=display_name]', 'Solange');
  await page.fill('#form-register input[name=email]', 'sans-carte@e2e.test');
  await page.fill('#form-register input[name=password]', 'correct horse');
  await page.locator('#reg-address').pressSequentially(data.addr.m.toLowerCase(), { delay: 15 });
  await page.waitForSelector('.ac-item', { timeout: 10000 });
  await page.keyboard.press('Enter');
  await page.click('#form-register button[type=submit]');
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  check('she registers and is logged in without a map', (await page.textContent('#who')).includes('Solange'));
  await page.waitForSelector('#needs-body .card', { timeout: 10000 });
  const heading = await page.textContent('#needs-body h2');
  const cards = await page.$$eval('#needs-body .card-meta', (els) => els.map((e) => e.textContent));
  check(`her needs list shows, "${heading}", with distances (${cards.length} posts)`,
    heading === 'Près de chez vous' && cards.length > 3 && cards.every((c) => /\d (m|km)/.test(c)), cards.slice(0, 3));

  // She posts a request.
  await tab(page, 'post');
  const form = page.locator('#form-post');
  await form.locator('select[name=category]').selectOption('errands');
  await form.locator('input[name=title]').fill(title);
  await form.locator('button[type=submit]').click();
  const card = page.locator('#my-posts .card', { hasText: title });
  await card.waitFor({ timeout: 10000 });
  const id = Number(await card.getAttribute('data-post'));
  check(`her request is published (${id})`, id > 0 && (await post(ctx, id)).properties.status === 'open');
  // The shops list works too; a shop opens in a dialog instead of a popup.
  await tab(page, 'shops');
  await page.waitForSelector('#pane-shops .card', { timeout: 10000 });
  await page.click('#pane-shops .card');
  await page.waitForSelector('#dlg-popup[open] .shop-popup', { timeout: 10000 });
  check('a shop of the list opens in a dialog', (await page.textContent('#dlg-popup h3')).length > 0);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#dlg-popup', { state: 'hidden' });
  said = await mapMessage(page);
  check('still one message about the map', said.count === 1, said);
  check('no script error (author)', page.errors.length === 0, page.errors);

  // A neighbour, also without a map, finds it and claims it.
  page = await freshPage(ctx, { viewport: { width: 390, height: 844 } });
  await withoutWebgl(page);
  await openNoMap(page, ctx);
  await page.click('#btn-login');
  await page.fill('#form-login input[name=email]', 'b1@e2e.test');
  await page.fill('#form-login input[name=password]', 'correct horse');
  await page.click('#form-login button[type=submit]');
  await page.waitForSelector('#who:not([hidden])', { timeout: 30000 });
  await page.click('#filters-box summary');
  await search(page, 'recommandée sans carte', 'open');
  await page.click(`#needs-body .card[data-post="${id}"]`);
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"]`);
  await page.click('#needs-body .actions button.primary');
  await page.waitForSelector('.address-text', { timeout: 10000 });
  const claimed = (await post(ctx, id)).properties;
  check(`Bernard claims it without a map and gets the address (${await page.textContent('.address-text')})`,
    claimed.status === 'claimed' && (await page.textContent('.address-text')).length > 5, claimed.status);
  said = await mapMessage(page);
  check('one French message about the map for him too', said.count === 1 && said.shown, said);
  check('no script error (claimer)', page.errors.length === 0, page.errors);
  await shot(page, ctx, 'no-map', { quiet: true });
}

list.push({ name: 'no-map', title: '18. no WebGL 2: register, the needs list, post, and a neighbour claims, all without a map', run: noMap });

/* ---- 19. a phone an elderly person can use: 390×844 and 320×568 ---- */

/**
 * The phone rules, measured in the page (or in one dialog): every target
 * (buttons, links that are not inside a sentence, fields, folded sections'
 * headings, tabs, a checkbox's or a radio's label, the map's buttons) at
 * least 44 × 44 px; body text 16 px and detail text 14 px at least; no
 * target drawn over the panel's footer; nothing wider than the screen.
 */
function phoneAudit(page, scope) {
  return page.evaluate((sel) => {
    const root = sel ? document.querySelector(sel) : document.body;
    const shown = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\s+/).join('.') : ''} "${(el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 30)}"`;
    const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const targets = [...root.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea, summary, [role=tab], label')]
      .filter((el) => {
        if (el.tagName === 'LABEL') return !!el.querySelector('input[type=checkbox], input[type=radio]');
        if (el.matches('input[type=checkbox], input[type=radio]')) return !el.closest('label');
        if (el.tagName === 'A') return !ownText(el.parentElement); // a link inside a sentence is text
        return true;
      }).filter(shown);
    const small = targets.map((el) => [el, el.getBoundingClientRect()]).filter(([, r]) => r.width < 43.5 || r.height < 43.5)
      .map(([el, r]) => `${name(el)} ${Math.round(r.width)}×${Math.round(r.height)}`);
    const DETAIL = 'small, .hint, .card-meta, .chip, .attribution, .legend, .msg-meta, .maplibregl-ctrl-scale, .who';
    const fonts = [];
    for (const el of root.querySelectorAll('*')) {
      if (!ownText(el) || !shown(el) || el.closest('option, script, style')) continue;
      const px = parseFloat(getComputedStyle(el).fontSize), min = el.closest(DETAIL) ? 14 : 16;
      if (px < min - 0.01) fonts.push(`${name(el)} ${px}px < ${min}px`);
    }
    // What a target shows: its box cut by the boxes that scroll or clip it.
    const seen = (el) => {
      let [l, t, r, b] = (({ left, top, right, bottom }) => [left, top, right, bottom])(el.getBoundingClientRect());
      for (let a = el.parentElement; a; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
        const q = a.getBoundingClientRect();
        [l, t, r, b] = [Math.max(l, q.left), Math.max(t, q.top), Math.min(r, q.right), Math.min(b, q.bottom)];
      }
      return r - l > 1 && b - t > 1 ? { l, t, r, b } : null;
    };
    const foot = document.querySelector('.panel-foot');
    const f = foot.getBoundingClientRect();
    const overFooter = sel ? [] : targets.filter((el) => !foot.contains(el)).map((el) => [el, seen(el)])
      .filter(([, v]) => v && v.l < f.right - 1 && v.r > f.left + 1 && v.t < f.bottom - 1 && v.b > f.top + 1).map(([el]) => name(el));
    return { targets: targets.length, small, fonts, overFooter, wide: document.documentElement.scrollWidth > innerWidth };
  }, scope || null);
}

/** Whether a form's first field and its main button are on screen and not covered, the form unscrolled. */
function firstFieldAndButton(page, field, button, scroller) {
  return page.evaluate(([f, b, s]) => {
    const ok = (el) => {
      const r = el.getBoundingClientRect();
      if (!(r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0)) return false;
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return !!hit && (hit === el || el.contains(hit) || hit.contains(el) || (el.labels && [...el.labels].some((l) => l.contains(hit))));
    };
    return { field: ok(document.querySelector(f)), button: ok(document.querySelector(b)),
      scrolled: [...document.querySelectorAll(s)].map((el) => el.scrollTop).reduce((a, x) => a + x, 0) };
  }, [field, button, scroller]);
}

async function phoneLayout(ctx) {
  const { check } = ctx;
  const report = (what, a) => {
    check(`${what}: every target at least 44 × 44 px (${a.targets} measured)`, a.small.length === 0, a.small);
    check(`${what}: body text 16 px, detail text 14 px at least`, a.fonts.length === 0, a.fonts);
    check(`${what}: nothing over the footer, nothing wider than the screen`, a.overFooter.length === 0 && !a.wide, a);
  };
  for (const [width, height] of [[390, 844], [320, 568]]) {
    const size = `${width}×${height}`;
    const page = await freshPage(ctx, { viewport: { width, height } });
    await open(page, ctx);
    report(`${size}, a visitor`, await phoneAudit(page));
    check(`${size}: the legend starts folded`, await page.evaluate(() => !document.querySelector('details.legend').open));
    const first = await page.evaluate(() => {
      const pane = document.getElementById('pane-needs');
      const shown = [...pane.querySelectorAll('h2, p:not(:has(button)), button, input, select')].filter((el) => el.getBoundingClientRect().height > 0);
      const reg = shown.find((el) => el.tagName === 'BUTTON');
      return { order: shown.slice(0, 3).map((el) => el.tagName), register: reg && reg.textContent,
        inView: !!reg && reg.getBoundingClientRect().bottom <= innerHeight, filters: !document.getElementById('filters-box').hidden };
    });
    check(`${size}: a visitor reads one sentence, then the register button, on screen; no filters (${first.order})`,
      first.order.join() === 'H2,P,BUTTON' && /^S.inscrire$/.test(first.register) && first.inView && !first.filters, first);

    await page.click('#needs-body button.primary');
    await page.waitForSelector('#dlg-register[open]');
    let f = await firstFieldAndButton(page, '#form-register input[name=display_name]', '#form-register button[type=submit]', '#dlg-register');
    check(`${size}: registration's first field and its button are on screen without scrolling`, f.field && f.button && f.scrolled === 0, f);
    report(`${size}, registration`, await phoneAudit(page, '#dlg-register'));
    await page.keyboard.press('Escape');
    await page.click('#btn-login');
    await page.waitForSelector('#dlg-login[open]');
    f = await firstFieldAndButton(page, '#form-login input[name=email]', '#form-login button[type=submit]', '#dlg-login');
    check(`${size}: login's first field and its button are on screen`, f.field && f.button && f.scrolled === 0, f);
    report(`${size}, login`, await phoneAudit(page, '#dlg-login'));
    await page.keyboard.press('Escape');

    await login(page, 'a1@e2e.test');
    await page.waitForSelector('#needs-body .card', { timeout: 10000 });
    report(`${size}, a member's list`, await phoneAudit(page));
    await tab(page, 'post');
    await page.waitForSelector('#form-post');
    f = await firstFieldAndButton(page, '#form-post input[name=kind]', '#form-post button[type=submit]', '#panel, #pane-post');
    check(`${size}: the post form's first field and its button are on screen without scrolling the panel`, f.field && f.button && f.scrolled === 0, f);
    report(`${size}, the post form`, await phoneAudit(page));
    await page.evaluate(() => { const p = document.getElementById('panel'); p.scrollTop = p.scrollHeight; });
    const guide = await page.evaluate(() => {
      const a = document.querySelector('.panel-foot a'), r = a.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return r.bottom <= innerHeight && (hit === a || a.contains(hit));
    });
    check(`${size}: at the end of the panel, the footer's link is on screen and nothing covers it`, guide);
    if (width === 320) await shot(page, ctx, 'phone-small-post', { quiet: true });
    check(`${size}: no script error`, page.errors.length === 0, page.errors);
  }
}

list.push({ name: 'phone-layout', title: '19. a phone an elderly person can use: targets, text sizes, forms on screen, at 390×844 and 320×568', run: phoneLayout });

/* ---- 20. "near me" is measured from home, from the device's position, or from the map's centre ---- */
async function nearHome(ctx) {
  const { check, data } = ctx;
  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'a1@e2e.test');
  const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
  check(`/api/me gives the home area (${me.home_area})`, Array.isArray(me.home_area) && me.home_area.length === 2, me);
  // Move the map a little: home stays in view, but the map's centre is no longer home.
  await page.evaluate(() => window.entraide.map.panBy([120, 80], { animate: false }));
  await idle(page);
  const center = await page.evaluate(() => { const c = window.entraide.map.getCenter(); return [c.lng, c.lat]; });
  const near = (p) => p.map((x) => x.toFixed(6)).join(',');
  await page.waitForFunction((n) => new URLSearchParams(document.querySelector('#needs-body').dataset.query || '').get('near') === n &&
    document.querySelector('#needs-body .card'), near(me.home_area), { timeout: 10000 });
  const heading = await page.textContent('#needs-body h2');
  check(`a member's list is "${heading}", measured from the home area`, /près de chez vous/i.test(heading));
  // Its distances are the API's from the home area, and not those from the map's centre.
  const shown = await page.$$eval('#needs-body .card', (els) => els.map((e) => [Number(e.dataset.post), e.querySelector('.card-meta').textContent]));
  const query = await page.evaluate(() => document.querySelector('#needs-body').dataset.query);
  const distances = (at) => page.evaluate(([q, n]) => {
    const p = new URLSearchParams([...new URLSearchParams(q)].filter(([, v]) => v !== ''));
    p.set('near', n);
    return fetch('/api/posts?' + p).then((r) => r.json()).then((fc) => Object.fromEntries(fc.features.map((f) => [f.properties.id, f.properties.distance_m])));
  }, [query, near(at)]);
  const fromHome = await distances(me.home_area), fromCentre = await distances(center);
  const fmt = (m) => (m < 1000 ? `${Math.round(m / 10) * 10} m` : `${new Intl.NumberFormat('fr', { maximumFractionDigits: 1 }).format(m / 1000)} km`);
  const wrong = shown.filter(([id, meta]) => fromHome[id] === undefined || !meta.includes(fmt(fromHome[id])));
  const differ = shown.filter(([id, meta]) => fromCentre[id] !== undefined && !meta.includes(fmt(fromCentre[id])));
  check(`the ${shown.length} distances shown are the API's from the home area`, shown.length > 3 && wrong.length === 0, wrong.slice(0, 3));
  check(`and not those from the map's centre (${differ.length} differ)`, differ.length > 0);
  // The home area is marked on the map, at the public point (the house stands above it).
  const mark = await page.evaluate((p) => {
    const el = document.querySelector('.origin-marker'), m = window.entraide.map;
    const r = el.getBoundingClientRect(), c = m.getContainer().getBoundingClientRect(), q = m.project(p);
    return { kind: el.dataset.kind, dx: r.left + r.width / 2 - c.left - q.x, dy: r.bottom - c.top - q.y, label: el.getAttribute('aria-label') };
  }, me.home_area);
  check(`the map marks the home area (${mark.label})`, mark.kind === 'home' && Math.abs(mark.dx) < 2 && Math.abs(mark.dy) < 2, mark);

  // Far away, the list follows the map's centre, and says so.
  await jump(page, data.labelC, 15);
  await page.waitForFunction(() => document.querySelector('#needs-body h2')?.dataset.origin === 'centre', null, { timeout: 10000 });
  const far = await page.evaluate(() => ({ h: document.querySelector('#needs-body h2').textContent, q: document.querySelector('#needs-body').dataset.query,
    c: window.entraide.map.getCenter(), kind: document.querySelector('.origin-marker')?.dataset.kind }));
  check(`moved far away: "${far.h}", from the map's centre`, far.h === 'Autour du centre de la carte' &&
    new URLSearchParams(far.q).get('near') === `${far.c.lng.toFixed(6)},${far.c.lat.toFixed(6)}` && far.kind === 'centre', far);

  // "Use my location": asked on the click only, then the list is measured from the device.
  const here = [data.labelA[0] + 0.002, data.labelA[1] - 0.001];
  await ctx.browser.grantPermissions(['geolocation'], { origin: ctx.base });
  await ctx.browser.setGeolocation({ longitude: here[0], latitude: here[1] });
  await page.click('#needs-body button.origin-btn');
  await page.waitForFunction(() => document.querySelector('#needs-body h2')?.dataset.origin === 'position', null, { timeout: 10000 });
  const pos = await page.evaluate(() => ({ h: document.querySelector('#needs-body h2').textContent,
    near: new URLSearchParams(document.querySelector('#needs-body').dataset.query).get('near'), kind: document.querySelector('.origin-marker')?.dataset.kind }));
  check(`with the device's position: "${pos.h}", from there`, pos.h === 'Près de votre position' && pos.near === near(here) && pos.kind === 'position', pos);
  await page.click('#needs-body button.origin-btn');
  await page.waitForFunction(() => document.querySelector('#needs-body h2')?.dataset.origin === 'home', null, { timeout: 10000 });
  check('and back to home on request', (await page.textContent('#needs-body h2')) === 'Près de chez vous');
  await ctx.browser.clearPermissions();
  await shot(page, ctx, 'near-home', { quiet: true });
  check('no script error', page.errors.length === 0, page.errors);
}

list.push({ name: 'near-home', title: '20. "near me": from the home area, the device\'s position on request, or the map\'s centre far away', run: nearHome });

/* ---- 21. a returning visitor: the page from the service worker's cache, and offline ---- */

/**
 * In a browser of its own (the shared one blocks service workers): the
 * built site's worker (web/js/sw.js) keeps the page's shell after a first
 * visit; a reload is answered from it; with the network cut, the page still
 * opens, in French, says the server cannot be reached, and the list's
 * buttons are there; nothing of the API or the tiles is ever kept by it.
 * On the unbundled sources (no sw.js) the page registers no worker.
 */
async function returning(ctx) {
  const built = fs.existsSync(path.join(ctx.servedDir, 'sw.js'));
  const browser = await ctx.launch({ viewport: { width: 390, height: 844 } });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(ctx.base + '/');
    await page.waitForFunction(() => window.entraide && window.entraide.usableMs, null, { timeout: 30000 });
    if (!built) {
      await page.waitForTimeout(1500);
      const regs = await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length));
      ctx.check('the unbundled page registers no service worker', regs === 0, regs);
      return;
    }
    const ready = await page.evaluate(() => Promise.race([navigator.serviceWorker.ready.then((r) => !!r.active),
      new Promise((res) => setTimeout(() => res(false), 20000))]));
    ctx.check('a first visit installs the service worker', ready);
    const kept = await page.evaluate(async () => {
      const names = (await caches.keys()).filter((k) => k.startsWith('entraide-'));
      const urls = [];
      for (const n of names) for (const r of await (await caches.open(n)).keys()) urls.push(new URL(r.url).pathname);
      return { names, urls };
    });
    ctx.check(`the worker keeps the shell in one cache (${kept.names.join(', ')}): the page, its script, both languages`,
      kept.names.length === 1 && kept.urls.includes('/index.html') && kept.urls.some((u) => /^\/assets\/main-.*\.js$/.test(u))
      && kept.urls.includes('/i18n/fr.json') && kept.urls.includes('/i18n/en.json'), kept);

    const streams = []; // the live stream's answers (live.js), which the worker must leave to the server
    page.on('response', (r) => { if (new URL(r.url()).pathname === '/api/events') streams.push(r); });
    const again = await page.reload();
    await page.waitForFunction(() => window.entraide && window.entraide.usableMs, null, { timeout: 30000 });
    ctx.check('a reload is answered by the service worker', again && again.fromServiceWorker());
    const live = await page.waitForFunction(() => window.entraide.live === 'open', null, { timeout: 15000 }).then(() => true, () => false);
    ctx.check('under the worker, the live stream opens, answered by the server, never by the worker',
      live && streams.length > 0 && streams.every((r) => r.status() === 200 && !r.fromServiceWorker()),
      streams.map((r) => ({ status: r.status(), worker: r.fromServiceWorker() })));

    await browser.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => window.entraide && window.entraide.usableMs, null, { timeout: 30000 });
    const off = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      toast: document.getElementById('toast').textContent,
      register: !!document.querySelector('#needs-body button.primary'),
      login: getComputedStyle(document.getElementById('btn-login')).display !== 'none',
    }));
    ctx.check('offline: the page opens in French, says the server cannot be reached, its buttons are there',
      off.lang === 'fr' && /ne répond pas/.test(off.toast) && off.register && off.login, off);
    await page.screenshot({ path: path.join(ctx.shots, 'offline.png') });
    await browser.setOffline(false);

    const apiKept = await page.evaluate(async () => {
      const out = [];
      for (const n of await caches.keys()) for (const r of await (await caches.open(n)).keys()) {
        const p = new URL(r.url).pathname;
        if (p.startsWith('/api/') || p.startsWith('/tiles') || p === '/tiles.json') out.push(p);
      }
      return out;
    });
    ctx.check('nothing of the API or the tiles is kept by the service worker', apiKept.length === 0, apiKept);
    ctx.check('no script error', errors.length === 0, errors);
  } finally {
    await browser.close().catch(() => {});
  }
}
list.push({ name: 'returning', title: '21. a returning visitor: the page from the service worker, and offline', run: returning });

/* ---- 22. staff data: statistics, an export for QGIS users, the audit log ---- */

async function staffData(ctx) {
  const { check } = ctx;
  const { execFileSync } = await import('node:child_process');
  const os = await import('node:os');
  const staffApi = await member(ctx, 'moderation@e2e.test');
  const stats = await staffApi.req('GET', '/api/stats');
  let page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'moderation@e2e.test');
  await tab(page, 'data');
  await page.waitForSelector('#pane-data .chart[data-chart="neighbourhoods"] canvas', { timeout: 20000 });
  const charts = await page.$$eval('#pane-data .chart', (els) => els.map((e) => ({ name: e.dataset.chart, label: e.getAttribute('aria-label'), role: e.getAttribute('role'), canvas: !!e.querySelector('canvas') })));
  check(`the Data tab draws three charts, each with a text alternative (${charts.map((c) => c.name).join(', ')})`,
    charts.length === 3 && charts.every((c) => c.canvas && c.role === 'img' && c.label && c.label.length > 20), charts);
  const summary = await page.textContent('#pane-data .data-summary');
  check(`the summary counts the window's posts as the API does (${summary})`,
    summary.startsWith(new Intl.NumberFormat('fr').format(stats.needs.posts) + ' annonce'), { summary, posts: stats.needs.posts });
  const catRows = await page.$$eval('#pane-data .data-figure:nth-of-type(2) tbody tr', (rs) => rs.length);
  check(`the per-category chart's table lists the 10 categories (${catRows})`, catRows === 10, catRows);
  const ogc = await page.inputValue('#data-ogc-url');
  check(`the QGIS address is the service's own, absolute (${ogc})`, ogc === ctx.base + '/ogc', ogc);
  const landing = await fetch(ogc, { headers: { Accept: 'application/json' } });
  check('that address answers as an OGC API landing page', landing.ok && Array.isArray((await landing.json()).links), landing.status);
  check('the how-to for QGIS has its steps', (await page.$$('#pane-data .data-steps li')).length === 4);

  // Needs, GeoPackage, Lambert-93: the file comes back and GDAL reads it.
  await page.selectOption('.export-form select[name=layer]', 'needs');
  await page.selectOption('.export-form select[name=format]', 'gpkg');
  await page.selectOption('.export-form select[name=crs]', 'EPSG:2154');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('.export-form button[type=submit]')]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'entraide-e2e-export.')), download.suggestedFilename());
  await download.saveAs(file);
  let info = '';
  try { info = execFileSync('ogrinfo', ['-so', '-al', file], { encoding: 'utf8' }); } catch (e) { info = String(e.stderr || e); }
  const count = Number((/Feature Count: (\d+)/.exec(info) || [])[1]);
  check('the export is in Lambert-93 (EPSG:2154)', /ID\["EPSG",2154\]|EPSG:2154|RGF93 v1 \/ Lambert-93/.test(info), info.slice(0, 600));
  await page.waitForSelector('#pane-data .export-progress a[data-export-file]');

  // The export is in the audit log, newest first, once the tab is read again.
  await tab(page, 'needs');
  await tab(page, 'data');
  await page.waitForSelector('#pane-data .audit-entry', { timeout: 15000 });
  // The tab draws what it had, then the log read again: wait for the new first entry.
  await page.waitForFunction(() => /Export/.test(document.querySelector('#pane-data .audit-entry').textContent),
    null, { timeout: 15000 }).catch(() => {});
  const first = await page.textContent('#pane-data .audit-entry');
  check(`the export heads the audit log (${first.slice(0, 120)})`, /Export/.test(first) && /needs/.test(first) && /gpkg/.test(first)
    && /2154/.test(first) && /Modération \(test\)/.test(first), first);
  const geojson = await staffApi.req('GET', '/api/export?layer=needs&format=geojson');
  const want = (typeof geojson === 'string' ? JSON.parse(geojson) : geojson).features.length;
  check(`the export ${download.suggestedFilename()} opens with ogrinfo: ${count} needs (the GeoJSON export has ${want})`,
    /\.gpkg$/.test(file) && count > 0 && count === want, info.slice(0, 400));
  await page.waitForSelector('#pane-data .chart canvas');
  await page.evaluate(() => document.querySelector('#pane-data .data-summary').scrollIntoView());
  await shot(page, ctx, 'staff-data', { quiet: true });

  // A phone: nothing wider than the screen; the keyboard reaches the export button.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(400);
  const wide = await page.evaluate(() => [...document.querySelectorAll('#pane-data *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && e.checkVisibility()).map((e) => e.tagName + '.' + e.className).slice(0, 5));
  check('on a 390 px phone, nothing of the Data tab is wider than the screen', wide.length === 0, wide);
  await page.focus('.export-form select[name=layer]');
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement.matches('.export-form button[type=submit]'));
  }
  check('the keyboard goes from the layer to the export button', reached);
  check('no script error (staff data)', page.errors.length === 0, page.errors);

  // A member sees no Data tab, and the export answers 403.
  page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'a1@e2e.test');
  check('a member has no Data tab', await page.isHidden('[role=tab][data-tab=data]'));
  const m = await member(ctx, 'a1@e2e.test');
  let status = null;
  try { await m.req('GET', '/api/export?layer=needs&format=gpkg'); status = 200; } catch (e) { status = Number((/: (\d{3}) /.exec(e.message) || [])[1]); }
  check(`a member asking for an export gets 403 (${status})`, status === 403, status);
  status = null;
  try { await m.req('GET', '/api/stats?format=csv&table=needs'); status = 200; } catch (e) { status = Number((/: (\d{3}) /.exec(e.message) || [])[1]); }
  check(`and the staff statistics 403 (${status})`, status === 403, status);
}

list.push({ name: 'staff-data', title: '22. staff data: charts, the QGIS address, a GeoPackage in Lambert-93 that ogrinfo opens, the audit log; a member kept out', run: staffData });

/* ---- 23. after a change, the map asks for the same tiles again: unchanged ones cost a 304 ---- */

/** z/x/y of the tile holding a point at zoom z (the tileset's 512-pixel tiles: z is the map's zoom, floored). */
function tileOf([lon, lat], z) {
  const n = 2 ** z, rad = lat * Math.PI / 180;
  return `${z}/${Math.floor((lon + 180) / 360 * n)}/${Math.floor((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2 * n)}`;
}

/**
 * A member publishes a request through the page. The map then asks the
 * server for the tiles in view under the URLs it used before (no parameter
 * that changes with each change or session): the browser revalidates them
 * with their ETags, and the server answers 304 for those unchanged, 200 for
 * the tile that now holds the request, which the map draws. After logging
 * out, the same URLs again, and no tile of the member's is left drawn or
 * kept: the anonymous tiles hold no need.
 *
 * What came over the wire is read from Chromium's own network events
 * (Network.responseReceivedExtraInfo, which MapLibre's worker's requests
 * reach too): a response the browser revalidated is a 304 there, while the
 * page, and Playwright, see the cached 200 it stands for.
 */
async function revalidate(ctx) {
  const { check, data } = ctx;
  const author = new ctx.Client(ctx.base);
  await author.register('etag@e2e.test', data.addr.a1, 'Étienne');
  await author.login('etag@e2e.test');
  const home = (await author.req('GET', '/api/me')).home_area;
  const page = await freshPage(ctx);
  const tiles = []; // {path, etag} of every tile answer the page received
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/tiles/')) tiles.push({ path: u.pathname + u.search, etag: r.headers().etag });
  });
  const wire = []; // the status of every tile answer as it came over the network
  const cdp = await ctx.browser.newCDPSession(page);
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const type = Object.entries(e.headers || {}).find(([k]) => k.toLowerCase() === 'content-type');
    if (type && type[1].startsWith('application/vnd.mapbox-vector-tile')) wire.push(e.statusCode);
  });
  await cdp.send('Network.enable');
  await open(page, ctx);
  await login(page, 'etag@e2e.test');
  await jump(page, home, 15.5);
  const z = Math.min(Math.floor(await page.evaluate(() => window.entraide.map.getZoom())), 16);
  const before = await needsAt(page, home);
  const etags = new Map(tiles.map((t) => [t.path, t.etag]));
  check(`the tile URLs carry no parameter (${[...etags.keys()][0]})`, etags.size > 0 && [...etags.keys()].every((p) => !p.includes('?')), [...etags.keys()].slice(0, 3));

  tiles.length = 0;
  wire.length = 0;
  await tab(page, 'post');
  const form = page.locator('#form-post');
  await form.locator('select[name=category]').selectOption('company');
  await form.locator('input[name=title]').fill('Une promenade au square le samedi matin');
  await form.locator('button[type=submit]').click();
  const card = page.locator('#my-posts .card', { hasText: 'Une promenade au square' });
  await card.waitFor({ timeout: 10000 });
  const id = Number(await card.getAttribute('data-post'));
  await idle(page);
  let after = await needsAt(page, home);
  for (let i = 0; i < 50 && after.count === before.count; i++) {
    await page.waitForTimeout(200);
    await idle(page);
    after = await needsAt(page, home);
  }
  const again = tiles.slice();
  const same = again.filter((t) => t.etag === etags.get(t.path));
  const sentAgain = again.filter((t) => t.etag !== etags.get(t.path)).map((t) => t.path);
  const n304 = wire.filter((s) => s === 304).length, n200 = wire.filter((s) => s === 200).length;
  const changedTile = `/tiles/${tileOf(home, z)}.mvt`;
  check(`after the change the map asks again for the tiles it had (${again.length}), under the same URLs`,
    again.length > 0 && again.every((t) => etags.has(t.path)), again.filter((t) => !etags.has(t.path)).slice(0, 3));
  check(`the unchanged tiles are revalidated: ${n304} answered 304 on the wire, ${n200} sent again (200)`,
    n304 > 0 && n304 === same.length && n200 === sentAgain.length && n304 + n200 === again.length, { wire, again });
  check(`the tile holding the new request (${changedTile}) is sent again, with a new ETag`, sentAgain.includes(changedTile), sentAgain);
  check(`the map draws the new request at the member's public point (${before.count} → ${after.count} needs there)`,
    after.count === before.count + 1, { before, after, id });

  // Logging out: the same URLs, answered for a visitor; nothing of the member's tiles is left.
  tiles.length = 0;
  await logout(page);
  await idle(page);
  const out = tiles.slice();
  check(`after logging out the map asks again under the same URLs (${out.length} tiles)`,
    out.length > 0 && out.every((t) => etags.has(t.path)), out.slice(0, 3));
  const left = await page.evaluate(() => window.entraide.map.querySourceFeatures('entraide', { sourceLayer: 'needs' }).length);
  const drawn = await rendered(page, ['needs', 'needs-cluster', 'makers']);
  check('no need of the member\'s tiles is left drawn or kept after logging out', left === 0 && drawn.length === 0, { left, drawn: drawn.length });
  check('no script error', page.errors.length === 0, page.errors);
  await cdp.detach();
  await author.req('POST', `/api/posts/${id}/cancel`);
}
list.push({ name: 'revalidate', title: '23. after a change the map asks for the same tiles: unchanged ones answered 304, the changed one drawn; a logout leaves no member tile', run: revalidate });

/* ---- 24–26. thematic groups and comments ---- */

const GROUP_NAME = 'Compost partagé du square';
const NOT_FOUND_FR = 'Ce groupe n’existe pas, ou il n’est pas visible depuis votre quartier.';

/** Five more members, of quartier A and of B next to it (made once, through the API, at addresses of the sample). */
async function groupNeighbours(ctx) {
  if (ctx.data.groupNeighbours) return ctx.data.groupNeighbours;
  const { addr } = ctx.data;
  const out = [];
  for (const [i, a] of [addr.v, addr.m, addr.n, addr.h, addr.b1].entries()) {
    const c = new ctx.Client(ctx.base);
    await c.register(`groupe${i + 1}@e2e.test`, a, `Voisin ${i + 1}`);
    await c.login(`groupe${i + 1}@e2e.test`);
    out.push(c);
  }
  return (ctx.data.groupNeighbours = out);
}

/** The group of scenario 24 (made through the API, by Madeleine, when that scenario did not run). */
async function theGroup(ctx) {
  if (ctx.data.groupId) return ctx.data.groupId;
  const a = await member(ctx, 'a1@e2e.test');
  const g = await a.req('POST', '/api/groups', { name: GROUP_NAME, description: 'Un bac à compost au square.', category: 'environment' });
  return (ctx.data.groupId = g.id);
}

/** Waits for a group's page in the Groups tab, and returns what it says. */
async function groupPage(page, id) {
  await page.waitForSelector(`#pane-groups article.group-page[data-group="${id}"]`, { timeout: 15000 });
  return page.evaluate(() => ({
    title: document.querySelector('#group-title').textContent,
    status: document.querySelector('#pane-groups .grp-status').textContent,
    note: document.querySelector('#pane-groups .grp-forming-note')?.textContent ?? null,
    members: [...document.querySelectorAll('#pane-groups .grp-members li')].map((li) => li.textContent),
    buttons: [...document.querySelectorAll('#pane-groups .actions button')].map((b) => b.textContent),
    removes: document.querySelectorAll('#pane-groups .grp-remove').length,
  }));
}

async function groupsGrow(ctx) {
  const { check } = ctx;
  const english = englishStrings(ctx);
  let page = await freshPage(ctx);
  await open(page, ctx);
  // A visitor is invited to log in, and nothing else.
  await tab(page, 'groups');
  await page.waitForSelector('#pane-groups .anon-intro');
  check('a visitor’s Groups tab invites them to log in, and lists nothing',
    (await page.textContent('#pane-groups')).includes('Connectez-vous') && (await page.$$('#pane-groups [data-group]')).length === 0);

  // Madeleine creates the group through the page.
  await login(page, 'a1@e2e.test');
  await tab(page, 'groups');
  await page.waitForSelector('#btn-group-create', { timeout: 15000 });
  await axeCheck(page, check, 'the Groups tab');
  await page.click('#btn-group-create');
  await page.waitForSelector('#dlg-group[open]');
  check('the create form opens with the focus on the name', await page.evaluate(() => document.activeElement.name === 'name'));
  const categories = await page.$$eval('#form-group select[name=category] option', (os) => os.map((o) => o.textContent));
  check(`its categories are in French (${categories.join(', ')})`, categories.length === 8 && categories.includes('Environnement') && categories.includes('Solidarité'), categories);
  await axeCheck(page, check, 'the create-group dialog');
  await page.fill('#form-group input[name=name]', GROUP_NAME);
  await page.selectOption('#form-group select[name=category]', 'environment');
  await page.fill('#form-group textarea[name=description]', 'Un bac à compost au square, tenu à tour de rôle.');
  await page.click('#form-group button[type=submit]');
  await page.waitForSelector('#pane-groups article.group-page', { timeout: 15000 });
  const id = Number(await page.getAttribute('#pane-groups article.group-page', 'data-group'));
  ctx.data.groupId = id;
  let g = await (await member(ctx, 'a1@e2e.test')).req('GET', `/api/groups/${id}`);
  check(`the group is created, forming, with its creator as its one member (threshold ${g.threshold})`,
    g.name === GROUP_NAME && g.status === 'forming' && g.member_count === 1 && g.joined && g.moderator && g.threshold === 10, g);
  let shown = await groupPage(page, id);
  check(`its page says "${shown.status}" and why it cannot post yet`,
    shown.title === GROUP_NAME && shown.status === 'En formation · 1/10 membres' && shown.note === 'Le groupe pourra publier à partir de 10 membres.', shown);
  check('the focus is on the group’s title', await page.evaluate(() => document.activeElement.id === 'group-title'));
  await axeCheck(page, check, 'a forming group’s page');
  const fr = await notFrench(page, english);
  check('the group’s page reads as French', fr.found.length === 0, fr.found);
  // A forming group is not offered to post in.
  await tab(page, 'post');
  await page.waitForSelector('#form-post');
  await page.waitForTimeout(1000); // the member's groups are read when the tab is shown
  check('while it is forming, the post form offers no group', await page.isHidden('#post-group'));
  check('no script error (creator)', page.errors.length === 0, page.errors);
  await logout(page);

  // Eight neighbours join through the API (quartier A and B next to it): nine members.
  const joiners = [...await groupNeighbours(ctx), await member(ctx, 'b1@e2e.test'), await member(ctx, 'maker@e2e.test'), await member(ctx, 'h@e2e.test')];
  for (const c of joiners) g = await c.req('POST', `/api/groups/${id}/members`);
  check(`after eight joins through the API the group has nine members, still forming (${g.member_count}, ${g.status})`,
    g.member_count === 9 && g.status === 'forming', g);

  // Nadia finds it in her neighbourhood's list and joins through the page: the tenth.
  await login(page, 'voisin@e2e.test');
  await tab(page, 'groups');
  const card = page.locator(`#pane-groups button[data-group="${id}"]`).first();
  await card.waitFor({ timeout: 15000 });
  const cardText = await card.textContent();
  check(`"Groupes de mon quartier" lists it: ${cardText}`, cardText.includes(GROUP_NAME) && cardText.includes('Environnement') &&
    cardText.includes('En formation · 9/10 membres') && cardText.includes(ctx.data.names.a), cardText);
  await card.click();
  shown = await groupPage(page, id);
  check('a neighbour who is not a member is offered "Rejoindre", and no "Retirer"', shown.buttons.includes('Rejoindre') && shown.removes === 0, shown);
  await page.click('#pane-groups .actions button:has-text("Rejoindre")');
  const told = await toastHas(page, 'maintenant actif').then(() => true, () => false);
  check('she is told the group is now active', told, await page.textContent('#toast'));
  await page.waitForSelector('#pane-groups .grp-status:has-text("Actif")', { timeout: 15000 });
  shown = await groupPage(page, id);
  check(`with the tenth member the page shows "${shown.status}", and no longer the forming note`,
    shown.status === 'Actif · 10 membres' && shown.note === null && shown.buttons.includes('Quitter') && shown.buttons.includes('Publier dans ce groupe'), shown);
  check(`its members are listed by display name (${shown.members.length})`, shown.members.length === 10 &&
    shown.members.some((m) => m.includes('Madeleine') && m.includes('à l’origine du groupe')) && shown.members.some((m) => m.includes('Voisin 3')), shown.members);
  g = await (await member(ctx, 'a1@e2e.test')).req('GET', `/api/groups/${id}`);
  check('the server has it active with 10 members', g.status === 'active' && g.member_count === 10, g);
  await shot(page, ctx, 'group-active', { quiet: true });

  // The post form now offers the group; a request addressed to it shows on its page.
  await page.click('#pane-groups .actions button:has-text("Publier dans ce groupe")');
  await page.waitForSelector('#post-group:not([hidden])', { timeout: 15000 });
  const offered = await page.$eval('#post-group select', (s) => ({ value: s.value, options: [...s.options].map((o) => o.textContent) }));
  check(`the post form offers the active group, chosen (${offered.options.join(', ')})`, offered.value === String(id) && offered.options.includes(GROUP_NAME), offered);
  const form = page.locator('#form-post');
  await form.locator('select[name=category]').selectOption('materials');
  await form.locator('input[name=title]').fill('Qui a une fourche-bêche pour le compost ?');
  await form.locator('button[type=submit]').click();
  const mine = page.locator('#my-posts .card', { hasText: 'fourche-bêche' });
  await mine.waitFor({ timeout: 15000 });
  const postId = Number(await mine.getAttribute('data-post'));
  ctx.data.groupPost = postId;
  const nadia = await member(ctx, 'voisin@e2e.test');
  check('the post is the group’s', (await nadia.req('GET', `/api/posts/${postId}`)).properties.group === id);
  await tab(page, 'groups');
  await page.waitForSelector(`#pane-groups .grp-posts .card[data-post="${postId}"]`, { timeout: 15000 });
  check('it shows on the group’s page', true);
  await axeCheck(page, check, 'an active group’s page');
  // The post opens in the needs panel, whose detail leads back to the group.
  await page.click(`#pane-groups .grp-posts .card[data-post="${postId}"]`);
  await page.waitForSelector(`#needs-body article.detail[data-post="${postId}"] button.group-link`, { timeout: 15000 });
  check('the group’s post opens in the needs panel, with a link to its group', await page.isVisible('#pane-needs'));
  await page.click('#needs-body button.group-link');
  await groupPage(page, id);
  // The page of this group is still in the DOM from before, hidden: what the
  // link does shows once the group is read again and its title focused.
  const focused = await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'group-title',
    null, { timeout: 15000 }).then(() => true, () => false);
  check('the link leads back to the group’s page, the focus on its title', focused,
    await page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.tagName)));

  // "Voir sur la carte": the group's posts alone, the tiles' needs hidden until the filter is cleared.
  await page.click('#pane-groups .actions button:has-text("Voir sur la carte")');
  await page.waitForSelector('#map-group:not([hidden])', { timeout: 10000 });
  await idle(page);
  const onMap = await page.evaluate(() => {
    const m = window.entraide.map;
    return { needs: m.getLayoutProperty('needs', 'visibility'), clusters: m.getLayoutProperty('needs-cluster', 'visibility'),
      group: m.queryRenderedFeatures({ layers: ['group-needs'] }).map((f) => f.properties.id),
      tiles: m.queryRenderedFeatures({ layers: ['needs', 'needs-cluster'] }).length };
  });
  check(`the map shows the group's post alone (${onMap.group}), the needs of the tiles hidden`,
    onMap.needs === 'none' && onMap.clusters === 'none' && onMap.tiles === 0 && onMap.group.length === 1 && onMap.group[0] === postId, onMap);
  check('a banner over the map names the group', (await page.textContent('#map-group')).includes(GROUP_NAME));
  await shot(page, ctx, 'group-map', { quiet: true });
  await page.click('#map-group button');
  await idle(page);
  const cleared = await page.evaluate(() => {
    const m = window.entraide.map;
    return { needs: m.getLayoutProperty('needs', 'visibility'), layer: !!m.getLayer('group-needs'), banner: document.getElementById('map-group').hidden };
  });
  check('its button shows every need again', cleared.needs === 'visible' && !cleared.layer && cleared.banner, cleared);
  check('no script error (tenth member)', page.errors.length === 0, page.errors);
  await logout(page);

  // Madeleine, its creator, moderates: "Retirer" beside the others and the post; she takes the post out of the group.
  await login(page, 'a1@e2e.test');
  await tab(page, 'groups');
  await page.locator(`#pane-groups section:has(#groups-mine-title) button[data-group="${id}"]`).click({ timeout: 15000 });
  await page.waitForSelector(`#pane-groups .grp-posts .card[data-post="${postId}"]`, { timeout: 15000 });
  shown = await groupPage(page, id);
  check(`its creator sees "Retirer" beside each other member and each post (${shown.removes})`, shown.removes === 9 + 1, shown);
  const asked = [];
  page.once('dialog', (d) => { asked.push(d.message()); d.accept(); });
  await page.click(`#pane-groups button[data-remove-post="${postId}"]`);
  await page.waitForSelector(`#pane-groups .grp-posts .card[data-post="${postId}"]`, { state: 'detached', timeout: 15000 });
  const after = (await nadia.req('GET', `/api/posts/${postId}`)).properties;
  check('after confirming, the post leaves the group and stays published', asked.length === 1 && after.group === null && after.status === 'open', { asked, after });
  // … and takes a member out: the group stays active.
  const leaving = page.locator('#pane-groups .grp-members li', { hasText: 'Voisin 5' });
  page.once('dialog', (d) => { asked.push(d.message()); d.accept(); });
  await leaving.locator('button.grp-remove').click();
  await page.waitForSelector('#pane-groups .grp-count:text-is("9")', { timeout: 15000 });
  const members = await page.$$eval('#pane-groups .grp-members li', (els) => els.map((e) => e.textContent));
  g = await (await member(ctx, 'a1@e2e.test')).req('GET', `/api/groups/${id}`);
  check(`she takes "Voisin 5" out of the group: 9 members listed, the group still active (${g.status})`,
    asked.length === 2 && asked[1].includes('Voisin 5') && members.length === 9 && !members.some((m) => m.includes('Voisin 5')) && g.status === 'active' && g.member_count === 9,
    { asked, members, g });
  const back = await ctx.data.groupNeighbours[4].req('POST', `/api/groups/${id}/members`).then(() => 200, (e) => Number(/: (\d{3}) /.exec(e.message)[1]));
  check(`a member taken out cannot join again (${back})`, back === 403, back);
  check('no script error (creator, moderating)', page.errors.length === 0, page.errors);
  await logout(page);

  // Bernard leaves it, from its link.
  await login(page, 'b1@e2e.test');
  await page.evaluate((gid) => { location.hash = '#group=' + gid; }, id);
  await groupPage(page, id);
  page.once('dialog', (d) => d.accept());
  await page.click('#pane-groups .actions button[data-act=leave]');
  await page.waitForSelector('#pane-groups .actions button[data-act=join]', { timeout: 15000 });
  shown = await groupPage(page, id);
  check(`a member leaves through "Quitter": the page offers "Rejoindre" again (${shown.status})`,
    shown.status === 'Actif · 8 membres' && !shown.members.some((m) => m.includes('Bernard')), shown);
  check('no script error (leaving)', page.errors.length === 0, page.errors);
}
list.push({ name: 'groups', title: '24. ten neighbours make a group active: created and joined through the page, its post on its page and alone on the map', run: groupsGrow });

async function groupsDistant(ctx) {
  const { check, data } = ctx;
  const id = await theGroup(ctx);
  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'c1@e2e.test');
  await tab(page, 'groups');
  await page.waitForSelector('#groups-near-title', { timeout: 15000 });
  await page.waitForSelector('#groups-mine-title');
  check(`a member of a distant quartier (${data.names.c}) does not find the group in her lists`,
    (await page.$$(`#pane-groups [data-group="${id}"]`)).length === 0 && !(await page.textContent('#pane-groups')).includes(GROUP_NAME));
  await page.evaluate((gid) => { location.hash = '#group=' + gid; }, id);
  await page.waitForSelector('#pane-groups .grp-missing', { timeout: 15000 });
  const said = await page.textContent('#pane-groups .grp-missing');
  check(`its link (#group=${id}) gives the not-found message: "${said}"`, said === NOT_FOUND_FR && !(await page.textContent('#pane-groups')).includes(GROUP_NAME), said);
  check('and no button to join', (await page.$$('#pane-groups .actions button')).length === 0);
  const c = await member(ctx, 'c1@e2e.test');
  const get = await c.req('GET', `/api/groups/${id}`).then(() => 200, (e) => Number(/: (\d{3}) /.exec(e.message)[1]));
  const join = await c.req('POST', `/api/groups/${id}/members`).then(() => 200, (e) => Number(/: (\d{3}) /.exec(e.message)[1]));
  check(`the API answers her 404 for the group (${get}) and refuses her joining (${join})`, get === 404 && (join === 403 || join === 404), { get, join });
  await axeCheck(page, check, 'a group not found');
  check('no script error', page.errors.length === 0, page.errors);
}
list.push({ name: 'groups-distant', title: '25. a member of a distant quartier neither lists nor opens the group', run: groupsDistant });

async function comments(ctx) {
  const { check } = ctx;
  const b = await member(ctx, 'b1@e2e.test');
  const id = (await b.req('POST', '/api/posts', { kind: 'request', category: 'other', title: 'Qui aurait une échelle à prêter samedi ?',
    body: 'Pour changer une ampoule au plafond.' })).properties.id;
  const text = 'J’ai un escabeau de cinq marches, je peux le déposer samedi matin.';
  let page = await freshPage(ctx);
  await open(page, ctx);
  // Madeleine comments through the page.
  await login(page, 'a1@e2e.test');
  await openPostLink(page, id);
  await page.waitForSelector('#needs-body .comments .comment-form textarea', { timeout: 15000 });
  await page.waitForSelector('#needs-body .comments .empty:not([hidden])');
  check('a post without comments says so, with a field to comment and a count of 0',
    (await page.textContent('#needs-body .comments .empty')) === 'Pas encore de commentaire.' &&
    (await page.textContent('#needs-body dd.comments-count')) === '0');
  await page.fill('#needs-body .comment-form textarea', text.replace('cinq', 'six'));
  await page.click('#needs-body .comment-form button[type=submit]');
  await page.waitForSelector('#needs-body .comment.mine', { timeout: 15000 });
  const own = await page.textContent('#needs-body .comment.mine');
  check('her comment shows as hers at once, the field emptied, the count at 1',
    own.includes('Vous') && own.includes('six marches') && (await page.inputValue('#needs-body .comment-form textarea')) === '' &&
    (await page.textContent('#needs-body dd.comments-count')) === '1', own);
  // She corrects it.
  await page.click('#needs-body .comment.mine button[data-act=edit]');
  await page.fill('#needs-body .comment.mine .comment-edit textarea', text);
  await page.click('#needs-body .comment.mine .comment-edit button[type=submit]');
  await page.waitForSelector('#needs-body .comment.mine:has-text("cinq marches")', { timeout: 15000 });
  check('she edits it: the new text, marked "modifié"', (await page.textContent('#needs-body .comment.mine')).includes('modifié'));
  await axeCheck(page, check, 'a post’s comments');
  // A second one, written by mistake, deleted.
  await page.fill('#needs-body .comment-form textarea', 'Message en double, à supprimer.');
  await page.click('#needs-body .comment-form button[type=submit]');
  await page.waitForSelector('#needs-body .comment.mine:has-text("en double")', { timeout: 15000 });
  check('a second comment makes the count 2', (await page.textContent('#needs-body dd.comments-count')) === '2');
  page.once('dialog', (d) => d.accept());
  await page.click('#needs-body .comment.mine:has-text("en double") button[data-act=delete]');
  await page.waitForSelector('#needs-body .comment.mine:has-text("en double")', { state: 'detached', timeout: 15000 });
  const left = await b.req('GET', `/api/posts/${id}/comments`);
  check('she deletes it: gone from the page and from the server, the count back to 1',
    (await page.textContent('#needs-body dd.comments-count')) === '1' && left.comments.length === 1 && left.comments[0].body === text, left);
  check('no script error (commenter)', page.errors.length === 0, page.errors);
  await logout(page);

  // Bernard, the post's author, opens it: Madeleine's comment, with her name, and the count.
  page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'b1@e2e.test');
  await tab(page, 'post');
  const mineCard = page.locator(`#my-posts .card[data-post="${id}"]`);
  await mineCard.waitFor({ timeout: 15000 });
  check(`My posts counts the comment (${(await mineCard.textContent()).trim()})`, (await mineCard.textContent()).includes('1 commentaire'));
  await mineCard.click();
  await page.waitForSelector(`#needs-body article.detail[data-post="${id}"] .comment`, { timeout: 15000 });
  const theirs = await page.$$eval('#needs-body .comment', (els) => els.map((e) => ({ text: e.textContent, mine: e.classList.contains('mine'),
    acts: [...e.querySelectorAll('button[data-act], summary')].map((b) => b.textContent) })));
  check('another member sees the comment with its author’s display name',
    theirs.length === 1 && !theirs[0].mine && theirs[0].text.includes('Madeleine') && theirs[0].text.includes('cinq marches'), theirs);
  check('he may report it, not edit or delete it', JSON.stringify(theirs[0].acts) === JSON.stringify(['Signaler']), theirs[0].acts);
  check('the detail shows the count beside the views', (await page.textContent('#needs-body dd.comments-count')) === '1' && await page.isVisible('#needs-body dd.views'));
  await page.click('#needs-body .comment summary');
  await page.fill('#needs-body .comment .report textarea', 'test du signalement');
  await page.click('#needs-body .comment .report button[type=submit]');
  await toastHas(page, 'modération');
  check('he reports it', true);
  await shot(page, ctx, 'comments', { quiet: true });
  check('no script error (author)', page.errors.length === 0, page.errors);
  await logout(page);

  // Staff hide it: the author of the post no longer reads it, the count falls to 0.
  await login(page, 'moderation@e2e.test');
  await openPostLink(page, id);
  await page.waitForSelector('#needs-body .comment button[data-act=hide]', { timeout: 15000 });
  await page.click('#needs-body .comment button[data-act=hide]');
  await page.waitForSelector('#needs-body .comment.is-hidden button[data-act=restore]', { timeout: 15000 });
  const seen = await b.req('GET', `/api/posts/${id}/comments`);
  const count = (await b.req('GET', `/api/posts/${id}`)).properties.comments;
  check(`staff hide it: the post's author no longer gets it (${seen.comments.length}), its count is 0 (${count})`, seen.comments.length === 0 && count === 0, { seen, count });
  check('no script error (staff)', page.errors.length === 0, page.errors);
}
list.push({ name: 'comments', title: '26. a comment written by one member is read by another, with its author and the count; staff hide it', run: comments });

/* ---- 27. the live stream: the map and the lists follow what others do ---- */

/** What the live stream delivers to a page, as Chromium's DevTools protocol sees it: [{type, id, data}]. */
async function streamLog(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const log = [];
  cdp.on('Network.eventSourceMessageReceived', (e) => {
    let data = null;
    try { data = JSON.parse(e.data); } catch { /* kept as null */ }
    log.push({ type: e.eventName, id: e.eventId, data });
  });
  return log;
}

/**
 * A forward HTTP proxy on 127.0.0.1 to the server alone, for a browser
 * launched with it: it counts the live streams passing through it, cuts
 * them (cut(): their connections closed, as a network drop would) and,
 * while `refusing`, answers new ones 503 as a server that is stopping does.
 */
async function streamProxy(base) {
  const http = await import('node:http');
  const target = new URL(base);
  const streams = new Set();
  const p = { asked: [], refused: 0, refusing: false, open: () => streams.size };
  p.server = http.createServer((req, res) => {
    let u;
    try { u = new URL(req.url); } catch { res.writeHead(400).end(); return; }
    if (u.host !== target.host) { res.writeHead(502).end(); return; } // the server alone
    if (u.pathname === '/api/events') {
      p.asked.push(u.pathname + u.search);
      if (p.refusing) {
        p.refused++;
        res.writeHead(503, { 'Content-Type': 'application/problem+json' }).end('{"title":"Service Unavailable","status":503}');
        return;
      }
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: u.pathname + u.search, headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
    if (u.pathname === '/api/events') {
      const s = { res, up };
      streams.add(s);
      res.on('close', () => { streams.delete(s); up.destroy(); });
    }
  });
  await new Promise((resolve) => p.server.listen(0, '127.0.0.1', resolve));
  p.url = `http://127.0.0.1:${p.server.address().port}`;
  p.cut = () => { for (const s of streams) { s.res.destroy(); s.up.destroy(); } };
  p.close = () => new Promise((resolve) => { p.cut(); p.server.closeAllConnections(); p.server.close(resolve); });
  return p;
}

/** Waits until the page's live stream is open (live.js: window.entraide.live). */
const liveOpen = (page, timeout = 15000) => page.waitForFunction(() => window.entraide && window.entraide.live === 'open', null, { timeout });

/** Polls fn() until it is truthy, up to ms: {ok, value, ms}. */
async function within(ms, fn) {
  const t0 = Date.now();
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() - t0 >= ms) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ok: !!v, value: v, ms: Date.now() - t0 };
}

/**
 * Madeleine (quartier A) has the needs list and the map open in a browser
 * of her own, whose connections pass through a proxy the test can cut;
 * Capucine (a distant quartier) has hers open in the shared browser.
 * Bernard (quartier B, next to A) publishes through the API: the post
 * shows in Madeleine's list and on her map without a reload; Capucine's
 * list stays as it was, and her stream carries nothing of it. Bernard
 * comments the post Madeleine has open: his comment and the count show.
 * Madeleine's stream is cut, then refused for a while: the panel says so;
 * a post made meanwhile shows once the stream is back. She finds the
 * comment by searching the comments, and reports it. Capucine logs out:
 * her page, now anonymous, follows a shop's new status set by staff, and
 * gets nothing of posts. Staff find the comment in "Commentaires signalés"
 * and hide it: it leaves Madeleine's open post.
 */
async function live(ctx) {
  const { check, data } = ctx;
  const a = await member(ctx, 'a1@e2e.test');
  const b = await member(ctx, 'b1@e2e.test');
  const staff = await member(ctx, 'moderation@e2e.test');
  const proxy = await streamProxy(ctx.base);
  const other = await ctx.launch({ proxy: { server: proxy.url } });
  try {
    const page = other.pages()[0] || await other.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    const streamA = await streamLog(other, page);
    await open(page, ctx);
    await login(page, 'a1@e2e.test');
    await liveOpen(page);
    check(`Madeleine's page keeps one live stream open (${proxy.asked.length} opened: as a visitor, then hers), and shows nothing about it`,
      proxy.open() === 1 && proxy.asked.length === 2 && (await page.textContent('#live-state')) === '', proxy.asked);

    const pc = await freshPage(ctx);
    const streamC = await streamLog(ctx.browser, pc);
    await open(pc, ctx);
    await login(pc, 'c1@e2e.test');
    await liveOpen(pc);
    const cBefore = await listTitles(pc);

    // Madeleine's map on Bernard's public point: the list is measured from there.
    const homeB = (await b.req('GET', '/api/me')).home_area;
    await jump(page, homeB, 16);
    await page.waitForFunction(() => document.querySelector('#needs-body h2[data-origin="centre"]'), null, { timeout: 10000 });
    await idle(page);
    const before = (await needsAt(page, homeB)).count;
    await page.evaluate(() => { window.notReloaded = true; });
    const tiles = [];
    page.on('request', (r) => { if (/\/tiles\/\d+\/\d+\/\d+\.mvt/.test(r.url())) tiles.push(r.url()); });

    const title = 'Perceuse à prêter ce week-end, avec ses mèches';
    const made = await b.req('POST', '/api/posts', { kind: 'offer', category: 'materials', title, body: 'À venir chercher chez moi.' });
    const id = made.properties.id;
    const seen = await within(5000, () => listTitles(page).then((ts) => ts.includes(title)));
    check(`Bernard's new post shows in Madeleine's list without a reload (${seen.ms} ms)`,
      seen.ok && await page.evaluate(() => window.notReloaded === true), await listTitles(page));
    const drawn = await within(10000, async () => { await idle(page); return (await needsAt(page, made.geometry.coordinates)).count === before + 1; });
    check(`it shows on her map too: ${before} needs at its point, then ${before + 1} (${drawn.ms} ms, ${tiles.length} tiles asked again)`,
      drawn.ok && tiles.length > 0, { before, after: (await needsAt(page, made.geometry.coordinates)).count, point: made.geometry.coordinates, homeB });
    check('her stream carried it as a post event, "created"',
      streamA.some((e) => e.type === 'post' && e.data && e.data.action === 'created' && e.data.post.id === id), streamA.slice(-5));

    // Bernard comments the post Madeleine has open.
    await openPostLink(page, data.posts.a);
    await page.waitForSelector('#needs-body .comments .comment-form textarea', { timeout: 15000 });
    await page.waitForSelector('#needs-body .comments .empty:not([hidden]), #needs-body .comments .comment', { timeout: 10000 });
    const countBefore = Number(await page.textContent('#needs-body dd.comments-count'));
    const comment = await b.req('POST', `/api/posts/${data.posts.a}/comments`, { body: 'Je peux passer samedi avec mon caddie, vers dix heures.' });
    const commented = await within(5000, () => page.$(`#needs-body .comment[data-comment="${comment.id}"]`));
    const countAfter = Number(await page.textContent('#needs-body dd.comments-count'));
    check(`his comment shows under her open post (${commented.ms} ms), with his name, the count from ${countBefore} to ${countAfter}`,
      commented.ok && (await page.textContent(`#needs-body .comment[data-comment="${comment.id}"]`)).includes('Bernard') &&
      countAfter === countBefore + 1, { countBefore, countAfter });

    // The distant member: nothing of either.
    await pc.waitForTimeout(1500);
    const cAfter = await listTitles(pc);
    check(`Capucine's list, in a distant quartier, stays as it was (${cAfter.length} posts)`,
      JSON.stringify(cAfter) === JSON.stringify(cBefore) && !cAfter.includes(title), { cBefore, cAfter });
    check(`her stream carried neither the post nor the comment (${streamC.length} events)`,
      !streamC.some((e) => (e.type === 'post' && e.data && e.data.post.id === id) || (e.type === 'comment' && e.data && e.data.post_id === data.posts.a)),
      streamC);

    // Madeleine's stream is cut, then refused for a while: the panel says so;
    // what happens meanwhile arrives once it is back.
    await page.click('#needs-body button.back');
    await page.waitForSelector('#needs-body h2[data-origin]', { timeout: 10000 });
    await jump(page, homeB, 16); // the post opened took the map away
    await within(5000, () => listTitles(page).then((ts) => ts.includes(title)));
    proxy.refusing = true;
    proxy.cut();
    const cut = await within(10000, () => page.evaluate(() => window.entraide.live === 'retrying'));
    const notice = await page.textContent('#live-state');
    check(`cut, the panel says live updates are interrupted, in a status region: "${notice}"`, cut.ok &&
      notice === 'Mises à jour en direct interrompues, nouvelle tentative…' && await page.getAttribute('#live-state', 'role') === 'status', notice);
    const title2 = 'Escabeau à prêter, trois marches';
    await b.req('POST', '/api/posts', { kind: 'offer', category: 'materials', title: title2 });
    const refused = await within(10000, () => proxy.refused > 0);
    proxy.refusing = false;
    const back = await within(20000, () => page.evaluate(() => window.entraide.live === 'open'));
    const missed = await within(5000, () => listTitles(page).then((ts) => ts.includes(title2)));
    const resumed = proxy.asked[proxy.asked.length - 1];
    check(`refused (503), the stream is opened again from its last id (${resumed}, after ${back.ms} ms); the notice is gone; the post made meanwhile shows (${missed.ms} ms)`,
      refused.ok && back.ok && missed.ok && /last_event_id=\d+/.test(resumed) && (await page.textContent('#live-state')) === '',
      { asked: proxy.asked, titles: await listTitles(page) });

    // She searches the comments too, and opens the post from the comment found.
    await page.check('#filters input[name=in_comments]');
    await page.fill('#filters input[name=q]', 'caddie');
    await page.waitForFunction(() => document.querySelector('#needs-body').dataset.comments === 'caddie', null, { timeout: 10000 });
    const hits = await page.$$eval('#needs-body .comment-hits .comment-hit', (els) => els.map((e) => ({ post: Number(e.dataset.post), text: e.textContent })));
    check(`searching "caddie" in the comments too finds his, under the post's title (${hits.length} found)`,
      hits.some((x) => x.post === data.posts.a && x.text.includes('caddie') && x.text.includes('Bernard') && x.text.includes('Courses pour la semaine')), hits);
    await axeCheck(page, check, 'the comments found by a search');
    await page.click(`#needs-body .comment-hits .comment-hit[data-post="${data.posts.a}"]`);
    await page.waitForSelector(`#needs-body article.detail[data-post="${data.posts.a}"] .comment[data-comment="${comment.id}"]`, { timeout: 15000 });
    check('the comment found opens its post', true);
    await a.req('POST', `/api/comments/${comment.id}/report`, { reason: 'rendez-vous donné en public' });

    // Capucine logs out: the stream opens again, anonymous; a shop's new status reaches it.
    await logout(pc);
    await liveOpen(pc);
    const fromAnon = streamC.length;
    await jump(pc, data.shopAt, 17);
    await tab(pc, 'shops');
    const card = `#pane-shops button[data-shop="${data.shop.id}"]`;
    await pc.waitForSelector(card, { timeout: 15000 });
    const was = (await staff.req('GET', `/api/shops/${data.shop.id}`)).properties.status;
    const status = was === 'closed' ? 'open' : 'closed';
    const said = status === 'closed' ? 'Fermé' : 'Ouvert';
    await staff.req('PATCH', `/api/shops/${data.shop.id}`, { status });
    await b.req('POST', '/api/posts', { kind: 'request', category: 'errands', title: 'Un colis à récupérer à la poste' });
    const listed = await within(5000, () => pc.textContent(card).then((s) => s.includes(said)));
    check(`a visitor's list of shops follows a status set by staff: "${(await pc.textContent(card)).trim()}" (${listed.ms} ms)`, listed.ok);
    const onMap = await within(10000, async () => { await idle(pc); return (await rendered(pc, ['shops'])).some((f) => f.id === data.shop.id && f.props.status === status); });
    check(`and the visitor's map draws the shop ${status} (${onMap.ms} ms)`, onMap.ok);
    await pc.waitForTimeout(1000);
    const anon = streamC.slice(fromAnon);
    check(`the visitor's stream carried shop events only (${anon.map((e) => e.type).join(', ')})`,
      anon.some((e) => e.type === 'shop' && e.data.shop.id === data.shop.id) && anon.every((e) => e.type === 'shop'), anon);
    check('no script error (Capucine, then a visitor)', pc.errors.length === 0, pc.errors);

    // Staff hide the reported comment from their queue: it leaves Madeleine's open post.
    await login(pc, 'moderation@e2e.test');
    await tab(pc, 'moderation');
    const item = `#mod-comments li[data-comment="${comment.id}"]`;
    await pc.waitForSelector(item, { timeout: 15000 });
    const queued = await pc.textContent(item);
    check(`"Commentaires signalés" lists it, with its post and its report: ${queued.replace(/\s+/g, ' ').slice(0, 160)}`,
      queued.includes('caddie') && queued.includes('Courses pour la semaine') && queued.includes('1 signalement') &&
      (await pc.textContent('#mod-comments h2')) === 'Commentaires signalés');
    await axeCheck(pc, check, 'the queue of reported comments');
    await pc.click(`${item} button[data-act=hide]`);
    await pc.waitForSelector(`${item} button[data-act=restore]`, { timeout: 15000 });
    check('staff hide it there: the item says so and offers "Rétablir"', (await pc.textContent(item)).includes('Masqué'));
    const gone = await within(5000, async () => !(await page.$(`#needs-body .comment[data-comment="${comment.id}"]`)));
    const forMembers = await a.req('GET', `/api/posts/${data.posts.a}/comments`);
    check(`it leaves Madeleine's open post (${gone.ms} ms), the count back to ${await page.textContent('#needs-body dd.comments-count')}, and members no longer get it`,
      gone.ok && Number(await page.textContent('#needs-body dd.comments-count')) === countBefore &&
      !forMembers.comments.some((c) => c.id === comment.id), forMembers);
    await shot(pc, ctx, 'comments-reported', { quiet: true });
    await pc.click(`${item} a[data-act=post]`);
    await pc.waitForSelector(`#needs-body article.detail[data-post="${data.posts.a}"] .comment.is-hidden[data-comment="${comment.id}"]`, { timeout: 15000 });
    check('its link opens the post, where staff see the comment marked hidden', await pc.isVisible('#pane-needs'));
    check('no script error (staff)', pc.errors.length === 0, pc.errors);
    check('no script error (Madeleine)', page.errors.length === 0, page.errors);
  } finally {
    await other.close().catch(() => {});
    await proxy.close();
  }
}
list.push({ name: 'live', title: '27. live: a neighbour’s post and comment reach an open page, also after a cut; a distant member and a visitor get what is theirs; comment search; staff hide a reported comment', run: live });

/* ---- 28. email alerts ---- */
async function alerts(ctx) {
  const { check, data } = ctx;
  const page = await freshPage(ctx);
  await open(page, ctx);
  await login(page, 'a1@e2e.test');
  const api = await member(ctx, 'a1@e2e.test');
  for (const s of (await api.req('GET', '/api/subscriptions')).subscriptions) await api.req('DELETE', `/api/subscriptions/${s.id}`);
  await tab(page, 'alerts');
  await page.waitForSelector('#form-alert');
  await page.waitForFunction(() => document.getElementById('al-mail').textContent !== '', null, { timeout: 10000 });
  const mailNote = await page.textContent('#al-mail');
  check(`the tab says plainly that this server sends no mail (run without --smtp-url): "${mailNote}"`,
    mailNote.includes('n’est pas configuré') && !(await api.req('GET', '/api/subscriptions')).mail.configured);
  check('"Mes alertes" is empty at first', (await page.textContent('#al-list')).includes('pas encore d’alerte'));
  await axeCheck(page, check, 'the Alerts tab');

  // A radius alert: requests of groceries within 500 m, a digest with quiet hours.
  await page.uncheck('#form-alert input[name=kinds][value=offer]');
  await page.check('#form-alert input[name=categories][value=groceries]');
  await page.selectOption('#form-alert select[name=radius_m]', '500');
  await page.check('#form-alert input[name=mode][value=digest]');
  await page.check('#form-alert input[name=quiet]');
  await page.fill('#form-alert input[name=quiet_start]', '21:30');
  await page.click('#form-alert button[type=submit]');
  await page.waitForSelector('#al-list li.al-sub', { timeout: 10000 });
  const radiusCard = await page.textContent('#al-list li.al-sub');
  let subs = (await api.req('GET', '/api/subscriptions')).subscriptions;
  check(`a radius alert made through the form is listed: "${radiusCard.replace(/\s+/g, ' ')}"`,
    radiusCard.includes('Demandes') && radiusCard.includes('Courses') && radiusCard.includes('À moins de 500 m de chez moi') &&
    radiusCard.includes('Un résumé par jour') && radiusCard.includes('21:30') && radiusCard.includes('07:00') &&
    subs.length === 1 && subs[0].radius_m === 500 && subs[0].mode === 'digest' && JSON.stringify(subs[0].kinds) === '["request"]' &&
    JSON.stringify(subs[0].categories) === '["groceries"]' && subs[0].quiet_hours.start === '21:30', subs);

  // An area drawn far from the member's quartier: refused, the server's reason next to the form.
  const drawAround = async (center, d) => {
    await jump(page, center, 15);
    await page.click('#al-draw-start');
    for (const [dx, dy] of d) await clickMapAt(page, [center[0] + dx, center[1] + dy]);
  };
  const TRIANGLE = [[-0.002, -0.001], [0.002, -0.001], [0, 0.0015]];
  await page.check('#form-alert input[name=where][value=polygon]');
  check('"Une zone que je dessine" shows the drawing tools', await page.isVisible('#al-draw-start'));
  await drawAround(data.labelC, TRIANGLE);
  check(`the points clicked on the map are counted (${await page.textContent('#al-draw-state')}), the banner over the map too`,
    (await page.textContent('#al-draw-state')).startsWith('3 points placés') && (await page.textContent('#map-draw')).includes('3 points'));
  await page.click('#al-draw-finish');
  await page.click('#form-alert button[type=submit]');
  await page.waitForSelector('#al-form-error:not([hidden])', { timeout: 10000 });
  const refused = await page.textContent('#al-form-error');
  check(`an area outside the member's quartiers is refused with the server's reason: "${refused}"`,
    refused === 'La zone doit rester dans votre quartier et les quartiers voisins.' &&
    (await api.req('GET', '/api/subscriptions')).subscriptions.length === 1);

  // An area drawn in the member's quartier: 4 points, the last taken back, then finished.
  await page.click('#al-draw-clear');
  await drawAround(data.labelA, [...TRIANGLE, [0.003, 0.002]]);
  const four = await page.textContent('#al-draw-state');
  await page.click('#map-draw button:has-text("Retirer le dernier point")');
  const three = await page.textContent('#al-draw-state');
  await page.click('#al-draw-finish');
  await idle(page);
  const drawn = await rendered(page, ['alert-draw-fill', 'alert-draw-points']);
  check(`the area is drawn as it is made (${four} → ${three}), its inside once finished`,
    four.startsWith('4 points') && three.startsWith('3 points') &&
    drawn.filter((f) => f.layer === 'alert-draw-fill').length >= 1 && drawn.filter((f) => f.layer === 'alert-draw-points').length === 3, drawn.length);
  const needsHidden = await page.evaluate(() => window.entraide.map.getLayoutProperty('needs', 'visibility'));
  check('the needs layer, hidden while drawing, is back once the area is finished', needsHidden !== 'none', needsHidden);
  await page.click('#form-alert button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#al-list li.al-sub').length === 2, null, { timeout: 10000 });
  subs = (await api.req('GET', '/api/subscriptions')).subscriptions;
  const area = subs.find((s) => s.polygon);
  const ring = area && area.polygon.coordinates[0];
  const near = (p, q) => Math.abs(p[0] - q[0]) < 2e-4 && Math.abs(p[1] - q[1]) < 2e-4;
  check(`the drawn area is listed ("Dans une zone dessinée") and kept as the 3 corners clicked, closed`,
    (await page.textContent('#al-list')).includes('Dans une zone dessinée') && ring && ring.length === 4 &&
    TRIANGLE.every(([dx, dy], i) => near(ring[i], [data.labelA[0] + dx, data.labelA[1] + dy])) && near(ring[0], ring[3]), ring);
  check('the form is ready for another alert: quiet hours back to 22:00–07:00, the area cleared',
    (await page.inputValue('#form-alert input[name=quiet_start]')) === '22:00' && (await page.inputValue('#form-alert input[name=quiet_end]')) === '07:00' &&
    (await rendered(page, ['alert-draw-fill', 'alert-draw-points'])).length === 0);
  await shot(page, ctx, 'alerts', { quiet: true });

  // Delete the radius alert.
  const radiusId = subs.find((s) => s.radius_m).id;
  await page.click(`#al-list li[data-sub="${radiusId}"] button[data-act=delete]`);
  await page.waitForFunction(() => document.querySelectorAll('#al-list li.al-sub').length === 1, null, { timeout: 10000 });
  subs = (await api.req('GET', '/api/subscriptions')).subscriptions;
  check('"Supprimer" deletes that alert, and only it', subs.length === 1 && subs[0].polygon && !(await page.$(`#al-list li[data-sub="${radiusId}"]`)), subs);

  // The test alert: without a relay the server refuses it and says why; nothing is logged.
  await page.click('#al-test');
  await page.waitForSelector('#al-test-error:not([hidden])', { timeout: 10000 });
  const testErr = await page.textContent('#al-test-error');
  const log = await api.req('GET', '/api/deliveries');
  check(`"M’envoyer une alerte de test" says why no mail can leave: "${testErr}"; the history says nothing was sent`,
    testErr.includes('L’envoi de courriels n’est pas configuré') && log.deliveries.length === 0 &&
    (await page.textContent('#al-log')).includes('Aucun envoi'), log);
  await axeCheck(page, check, 'the Alerts tab with alerts listed and a refusal shown');
  check('no script error', page.errors.length === 0, page.errors);
  check('nothing was fetched from another origin', page.offsite.length === 0, page.offsite.slice(0, 5));
}
list.push({ name: 'alerts', title: '28. email alerts: a radius alert and a drawn area made through the page (an area far away refused with the reason), one deleted, the test alert without a mail relay', run: alerts });
