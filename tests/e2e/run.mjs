#!/usr/bin/env node
/*
 * tests/e2e/run.mjs MAPD SOURCE_DIR [--web DIR] [--budget-ms N] [--only NAME] [--shots DIR]
 *
 * The browser tests of the web map. Builds a fresh database in a temporary
 * directory from the Paris sample (+ `mapd seed`), makes the accounts (shop
 * and staff with `mapd user add`, members through the API), starts
 * `mapd serve` on a free port of 127.0.0.1 with --web DIR (default
 * SOURCE_DIR/web, the unbundled sources; ctest passes BUILD_DIR/web, the map
 * as web/build.mjs builds it), and runs the scenarios of scenarios.mjs in
 * Debian's Chromium driven by playwright-core. The server and the browser
 * are stopped whatever happens.
 *
 * It also measures, and prints: the app's own JavaScript in the bundle
 * web/build.mjs makes (esbuild's metafile: the bytes of web/js/* in the
 * minified output, MapLibre and the npm libraries left out), which must stay
 * under 88 KB, with the bundle's totals (raw, gzip, brotli); and the first
 * render with data (navigation start to the first map 'idle' with features
 * drawn), which must stay under --budget-ms (default 2000).
 *
 * Screenshots go to --shots DIR (ctest passes BUILD_DIR/e2e-screenshots),
 * by default to the run's temporary directory, removed when every check
 * passes; never into docs/: `make screenshots` copies them there, by hand.
 * A missing npm install or a missing Chromium is a failure, never a skip.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def; };
const MAPD = argv[0];
const SRC = argv[1] && path.resolve(argv[1]); // absolute: esbuild's aliases need it
const BUDGET_MS = Number(opt('--budget-ms', process.env.E2E_BUDGET_MS || 2000));
const ONLY = opt('--only', null);
const SERVED = opt('--web', null);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const JS_BUDGET = 88 * 1024;

function die(msg) {
  console.log('FAIL - ' + msg);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!MAPD || !SRC) die('usage: run.mjs MAPD SOURCE_DIR [--web DIR] [--budget-ms N] [--only NAME] [--shots DIR]');
const WEB = path.join(SRC, 'web'); // the sources: strings, the size check, node-side imports
const SERVE_DIR = SERVED ? path.resolve(SERVED) : WEB; // what mapd serves
const SAMPLE = path.join(SRC, 'geodata', 'samples', 'paris');

/* ---- prerequisites: fail loudly ---- */
for (const [file, why] of [
  [MAPD, 'the mapd executable is missing (build it first)'],
  [path.join(HERE, 'node_modules', 'playwright-core', 'package.json'), 'tests/e2e/node_modules is missing: run `npm ci` in tests/e2e (make deps does)'],
  [path.join(WEB, 'node_modules', 'maplibre-gl', 'dist', 'maplibre-gl.mjs'), 'web/node_modules is missing: run `npm ci` in web (make deps does)'],
  [path.join(WEB, 'node_modules', 'esbuild', 'package.json'), 'esbuild is missing from web/node_modules: run `npm ci` in web (make deps does)'],
  [path.join(SERVE_DIR, 'index.html'), `${SERVE_DIR} holds no index.html: build the web map first (cmake --build BUILD_DIR --target web)`],
  [CHROMIUM, `Chromium is missing at ${CHROMIUM}: apt-get install chromium (make deps does)`],
]) if (!fs.existsSync(file)) die(why);

const { chromium } = await import('playwright-core');
const webBuild = await import(path.join(WEB, 'build.mjs'));
const scenarios = await import('./scenarios.mjs');

/* ---- results ---- */
let passed = 0, failed = 0;
const failures = [];  /* repeated at the end: a log cut in its middle still names them */
let scenarioName = '';  /* the scenario running, to name where a failure happened */
const figures = {};
function check(name, ok, detail) {
  if (ok) { passed++; console.log('ok - ' + name); }
  else {
    failed++;
    const line = 'FAIL - ' + name + (detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : '');
    failures.push((scenarioName ? `[${scenarioName}] ` : '') + line.slice(0, 2000));
    console.log(line);
  }
  return ok;
}

