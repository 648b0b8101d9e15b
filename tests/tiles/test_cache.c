/*
 * tests/tiles/test_cache.c — the tile cache: bodies survive the gzip round
 * trip with the right ETag; the byte bound holds and evicts least recently
 * used first; variants are separate; invalidation drops exactly the tiles
 * of an address or a point (expected tiles computed here from the slippy-map
 * formula, independently of tile.c); a render that raced an invalidation is
 * not stored; blobs outlive their entries; an entry's extra is handed out
 * retained, counted in the bound and released once whenever the entry lets
 * go of its blob; and concurrent use leaves no
 * stale tile behind and consistent counters.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xxhash.h>
#include <zlib.h>

#include "tiles/cache.h"
#include "tiles/tile.h"

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* n bytes that do not compress (xorshift noise) or, when compressible,
 * look like a tile: few distinct bytes in runs. */
static uint8_t *make_bytes(size_t n, uint32_t seed, int compressible)
{
    static const uint8_t few[7] = { 0x1a, 0x08, 0x12, 0x03, 'a', 'b', 'c' };
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++)
        p[i] = compressible ? few[(i / 7 + seed) % 7] : (uint8_t)next_rand(&s);
    return p;
}

/* Inflates b with tiles_blob_inflate and compares with raw. */
static void assert_blob_holds(const tiles_blob *b, const uint8_t *raw, size_t len)
{
    assert_non_null(b);
    assert_true(b->gz_len >= 18);
    assert_int_equal(b->gz[0], 0x1f);   /* the gzip magic */
    assert_int_equal(b->gz[1], 0x8b);
    assert_int_equal(b->raw_len, len);
    assert_true(b->etag == XXH3_64bits(raw, len));
    uint8_t *out;
    size_t out_len;
    assert_int_equal(tiles_blob_inflate(b, &out, &out_len), TILES_OK);
    assert_non_null(out);
    assert_int_equal(out_len, len);
    if (len)
        assert_memory_equal(out, raw, len);
    free(out);
}

/* zlib's own one-shot decoder agrees (a gzip member, nothing after it). */
static void assert_zlib_reads(const tiles_blob *b, const uint8_t *raw, size_t len)
{
    uint8_t *out = malloc(len + 1);
    assert_non_null(out);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)b->gz;
    zs.avail_in = (uInt)b->gz_len;
    zs.next_out = out;
    zs.avail_out = (uInt)len + 1;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, len);
    assert_int_equal(zs.avail_in, 0);
    if (len)
        assert_memory_equal(out, raw, len);
    inflateEnd(&zs);
    free(out);
}

static int stored(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant)
{
    const tiles_blob *b = tiles_cache_get(c, z, x, y, variant);
    tiles_blob_release(b);
    return b != NULL;
}

static void put_bytes(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant,
                      const uint8_t *raw, size_t len)
{
    const tiles_blob *b;
    assert_int_equal(tiles_cache_put(c, z, x, y, variant, raw, len,
                                     tiles_cache_generation(c), &b), TILES_OK);
    assert_non_null(b);
    tiles_blob_release(b);
}

static void put_simple(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant)
{
    uint8_t raw[64];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(z * 7 + x * 3 + y + i + strlen(variant));
    put_bytes(c, z, x, y, variant, raw, sizeof raw);
}

static void test_round_trip(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(TILES_CACHE_DEFAULT_BYTES);
    assert_non_null(c);
    size_t len = 20000;
    uint8_t *raw = make_bytes(len, 7, 1);
    const tiles_blob *put;
    assert_int_equal(tiles_cache_put(c, 14, 8298, 5636, "", raw, len,
                                     tiles_cache_generation(c), &put), TILES_OK);
    assert_blob_holds(put, raw, len);
    assert_zlib_reads(put, raw, len);
    assert_true(put->gz_len < len / 4);   /* level 6 on repetitive bytes */
    const tiles_blob *got = tiles_cache_get(c, 14, 8298, 5636, "");
    assert_ptr_equal(got, put);           /* the very same body, no copy */
    assert_blob_holds(got, raw, len);
    tiles_blob_release(got);
    tiles_blob_release(put);
    assert_null(tiles_cache_get(c, 14, 8298, 5637, ""));
    assert_null(tiles_cache_get(c, 13, 8298, 5636, ""));

    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.max_bytes, TILES_CACHE_DEFAULT_BYTES);
    assert_true(st.bytes > put->gz_len && st.bytes < put->gz_len + 1024);
    assert_int_equal(tiles_cache_check(c), TILES_OK);

    /* Incompressible bytes survive too (gzip grows them a little). */
    uint8_t *noise = make_bytes(5000, 3, 0);
    put_bytes(c, 3, 1, 2, "", noise, 5000);
    got = tiles_cache_get(c, 3, 1, 2, "");
    assert_blob_holds(got, noise, 5000);
    assert_zlib_reads(got, noise, 5000);
    tiles_blob_release(got);
    free(noise);
    free(raw);
    tiles_cache_free(c);
}

