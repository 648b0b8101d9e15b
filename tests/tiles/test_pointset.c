/*
 * tests/tiles/test_pointset.c — the in-memory point set answers a tile query
 * with exactly the points tiles_point places in the tile and its margin, in
 * the groups asked for, through inserts, replacements, removals and swaps
 * (checked against a plain array kept beside it); over a city (the fine
 * grid, and one pass over the arrays) and over a country (the coarse grid
 * of the middle zooms too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tiles/pointset.h"
#include "tiles/tile.h"

typedef struct ref { int live; double lon, lat; uint32_t group; int64_t expires; } ref;

#define N 3000
static ref model[N];
static int freed;

static void free_payload(void *p)
{
    freed++;
    free(p);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

typedef struct seen { int count; int64_t sum; int bad; } seen;

static int visit(void *arg, const tiles_pointset_hit *h)
{
    seen *s = arg;
    s->count++;
    s->sum += h->id;
    if (!model[h->id].live || *(const int64_t *)h->payload != h->id)
        s->bad++;
    return 0;
}

static void compare(tiles_pointset *ps, const tiles_frame *f, const uint8_t *groups, int64_t now)
{
    seen got = { 0 };
    assert_int_equal(tiles_pointset_query(ps, f, groups, 8, now, visit, &got), 0);
    int want = 0;
    int64_t sum = 0;
    for (int64_t i = 0; i < N; i++) {
        int32_t x, y;
        if (model[i].live && (!groups || (groups[0] >> model[i].group & 1))
            && !(model[i].expires && model[i].expires <= now)
            && tiles_point(f, model[i].lon, model[i].lat, &x, &y)) {
            want++;
            sum += i;
        }
    }
    assert_int_equal(got.bad, 0);
    assert_int_equal(got.count, want);
    assert_int_equal(got.sum, sum);
}

static int64_t *payload(int64_t id)
{
    int64_t *p = malloc(sizeof *p);
    *p = id;
    return p;
}

static void test_queries_match_brute_force(void **state)
{
    (void)state;
    tiles_pointset *ps = tiles_pointset_new(free_payload);
    assert_non_null(ps);
    uint32_t seed = 3;
    for (int64_t i = 0; i < N; i++) {
        /* a city-sized cloud around 2.35, 48.86, some points on tile edges */
        model[i] = (ref){ 1, 2.25 + (lcg(&seed) % 20000) / 100000.0,
                          48.81 + (lcg(&seed) % 10000) / 100000.0, lcg(&seed) % 8,
                          i % 5 == 0 ? 100 : 0 };
        assert_int_equal(tiles_pointset_put(ps, i, model[i].lon, model[i].lat, model[i].group, 0,
                                            model[i].expires, payload(i)), 0);
    }
    /* replace a third, remove a third */
    for (int64_t i = 0; i < N; i += 3) {
        model[i].lon += 0.01;
        assert_int_equal(tiles_pointset_put(ps, i, model[i].lon, model[i].lat, model[i].group, 1,
                                            model[i].expires, payload(i)), 0);
    }
    for (int64_t i = 1; i < N; i += 3) {
        model[i].live = 0;
        tiles_pointset_remove(ps, i);
    }
    tiles_pointset_remove(ps, 999999); /* absent: nothing */
    assert_int_equal(tiles_pointset_count(ps), N - (N + 1) / 3);
    assert_int_equal(tiles_pointset_put(ps, 5, 1.0 / 0.0, 0, 0, 0, 0, payload(5)), TILES_EINVAL);
    seen one = { 0 };
    assert_int_equal(tiles_pointset_get(ps, 3, 0, visit, &one), 0);
    assert_int_equal(one.count, 1);
    assert_int_equal(tiles_pointset_get(ps, 4, 0, visit, &one), 0);     /* removed */
    assert_int_equal(tiles_pointset_get(ps, 5, 100, visit, &one), 0);   /* expired at 100 */
    assert_int_equal(tiles_pointset_get(ps, 5, 99, visit, &one), 0);
    assert_int_equal(one.count, 2);

    uint8_t odd = 0xAA;
    for (int z = 0; z <= 22; z++) {
        int64_t x, y;
        assert_int_equal(tiles_tile_at(2.35, 48.86, z, &x, &y), 0);
        for (int dx = -1; dx <= 1; dx++) {
            tiles_frame f = { .z = z, .x = x + dx, .y = y, .extent = 4096, .buffer = 256 };
            if (!tiles_tile_valid(z, f.x, f.y))
                continue;
            compare(ps, &f, NULL, 50);
            compare(ps, &f, NULL, 100);
            compare(ps, &f, &odd, 100);
            f.buffer = 0;
            compare(ps, &f, NULL, 0);
        }
    }
    tiles_frame bad = { .z = 23, .extent = 4096 };
    assert_int_equal(tiles_pointset_query(ps, &bad, NULL, 0, 0, visit, NULL), TILES_EINVAL);

    /* a swap installs a fresh set; the old contents go with the other */
    tiles_pointset *fresh = tiles_pointset_new(free_payload);
    assert_int_equal(tiles_pointset_put(fresh, 7, 2.3, 48.85, 0, 0, 0, payload(7)), 0);
    tiles_pointset_swap(ps, fresh);
    assert_int_equal(tiles_pointset_count(ps), 1);
    assert_int_equal(tiles_pointset_count(fresh), N - (N + 1) / 3);
    freed = 0;
    tiles_pointset_free(fresh);
    assert_int_equal(freed, N - (N + 1) / 3);
    tiles_pointset_free(ps);
}

