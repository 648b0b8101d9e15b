// tests/tiles/js/check_fixtures.mjs MVT_JSON — our MVT encoder against an
// independent decoder, @mapbox/vector-tile.
//
// 1. Fixtures: every @mapbox/mvt-fixtures fixture valid under spec version 2
//    is decoded, written as mvt_json's JSON, re-encoded by our encoder
//    (MVT_JSON, tests/tiles/mvt_json.c) and decoded again; both decodings
//    must agree exactly: layer names and order, extents, feature counts,
//    ids, types, properties, and loadGeometry's coordinates. A fixture whose
//    feature mvt_json cannot encode (exit 2) is skipped and its reason shown.
// 2. Real-world tiles shipped with mvt-fixtures: the same round trip, with
//    features our encoder refuses left out of both sides and counted. The
//    first three tiles of each place by default (a few seconds); all 211
//    with ENTRAIDE_REAL_WORLD=all in the environment.
// 3. Golden geometries (points, multipoints, lines, multilines, polygons
//    with holes, multipolygons) encoded through mvt_json and compared within
//    one tile unit after decoding; polygon rings keep their winding (exterior
//    positive area in y-down tile coordinates) and classifyRings groups them
//    into the polygons they came from. mvt_json's own refusals are checked too.
//
// Numbers: vector-tile decodes the float, double, int, uint and sint value
// types all to a JavaScript number (int64 and uint64 rounded to a double). The
// JSON carries that number: integral and within int64 it is written as an
// integer and our encoder stores an int64; otherwise it is written with a
// fraction or exponent and stored as a double. A float fixture value is a
// float32 widened to a double, which the double keeps exactly. So the second
// decoding yields the same JavaScript numbers, compared with ===, while the
// wire types may differ (float -> double, uint/sint -> int, 2.0 -> int 2).
// Non-finite numbers have no JSON form: such a fixture would be skipped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';
import zlib from 'node:zlib';
import { decodeTile, loadDecoders, need, reporter, ringArea2 } from './decode.mjs';

const mvtJson = process.argv[2];
if (!mvtJson || !fs.existsSync(mvtJson)) {
    console.error('usage: node check_fixtures.mjs PATH_TO_MVT_JSON');
    process.exit(2);
}
const dec = await loadDecoders();
const fixtures = await need('@mapbox/mvt-fixtures');
const r = reporter();

// JSON text of a number as described above; throws for non-finite ones.
function num(v) {
    if (!Number.isFinite(v))
        throw new Error(`non-finite number ${v}`);
    if (Number.isInteger(v) && Math.abs(v) < 2 ** 63)
        return BigInt(v).toString();
    const s = String(v);
    return /[.e]/.test(s) ? s : v.toExponential();
}

function json(v) {
    if (typeof v === 'number')
        return num(v);
    if (Array.isArray(v))
        return `[${v.map(json).join(',')}]`;
    if (v && typeof v === 'object')
        return `{${Object.keys(v).map(k => `${JSON.stringify(k)}:${json(v[k])}`).join(',')}}`;
    return JSON.stringify(v === undefined ? null : v);
}

// mvt_json's input for a decoded tile. A polygon ring's last point is the
// copy of its first that loadGeometry adds for ClosePath: it is dropped, as
// our encoder closes rings itself.
function toInput(tile) {
    return {
        layers: tile.layers.map(l => ({
            name: l.name,
            extent: l.extent,
            features: l.features.map(f => ({
                id: f.id === undefined ? null : f.id,
                type: f.type,
                properties: f.properties,
                geometry: f.type !== 3 ? f.geometry : f.geometry.map(ring => {
                    const [a, b] = [ring[0], ring[ring.length - 1]];
                    return ring.length > 1 && a[0] === b[0] && a[1] === b[1] ? ring.slice(0, -1) : ring;
                }),
            })),
        })),
    };
}

// Runs mvt_json on doc: {status, tile (Buffer), stderr}.
function encode(doc, args = []) {
    const p = spawnSync(mvtJson, args, { input: json(doc), maxBuffer: 1 << 28 });
    if (p.error)
        throw p.error;
    return { status: p.status, tile: p.stdout, stderr: p.stderr.toString().trim() };
}

