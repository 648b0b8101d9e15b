/*
 * tests/tiles/mvt_json.c — a test tool: reads a tile described in JSON on
 * stdin and writes the tile our encoder (tiles/mvt.h) makes of it on stdout,
 * so that independent decoders can check the encoder on any input.
 *
 *   {"layers": [{"name": "roads", "extent": 4096, "features": [
 *       {"id": 7 | null, "type": 1 | 2 | 3,
 *        "geometry": [[[x, y], ...], ...],
 *        "properties": {"key": "text" | 12 | 1.5 | true, ...}}]}]}
 *
 * Geometry parts are in tile coordinates, given to the encoder as they are:
 * a polygon's rings are not closed (the encoder's ClosePath closes them) and
 * are not rewound. Numbers: an integer (JSON without fraction or exponent,
 * within int64) becomes an int64 value, any other number a double. An id is
 * an integer, or an integral number up to 2^64 written with an exponent.
 *
 * Exit status: 0 with the tile on stdout; 2 when a feature cannot be encoded
 * (its geometry type or coordinates have no tiles_geom form, the encoder
 * refuses it, or it would leave it out as empty), with one line on stderr
 * saying which feature and why; 1 for unreadable or malformed JSON, or no
 * memory. With --drop-refused, a feature that cannot be encoded is left out
 * and reported on stderr as "refused LAYER_INDEX FEATURE_INDEX: REASON",
 * and the tile of the others is written (exit 0).
 *
 * Work: linear in the input.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/mvt.h"

enum { EXIT_REFUSED = 2 };

/* One feature's geometry and properties, in storage reused from feature to
 * feature. */
typedef struct feature_buf {
    int32_t *xy;              /* n points */
    size_t cap_xy;            /* in points */
    uint32_t *parts;
    size_t cap_parts;
    const char **keys;
    tiles_value *values;
    size_t cap_props;
} feature_buf;

static void feature_buf_clear(feature_buf *b)
{
    free(b->xy);
    free(b->parts);
    free(b->keys);
    free(b->values);
    memset(b, 0, sizeof *b);
}

/* The array p (of *cap items of size bytes) grown to hold want items: p
 * itself, or its reallocation (*cap updated); NULL on no memory, p intact. */
static void *grow(void *p, size_t *cap, size_t want, size_t size)
{
    if (want == 0)
        want = 1;        /* so that NULL always means no memory */
    if (want <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < want)
        c *= 2;
    void *q = realloc(p, c * size);
    if (q)
        *cap = c;
    return q;
}

/* Why a feature cannot be encoded, or what is malformed in it. */
typedef struct verdict {
    int code;                 /* 0 ok, 1 malformed, 2 cannot be encoded */
    char why[256];
} verdict;

static int refuse(verdict *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(verdict *v, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    v->code = code;
    return code;
}

/* The id of a feature: absent or null means none. */
static int read_id(json_t *j, int *with_id, uint64_t *id, verdict *v)
{
    *with_id = 0;
    *id = 0;
    if (!j || json_is_null(j))
        return 0;
    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        *with_id = 1;
        *id = (uint64_t)json_integer_value(j);
        return 0;
    }
    double d = json_is_real(j) ? json_real_value(j) : -1;
    if (d >= 0 && d < 18446744073709551616.0 && d == floor(d)) {
        *with_id = 1;
        *id = (uint64_t)d;
        return 0;
    }
    if (json_is_number(j))
        return refuse(v, EXIT_REFUSED, "id %g is not a uint64", json_number_value(j));
    return refuse(v, 1, "id is not a number");
}

