// tests/tiles/js/decode.mjs — what check_fixtures.mjs and check_tiles.mjs
// share: loading the npm decoders (with a clear failure when they are not
// installed), decoding a tile with @mapbox/vector-tile into plain objects,
// ring areas in the MVT sense, and a "N passed, N failed" reporter.

// Packages are imported at run time so that a missing node_modules is
// reported as what it is, with the fix, rather than as a module stack trace.
export async function need(name) {
    try {
        return await import(name);
    } catch (e) {
        if (e.code !== 'ERR_MODULE_NOT_FOUND')
            throw e;
        console.error(`FAIL - npm package ${name} is not installed in tests/tiles/js: ` +
                      'run `make deps` (it runs npm ci there)');
        console.log('0 passed, 1 failed');
        process.exit(1);
    }
}

export async function loadDecoders() {
    const vt = await need('@mapbox/vector-tile');
    const pbf = await need('pbf');
    return { VectorTile: vt.VectorTile, classifyRings: vt.classifyRings, PbfReader: pbf.PbfReader };
}

// The tile in buf as {layers: [{name, extent, version, features: [{id, type,
// properties, geometry}]}]}, geometry being loadGeometry's parts as [x, y]
// arrays. Throws what vector-tile throws on a malformed tile.
export function decodeTile(dec, buf) {
    const tile = new dec.VectorTile(new dec.PbfReader(buf));
    const layers = [];
    for (const name of Object.keys(tile.layers)) {
        const l = tile.layers[name];
        const features = [];
        for (let i = 0; i < l.length; i++) {
            const f = l.feature(i);
            features.push({
                id: f.id,
                type: f.type,
                properties: { ...f.properties },
                geometry: f.loadGeometry().map(part => part.map(p => [p.x, p.y])),
                feature: f,
            });
        }
        layers.push({ name, extent: l.extent, version: l.version, features });
    }
    return { layers };
}

// Twice the ring's area by the surveyor's formula in tile coordinates (y
// pointing down): positive for an exterior ring as MVT 2.1 (4.3.4.4) wants,
// which is clockwise on screen; negative for a hole. A closing point equal
// to the first adds nothing.
export function ringArea2(ring) {
    let s = 0;
    for (let i = 0; i < ring.length; i++) {
        const [x1, y1] = ring[i], [x2, y2] = ring[(i + 1) % ring.length];
        s += x1 * y2 - x2 * y1;
    }
    return s;
}

// Checks with "ok - NAME" / "FAIL - NAME: why" lines, and the closing
// "N passed, N failed" line.
export function reporter() {
    const r = {
        passed: 0,
        failed: 0,
        check(name, ok, why) {
            if (ok) {
                r.passed++;
                if (!r.quiet)
                    console.log(`ok - ${name}`);
            } else {
                r.failed++;
                console.log(`FAIL - ${name}${why ? `: ${why}` : ''}`);
            }
            return ok;
        },
        quiet: false,
        finish() {
            console.log(`${r.passed} passed, ${r.failed} failed`);
            process.exitCode = r.failed ? 1 : 0;
        },
    };
    return r;
}