static void test_etag(void **state)
{
    (void)state;
    uint8_t *a = make_bytes(3000, 11, 1), *b = make_bytes(3000, 11, 1);
    b[1500] ^= 1;
    const tiles_blob *ba, *bb, *ba2;
    assert_int_equal(tiles_blob_new(a, 3000, &ba), TILES_OK);
    assert_int_equal(tiles_blob_new(b, 3000, &bb), TILES_OK);
    assert_int_equal(tiles_blob_new(a, 3000, &ba2), TILES_OK);
    assert_true(ba->etag == XXH3_64bits(a, 3000));
    assert_true(bb->etag == XXH3_64bits(b, 3000));
    assert_true(ba->etag != bb->etag);
    assert_true(ba->etag == ba2->etag);   /* strong: same bytes, same tag */
    assert_true(ba2 != ba);
    assert_blob_holds(bb, b, 3000);
    /* A retained blob needs one release more. */
    assert_ptr_equal(tiles_blob_retain(ba), ba);
    tiles_blob_release(ba);
    assert_true(ba->etag == XXH3_64bits(a, 3000));
    tiles_blob_release(ba);
    tiles_blob_release(bb);
    tiles_blob_release(ba2);
    tiles_blob_release(NULL);
    assert_null(tiles_blob_retain(NULL));
    free(a);
    free(b);
}

/* The bytes one incompressible tile of n bytes costs in an empty cache. */
static size_t cost_of_one(size_t n)
{
    tiles_cache *c = tiles_cache_new(1 << 20);
    uint8_t *raw = make_bytes(n, 5, 0);
    put_bytes(c, 10, 0, 0, "", raw, n);
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    free(raw);
    tiles_cache_free(c);
    return st.bytes;
}

static void test_lru(void **state)
{
    (void)state;
    const size_t n = 1000;
    size_t one = cost_of_one(n);
    assert_true(one > n && one < n + 512);
    /* Room for 10 such tiles, not 11. */
    tiles_cache *c = tiles_cache_new(one * 10 + one / 2);
    tiles_cache_stats st;
    for (int i = 0; i < 10; i++) {
        uint8_t *raw = make_bytes(n, (uint32_t)i + 100, 0);
        put_bytes(c, 10, i, 0, "", raw, n);
        free(raw);
    }
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.evictions, 0);
    assert_true(st.bytes <= st.max_bytes);

    /* Touch tile 0: it becomes the newest, so tile 1 is now the oldest. */
    assert_true(stored(c, 10, 0, 0, ""));
    for (int i = 10; i < 15; i++) {
        uint8_t *raw = make_bytes(n, (uint32_t)i + 100, 0);
        put_bytes(c, 10, i, 0, "", raw, n);
        free(raw);
        tiles_cache_stats_get(c, &st);
        assert_true(st.bytes <= st.max_bytes);
        assert_int_equal(st.entries, 10);
        assert_int_equal(st.evictions, (uint64_t)(i - 9));
        assert_int_equal(tiles_cache_check(c), TILES_OK);
    }
    /* Evicted in order 1, 2, 3, 4, 5; 0 was protected by the get. */
    assert_true(stored(c, 10, 0, 0, ""));
    for (int i = 1; i <= 5; i++)
        assert_false(stored(c, 10, i, 0, ""));
    for (int i = 6; i < 15; i++)
        assert_true(stored(c, 10, i, 0, ""));

    /* Replacing an entry does not grow the count. */
    uint8_t *raw = make_bytes(n, 999, 0);
    put_bytes(c, 10, 6, 0, "", raw, n);
    const tiles_blob *b = tiles_cache_get(c, 10, 6, 0, "");
    assert_blob_holds(b, raw, n);
    tiles_blob_release(b);
    free(raw);
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 10);
    assert_int_equal(tiles_cache_check(c), TILES_OK);

    /* Many small tiles in a small cache: the bound holds at every step. */
    tiles_cache_free(c);
    c = tiles_cache_new(50000);
    for (int i = 0; i < 3000; i++) {
        uint8_t *r = make_bytes((size_t)(i % 700), (uint32_t)i + 1, i % 2);
        put_bytes(c, 16, i % 97, i % 89, i % 3 ? "" : "v", r, (size_t)(i % 700));
        free(r);
        tiles_cache_stats_get(c, &st);
        assert_true(st.bytes <= 50000);
    }
    assert_true(st.evictions > 0);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
}

static void test_variants(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(1 << 20);
    uint8_t pub[100], priv[100];
    memset(pub, 1, sizeof pub);
    memset(priv, 2, sizeof priv);
    put_bytes(c, 12, 2074, 1409, "", pub, sizeof pub);
    put_bytes(c, 12, 2074, 1409, "n:3,7,12", priv, sizeof priv);
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 2);
    const tiles_blob *a = tiles_cache_get(c, 12, 2074, 1409, "");
    const tiles_blob *b = tiles_cache_get(c, 12, 2074, 1409, "n:3,7,12");
    assert_blob_holds(a, pub, sizeof pub);
    assert_blob_holds(b, priv, sizeof priv);
    tiles_blob_release(a);
    tiles_blob_release(b);
    assert_false(stored(c, 12, 2074, 1409, "n:3,7"));

    /* Variant keys up to the limit; longer ones are refused. */
    char key[TILES_CACHE_VARIANT_MAX + 2];
    memset(key, 'k', sizeof key);
    key[TILES_CACHE_VARIANT_MAX] = '\0';
    put_bytes(c, 12, 2074, 1409, key, priv, sizeof priv);
    assert_true(stored(c, 12, 2074, 1409, key));
    key[TILES_CACHE_VARIANT_MAX] = 'k';
    key[TILES_CACHE_VARIANT_MAX + 1] = '\0';
    const tiles_blob *out = (const tiles_blob *)&out;
    assert_int_equal(tiles_cache_put(c, 12, 2074, 1409, key, priv, sizeof priv,
                                     tiles_cache_generation(c), &out), TILES_EINVAL);
    assert_null(out);
    assert_null(tiles_cache_get(c, 12, 2074, 1409, key));
    assert_int_equal(tiles_cache_put(c, 12, 2074, 1409, NULL, priv, sizeof priv, 0, &out),
                     TILES_EINVAL);
    assert_null(tiles_cache_get(c, 12, 2074, 1409, NULL));
    /* Bad addresses and input. */
    assert_int_equal(tiles_cache_put(c, 23, 0, 0, "", priv, sizeof priv, 0, &out), TILES_EINVAL);
    assert_int_equal(tiles_cache_put(c, 2, 4, 0, "", priv, sizeof priv, 0, &out), TILES_EINVAL);
    assert_int_equal(tiles_cache_put(c, 2, 0, -1, "", priv, sizeof priv, 0, &out), TILES_EINVAL);
    assert_int_equal(tiles_cache_put(c, 2, 0, 0, "", NULL, 5, 0, &out), TILES_EINVAL);
    assert_null(out);
    assert_int_equal(tiles_blob_new(NULL, 5, &out), TILES_EINVAL);
    assert_null(out);
    assert_null(tiles_cache_get(c, 2, 4, 0, ""));
    assert_int_equal(tiles_cache_invalidate(c, 2, 4, 0), 0);
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 3);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
}

