/*
 * tests/tiles/test_tiles.c — tile maths against known tile addresses; the
 * MVT encoder and the geometry pipeline in golden round trips: encode known
 * geometries, decode them with GDAL's MVT driver (an independent decoder),
 * compare within one tile unit, and check every decoded polygon with GEOS
 * (valid, exterior rings clockwise on screen, holes counter-clockwise).
 * Shapes drawn from their outlines at low zooms are held against the exact
 * path, and drawn by several threads at once.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include "tiles/geometry.h"
#include "tiles/mvt.h"
#include "tiles/shape.h"
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

static char dir[64];

/* Encodes t into dir/name.mvt and returns what GDAL's MVT driver, an
 * independent decoder, reads from it (ogrinfo's text, malloc'd). */
static char *decode_with_gdal(tiles_mvt *t, const char *name, const char *extra)
{
    uint8_t *bytes;
    size_t len;
    assert_int_equal(tiles_mvt_encode(t, &bytes, &len), TILES_OK);
    assert_int_equal(tiles_mvt_size(t), len);   /* the size foretold is the size written */
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/%s.mvt", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        fwrite(bytes, 1, len, f);
    fclose(f);
    free(bytes);
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -q -al -oo CLIP=NO %s '%s' 2>&1", extra ? extra : "", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = calloc(1, 1 << 20);
    size_t n = fread(out, 1, (1 << 20) - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not in:\n%s", needle, text);
}

/* What GEOS finds in the polygons of ogrinfo's text (one WKT a line). */
typedef struct polygon_report {
    int polygons;          /* POLYGON, or parts of a MULTIPOLYGON */
    int invalid;           /* not GEOSisValid */
    int misoriented;       /* rings wound against MVT 2.1 */
} polygon_report;

/* GDAL shows tile coordinates with y up (y' = extent - y), and keeps the
 * order of the points: an exterior ring with positive area in MVT's y-down
 * frame (clockwise on screen) comes out clockwise, a hole counter-clockwise. */
static polygon_report check_polygons(GEOSContextHandle_t h, const char *text)
{
    polygon_report rep = { 0 };
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t lead = strspn(line, " ");
        if (lead < len && (strncmp(line + lead, "POLYGON", 7) == 0 || strncmp(line + lead, "MULTIPOLYGON", 12) == 0)) {
            char *wkt = strndup(line + lead, len - lead);
            GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt);
            if (!g)
                fail_msg("GEOS cannot read %s", wkt);
            for (int i = 0; i < GEOSGetNumGeometries_r(h, g); i++) {
                const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
                rep.polygons++;
                if (GEOSisValid_r(h, p) != 1) {
                    char *why = GEOSisValidReason_r(h, p);
                    print_message("invalid polygon: %s in %s\n", why, wkt);
                    GEOSFree_r(h, why);
                    rep.invalid++;
                }
                for (int k = -1; k < GEOSGetNumInteriorRings_r(h, p); k++) {
                    const GEOSGeometry *ring = k < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, k);
                    char ccw = 0;
                    assert_int_equal(GEOSCoordSeq_isCCW_r(h, GEOSGeom_getCoordSeq_r(h, ring), &ccw), 1);
                    rep.misoriented += (k < 0) == (ccw != 0);
                }
            }
            GEOSGeom_destroy_r(h, g);
            free(wkt);
        }
        line += len + (end != NULL);
    }
    GEOSWKTReader_destroy_r(h, r);
    return rep;
}

