/*
 * tiles/mvt.c — the MVT encoder (see mvt.h).
 *
 * Wire format (vector_tile.proto 2.1): Tile { repeated Layer layers = 3 };
 * Layer { version = 15, name = 1, features = 2, keys = 3, values = 4,
 * extent = 5 }; Feature { id = 1, packed tags = 2, type = 3, packed
 * geometry = 4 }; Value { string = 1, double = 3, int64 = 4, bool = 7 }.
 * Geometry commands are (id & 7) | (count << 3) with MoveTo 1, LineTo 2,
 * ClosePath 7, and parameters are zig-zag deltas from the previous point.
 *
 * Each feature is encoded into the layer's buffer when it is added; keys and
 * values are interned in per-layer tables searched by hash, so a tile of
 * thousands of features with few distinct properties stays small.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "tiles/mvt.h"

typedef struct buf { uint8_t *p; size_t len, cap; } buf;

static int reserve(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int put_varint(buf *b, uint64_t v)
{
    if (reserve(b, 10))
        return -1;
    while (v >= 0x80) {
        b->p[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (uint8_t)v;
    return 0;
}

static int put_bytes(buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (reserve(b, n))
        return -1;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

/* The bytes put_varint writes for v. */
static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* field number and wire type: 0 varint, 1 fixed64, 2 length-delimited */
static int put_key(buf *b, uint32_t field, uint32_t wire)
{
    return put_varint(b, ((uint64_t)field << 3) | wire);
}

static int put_len_field(buf *b, uint32_t field, const void *p, size_t n)
{
    return put_key(b, field, 2) || put_varint(b, n) || put_bytes(b, p, n);
}

static uint32_t zigzag32(int32_t n)
{
    return ((uint32_t)n << 1) ^ (uint32_t)(n >> 31);
}

static uint32_t command(uint32_t id, uint32_t count)
{
    return (id & 7) | (count << 3);
}

/* Interned strings or values: their encoded bytes, one after another in
 * data, looked up by hash (XXH3; the hash is kept, so growing the table and
 * most mismatches read no bytes). */
typedef struct item {
    uint64_t hash;
    uint32_t off, len;     /* bytes in the table's data */
} item;

typedef struct table {
    buf data;
    item *items;
    size_t n, cap;
    size_t encoded;        /* the items as the layer's fields: key, length, bytes */
    uint32_t *slots;       /* index + 1, 0 = empty; open addressing */
    size_t n_slots;        /* a power of two */
} table;

/* The bytes of item i (data is still NULL when every item is empty). */
static const uint8_t *item_bytes(const table *t, size_t i)
{
    return t->data.p ? t->data.p + t->items[i].off : (const uint8_t *)"";
}

static void table_free(table *t)
{
    free(t->data.p);
    free(t->items);
    free(t->slots);
}

/* The index of the item with these bytes, added if new; -1 on no memory or
 * past 4 GiB of items. Work: the hash of the bytes, and one compare per
 * colliding item of the same hash. */
