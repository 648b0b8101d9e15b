/*
 * tests/fuzz/alloc_fail.c — the allocation-failure loop: the tile encoder,
 * the JSON body readers and the query parsers, with the k-th allocation
 * failed for k = 1, 2, 3, ... until a run reaches its end without meeting a
 * k-th allocation (SQLite's way of testing out-of-memory).
 *
 * How allocations are failed: this binary is linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup,
 * --wrap=strndup, so every call to them from the code linked in (tiles/,
 * mapd/request.c, mapd/parse.c, geodata's parsers, this file) goes through
 * the __wrap_ functions below; jansson, a shared library, is given the same
 * functions with json_set_alloc_funcs. What neither reaches: allocations
 * made inside other shared libraries (GEOS's C++ operator new, glibc's
 * own); those are not failed.
 *
 * Each scenario is run once without failure for its reference result, then
 * with the k-th allocation failed. What must hold, else the test aborts:
 *   - the run returns its module's out-of-memory code (TILES_ENOMEM; a NULL
 *     document or a 503 for the JSON readers), or the very result of the
 *     reference run (when the code had a way around the failure) — never
 *     another error, never a crash;
 *   - every allocation made during the run has been freed at its end: the
 *     allocations are counted here, pointer by pointer, so that the check
 *     holds in a Release build too (the ASan build adds LeakSanitizer);
 *   - the query parsers, which promise no allocation (mapd/parse.h), make
 *     none.
 * One exception, outside this project: the allocations of json_loadb and
 * json_dumps are counted for leaks but not failed, because jansson (2.14,
 * the system's) mishandles a failure there, as this loop found:
 *   - json_loadb ignores a failure to grow its lexer's buffer (lex_save in
 *     load.c, akheron/jansson#362): it parses on with a byte dropped and
 *     returns a document that is not the body, or fails an assert() and
 *     aborts the process (lex_scan_string);
 *   - json_dumps ignores a failure to write an object's key (do_dump in
 *     dump.c, akheron/jansson#655): it returns JSON with the key missing.
 * Failing them here would only show that again; the fix belongs to jansson
 * (both are open upstream). Everything else jansson allocates for mapd's
 * readers and responses (json_pack, json_deep_copy, json_object_set_new,
 * json_string_setn) is failed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/dates.h"
#include "geodata/posts.h"
#include "http.h"
#include "ogc.h"
#include "parse.h"
#include "post_json.h"
#include "problem_sink.h"
#include "tiles/cluster.h"
#include "tiles/geometry.h"
#include "tiles/mvt.h"
#include "tiles/pointset.h"
#include "tiles/shape.h"
#include "tiles/tile.h"

/* ---- counted allocations ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define LIVE_SLOTS (1u << 16)           /* open addressing; far more than a run holds */
#define TOMBSTONE ((void *)1)

static struct {
    int armed;                  /* counting (and maybe failing) */
    size_t calls;               /* allocation calls while armed */
    size_t fail_at;             /* the call to fail (1-based); 0: none */
    int failed;                 /* the failure was injected */
    int sparing;                /* count for leaks, but neither number nor fail */
    size_t spared;              /* allocations made while sparing */
    size_t live;                /* allocations made while armed, not freed yet */
    void *slots[LIVE_SLOTS];    /* those allocations */
} A;

static size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= 0xed5ad4bbu;
    return (size_t)(h ^ (h >> 11)) & (LIVE_SLOTS - 1);
}

static void track(void *p)
{
    if (!p)
        return;
    if (A.live + 1 >= LIVE_SLOTS / 2) {
        fprintf(stderr, "alloc_fail: more live allocations than the table holds\n");
        abort();
    }
    size_t i = slot_of(p);
    while (A.slots[i] && A.slots[i] != TOMBSTONE)
        i = (i + 1) & (LIVE_SLOTS - 1);
    A.slots[i] = p;
    A.live++;
}

