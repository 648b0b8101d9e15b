/*
 * tests/fuzz/fuzz_mvt.c — the tile pipeline and the MVT encoder on any
 * input: never a crash, a leak or undefined behaviour, and every tile the
 * encoder writes reads back as what was added.
 *
 * The first byte chooses what the rest is:
 *   0  WKB as it is, given to tiles_geom_from_wkb at every frame below,
 *      and to tiles_shape_from_wkb then tiles_geom_from_shape and
 *      tiles_geom_from_shape_generalised (three tolerances);
 *   1  a recipe for a WKB geometry built here (point to collection, rings
 *      closed or not) with coordinates either raw doubles (NaN, infinities,
 *      1e300, ...) or small integers scaled to sub-unit, tile-size or huge
 *      offsets around one frame's tile, so that random bytes make
 *      self-intersecting, tiny, degenerate and far-away shapes;
 *   2  raw tiles_geom features (type, parts, int32 coordinates) with
 *      properties, given to tiles_mvt_add in up to three layers.
 * What must hold:
 *   - tiles_geom_from_wkb returns TILES_OK (possibly empty) or TILES_EINVAL
 *     with nothing, and so do tiles_shape_from_wkb (a polygon or nothing),
 *     tiles_geom_from_shape and tiles_geom_from_shape_generalised; what they
 *     return is encodable: inside the extent and
 *     buffer, parts of enough points, rings of non-zero area with the
 *     exterior first and positive, and tiles_mvt_add accepts it;
 *   - tiles_mvt_add accepts exactly the geometries whose parts are well
 *     formed (first offset 0, offsets non-decreasing up to n, each part of at
 *     least 1, 2 or 3 points for points, lines, rings) and whose moves fit
 *     int32, and refuses the others with TILES_EINVAL, adding nothing (an
 *     empty geometry is left out with TILES_OK);
 *   - the encoded tile decodes (by the small strict reader below) to the
 *     features added: layer names, counts, ids, types, tags within the key
 *     and value tables, and the exact coordinates.
 * Raw coordinates span all of int32, so some moves do not fit MVT's int32
 * deltas: the model below expects tiles_mvt_add to refuse those geometries.
 * Empty property keys are fed too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/geometry.h"
#include "tiles/mvt.h"
#include "tiles/shape.h"
#include "tiles/tile.h"

#define COORD_BITS 31
#define COORD_MIN (-((int64_t)1 << COORD_BITS))
#define COORD_MAX (((int64_t)1 << COORD_BITS) - 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input, read from the front; zeros once it is used up. */
typedef struct cursor { const uint8_t *p; size_t n; } cursor;

static uint64_t take(cursor *c, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes && c->n; i++, c->p++, c->n--)
        v |= (uint64_t)*c->p << (8 * i);
    return v;
}