static long intern(table *t, const uint8_t *p, size_t n)
{
    if ((t->n + 1) * 2 > t->n_slots) {
        size_t ns = t->n_slots ? t->n_slots * 2 : 64;
        uint32_t *slots = calloc(ns, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < t->n; i++) {
            size_t j = t->items[i].hash & (ns - 1);
            while (slots[j])
                j = (j + 1) & (ns - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->n_slots = ns;
    }
    uint64_t h = XXH3_64bits(p, n);
    size_t j = h & (t->n_slots - 1);
    while (t->slots[j]) {
        size_t i = t->slots[j] - 1;
        const item *it = &t->items[i];
        if (it->hash == h && it->len == n && (n == 0 || memcmp(item_bytes(t, i), p, n) == 0))
            return (long)i;
        j = (j + 1) & (t->n_slots - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        item *items = realloc(t->items, cap * sizeof *items);
        if (!items)
            return -1;
        t->items = items;
        t->cap = cap;
    }
    if (t->data.len + n > UINT32_MAX)
        return -1;
    t->items[t->n] = (item){ h, (uint32_t)t->data.len, (uint32_t)n };
    if (put_bytes(&t->data, p, n))
        return -1;
    t->slots[j] = (uint32_t)t->n + 1;
    t->encoded += 1 + varint_len(n) + n;
    return (long)t->n++;
}

struct tiles_layer {
    char *name;
    uint32_t extent;
    buf features;          /* encoded Feature messages, each with its key */
    size_t n_features;
    table keys, values;
    buf feature, tags, geom, value;   /* scratch of tiles_mvt_add, kept for the next */
    tiles_layer *next;
};

struct tiles_mvt {
    tiles_layer *first, *last;
};

tiles_mvt *tiles_mvt_new(void)
{
    return calloc(1, sizeof(tiles_mvt));
}

void tiles_mvt_free(tiles_mvt *t)
{
    if (!t)
        return;
    for (tiles_layer *l = t->first, *next; l; l = next) {
        next = l->next;
        free(l->name);
        free(l->features.p);
        table_free(&l->keys);
        table_free(&l->values);
        free(l->feature.p);
        free(l->tags.p);
        free(l->geom.p);
        free(l->value.p);
        free(l);
    }
    free(t);
}

int tiles_mvt_layer(tiles_mvt *t, const char *name, uint32_t extent, tiles_layer **out)
{
    tiles_layer *l = calloc(1, sizeof *l);
    if (!l || !(l->name = strdup(name))) {
        free(l);
        return TILES_ENOMEM;
    }
    l->extent = extent;
    if (t->last)
        t->last->next = l;
    else
        t->first = l;
    t->last = l;
    *out = l;
    return TILES_OK;
}

size_t tiles_layer_count(const tiles_layer *l)
{
    return l->n_features;
}

/* A Value message for v. */
static int encode_value(const tiles_value *v, buf *b)
{
    switch (v->type) {
    case TILES_VALUE_STRING: return put_len_field(b, 1, v->s, strlen(v->s));
    case TILES_VALUE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->d, sizeof bits);
        uint8_t le[8];
        for (int i = 0; i < 8; i++)
            le[i] = (uint8_t)(bits >> (8 * i));
        return put_key(b, 3, 1) || put_bytes(b, le, 8);
    }
    case TILES_VALUE_INT: return put_key(b, 4, 0) || put_varint(b, (uint64_t)v->i);
    case TILES_VALUE_BOOL: return put_key(b, 7, 0) || put_varint(b, v->b ? 1 : 0);
    }
    return -1;
}

/* The packed geometry commands of g; returns -1 on no memory. */
static int encode_geometry(const tiles_geom *g, buf *out)
{
    int32_t cx = 0, cy = 0;
    for (size_t p = 0; p < g->n_parts; p++) {
        size_t start = g->parts[p], end = p + 1 < g->n_parts ? g->parts[p + 1] : g->n;
        size_t count = end - start;
        if (g->type == TILES_GEOM_POINT) {
            /* All points of a multipoint follow one MoveTo. */
            if (p == 0 && put_varint(out, command(1, (uint32_t)g->n)))
                return -1;
            for (size_t i = start; i < end; i++) {
                int32_t x = g->xy[2 * i], y = g->xy[2 * i + 1];
                if (put_varint(out, zigzag32(x - cx)) || put_varint(out, zigzag32(y - cy)))
                    return -1;
                cx = x;
                cy = y;
            }
            continue;
        }
        for (size_t i = start; i < end; i++) {
            int32_t x = g->xy[2 * i], y = g->xy[2 * i + 1];
            if (i == start && put_varint(out, command(1, 1)))
                return -1;
            if (i == start + 1 && put_varint(out, command(2, (uint32_t)(count - 1))))
                return -1;
            if (put_varint(out, zigzag32(x - cx)) || put_varint(out, zigzag32(y - cy)))
                return -1;
            cx = x;
            cy = y;
        }
        if (g->type == TILES_GEOM_POLYGON && put_varint(out, command(7, 1)))
            return -1;
    }
    return 0;
}

int tiles_mvt_add(tiles_layer *l, int with_id, uint64_t id, const tiles_geom *g,
                  const char *const *keys, const tiles_value *values, size_t n_props)
{
    if (!g || g->n == 0 || g->n_parts == 0)
        return TILES_OK;
    /* Lines need two points a part, rings three: anything less would encode
     * commands that decoders reject. */
    size_t least = g->type == TILES_GEOM_POLYGON ? 3 : g->type == TILES_GEOM_LINESTRING ? 2 : 1;
    for (size_t p = 0; p < g->n_parts; p++) {
        size_t end = p + 1 < g->n_parts ? g->parts[p + 1] : g->n;
        if (g->parts[p] > end || end - g->parts[p] < least || (p == 0 && g->parts[0] != 0))
            return TILES_EINVAL;
    }
    /* Every move is written as an int32 delta from the previous point: a
     * geometry whose moves do not fit is refused, not wrapped around. */
    int64_t px = 0, py = 0;
    for (size_t i = 0; i < g->n; i++) {
        int64_t dx = (int64_t)g->xy[2 * i] - px, dy = (int64_t)g->xy[2 * i + 1] - py;
        if (dx < INT32_MIN || dx > INT32_MAX || dy < INT32_MIN || dy > INT32_MAX)
            return TILES_EINVAL;
        px = g->xy[2 * i];
        py = g->xy[2 * i + 1];
    }
    buf *f = &l->feature, *tags = &l->tags, *geom = &l->geom, *v = &l->value;
    f->len = tags->len = geom->len = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < n_props; i++) {
        long k = intern(&l->keys, (const uint8_t *)keys[i], strlen(keys[i]));
        v->len = 0;
        rc = k < 0 || encode_value(&values[i], v);
        long vi = rc ? -1 : intern(&l->values, v->p, v->len);
        rc = rc || vi < 0 || put_varint(tags, (uint64_t)k) || put_varint(tags, (uint64_t)vi);
    }
    rc = rc || encode_geometry(g, geom);
    if (!rc && with_id)
        rc = put_key(f, 1, 0) || put_varint(f, id);
    if (!rc && tags->len)
        rc = put_len_field(f, 2, tags->p, tags->len);
    rc = rc || put_key(f, 3, 0) || put_varint(f, (uint64_t)g->type)
            || put_len_field(f, 4, geom->p, geom->len)
            || put_len_field(&l->features, 2, f->p, f->len);
    if (!rc)
        l->n_features++;
    return rc ? TILES_ENOMEM : TILES_OK;
}

