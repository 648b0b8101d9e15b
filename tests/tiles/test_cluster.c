/*
 * tests/tiles/test_cluster.c — grid clustering: every point is counted once,
 * per category too; clusters sit inside their cells; and the clusters of a
 * coarse grid are exactly the unions of those of the grid twice as fine (the
 * hierarchy between a zoom and the next); the accumulator, fed the same
 * points one by one, makes the same clusters in the same order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tiles/cluster.h"
#include "tiles/tile.h"

static int64_t floor_div(int64_t v, int64_t d)
{
    return v >= 0 ? v / d : -((-v + d - 1) / d);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static tiles_cluster_point *random_points(size_t n, uint32_t seed)
{
    tiles_cluster_point *p = malloc(n * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        /* clumps, like posts on a coarse grid, plus scattered ones, some in the buffer */
        int32_t x = (int32_t)(lcg(&seed) % 4352) - 128, y = (int32_t)(lcg(&seed) % 4352) - 128;
        if (i % 3 == 0) {
            x = x / 200 * 200;
            y = y / 200 * 200;
        }
        p[i] = (tiles_cluster_point){ x, y, (uint32_t)i, lcg(&seed) % 5 };
    }
    return p;
}

static void test_counts_and_cells(void **state)
{
    (void)state;
    const size_t n = 20000;
    tiles_cluster_point *p = random_points(n, 7);
    tiles_clusters c;
    assert_int_equal(tiles_cluster_grid(p, n, 256, 5, &c), TILES_OK);
    size_t total = 0, per[5] = { 0 }, expect[5] = { 0 };
    for (size_t i = 0; i < n; i++)
        expect[p[i].category]++;
    for (size_t i = 0; i < c.n; i++) {
        const tiles_cluster *k = &c.items[i];
        total += k->count;
        uint32_t sum = 0;
        for (int j = 0; j < 5; j++) {
            per[j] += k->per_category[j];
            sum += k->per_category[j];
        }
        assert_int_equal(sum, k->count);
        /* every point of the cluster shares the cell of its mean */
        int64_t cx = floor_div(k->x, 256), cy = floor_div(k->y, 256);
        size_t members = 0;
        uint32_t smallest = UINT32_MAX;
        for (size_t m = 0; m < n; m++)
            if (floor_div(p[m].x, 256) == cx && floor_div(p[m].y, 256) == cy) {
                members++;
                if (p[m].ref < smallest)
                    smallest = p[m].ref;
            }
        assert_int_equal(members, k->count);
        assert_int_equal(smallest, k->ref);
        if (k->count == 1) {
            assert_int_equal(k->x, p[k->ref].x);
            assert_int_equal(k->y, p[k->ref].y);
        }
    }
    assert_int_equal(total, n);
    for (int j = 0; j < 5; j++)
        assert_int_equal(per[j], expect[j]);
    tiles_clusters_clear(&c);
    free(p);
}

/* A coarse cell is four fine cells: its count is theirs summed. */
static void test_hierarchy(void **state)
{
    (void)state;
    const size_t n = 5000;
    tiles_cluster_point *p = random_points(n, 99);
    tiles_clusters coarse, fine;
    assert_int_equal(tiles_cluster_grid(p, n, 256, 5, &coarse), TILES_OK);
    assert_int_equal(tiles_cluster_grid(p, n, 128, 5, &fine), TILES_OK);
    assert_true(fine.n >= coarse.n);
    for (size_t i = 0; i < coarse.n; i++) {
        int64_t cx = floor_div(coarse.items[i].x, 256), cy = floor_div(coarse.items[i].y, 256);
        uint32_t sum = 0, cat0 = 0;
        for (size_t j = 0; j < fine.n; j++)
            if (floor_div(fine.items[j].x, 256) == cx && floor_div(fine.items[j].y, 256) == cy) {
                sum += fine.items[j].count;
                cat0 += fine.items[j].per_category[0];
            }
        assert_int_equal(sum, coarse.items[i].count);
        assert_int_equal(cat0, coarse.items[i].per_category[0]);
    }
    tiles_clusters_clear(&coarse);
    tiles_clusters_clear(&fine);
    free(p);
}