static void test_invalidate(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(1 << 20);
    const char *vs[] = { "", "a", "b,c" };
    for (int i = 0; i < 3; i++) {
        put_simple(c, 15, 16596, 11273, vs[i]);   /* the address to drop */
        put_simple(c, 15, 16597, 11273, vs[i]);   /* its neighbour */
        put_simple(c, 14, 8298, 5636, vs[i]);     /* its parent */
        put_simple(c, 16, 33192, 22546, vs[i]);   /* a child */
    }
    put_simple(c, 15, 11273, 16596, "");          /* x and y swapped */
    assert_int_equal(tiles_cache_invalidate(c, 15, 16596, 11273), 3);
    for (int i = 0; i < 3; i++) {
        assert_false(stored(c, 15, 16596, 11273, vs[i]));
        assert_true(stored(c, 15, 16597, 11273, vs[i]));
        assert_true(stored(c, 14, 8298, 5636, vs[i]));
        assert_true(stored(c, 16, 33192, 22546, vs[i]));
    }
    assert_true(stored(c, 15, 11273, 16596, ""));
    assert_int_equal(tiles_cache_invalidate(c, 15, 16596, 11273), 0);
    assert_int_equal(tiles_cache_invalidate(c, 3, 3, 3), 0);
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.invalidations, 3);
    assert_int_equal(st.evictions, 0);
    /* The address can be filled again with a fresh generation. */
    put_simple(c, 15, 16596, 11273, "a");
    assert_true(stored(c, 15, 16596, 11273, "a"));
    assert_int_equal(tiles_cache_check(c), TILES_OK);

    tiles_cache_clear(c);
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.invalidations, 14);
    assert_false(stored(c, 14, 8298, 5636, ""));
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
}

/* The slippy-map formula, written here with asinh (tile.c uses log/tan/sec). */
static void expected_frac(double lon, double lat, int z, double *fx, double *fy)
{
    double n = pow(2.0, z), r = lat * M_PI / 180.0;
    *fx = (lon + 180.0) / 360.0 * n;
    *fy = (1.0 - asinh(tan(r)) / M_PI) / 2.0 * n;
}

static void expected_tile(double lon, double lat, int z, int64_t *x, int64_t *y)
{
    double fx, fy;
    expected_frac(lon, lat, z, &fx, &fy);
    *x = (int64_t)floor(fx);
    *y = (int64_t)floor(fy);
}

/* Puts "" at the tile holding (lon, lat) and its eight neighbours at every
 * zoom in zmin..zmax. */
static void put_around(tiles_cache *c, double lon, double lat, int zmin, int zmax)
{
    for (int z = zmin; z <= zmax; z++) {
        int64_t x, y;
        expected_tile(lon, lat, z, &x, &y);
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
                if (tiles_tile_valid(z, x + dx, y + dy))
                    put_simple(c, z, x + dx, y + dy, "");
    }
}

static void test_invalidate_point(void **state)
{
    (void)state;
    const double pts[][2] = {
        { 2.3499, 48.8530 },     /* Notre-Dame de Paris */
        { -122.4194, 37.7749 },  /* San Francisco */
        { 151.2093, -33.8688 },  /* Sydney */
    };
    for (size_t p = 0; p < sizeof pts / sizeof pts[0]; p++) {
        double lon = pts[p][0], lat = pts[p][1];
        tiles_cache *c = tiles_cache_new(8 << 20);
        put_around(c, lon, lat, 0, TILES_MAX_ZOOM);
        put_simple(c, 14, 100, 100, "other");
        tiles_cache_stats before;
        tiles_cache_stats_get(c, &before);

        /* A range of zooms only: 10..12. */
        assert_int_equal(tiles_cache_invalidate_point(c, lon, lat, 10, 12), 3);
        for (int z = 0; z <= TILES_MAX_ZOOM; z++) {
            int64_t x, y;
            expected_tile(lon, lat, z, &x, &y);
            assert_int_equal(stored(c, z, x, y, ""), z < 10 || z > 12);
        }
        /* Every zoom, including the ones already dropped. */
        put_simple(c, 14, 0, 0, "v");
        int64_t x14, y14;
        expected_tile(lon, lat, 14, &x14, &y14);
        put_simple(c, 14, x14, y14, "v");
        assert_int_equal(tiles_cache_invalidate_point(c, lon, lat, -5, 99), 21);
        for (int z = 0; z <= TILES_MAX_ZOOM; z++) {
            int64_t x, y;
            expected_tile(lon, lat, z, &x, &y);
            assert_false(stored(c, z, x, y, ""));
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    if ((dx || dy) && tiles_tile_valid(z, x + dx, y + dy))
                        assert_true(stored(c, z, x + dx, y + dy, ""));
        }
        assert_false(stored(c, 14, x14, y14, "v"));
        assert_true(stored(c, 14, 0, 0, "v"));
        assert_true(stored(c, 14, 100, 100, "other"));
        tiles_cache_stats after;
        tiles_cache_stats_get(c, &after);
        assert_int_equal(after.entries, before.entries - 23 + 1);
        assert_int_equal(tiles_cache_check(c), TILES_OK);
        assert_int_equal(tiles_cache_invalidate_point(c, NAN, lat, 0, 22), 0);
        assert_int_equal(tiles_cache_invalidate_point(c, lon, lat, 5, 4), 0);
        tiles_cache_free(c);
    }
}