size_t tiles_mvt_size(const tiles_mvt *t)
{
    size_t n = 0;
    for (const tiles_layer *l = t->first; l; l = l->next) {
        if (!l->n_features)
            continue;
        /* as tiles_mvt_encode writes it: version, name, features, keys,
         * values, extent, in the tile's field 3 */
        size_t name = strlen(l->name);
        size_t layer = 2 + 1 + varint_len(name) + name + l->features.len + l->keys.encoded
                     + l->values.encoded + 1 + varint_len(l->extent);
        n += 1 + varint_len(layer) + layer;
    }
    return n;
}

int tiles_mvt_encode(const tiles_mvt *t, uint8_t **out, size_t *len)
{
    buf tile = { 0 }, layer = { 0 };
    int rc = 0;
    for (const tiles_layer *l = t->first; !rc && l; l = l->next) {
        if (!l->n_features)
            continue; /* empty layers are left out */
        layer.len = 0;
        rc = put_key(&layer, 15, 0) || put_varint(&layer, 2)
          || put_len_field(&layer, 1, l->name, strlen(l->name))
          || put_bytes(&layer, l->features.p, l->features.len);
        for (size_t i = 0; !rc && i < l->keys.n; i++)
            rc = put_len_field(&layer, 3, item_bytes(&l->keys, i), l->keys.items[i].len);
        for (size_t i = 0; !rc && i < l->values.n; i++)
            rc = put_len_field(&layer, 4, item_bytes(&l->values, i), l->values.items[i].len);
        rc = rc || put_key(&layer, 5, 0) || put_varint(&layer, l->extent)
                || put_len_field(&tile, 3, layer.p, layer.len);
    }
    free(layer.p);
    if (rc) {
        free(tile.p);
        *out = NULL;
        *len = 0;
        return TILES_ENOMEM;
    }
    *out = tile.p;
    *len = tile.len;
    return TILES_OK;
}
