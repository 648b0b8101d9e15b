// tests/tiles/js/check_tiles.mjs [--buffer N] DIR — checks every tile of DIR
// (files KIND-Z-X-Y.mvt or KIND-Z-X-Y@VIEWER.mvt, KIND being data, empty or
// any; see tests/tiles/decode_tiles.sh) with two independent decoders.
//
// @mapbox/vector-tile: the tile decodes; layer names are unique (counted on
// the wire, as the decoder keeps one layer a name) and no layer is empty;
// every layer is version 2 with a positive extent; every feature has a known
// type, its properties decode and loadGeometry reads it; every coordinate
// lies within the extent and its buffer; points are single positions, lines
// have two points or more; polygon rings are closed by ClosePath, have
// three points or more and a non-zero area, the first ring is an exterior
// (positive area by the surveyor's formula in y-down tile coordinates, i.e.
// clockwise on screen, MVT 2.1 4.3.4.4), and classifyRings groups all rings
// into polygons each led by an exterior followed by holes; toGeoJSON works.
// A feature with point_count (a cluster) has a positive integer count.
//
// GDAL's MVT driver (ogrinfo -ro -al -so): the same layer names and feature
// counts; and every polygon valid by GEOS (ST_IsValid in GDAL's SQLite
// dialect). CLIP=NO keeps GDAL from cutting geometries at the tile edge, so
// features lying only in the buffer are counted by both readers.
//
// A data tile must hold features, an empty one must be 0 bytes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodeTile, loadDecoders, reporter, ringArea2 } from './decode.mjs';

const args = process.argv.slice(2);
let buffer = 64;
if (args[0] === '--buffer') {
    buffer = Number(args[1]);
    args.splice(0, 2);
}
const dir = args[0];
if (!dir || !Number.isInteger(buffer) || buffer < 0) {
    console.error('usage: node check_tiles.mjs [--buffer N] DIR');
    process.exit(2);
}
const dec = await loadDecoders();
const r = reporter();

// The number of Layer messages on the wire (Tile field 3).
function wireLayers(buf) {
    let n = 0;
    new dec.PbfReader(buf).readFields(tag => { n += tag === 3; }, null);
    return n;
}

// Problems of one feature of layer l, as strings.
function featureProblems(l, f) {
    const bad = [];
    const lo = -buffer, hi = l.extent + buffer;
    if (f.type < 1 || f.type > 3)
        return [`type ${f.type}`];
    for (const [k, v] of Object.entries(f.properties))
        if (!['string', 'number', 'boolean'].includes(typeof v))
            bad.push(`property ${k} of type ${typeof v}`);
    if ('point_count' in f.properties && !(Number.isInteger(f.properties.point_count) && f.properties.point_count > 0))
        bad.push(`point_count ${f.properties.point_count}`);
    const g = f.geometry;
    if (!g.length)
        bad.push('no geometry');
    for (const part of g)
        for (const [x, y] of part)
            if (!(x >= lo && x <= hi && y >= lo && y <= hi)) {
                bad.push(`point (${x}, ${y}) beyond the extent and buffer [${lo}, ${hi}]`);
                break;
            }
    if (f.type === 1 && g.some(part => part.length !== 1))
        bad.push('a point part of more than one position');
    if (f.type === 2 && g.some(part => part.length < 2))
        bad.push('a line of fewer than two points');
    if (f.type === 3) {
        for (const ring of g) {
            const [a, b] = [ring[0], ring[ring.length - 1]];
            if (ring.length < 4 || a[0] !== b[0] || a[1] !== b[1])
                bad.push(`a ring of ${ring.length - 1} points, or not closed`);
            else if (ringArea2(ring) === 0)
                bad.push('a ring of zero area');
        }
        if (g.length && ringArea2(g[0]) <= 0)
            bad.push('the first ring is not an exterior (positive area, clockwise on screen)');
        const polys = dec.classifyRings(f.feature.loadGeometry());
        const rings = polys.reduce((n, p) => n + p.length, 0);
        if (rings !== g.length)
            bad.push(`classifyRings kept ${rings} of ${g.length} rings`);
        for (const p of polys)
            p.forEach((ring, i) => {
                const a = ringArea2(ring.map(q => [q.x, q.y]));
                if ((a > 0) !== (i === 0))
                    bad.push(`classifyRings: ring ${i} of a polygon has area ${a / 2}`);
            });
    }
    return bad;
}