static void test_mvt_round_trip(void **state)
{
    (void)state;
    tiles_mvt *t = tiles_mvt_new();
    tiles_layer *l;
    assert_int_equal(tiles_mvt_layer(t, "things", 4096, &l), TILES_OK);
    uint32_t one[] = { 0 };
    const char *keys[] = { "name", "n", "x", "ok" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = "Café" }, { .type = TILES_VALUE_INT, .i = -5 },
                           { .type = TILES_VALUE_DOUBLE, .d = 2.5 }, { .type = TILES_VALUE_BOOL, .b = 1 } };
    int32_t pts[] = { 100, 200, 300, 400 };
    tiles_geom mp = { TILES_GEOM_POINT, pts, 2, one, 1 };
    assert_int_equal(tiles_mvt_add(l, 1, 7, &mp, keys, vals, 4), TILES_OK);
    int32_t line[] = { 0, 0, 100, 0, 100, 100, 4000, 4000, 4100, 4000 };
    uint32_t two[] = { 0, 3 };
    tiles_geom ml = { TILES_GEOM_LINESTRING, line, 5, two, 2 };
    assert_int_equal(tiles_mvt_add(l, 1, 8, &ml, keys, vals, 1), TILES_OK);
    int32_t poly[] = { 0, 0, 1000, 0, 1000, 1000, 0, 1000, 200, 200, 200, 400, 400, 400, 400, 200 };
    uint32_t rings[] = { 0, 4 };
    tiles_geom pg = { TILES_GEOM_POLYGON, poly, 8, rings, 2 };
    assert_int_equal(tiles_mvt_add(l, 0, 0, &pg, NULL, NULL, 0), TILES_OK);
    /* A ring of two points is refused, not encoded. */
    tiles_geom bad = { TILES_GEOM_POLYGON, poly, 2, one, 1 };
    assert_int_equal(tiles_mvt_add(l, 1, 10, &bad, NULL, NULL, 0), TILES_EINVAL);
    assert_int_equal(tiles_layer_count(l), 3);
    char *text = decode_with_gdal(t, "round", NULL);
    /* GDAL shows tile coordinates with y up: y' = 4096 - y. */
    expect_in(text, "MULTIPOINT ((100 3896),(300 3696))");
    expect_in(text, "name (String) = Café");
    expect_in(text, "n (Integer) = -5");
    expect_in(text, "x (Real) = 2.5");
    expect_in(text, "mvt_id (Integer64) = 7");
    expect_in(text, "MULTILINESTRING ((0 4096,100 4096,100 3996),(4000 96,4100 96))");
    expect_in(text, "POLYGON ((0 4096,1000 4096,1000 3096,0 3096,0 4096),"
                                 "(200 3896,200 3696,400 3696,400 3896,200 3896))");
    GEOSContextHandle_t h = GEOS_init_r();
    polygon_report rep = check_polygons(h, text);
    assert_int_equal(rep.polygons, 1);
    assert_int_equal(rep.invalid, 0);
    assert_int_equal(rep.misoriented, 0);
    free(text);
    tiles_mvt_free(t);
    /* The encoder writes rings as given: a ring wound the wrong way is seen
     * as such, which shows that the check above can fail. */
    int32_t ccw[] = { 0, 0, 0, 1000, 1000, 1000, 1000, 0 };
    tiles_geom wrong = { TILES_GEOM_POLYGON, ccw, 4, one, 1 };
    t = tiles_mvt_new();
    assert_int_equal(tiles_mvt_layer(t, "wrong", 4096, &l), TILES_OK);
    assert_int_equal(tiles_mvt_add(l, 0, 0, &wrong, NULL, NULL, 0), TILES_OK);
    text = decode_with_gdal(t, "wrong", NULL);
    rep = check_polygons(h, text);
    assert_int_equal(rep.polygons, 1);
    assert_int_equal(rep.misoriented, 1);
    free(text);
    tiles_mvt_free(t);
    GEOS_finish_r(h);
}

/* A WKB polygon, written by GEOS from WKT. */
static uint8_t *wkb_of(GEOSContextHandle_t h, const char *wkt, size_t *len)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt);
    assert_non_null(g);
    uint8_t *w = GEOSGeomToWKB_buf_r(h, g, len);
    GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, r);
    return w;
}

static void test_geometry_pipeline(void **state)
{
    (void)state;
    GEOSContextHandle_t h = GEOS_init_r();
    tiles_ctx *ctx = tiles_ctx_new();
    assert_non_null(ctx);
    tiles_frame f = { .z = 14, .x = 8298, .y = 5636, .extent = 4096, .buffer = 64 };
    double b[4];
    tiles_tile_bounds(14, 8298, 5636, b);
    tiles_geom_buf out = { 0 };
    char wkt[512];
    /* A polygon much larger than the tile: clipped to the tile and buffer. */
    snprintf(wkt, sizeof wkt, "POLYGON((%f %f,%f %f,%f %f,%f %f,%f %f))", b[0] - 1, b[1] - 1,
             b[2] + 1, b[1] - 1, b[2] + 1, b[3] + 1, b[0] - 1, b[3] + 1, b[0] - 1, b[1] - 1);
    size_t len;
    uint8_t *w = wkb_of(h, wkt, &len);
    assert_int_equal(tiles_geom_from_wkb(ctx, &f, w, len, &out), TILES_OK);
    GEOSFree_r(h, w);
    assert_int_equal(out.g.type, TILES_GEOM_POLYGON);
    assert_int_equal(out.g.n_parts, 1);
    assert_int_equal(out.g.n, 4);
    int64_t area2 = 0;
    for (size_t i = 0; i < out.g.n; i++) {
        size_t j = (i + 1) % out.g.n;
        assert_true(out.g.xy[2 * i] >= -64 && out.g.xy[2 * i] <= 4096 + 64);
        area2 += (int64_t)out.g.xy[2 * i] * out.g.xy[2 * j + 1] - (int64_t)out.g.xy[2 * j] * out.g.xy[2 * i + 1];
    }
    assert_true(area2 == 2LL * 4224 * 4224); /* the buffered square, wound as an exterior */
    /* A polygon with a hole, inside the tile: the hole keeps negative area. */
    double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2, d = (b[2] - b[0]) / 4, e = (b[2] - b[0]) / 10;
    snprintf(wkt, sizeof wkt, "POLYGON((%f %f,%f %f,%f %f,%f %f,%f %f),(%f %f,%f %f,%f %f,%f %f,%f %f))",
             cx - d, cy - d, cx + d, cy - d, cx + d, cy + d, cx - d, cy + d, cx - d, cy - d,
             cx - e, cy - e, cx - e, cy + e, cx + e, cy + e, cx + e, cy - e, cx - e, cy - e);
    w = wkb_of(h, wkt, &len);
    assert_int_equal(tiles_geom_from_wkb(ctx, &f, w, len, &out), TILES_OK);
    GEOSFree_r(h, w);
    assert_int_equal(out.g.n_parts, 2);
    tiles_mvt *t = tiles_mvt_new();
    tiles_layer *l;
    tiles_mvt_layer(t, "p", 4096, &l);
    assert_int_equal(tiles_mvt_add(l, 1, 1, &out.g, NULL, NULL, 0), TILES_OK);
    char *text = decode_with_gdal(t, "hole", "-dialect SQLite -sql 'SELECT ST_IsValid(geometry) AS v, "
                                               "NumInteriorRings(geometry) AS holes FROM p'");
    expect_in(text, "v (Integer) = 1");
    expect_in(text, "holes (Integer) = 1");
    free(text);
    text = decode_with_gdal(t, "hole-geom", NULL);
    polygon_report rep = check_polygons(h, text);
    assert_int_equal(rep.polygons, 1);
    assert_int_equal(rep.invalid, 0);
    assert_int_equal(rep.misoriented, 0);
    free(text);
    tiles_mvt_free(t);
    /* Outside the tile: nothing. */
    snprintf(wkt, sizeof wkt, "POINT(%f %f)", b[2] + 1, b[3]);
    w = wkb_of(h, wkt, &len);
    assert_int_equal(tiles_geom_from_wkb(ctx, &f, w, len, &out), TILES_OK);
    GEOSFree_r(h, w);
    assert_int_equal(out.g.n, 0);
    /* Garbage is refused. */
    assert_int_equal(tiles_geom_from_wkb(ctx, &f, (const uint8_t *)"not wkb", 7, &out), TILES_EINVAL);
    int32_t x, y;
    assert_int_equal(tiles_point(&f, cx, cy, &x, &y), 1);
    assert_in_range(x, 2040, 2056);
    assert_int_equal(tiles_point(&f, b[2] + 1, cy, &x, &y), 0);
    tiles_geom_buf_clear(&out);
    tiles_ctx_free(ctx);
    GEOS_finish_r(h);
}