/* Reads "geometry" into b and g; 2 for coordinates without an int32 form. */
static int read_geometry(json_t *parts, feature_buf *b, tiles_geom *g, verdict *v)
{
    if (!json_is_array(parts))
        return refuse(v, 1, "geometry is not an array of parts");
    size_t n = 0;
    uint32_t *offsets = grow(b->parts, &b->cap_parts, json_array_size(parts) + 1, sizeof *b->parts);
    if (!offsets)
        return refuse(v, 1, "out of memory");
    b->parts = offsets;
    for (size_t p = 0; p < json_array_size(parts); p++) {
        json_t *part = json_array_get(parts, p);
        if (!json_is_array(part))
            return refuse(v, 1, "part %zu is not an array of points", p);
        if (n > UINT32_MAX)
            return refuse(v, EXIT_REFUSED, "more than 2^32 points");
        b->parts[p] = (uint32_t)n;
        int32_t *xy = grow(b->xy, &b->cap_xy, n + json_array_size(part), 2 * sizeof *b->xy);
        if (!xy)
            return refuse(v, 1, "out of memory");
        b->xy = xy;
        for (size_t i = 0; i < json_array_size(part); i++, n++) {
            json_t *pt = json_array_get(part, i);
            for (int k = 0; k < 2; k++) {
                json_t *c = json_array_get(pt, (size_t)k);
                if (json_array_size(pt) != 2 || !json_is_number(c))
                    return refuse(v, 1, "part %zu point %zu is not [x, y]", p, i);
                if (!json_is_integer(c))
                    return refuse(v, EXIT_REFUSED, "part %zu point %zu: coordinate %g is not an integer",
                                  p, i, json_number_value(c));
                json_int_t x = json_integer_value(c);
                if (x < INT32_MIN || x > INT32_MAX)
                    return refuse(v, EXIT_REFUSED, "part %zu point %zu: coordinate %" JSON_INTEGER_FORMAT
                                  " is beyond int32", p, i, x);
                b->xy[2 * n + (size_t)k] = (int32_t)x;
            }
        }
    }
    g->xy = b->xy;
    g->n = n;
    g->parts = b->parts;
    g->n_parts = json_array_size(parts);
    return 0;
}

/* Reads "properties" into b; the strings stay owned by the JSON document. */
static int read_properties(json_t *props, feature_buf *b, size_t *n_props, verdict *v)
{
    *n_props = 0;
    if (!props || json_is_null(props))
        return 0;
    if (!json_is_object(props))
        return refuse(v, 1, "properties is not an object");
    size_t n = json_object_size(props);
    const char **keys = grow(b->keys, &b->cap_props, n, sizeof *b->keys);
    if (!keys)
        return refuse(v, 1, "out of memory");
    b->keys = keys;
    free(b->values);
    b->values = calloc(b->cap_props, sizeof *b->values);
    if (!b->values)
        return refuse(v, 1, "out of memory");
    const char *key;
    json_t *val;
    size_t i = 0;
    json_object_foreach(props, key, val) {
        tiles_value *tv = &b->values[i];
        b->keys[i] = key;
        if (json_is_string(val)) {
            tv->type = TILES_VALUE_STRING;
            tv->s = json_string_value(val);
            if (strlen(tv->s) != json_string_length(val))
                return refuse(v, EXIT_REFUSED, "property %s: a string with a NUL byte", key);
        } else if (json_is_integer(val)) {
            tv->type = TILES_VALUE_INT;
            tv->i = json_integer_value(val);
        } else if (json_is_real(val)) {
            tv->type = TILES_VALUE_DOUBLE;
            tv->d = json_real_value(val);
        } else if (json_is_boolean(val)) {
            tv->type = TILES_VALUE_BOOL;
            tv->b = json_is_true(val);
        } else {
            return refuse(v, 1, "property %s: not a string, number or boolean", key);
        }
        i++;
    }
    *n_props = i;
    return 0;
}