// The first difference between two decoded tiles, or null.
function difference(a, b) {
    if (a.layers.length !== b.layers.length)
        return `${a.layers.length} layers, then ${b.layers.length}`;
    for (let i = 0; i < a.layers.length; i++) {
        const la = a.layers[i], lb = b.layers[i];
        if (la.name !== lb.name)
            return `layer ${i}: name ${la.name}, then ${lb.name}`;
        if (la.extent !== lb.extent)
            return `layer ${la.name}: extent ${la.extent}, then ${lb.extent}`;
        if (la.features.length !== lb.features.length)
            return `layer ${la.name}: ${la.features.length} features, then ${lb.features.length}`;
        for (let j = 0; j < la.features.length; j++) {
            const fa = la.features[j], fb = lb.features[j], where = `layer ${la.name} feature ${j}`;
            if (fa.id !== fb.id)
                return `${where}: id ${fa.id}, then ${fb.id}`;
            if (fa.type !== fb.type)
                return `${where}: type ${fa.type}, then ${fb.type}`;
            const ka = Object.keys(fa.properties).sort(), kb = Object.keys(fb.properties).sort();
            if (ka.join('\0') !== kb.join('\0'))
                return `${where}: keys ${ka}, then ${kb}`;
            for (const k of ka)
                if (fa.properties[k] !== fb.properties[k] || typeof fa.properties[k] !== typeof fb.properties[k])
                    return `${where}: ${k} = ${fa.properties[k]}, then ${fb.properties[k]}`;
            if (JSON.stringify(fa.geometry) !== JSON.stringify(fb.geometry))
                return `${where}: geometry ${JSON.stringify(fa.geometry).slice(0, 200)}, ` +
                       `then ${JSON.stringify(fb.geometry).slice(0, 200)}`;
        }
    }
    return null;
}

// 1. The fixtures.
const stats = { total: 0, invalid: [], compared: 0, equal: 0, skipped: [] };
const ids = fs.readdirSync(path.join(path.dirname(url.fileURLToPath(import.meta.resolve('@mapbox/mvt-fixtures'))), 'src'))
    .filter(f => f.endsWith('.json')).map(f => f.slice(0, -5)).sort();

for (const id of ids) {
    const fx = fixtures.get(id);
    stats.total++;
    if (!fx.validity || fx.validity.v2 !== true) {
        stats.invalid.push(id);
        continue;
    }
    let orig, doc;
    try {
        orig = decodeTile(dec, fx.buffer);
        doc = toInput(orig);
        json(doc);
    } catch (e) {
        r.check(`fixture ${id}: decodes and has a JSON form`, false, e.message);
        continue;
    }
    const out = encode(doc);
    if (out.status === 2) {
        stats.skipped.push(`${id} (${fx.description.slice(0, 60)}...): ${out.stderr}`);
        continue;
    }
    if (!r.check(`fixture ${id}: mvt_json encodes it`, out.status === 0, `exit ${out.status}: ${out.stderr}`))
        continue;
    stats.compared++;
    let again;
    try {
        again = decodeTile(dec, out.tile);
    } catch (e) {
        r.check(`fixture ${id}: our tile decodes`, false, e.message);
        continue;
    }
    const diff = difference(orig, again);
    if (r.check(`fixture ${id}: our re-encoding decodes to the same features`, !diff, diff))
        stats.equal++;
}
console.log(`# fixtures: ${stats.total} in @mapbox/mvt-fixtures, ${stats.total - stats.invalid.length} valid ` +
            `(spec v2), ${stats.compared} compared, ${stats.equal} equal, ${stats.skipped.length} skipped`);
console.log(`#   not valid under v2, not compared: ${stats.invalid.join(' ')}`);
for (const s of stats.skipped)
    console.log(`#   skipped ${s}`);