/* The first geometry of ogrinfo's text, read by GEOS; NULL when none. */
static GEOSGeometry *first_geometry(GEOSContextHandle_t h, const char *text)
{
    static const char *const kinds[] = { "POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING",
                                         "POLYGON", "MULTIPOLYGON" };
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t lead = strspn(line, " ");
        for (size_t k = 0; lead < len && k < sizeof kinds / sizeof *kinds; k++) {
            size_t n = strlen(kinds[k]);
            if (strncmp(line + lead, kinds[k], n) == 0 && line[lead + n] == ' ') {
                char *wkt = strndup(line + lead, len - lead);
                GEOSWKTReader *r = GEOSWKTReader_create_r(h);
                GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt);
                GEOSWKTReader_destroy_r(h, r);
                free(wkt);
                return g;
            }
        }
        line += len + (end != NULL);
    }
    return NULL;
}

/* Tile coordinates of the golden frame to lon/lat, by the inverse of the
 * spherical Mercator (written here apart from tiles/geometry.c's forward
 * formula, so that both are checked). */
static const tiles_frame golden_frame = { .z = 14, .x = 8298, .y = 5636, .extent = 4096, .buffer = 64 };

static int to_lonlat(double *x, double *y, void *arg)
{
    (void)arg;
    const tiles_frame *f = &golden_frame;
    double world = ldexp((double)f->extent, f->z);
    double px = ((double)f->x * f->extent + *x) / world, py = ((double)f->y * f->extent + *y) / world;
    *x = px * 360.0 - 180.0;
    *y = atan(sinh(M_PI * (1.0 - 2.0 * py))) * 180.0 / M_PI;
    return 1;
}

/* y down (MVT) to y up (GDAL's view of a tile). */
static int flip(double *x, double *y, void *arg)
{
    (void)x;
    (void)arg;
    *y = (double)golden_frame.extent - *y;
    return 1;
}

/* Known shapes in tile coordinates (y down, any winding) go through the
 * whole pipeline (lon/lat WKB, tiles_geom_from_wkb, the encoder) and come
 * back through GDAL within one tile unit of the shape clipped to the tile
 * and its buffer; polygons valid and wound as MVT wants. Invalid inputs
 * (bowtie) must give either nothing or a valid polygon. */
