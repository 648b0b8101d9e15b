#!/usr/bin/env node
/*
 * web/build.mjs OUT_DIR — the web map as it is deployed: bundled, minified,
 * content-hashed and precompressed, written to OUT_DIR (CMake's `web` target
 * writes BUILD_DIR/web; `mapd serve --web BUILD_DIR/web` serves it).
 *
 * Why: the source page loads about thirty ES modules through an importmap and
 * MapLibre's whole module from node_modules, uncompressed and revalidated one
 * by one. On a phone at 50 KB/s with 2 s of latency that took about 40 s.
 * Built, a cold visit fetches a handful of files, each compressed once here
 * at the highest levels (a server compressing on the fly could not afford
 * brotli 11), and a warm visit fetches only the page: everything it names
 * lives under assets/ with its content's hash in its name, so mapd can let
 * browsers keep those files a year without asking (see mapd/static_files.c).
 *
 * The pages are read rather than a list of files, so edits to them carry
 * over. For every *.html at the top of web/:
 *   - its <script type="importmap"> becomes esbuild's aliases (the bundle
 *     resolves the same files the development page loads), and is removed,
 *     with every <link rel="modulepreload">;
 *   - its module scripts (<script type="module" src>) are bundled together,
 *     minified and tree-shaken, with code splitting: a dynamic import (the
 *     PMTiles reader, needed only for a PMTiles basemap) becomes a chunk
 *     loaded when it is imported; the page gets the bundle's <script> and a
 *     modulepreload of it and of the chunks it imports statically;
 *   - its classic scripts (boot.js) are minified alone and stay classic
 *     scripts where they were (boot.js must run in <head> before the modules).
 *     One of at most INLINE_MAX bytes minified is written into the page
 *     itself: as a file it costs a round trip before the requests it starts
 *     (2 s on the slow phone), and boot.js starts the requests the first
 *     list waits for. A Content-Security-Policy must then allow it by its
 *     hash, which the build prints;
 *   - its plain local stylesheets are bundled, in their order, into one
 *     file that takes the place of the first; one with more attributes (an
 *     id, media="print" to load it without blocking the page) keeps its link,
 *     with its own minified file (url() references become hashed assets).
 * MapLibre starts its worker from a file next to its own module; that file
 * is copied under a hashed name and the one reference to it rewritten in
 * MapLibre's code: the build fails if that reference is not found exactly
 * once (a MapLibre upgrade that changes it must be looked at, not guessed).
 * Everything else at the top of web/ (config.json, favicon.svg, i18n/, a
 * deployment's basemap) is copied as it is, at the same path (boot.js
 * fetches i18n/LANG.json and config.json; deployments edit config.json):
 * only the sources (js/, css/, node_modules/, the npm and CMake files, this
 * script) and dotfiles are left out.
 *
 * The service worker, js/sw.js, is written at the top as sw.js, minified,
 * with the list of the shell it keeps (the map's page, every file it names,
 * the strings, config.json) and a version hashed from those files: a returning
 * visitor's page then comes from its cache without a round trip (sw.js says
 * how it is kept up to date). The bundle learns its name through esbuild's
 * `define` (ENTRAIDE_SW); the unbundled page registers none.
 *
 * Then every text file gets a .gz (zlib level 9) and a .br (brotli quality
 * 11) sibling, kept only when smaller than the file; originals are kept for
 * clients that take neither, and for byte ranges. Siblings are written after
 * their original: mapd ignores a sibling older than its original, so an
 * edited config.json is never hidden by its stale compressed copies.
 *
 * Checks: every local src/href of a <script> or <link> in the written pages
 * must name a written file, or the build fails. The output is deterministic
 * (same sources, same bytes and names). It is written to a fresh directory
 * beside OUT_DIR and put in place with two renames, so a server reading
 * OUT_DIR sees the old build or the new one, never half of one; anything
 * else left in OUT_DIR is removed with the old build.
 *
 * The unbundled web/ keeps working for development: `mapd serve --web web`.
 * tests/e2e/run.mjs imports buildWeb() to measure the app's own code in the
 * bundle (esbuild's metafile).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/* Browsers that run MapLibre 6 (WebGL 2, module workers): nothing of the
 * sources needs lowering for them today; esbuild says so if it ever does. */