/* A point 0.2 buffer widths inside the west edge of z14 tile 8298 (also the
 * west edge of its z13 parent and of its z15 and z16 children, where the
 * point lies 0.1, 0.4 and 0.8 buffer widths in), away from north and south
 * edges: drawn in its tile and, at z13..z16, in the west neighbour's buffer. */
static void test_invalidate_point_buffered(void **state)
{
    (void)state;
    const uint32_t extent = 4096, buffer = 64;
    double n14 = pow(2.0, 14);
    double lon = 8298.0 / n14 * 360.0 - 180.0 + 0.2 * buffer / extent * 360.0 / n14;
    double lat = atan(sinh(M_PI * (1.0 - 2.0 * 5636.3 / n14))) * 180.0 / M_PI;
    tiles_cache *c = tiles_cache_new(8 << 20);
    put_around(c, lon, lat, 8, 18);
    size_t expect = 0;
    for (int z = 8; z <= 18; z++) {
        double fx, fy;
        expected_frac(lon, lat, z, &fx, &fy);
        for (int64_t y = (int64_t)floor(fy) - 1; y <= (int64_t)floor(fy) + 1; y++)
            for (int64_t x = (int64_t)floor(fx) - 1; x <= (int64_t)floor(fx) + 1; x++) {
                double px = (fx - (double)x) * extent, py = (fy - (double)y) * extent;
                if (px >= -(double)buffer && px <= extent + buffer &&
                    py >= -(double)buffer && py <= extent + buffer)
                    expect++;
            }
    }
    assert_int_equal(expect, 11 + 4);
    assert_int_equal(tiles_cache_invalidate_point_buffered(c, lon, lat, 8, 18, extent, buffer),
                     expect);
    for (int z = 8; z <= 18; z++) {
        double fx, fy;
        expected_frac(lon, lat, z, &fx, &fy);
        for (int64_t y = (int64_t)floor(fy) - 1; y <= (int64_t)floor(fy) + 1; y++)
            for (int64_t x = (int64_t)floor(fx) - 1; x <= (int64_t)floor(fx) + 1; x++) {
                double px = (fx - (double)x) * extent, py = (fy - (double)y) * extent;
                int in = px >= -(double)buffer && px <= extent + buffer &&
                         py >= -(double)buffer && py <= extent + buffer;
                assert_int_equal(stored(c, z, x, y, ""), !in);
            }
    }
    assert_true(stored(c, 14, 8299, 5636, ""));
    assert_false(stored(c, 14, 8297, 5636, ""));
    assert_int_equal(tiles_cache_invalidate_point_buffered(c, lon, lat, 8, 18, 0, 0), 0);
    assert_int_equal(tiles_cache_invalidate_point_buffered(c, lon, lat, 8, 18, 64, 65), 0);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
}