static void test_pipeline_golden(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *wkt;       /* tile coordinates, y down */
        int input_valid;       /* 0: only the validity of the result is checked */
        int empty;             /* 1: nothing may be left */
    } shapes[] = {
        { "point", "POINT(1234 567)", 1, 0 },
        { "multipoint", "MULTIPOINT((1 2),(4000 4000),(-60 4150))", 1, 0 },
        { "point beyond the buffer", "POINT(-100 50)", 1, 1 },
        { "line", "LINESTRING(100 100,500 800,900 100)", 1, 0 },
        { "multiline", "MULTILINESTRING((100 100,500 800),(3000 3000,3500 3900,4000 3000))", 1, 0 },
        { "line across the edge", "LINESTRING(-1000 2000,2000 2000,2000 5000)", 1, 0 },
        { "square, clockwise on screen", "POLYGON((100 100,900 100,900 900,100 900,100 100))", 1, 0 },
        { "square, counter-clockwise on screen", "POLYGON((100 100,100 900,900 900,900 100,100 100))", 1, 0 },
        { "hole wound like its exterior", "POLYGON((0 0,2000 0,2000 2000,0 2000,0 0),"
                                          "(500 500,1500 500,1500 1500,500 1500,500 500))", 1, 0 },
        { "multipolygon with a hole", "MULTIPOLYGON(((10 10,500 10,500 500,10 500,10 10)),"
                                      "((1000 1000,3000 1000,3000 3000,1000 3000,1000 1000),"
                                      "(1500 1500,1500 2500,2500 2500,2500 1500,1500 1500)))", 1, 0 },
        { "concave", "POLYGON((100 100,400 100,400 900,600 900,600 100,900 100,900 1000,100 1000,100 100))", 1, 0 },
        { "across the edge", "POLYGON((-500 -500,300 -500,300 300,-500 300,-500 -500))", 1, 0 },
        { "larger than the tile", "POLYGON((-9000 -9000,9000 -9000,9000 9000,-9000 9000,-9000 -9000))", 1, 0 },
        { "smaller than a unit", "POLYGON((10 10,10.3 10,10.3 10.3,10 10))", 1, 1 },
        { "bowtie", "POLYGON((100 100,900 900,900 100,100 900,100 100))", 0, 0 },
        { "ring touching itself", "POLYGON((0 0,1000 0,1000 1000,500 0,0 1000,0 0))", 0, 0 },
    };
    GEOSContextHandle_t h = GEOS_init_r();
    tiles_ctx *ctx = tiles_ctx_new();
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    tiles_geom_buf out = { 0 };
    int lo = -(int)golden_frame.buffer, hi = (int)(golden_frame.extent + golden_frame.buffer);
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        GEOSGeometry *shape = GEOSWKTReader_read_r(h, r, shapes[i].wkt);
        assert_non_null(shape);
        GEOSGeometry *lonlat = GEOSGeom_transformXY_r(h, shape, to_lonlat, NULL);
        size_t len;
        uint8_t *wkb = GEOSGeomToWKB_buf_r(h, lonlat, &len);
        int rc = tiles_geom_from_wkb(ctx, &golden_frame, wkb, len, &out);
        GEOSFree_r(h, wkb);
        GEOSGeom_destroy_r(h, lonlat);
        if (shapes[i].input_valid)
            assert_int_equal(rc, TILES_OK);
        else if (rc != TILES_OK)
            print_message("golden %s: refused (%d)\n", shapes[i].name, rc);
        tiles_mvt *t = tiles_mvt_new();
        tiles_layer *l;
        assert_int_equal(tiles_mvt_layer(t, "golden", 4096, &l), TILES_OK);
        if (rc == TILES_OK)
            assert_int_equal(tiles_mvt_add(l, 1, i, &out.g, NULL, NULL, 0), TILES_OK);
        char name[32];
        snprintf(name, sizeof name, "golden%zu", i);
        char *text = decode_with_gdal(t, name, NULL);
        tiles_mvt_free(t);
        GEOSGeometry *got = first_geometry(h, text);
        if (shapes[i].empty) {
            if (got)
                fail_msg("golden %s: expected nothing, GDAL read:\n%s", shapes[i].name, text);
        } else if (shapes[i].input_valid) {
            if (!got)
                fail_msg("golden %s: GDAL read no geometry:\n%s", shapes[i].name, text);
            GEOSGeometry *clipped = GEOSClipByRect_r(h, shape, lo, lo, hi, hi);
            GEOSGeometry *want = GEOSGeom_transformXY_r(h, clipped, flip, NULL);
            double d = -1;
            assert_int_equal(GEOSHausdorffDistanceDensify_r(h, got, want, 0.05, &d), 1);
            if (!(d <= 1.0))
                fail_msg("golden %s: %.2f tile units away:\n%s", shapes[i].name, d, text);
            GEOSGeom_destroy_r(h, want);
            GEOSGeom_destroy_r(h, clipped);
        }
        polygon_report rep = check_polygons(h, text);
        if (rep.invalid || rep.misoriented)
            fail_msg("golden %s: %d of %d polygons invalid, %d rings misoriented:\n%s", shapes[i].name,
                     rep.invalid, rep.polygons, rep.misoriented, text);
        if (got)
            GEOSGeom_destroy_r(h, got);
        GEOSGeom_destroy_r(h, shape);
        free(text);
    }
    tiles_geom_buf_clear(&out);
    GEOSWKTReader_destroy_r(h, r);
    tiles_ctx_free(ctx);
    GEOS_finish_r(h);
}

/* Twice the area of b's rings, exterior positive (tile coordinates, y down). */
static int64_t area2(const tiles_geom_buf *b)
{
    int64_t sum = 0;
    for (size_t p = 0; p < b->g.n_parts; p++) {
        size_t start = b->g.parts[p], end = p + 1 < b->g.n_parts ? b->g.parts[p + 1] : b->g.n;
        for (size_t i = start; i < end; i++) {
            size_t j = i + 1 < end ? i + 1 : start;
            sum += (int64_t)b->g.xy[2 * i] * b->g.xy[2 * j + 1]
                 - (int64_t)b->g.xy[2 * j] * b->g.xy[2 * i + 1];
        }
    }
    return sum;
}

/* The WKB (lon/lat) of a shape given in the golden frame's tile coordinates. */
static uint8_t *golden_wkb(GEOSContextHandle_t h, const char *wkt, size_t *len)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt);
    assert_non_null(g);
    GEOSGeometry *lonlat = GEOSGeom_transformXY_r(h, g, to_lonlat, NULL);
    uint8_t *wkb = GEOSGeomToWKB_buf_r(h, lonlat, len);
    GEOSGeom_destroy_r(h, lonlat);
    GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, r);
    return wkb;
}