// 2. The real-world tiles: every feature our encoder accepts must come back
// as it was; the ones it refuses are counted, by reason.
const realDir = path.join(path.dirname(url.fileURLToPath(import.meta.resolve('@mapbox/mvt-fixtures'))), 'real-world');
const real = { tiles: 0, features: 0, refused: 0, reasons: new Map() };
const perPlace = process.env.ENTRAIDE_REAL_WORLD === 'all' ? Infinity : 3;
for (const place of fs.readdirSync(realDir).sort()) {
    const dir = path.join(realDir, place);
    if (!fs.statSync(dir).isDirectory())
        continue;
    const tiles = fs.readdirSync(dir).filter(f => /\.mvt(\.gz)?$/.test(f)).sort();
    for (const file of tiles.slice(0, perPlace)) {
        let buf = fs.readFileSync(path.join(dir, file));
        if (file.endsWith('.gz'))
            buf = zlib.gunzipSync(buf);
        const name = `real-world ${place}/${file}`;
        const orig = decodeTile(dec, buf);
        const out = encode(toInput(orig), ['--drop-refused']);
        if (!r.check(`${name}: mvt_json encodes it`, out.status === 0, `exit ${out.status}: ${out.stderr}`))
            continue;
        const dropped = new Set();
        for (const line of out.stderr.split('\n')) {
            const m = /^refused (\d+) (\d+): (.*)$/.exec(line);
            if (!m)
                continue;
            dropped.add(`${m[1]} ${m[2]}`);
            const reason = m[3].replace(/-?\d+/g, 'N');
            real.reasons.set(reason, (real.reasons.get(reason) || 0) + 1);
        }
        const kept = {
            layers: orig.layers.map((l, li) => ({ ...l, features: l.features.filter((f, fi) => !dropped.has(`${li} ${fi}`)) }))
                .filter(l => l.features.length),
        };
        real.tiles++;
        real.refused += dropped.size;
        real.features += kept.layers.reduce((n, l) => n + l.features.length, 0);
        let again;
        try {
            again = decodeTile(dec, out.tile);
        } catch (e) {
            r.check(`${name}: our tile decodes`, false, e.message);
            continue;
        }
        r.quiet = true;
        r.check(`${name}: our re-encoding decodes to the same features`, !difference(kept, again),
                difference(kept, again));
        r.quiet = false;
    }
}
console.log(`# real-world tiles: ${real.tiles} re-encoded${perPlace === Infinity ? '' : ' (ENTRAIDE_REAL_WORLD=all for all)'}, ${real.features} features equal after the round trip, ` +
            `${real.refused} refused by our encoder`);
for (const [reason, n] of real.reasons)
    console.log(`#   refused ${n}: ${reason}`);

// 3. Golden geometries, written here in tile coordinates, closed rings as
// given by loadGeometry. Each is encoded alone and compared within one unit.
const golden = [
    { name: 'point', type: 1, id: 1, geometry: [[[25, 17]]] },
    { name: 'point on the extent edge', type: 1, id: 0, geometry: [[[4096, 0]]] },
    { name: 'point in the buffer', type: 1, geometry: [[[-64, 4160]]] },
    { name: 'multipoint', type: 1, id: 2, geometry: [[[5, 7]], [[3, 2]], [[4000, 4000]], [[5, 7]]] },
    { name: 'line', type: 2, id: 3, geometry: [[[2, 2], [2, 10], [10, 10]]] },
    { name: 'line with a long jump', type: 2, geometry: [[[-64, -64], [4160, 4160], [0, 4096]]] },
    { name: 'multiline', type: 2, id: 4, geometry: [[[2, 2], [2, 10], [10, 10]], [[1, 1], [3, 5]]] },
    { name: 'square', type: 3, id: 5, geometry: [[[3, 6], [8, 12], [20, 34], [3, 6]]] },
    { name: 'polygon with a hole', type: 3, id: 6,
      geometry: [[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], [[20, 20], [20, 80], [80, 80], [80, 20], [20, 20]]],
      polygons: [2] },
    { name: 'polygon with two holes', type: 3,
      geometry: [[[0, 0], [1000, 0], [1000, 1000], [0, 1000], [0, 0]],
                 [[100, 100], [100, 200], [200, 200], [200, 100], [100, 100]],
                 [[500, 500], [500, 900], [900, 900], [500, 500]]],
      polygons: [3] },
    { name: 'multipolygon', type: 3, id: 7,
      geometry: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
                 [[11, 11], [20, 11], [20, 20], [11, 20], [11, 11]],
                 [[13, 13], [13, 17], [17, 17], [17, 13], [13, 13]]],
      polygons: [1, 2] },
    { name: 'polygon covering the tile and its buffer', type: 3,
      geometry: [[[-64, -64], [4160, -64], [4160, 4160], [-64, 4160], [-64, -64]]], polygons: [1] },
];
const goldenProps = { name: 'Café de la Paix', n: -5, big: 2 ** 53 - 1, x: 2.5, tiny: 1e-300, ok: true, no: false, empty: '' };

