/*
 * tests/e2e/pmtiles_fixture.mjs — a small raster PMTiles (v3) archive made
 * for the basemap test: PNG tiles of a plain grid over a bounding box, zooms
 * 0 to maxZoom. Tile ids come from the pmtiles package's zxyToTileId; the
 * header and the root directory are written as the PMTiles v3 specification
 * lays them out (no internal compression, clustered tile data).
 */
import zlib from 'node:zlib';

/** A 256×256 RGB PNG: a pale fill with grid lines every 32 px. */
export function gridPng([r, g, b], [lr, lg, lb]) {
  const size = 256;
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const line = x % 32 === 0 || y % 32 === 0;
      raw.set(line ? [lr, lg, lb] : [r, g, b], row + 1 + x * 3);
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function varints(values) {
  const out = [];
  for (let v of values) {
    while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
    out.push(v);
  }
  return Buffer.from(out);
}

function lon2x(lon, z) { return Math.floor((lon + 180) / 360 * 2 ** z); }
function lat2y(lat, z) {
  const r = lat * Math.PI / 180;
  return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * 2 ** z);
}

/**
 * The archive's bytes: every tile of zooms 0..maxZoom touching bounds
 * [W, S, E, N], all pointing at the same PNG (identical contents share one
 * offset, as the format allows).
 */
export function rasterArchive(zxyToTileId, bounds, maxZoom) {
  const png = gridPng([226, 236, 214], [196, 210, 184]);
  const ids = [];
  for (let z = 0; z <= maxZoom; z++)
    for (let x = lon2x(bounds[0], z); x <= lon2x(bounds[2], z); x++)
      for (let y = lat2y(bounds[3], z); y <= lat2y(bounds[1], z); y++) ids.push(zxyToTileId(z, x, y));
  ids.sort((a, b) => a - b);
  // Every entry points at offset 0. An offset is written as offset + 1, or
  // as 0 for "right after the previous entry", which is never the case here.
  const directory = Buffer.concat([
    varints([ids.length]),
    varints(ids.map((id, i) => id - (i ? ids[i - 1] : 0))),
    varints(ids.map(() => 1)),            // run lengths
    varints(ids.map(() => png.length)),   // lengths
    varints(ids.map(() => 1)),            // offsets: 0 + 1
  ]);
  const metadata = Buffer.from(JSON.stringify({ name: 'e2e grid', attribution: 'E2E test basemap' }));
  const H = 127;
  const header = Buffer.alloc(H);
  header.write('PMTiles', 0, 'ascii');
  header[7] = 3;
  const u64 = (v, at) => header.writeBigUInt64LE(BigInt(v), at);
  const rootOff = H, metaOff = rootOff + directory.length, dataOff = metaOff + metadata.length;
  u64(rootOff, 8); u64(directory.length, 16);
  u64(metaOff, 24); u64(metadata.length, 32);
  u64(0, 40); u64(0, 48);                       // no leaf directories
  u64(dataOff, 56); u64(png.length, 64);
  u64(ids.length, 72); u64(ids.length, 80); u64(1, 88);
  header[96] = 0;        // not clustered: many entries share one tile
  header[97] = 1;        // internal compression: none
  header[98] = 1;        // tile compression: none
  header[99] = 2;        // tile type: png
  header[100] = 0;       // min zoom
  header[101] = maxZoom; // max zoom
  const e7 = (v, at) => header.writeInt32LE(Math.round(v * 1e7), at);
  e7(bounds[0], 102); e7(bounds[1], 106); e7(bounds[2], 110); e7(bounds[3], 114);
  header[118] = Math.min(maxZoom, 11);
  e7((bounds[0] + bounds[2]) / 2, 119); e7((bounds[1] + bounds[3]) / 2, 123);
  return Buffer.concat([header, directory, metadata, png]);
}