/* A prepared shape draws what tiles_geom_from_wkb draws of the same polygon
 * (same area to the unit, valid rings) in the golden tile, its eight
 * neighbours, its parent and its sixteen grandchildren; a tile inside a
 * hole gets nothing, a tile inside the polygon its whole rectangle. */
static void test_shape_matches_wkb(void **state)
{
    (void)state;
    static const char *const shapes[] = {
        "POLYGON((100 100,900 100,900 900,100 900,100 100))",
        "POLYGON((-9000 -9000,9000 -9000,9000 9000,-9000 9000,-9000 -9000),"
        "(1000 1000,3000 1000,3000 3000,1000 3000,1000 1000))",
        "MULTIPOLYGON(((10 10,500 10,500 500,10 500,10 10)),"
        "((1000 1000,13000 1000,13000 3000,1000 3000,1000 1000),"
        "(1500 1500,1500 2500,2500 2500,2500 1500,1500 1500)))",
        "POLYGON((100 100,400 100,400 9000,600 9000,600 100,9000 100,9000 10000,100 10000,100 100))",
        "POLYGON((-5000 2000,2000 -6000,9000 2000,2000 10000,-5000 2000))",
        "POLYGON((100 100,900 900,900 100,100 900,100 100))",
    };
    enum { BOWTIE = 5 };
    GEOSContextHandle_t h = GEOS_init_r();
    tiles_ctx *ctx = tiles_ctx_new();
    tiles_geom_buf a = { 0 }, b = { 0 };
    size_t compared = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        size_t len;
        uint8_t *wkb = golden_wkb(h, shapes[i], &len);
        tiles_shape *shape;
        assert_int_equal(tiles_shape_from_wkb(ctx, wkb, len, &shape), TILES_OK);
        tiles_frame frames[32];
        size_t n = 0;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                frames[n] = golden_frame;
                frames[n].x += dx;
                frames[n++].y += dy;
            }
        frames[n] = golden_frame;
        frames[n].z--, frames[n].x /= 2, frames[n++].y /= 2;
        for (int k = 0; k < 16; k++) {
            frames[n] = golden_frame;
            frames[n].z += 2;
            frames[n].x = golden_frame.x * 4 + k % 4;
            frames[n++].y = golden_frame.y * 4 + k / 4;
        }
        for (size_t f = 0; f < n; f++) {
            assert_int_equal(tiles_geom_from_shape(ctx, &frames[f], shape, &b), TILES_OK);
            if (i == BOWTIE) {
                /* repaired once into its two triangles, where the per-tile
                 * path (which repairs only what it cuts) simplifies it as is */
                if (f == 4)
                    assert_true(area2(&b) == 2 * 2 * (800 * 400 / 2));
                continue;
            }
            assert_int_equal(tiles_geom_from_wkb(ctx, &frames[f], wkb, len, &a), TILES_OK);
            if (area2(&a) != area2(&b))
                fail_msg("shape %zu, frame %d/%lld/%lld: area %lld by WKB, %lld prepared", i,
                         frames[f].z, (long long)frames[f].x, (long long)frames[f].y,
                         (long long)area2(&a), (long long)area2(&b));
            compared++;
        }
        tiles_shape_free(shape);
        GEOSFree_r(h, wkb);
    }
    assert_true(compared > 100);

    /* inside the hole of shape 1: nothing; inside its ring: the rectangle */
    size_t len;
    uint8_t *wkb = golden_wkb(h, shapes[1], &len);
    tiles_shape *shape;
    assert_int_equal(tiles_shape_from_wkb(ctx, wkb, len, &shape), TILES_OK);
    tiles_frame hole = { .z = 17, .x = golden_frame.x * 8 + 3, .y = golden_frame.y * 8 + 3,
                         .extent = 4096, .buffer = 64 };
    assert_int_equal(tiles_geom_from_shape(ctx, &hole, shape, &b), TILES_OK);
    assert_int_equal(b.g.n, 0);
    tiles_frame inside = hole;
    inside.x = golden_frame.x * 8 + 6;
    assert_int_equal(tiles_geom_from_shape(ctx, &inside, shape, &b), TILES_OK);
    assert_int_equal(b.g.n_parts, 1);
    assert_int_equal(b.g.n, 4);
    assert_true(area2(&b) == 2 * (int64_t)(4096 + 128) * (4096 + 128));
    double bounds[4];
    tiles_shape_bounds(shape, bounds);
    assert_true(bounds[0] < bounds[2] && bounds[1] < bounds[3]);
    tiles_frame bad = inside;
    bad.extent = 0;
    assert_int_equal(tiles_geom_from_shape(ctx, &bad, shape, &b), TILES_EINVAL);
    bad = inside;
    bad.z = 23;
    assert_int_equal(tiles_geom_from_shape(ctx, &bad, shape, &b), TILES_EINVAL);
    assert_int_equal(b.g.n, 0);
    tiles_shape_free(shape);
    GEOSFree_r(h, wkb);

    /* not a polygon, or not WKB at all */
    wkb = golden_wkb(h, "LINESTRING(0 0,100 100)", &len);
    assert_int_equal(tiles_shape_from_wkb(ctx, wkb, len, &shape), TILES_EINVAL);
    assert_null(shape);
    GEOSFree_r(h, wkb);
    assert_int_equal(tiles_shape_from_wkb(ctx, (const uint8_t *)"not wkb", 7, &shape), TILES_EINVAL);
    tiles_geom_buf_clear(&a);
    tiles_geom_buf_clear(&b);
    tiles_ctx_free(ctx);
    GEOS_finish_r(h);
}