/* ---- the app's size ---- */
async function measureJs() {
  // The build of web/ in memory (nothing written): its metafile says how many
  // bytes of each output come from web/js/*; boot.js, minified alone, counts whole.
  // The budget is the page's: what a visit loads (the inline boot.js, the
  // files a cold visit fetches). Code loaded on demand (the staff's Data
  // tab) is reported beside it.
  const { files, visit, ownJs } = await webBuild.buildWeb({ web: WEB, out: path.join(WORK, 'site') });
  const onPage = (f) => f.endsWith('(inline)') || visit.includes(f);
  const bytes = Object.entries(ownJs).filter(([f]) => onPage(f)).reduce((a, [, n]) => a + n, 0);
  const later = Object.entries(ownJs).filter(([f]) => !onPage(f));
  figures.js = bytes;
  const js = [...files.keys()].filter((f) => /\.m?js$/.test(f));
  const sum = (list, ext) => list.reduce((a, f) => a + (files.get(f + ext) || files.get(f)).length, 0);
  console.log(`# app JavaScript in the bundle, minified: ${(bytes / 1024).toFixed(1)} KB (` +
    Object.entries(ownJs).filter(([f]) => onPage(f)).map(([f, n]) => `${f} ${(n / 1024).toFixed(1)}`).join(', ') + '); MapLibre and the npm libraries not counted');
  if (later.length) console.log(`# app JavaScript loaded on demand: ${later.map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KB`).join(', ')}`);
  console.log(`# bundle (${js.length} JavaScript files, MapLibre and its worker included): ${(sum(js, '') / 1024).toFixed(1)} KB raw, ` +
    `${(sum(js, '.gz') / 1024).toFixed(1)} KB gzip, ${(sum(js, '.br') / 1024).toFixed(1)} KB brotli`);
  console.log(`# a cold visit of the map fetches from the site (the API and tiles not counted):\n` + webBuild.sizeTable(files, visit).replace(/^/gm, '#   '));
  check(`the page's own JavaScript minified is under 88 KB (${(bytes / 1024).toFixed(1)} KB)`, bytes > 0 && bytes < JS_BUDGET);
  const strings = Object.fromEntries(['fr', 'en'].map((l) => [l, JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', l + '.json'), 'utf8'))]));
  console.log(`# strings, loaded for the language in use only: fr ${(JSON.stringify(strings.fr).length / 1024).toFixed(1)} KB, en ${(JSON.stringify(strings.en).length / 1024).toFixed(1)} KB of JSON`);
  const frKeys = Object.keys(strings.fr).sort(), enKeys = Object.keys(strings.en).sort();
  check('French and English have the same strings', JSON.stringify(frKeys) === JSON.stringify(enKeys),
    frKeys.filter((k) => !enKeys.includes(k)).concat(enKeys.filter((k) => !frKeys.includes(k))));
  const used = new Set();
  for (const f of fs.readdirSync(path.join(WEB, 'js'))) {
    const src = fs.readFileSync(path.join(WEB, 'js', f), 'utf8');
    for (const m of src.matchAll(/\bt\('([a-z_]+)'[,)]/g)) used.add(m[1]);
  }
  for (const m of fs.readFileSync(path.join(WEB, 'index.html'), 'utf8').matchAll(/data-i18n(?:-attr)?="(?:[a-z-]+:)?([a-z_]+)"/g)) used.add(m[1]);
  const missing = [...used].filter((k) => !(k in strings.fr));
  check(`every string the page uses is translated (${used.size} keys)`, missing.length === 0, missing);
}

/* ---- the database and the accounts ---- */
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'entraide-e2e.'));
const SHOTS_OPT = opt('--shots', null);
const SHOTS = SHOTS_OPT ? path.resolve(SHOTS_OPT) : path.join(WORK, 'screenshots'); // ctx.shots
/* With ENTRAIDE_TEST_PG (the socket directory of a private PostgreSQL,
 * tests/pg/pg_private.sh) the store is a fresh database there; with
 * ENTRAIDE_TEST_REPLICAS=N (2 or more) too, the browser talks to HAProxy in
 * front of N replicas (round robin), as tests/api/harness.py does. */
