#!/usr/bin/env node
/*
 * tests/bench/phone.mjs MAPD SOURCE_DIR [--web BUILT_DIR] [--runs N] [--only before|after]
 *
 * The web map on an old phone at 50 KB/s, before and after the build step,
 * measured in the same run (`make bench-web`). A benchmark: it prints its
 * figures and which targets are met, and exits non-zero only when the run
 * itself fails.
 *
 * It builds a fresh demo-like database with mapd (the bundled sample, as
 * tests/e2e/run.mjs does, with `mapd seed --posts 300 --seed 7`), then for
 * each site, in turn — (a) "before", mapd serving the sources, SOURCE_DIR/web;
 * (b) "after", mapd serving BUILT_DIR (default SOURCE_DIR/build/web, as
 * web/build.mjs writes it) — drives Debian's Chromium (playwright-core from
 * tests/e2e/node_modules, launched as run.mjs does) through:
 *   - a phone: viewport 390×844 (device scale 1, so that software WebGL does
 *     not weigh more than the network), French, the network throttled by
 *     CDP Network.emulateNetworkConditions (2000 ms latency, 50 KB/s down
 *     and up, KB = 1024 bytes), first with an empty cache (a fresh profile),
 *     then warm (the same profile, the page reloaded);
 *   - a desktop: 1280×800, not throttled, a fresh profile, cold.
 * Figures, from navigation start: page usable (window.entraide.usableMs,
 * which main.js sets once the panels are wired and the first list shown;
 * for a page without it, the moment the needs list has content, polled
 * every 50 ms: the table says which), map with data
 * (window.entraide.firstRender.ms), bytes on the wire (response headers
 * and bodies as sent, compressed or not, for the page and its workers: see
 * networkMeter for why the bodies come from mapd's access log and not CDP's
 * Network.loadingFinished encodedDataLength, whose sum is printed beside) and
 * requests that reached the server (cache hits left out; 304s counted). A visit is
 * over when the map has drawn its data and no request has been in flight for
 * 3 s (at most 60 s more).
 *
 * Targets (the issue "The page on an old phone at 50 KB/s"): phone cold
 * usable <= 8 s, warm <= 3 s, map with data cold <= 20 s, bytes of a cold
 * anonymous visit <= 450 KB; desktop first render with data cold <= 1.5 s.
 *
 * Bounded: every wait has a timeout, a visit at most 150 s, the whole run is
 * stopped after 20 minutes; the servers and browsers are stopped whatever
 * happens.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def; };
const MAPD = argv[0] && path.resolve(argv[0]);
const SRC = argv[1] && path.resolve(argv[1]);
if (!MAPD || !SRC || argv[0].startsWith('--') || argv[1].startsWith('--')) {
  console.error('usage: phone.mjs MAPD SOURCE_DIR [--web BUILT_DIR] [--runs N] [--only before|after]');
  process.exit(2);
}
const BUILT = path.resolve(opt('--web', path.join(SRC, 'build', 'web')));
const RUNS = Math.max(1, Math.min(9, Number(opt('--runs', 1)) || 1));
const ONLY = opt('--only', null); // one site alone, to iterate on it
if (ONLY && ONLY !== 'before' && ONLY !== 'after') die('--only wants before or after');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SAMPLE = path.join(SRC, 'geodata', 'samples', 'paris');
const E2E_MODULES = path.join(SRC, 'tests', 'e2e', 'node_modules');
const PHONE = { latency: 2000, down: 50 * 1024, up: 50 * 1024 };
const VISIT_MS = 150000;

function die(msg) {
  console.error('phone.mjs: ' + msg);
  process.exit(1);
}
for (const [file, why] of [
  [MAPD, 'the mapd executable is missing (make build)'],
  [path.join(E2E_MODULES, 'playwright-core', 'package.json'), 'tests/e2e/node_modules is missing: run `npm ci` in tests/e2e (make deps does)'],
  [path.join(SRC, 'web', 'node_modules', 'maplibre-gl', 'package.json'), 'web/node_modules is missing: run `npm ci` in web (make deps does)'],
  [path.join(BUILT, 'index.html'), `${BUILT} holds no built web map: make build (the web target) or node web/build.mjs ${BUILT}`],
  [CHROMIUM, `Chromium is missing at ${CHROMIUM}: apt-get install chromium (make deps does)`],
]) if (!fs.existsSync(file)) die(why);
const { chromium } = await import(path.join(E2E_MODULES, 'playwright-core', 'index.mjs'));

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'entraide-phone.'));
const DB = path.join(WORK, 'bench.sqlite');
const live = { server: null, browser: null };

/* ---- cleanup, whatever happens ---- */
async function cleanup() {
  try { if (live.browser) await live.browser.close(); } catch { /* already gone */ }
  live.browser = null;
  await stopServer();
}
const watchdog = setTimeout(async () => {
  console.error('phone.mjs: stopped after 20 minutes');
  await cleanup();
  process.exit(1);
}, 20 * 60 * 1000);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, async () => { await cleanup(); process.exit(1); });