/* ---- outlines (tiles_geom_from_shape_generalised) ---------------------------- */

/* b as GEOS polygons in tile units (an exterior ring, positive area in y-down
 * coordinates, opens a polygon; negative rings are its holes). NULL when b
 * is empty. */
static GEOSGeometry *buf_geos(GEOSContextHandle_t h, const tiles_geom_buf *b)
{
    GEOSGeometry *polys[256];
    GEOSGeometry *rings[256];
    unsigned n_polys = 0, n_rings = 0;
    for (size_t p = 0; p <= b->g.n_parts; p++) {
        int64_t a2 = 0;
        size_t start = 0, end = 0;
        if (p < b->g.n_parts) {
            start = b->g.parts[p];
            end = p + 1 < b->g.n_parts ? b->g.parts[p + 1] : b->g.n;
            for (size_t i = start; i < end; i++) {
                size_t j = i + 1 < end ? i + 1 : start;
                a2 += (int64_t)b->g.xy[2 * i] * b->g.xy[2 * j + 1]
                    - (int64_t)b->g.xy[2 * j] * b->g.xy[2 * i + 1];
            }
        }
        if ((p == b->g.n_parts || a2 > 0) && n_rings) {
            assert_true(n_polys < 256);
            polys[n_polys++] = GEOSGeom_createPolygon_r(h, rings[0], rings + 1, n_rings - 1);
            n_rings = 0;
        }
        if (p == b->g.n_parts)
            break;
        if (a2 <= 0 && n_rings == 0)
            fail_msg("part %zu: a hole (area %lld) before any exterior ring", p, (long long)a2);
        GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)(end - start + 1), 2);
        for (size_t i = start; i <= end; i++) {
            size_t k = i < end ? i : start;
            GEOSCoordSeq_setXY_r(h, seq, (unsigned)(i - start), b->g.xy[2 * k], b->g.xy[2 * k + 1]);
        }
        assert_true(n_rings < 256);
        rings[n_rings++] = GEOSGeom_createLinearRing_r(h, seq);
    }
    return n_polys ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, n_polys) : NULL;
}

static size_t varint_bytes(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The bytes of b's MVT geometry commands, counted as the encoder writes them. */
static size_t geometry_bytes(const tiles_geom_buf *b)
{
    size_t n = 0;
    int32_t cx = 0, cy = 0;
    for (size_t p = 0; p < b->g.n_parts; p++) {
        size_t start = b->g.parts[p], end = p + 1 < b->g.n_parts ? b->g.parts[p + 1] : b->g.n;
        n += 1 + varint_bytes((uint32_t)(end - start - 1) << 3 | 2) + 1;   /* MoveTo, LineTo, ClosePath */
        for (size_t i = start; i < end; i++) {
            int32_t dx = b->g.xy[2 * i] - cx, dy = b->g.xy[2 * i + 1] - cy;
            n += varint_bytes(((uint32_t)dx << 1) ^ (uint32_t)(dx >> 31))
               + varint_bytes(((uint32_t)dy << 1) ^ (uint32_t)(dy >> 31));
            cx = b->g.xy[2 * i];
            cy = b->g.xy[2 * i + 1];
        }
    }
    return n;
}

/* Shapes in the golden frame's tile units (zoom 14), large enough to span
 * many units at zooms 4 to 10: a wavy disc of 2,000 points, a square with a
 * hole, a polygon with a long narrow notch, a diamond crossing many tiles,
 * two squares a hair apart (the snapped outline makes them touch along an
 * edge: GEOS repairs it), and a speck that no low zoom can draw. */
static char *outline_shapes(size_t i)
{
    char *wkt = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&wkt, &len);
    assert_non_null(f);
    switch (i) {
    case 0:
        fputs("POLYGON((", f);
        for (int k = 0; k <= 2000; k++) {
            double t = 2 * M_PI * (k % 2000) / 2000, r = 60000 + 4000 * sin(37 * t) + 900 * sin(311 * t);
            fprintf(f, "%s%.3f %.3f", k ? "," : "", 2048 + r * cos(t), 2048 + r * sin(t));
        }
        fputs("))", f);
        break;
    case 1:
        fputs("POLYGON((-90000 -90000,90000 -90000,90000 90000,-90000 90000,-90000 -90000),"
              "(10000 10000,30000 10000,30000 30000,10000 30000,10000 10000))", f);
        break;
    case 2:
        fputs("POLYGON((1000 1000,4000 1000,4000 90000,4600 90000,4600 1000,90000 1000,"
              "90000 100000,1000 100000,1000 1000))", f);
        break;
    case 3:
        fputs("POLYGON((-50000 20000,20000 -60000,90000 20000,20000 100000,-50000 20000))", f);
        break;
    case 4:
        fputs("MULTIPOLYGON(((0 0,40000 0,40000 40000,0 40000,0 0)),"
              "((40020 0,80000 0,80000 40000,40020 40000,40020 0)))", f);
        break;
    default:
        fputs("POLYGON((100 100,110 100,110 110,100 110,100 100))", f);
        break;
    }
    fclose(f);
    return wkt;
}
#define N_OUTLINE_SHAPES 6
#define SPECK 5