/* Adds one feature to l. */
static int add_feature(tiles_layer *l, json_t *jf, feature_buf *b, verdict *v)
{
    if (!json_is_object(jf))
        return refuse(v, 1, "not an object");
    json_t *jt = json_object_get(jf, "type");
    if (!json_is_integer(jt))
        return refuse(v, 1, "type is not an integer");
    json_int_t type = json_integer_value(jt);
    if (type < TILES_GEOM_POINT || type > TILES_GEOM_POLYGON)
        return refuse(v, EXIT_REFUSED, "geometry type %" JSON_INTEGER_FORMAT
                      " (the encoder has points 1, lines 2 and polygons 3)", type);
    int with_id;
    uint64_t id;
    size_t n_props;
    tiles_geom g = { .type = (tiles_geom_type)type };
    if (read_id(json_object_get(jf, "id"), &with_id, &id, v)
        || read_geometry(json_object_get(jf, "geometry"), b, &g, v)
        || read_properties(json_object_get(jf, "properties"), b, &n_props, v))
        return v->code;
    size_t before = tiles_layer_count(l);
    int rc = tiles_mvt_add(l, with_id, id, &g, b->keys, b->values, n_props);
    if (rc == TILES_EINVAL)
        return refuse(v, EXIT_REFUSED, "the encoder refuses its geometry (TILES_EINVAL: "
                      "a part with too few points for its type, or bad part offsets)");
    if (rc)
        return refuse(v, 1, "out of memory");
    if (tiles_layer_count(l) == before)
        return refuse(v, EXIT_REFUSED, "empty geometry, which the encoder leaves out");
    return 0;
}

/* Encodes every layer of doc into t; reports refused features on stderr. */
static int encode_doc(json_t *doc, tiles_mvt *t, int drop_refused)
{
    json_t *layers = json_object_get(doc, "layers");
    if (!json_is_array(layers)) {
        fprintf(stderr, "mvt_json: no \"layers\" array\n");
        return 1;
    }
    feature_buf b = { 0 };
    int rc = 0;
    for (size_t li = 0; !rc && li < json_array_size(layers); li++) {
        json_t *jl = json_array_get(layers, li);
        json_t *name = json_object_get(jl, "name"), *extent = json_object_get(jl, "extent");
        json_t *features = json_object_get(jl, "features");
        if (!json_is_string(name) || !json_is_array(features)
            || (extent && (!json_is_integer(extent) || json_integer_value(extent) <= 0
                           || json_integer_value(extent) > UINT32_MAX))) {
            fprintf(stderr, "mvt_json: layer %zu: needs a name, an extent in 1..2^32-1 and features\n", li);
            rc = 1;
            break;
        }
        tiles_layer *l;
        uint32_t ext = extent ? (uint32_t)json_integer_value(extent) : 4096;
        if (tiles_mvt_layer(t, json_string_value(name), ext, &l)) {
            fprintf(stderr, "mvt_json: out of memory\n");
            rc = 1;
            break;
        }
        for (size_t fi = 0; !rc && fi < json_array_size(features); fi++) {
            verdict v = { 0 };
            if (!add_feature(l, json_array_get(features, fi), &b, &v))
                continue;
            if (v.code == EXIT_REFUSED && drop_refused) {
                fprintf(stderr, "refused %zu %zu: %s\n", li, fi, v.why);
                continue;
            }
            fprintf(stderr, "mvt_json: layer %zu (%s) feature %zu: %s\n", li,
                    json_string_value(name), fi, v.why);
            rc = v.code;
        }
    }
    feature_buf_clear(&b);
    return rc;
}

int main(int argc, char **argv)
{
    int drop_refused = argc == 2 && strcmp(argv[1], "--drop-refused") == 0;
    if (argc > 2 || (argc == 2 && !drop_refused)) {
        fprintf(stderr, "usage: mvt_json [--drop-refused] < tile.json > tile.mvt\n");
        return 1;
    }
    json_error_t err;
    json_t *doc = json_loadf(stdin, JSON_REJECT_DUPLICATES, &err);
    if (!doc) {
        fprintf(stderr, "mvt_json: line %d: %s\n", err.line, err.text);
        return 1;
    }
    tiles_mvt *t = tiles_mvt_new();
    int rc = t ? encode_doc(doc, t, drop_refused) : 1;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!rc && tiles_mvt_encode(t, &bytes, &len)) {
        fprintf(stderr, "mvt_json: out of memory\n");
        rc = 1;
    }
    if (!rc && len && (fwrite(bytes, 1, len, stdout) != len || fflush(stdout))) {
        fprintf(stderr, "mvt_json: writing the tile: %s\n", strerror(errno));
        rc = 1;
    }
    free(bytes);
    tiles_mvt_free(t);
    json_decref(doc);
    return rc;
}