static void untrack(void *p)
{
    if (!p || !A.live)
        return;
    for (size_t i = slot_of(p), n = 0; A.slots[i] && n < LIVE_SLOTS; i = (i + 1) & (LIVE_SLOTS - 1), n++)
        if (A.slots[i] == p) {
            A.slots[i] = TOMBSTONE;
            A.live--;
            return;
        }
}

/* 1 when this allocation is the one to fail. */
static int fail_now(void)
{
    if (!A.armed)
        return 0;
    if (A.sparing) {
        A.spared++;
        return 0;
    }
    A.calls++;
    if (A.fail_at && A.calls == A.fail_at) {
        A.failed = 1;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    if (fail_now())
        return NULL;
    void *p = __real_malloc(n);
    if (A.armed)
        track(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (fail_now())
        return NULL;
    void *p = __real_calloc(n, size);
    if (A.armed)
        track(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (n == 0) {
        __wrap_free(p);
        return NULL;
    }
    if (fail_now())
        return NULL;                    /* p stays allocated, as realloc leaves it */
    void *q = __real_realloc(p, n);
    if (q) {
        untrack(p);
        if (A.armed)
            track(q);
    }
    return q;
}

void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    if (fail_now())
        return NULL;
    char *p = __real_strdup(s);
    if (A.armed)
        track(p);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (fail_now())
        return NULL;
    char *p = __real_strndup(s, n);
    if (A.armed)
        track(p);
    return p;
}

/* jansson's hooks: the same counted functions */
static void *json_malloc_hook(size_t n) { return __wrap_malloc(n); }
static void json_free_hook(void *p) { __wrap_free(p); }

static void arm(size_t fail_at)
{
    A.armed = 1;
    A.calls = 0;
    A.fail_at = fail_at;
    A.failed = 0;
}

static void disarm(void)
{
    A.armed = 0;
}

/* ---- the loop ---- */

#define RESULT_MAX 65536

/* A scenario writes its result (bytes to compare with the reference run)
 * into out (*len bytes) and returns 0, or returns its out-of-memory code
 * (any negative value: the scenario checks which code is right), having
 * freed everything. */
typedef int (*scenario_fn)(uint8_t *out, size_t *len);

static uint8_t reference[RESULT_MAX], result[RESULT_MAX];

static void run(const char *name, scenario_fn fn)
{
    size_t ref_len = 0, len = 0;
    A.spared = 0;
    arm(0);
    int rc = fn(reference, &ref_len);
    disarm();
    size_t total = A.calls, spared = A.spared;
    if (rc != 0 || A.live) {
        fprintf(stderr, "alloc_fail: %s: the run without failure gave %d with %zu allocations left\n",
                name, rc, A.live);
        abort();
    }
    size_t k;
    for (k = 1;; k++) {
        arm(k);
        rc = fn(result, &len);
        disarm();
        if (A.live) {
            fprintf(stderr, "alloc_fail: %s: allocation %zu failed: %zu allocations leaked\n", name, k,
                    A.live);
            abort();
        }
        if (!A.failed) {               /* ran to its end before a k-th allocation */
            if (rc != 0 || len != ref_len || memcmp(result, reference, len) != 0) {
                fprintf(stderr, "alloc_fail: %s: a run without failure gave another result\n", name);
                abort();
            }
            break;
        }
        if (rc == 0 && (len != ref_len || memcmp(result, reference, len) != 0)) {
            fprintf(stderr, "alloc_fail: %s: allocation %zu failed, yet a different result came "
                    "back as a success\n", name, k);
            abort();
        }
    }
    if (total)
        printf("%s: %zu allocations, each failed in turn: out-of-memory code or the same result, "
               "nothing leaked", name, total);
    else
        printf("%s: no allocation, nothing to fail", name);
    if (spared)
        printf(" (and %zu in json_loadb and json_dumps, counted but not failed: see the top of "
               "alloc_fail.c)", spared);
    printf("\n");
    fflush(stdout);
}

/* ---- tiles: geometry, shapes, clusters, point sets, the MVT encoder ---- */

static const tiles_frame frame = { .z = 14, .x = 8298, .y = 5636, .extent = 4096, .buffer = 64 };

typedef struct wkb_buf { uint8_t p[4096]; size_t n; } wkb_buf;

static void put(wkb_buf *b, const void *src, size_t n)
{
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_u32(wkb_buf *b, uint32_t v) { put(b, &v, 4); }     /* little-endian host */
static void put_f64(wkb_buf *b, double v) { put(b, &v, 8); }

/* The lon/lat of tile units (tx, ty) of frame. */
static void lonlat(double tx, double ty, double *lon, double *lat)
{
    double world = (double)(1 << frame.z) * frame.extent;
    double px = ((double)frame.x * frame.extent + tx) / world, py = ((double)frame.y * frame.extent + ty) / world;
    *lon = px * 360.0 - 180.0;
    *lat = atan(sinh(M_PI * (1.0 - 2.0 * py))) * 180.0 / M_PI;
}

static void put_ring(wkb_buf *b, const double (*pts)[2], uint32_t n)
{
    put_u32(b, n + 1);
    for (uint32_t i = 0; i <= n; i++) {
        double lon, lat;
        lonlat(pts[i % n][0], pts[i % n][1], &lon, &lat);
        put_f64(b, lon);
        put_f64(b, lat);
    }
}

static wkb_buf polygon_wkb, line_wkb, points_wkb;

static void make_wkb(void)
{
    static const double outer[][2] = { { -200, -100 }, { 2000, 300 }, { 4300, 1800 }, { 3000, 4400 },
                                       { 1000, 3900 }, { 1200, 2000 }, { -100, 2500 } };
    static const double hole[][2] = { { 1600, 1000 }, { 2400, 1000 }, { 2400, 1800 }, { 1600, 1800 } };
    uint8_t le = 1;
    put(&polygon_wkb, &le, 1);
    put_u32(&polygon_wkb, 3);
    put_u32(&polygon_wkb, 2);
    put_ring(&polygon_wkb, outer, sizeof outer / sizeof *outer);
    put_ring(&polygon_wkb, hole, sizeof hole / sizeof *hole);
    put(&line_wkb, &le, 1);
    put_u32(&line_wkb, 2);
    put_u32(&line_wkb, 40);
    for (int i = 0; i < 40; i++) {
        double lon, lat;
        lonlat(-300 + i * 120.0, 2000 + 900 * sin(i / 3.0), &lon, &lat);
        put_f64(&line_wkb, lon);
        put_f64(&line_wkb, lat);
    }
    put(&points_wkb, &le, 1);
    put_u32(&points_wkb, 4);
    put_u32(&points_wkb, 12);
    for (int i = 0; i < 12; i++) {
        double lon, lat;
        lonlat(100 + i * 330.0, 4000 - i * 310.0, &lon, &lat);
        put(&points_wkb, &le, 1);
        put_u32(&points_wkb, 1);
        put_f64(&points_wkb, lon);
        put_f64(&points_wkb, lat);
    }
}

/* 0, or TILES_ENOMEM; anything else is a defect. */
static int tiles_code(int rc, const char *what)
{
    if (rc != TILES_OK && rc != TILES_ENOMEM) {
        fprintf(stderr, "alloc_fail: tiles: %s returned %d (neither TILES_OK nor TILES_ENOMEM), "
                "allocation %zu failed\n", what, rc, A.fail_at);
        abort();
    }
    if (rc == TILES_ENOMEM && !A.failed) {
        fprintf(stderr, "alloc_fail: tiles: %s said out of memory with none failed\n", what);
        abort();
    }
    return rc;
}

typedef struct hits { int32_t xy[64]; size_t n; } hits;

static int collect(void *arg, const tiles_pointset_hit *h)
{
    hits *c = arg;
    if (c->n < 32) {
        c->xy[2 * c->n] = h->x;
        c->xy[2 * c->n + 1] = h->y;
        c->n++;
    }
    return 0;
}

/* A cluster of tiles_cluster_acc as a feature of layer arg. */
static int add_cluster64(void *arg, const tiles_cluster64 *c)
{
    int32_t xy[2] = { c->x, c->y };
    uint32_t part = 0;
    tiles_geom g = { TILES_GEOM_POINT, xy, 1, &part, 1 };
    tiles_value v[1] = { { .type = TILES_VALUE_INT, .i = c->count } };
    static const char *const ck[] = { "count" };
    return tiles_mvt_add(arg, 1, c->ref, &g, ck, v, 1);
}

static int scenario_tiles(uint8_t *out, size_t *len)
{
    *len = 0;
    tiles_ctx *ctx = tiles_ctx_new();
    if (!ctx)
        return tiles_code(TILES_ENOMEM, "tiles_ctx_new");
    tiles_mvt *t = tiles_mvt_new();
    tiles_geom_buf buf = { 0 };
    tiles_shape *shape = NULL;
    tiles_clusters clusters = { 0 };
    tiles_pointset *set = NULL;
    tiles_layer *areas = NULL, *lines = NULL, *pts = NULL;
    uint8_t *tile = NULL;
    size_t tile_len = 0;
    int rc = t ? TILES_OK : TILES_ENOMEM;
    static const char *const keys[] = { "name", "count", "area", "open", "name" };
    const tiles_value values[] = {
        { .type = TILES_VALUE_STRING, .s = "Quartier de l'Horloge" },
        { .type = TILES_VALUE_INT, .i = 42 },
        { .type = TILES_VALUE_DOUBLE, .d = 1234.5 },
        { .type = TILES_VALUE_BOOL, .b = 1 },
        { .type = TILES_VALUE_STRING, .s = "Quartier de l'Horloge" },
    };
    if (!rc) rc = tiles_code(tiles_mvt_layer(t, "neighbourhoods", 4096, &areas), "tiles_mvt_layer");
    if (!rc) rc = tiles_code(tiles_mvt_layer(t, "streets", 4096, &lines), "tiles_mvt_layer");
    if (!rc) rc = tiles_code(tiles_mvt_layer(t, "posts", 4096, &pts), "tiles_mvt_layer");
    /* per tile from WKB, then prepared once and drawn */
    if (!rc) rc = tiles_code(tiles_geom_from_wkb(ctx, &frame, polygon_wkb.p, polygon_wkb.n, &buf), "tiles_geom_from_wkb");
    if (!rc) rc = tiles_code(tiles_mvt_add(areas, 1, 1, &buf.g, keys, values, 5), "tiles_mvt_add");
    if (!rc) rc = tiles_code(tiles_shape_from_wkb(ctx, polygon_wkb.p, polygon_wkb.n, &shape), "tiles_shape_from_wkb");
    if (!rc) rc = tiles_code(tiles_geom_from_shape(ctx, &frame, shape, &buf), "tiles_geom_from_shape");
    if (!rc) rc = tiles_code(tiles_mvt_add(areas, 1, 2, &buf.g, keys + 1, values + 1, 3), "tiles_mvt_add");
    /* zoom 10: from the shape's outline (made, then kept), then at a coarser
     * level made from it, with the bytes foretold */
    tiles_frame low = { .z = 10, .x = frame.x >> 4, .y = frame.y >> 4, .extent = 4096, .buffer = 64 };
    size_t bound;
    if (!rc) rc = tiles_code(tiles_geom_from_shape_generalised(ctx, &low, shape, &buf),
                             "tiles_geom_from_shape_generalised");
    if (!rc) rc = tiles_code(tiles_mvt_add(areas, 1, 4, &buf.g, keys, values, 1), "tiles_mvt_add");
    low.tolerance = 8;
    if (!rc) rc = tiles_code(tiles_shape_generalised_bytes(ctx, &low, shape, &low.tolerance, 1, &bound),
                             "tiles_shape_generalised_bytes");
    if (!rc) rc = tiles_code(tiles_geom_from_shape_generalised(ctx, &low, shape, &buf),
                             "tiles_geom_from_shape_generalised");
    if (!rc) rc = tiles_code(tiles_mvt_add(areas, 1, 5, &buf.g, keys, values, 1), "tiles_mvt_add");
    if (!rc) rc = tiles_code(tiles_geom_from_wkb(ctx, &frame, line_wkb.p, line_wkb.n, &buf), "tiles_geom_from_wkb");
    if (!rc) rc = tiles_code(tiles_mvt_add(lines, 0, 0, &buf.g, keys, values, 1), "tiles_mvt_add");
    if (!rc) rc = tiles_code(tiles_geom_from_wkb(ctx, &frame, points_wkb.p, points_wkb.n, &buf), "tiles_geom_from_wkb");
    if (!rc) rc = tiles_code(tiles_mvt_add(pts, 1, 3, &buf.g, keys + 3, values + 3, 1), "tiles_mvt_add");
    /* clusters of a grid of points, each added as a feature */
    tiles_cluster_point cp[60];
    for (uint32_t i = 0; i < 60; i++)
        cp[i] = (tiles_cluster_point){ (int32_t)(i * 67 % 4096), (int32_t)(i * 131 % 4096), i, i % 3 };
    if (!rc) rc = tiles_code(tiles_cluster_grid(cp, 60, 512, 3, &clusters), "tiles_cluster_grid");
    for (size_t i = 0; !rc && i < clusters.n; i++) {
        int32_t xy[2] = { clusters.items[i].x, clusters.items[i].y };
        uint32_t part = 0;
        tiles_geom g = { TILES_GEOM_POINT, xy, 1, &part, 1 };
        tiles_value v[2] = { { .type = TILES_VALUE_INT, .i = clusters.items[i].count },
                             { .type = TILES_VALUE_INT, .i = clusters.items[i].per_category[0] } };
        static const char *const ck[] = { "count", "requests" };
        rc = tiles_code(tiles_mvt_add(pts, 1, 100 + clusters.items[i].ref, &g, ck, v, 2), "tiles_mvt_add");
    }
    /* the same points summed as they come (the needs' way) */
    tiles_cluster_acc acc = { 0 };
    if (!rc) rc = tiles_code(tiles_cluster_acc_init(&acc, -512, 4096 + 512, 512, 3), "tiles_cluster_acc_init");
    for (uint32_t i = 0; !rc && i < 60; i++)
        if (tiles_cluster_acc_add(&acc, cp[i].x, cp[i].y, cp[i].category, 200 + i) != TILES_OK)
            abort();   /* every point lies in the square */
    if (!rc) rc = tiles_code(tiles_cluster_acc_each(&acc, add_cluster64, pts), "tiles_cluster_acc_each");
    tiles_cluster_acc_clear(&acc);
    /* a point set: puts (one replaced), a query, the hits as a multipoint */
    if (!rc && !(set = tiles_pointset_new(free)))
        rc = tiles_code(TILES_ENOMEM, "tiles_pointset_new");
    for (int i = 0; !rc && i < 24; i++) {
        double lon, lat;
        lonlat(150.0 * i, 170.0 * i, &lon, &lat);
        char *payload = malloc(8);       /* the set takes it in every case */
        rc = tiles_code(tiles_pointset_put(set, i % 20, lon, lat, (uint32_t)i % 2, 0, 0, payload),
                        "tiles_pointset_put");
    }
    hits h = { .n = 0 };
    if (!rc) rc = tiles_code(tiles_pointset_query(set, &frame, NULL, 0, 0, collect, &h), "tiles_pointset_query");
    if (!rc && h.n) {
        uint32_t part = 0;
        tiles_geom g = { TILES_GEOM_POINT, h.xy, h.n, &part, 1 };
        rc = tiles_code(tiles_mvt_add(pts, 0, 0, &g, NULL, NULL, 0), "tiles_mvt_add");
    }
    if (!rc) rc = tiles_code(tiles_mvt_encode(t, &tile, &tile_len), "tiles_mvt_encode");
    if (!rc) {
        if (tile_len > RESULT_MAX) {
            fprintf(stderr, "alloc_fail: tiles: the tile is larger than expected\n");
            abort();
        }
        memcpy(out, tile, tile_len);
        *len = tile_len;
    }
    free(tile);
    tiles_pointset_free(set);
    tiles_clusters_clear(&clusters);
    tiles_shape_free(shape);
    tiles_geom_buf_clear(&buf);
    tiles_mvt_free(t);
    tiles_ctx_free(ctx);
    return rc;
}

/* ---- JSON: a body read as mapd reads it, a response written ---- */

static const char post_body[] =
    "{\"kind\": \"request\", \"category\": \"groceries\", \"title\": \"  Courses pour Mme Martin  \","
    " \"body\": \"Lait, pain\\net fruits \\u00e9t\\u00e9\", \"expires_in_days\": 7, \"group\": 12,"
    " \"tags\": [1, 2.5, true, null, {\"nested\": [\"x\"]}]}";

/* -1 when a reader queued the out-of-memory problem; a 422 or any other
 * reply to this valid body is a defect. */
static int reader_code(int rc, const char *field)
{
    if (rc == 0)
        return 0;
    if (fuzz_problems_seen.geodata_code != GEODATA_ENOMEM || fuzz_problems_seen.status != 503 || !A.failed) {
        fprintf(stderr, "alloc_fail: json: reading '%s' replied %u, not the out-of-memory 503\n", field,
                fuzz_problems_seen.status);
        abort();
    }
    return -1;
}

static int scenario_json(uint8_t *out, size_t *len)
{
    *len = 0;
    json_error_t err;
    A.spared = 0;
    A.sparing = 1;                      /* jansson#362: see the top of the file */
    json_t *o = json_loadb(post_body, sizeof post_body - 1, JSON_REJECT_DUPLICATES, &err);
    A.sparing = 0;
    if (!o) {
        if (!A.failed) {
            fprintf(stderr, "alloc_fail: json: the body did not parse: %s\n", err.text);
            abort();
        }
        return -1;
    }
    mapd_ctx ctx = { 0 };
    const char *kind = NULL, *category = NULL, *title = NULL, *text = NULL;
    long days = 0, group = 0;
    fuzz_problems_reset();
    int rc = reader_code(mapd_field_string_or_reply(&ctx, o, "kind", MAPD_FIELD_REQUIRED, 16, &kind), "kind");
    if (!rc) rc = reader_code(mapd_field_string_or_reply(&ctx, o, "category", MAPD_FIELD_REQUIRED, 16, &category), "category");
    if (!rc) rc = reader_code(mapd_field_string_or_reply(&ctx, o, "title", MAPD_FIELD_REQUIRED | MAPD_FIELD_TRIM,
                                                         GEODATA_TITLE_MAX, &title), "title");
    if (!rc) rc = reader_code(mapd_field_string_or_reply(&ctx, o, "body", MAPD_FIELD_MULTILINE | MAPD_FIELD_TRIM,
                                                         GEODATA_BODY_MAX, &text), "body");
    if (!rc) rc = reader_code(mapd_field_int_or_reply(&ctx, o, "expires_in_days", MAPD_FIELD_OPTIONAL, 1, 60, 30,
                                                      &days), "expires_in_days");
    if (!rc) rc = reader_code(mapd_field_int_or_reply(&ctx, o, "group", MAPD_FIELD_OPTIONAL, 1, 1L << 40, 0,
                                                      &group), "group");
    if (!rc && (!geodata_post_kind_valid(kind) || !geodata_post_category_valid(category))) {
        fprintf(stderr, "alloc_fail: json: the validators refused the body's kind or category\n");
        abort();
    }
    json_t *doc = NULL;
    char *dumped = NULL;
    if (!rc) {
        /* a response as mapd writes one (MAPD_POST_JSON_FLAGS), with the
         * parts of the body that were read and the rest copied deeply */
        doc = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:I, s:I, s:O}, s:{s:s, s:[f, f]}}",
                        "type", "Feature", "properties", "kind", kind, "category", category, "title", title,
                        "body", text, "expires_in_days", (json_int_t)days, "group", (json_int_t)group,
                        "tags", json_object_get(o, "tags"), "geometry", "type", "Point", "coordinates",
                        2.3522, 48.8566);
        json_t *copy = doc ? json_deep_copy(doc) : NULL;
        if (copy && json_object_set_new(copy, "copy", json_true()) == 0) {
            A.sparing = 1;              /* jansson#655: see the top of the file */
            dumped = json_dumps(copy, MAPD_POST_JSON_FLAGS);
            A.sparing = 0;
        }
        json_decref(copy);
        if (!dumped)
            rc = -1;
    }
    if (rc && !A.failed) {
        fprintf(stderr, "alloc_fail: json: writing the response failed with none failed\n");
        abort();
    }
    if (!rc) {
        *len = strlen(dumped);
        memcpy(out, dumped, *len);
    }
    free(dumped);
    json_decref(doc);
    json_decref(o);
    return rc;
}