// What GDAL's MVT driver reads: {layers: Map name -> count, polygons: Map
// name -> [n, valid]}, or {error}.
function gdal(file, z, x, y) {
    const oo = ['-oo', 'CLIP=NO', '-oo', `Z=${z}`, '-oo', `X=${x}`, '-oo', `Y=${y}`];
    const so = spawnSync('ogrinfo', ['-ro', '-al', '-so', ...oo, file], { encoding: 'utf8' });
    if (so.status !== 0)
        return { error: `ogrinfo: exit ${so.status}: ${so.stderr.trim()}` };
    const layers = new Map();
    let name = null;
    for (const line of so.stdout.split('\n')) {
        let m;
        if ((m = /^Layer name: (.*)$/.exec(line)))
            name = m[1];
        else if ((m = /^Feature Count: (\d+)$/.exec(line)) && name !== null)
            layers.set(name, Number(m[1]));
    }
    const polygons = new Map();
    if (!layers.size)
        return { layers, polygons };
    const sql = [...layers.keys()].map(n => `SELECT '${n.replace(/'/g, "''")}' AS layer, count(*) AS n, ` +
        `total(ST_IsValid(geometry)) AS valid FROM "${n.replace(/"/g, '""')}" ` +
        "WHERE GeometryType(geometry) LIKE '%POLYGON%'").join(' UNION ALL ');
    const q = spawnSync('ogrinfo', ['-ro', '-q', ...oo, '-dialect', 'SQLite', '-sql', sql, file], { encoding: 'utf8' });
    if (q.status !== 0)
        return { error: `ogrinfo -sql: exit ${q.status}: ${q.stderr.trim()}` };
    let cur = null;
    for (const line of q.stdout.split('\n')) {
        let m;
        if ((m = /^\s*layer \(String\) = (.*)$/.exec(line)))
            polygons.set(cur = m[1], [0, 0]);
        else if ((m = /^\s*n \(Integer\) = (\d+)$/.exec(line)) && cur !== null)
            polygons.get(cur)[0] = Number(m[1]);
        else if ((m = /^\s*valid \(Real\) = ([\d.]+)$/.exec(line)) && cur !== null)
            polygons.get(cur)[1] = Number(m[1]);
    }
    return { layers, polygons };
}

const files = fs.readdirSync(dir).filter(f => /^(data|empty|any)-\d+-\d+-\d+(@[\w-]+)?\.mvt$/.test(f));
const sum = { tiles: 0, empty: 0, layers: new Map(), features: 0, polygons: 0, rings: 0, bytes: 0 };
for (const file of files.sort()) {
    const [address, viewer] = file.slice(0, -4).split('@');
    const [kind, z, x, y] = address.split('-');
    const name = `${z}/${x}/${y}${viewer ? ` (viewer ${viewer})` : ''}`;
    const buf = fs.readFileSync(path.join(dir, file));
    sum.tiles++;
    sum.bytes += buf.length;
    if (kind === 'empty') {
        r.check(`${name}: far from the data, empty`, buf.length === 0, `${buf.length} bytes`);
        continue;
    }
    if (buf.length === 0) {
        sum.empty++;
        r.check(`${name}: empty`, kind !== 'data', 'a tile over the data is empty');
        continue;
    }
    let tile;
    try {
        tile = decodeTile(dec, buf);
    } catch (e) {
        r.check(`${name}: @mapbox/vector-tile decodes it`, false, e.message);
        continue;
    }
    const names = tile.layers.map(l => l.name);
    r.check(`${name}: ${names.length} layers (${names}), each named once and not empty`,
            names.length > 0 && wireLayers(buf) === names.length && names.every(n => n.length));
    const problems = [];
    for (const l of tile.layers) {
        sum.layers.set(l.name, (sum.layers.get(l.name) || 0) + l.features.length);
        if (l.version !== 2 || !(l.extent > 0))
            problems.push(`layer ${l.name}: version ${l.version}, extent ${l.extent}`);
        for (const [i, f] of l.features.entries()) {
            sum.features++;
            if (f.type === 3) {
                sum.polygons++;
                sum.rings += f.geometry.length;
            }
            let bad;
            try {
                bad = featureProblems(l, f);
                f.feature.toGeoJSON(Number(x), Number(y), Number(z));
            } catch (e) {
                bad = [`throws ${e.message}`];
            }
            if (bad.length)
                problems.push(`layer ${l.name} feature ${i} (id ${f.id}): ${bad.join('; ')}`);
        }
    }
    r.check(`${name}: every feature sound by @mapbox/vector-tile (${tile.layers.map(l => `${l.name} ${l.features.length}`).join(', ')})`,
            problems.length === 0, `\n    ${problems.slice(0, 10).join('\n    ')}` +
            (problems.length > 10 ? `\n    ... ${problems.length - 10} more` : ''));
    const g = gdal(path.join(dir, file), z, x, y);
    if (!r.check(`${name}: GDAL's MVT driver reads it`, !g.error, g.error))
        continue;
    const ours = tile.layers.map(l => `${l.name}:${l.features.length}`).sort().join(' ');
    const theirs = [...g.layers].map(([n, c]) => `${n}:${c}`).sort().join(' ');
    r.check(`${name}: GDAL agrees on layers and feature counts`, ours === theirs,
            `vector-tile ${ours}, GDAL ${theirs}`);
    const invalid = [...g.polygons].filter(([, [n, v]]) => n !== v);
    r.check(`${name}: polygons valid by GEOS after GDAL's decoding ` +
            `(${[...g.polygons].map(([n, [c]]) => `${n} ${c}`).join(', ') || 'none'})`,
            invalid.length === 0, invalid.map(([n, [c, v]]) => `${n}: ${c - v} of ${c} invalid`).join(', '));
}
console.log(`# ${sum.tiles} tiles checked (${(sum.bytes / 1024).toFixed(0)} KiB), ${sum.empty} empty near the data; ` +
            `${sum.features} features (${sum.polygons} polygons, ${sum.rings} rings): ` +
            [...sum.layers].map(([n, c]) => `${n} ${c}`).join(', '));
r.check('tiles were drawn', sum.tiles > 0);
r.finish();