/* Every shape at zooms 4 to 10, in the tile holding the golden tile and its
 * eight neighbours, at the tolerances of the detail levels (and one no
 * outline is kept for): drawn without error, the same when drawn again
 * (from the kept outline), valid by GEOS with exterior rings first and wound
 * for MVT, within the tolerance plus two units of the exact path (Hausdorff
 * distance), and the byte count foretold no more than what the encoder
 * writes. A speck is not drawn. GDAL's MVT driver reads a zoom 6 tile of
 * each shape back as valid polygons. Beyond TILES_SHAPE_OUTLINE_MAXZOOM the
 * exact path draws. */
static void test_shape_generalised(void **state)
{
    (void)state;
    static const double tolerances[] = { 0, 2, 8, 3 };
    GEOSContextHandle_t h = GEOS_init_r();
    tiles_ctx *ctx = tiles_ctx_new();
    tiles_geom_buf a = { 0 }, b = { 0 }, again = { 0 };
    size_t drawn = 0, compared = 0;
    for (size_t i = 0; i < N_OUTLINE_SHAPES; i++) {
        char *wkt = outline_shapes(i);
        size_t len;
        uint8_t *wkb = golden_wkb(h, wkt, &len);
        tiles_shape *shape;
        assert_int_equal(tiles_shape_from_wkb(ctx, wkb, len, &shape), TILES_OK);
        for (int z = 4; z <= 10; z++)
            for (int d = 0; d < 9; d++)
                for (size_t t = 0; t < sizeof tolerances / sizeof *tolerances; t++) {
                    int shift = golden_frame.z - z;
                    tiles_frame f = { .z = z, .x = (golden_frame.x >> shift) + d % 3 - 1,
                                      .y = (golden_frame.y >> shift) + d / 3 - 1, .extent = 4096,
                                      .buffer = 64, .tolerance = tolerances[t] };
                    assert_int_equal(tiles_geom_from_shape_generalised(ctx, &f, shape, &b), TILES_OK);
                    assert_int_equal(tiles_geom_from_shape_generalised(ctx, &f, shape, &again), TILES_OK);
                    assert_int_equal(again.g.n, b.g.n);
                    assert_int_equal(again.g.n_parts, b.g.n_parts);
                    assert_memory_equal(again.g.xy, b.g.xy, b.g.n * 2 * sizeof *b.g.xy);
                    if (i == SPECK) {
                        assert_int_equal(b.g.n, 0);
                        continue;
                    }
                    size_t bound;
                    assert_int_equal(tiles_shape_generalised_bytes(ctx, &f, shape, &tolerances[t], 1, &bound),
                                     TILES_OK);
                    if (bound > geometry_bytes(&b))
                        fail_msg("shape %zu, %d/%lld/%lld: %zu bytes foretold, %zu written", i, z,
                                 (long long)f.x, (long long)f.y, bound, geometry_bytes(&b));
                    assert_int_equal(tiles_geom_from_shape(ctx, &f, shape, &a), TILES_OK);
                    GEOSGeometry *ga = buf_geos(h, &a), *gb = buf_geos(h, &b);
                    if (gb) {
                        drawn++;
                        if (GEOSisValid_r(h, gb) != 1) {
                            char *why = GEOSisValidReason_r(h, gb);
                            fail_msg("shape %zu, %d/%lld/%lld at %.1f: invalid (%s)", i, z,
                                     (long long)f.x, (long long)f.y, tolerances[t], why);
                        }
                    }
                    if (ga && gb) {
                        double dist = -1;
                        assert_int_equal(GEOSHausdorffDistance_r(h, ga, gb, &dist), 1);
                        double tol = tolerances[t] > 0 ? tolerances[t] : 0.5;
                        if (!(dist <= tol + 2))
                            fail_msg("shape %zu, %d/%lld/%lld at %.1f: %.2f units from the exact path", i,
                                     z, (long long)f.x, (long long)f.y, tol, dist);
                        compared++;
                    } else if (ga || gb) {
                        /* one path drew nothing: the other only a sliver */
                        double area = 0;
                        GEOSArea_r(h, ga ? ga : gb, &area);
                        if (area > 64)
                            fail_msg("shape %zu, %d/%lld/%lld: one path drew nothing, the other %.0f units^2",
                                     i, z, (long long)f.x, (long long)f.y, area);
                    }
                    if (ga)
                        GEOSGeom_destroy_r(h, ga);
                    if (gb)
                        GEOSGeom_destroy_r(h, gb);
                }
        /* read back by GDAL: the tile holding the golden one at zoom 6 */
        tiles_frame f6 = { .z = 6, .x = golden_frame.x >> 8, .y = golden_frame.y >> 8, .extent = 4096,
                           .buffer = 64 };
        assert_int_equal(tiles_geom_from_shape_generalised(ctx, &f6, shape, &b), TILES_OK);
        tiles_mvt *t = tiles_mvt_new();
        tiles_layer *l;
        assert_int_equal(tiles_mvt_layer(t, "outline", 4096, &l), TILES_OK);
        assert_int_equal(tiles_mvt_add(l, 0, 0, &b.g, NULL, NULL, 0), TILES_OK);
        char name[32];
        snprintf(name, sizeof name, "outline%zu", i);
        char *text = decode_with_gdal(t, name, NULL);
        tiles_mvt_free(t);
        polygon_report rep = check_polygons(h, text);
        if (rep.invalid || rep.misoriented || (i != SPECK && !rep.polygons))
            fail_msg("outline %zu at z6: %d polygons, %d invalid, %d rings misoriented:\n%s", i,
                     rep.polygons, rep.invalid, rep.misoriented, text);
        free(text);
        /* deeper than the outlines: the exact path */
        assert_int_equal(tiles_geom_from_shape_generalised(ctx, &golden_frame, shape, &b), TILES_OK);
        assert_int_equal(tiles_geom_from_shape(ctx, &golden_frame, shape, &a), TILES_OK);
        assert_int_equal(a.g.n, b.g.n);
        assert_memory_equal(a.g.xy, b.g.xy, a.g.n * 2 * sizeof *a.g.xy);
        tiles_shape_free(shape);
        GEOSFree_r(h, wkb);
        free(wkt);
    }
    print_message("outlines: %zu draws compared with the exact path, %zu drawn\n", compared, drawn);
    assert_true(drawn > 300 && compared > 300);
    tiles_geom_buf_clear(&a);
    tiles_geom_buf_clear(&b);
    tiles_geom_buf_clear(&again);
    tiles_ctx_free(ctx);
    GEOS_finish_r(h);
}