const PG_DIR = process.env.ENTRAIDE_TEST_PG || '';
const REPLICAS = Number(process.env.ENTRAIDE_TEST_REPLICAS || 0);
const PG_NAME = 'e2e_' + path.basename(WORK).replace(/[^A-Za-z0-9]/g, '_').toLowerCase();
const DB = PG_DIR ? `host=${PG_DIR} dbname=${PG_NAME} user=postgres` : path.join(WORK, 'e2e.sqlite');
function psql(db, query) {
  return execFileSync('psql', ['-h', PG_DIR, '-U', 'postgres', '-d', db, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8' });
}
if (PG_DIR) {
  psql('postgres', `CREATE DATABASE ${PG_NAME}`);
  psql(PG_NAME, 'CREATE EXTENSION postgis');
}
let server = null, browser = null;

function mapd(args, input) {
  return execFileSync(MAPD, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
function sql(query) {
  if (PG_DIR) {
    const out = psql(PG_NAME, `SELECT coalesce(json_agg(q), '[]') FROM (${query}) AS q`);
    return JSON.parse(out);
  }
  const out = execFileSync('sqlite3', ['-json', `file:${DB}?mode=ro`, query], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}
const addressIn = (nb, offset = 0) => {
  const [r] = sql(`SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = '${nb}' AND rep = '' ORDER BY id LIMIT 1 OFFSET ${offset}`);
  return `${r.number} ${r.street} ${r.postcode}`;
};

function buildDb() {
  mapd(['import', 'neighbourhoods', path.join(SAMPLE, 'neighbourhoods.geojson'), '--db', DB]);
  mapd(['import', 'addresses', path.join(SAMPLE, 'addresses.csv.gz'), '--db', DB]);
  mapd(['import', 'shops', path.join(SAMPLE, 'shops.geojson'), '--db', DB]);
  mapd(['seed', '--db', DB, '--posts', '300', '--seed', '7']);
  // A: among quartiers with 5 neighbours or more, the one whose area (itself and its neighbours)
  // holds the most open posts; B: one of its neighbours; C: two steps or more from A's neighbours.
  const [{ a }] = sql(`SELECT c.a AS a FROM neighbourhood_contiguity c GROUP BY c.a HAVING count(*) >= 5
    ORDER BY (SELECT count(*) FROM posts p WHERE p.status = 'open' AND (p.neighbourhood_id = c.a OR p.neighbourhood_id IN
      (SELECT b FROM neighbourhood_contiguity WHERE a = c.a))) DESC, c.a LIMIT 1`);
  const near = new Set([a, ...sql(`SELECT b FROM neighbourhood_contiguity WHERE a = '${a}'`).map((r) => r.b)]);
  const b = [...near].filter((x) => x !== a).sort()[0];
  const list = [...near].map((x) => `'${x}'`).join(',');
  const near2 = new Set([...near, ...sql(`SELECT b FROM neighbourhood_contiguity WHERE a IN (${list})`).map((r) => r.b)]);
  const c = sql(`SELECT id FROM neighbourhoods WHERE id NOT IN (${[...near2].map((x) => `'${x}'`).join(',')}) ORDER BY id LIMIT 1`)[0].id;
  const nbName = (id) => sql(`SELECT name FROM neighbourhoods WHERE id = '${id}'`)[0].name;
  const label = (id) => { const [r] = sql(`SELECT label_lon, label_lat FROM neighbourhoods WHERE id = '${id}'`); return [r.label_lon, r.label_lat]; };
  const outside = sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id IS NULL AND rep = '' ORDER BY id LIMIT 1")[0];
  const shop = sql(`SELECT id, name FROM shops WHERE neighbourhood_id = '${a}' AND status = 'unknown' AND owner_id IS NULL AND name <> '' ORDER BY id LIMIT 1`)[0];
  mapd(['user', 'add', '--db', DB, '--email', 'commerce@e2e.test', '--role', 'shop', '--name', 'Épicerie (test)', '--password-stdin'], 'correct horse\n');
  mapd(['user', 'add', '--db', DB, '--email', 'moderation@e2e.test', '--role', 'staff', '--name', 'Modération (test)', '--password-stdin'], 'correct horse\n');
  return {
    a, b, c, names: { a: nbName(a), b: nbName(b), c: nbName(c) }, visible: [...near], labelA: label(a), labelC: label(c),
    addr: { v: addressIn(a, 5), a1: addressIn(a, 11), b1: addressIn(b, 3), c1: addressIn(c, 3), m: addressIn(a, 21), n: addressIn(a, 31), h: addressIn(b, 13) },
    outside: outside ? `${outside.number} ${outside.street} ${outside.postcode}` : null,
    shop,
  };
}

/* ---- the server ---- */
let replicas = [], proxy = null;

/* A free port of 127.0.0.1, for HAProxy. */
function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/* N replicas and HAProxy in front (ENTRAIDE_TEST_REPLICAS): the URL of HAProxy,
 * which the replicas also take as their public URL (tiles.json names it). */
async function startCluster() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const lines = [];
  for (let i = 0; i < REPLICAS; i++) {
    const one = await startServer(['--public-url', url]);
    replicas.push(server);
    lines.push(`    server r${i} ${one.replace('http://', '')} check`);
  }
  const cfg = path.join(WORK, 'haproxy.cfg');
  fs.writeFileSync(cfg, ['global', '    maxconn 4096', 'defaults', '    mode http', '    timeout connect 2s',
    '    timeout client 120s', '    timeout server 120s', '    timeout tunnel 1h', '    retries 2', '    option redispatch',
    'frontend entraide', `    bind 127.0.0.1:${port}`, '    default_backend mapd', 'backend mapd', '    balance roundrobin',
    '    option httpchk GET /healthz', '    http-check expect status 200', '    default-server inter 500ms fall 2 rise 1',
    ...lines, ''].join('\n'));
  proxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', fs.openSync(path.join(WORK, 'haproxy.log'), 'a')] });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(url + '/healthz')).ok) return url; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('HAProxy did not answer in 10 s');
}

function startServer(extra = []) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(WORK, 'server.log'), 'a');
    server = spawn(MAPD, ['serve', '--db', DB, '--listen', '127.0.0.1:0', '--web', SERVE_DIR, '--auth-per-minute', '1000', ...extra],
      { stdio: ['ignore', 'pipe', log] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('mapd serve did not announce its address in 20 s')), 20000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /serving (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error('mapd serve exited with ' + code)); });
  });
}