static void test_generation(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(1 << 20);
    uint8_t raw[32] = { 1, 2, 3 };
    const tiles_blob *b;

    uint64_t before = tiles_cache_generation(c);
    assert_int_equal(tiles_cache_invalidate(c, 9, 259, 176), 0);
    uint64_t after = tiles_cache_generation(c);
    assert_true(after > before);
    /* Rendered from data read before the invalidation: returned, not stored. */
    assert_int_equal(tiles_cache_put(c, 9, 259, 176, "", raw, sizeof raw, before, &b), TILES_OK);
    assert_blob_holds(b, raw, sizeof raw);
    tiles_blob_release(b);
    assert_false(stored(c, 9, 259, 176, ""));
    /* Another tile with the same old generation is fine: the rule is per address. */
    assert_int_equal(tiles_cache_put(c, 9, 260, 176, "", raw, sizeof raw, before, &b), TILES_OK);
    tiles_blob_release(b);
    assert_true(stored(c, 9, 260, 176, ""));
    /* Read after the invalidation: stored. */
    assert_int_equal(tiles_cache_put(c, 9, 259, 176, "", raw, sizeof raw, after, &b), TILES_OK);
    tiles_blob_release(b);
    assert_true(stored(c, 9, 259, 176, ""));
    /* An old render does not overwrite the entry either. */
    raw[0] = 9;
    assert_int_equal(tiles_cache_put(c, 9, 259, 176, "", raw, sizeof raw, before, &b), TILES_OK);
    tiles_blob_release(b);
    b = tiles_cache_get(c, 9, 259, 176, "");
    assert_int_equal(b->gz_len > 0, 1);
    uint8_t *out;
    size_t len;
    assert_int_equal(tiles_blob_inflate(b, &out, &len), TILES_OK);
    assert_int_equal(out[0], 1);
    free(out);
    tiles_blob_release(b);
    /* A generation from the future is not trusted. */
    assert_int_equal(tiles_cache_put(c, 9, 1, 1, "", raw, sizeof raw, after + 5, &b), TILES_OK);
    tiles_blob_release(b);
    assert_false(stored(c, 9, 1, 1, ""));

    /* invalidate_point counts as an invalidation of each of its tiles. */
    uint64_t g = tiles_cache_generation(c);
    tiles_cache_invalidate_point(c, 2.3499, 48.8530, 14, 14);
    assert_int_equal(tiles_cache_put(c, 14, 8298, 5636, "x", raw, sizeof raw, g, &b), TILES_OK);
    tiles_blob_release(b);
    assert_false(stored(c, 14, 8298, 5636, "x"));

    /* Clear refuses every older render. */
    g = tiles_cache_generation(c);
    tiles_cache_clear(c);
    assert_int_equal(tiles_cache_put(c, 5, 16, 11, "", raw, sizeof raw, g, &b), TILES_OK);
    tiles_blob_release(b);
    assert_false(stored(c, 5, 16, 11, ""));
    put_bytes(c, 5, 16, 11, "", raw, sizeof raw);
    assert_true(stored(c, 5, 16, 11, ""));
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);

    /* A small cache cannot remember every invalidation; what it forgets it
     * must refuse wholesale, never let through. */
    c = tiles_cache_new(20000);
    g = tiles_cache_generation(c);
    for (int i = 0; i < 500; i++)
        tiles_cache_invalidate(c, 16, i, 7);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(tiles_cache_put(c, 16, i, 7, "", raw, sizeof raw, g, &b), TILES_OK);
        tiles_blob_release(b);
        assert_false(stored(c, 16, i, 7, ""));
    }
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_true(st.bytes <= 20000);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    /* An invalidated tile evicted later still refuses renders that predate
     * the invalidation. */
    tiles_cache_free(c);
    size_t one = cost_of_one(1000);
    c = tiles_cache_new(one * 40);
    g = tiles_cache_generation(c);
    tiles_cache_invalidate(c, 10, 1, 1);
    uint64_t g2 = tiles_cache_generation(c);
    uint8_t *noise = make_bytes(1000, 42, 0);
    put_bytes(c, 10, 1, 1, "", noise, 1000);
    for (int i = 0; i < 60; i++)
        put_bytes(c, 10, 100 + i, 1, "", noise, 1000);
    assert_false(stored(c, 10, 1, 1, ""));   /* evicted */
    assert_int_equal(tiles_cache_put(c, 10, 1, 1, "", noise, 1000, g, &b), TILES_OK);
    tiles_blob_release(b);
    assert_false(stored(c, 10, 1, 1, ""));
    assert_int_equal(tiles_cache_put(c, 10, 1, 1, "", noise, 1000, g2, &b), TILES_OK);
    tiles_blob_release(b);
    assert_true(stored(c, 10, 1, 1, ""));
    free(noise);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
}

static void test_disabled_and_oversize(void **state)
{
    (void)state;
    uint8_t *raw = make_bytes(10000, 77, 0);
    tiles_cache *c = tiles_cache_new(0);
    assert_non_null(c);
    const tiles_blob *b;
    assert_int_equal(tiles_cache_put(c, 4, 8, 5, "", raw, 10000,
                                     tiles_cache_generation(c), &b), TILES_OK);
    assert_blob_holds(b, raw, 10000);
    tiles_blob_release(b);
    assert_null(tiles_cache_get(c, 4, 8, 5, ""));
    assert_int_equal(tiles_cache_invalidate(c, 4, 8, 5), 0);
    tiles_cache_clear(c);
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.max_bytes, 0);
    assert_int_equal(st.misses, 1);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);

    c = tiles_cache_new(8000);   /* smaller than the noise, even gzipped */
    put_simple(c, 4, 1, 1, "");
    assert_int_equal(tiles_cache_put(c, 4, 8, 5, "", raw, 10000,
                                     tiles_cache_generation(c), &b), TILES_OK);
    assert_blob_holds(b, raw, 10000);
    tiles_blob_release(b);
    assert_false(stored(c, 4, 8, 5, ""));
    assert_true(stored(c, 4, 1, 1, ""));   /* nothing evicted for it */
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
    free(raw);
}

static void test_blob_outlives(void **state)
{
    (void)state;
    size_t one = cost_of_one(2000);
    tiles_cache *c = tiles_cache_new(one * 3);
    uint8_t *r[6];
    for (int i = 0; i < 6; i++)
        r[i] = make_bytes(2000, (uint32_t)i + 500, 0);
    put_bytes(c, 8, 0, 0, "", r[0], 2000);
    put_bytes(c, 8, 1, 0, "", r[1], 2000);
    put_bytes(c, 8, 2, 0, "", r[2], 2000);
    const tiles_blob *evicted = tiles_cache_get(c, 8, 0, 0, "");
    const tiles_blob *invalidated = tiles_cache_get(c, 8, 1, 0, "");
    const tiles_blob *replaced = tiles_cache_get(c, 8, 2, 0, "");
    put_bytes(c, 8, 2, 0, "", r[5], 2000);   /* replaces the third */
    put_bytes(c, 8, 3, 0, "", r[3], 2000);   /* evicts the first */
    assert_false(stored(c, 8, 0, 0, ""));
    assert_int_equal(tiles_cache_invalidate(c, 8, 1, 0), 1);
    assert_blob_holds(evicted, r[0], 2000);
    assert_blob_holds(invalidated, r[1], 2000);
    assert_blob_holds(replaced, r[2], 2000);
    const tiles_blob *cleared = tiles_cache_get(c, 8, 3, 0, "");
    tiles_cache_clear(c);
    assert_blob_holds(cleared, r[3], 2000);
    put_bytes(c, 8, 4, 0, "", r[4], 2000);
    const tiles_blob *freed = tiles_cache_get(c, 8, 4, 0, "");
    tiles_cache_free(c);
    assert_blob_holds(freed, r[4], 2000);
    tiles_blob_release(evicted);
    tiles_blob_release(invalidated);
    tiles_blob_release(replaced);
    tiles_blob_release(cleared);
    tiles_blob_release(freed);
    for (int i = 0; i < 6; i++)
        free(r[i]);
}