/* Threads drawing the same fresh shapes at once (the outlines are made and
 * published under their feet) draw what one thread draws alone. */
typedef struct race {
    tiles_shape **shapes;
    uint8_t *wkb[N_OUTLINE_SHAPES];
    size_t len[N_OUTLINE_SHAPES];
    int64_t sums[N_OUTLINE_SHAPES][11][3];   /* per shape, zoom, tolerance: a digest of the draw */
} race;

static int64_t digest(const tiles_geom_buf *b)
{
    uint64_t s = (uint64_t)b->g.n * 1000003 + (uint64_t)b->g.n_parts;
    for (size_t i = 0; i < 2 * b->g.n; i++)
        s = s * 31 + (uint32_t)b->g.xy[i];
    return (int64_t)(s >> 1);   /* -1 stays free to mean a failed draw */
}

static void race_draw(race *r, tiles_shape **shapes, tiles_ctx *ctx)
{
    static const double tolerances[] = { 0, 8, 32 };
    tiles_geom_buf b = { 0 };
    for (int z = 0; z <= 10; z++)
        for (size_t i = 0; i < N_OUTLINE_SHAPES; i++)
            for (size_t t = 0; t < 3; t++) {
                int shift = golden_frame.z - z;
                tiles_frame f = { .z = z, .x = golden_frame.x >> shift, .y = golden_frame.y >> shift,
                                  .extent = 4096, .buffer = 64, .tolerance = tolerances[t] };
                int rc = tiles_geom_from_shape_generalised(ctx, &f, shapes[i], &b);
                r->sums[i][z][t] = rc ? -1 : digest(&b);
            }
    tiles_geom_buf_clear(&b);
}

typedef struct racer {
    race result;
    tiles_shape **shapes;
    pthread_t thread;
} racer;

static void *race_run(void *arg)
{
    racer *w = arg;
    tiles_ctx *ctx = tiles_ctx_new();
    race_draw(&w->result, w->shapes, ctx);
    tiles_ctx_free(ctx);
    return NULL;
}

static void test_shape_generalised_threads(void **state)
{
    (void)state;
    GEOSContextHandle_t h = GEOS_init_r();
    tiles_ctx *ctx = tiles_ctx_new();
    tiles_shape *alone[N_OUTLINE_SHAPES], *shared[N_OUTLINE_SHAPES];
    for (size_t i = 0; i < N_OUTLINE_SHAPES; i++) {
        char *wkt = outline_shapes(i);
        size_t len;
        uint8_t *wkb = golden_wkb(h, wkt, &len);
        assert_int_equal(tiles_shape_from_wkb(ctx, wkb, len, &alone[i]), TILES_OK);
        assert_int_equal(tiles_shape_from_wkb(ctx, wkb, len, &shared[i]), TILES_OK);
        GEOSFree_r(h, wkb);
        free(wkt);
    }
    static race want;
    race_draw(&want, alone, ctx);
    static racer w[4];
    for (int k = 0; k < 4; k++) {
        w[k].shapes = shared;
        assert_int_equal(pthread_create(&w[k].thread, NULL, race_run, &w[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(w[k].thread, NULL);
        assert_memory_equal(w[k].result.sums, want.sums, sizeof want.sums);
    }
    for (size_t i = 0; i < N_OUTLINE_SHAPES; i++) {
        tiles_shape_free(alone[i]);
        tiles_shape_free(shared[i]);
    }
    tiles_ctx_free(ctx);
    GEOS_finish_r(h);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_tiles.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_tile_at),
        cmocka_unit_test(test_bounds_round_trip),
        cmocka_unit_test(test_mvt_round_trip),
        cmocka_unit_test(test_geometry_pipeline),
        cmocka_unit_test(test_pipeline_golden),
        cmocka_unit_test(test_shape_matches_wkb),
        cmocka_unit_test(test_shape_generalised),
        cmocka_unit_test(test_shape_generalised_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