/** Stops the server; resolves to its exit code (null when it had to be killed). */
async function stopServer() {
  if (replicas.length) {
    const codes = [];
    for (const r of replicas) { server = r; codes.push(await stopOne()); }
    replicas = [];
    if (proxy) proxy.kill('SIGTERM');
    return codes.find((c) => c !== 0) ?? 0;
  }
  return stopOne();
}

async function stopOne() {
  if (!server) return null;
  if (server.exitCode !== null) return server.exitCode;
  const done = new Promise((r) => server.once('exit', (code) => r(code)));
  server.kill('SIGTERM');
  const t = setTimeout(() => server.kill('SIGKILL'), 10000);
  const code = await done;
  clearTimeout(t);
  return code;
}

/* ---- an API client, for what the scenarios need prepared ---- */
export class Client {
  constructor(base) { this.base = base; this.cookie = null; this.csrf = null; }
  async req(method, p, body) {
    const headers = {};
    if (this.cookie) headers.Cookie = this.cookie;
    if (this.csrf && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const set = r.headers.getSetCookie ? r.headers.getSetCookie() : [];
    if (set.length) this.cookie = set[0].split(';')[0];
    const text = await r.text();
    let doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch { doc = text; }
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return doc;
  }
  async register(email, address, name) {
    return this.req('POST', '/api/members', { email, password: 'correct horse', display_name: name, address });
  }
  async login(email) {
    const r = await this.req('POST', '/api/session', { email, password: 'correct horse' });
    this.csrf = r.csrf;
    return r;
  }
}

async function prepare(base, data) {
  const mk = async (key, email, name) => {
    const c = new Client(base);
    await c.register(email, data.addr[key], name);
    await c.login(email);
    return c;
  };
  const a1 = await mk('a1', 'a1@e2e.test', 'Madeleine');
  const b1 = await mk('b1', 'b1@e2e.test', 'Bernard');
  const c1 = await mk('c1', 'c1@e2e.test', 'Capucine');
  const m = await mk('m', 'maker@e2e.test', 'Mathilde couture');
  const n = await mk('n', 'voisin@e2e.test', 'Nadia');
  const hAuthor = await mk('h', 'h@e2e.test', 'Hugo');
  const post = async (c, kind, category, title, body) =>
    (await c.req('POST', '/api/posts', { kind, category, title, body })).properties.id;
  data.posts = {
    a: await post(a1, 'request', 'groceries', 'Courses pour la semaine, quatrième étage sans ascenseur', 'Pain, lait, fruits et légumes.'),
    b: await post(b1, 'request', 'pharmacy', 'Ordonnance à retirer à la pharmacie', 'Une boîte de médicaments, ordonnance prête.'),
    c: await post(c1, 'request', 'company', 'Appel hebdomadaire lointain', 'Quelqu’un pour discuter au téléphone.'),
    h: await post(hAuthor, 'offer', 'masks', 'Masques vendus dix euros pièce', 'Paiement en liquide uniquement.'),
  };
  await a1.req('POST', `/api/posts/${data.posts.h}/report`, { reason: 'vente, pas de l’entraide' });
  await n.req('POST', `/api/posts/${data.posts.h}/report`, { reason: 'arnaque' });
  await m.req('PUT', '/api/makers/me', { capacity_per_day: 25, stock: 40, materials: ['tissu coton', 'élastique'] });
  data.makerId = (await m.req('GET', '/api/me')).id;
  data.shopAt = (await new Client(base).req('GET', `/api/shops/${data.shop.id}`)).geometry.coordinates;
  const home = (await a1.req('GET', '/api/geocode?limit=1&q=' + encodeURIComponent(data.addr.v)))[0];
  data.homeV = [home.lon, home.lat];
  data.expectedAddress = (await a1.req('GET', '/api/geocode?limit=1&q=' + encodeURIComponent(data.addr.a1)))[0].label;
  return data;
}

/* What the page needs of the static file server: byte ranges, revalidation,
 * and for a built site its hashed assets kept by browsers without asking.
 * (tests/api/test_static.py tests the server's rules one by one.) */
async function staticChecks(base) {
  const page = await fetch(base + '/');
  const html = await page.text();
  const sheet = /<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/.exec(html) || /<link\b[^>]*href="([^"]+\.css)"/.exec(html);
  if (!check('the page names a stylesheet', !!sheet)) return;
  const file = '/' + sheet[1].replace(/^\.?\//, '');
  const whole = Buffer.from(await (await fetch(base + file)).arrayBuffer());
  const r = await fetch(base + file, { headers: { Range: 'bytes=100-199' } });
  const part = Buffer.from(await r.arrayBuffer());
  check('the server answers a byte range (for PMTiles basemaps)', r.status === 206 && part.equals(whole.subarray(100, 200)) &&
    r.headers.get('content-range') === `bytes 100-199/${whole.length}`, { status: r.status, range: r.headers.get('content-range') });
  const etag = page.headers.get('etag');
  const again = await fetch(base + '/', { headers: { 'If-None-Match': etag } });
  check('an unchanged page is not sent again (304 on its ETag)', etag && again.status === 304, { etag, status: again.status });
  const lm = r.headers.get('last-modified');
  const since = await fetch(base + file, { headers: { 'If-Modified-Since': lm } });
  check('an unchanged file is not sent again (304 on If-Modified-Since)', since.status === 304, since.status);
  if (fs.realpathSync(SERVE_DIR) !== fs.realpathSync(WEB)) { // a built site
    const br = await fetch(base + file, { headers: { 'Accept-Encoding': 'br' } });
    await br.arrayBuffer();
    check(`the built site's files: ${file} is precompressed and kept a year, the page revalidated`,
      file.startsWith('/assets/') && br.headers.get('content-encoding') === 'br' &&
      /immutable/.test(br.headers.get('cache-control')) && page.headers.get('cache-control') === 'no-cache',
      { file, encoding: br.headers.get('content-encoding'), asset: br.headers.get('cache-control'), page: page.headers.get('cache-control') });
  }
}