static void test_empty_tile(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(1 << 16);
    const tiles_blob *b;
    assert_int_equal(tiles_cache_put(c, 0, 0, 0, "", NULL, 0, tiles_cache_generation(c), &b),
                     TILES_OK);
    assert_int_equal(b->raw_len, 0);
    assert_true(b->etag == XXH3_64bits("", 0));
    assert_blob_holds(b, (const uint8_t *)"", 0);
    assert_zlib_reads(b, (const uint8_t *)"", 0);
    const tiles_blob *got = tiles_cache_get(c, 0, 0, 0, "");
    assert_ptr_equal(got, b);
    tiles_blob_release(got);
    tiles_blob_release(b);
    const tiles_blob *lone;
    assert_int_equal(tiles_blob_new(NULL, 0, &lone), TILES_OK);
    assert_true(lone->etag == XXH3_64bits("", 0));
    assert_blob_holds(lone, (const uint8_t *)"", 0);
    tiles_blob_release(lone);
    tiles_cache_free(c);
}

/* Bytes that are not a gzip member of raw_len bytes are refused. */
static void test_inflate_refuses(void **state)
{
    (void)state;
    uint8_t *raw = make_bytes(4000, 8, 1);
    const tiles_blob *b;
    assert_int_equal(tiles_blob_new(raw, 4000, &b), TILES_OK);
    uint8_t *out = (uint8_t *)&out;
    size_t len = 7;
    tiles_blob wrong = *b;
    wrong.raw_len = 3999;
    assert_int_equal(tiles_blob_inflate(&wrong, &out, &len), TILES_EINVAL);
    assert_null(out);
    assert_int_equal(len, 0);
    wrong.raw_len = 4001;
    assert_int_equal(tiles_blob_inflate(&wrong, &out, &len), TILES_EINVAL);
    wrong = *b;
    wrong.gz_len -= 5;   /* truncated */
    assert_int_equal(tiles_blob_inflate(&wrong, &out, &len), TILES_EINVAL);
    uint8_t *junk = malloc(b->gz_len + 3);
    memcpy(junk, b->gz, b->gz_len);
    memcpy(junk + b->gz_len, "xyz", 3);
    wrong = *b;
    wrong.gz = junk;
    wrong.gz_len += 3;   /* trailing bytes */
    assert_int_equal(tiles_blob_inflate(&wrong, &out, &len), TILES_EINVAL);
    junk[b->gz_len / 2] ^= 0x55;   /* corrupt, and so its CRC fails */
    wrong.gz_len = b->gz_len;
    assert_int_equal(tiles_blob_inflate(&wrong, &out, &len), TILES_EINVAL);
    assert_null(out);
    free(junk);
    tiles_blob_release(b);
    free(raw);
}

/* ---- concurrency ---------------------------------------------------- */

enum { T_THREADS = 4, T_OPS = 20000, T_SIDE = 12, T_Z = 10, T_VARIANTS = 3 };
static const char *const t_variants[T_VARIANTS] = { "", "n:1,2", "n:7" };

/* The data behind each tile: a version that writers bump before they
 * invalidate, as a post changing in the database would; and the highest
 * version whose invalidation has returned. Once a writer's invalidation
 * has returned, no reader may be served a body older than its version. */
static atomic_uint t_version[T_SIDE * T_SIDE];
static atomic_uint t_settled[T_SIDE * T_SIDE];

static void t_settle(unsigned tile, unsigned version)
{
    unsigned old = atomic_load(&t_settled[tile]);
    while (old < version && !atomic_compare_exchange_weak(&t_settled[tile], &old, version))
        ;
}

typedef struct worker {
    tiles_cache *c;
    uint32_t seed;
    uint64_t gets, bad;   /* gets done; contents that did not check out */
} worker;

/* A tile's body: its index, variant and version, then noise (so that gzip
 * keeps it near its size) of a length, all determined by the three. */
static size_t t_render(uint8_t *buf, unsigned tile, unsigned variant, unsigned version)
{
    size_t len = 16 + (tile * 131 + variant * 17 + version * 7) % 1500;
    uint32_t s = tile * 7919u + variant * 104729u + version * 31u + 1u;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)next_rand(&s);
    memcpy(buf, &tile, 4);
    memcpy(buf + 4, &variant, 4);
    memcpy(buf + 8, &version, 4);
    return len;
}

static double tile_lon(int64_t x)
{
    return ((double)x + 0.5) / (1 << T_Z) * 360.0 - 180.0;
}