export const TARGET = ['chrome100', 'edge100', 'firefox100', 'safari15'];
/* Extensions of the files precompressed (text; images and fonts are compressed already). */
export const TEXT_EXT = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt', '.geojson', '.xml']);
/* Entries of web/ that are sources, never copied as they are. */
const SOURCES = new Set(['js', 'css', 'node_modules', 'package.json', 'package-lock.json', 'build.mjs', 'CMakeLists.txt']);
const WORKER = 'maplibre-gl-worker.mjs';
/* The service worker, written at the site's top (its scope is the whole site). */
const SERVICE_WORKER = 'sw.js';
/* Bytes (minified) up to which a classic script is written into the page. */
export const INLINE_MAX = 2048;
const WORKER_REF = '`' + WORKER + '`';

class BuildError extends Error {}
const fail = (msg) => { throw new BuildError(msg); };

/** 8 characters of the content's SHA-256, in the alphabet of esbuild's [hash]. */
function hashOf(bytes) {
  const d = crypto.createHash('sha256').update(bytes).digest();
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let s = '';
  for (let i = 0; i < 8; i++) s += abc[d[i] & 31];
  return s;
}

/* ---- reading the pages ---------------------------------------------------- */

const decode = (v) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The attributes of a tag's inside, in their order: [{name, value}] (value null when bare). */
function attributes(s) {
  const out = [];
  for (const m of s.matchAll(/([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g))
    out.push({ name: m[1].toLowerCase(), value: m[2] ?? m[3] ?? m[4] ?? null });
  return out;
}
const attr = (list, name) => { const a = list.find((x) => x.name === name); return a ? (a.value === null ? '' : decode(a.value)) : null; };
const escapeAttr = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
function tag(name, list) {
  return '<' + name + list.map((a) => (a.value === null ? ' ' + a.name : ` ${a.name}="${escapeAttr(decode(a.value))}"`)).join('') + '>';
}

/** A URL of the page that names a file of the site: its path from web/'s top, or null. */
function localPath(url) {
  if (!url || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//') || url.startsWith('#')) return null;
  const p = url.split(/[?#]/)[0];
  const rel = path.posix.normalize(p.startsWith('/') ? p.slice(1) : p);
  if (rel.startsWith('..')) fail(`${url}: leaves the web directory`);
  return rel === '.' || rel.endsWith('/') ? path.posix.join(rel, 'index.html') : rel;
}

/*
 * The parts of one page: its text, and the tags the build replaces, each
 * {start, end, kind, attrs, src}. kind: importmap, modulepreload,
 * stylesheet, module, classic. Work: one pass of two regular expressions.
 */
function readPage(file) {
  const html = fs.readFileSync(file, 'utf8');
  const parts = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const a = attributes(m[1]);
    const type = (attr(a, 'type') || '').toLowerCase().trim();
    const src = attr(a, 'src');
    const at = { start: m.index, end: m.index + m[0].length, attrs: a, src: src && localPath(src) };
    if (type === 'importmap') {
      let map;
      try { map = JSON.parse(m[2]); } catch (e) { fail(`${file}: its importmap is not JSON (${e.message})`); }
      if (map.scopes) fail(`${file}: importmap scopes are not supported by the build`);
      parts.push({ ...at, kind: 'importmap', imports: map.imports || {} });
    } else if (type === 'module') {
      if (src === null) {
        if (/\bimport\b/.test(m[2])) fail(`${file}: an inline module script imports modules; give it a file of its own`);
      } else if (at.src) parts.push({ ...at, kind: 'module' });
    } else if ((type === '' || /javascript|ecmascript/.test(type)) && at.src) {
      parts.push({ ...at, kind: 'classic' });
    }
  }
  for (const m of html.matchAll(/<link\b([^>]*)>/gi)) {
    const a = attributes(m[1]);
    const rel = (attr(a, 'rel') || '').toLowerCase().split(/\s+/);
    const href = localPath(attr(a, 'href'));
    const at = { start: m.index, end: m.index + m[0].length, attrs: a, src: href };
    if (rel.includes('modulepreload')) parts.push({ ...at, kind: 'modulepreload' });
    else if (rel.includes('stylesheet') && href) parts.push({ ...at, kind: 'stylesheet' });
  }
  parts.sort((x, y) => x.start - y.start);
  return { file, name: path.basename(file), html, parts };
}

/** The page's text with parts replaced: edits is a Map part → text ('' removes the part and its line). */
function rewrite(page, edits) {
  let out = '', at = 0;
  for (const p of page.parts) {
    if (!edits.has(p)) continue;
    const text = edits.get(p);
    let start = p.start, end = p.end;
    if (text === '') { // take the line with it when the tag is alone on it
      let s = start; while (s > at && (page.html[s - 1] === ' ' || page.html[s - 1] === '\t')) s--;
      let e = end; while (page.html[e] === ' ' || page.html[e] === '\t') e++;
      if ((s === 0 || page.html[s - 1] === '\n') && page.html[e] === '\n') { start = s; end = e + 1; }
    }
    out += page.html.slice(at, start) + text;
    at = end;
  }
  return out + page.html.slice(at);
}

/* ---- building ------------------------------------------------------------- */

async function loadEsbuild(web) {
  const entry = path.join(web, 'node_modules', 'esbuild', 'lib', 'main.js');
  if (!fs.existsSync(entry)) fail(`esbuild is missing from ${path.join(web, 'node_modules')}: run \`npm ci\` in web/ (make deps does)`);
  return import(pathToFileURL(entry).href);
}

/* Points MapLibre at its worker's hashed name (see the top of the file). */
function workerPlugin(workerName) {
  return {
    name: 'maplibre-worker',
    setup(b) {
      b.onLoad({ filter: /[\\/]maplibre-gl[\\/]dist[\\/]maplibre-gl\.mjs$/ }, (args) => {
        const code = fs.readFileSync(args.path, 'utf8');
        const n = code.split(WORKER_REF).length - 1;
        if (n !== 1) fail(`MapLibre names its worker ${n} times as ${WORKER_REF} in ${args.path} (1 expected): look at how it loads its worker`);
        return { contents: code.replace(WORKER_REF, '`' + workerName + '`'), loader: 'js' };
      });
    },
  };
}

/** Every file under dir (relative paths, sorted), dotfiles and special files left out. */
function walk(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? path.posix.join(rel, e.name) : e.name;
    const st = fs.statSync(path.join(dir, r));
    if (st.isDirectory()) out.push(...walk(dir, r));
    else if (st.isFile()) out.push(r);
  }
  return out;
}

/*
 * Builds the site of `web` in memory (`out` only names where it will go).
 * Returns {files, visit, ownJs, metafile, inlined}: files, a Map of relative
 * path → Buffer in writing order (each original before its .gz and .br);
 * visit, the paths a cold anonymous visit of the map in French fetches from
 * this directory; ownJs, the bytes of web/js/* in the JavaScript written (by
 * output); metafile, esbuild's for the modules; inlined, the classic scripts
 * written into the pages, with the CSP hash of each.
 * Throws BuildError on anything it cannot build. Work: one esbuild run for
 * the modules, one per distinct set of stylesheets, one per classic script,
 * then compression of every text file (brotli 11 dominates: a few seconds).
 */
export async function buildWeb({ web = HERE, out, compress = true } = {}) {
  if (!out) fail('no output directory');
  web = path.resolve(web);
  out = path.resolve(out);
  const esbuild = await loadEsbuild(web);
  const assets = path.join(out, 'assets');
  const files = new Map();
  const put = (rel, bytes) => {
    if (files.has(rel)) fail(`${rel} would be written twice`);
    files.set(rel, Buffer.from(bytes));
  };

  const pages = fs.readdirSync(web).filter((f) => f.endsWith('.html')).sort().map((f) => readPage(path.join(web, f)));
  const alias = {};
  for (const page of pages) for (const p of page.parts.filter((x) => x.kind === 'importmap')) {
    for (const [k, v] of Object.entries(p.imports)) {
      const key = k.replace(/\/$/, '');
      const file = localPath(v);
      if (!file) fail(`${page.name}: importmap entry ${k} is not a local file (${v})`);
      const target = path.join(web, file.replace(/\/index\.html$/, ''));
      if (alias[key] && alias[key] !== target) fail(`${k} is mapped to two files by the pages' importmaps`);
      alias[key] = target;
    }
  }

  // MapLibre's worker, under its content's hash.
  const maplibreDir = path.join(web, 'node_modules', 'maplibre-gl', 'dist');
  let workerName = null;
  if (fs.existsSync(path.join(maplibreDir, WORKER))) {
    const bytes = fs.readFileSync(path.join(maplibreDir, WORKER));
    workerName = `maplibre-gl-worker-${hashOf(bytes)}.mjs`;
  }

  // Module scripts: one esbuild run for all pages (shared code, shared chunks).
  const entries = [...new Set(pages.flatMap((pg) => pg.parts.filter((p) => p.kind === 'module').map((p) => p.src)))];
  for (const e of entries) if (!fs.existsSync(path.join(web, e))) fail(`${e} is named by a page but does not exist`);
  const common = { absWorkingDir: web, minify: true, target: TARGET, charset: 'utf8', legalComments: 'eof', logLevel: 'warning', write: false };
  const modules = new Map(); // source path → output path (relative to out)
  const ownJs = {};
  let metafile = { inputs: {}, outputs: {} };
  if (entries.length) {
    const r = await esbuild.build({
      ...common, entryPoints: entries, bundle: true, splitting: true, format: 'esm', metafile: true,
      outdir: assets, entryNames: '[name]-[hash]', chunkNames: '[name]-[hash]', assetNames: '[name]-[hash]',
      alias, plugins: workerName ? [workerPlugin(workerName)] : [],
      define: fs.existsSync(path.join(web, 'js', 'sw.js')) ? { ENTRAIDE_SW: JSON.stringify(SERVICE_WORKER) } : {},
    });
    metafile = r.metafile;
    let usesWorker = false;
    for (const f of r.outputFiles) {
      const rel = path.relative(out, f.path).split(path.sep).join('/');
      put(rel, f.contents);
      if (workerName && f.text.includes(workerName)) usesWorker = true; // minified: quotes may change
    }
    for (const [o, v] of Object.entries(metafile.outputs)) {
      const rel = path.relative(out, path.resolve(web, o)).split(path.sep).join('/');
      if (v.entryPoint) modules.set(v.entryPoint, rel);
      for (const [i, x] of Object.entries(v.inputs)) if (i.startsWith('js/')) ownJs[rel] = (ownJs[rel] || 0) + x.bytesInOutput;
    }
    if (usesWorker) put(`assets/${workerName}`, fs.readFileSync(path.join(maplibreDir, WORKER)));
  }
  const outputOf = (o) => metafile.outputs[path.relative(web, path.join(out, o)).split(path.sep).join('/')];
  /* The JavaScript outputs holding the source file src (relative to web/). */
  const outputsHolding = (src) => Object.entries(metafile.outputs).filter(([o, v]) => o.endsWith('.js') && src in v.inputs)
    .map(([o]) => path.relative(out, path.resolve(web, o)).split(path.sep).join('/')).sort();
  const staticImports = (rel, seen = new Set()) => {
    for (const im of (outputOf(rel) || { imports: [] }).imports) {
      if (im.kind !== 'import-statement' || im.external) continue;
      const r = path.relative(out, path.resolve(web, im.path)).split(path.sep).join('/');
      if (!seen.has(r)) { seen.add(r); staticImports(r, seen); }
    }
    return seen;
  };

  // Classic scripts: minified alone, still scripts (no module wrapper);
  // small ones inlined (classics maps them to {code}).
  const classics = new Map();
  const inlined = [];
  for (const src of [...new Set(pages.flatMap((pg) => pg.parts.filter((p) => p.kind === 'classic').map((p) => p.src)))]) {
    const file = path.join(web, src);
    if (!fs.existsSync(file)) fail(`${src} is named by a page but does not exist`);
    const r = await esbuild.transform(fs.readFileSync(file, 'utf8'), { minify: true, target: TARGET, charset: 'utf8', loader: 'js', sourcefile: src, legalComments: 'eof', logLevel: 'warning' });
    const code = r.code.replace(/\n$/, '');
    if (Buffer.byteLength(code) <= INLINE_MAX && !/<\/script|<!--/i.test(code)) {
      classics.set(src, { code });
      inlined.push({ src, bytes: Buffer.byteLength(code), csp: `'sha256-${crypto.createHash('sha256').update(code).digest('base64')}'` });
      if (src.startsWith('js/')) ownJs[`${src} (inline)`] = Buffer.byteLength(code);
      continue;
    }
    const rel = `assets/${path.basename(src, '.js')}-${hashOf(r.code)}.js`;
    put(rel, r.code);
    classics.set(src, rel);
    if (src.startsWith('js/')) ownJs[rel] = Buffer.byteLength(r.code);
  }

  // Stylesheets. The plain ones of a page (rel and href only, or media
  // "all"/"screen"...: no id, no other attribute) are bundled in their order
  // into one file; one with anything more (an id, media="print" to load it
  // without blocking the page, title...) keeps its own link, its file built
  // alone, as scripts may look for it. One output per distinct list.
  const sheets = new Map();
  const plainSheet = (p) => p.attrs.every((a) => ['rel', 'href', 'type'].includes(a.name)
    || (a.name === 'media' && /^\s*(all|screen)?\s*$/i.test(a.value || '')));
  const sheetGroups = (page) => {
    const parts = page.parts.filter((p) => p.kind === 'stylesheet');
    const plain = parts.filter(plainSheet);
    return [...(plain.length ? [{ parts: plain, name: path.basename(plain[plain.length - 1].src, '.css') }] : []),
      ...parts.filter((p) => !plainSheet(p)).map((p) => ({ parts: [p], name: path.basename(p.src, '.css') }))];
  };
  for (const page of pages) for (const g of sheetGroups(page)) {
    const list = g.parts.map((p) => p.src);
    if (sheets.has(list.join('\n'))) continue;
    for (const s of list) if (!fs.existsSync(path.join(web, s))) fail(`${s} is named by ${page.name} but does not exist`);
    const r = await esbuild.build({
      ...common, bundle: true, outdir: assets, assetNames: '[name]-[hash]', entryNames: 'stdin',
      stdin: { contents: list.map((s) => `@import ${JSON.stringify('./' + s)};`).join('\n'), resolveDir: web, sourcefile: `${g.name}.css`, loader: 'css' },
      loader: { '.svg': 'file', '.png': 'file', '.jpg': 'file', '.webp': 'file', '.woff2': 'file', '.woff': 'file' },
    });
    let name = null;
    for (const f of r.outputFiles) {
      if (path.basename(f.path) === 'stdin.css') {
        name = `assets/${g.name}-${hashOf(f.contents)}.css`;
        put(name, f.contents);
      } else if (!files.has(path.relative(out, f.path).split(path.sep).join('/'))) {
        put(path.relative(out, f.path).split(path.sep).join('/'), f.contents);
      }
    }
    sheets.set(list.join('\n'), name);
  }

  // The pages, rewritten.
  for (const page of pages) {
    const edits = new Map();
    const preloads = [], authored = [];
    let preloadAt = null;
    for (const p of page.parts) {
      if (p.kind === 'importmap') edits.set(p, '');
      else if (p.kind === 'modulepreload') {
        // What the author preloads is preloaded still: the output holding it
        // (MapLibre, imported dynamically, is its own chunk).
        edits.set(p, '');
        if (!preloadAt) preloadAt = p;
        if (p.src) authored.push(...outputsHolding(p.src));
      }
      else if (p.kind === 'stylesheet') {
        const g = sheetGroups(page).find((x) => x.parts.includes(p));
        const href = sheets.get(g.parts.map((x) => x.src).join('\n'));
        if (g.parts[0] !== p) edits.set(p, ''); // bundled into the group's first link
        else if (plainSheet(p)) edits.set(p, tag('link', [{ name: 'rel', value: 'stylesheet' }, { name: 'href', value: href }]));
        else edits.set(p, tag('link', p.attrs.map((a) => (a.name === 'href' ? { name: 'href', value: href } : a))));
      } else if (p.kind === 'module' || p.kind === 'classic') {
        const to = p.kind === 'module' ? modules.get(p.src) : classics.get(p.src);
        if (!to) fail(`${page.name}: no output for ${p.src}`);
        if (typeof to === 'object') edits.set(p, tag('script', p.attrs.filter((a) => a.name !== 'src')) + to.code + '</script>');
        else edits.set(p, tag('script', p.attrs.map((a) => (a.name === 'src' ? { name: 'src', value: to } : a))) + '</script>');
        if (p.kind === 'module') for (const f of [to, ...staticImports(to)]) if (!preloads.includes(f)) preloads.push(f);
      }
    }
    for (const f of authored) if (!preloads.includes(f)) preloads.push(f);
    const links = preloads.map((f) => tag('link', [{ name: 'rel', value: 'modulepreload' }, { name: 'href', value: f }])).join('\n');
    if (links) {
      const at = preloadAt || page.parts.find((p) => p.kind === 'module');
      edits.set(at, at.kind === 'module' ? links + '\n' + edits.get(at) : links);
    }
    put(page.name, rewrite(page, edits));
  }

  // Everything else of web/, as it is.
  for (const rel of walk(web)) {
    const top = rel.split('/')[0];
    if (SOURCES.has(top) || (!rel.includes('/') && rel.endsWith('.html'))) continue;
    put(rel, fs.readFileSync(path.join(web, rel)));
  }

  // The service worker (js/sw.js), with the shell it keeps: the map's page,
  // what it names, the strings of every language, config.json. (The guide,
  // a page read once, is left to the network: its bytes would weigh on
  // every first visit.)
  const swSource = path.join(web, 'js', 'sw.js');
  if (fs.existsSync(swSource) && pages.length) {
    const shell = new Set();
    for (const page of pages.filter((p) => p.name === 'index.html')) {
      shell.add(page.name);
      for (const m of files.get(page.name).toString('utf8').matchAll(/<(script|link)\b([^>]*)>/gi)) {
        const a = attributes(m[2]);
        const rel = localPath(attr(a, 'src') || attr(a, 'href'));
        if (rel && files.has(rel)) shell.add(rel);
      }
    }
    for (const rel of files.keys()) if (/^i18n\/[^/]+\.json$/.test(rel) || rel === 'config.json') shell.add(rel);
    const list = [...shell].sort();
    const version = crypto.createHash('sha256');
    for (const rel of list) version.update(rel + '\0').update(files.get(rel));
    const code = fs.readFileSync(swSource, 'utf8');
    const r = await esbuild.transform(
      `const VERSION = ${JSON.stringify(hashOf(version.update(code).digest()))};\nconst PRECACHE = ${JSON.stringify(list)};\n` + code,
      { minify: true, target: TARGET, charset: 'utf8', loader: 'js', sourcefile: 'sw.js', legalComments: 'eof', logLevel: 'warning' });
    put(SERVICE_WORKER, r.code);
  }

  // Every resource the pages name must be there.
  for (const page of pages) {
    const html = files.get(page.name).toString('utf8');
    for (const m of html.matchAll(/<(script|link|img|source)\b([^>]*)>/gi)) {
      const a = attributes(m[2]);
      for (const u of [attr(a, 'src'), attr(a, 'href')]) {
        const rel = u && localPath(u);
        if (rel && !files.has(rel)) fail(`${page.name} names ${u}, which the build does not write`);
      }
    }
    if (/<script\b[^>]*type\s*=\s*["']?importmap/i.test(html)) fail(`${page.name}: an importmap is left`);
  }

  // Precompressed siblings, after their originals.
  if (compress) {
    for (const [rel, bytes] of [...files]) {
      if (!TEXT_EXT.has(path.extname(rel).toLowerCase())) continue;
      const gz = zlib.gzipSync(bytes, { level: 9 });
      const br = zlib.brotliCompressSync(bytes, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
      if (gz.length < bytes.length) put(rel + '.gz', gz);
      if (br.length < bytes.length) put(rel + '.br', br);
    }
  }

  // What a cold anonymous visit of the map, in French, fetches from here.
  const visit = [];
  const index = files.has('index.html') ? files.get('index.html').toString('utf8') : '';
  if (index) {
    visit.push('index.html');
    for (const m of index.matchAll(/<(script|link)\b([^>]*)>/gi)) {
      const a = attributes(m[2]);
      const rel = localPath(attr(a, 'src') || attr(a, 'href'));
      if (rel && files.has(rel) && !visit.includes(rel)) visit.push(rel);
    }
    // MapLibre, imported dynamically at start on a device that can draw the
    // map: the chunk holding it (it names the worker), then the worker.
    const reach = (rel, seen) => {
      for (const im of (outputOf(rel) || { imports: [] }).imports) {
        const r = path.relative(out, path.resolve(web, im.path)).split(path.sep).join('/');
        if (!im.external && !seen.has(r)) { seen.add(r); reach(r, seen); }
      }
      return seen;
    };
    const all = new Set();
    for (const rel of visit) if (rel.endsWith('.js')) reach(rel, all);
    for (const rel of [...all].sort()) {
      if (!visit.includes(rel) && workerName && files.get(rel).includes(workerName)) visit.push(rel);
    }
    if (workerName && files.has(`assets/${workerName}`)) visit.push(`assets/${workerName}`);
    for (const f of ['config.json', 'i18n/fr.json']) if (files.has(f)) visit.push(f);
  }
  return { files, visit, ownJs, metafile, inlined };
}

/* Writes files to out: into a new directory beside it, then swapped in. */
export function writeSite(out, files) {
  out = path.resolve(out);
  const tmp = `${out}.new-${process.pid}`, old = `${out}.old-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [rel, bytes] of files) {
    const f = path.join(tmp, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, bytes);
  }
  let had = false;
  try { fs.renameSync(out, old); had = true; } catch (e) { if (e.code !== 'ENOENT') throw e; }
  fs.renameSync(tmp, out);
  if (had) fs.rmSync(old, { recursive: true, force: true });
}

const kb = (n) => (n / 1024).toFixed(1).padStart(8);

/** The table of what a cold visit fetches: raw, gzip and brotli bytes. */
export function sizeTable(files, visit) {
  const rows = [];
  const tot = [0, 0, 0];
  for (const rel of visit) {
    const raw = files.get(rel).length;
    const gz = files.has(rel + '.gz') ? files.get(rel + '.gz').length : raw;
    const br = files.has(rel + '.br') ? files.get(rel + '.br').length : gz;
    tot[0] += raw; tot[1] += gz; tot[2] += br;
    rows.push(`${kb(raw)} ${kb(gz)} ${kb(br)}  ${rel}`);
  }
  return ['     raw KB    gz KB    br KB', ...rows, `${kb(tot[0])} ${kb(tot[1])} ${kb(tot[2])}  total (the API and tiles not counted)`].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out || process.argv.length > 3) {
    console.error('usage: node web/build.mjs OUT_DIR');
    process.exit(2);
  }
  try {
    const t0 = Date.now();
    const { files, visit, inlined } = await buildWeb({ out });
    writeSite(out, files);
    console.log(`web: ${files.size} files written to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s; a cold visit of the map fetches:`);
    console.log(sizeTable(files, visit));
    for (const i of inlined) console.log(`web: ${i.src} (${i.bytes} bytes) is inlined in the pages; a Content-Security-Policy allows it with script-src ${i.csp}`);
  } catch (e) {
    console.error('web/build.mjs: ' + (e instanceof BuildError ? e.message : e.stack || e));
    process.exit(1);
  }
}