static void test_edges(void **state)
{
    (void)state;
    tiles_clusters c;
    assert_int_equal(tiles_cluster_grid(NULL, 0, 256, 3, &c), TILES_OK);
    assert_int_equal(c.n, 0);
    tiles_clusters_clear(&c);

    tiles_cluster_point p[] = { { -1, -1, 4, 0 }, { -255, -200, 9, 1 }, { 0, 0, 2, 0 },
                                { INT32_MIN, INT32_MAX, 1, 2 }, { INT32_MIN, INT32_MAX, 3, 2 } };
    assert_int_equal(tiles_cluster_grid(p, 5, 0, 3, &c), TILES_EINVAL);
    assert_int_equal(tiles_cluster_grid(p, 5, 256, 2, &c), TILES_EINVAL);  /* category 2 */
    assert_int_equal(tiles_cluster_grid(p, 5, 256, 3, &c), TILES_OK);
    /* (-1,-1) and (-255,-200) share cell (-1,-1); (0,0) is alone; the two
     * extreme points share theirs without overflow. */
    assert_int_equal(c.n, 3);
    int seen = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (c.items[i].count == 2 && c.items[i].ref == 4) {
            assert_int_equal(c.items[i].x, -128);
            assert_int_equal(c.items[i].y, -101);   /* -100.5 rounded away from zero */
            seen |= 1;
        } else if (c.items[i].count == 1) {
            assert_int_equal(c.items[i].ref, 2);
            seen |= 2;
        } else {
            assert_int_equal(c.items[i].x, INT32_MIN);
            assert_int_equal(c.items[i].y, INT32_MAX);
            assert_int_equal(c.items[i].per_category[2], 2);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    tiles_clusters_clear(&c);
}

/* The accumulator against tiles_cluster_grid: points in [-cell, 4096 +
 * cell] (a tile and its ring), fed in any order (the ref is the point's own
 * number, as the needs' ids are), give the same clusters in the same order,
 * for a power-of-two cell and another; points outside the square and bad
 * categories are refused, and nothing is counted for them. */
typedef struct expected {
    const tiles_clusters *want;
    size_t next;             /* the cluster the next call must match */
} expected;

static int collect(void *arg, const tiles_cluster64 *c)
{
    expected *e = arg;
    assert_true(e->next < e->want->n);
    const tiles_cluster *w = &e->want->items[e->next++];
    assert_int_equal(c->x, w->x);
    assert_int_equal(c->y, w->y);
    assert_int_equal(c->count, w->count);
    assert_int_equal(c->ref, w->ref);
    assert_memory_equal(c->per_category, w->per_category, 5 * sizeof *c->per_category);
    return 0;
}

static void test_accumulator(void **state)
{
    (void)state;
    static const uint32_t cells[] = { 256, 2048, 300 };
    for (size_t k = 0; k < sizeof cells / sizeof *cells; k++) {
        uint32_t cell = cells[k], seed = 5 + (uint32_t)k;
        const size_t n = 30000;
        tiles_cluster_point *p = malloc(n * sizeof *p);
        for (size_t i = 0; i < n; i++) {
            int32_t span = 4096 + 2 * (int32_t)cell + 1;
            p[i] = (tiles_cluster_point){ (int32_t)(lcg(&seed) % (uint32_t)span) - (int32_t)cell,
                                          (int32_t)(lcg(&seed) % (uint32_t)span) - (int32_t)cell,
                                          (uint32_t)i, lcg(&seed) % 5 };
            if (i % 4 == 0) {   /* clumps: many points on one spot */
                p[i].x = p[i].x / 100 * 100;
                p[i].y = p[i].y / 100 * 100;
            }
        }
        tiles_clusters want;
        assert_int_equal(tiles_cluster_grid(p, n, cell, 5, &want), TILES_OK);
        tiles_cluster_acc acc;
        assert_int_equal(tiles_cluster_acc_init(&acc, -(int32_t)cell, 4096 + (int32_t)cell, cell, 5),
                         TILES_OK);
        for (size_t i = n; i-- > 0;)   /* backwards: the smallest ref is not the first seen */
            assert_int_equal(tiles_cluster_acc_add(&acc, p[i].x, p[i].y, p[i].category, p[i].ref),
                             TILES_OK);
        assert_int_equal(tiles_cluster_acc_add(&acc, -(int32_t)cell - 1, 0, 0, 1), TILES_EINVAL);
        assert_int_equal(tiles_cluster_acc_add(&acc, 0, 4096 + 2 * (int32_t)cell, 0, 1), TILES_EINVAL);
        assert_int_equal(tiles_cluster_acc_add(&acc, 0, 0, 5, 1), TILES_EINVAL);
        expected e = { &want, 0 };
        assert_int_equal(tiles_cluster_acc_each(&acc, collect, &e), 0);
        assert_int_equal(e.next, want.n);
        tiles_cluster_acc_clear(&acc);
        tiles_clusters_clear(&want);
        free(p);
    }
    tiles_cluster_acc acc;
    assert_int_equal(tiles_cluster_acc_init(&acc, 0, 10, 0, 1), TILES_EINVAL);
    assert_int_equal(tiles_cluster_acc_init(&acc, 10, 0, 256, 1), TILES_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_cells),
        cmocka_unit_test(test_hierarchy),
        cmocka_unit_test(test_accumulator),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