/* ---- the database and the server ---- */
function buildDb() {
  const mapd = (args) => execFileSync(MAPD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  mapd(['import', 'neighbourhoods', path.join(SAMPLE, 'neighbourhoods.geojson'), '--db', DB]);
  mapd(['import', 'addresses', path.join(SAMPLE, 'addresses.csv.gz'), '--db', DB]);
  mapd(['import', 'shops', path.join(SAMPLE, 'shops.geojson'), '--db', DB]);
  mapd(['seed', '--db', DB, '--posts', '300', '--seed', '7']);
}

function startServer(web) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(WORK, 'server.log'), 'a');
    live.server = spawn(MAPD, ['serve', '--db', DB, '--listen', '127.0.0.1:0', '--web', web], { stdio: ['ignore', 'pipe', log] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('mapd serve did not announce its address in 30 s')), 30000);
    live.server.stdout.on('data', (d) => {
      out += d;
      const m = /serving (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    live.server.on('exit', (code) => { clearTimeout(timer); reject(new Error('mapd serve exited with ' + code)); });
  });
}

async function stopServer() {
  const s = live.server;
  live.server = null;
  if (!s || s.exitCode !== null) return;
  const done = new Promise((r) => s.once('exit', r));
  s.kill('SIGTERM');
  const t = setTimeout(() => s.kill('SIGKILL'), 10000);
  await done;
  clearTimeout(t);
}

/* ---- one visit ---- */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function launch(viewport, mobile) {
  const profile = fs.mkdtempSync(path.join(WORK, 'profile-'));
  live.browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport, locale: 'fr-FR',
    deviceScaleFactor: 1, isMobile: mobile, hasTouch: mobile, timeout: 60000,
  });
  return live.browser;
}

/*
 * Counts what goes over the network for a page and its workers. Chrome's CDP
 * leaves the body of a worker's own script out of encodedDataLength (it
 * reports that script's body decoded, with 0 encoded bytes), so the bodies
 * are counted where they are sent: mapd's access log, one line per response
 * with its body bytes, over the lines the visit added (`logFrom`). CDP gives
 * the rest: response headers (each request's encodedDataLength less the
 * encoded body bytes it reported), for the page and, through
 * Target.setAutoAttach, its workers (which fetch the tiles). Chrome throttles
 * a dedicated worker's requests with its page's conditions. Returns
 * {bytes(), requests(), cdpBytes(), idleFor(), workers(), stop()}.
 */