function near(a, b) {
    return a.length === b.length && a.every((part, i) => part.length === b[i].length &&
        part.every((p, j) => Math.abs(p[0] - b[i][j][0]) <= 1 && Math.abs(p[1] - b[i][j][1]) <= 1));
}

for (const g of golden) {
    const doc = { layers: [{ name: 'golden', extent: 4096, features: [{
        id: g.id ?? null, type: g.type, properties: goldenProps,
        geometry: toInput({ layers: [{ features: [{ type: g.type, geometry: g.geometry }] }] }).layers[0].features[0].geometry,
    }] }] };
    const out = encode(doc);
    if (!r.check(`golden ${g.name}: encodes`, out.status === 0, `exit ${out.status}: ${out.stderr}`))
        continue;
    const t = decodeTile(dec, out.tile);
    const f = t.layers[0]?.features[0];
    r.check(`golden ${g.name}: one feature, type ${g.type}, id ${g.id}`,
            t.layers.length === 1 && t.layers[0].name === 'golden' && t.layers[0].extent === 4096 &&
            t.layers[0].features.length === 1 && f.type === g.type && f.id === g.id);
    if (!f)
        continue;
    r.check(`golden ${g.name}: geometry within one unit`, near(f.geometry, g.geometry),
            `${JSON.stringify(f.geometry)} instead of ${JSON.stringify(g.geometry)}`);
    const bad = Object.keys(goldenProps).filter(k => f.properties[k] !== goldenProps[k]);
    r.check(`golden ${g.name}: properties`, bad.length === 0 &&
            Object.keys(f.properties).length === Object.keys(goldenProps).length, `differ: ${bad}`);
    if (g.type === 3) {
        const polys = dec.classifyRings(f.feature.loadGeometry());
        r.check(`golden ${g.name}: classifyRings finds ${g.polygons || [1]} rings a polygon`,
                JSON.stringify(polys.map(p => p.length)) === JSON.stringify(g.polygons || [1]));
        r.check(`golden ${g.name}: exterior rings positive (clockwise on screen), holes negative`,
                polys.every(p => p.every((ring, i) =>
                    (ringArea2(ring.map(q => [q.x, q.y])) > 0) === (i === 0))));
    }
}

// mvt_json says which feature it cannot encode, and why, with exit 2.
const refusals = [
    ['a ring of two points', { type: 3, geometry: [[[0, 0], [5, 5]]] }, /refuses its geometry/],
    ['a line of one point', { type: 2, geometry: [[[0, 0]], [[1, 1], [2, 2]]] }, /refuses its geometry/],
    ['an empty geometry', { type: 1, geometry: [] }, /empty geometry/],
    ['an unknown geometry type', { type: 0, geometry: [[[1, 1]]] }, /geometry type 0/],
    ['a coordinate beyond int32', { type: 1, geometry: [[[2 ** 31, 0]]] }, /beyond int32/],
];
for (const [name, feature, why] of refusals) {
    const ok = { type: 1, geometry: [[[1, 1]]] };
    const out = encode({ layers: [{ name: 'l', extent: 4096, features: [ok, feature] }] });
    r.check(`mvt_json refuses ${name}, naming feature 1`, out.status === 2 && /feature 1: /.test(out.stderr) &&
            why.test(out.stderr), `exit ${out.status}: ${out.stderr}`);
}

r.finish();