static double take_double(cursor *c)
{
    uint64_t bits = take(c, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A growable byte buffer; oom is sticky. */
typedef struct bytes { uint8_t *p; size_t len, cap; int oom; } bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(bytes *b, uint32_t v)
{
    uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(b, le, 4);
}

static void put_double(bytes *b, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(bits >> (8 * i));
    put(b, le, 8);
}

/* ---- the expected features, and a strict reader of the encoded tile ---- */

#define MAX_FEATURES 16
#define MAX_LAYERS 3

typedef struct expected {
    int layer;                  /* index among the layers made */
    int with_id;
    uint64_t id;
    tiles_geom g;               /* points into the caller's storage */
    size_t n_props;
} expected;

typedef struct reader { const uint8_t *p, *end; int bad; } reader;

static uint64_t rd_varint(reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* A length-delimited field's contents as a sub-reader. */
static reader rd_sub(reader *r)
{
    uint64_t n = rd_varint(r);
    reader s = { r->p, r->p, 1 };
    if (r->bad || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return s;
    }
    s.end = r->p + n;
    s.bad = 0;
    r->p += n;
    return s;
}

static void rd_skip(reader *r, unsigned wire)
{
    if (wire == 0)
        rd_varint(r);
    else if (wire == 2)
        rd_sub(r);
    else if (wire == 1 && r->end - r->p >= 8)
        r->p += 8;
    else
        r->bad = 1;
}

/* Whether a feature's packed geometry is exactly g's, in MVT's command
 * grammar for its type. */
static int geometry_matches(reader r, const tiles_geom *g)
{
    int64_t x = 0, y = 0;
    size_t i = 0;                          /* next point of g */
    size_t part = 0;
    while (r.p < r.end && !r.bad) {
        uint32_t cmd = (uint32_t)rd_varint(&r);
        uint32_t id = cmd & 7, count = cmd >> 3;
        if (g->type == TILES_GEOM_POINT) {
            if (id != 1 || count != g->n || i != 0)
                return 0;
        } else {
            if (part >= g->n_parts)
                return 0;
            size_t start = g->parts[part], end = part + 1 < g->n_parts ? g->parts[part + 1] : g->n;
            if (id != 1 || count != 1 || i != start)
                return 0;
            /* MoveTo's point, then LineTo for the others of the part. */
            int64_t dx = (int64_t)(uint32_t)rd_varint(&r), dy = (int64_t)(uint32_t)rd_varint(&r);
            x += (dx >> 1) ^ -(dx & 1);
            y += (dy >> 1) ^ -(dy & 1);
            if (x != g->xy[2 * i] || y != g->xy[2 * i + 1])
                return 0;
            i++;
            cmd = (uint32_t)rd_varint(&r);
            id = cmd & 7;
            count = cmd >> 3;
            if (id != 2 || count != end - start - 1)
                return 0;
        }
        for (uint32_t k = 0; k < count; k++, i++) {
            int64_t dx = (int64_t)(uint32_t)rd_varint(&r), dy = (int64_t)(uint32_t)rd_varint(&r);
            x += (dx >> 1) ^ -(dx & 1);
            y += (dy >> 1) ^ -(dy & 1);
            if (r.bad || i >= g->n || x != g->xy[2 * i] || y != g->xy[2 * i + 1])
                return 0;
        }
        if (g->type == TILES_GEOM_POLYGON && rd_varint(&r) != ((1u << 3) | 7))
            return 0;
        part++;
    }
    return !r.bad && i == g->n;
}

/* Whether the tile holds exactly the expected features, layer by layer
 * (layers without features are left out of a tile). */
static int tile_matches(const uint8_t *p, size_t len, const char *const *names, int n_layers,
                        const expected *want, size_t n_want)
{
    reader tile = { p, len ? p + len : p, 0 };        /* an empty tile may be NULL */
    size_t next = 0;                       /* next expected feature */
    for (int li = 0; li < n_layers; li++) {
        size_t count = 0;
        for (size_t k = next; k < n_want && want[k].layer == li; k++)
            count++;
        if (!count)
            continue;
        uint64_t key = rd_varint(&tile);
        if (key != ((3 << 3) | 2))
            return 0;
        reader layer = rd_sub(&tile);
        if (tile.bad)
            return 0;
        /* first pass: the key and value tables, name and version */
        uint64_t n_keys = 0, n_values = 0, version = 0;
        int named = 0;
        for (reader l = layer; l.p < l.end && !l.bad;) {
            uint64_t k = rd_varint(&l);
            if (k == ((1 << 3) | 2)) {
                reader s = rd_sub(&l);
                named = !s.bad && (size_t)(s.end - s.p) == strlen(names[li])
                        && memcmp(s.p, names[li], strlen(names[li])) == 0;
            } else if (k == ((3 << 3) | 2)) {
                n_keys++;
                rd_sub(&l);
            } else if (k == ((4 << 3) | 2)) {
                n_values++;
                rd_sub(&l);
            } else if (k == ((15 << 3) | 0)) {
                version = rd_varint(&l);
            } else {
                rd_skip(&l, (unsigned)(k & 7));
            }
            if (l.bad)
                return 0;
        }
        if (!named || version != 2)
            return 0;
        /* second pass: the features, in order */
        size_t seen = 0;
        for (reader l = layer; l.p < l.end;) {
            uint64_t k = rd_varint(&l);
            if (k != ((2 << 3) | 2)) {
                rd_skip(&l, (unsigned)(k & 7));
                if (l.bad)
                    return 0;
                continue;
            }
            reader f = rd_sub(&l);
            if (l.bad || seen == count)
                return 0;
            const expected *e = &want[next + seen++];
            int has_id = 0, has_geom = 0;
            size_t n_tags = 0;
            uint64_t id = 0, type = 0;
            reader geom = { 0 };
            while (f.p < f.end && !f.bad) {
                uint64_t fk = rd_varint(&f);
                if (fk == ((1 << 3) | 0)) {
                    has_id = 1;
                    id = rd_varint(&f);
                } else if (fk == ((2 << 3) | 2)) {
                    reader tags = rd_sub(&f);
                    for (; tags.p < tags.end && !tags.bad; n_tags++)
                        if (rd_varint(&tags) >= (n_tags % 2 ? n_values : n_keys))
                            return 0;
                    if (tags.bad || n_tags % 2)
                        return 0;
                } else if (fk == ((3 << 3) | 0)) {
                    type = rd_varint(&f);
                } else if (fk == ((4 << 3) | 2)) {
                    has_geom = 1;
                    geom = rd_sub(&f);
                } else {
                    return 0;
                }
            }
            /* one key and value a property, as given */
            if (f.bad || !has_geom || n_tags != 2 * e->n_props || has_id != e->with_id || (has_id && id != e->id)
                || type != (uint64_t)e->g.type || !geometry_matches(geom, &e->g))
                return 0;
        }
        if (seen != count)
            return 0;
        next += count;
    }
    return next == n_want && tile.p == tile.end;
}

/* ---- the model of what tiles_mvt_add accepts ---- */

static int well_formed(const tiles_geom *g)
{
    size_t least = g->type == TILES_GEOM_POLYGON ? 3 : g->type == TILES_GEOM_LINESTRING ? 2 : 1;
    if (g->n_parts == 0 || g->parts[0] != 0)
        return 0;
    for (size_t p = 0; p < g->n_parts; p++) {
        size_t end = p + 1 < g->n_parts ? g->parts[p + 1] : g->n;
        if (g->parts[p] > end || end - g->parts[p] < least)
            return 0;
    }
    /* every move from point to point, from (0, 0) on, is an int32 delta */
    for (size_t i = 0; i < 2 * g->n; i++) {
        int64_t d = (int64_t)g->xy[i] - (i >= 2 ? g->xy[i - 2] : 0);
        if (d < INT32_MIN || d > INT32_MAX)
            return 0;
    }
    return 1;
}

/* ---- 0 and 1: WKB through the pipeline ---- */

static const tiles_frame frames[] = {
    { .z = 0, .x = 0, .y = 0, .extent = 4096, .buffer = 64 },
    { .z = 14, .x = 8298, .y = 5636, .extent = 4096, .buffer = 64 },
    { .z = 22, .x = 2097152, .y = 1409024, .extent = 4096, .buffer = 64 },
    { .z = 10, .x = 1023, .y = 0, .extent = 256, .buffer = 0 },
};
#define N_FRAMES (sizeof frames / sizeof *frames)

static tiles_ctx *ctx;

/* Checks what a pipeline made (rc, out) at frame f, then encodes it. */
static void check(const tiles_frame *f, int rc, tiles_geom_buf *out)
{
    if (rc != TILES_OK && rc != TILES_EINVAL && rc != TILES_ENOMEM)
        abort();
    if (rc != TILES_OK && out->g.n != 0)
        abort();
    if (out->g.n == 0)
        return;
    const tiles_geom *g = &out->g;
    if (!well_formed(g))
        abort();
    int64_t lo = -(int64_t)f->buffer, hi = (int64_t)f->extent + f->buffer;
    for (size_t i = 0; i < 2 * g->n; i++)
        if (g->xy[i] < lo || g->xy[i] > hi)
            abort();
    if (g->type == TILES_GEOM_POLYGON) {
        for (size_t p = 0; p < g->n_parts; p++) {
            size_t start = g->parts[p], end = p + 1 < g->n_parts ? g->parts[p + 1] : g->n;
            int64_t area2 = 0;
            for (size_t i = start; i < end; i++) {
                size_t j = i + 1 < end ? i + 1 : start;
                area2 += (int64_t)g->xy[2 * i] * g->xy[2 * j + 1] - (int64_t)g->xy[2 * j] * g->xy[2 * i + 1];
            }
            if (area2 == 0 || (p == 0 && area2 < 0))
                abort();
        }
    }
    tiles_mvt *t = tiles_mvt_new();
    tiles_layer *l;
    static const char *const name[] = { "p" };
    if (!t || tiles_mvt_layer(t, name[0], f->extent, &l)) {
        tiles_mvt_free(t);
        return;
    }
    rc = tiles_mvt_add(l, 1, 42, g, NULL, NULL, 0);
    if (rc == TILES_OK) {
        uint8_t *tile = NULL;
        size_t tile_len = 0;
        expected e = { .layer = 0, .with_id = 1, .id = 42, .g = *g };
        if (tiles_mvt_encode(t, &tile, &tile_len) == TILES_OK
            && !tile_matches(tile, tile_len, name, 1, &e, 1))
            abort();
        free(tile);
    } else if (rc != TILES_ENOMEM) {
        abort();
    }
    tiles_mvt_free(t);
}

/* A WKB at frame f through both pipelines: per tile, and prepared once. */
static void pipeline(const tiles_frame *f, const uint8_t *wkb, size_t len, tiles_geom_buf *out)
{
    check(f, tiles_geom_from_wkb(ctx, f, wkb, len, out), out);
    tiles_shape *shape = NULL;
    int rc = tiles_shape_from_wkb(ctx, wkb, len, &shape);
    if ((rc == TILES_OK) != (shape != NULL))
        abort();
    if (rc != TILES_OK && rc != TILES_EINVAL && rc != TILES_ENOMEM)
        abort();
    if (shape) {
        int drawn = tiles_geom_from_shape(ctx, f, shape, out);
        if (drawn == TILES_OK && out->g.n && out->g.type != TILES_GEOM_POLYGON)
            abort();
        check(f, drawn, out);
        /* from the outlines, at the first detail level, a kept coarser one
         * (8 units) and one simplified per draw (3 units) */
        static const double tolerances[] = { 0, 8, 3 };
        for (size_t t = 0; t < sizeof tolerances / sizeof *tolerances; t++) {
            tiles_frame g = *f;
            g.tolerance = tolerances[t];
            size_t bound;
            int counted = tiles_shape_generalised_bytes(ctx, &g, shape, &g.tolerance, 1, &bound);
            if (counted != TILES_OK && counted != TILES_EINVAL && counted != TILES_ENOMEM)
                abort();
            drawn = tiles_geom_from_shape_generalised(ctx, &g, shape, out);
            if (drawn == TILES_OK && out->g.n && out->g.type != TILES_GEOM_POLYGON)
                abort();
            check(&g, drawn, out);
        }
    }
    tiles_shape_free(shape);
}

/* Writes one WKB geometry of the given type (1 point .. 7 collection) from
 * the recipe in c; tile coordinates of frame f when style is not 0. */
static void build_wkb(cursor *c, bytes *b, uint32_t type, unsigned style, int close, const tiles_frame *f,
                      int depth)
{
    uint8_t order = 1;
    put(b, &order, 1);
    put_u32(b, type);
    static const double scale[] = { 0, 1.0 / 16, 1, 1024, 1.0 / 4096 };
    /* one coordinate pair: raw doubles, or offsets in tile units turned into
     * lon/lat by the inverse spherical Mercator */
#define POINT_XY() do {                                                              \
        if (style == 0) {                                                            \
            put_double(b, take_double(c));                                           \
            put_double(b, take_double(c));                                           \
        } else {                                                                     \
            double tx = (double)(int16_t)take(c, 2) * scale[style] + 2048;           \
            double ty = (double)(int16_t)take(c, 2) * scale[style] + 2048;           \
            double world = ldexp((double)f->extent, f->z);                           \
            double px = ((double)f->x * f->extent + tx) / world;                     \
            double py = ((double)f->y * f->extent + ty) / world;                     \
            put_double(b, px * 360.0 - 180.0);                                       \
            put_double(b, atan(sinh(M_PI * (1.0 - 2.0 * py))) * 180.0 / M_PI);      \
        }                                                                            \
    } while (0)
    switch (type) {
    case 1:
        POINT_XY();
        break;
    case 2:
    case 3: {
        uint32_t rings = type == 3 ? (uint32_t)take(c, 1) % 5 : 1;
        if (type == 3)
            put_u32(b, rings);
        for (uint32_t r = 0; r < rings; r++) {
            uint32_t n = (uint32_t)take(c, 1) % 40;
            int closing = type == 3 && close && n > 0;
            put_u32(b, n + (uint32_t)closing);
            size_t first = b->len;
            for (uint32_t i = 0; i < n; i++)
                POINT_XY();
            if (closing && !b->oom) {
                uint8_t copy[16];
                memcpy(copy, b->p + first, 16);
                put(b, copy, 16);
            }
        }
        break;
    }
    default: {
        uint32_t n = (uint32_t)take(c, 1) % 6;
        put_u32(b, n);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t sub = type == 7 ? (depth < 2 ? (uint32_t)take(c, 1) % 7 + 1 : 1) : type - 3;
            build_wkb(c, b, sub, style, close, f, depth + 1);
        }
    }
    }
#undef POINT_XY
}

/* ---- 2: raw features into the encoder ---- */

static void raw_features(cursor *c)
{
    tiles_mvt *t = tiles_mvt_new();
    if (!t)
        return;
    char names[MAX_LAYERS][8];
    const char *name_ptrs[MAX_LAYERS];
    tiles_layer *layers[MAX_LAYERS];
    int n_layers = (int)take(c, 1) % MAX_LAYERS + 1;
    for (int i = 0; i < n_layers; i++) {
        size_t n = take(c, 1) % sizeof names[i];
        for (size_t k = 0; k < n; k++)
            names[i][k] = (char)(take(c, 1) | 1);
        names[i][n] = '\0';
        name_ptrs[i] = names[i];
        if (tiles_mvt_layer(t, names[i], (uint32_t)take(c, 4), &layers[i])) {
            tiles_mvt_free(t);
            return;
        }
    }
    expected want[MAX_FEATURES];
    int32_t *coords[MAX_FEATURES] = { 0 };
    uint32_t *offsets[MAX_FEATURES] = { 0 };
    size_t n_want = 0;
    /* features in layer order, so that the expected list follows the tile */
    for (int li = 0; li < n_layers; li++) {
        size_t n_features = take(c, 1) % 6;
        for (size_t fi = 0; fi < n_features && n_want < MAX_FEATURES && c->n; fi++) {
            uint8_t flags = (uint8_t)take(c, 1);
            tiles_geom g = { .type = (tiles_geom_type)(flags % 3 + 1) };
            g.n = take(c, 2) % 512;
            g.n_parts = take(c, 1) % 32;
            int32_t *xy = malloc(2 * g.n * sizeof *xy + 1);
            uint32_t *parts = malloc(g.n_parts * sizeof *parts + 1);
            if (!xy || !parts) {
                free(xy);
                free(parts);
                break;
            }
            for (size_t i = 0; i < 2 * g.n; i++) {
                /* anywhere in range, or small moves from the last point */
                int32_t v = (int32_t)take(c, flags & 0x20 ? 4 : 1);
                int64_t w = flags & 0x20 ? v / ((int64_t)1 << (31 - COORD_BITS))
                                         : (i >= 2 ? xy[i - 2] : 2048) + (int8_t)v;
                xy[i] = (int32_t)(w < COORD_MIN ? COORD_MIN : w > COORD_MAX ? COORD_MAX : w);
            }
            if (flags & 0x40) {                      /* offsets as given */
                for (size_t p = 0; p < g.n_parts; p++)
                    parts[p] = (uint32_t)take(c, 4) % (uint32_t)(g.n + 2);
            } else {                                 /* lengths as given */
                uint32_t at = 0;
                for (size_t p = 0; p < g.n_parts; p++) {
                    parts[p] = at;
                    at += (uint32_t)take(c, 1) % 8;
                }
            }
            g.xy = xy;
            g.parts = parts;
            const char *keys[8];
            tiles_value values[8];
            char strs[8][8];
            size_t n_props = take(c, 1) % 8;
            for (size_t k = 0; k < n_props; k++) {
                size_t len = take(c, 1) % 7;
                for (size_t j = 0; j < len; j++)
                    strs[k][j] = (char)take(c, 1);
                strs[k][len] = '\0';
                keys[k] = strs[k] + (len > 3);       /* keys share bytes with values */
                memset(&values[k], 0, sizeof values[k]);
                switch (take(c, 1) % 4) {
                case 0: values[k].type = TILES_VALUE_STRING; values[k].s = strs[k]; break;
                case 1: values[k].type = TILES_VALUE_DOUBLE; values[k].d = take_double(c); break;
                case 2: values[k].type = TILES_VALUE_INT; values[k].i = (int64_t)take(c, 8); break;
                default: values[k].type = TILES_VALUE_BOOL; values[k].b = (int)take(c, 1); break;
                }
            }
            int with_id = flags & 0x80 ? 1 : 0;
            uint64_t id = take(c, 8);
            size_t before = tiles_layer_count(layers[li]);
            int rc = tiles_mvt_add(layers[li], with_id, id, &g, keys, values, n_props);
            int ok = g.n > 0 && g.n_parts > 0 && well_formed(&g);
            if (rc == TILES_ENOMEM) {
                free(xy);
                free(parts);
                continue;
            }
            if (rc == TILES_OK && !ok && g.n && g.n_parts)
                abort();                             /* accepted a malformed geometry */
            if (rc != TILES_OK && (rc != TILES_EINVAL || ok))
                abort();                             /* refused a good one, or an odd code */
            if (tiles_layer_count(layers[li]) != before + (rc == TILES_OK && ok))
                abort();
            if (rc == TILES_OK && ok) {
                want[n_want] = (expected){ .layer = li, .with_id = with_id, .id = id, .g = g,
                                           .n_props = n_props };
                coords[n_want] = xy;
                offsets[n_want] = parts;
                n_want++;
            } else {
                free(xy);
                free(parts);
            }
        }
    }
    uint8_t *tile = NULL;
    size_t len = 0;
    int rc = tiles_mvt_encode(t, &tile, &len);
    if (rc == TILES_OK && (tiles_mvt_size(t) != len || !tile_matches(tile, len, name_ptrs, n_layers, want, n_want)))
        abort();
    if (rc != TILES_OK && rc != TILES_ENOMEM)
        abort();
    free(tile);
    for (size_t i = 0; i < n_want; i++) {
        free(coords[i]);
        free(offsets[i]);
    }
    tiles_mvt_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!ctx && !(ctx = tiles_ctx_new()))
        return 0;
    cursor c = { data + 1, size - 1 };
    tiles_geom_buf out = { 0 };
    switch (data[0] % 3) {
    case 0:
        for (size_t f = 0; f < N_FRAMES; f++)
            pipeline(&frames[f], c.p, c.n, &out);
        break;
    case 1: {
        uint8_t recipe = (uint8_t)take(&c, 1);
        const tiles_frame *f = &frames[(recipe >> 5) % N_FRAMES];
        unsigned style = (recipe >> 1) % 5;
        bytes wkb = { 0 };
        build_wkb(&c, &wkb, (uint32_t)take(&c, 1) % 7 + 1, style, recipe & 1, f, 0);
        if (!wkb.oom)
            pipeline(f, wkb.p, wkb.len, &out);
        free(wkb.p);
        break;
    }
    default:
        raw_features(&c);
    }
    tiles_geom_buf_clear(&out);
    return 0;
}