/* ---- the query parsers: nothing to fail ---- */

static const mapd_route_key routes[] = {
    { "GET", "/api/posts" }, { "GET", "/api/posts/{id}" }, { "GET", "/tiles/*" },
};

static int scenario_query(uint8_t *out, size_t *len)
{
    double v[6];
    int z;
    int64_t x, y, id = 0, t0 = 0, t1 = 0;
    int known = 0;
    uint64_t first = 0, last = 0;
    mapd_ogc_crs crs = MAPD_CRS_CRS84;
    int r[10] = {
        mapd_parse_numbers("2.30,48.85,2.40,48.90", v, 4),
        mapd_parse_numbers("640000,6850000,0,660000,6870000,10", v, 6),
        mapd_parse_tile("14/8298/5636.mvt", ".mvt", &z, &x, &y),
        mapd_parse_route_find(routes, 3, "GET", "/api/posts/42", &id, &known),
        mapd_parse_range("bytes=100-", 1000, &first, &last),
        mapd_parse_accept_encoding("gzip;q=0.5, br;q=1.0, *;q=0", "br"),
        mapd_parse_if_none_match("W/\"a\", \"b\"", "\"b\""),
        geodata_time_parse("2026-12-07T11:30:00+01:00", 25, 0, &t0),
        geodata_time_parse("2026-12-07", 10, 1, &t1),
        mapd_ogc_crs_parse("EPSG:2154", &crs),
    };
    if (A.calls) {
        fprintf(stderr, "alloc_fail: query: the parsers made %zu allocations; they promise none\n", A.calls);
        abort();
    }
    *len = sizeof r;
    memcpy(out, r, sizeof r);
    return 0;
}

int main(void)
{
    json_set_alloc_funcs(json_malloc_hook, json_free_hook);
    make_wkb();
    run("tiles (geometry, shapes, clusters, point set, MVT encoder)", scenario_tiles);
    run("json (json_loadb, request.c's field readers, json_pack, json_dumps)", scenario_json);
    run("query (parse.c, mapd_parse_numbers, geodata_time_parse, mapd_ogc_crs_parse)", scenario_query);
    printf("3 passed, 0 failed\n");
    return 0;
}