static double tile_lat(int64_t y)
{
    return atan(sinh(M_PI * (1.0 - 2.0 * ((double)y + 0.5) / (1 << T_Z)))) * 180.0 / M_PI;
}

/* Whether b is the body of (tile, variant) at a version in lo..hi; counts
 * a mismatch in w->bad. */
static void t_check(worker *w, const tiles_blob *b, unsigned tile, unsigned variant,
                    unsigned lo, unsigned hi)
{
    uint8_t *out;
    size_t len;
    if (tiles_blob_inflate(b, &out, &len) != TILES_OK || len < 12) {
        w->bad++;
        return;
    }
    unsigned t, v, ver;
    memcpy(&t, out, 4);
    memcpy(&v, out + 4, 4);
    memcpy(&ver, out + 8, 4);
    uint8_t expect[1600];
    size_t elen = t_render(expect, t, v, ver);
    if (t != tile || v != variant || ver < lo || ver > hi ||
        elen != len || memcmp(expect, out, len) != 0 || b->etag != XXH3_64bits(out, len))
        w->bad++;
    free(out);
}

static void *t_run(void *arg)
{
    worker *w = arg;
    uint8_t buf[1600];
    for (int i = 0; i < T_OPS; i++) {
        uint32_t r = next_rand(&w->seed);
        unsigned tile = (r >> 8) % (T_SIDE * T_SIDE), variant = (r >> 20) % T_VARIANTS;
        int64_t x = 500 + tile % T_SIDE, y = 300 + tile / T_SIDE;
        unsigned op = r % 1000;
        if (op < 600) {
            w->gets++;
            unsigned lo = atomic_load(&t_settled[tile]);
            const tiles_blob *b = tiles_cache_get(w->c, T_Z, x, y, t_variants[variant]);
            if (b) {
                t_check(w, b, tile, variant, lo, atomic_load(&t_version[tile]));
                tiles_blob_release(b);
            }
        } else if (op < 900) {
            /* A render: generation first, then the data. */
            uint64_t gen = tiles_cache_generation(w->c);
            unsigned version = atomic_load(&t_version[tile]);
            size_t len = t_render(buf, tile, variant, version);
            if (i % 2)
                sched_yield();   /* widen the window a writer may fall into */
            const tiles_blob *b;
            if (tiles_cache_put(w->c, T_Z, x, y, t_variants[variant], buf, len, gen, &b) != 0 ||
                b->raw_len != len)
                w->bad++;
            tiles_blob_release(b);
        } else if (op < 960) {
            unsigned v = atomic_fetch_add(&t_version[tile], 1) + 1;
            tiles_cache_invalidate(w->c, T_Z, x, y);
            t_settle(tile, v);
        } else if (op < 999) {
            unsigned v = atomic_fetch_add(&t_version[tile], 1) + 1;
            tiles_cache_invalidate_point(w->c, tile_lon(x), tile_lat(y), T_Z - 2, T_Z + 2);
            t_settle(tile, v);
        } else {
            tiles_cache_clear(w->c);
        }
    }
    return NULL;
}

/* An extra that counts its references and records its release. */
typedef struct counted_extra {
    tiles_blob_extra base;   /* first */
    int refs;                /* references held */
    int freed;               /* the last reference went */
} counted_extra;

static void test_extra_retain(tiles_blob_extra *x)
{
    ((counted_extra *)(void *)x)->refs++;
}

static void test_extra_release(tiles_blob_extra *x)
{
    counted_extra *t = (counted_extra *)(void *)x;
    assert_true(t->refs > 0);
    if (--t->refs == 0)
        t->freed = 1;
}

static void extra_init(counted_extra *t, size_t cost)
{
    memset(t, 0, sizeof *t);
    t->base.retain = test_extra_retain;
    t->base.release = test_extra_release;
    t->base.cost = cost;
    t->refs = 1;   /* the caller's */
}

/* Attaches e to the entry holding blob b, giving the cache a reference. */
static int attach(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant,
                  const tiles_blob *b, counted_extra *e)
{
    e->refs++;
    int ok = tiles_cache_set_extra(c, z, x, y, variant, b, &e->base);
    if (!ok)
        e->refs--;
    return ok;
}

/* A fresh extra e (cost 0) attached to the cached tile 12/2074/1409 "". */
static void attach_fresh(tiles_cache *c, counted_extra *e)
{
    const tiles_blob *b = tiles_cache_get(c, 12, 2074, 1409, "");
    assert_non_null(b);
    extra_init(e, 0);
    assert_true(attach(c, 12, 2074, 1409, "", b, e));
    tiles_blob_release(b);
}