/* Points over a country: tiles of zooms 4 to 13 across it, answered from
 * the coarse grid where its cells hold few points, by one pass elsewhere,
 * always with the points tiles_point places there, at its positions. */
#define N_COUNTRY 40000
static struct { int live; double lon, lat; } country[N_COUNTRY];

typedef struct placed { int count; int64_t ids, xs, ys; } placed;

static int place_visit(void *arg, const tiles_pointset_hit *h)
{
    placed *p = arg;
    p->count++;
    p->ids += h->id;
    p->xs += h->x;
    p->ys += h->y;
    return 0;
}

static void test_country(void **state)
{
    (void)state;
    tiles_pointset *ps = tiles_pointset_new(free);
    uint32_t seed = 11;
    for (int64_t i = 0; i < N_COUNTRY; i++) {
        country[i].live = 1;
        country[i].lon = -5 + (lcg(&seed) % 1500000) / 100000.0;
        country[i].lat = 41 + (lcg(&seed) % 1050000) / 100000.0;
        assert_int_equal(tiles_pointset_put(ps, i, country[i].lon, country[i].lat, 0, 0, 0, NULL), 0);
    }
    for (int64_t i = 0; i < N_COUNTRY; i += 7) {   /* moved: out of their cells, into others */
        country[i].lon = 2 + (i % 100) / 1000.0;
        country[i].lat = 46 + (i % 77) / 1000.0;
        assert_int_equal(tiles_pointset_put(ps, i, country[i].lon, country[i].lat, 0, 0, 0, NULL), 0);
    }
    for (int64_t i = 3; i < N_COUNTRY; i += 11) {
        tiles_pointset_remove(ps, i);
        country[i].live = 0;
    }
    for (int z = 4; z <= 13; z++)
        for (int k = 0; k < 12; k++) {
            int64_t x, y;
            assert_int_equal(tiles_tile_at(country[k * 997 + 1].lon, country[k * 997 + 1].lat, z, &x, &y), 0);
            tiles_frame f = { .z = z, .x = x, .y = y, .extent = 4096, .buffer = (uint32_t)(k % 3) * 256 };
            placed got = { 0 }, want = { 0 };
            assert_int_equal(tiles_pointset_query(ps, &f, NULL, 0, 0, place_visit, &got), 0);
            for (int64_t i = 0; i < N_COUNTRY; i++) {
                int32_t px, py;
                if (country[i].live && tiles_point(&f, country[i].lon, country[i].lat, &px, &py)) {
                    want.count++;
                    want.ids += i;
                    want.xs += px;
                    want.ys += py;
                }
            }
            assert_int_equal(got.count, want.count);
            assert_int_equal(got.ids, want.ids);
            assert_int_equal(got.xs, want.xs);
            assert_int_equal(got.ys, want.ys);
        }
    tiles_pointset_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queries_match_brute_force),
        cmocka_unit_test(test_country),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
