/*
 * tests/tiles/test_tiles.c — tile maths against known tile addresses.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tiles/tile.h"

static void test_valid(void **state)
{
    (void)state;
    assert_true(tiles_tile_valid(0, 0, 0));
    assert_false(tiles_tile_valid(0, 1, 0));
    assert_true(tiles_tile_valid(22, (1 << 22) - 1, 0));
    assert_false(tiles_tile_valid(23, 0, 0));
    assert_false(tiles_tile_valid(-1, 0, 0));
    assert_false(tiles_tile_valid(5, -1, 0));
    assert_false(tiles_tile_valid(5, 0, 32));
}

static void test_tile_at(void **state)
{
    (void)state;
    int64_t x, y;
    /* Notre-Dame de Paris at z14, by the slippy-map formula. */
    assert_int_equal(tiles_tile_at(2.3499, 48.8530, 14, &x, &y), TILES_OK);
    assert_int_equal(x, 8298);
    assert_int_equal(y, 5636);
    assert_int_equal(tiles_tile_at(-180, 90, 3, &x, &y), TILES_OK);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_int_equal(tiles_tile_at(180, -90, 3, &x, &y), TILES_OK);
    assert_int_equal(x, 7);
    assert_int_equal(y, 7);
    assert_int_equal(tiles_tile_at(NAN, 0, 3, &x, &y), TILES_EINVAL);
    assert_int_equal(tiles_tile_at(0, 0, 23, &x, &y), TILES_EINVAL);
}

static void test_bounds_round_trip(void **state)
{
    (void)state;
    double b[4];
    assert_int_equal(tiles_tile_bounds(0, 0, 0, b), TILES_OK);
    assert_true(fabs(b[0] + 180) < 1e-9 && fabs(b[2] - 180) < 1e-9);
    assert_true(fabs(b[3] - TILES_MAX_LAT) < 1e-6 && fabs(b[1] + TILES_MAX_LAT) < 1e-6);
    for (int z = 0; z <= TILES_MAX_ZOOM; z += 3) {
        int64_t x, y;
        assert_int_equal(tiles_tile_at(4.8357, 45.7640, z, &x, &y), TILES_OK);
        assert_int_equal(tiles_tile_bounds(z, x, y, b), TILES_OK);
        assert_true(b[0] <= 4.8357 && 4.8357 < b[2]);
        assert_true(b[1] <= 45.7640 && 45.7640 < b[3]);
    }
    assert_int_equal(tiles_tile_bounds(2, 4, 0, b), TILES_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_tile_at),
        cmocka_unit_test(test_bounds_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