async function networkMeter(context, page, throttle) {
  const cdp = await context.newCDPSession(page);
  const logFrom = fs.statSync(path.join(WORK, 'server.log')).size;
  let cdpBytes = 0, headerBytes = 0, lastActivity = Date.now(), workers = 0, msg = 1;
  const inflight = new Set(), bodySeen = new Map();
  const on = (prefix, method, p) => {
    const id = prefix + p.requestId;
    if (method === 'Network.requestWillBeSent') { inflight.add(id); lastActivity = Date.now(); }
    else if (method === 'Network.dataReceived') bodySeen.set(id, (bodySeen.get(id) || 0) + p.encodedDataLength);
    else if (method === 'Network.loadingFinished' || method === 'Network.loadingFailed') {
      inflight.delete(id);
      lastActivity = Date.now();
      if (method === 'Network.loadingFinished') {
        cdpBytes += p.encodedDataLength;
        headerBytes += Math.max(0, p.encodedDataLength - (bodySeen.get(id) || 0));
      }
    }
  };
  for (const m of ['requestWillBeSent', 'dataReceived', 'loadingFinished', 'loadingFailed'])
    cdp.on('Network.' + m, (p) => on('page:', 'Network.' + m, p));
  cdp.on('Target.attachedToTarget', (e) => {
    workers++;
    const send = (method, params) => cdp.send('Target.sendMessageToTarget', { sessionId: e.sessionId, message: JSON.stringify({ id: msg++, method, params }) })
      .catch(() => { /* the worker may be gone already */ });
    send('Network.enable', {});
    // A service worker's own requests (its install, config.json refreshed)
    // go through the same slow line as the page's.
    if (throttle && e.targetInfo && e.targetInfo.type === 'service_worker')
      send('Network.emulateNetworkConditions', { offline: false, latency: throttle.latency, downloadThroughput: throttle.down, uploadThroughput: throttle.up });
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    let m;
    try { m = JSON.parse(e.message); } catch { return; }
    if (m.method && m.method.startsWith('Network.')) on(e.sessionId + ':', m.method, m.params);
  });
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  if (throttle) {
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: throttle.latency, downloadThroughput: throttle.down, uploadThroughput: throttle.up });
  }
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const served = () => {
    const fd = fs.openSync(path.join(WORK, 'server.log'), 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - logFrom));
      fs.readSync(fd, buf, 0, buf.length, logFrom);
      const lines = buf.toString('utf8').split('\n').map((l) => /^\S+ [A-Z]+ \S+ \d{3} (\d+) /.exec(l)).filter(Boolean);
      return { requests: lines.length, bodies: lines.reduce((a, m) => a + Number(m[1]), 0) };
    } finally { fs.closeSync(fd); }
  };
  return {
    bytes: () => served().bodies + headerBytes,
    requests: () => served().requests,
    cdpBytes: () => cdpBytes,
    idleFor: () => (inflight.size ? 0 : Date.now() - lastActivity),
    workers: () => workers,
    async stop() { await cdp.detach().catch(() => {}); },
  };
}

/* The page's figures once its map has drawn its data and the network has been quiet for 3 s. */
async function measure(page, meter, started) {
  const left = () => Math.max(1000, VISIT_MS - (Date.now() - started));
  const usable = page.waitForFunction(() => {
    const e = window.entraide;
    if (e && typeof e.usableMs === 'number') return { ms: e.usableMs, how: 'usableMs' };
    const body = document.getElementById('needs-body');
    if (!(e && 'usableMs' in e) && body && body.children.length) return { ms: Math.round(performance.now()), how: 'needs list shown' };
    return null;
  }, null, { timeout: left(), polling: 50 }).then((h) => h.jsonValue(), () => null);
  const render = await page.waitForFunction(() => window.entraide && window.entraide.firstRender, null, { timeout: left(), polling: 100 })
    .then((h) => h.jsonValue(), () => null);
  const use = await usable;
  const quietBy = Date.now() + Math.min(60000, left());
  while (meter.idleFor() < 3000 && Date.now() < quietBy) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 300)); // mapd writes its access log at least every 100 ms
  return {
    usable: use ? use.ms : null, usableHow: use ? use.how : null,
    map: render ? render.ms : null, features: render ? render.features : null,
    bytes: meter.bytes(), requests: meter.requests(), workers: meter.workers(), cdpBytes: meter.cdpBytes(),
  };
}

async function phone(base) {
  const context = await launch({ width: 390, height: 844 }, true);
  try {
    const page = context.pages()[0] || await context.newPage();
    let meter = await networkMeter(context, page, PHONE);
    let t0 = Date.now();
    await page.goto(base + '/', { waitUntil: 'commit', timeout: 60000 });
    const cold = await measure(page, meter, t0);
    // A visitor who comes back comes back later: the service worker of the
    // built site (web/js/sw.js) has finished keeping the shell by then.
    const worker = await page.evaluate(() => ('serviceWorker' in navigator && navigator.serviceWorker.getRegistration()
      ? Promise.race([navigator.serviceWorker.getRegistration().then((r) => (r ? navigator.serviceWorker.ready.then(() => true) : false)),
        new Promise((res) => setTimeout(() => res(false), 60000))]) : false)).catch(() => false);
    await meter.stop();
    meter = await networkMeter(context, page, PHONE);
    t0 = Date.now();
    await page.reload({ waitUntil: 'commit', timeout: 60000 });
    const warm = await measure(page, meter, t0);
    warm.serviceWorker = worker;
    await meter.stop();
    return { cold, warm };
  } finally {
    await context.close().catch(() => {});
    live.browser = null;
  }
}

async function desktop(base) {
  const context = await launch({ width: 1280, height: 800 }, false);
  try {
    const page = context.pages()[0] || await context.newPage();
    const meter = await networkMeter(context, page, null);
    const t0 = Date.now();
    await page.goto(base + '/', { waitUntil: 'commit', timeout: 60000 });
    const cold = await measure(page, meter, t0);
    await meter.stop();
    return cold;
  } finally {
    await context.close().catch(() => {});
    live.browser = null;
  }
}