/* ---- the run ---- */
async function main() {
  console.log('# work directory: ' + WORK);
  console.log('# serving: ' + SERVE_DIR);
  await measureJs();
  const t0 = Date.now();
  const data = buildDb();
  console.log(`# database built in ${((Date.now() - t0) / 1000).toFixed(1)} s: A=${data.a} ${data.names.a}, B=${data.b} ${data.names.b}, C=${data.c} ${data.names.c}`);
  const base = REPLICAS >= 2 ? await startCluster() : await startServer();
  console.log('# server: ' + base);
  await prepare(base, data);
  await staticChecks(base);
  fs.mkdirSync(SHOTS, { recursive: true });
  console.log('# screenshots: ' + SHOTS + (SHOTS_OPT ? '' : ' (removed with the run\'s directory when every check passes; --shots DIR keeps them)'));
  /* A browser of its own, on a fresh profile. The scenarios share one, with
   * the built site's service worker blocked: page.route() does not see what
   * a worker answers from its cache (the basemap scenario replaces
   * config.json that way), and each scenario must meet the server's current
   * files. The worker has its own scenario, in a browser of its own. */
  /* Every page of every browser is watched for what the page's
   * Content-Security-Policy refused: the policy must allow all the map does. */
  const refused = [];
  const watch = (page) => page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/.test(msg.text())) refused.push(msg.text().slice(0, 300));
  });
  const launch = async (opts = {}) => {
    const b = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(WORK, 'chromium-')), {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 }, locale: 'fr-FR', ...opts,
    });
    b.pages().forEach(watch);
    b.on('page', watch);
    return b;
  };
  browser = await launch({ serviceWorkers: 'block' });
  const ctx = { browser, launch, base, data, check, shots: SHOTS, figures, budgetMs: BUDGET_MS, Client, webDir: WEB, servedDir: SERVE_DIR };
  for (const s of scenarios.list) {
    if (ONLY && s.name !== ONLY) continue;
    console.log(`# scenario: ${s.title}`);
    scenarioName = s.name;
    const started = Date.now();
    try {
      await s.run(ctx);
    } catch (e) {
      check(`${s.title}: ran to the end`, false, e.stack || String(e));
      try {
        const page = browser.pages()[0];
        if (page) await page.screenshot({ path: path.join(WORK, `failed-${s.name}.png`) });
        console.log(`# screenshot of the failure: ${path.join(WORK, `failed-${s.name}.png`)}`);
      } catch { /* the page may be gone */ }
    }
    console.log(`# ${s.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  check('no page broke its Content-Security-Policy in any scenario', refused.length === 0, refused.slice(0, 5));
  if (figures.firstRender) console.log(`# first render with data: ${figures.firstRender.map(([k, v]) => `${k} ${v} ms`).join(', ')} (budget ${BUDGET_MS} ms)`);
}

let code = 1;
const cleanup = async () => {
  try { if (browser) await browser.close(); } catch { /* already gone */ }
  browser = null;
  return stopServer();
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, async () => { await cleanup(); process.exit(1); });
try {
  await main();
  code = failed === 0 && passed > 0 ? 0 : 1;
} catch (e) {
  check('the e2e run set up and finished', false, e.stack || String(e));
} finally {
  const exit = await cleanup();
  if (server) check('the server stops cleanly on SIGTERM (exit 0)', exit === 0, exit);
  if (failed === 0) fs.rmSync(WORK, { recursive: true, force: true });
  else {
    console.log('# kept for inspection: ' + WORK);
    try {
      const log = fs.readFileSync(path.join(WORK, 'server.log'), 'utf8').split('\n').filter((l) => !l.startsWith('127.0.0.1')).slice(-20).join('\n');
      if (log.trim()) console.log('# server log (last lines, access log left out):\n' + log);
    } catch { /* no log */ }
  }
  for (const line of failures) console.log(line);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
}
