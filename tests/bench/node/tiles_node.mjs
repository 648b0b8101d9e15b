// tests/bench/node/tiles_node.mjs DIR TILES — the Node peer of tests/bench/tiles.sh:
// geojson-vt cuts the features of DIR/*.geojson into tiles on request, vt-pbf
// encodes them as MVT.
//
// One geojson-vt index per layer (neighbourhoods: polygons and label points;
// addresses, asked for at zoom 16 and above only, as mapd does; shops; needs;
// makers), with mapd's tile geometry: extent 4096, buffer 64, simplification
// at half a unit, detail kept to zoom 16. geojson-vt does not cluster points:
// every point of the tile is encoded (its companion for that is supercluster,
// not measured here).
//
// Prints "# index_ms MS rss_mb MB" once the indexes are built, then for each
// "Z X Y" line of TILES: "Z X Y BYTES MICROSECONDS FIRST", the time being
// getTile on every layer plus vt-pbf's encoding, and FIRST 1 when the tile
// was not asked for before: geojson-vt keeps every tile it cuts, so a repeat
// is served from its memory.
import { readFileSync } from 'node:fs';
import GeoJSONVT from 'geojson-vt';
import vtpbf from 'vt-pbf';

const [dir, tilesPath] = process.argv.slice(2);
if (!dir || !tilesPath) {
    console.error('usage: node tiles_node.mjs DIR TILES');
    process.exit(2);
}
const read = (name) => JSON.parse(readFileSync(`${dir}/${name}.geojson`, 'utf8'));
const options = { maxZoom: 16, extent: 4096, buffer: 64, tolerance: 0.5 };

const started = process.hrtime.bigint();
const neighbourhoods = read('neighbourhoods');
neighbourhoods.features.push(...read('neighbourhood_labels').features);
const indexes = {};
for (const [name, data] of [['neighbourhoods', neighbourhoods], ['addresses', read('addresses')],
                            ['shops', read('shops')], ['needs', read('needs')],
                            ['makers', read('makers')]])
    indexes[name] = new GeoJSONVT(data, options);
const indexMs = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`# index_ms ${indexMs.toFixed(0)} rss_mb ${(process.memoryUsage().rss / 1048576).toFixed(0)}`);

const seen = new Set();
const out = [];
for (const line of readFileSync(tilesPath, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#'))
        continue;
    const [z, x, y] = line.trim().split(/\s+/).map(Number);
    const t0 = process.hrtime.bigint();
    const layers = {};
    for (const [name, index] of Object.entries(indexes)) {
        if (name === 'addresses' && z < 16)
            continue;
        const tile = index.getTile(z, x, y);
        if (tile && tile.features.length)
            layers[name] = tile;
    }
    const bytes = vtpbf.fromGeojsonVt(layers, { version: 2, extent: 4096 });
    const us = Number(process.hrtime.bigint() - t0) / 1e3;
    const key = `${z}/${x}/${y}`;
    out.push(`${z} ${x} ${y} ${bytes.length} ${us.toFixed(0)} ${seen.has(key) ? 0 : 1}`);
    seen.add(key);
}
console.log(out.join('\n'));