/* ---- the report ---- */
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : null;
};
const sec = (ms) => (ms === null ? 'none' : (ms / 1000).toFixed(1) + ' s');
const kb = (b) => (b === null ? 'none' : (b / 1024).toFixed(0) + ' KB');
const num = (n) => (n === null ? 'none' : String(n));

function report(results) {
  const rows = [
    ['phone cold: page usable', (r) => r.phone.cold.usable, sec, 8000],
    ['phone cold: map with data', (r) => r.phone.cold.map, sec, 20000],
    ['phone cold: bytes on the wire', (r) => r.phone.cold.bytes, kb, 450 * 1024],
    ['phone cold: requests', (r) => r.phone.cold.requests, num, null],
    ['phone warm: page usable', (r) => r.phone.warm.usable, sec, 3000],
    ['phone warm: map with data', (r) => r.phone.warm.map, sec, null],
    ['phone warm: bytes on the wire', (r) => r.phone.warm.bytes, kb, null],
    ['phone warm: requests', (r) => r.phone.warm.requests, num, null],
    ['desktop cold: map with data', (r) => r.desktop.map, sec, 1500],
    ['desktop cold: bytes on the wire', (r) => r.desktop.bytes, kb, null],
  ];
  const w = [32, 16, 16, 8, 20];
  const line = (cells) => cells.map((c, i) => String(c).padEnd(w[i])).join(' ');
  console.log('\n' + line(['', 'before (web/)', 'after (built)', 'ratio', 'target (after)']));
  let met = 0, targets = 0;
  for (const [name, get, fmt, target] of rows) {
    const b = median((results.before || []).map(get)), a = median((results.after || []).map(get));
    const ratio = b !== null && a ? (b / a).toFixed(1) + 'x' : '';
    let verdict = '';
    if (target !== null) {
      targets++;
      const ok = a !== null && a <= target;
      if (ok) met++;
      verdict = `<= ${fmt(target)}: ${ok ? 'met' : 'NOT met'}`;
    }
    console.log(line([name, fmt(b), fmt(a), ratio, verdict]));
  }
  const how = [...new Set([...(results.before || []), ...(results.after || [])].flatMap((r) => [r.phone.cold.usableHow, r.phone.warm.usableHow]))];
  console.log(`\npage usable measured as: ${how.join(', ')}; ${targets} targets, ${met} met (the "after" figures)`);
  if (RUNS > 1) console.log(`medians of ${RUNS} runs`);
}

/* ---- the run ---- */
let code = 1;
try {
  console.log('# work directory: ' + WORK);
  let t = Date.now();
  buildDb();
  console.log(`# database built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const sites = Object.fromEntries(Object.entries({ before: path.join(SRC, 'web'), after: BUILT })
    .filter(([name]) => !ONLY || name === ONLY));
  const results = { before: [], after: [] };
  for (let run = 1; run <= RUNS; run++) {
    for (const [name, dir] of Object.entries(sites)) {
      const base = await startServer(dir);
      t = Date.now();
      const r = { phone: await phone(base), desktop: await desktop(base) };
      await stopServer();
      results[name].push(r);
      const p = r.phone;
      console.log(`# run ${run}, ${name} (${dir}), ${((Date.now() - t) / 1000).toFixed(0)} s: ` +
        `phone cold usable ${sec(p.cold.usable)} (${p.cold.usableHow}), map ${sec(p.cold.map)} (${p.cold.features} features), ` +
        `${kb(p.cold.bytes)} in ${p.cold.requests} requests (CDP's own sum ${kb(p.cold.cdpBytes)}, ${p.cold.workers} workers); ` +
        `warm usable ${sec(p.warm.usable)}, map ${sec(p.warm.map)}, ${kb(p.warm.bytes)} in ${p.warm.requests} requests ` +
        `(${p.warm.serviceWorker ? 'a service worker active' : 'no service worker'}); ` +
        `desktop map ${sec(r.desktop.map)}, ${kb(r.desktop.bytes)} in ${r.desktop.requests} requests`);
    }
  }
  report(results);
  code = 0;
} catch (e) {
  console.error('phone.mjs: ' + (e.stack || e));
} finally {
  await cleanup();
  clearTimeout(watchdog);
  if (code === 0) fs.rmSync(WORK, { recursive: true, force: true });
  else console.error('# kept for inspection: ' + WORK);
  process.exit(code);
}