static void test_extra(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(TILES_CACHE_DEFAULT_BYTES);
    assert_non_null(c);
    put_simple(c, 12, 2074, 1409, "");
    tiles_cache_stats st0;
    tiles_cache_stats_get(c, &st0);

    /* A hit without extra; attach one; later hits hand it out, retained. */
    tiles_blob_extra *got = (tiles_blob_extra *)1;
    const tiles_blob *b = tiles_cache_get_extra(c, 12, 2074, 1409, "", &got);
    assert_non_null(b);
    assert_null(got);
    counted_extra e;
    extra_init(&e, 1000);
    assert_true(attach(c, 12, 2074, 1409, "", b, &e));
    assert_int_equal(e.refs, 2);
    counted_extra e2;
    extra_init(&e2, 10);
    assert_false(attach(c, 12, 2074, 1409, "", b, &e2));     /* one extra per entry */
    assert_false(attach(c, 12, 2074, 1409, "n:1", b, &e2));  /* no such entry */
    assert_int_equal(e2.refs, 1);
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.bytes, st0.bytes + 1000);            /* its cost is in the bound */
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    const tiles_blob *b2 = tiles_cache_get_extra(c, 12, 2074, 1409, "", &got);
    assert_ptr_equal(b2, b);
    assert_ptr_equal(got, &e.base);
    assert_int_equal(e.refs, 3);
    test_extra_release(got);
    tiles_blob_release(b2);

    /* A blob the entry no longer holds takes no extra: replace the entry. */
    put_simple(c, 12, 2074, 1409, "");
    assert_int_equal(e.refs, 1);                             /* the cache let go of it */
    assert_false(attach(c, 12, 2074, 1409, "", b, &e2));
    tiles_blob_release(b);
    test_extra_release(&e.base);
    assert_true(e.freed);
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.bytes, st0.bytes);

    /* Invalidation, clear and free each release the extra once. */
    attach_fresh(c, &e);
    assert_int_equal(tiles_cache_invalidate(c, 12, 2074, 1409), 1);
    assert_int_equal(e.refs, 1);
    put_simple(c, 12, 2074, 1409, "");
    attach_fresh(c, &e);
    tiles_cache_clear(c);
    assert_int_equal(e.refs, 1);
    put_simple(c, 12, 2074, 1409, "");
    attach_fresh(c, &e);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_free(c);
    assert_int_equal(e.refs, 1);
}

/* An extra's cost counts in the bound: attaching evicts older entries, and
 * eviction releases their extras. */
static void test_extra_bound(void **state)
{
    (void)state;
    tiles_cache *c = tiles_cache_new(64 * 1024);
    assert_non_null(c);
    enum { N = 8 };
    counted_extra e[N];
    for (int i = 0; i < N; i++) {
        put_simple(c, 14, 8000 + i, 5600, "");
        const tiles_blob *b = tiles_cache_get(c, 14, 8000 + i, 5600, "");
        assert_non_null(b);
        extra_init(&e[i], 12 * 1024);
        assert_true(attach(c, 14, 8000 + i, 5600, "", b, &e[i]));
        tiles_blob_release(b);
        assert_int_equal(tiles_cache_check(c), TILES_OK);
    }
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_true(st.bytes <= 64 * 1024);
    assert_true(st.entries < N);                 /* 8 x 12 KiB cannot all stay */
    assert_true(stored(c, 14, 8000 + N - 1, 5600, ""));
    assert_false(stored(c, 14, 8000, 5600, ""));  /* the oldest went first */
    for (int i = 0; i < N; i++)
        assert_int_equal(e[i].refs, stored(c, 14, 8000 + i, 5600, "") ? 2 : 1);
    /* An extra larger than the bound is refused. */
    const tiles_blob *b = tiles_cache_get(c, 14, 8000 + N - 1, 5600, "");
    counted_extra big;
    extra_init(&big, 128 * 1024);
    assert_false(attach(c, 14, 8000 + N - 1, 5600, "", b, &big));
    tiles_blob_release(b);
    tiles_cache_free(c);
    for (int i = 0; i < N; i++)
        assert_int_equal(e[i].refs, 1);
}

static void test_threads(void **state)
{
    (void)state;
    /* About a third of the 432 keys fit, so eviction runs all along. */
    tiles_cache *c = tiles_cache_new(150000);
    worker w[T_THREADS];
    pthread_t th[T_THREADS];
    for (int i = 0; i < T_THREADS; i++) {
        w[i] = (worker){ .c = c, .seed = 0x9e3779b9u * (uint32_t)(i + 1) };
        assert_int_equal(pthread_create(&th[i], NULL, t_run, &w[i]), 0);
    }
    uint64_t gets = 0, bad = 0;
    for (int i = 0; i < T_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        gets += w[i].gets;
        bad += w[i].bad;
    }
    assert_int_equal(bad, 0);
    assert_int_equal(tiles_cache_check(c), TILES_OK);
    tiles_cache_stats st;
    tiles_cache_stats_get(c, &st);
    assert_int_equal(st.hits + st.misses, gets);
    assert_true(st.hits > 0 && st.misses > 0 && st.evictions > 0 && st.invalidations > 0);
    assert_true(st.bytes <= st.max_bytes);

    /* Quiet now: every stored tile is of the current version of its data,
     * and the stored ones are exactly st.entries. */
    worker final = { .c = c };
    size_t found = 0;
    for (unsigned tile = 0; tile < T_SIDE * T_SIDE; tile++)
        for (unsigned v = 0; v < T_VARIANTS; v++) {
            const tiles_blob *b = tiles_cache_get(c, T_Z, 500 + tile % T_SIDE,
                                                  300 + tile / T_SIDE, t_variants[v]);
            if (b) {
                found++;
                unsigned now = atomic_load(&t_version[tile]);
                t_check(&final, b, tile, v, now, now);
                tiles_blob_release(b);
            }
        }
    assert_int_equal(final.bad, 0);
    assert_int_equal(found, st.entries);
    tiles_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_invalidate),
        cmocka_unit_test(test_invalidate_point),
        cmocka_unit_test(test_invalidate_point_buffered),
        cmocka_unit_test(test_generation),
        cmocka_unit_test(test_disabled_and_oversize),
        cmocka_unit_test(test_blob_outlives),
        cmocka_unit_test(test_empty_tile),
        cmocka_unit_test(test_inflate_refuses),
        cmocka_unit_test(test_extra),
        cmocka_unit_test(test_extra_bound),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
