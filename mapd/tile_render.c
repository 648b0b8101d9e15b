/*
 * mapd/tile_render.c — the layers of a vector tile (see tile_render.h).
 *
 * Point layers are read in two steps: rows of the tile and one clustering
 * cell around it are kept (their strings in one arena), then clustered; a
 * cluster of one is drawn as its row. Reading the cell ring around the tile
 * makes a cluster near the edge identical in both tiles that draw it. The
 * needs, a country's worth of them in a low-zoom staff tile, are summed per
 * cell as the query finds them (tiles/cluster.h's accumulator), not kept.
 * A tile over its size budget is drawn again at the next detail level:
 * level L simplifies at 0.5 * 4^L units and clusters on cells of 256 * 2^L
 * (at most the whole tile); address points only at level 0, street lines
 * up to level STREETS_MAX_LEVEL (simplified at 8 tile units there).
 * Neighbourhoods keep their label points up to LABELS_MAX_LEVEL and their
 * names up to NAMES_MAX_LEVEL: a low zoom over a whole country holds
 * thousands of them, whose outlines still fit when their words do not
 * (a name is read from the tile of a nearer zoom, or the API).
 *
 * The polygons are drawn from their outlines (tiles/shape.h), and an
 * attempt is given up as soon as it is certain not to fit, since bytes
 * only accumulate (tiles_mvt_size is exact): after each feature; after the
 * label points, which come first in the layer and are the same at every
 * level that has them (their size, once known, rules out the next such
 * levels without drawing them); and before the polygons, from a lower
 * bound of their bytes counted on the outlines. A low-zoom tile over a
 * country thus reaches the level that fits without drawing its thousands
 * of polygons at every level above it; what is drawn is what drawing every
 * level in turn would give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tile_neighbourhoods.h"
#include "tile_render.h"
#include "geodata/makers.h"
#include "geodata/map.h"
#include "geodata/posts.h"
#include "geodata/shops.h"
#include "geodata/streets.h"
#include "tiles/cluster.h"
#include "tiles/mvt.h"
#include "tiles/tile.h"

#define MAX_LEVEL 5
#define STREETS_MAX_LEVEL 2
#define LABELS_MAX_LEVEL 2
#define NAMES_MAX_LEVEL 3
/* The least bytes a polygon feature of one property takes besides its
 * geometry: its own field and length, the tags' field, length and two
 * indexes, the type's field and value, the geometry's field and length. */
#define POLYGON_FEATURE_MIN 10

/* The simplification of detail level l, in tile units. */
static double level_tolerance(int l)
{
    return 0.5 * (1 << (2 * l));
}

/* ---- strings of the rows of a layer ------------------------------------- */

typedef struct arena {
    char *buf;
    size_t len, cap;
} arena;

/* Copies s (NUL included) and gives its offset; (size_t)-1 when out of memory. */
static size_t arena_put(arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        while (cap < a->len + n)
            cap *= 2;
        char *buf = realloc(a->buf, cap);
        if (!buf)
            return (size_t)-1;
        a->buf = buf;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
    return a->len - n;
}

/* ---- one attempt at a tile ------------------------------------------------ */

/* The fields of a kept shop or maker (needs keep none: see below). */
typedef struct row {
    size_t s[3];             /* arena offsets of the layer's strings */
    int64_t i[4];            /* the layer's numbers and flags */
} row;

typedef struct render {
    geodata_store *store;
    mapd_needs *needs;
    mapd_neighbourhoods *neighbourhoods;
    const geodata_geocoder *geocoder;
    tiles_ctx *ctx;
    const mapd_tile_viewer *viewer;
    tiles_frame frame;       /* the tile and its buffer */
    tiles_frame wide;        /* the tile and one clustering cell around it */
    double wide_box[4];      /* degrees: the tile and one cell around it */
    double frame_box[4];     /* degrees: the tile and its buffer */
    int level;
    uint32_t cell;
    int64_t now;
    tiles_mvt *tile;         /* the attempt being drawn */
    size_t max_bytes;        /* its budget */
    size_t bound[MAX_LEVEL + 1];      /* outlines_over_budget's sums per level */
    uint8_t bound_known[MAX_LEVEL + 1];
    int bound_from, bound_count;      /* the levels of the pass under way */
    size_t labels_bytes;     /* the tile's size after the label points, once known */
    int labels_known;
    tiles_layer *layer;
    tiles_geom_buf buf;
    arena strings;
    tiles_cluster_point *points;   /* kept points; ref is the index */
    int64_t *ids;                  /* their feature ids */
    size_t n, cap;
    row *rows;                     /* their fields, when the layer keeps any */
    size_t rows_cap;
    size_t kept;                   /* address points drawn */
} render;

static const char *str(const render *r, size_t off)
{
    return r->strings.buf + off;
}

static void rows_reset(render *r)
{
    r->n = 0;
    r->strings.len = 0;
}

/* Keeps point id at (x, y) in the wide frame, with its fields when w is not
 * NULL; 0, or TILES_ENOMEM. */
static int keep_at(render *r, int32_t x, int32_t y, int64_t id, uint32_t category, const row *w)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        int64_t *ids = realloc(r->ids, cap * sizeof *ids);
        if (ids)
            r->ids = ids;
        tiles_cluster_point *pts = realloc(r->points, cap * sizeof *pts);
        if (pts)
            r->points = pts;
        if (!ids || !pts)
            return TILES_ENOMEM;
        r->cap = cap;
    }
    if (w) {
        if (r->n >= r->rows_cap) {
            row *rows = realloc(r->rows, r->cap * sizeof *rows);
            if (!rows)
                return TILES_ENOMEM;
            r->rows = rows;
            r->rows_cap = r->cap;
        }
        r->rows[r->n] = *w;
    }
    r->ids[r->n] = id;
    r->points[r->n] = (tiles_cluster_point){ x, y, (uint32_t)r->n, category };
    r->n++;
    return 0;
}

/* Keeps a point (with its fields) that lies in the wide frame. */
static int keep(render *r, double lon, double lat, int64_t id, uint32_t category, const row *w)
{
    int32_t x, y;
    return tiles_point(&r->wide, lon, lat, &x, &y) ? keep_at(r, x, y, id, category, w) : 0;
}

static int inside_frame(const render *r, int32_t x, int32_t y)
{
    int32_t lo = -(int32_t)r->frame.buffer, hi = (int32_t)(r->frame.extent + r->frame.buffer);
    return x >= lo && x < hi && y >= lo && y < hi;
}

static int add_point(render *r, int with_id, int64_t id, int32_t x, int32_t y,
                     const char *const *keys, const tiles_value *vals, size_t n)
{
    int32_t xy[2] = { x, y };
    uint32_t part = 0;
    tiles_geom g = { TILES_GEOM_POINT, xy, 1, &part, 1 };
    return tiles_mvt_add(r->layer, with_id, (uint64_t)id, &g, keys, vals, n) ? TILES_ENOMEM : 0;
}

/* A cluster of count points at (x, y): count_<category> for the categories
 * present (per_category[k] > 0), when categories are named. */
static int add_cluster(render *r, int32_t x, int32_t y, uint32_t count, const uint32_t *per_category,
                       const char *const *categories, size_t n_categories)
{
    char names[16][32];
    const char *keys[18] = { "cluster", "point_count" };
    tiles_value vals[18] = { { .type = TILES_VALUE_BOOL, .b = 1 },
                             { .type = TILES_VALUE_INT, .i = count } };
    size_t n = 2;
    for (size_t k = 0; categories && k < n_categories && k < 16; k++) {
        if (!per_category[k])
            continue;
        snprintf(names[k], sizeof names[k], "count_%s", categories[k]);
        keys[n] = names[k];
        vals[n++] = (tiles_value){ .type = TILES_VALUE_INT, .i = per_category[k] };
    }
    return add_point(r, 0, 0, x, y, keys, vals, n);
}

/* Draws the kept points: clustered on r->cell when cluster is set (a
 * cluster of one is its point), else each point. lone() draws kept point i
 * at (x, y); categories name the count_ properties of clusters. */
static int draw_kept(render *r, int cluster, const char *const *categories, size_t n_categories,
                     int (*lone)(render *r, size_t i, int32_t x, int32_t y))
{
    if (!cluster) {
        for (size_t i = 0; i < r->n; i++) {
            const tiles_cluster_point *p = &r->points[i];
            if (inside_frame(r, p->x, p->y)) {
                int rc = lone(r, i, p->x, p->y);
                if (rc)
                    return rc;
            }
        }
        return 0;
    }
    tiles_clusters cl;
    int rc = tiles_cluster_grid(r->points, r->n, r->cell, n_categories, &cl);
    for (size_t i = 0; !rc && i < cl.n; i++) {
        const tiles_cluster *c = &cl.items[i];
        if (!inside_frame(r, c->x, c->y))
            continue;
        if (c->count == 1) {
            rc = lone(r, c->ref, c->x, c->y);
            continue;
        }
        rc = add_cluster(r, c->x, c->y, c->count, c->per_category, categories, n_categories);
    }
    tiles_clusters_clear(&cl);
    return rc;
}

/* ---- neighbourhoods ------------------------------------------------------- */

/* 1 when what the attempt holds already exceeds its budget: drawing more
 * cannot bring it back under. */
static int over_budget(const render *r)
{
    return tiles_mvt_size(r->tile) > r->max_bytes;
}

/* A neighbourhood's label point {id, name, label: true}. */
static int add_label(void *arg, const mapd_neighbourhood *n)
{
    render *r = arg;
    if (over_budget(r))
        return TILES_ETOOBIG;
    int32_t x, y;
    if (!tiles_point_world(&r->frame, n->label_wx, n->label_wy, &x, &y))
        return 0;
    const char *keys[] = { "id", "name", "label" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = n->id },
                           { .type = TILES_VALUE_STRING, .s = n->name },
                           { .type = TILES_VALUE_BOOL, .b = 1 } };
    return add_point(r, 0, 0, x, y, keys, vals, 3);
}

/* Adds to r->bound[level] what n's polygon takes at least in the layer at
 * each level of the pass (see outlines_over_budget). */
static int add_bound(void *arg, const mapd_neighbourhood *n)
{
    render *r = arg;
    double tol[MAX_LEVEL + 1] = { 0 };
    size_t bytes[MAX_LEVEL + 1];
    int from = r->bound_from, count = r->bound_count;
    for (int l = 0; l < count; l++)
        tol[l] = level_tolerance(from + l);
    int rc = tiles_shape_generalised_bytes(r->ctx, &r->frame, n->shape, tol, (size_t)count, bytes);
    if (rc == TILES_ENOMEM)
        return rc;
    for (int l = 0; !rc && l < count; l++)
        if (bytes[l])
            r->bound[from + l] += bytes[l] + POLYGON_FEATURE_MIN;
    return 0;
}

/* TILES_ETOOBIG when the polygons would put the attempt over its budget
 * for certain: held (the bytes the tile holds before them) plus a lower
 * bound of each polygon's feature, counted from the outlines without
 * encoding (an attempt at a low zoom that cannot fit is given up before
 * thousands of polygons are drawn); else 0, or TILES_ENOMEM. The first
 * attempt counts for its own level; the second for its own and the next
 * ones up to LABELS_MAX_LEVEL, at once. Work: the neighbourhoods' index
 * lookup and a few steps per one in the frame, in one attempt or two. */
static int outlines_over_budget(render *r, size_t held)
{
    if (!r->bound_known[r->level]) {
        r->bound_from = r->level;
        r->bound_count = r->level == 0 ? 1 : LABELS_MAX_LEVEL + 1 - r->level;
        for (int l = r->bound_from; l < r->bound_from + r->bound_count; l++)
            r->bound[l] = 0;
        int rc = mapd_neighbourhoods_each(r->neighbourhoods, &r->frame, add_bound, r);
        if (rc)
            return rc;
        for (int l = r->bound_from; l < r->bound_from + r->bound_count; l++)
            r->bound_known[l] = 1;
    }
    return held + r->bound[r->level] > r->max_bytes ? TILES_ETOOBIG : 0;
}

/* A neighbourhood's polygon {id, name}, its name up to NAMES_MAX_LEVEL. */
static int add_neighbourhood(void *arg, const mapd_neighbourhood *n)
{
    render *r = arg;
    if (over_budget(r))
        return TILES_ETOOBIG;
    int rc = tiles_geom_from_shape_generalised(r->ctx, &r->frame, n->shape, &r->buf);
    if (rc == TILES_ENOMEM)
        return rc;
    if (rc || r->buf.g.n == 0)
        return 0; /* nothing in the tile, or a polygon GEOS fails on: left out, its label kept */
    const char *keys[] = { "id", "name" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = n->id },
                           { .type = TILES_VALUE_STRING, .s = n->name } };
    return tiles_mvt_add(r->layer, 0, 0, &r->buf.g, keys, vals, r->level <= NAMES_MAX_LEVEL ? 2 : 1)
         ? TILES_ENOMEM : 0;
}

/* The neighbourhoods layer: the label points (up to LABELS_MAX_LEVEL), then
 * the polygons. The label points are the same at every level that has
 * them, so their size, taken by the first attempt, lets a later one that
 * cannot fit be given up before anything is drawn; the polygons' lower
 * bound is counted for these levels only (past them a low-zoom tile
 * usually fits, and the count would cost a pass for nothing). TILES_ETOOBIG
 * when the attempt is over its budget. */
static int draw_neighbourhoods(render *r, tiles_mvt *t)
{
    int rc = tiles_mvt_layer(t, "neighbourhoods", MAPD_TILE_EXTENT, &r->layer);
    int labels = r->level <= LABELS_MAX_LEVEL, bounded = 0;
    int outlined = r->frame.z <= TILES_SHAPE_OUTLINE_MAXZOOM;   /* else no bound to count */
    if (!rc && labels && r->labels_known) {
        if (r->labels_bytes > r->max_bytes)
            return TILES_ETOOBIG;
        if (outlined)
            rc = outlines_over_budget(r, r->labels_bytes);
        bounded = 1;
    }
    if (!rc && labels) {
        rc = mapd_neighbourhoods_each(r->neighbourhoods, &r->frame, add_label, r);
        if (!rc || rc == TILES_ETOOBIG) {
            r->labels_bytes = tiles_mvt_size(t);   /* the layer is the tile's first */
            r->labels_known = 1;
        }
    }
    if (!rc && labels && outlined && !bounded)
        rc = outlines_over_budget(r, tiles_mvt_size(t));
    if (!rc)
        rc = mapd_neighbourhoods_each(r->neighbourhoods, &r->frame, add_neighbourhood, r);
    if (!rc && over_budget(r))
        rc = TILES_ETOOBIG;
    return rc;
}

/* ---- addresses ------------------------------------------------------------ */

/* An address point of the geocoder's grid (the one copy of the addresses
 * in memory); at most MAPD_TILE_ADDRESSES_MAX a tile. */
#define ADDRESSES_FULL 1
static int add_address_point(void *arg, const geodata_address_point *p)
{
    render *r = arg;
    int32_t x, y;
    if (!tiles_point(&r->frame, p->lon, p->lat, &x, &y))
        return 0;  /* in the box of degrees, not in the buffer's pixels */
    if (r->kept++ == MAPD_TILE_ADDRESSES_MAX)
        return ADDRESSES_FULL;
    char number[48];
    snprintf(number, sizeof number, "%d%s", p->number, p->rep);
    const char *keys[] = { "number", "street" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = number },
                           { .type = TILES_VALUE_STRING, .s = p->street } };
    return add_point(r, 0, 0, x, y, keys, vals, 2);
}

/* ---- streets ---------------------------------------------------------------- */

/* A street line, clipped to the tile and its buffer and simplified there;
 * one the tile does not cross, or that GEOS cannot read, is left out. */
static int add_street(void *arg, const geodata_street *s)
{
    render *r = arg;
    int rc = tiles_geom_from_wkb(r->ctx, &r->frame, s->wkb, s->wkb_len, &r->buf);
    if (rc == TILES_ENOMEM)
        return rc;
    if (rc || r->buf.g.n == 0)
        return 0;
    const char *keys[] = { "name" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = s->name } };
    return tiles_mvt_add(r->layer, 0, 0, &r->buf.g, keys, vals, 1) ? TILES_ENOMEM : 0;
}

/* ---- shops ------------------------------------------------------------------ */

static const char *const shop_statuses[] = {
    "unknown", "open", "closed", "delivery_only", "takeaway_only",
};
#define N_SHOP_STATUSES (sizeof shop_statuses / sizeof shop_statuses[0])

static uint32_t index_of(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return (uint32_t)i;
    return 0;
}

enum { SHOP_NAME, SHOP_SHOP, SHOP_HOURS };
enum { SHOP_DELIVERS, SHOP_TAKEAWAY, SHOP_GIFT_CARDS, SHOP_CONFIRMED };

static int keep_shop(void *arg, const geodata_map_shop *s)
{
    render *r = arg;
    row w = { .i = { s->delivers, s->takeaway, s->gift_cards,
                     s->confirmed_at && r->now - s->confirmed_at <= GEODATA_SHOP_STALE_S } };
    w.s[SHOP_NAME] = arena_put(&r->strings, s->name);
    w.s[SHOP_SHOP] = arena_put(&r->strings, s->shop);
    w.s[SHOP_HOURS] = arena_put(&r->strings, s->opening_hours);
    if (w.s[SHOP_NAME] == (size_t)-1 || w.s[SHOP_SHOP] == (size_t)-1 || w.s[SHOP_HOURS] == (size_t)-1)
        return TILES_ENOMEM;
    return keep(r, s->lon, s->lat, s->id, index_of(shop_statuses, N_SHOP_STATUSES, s->status), &w);
}

static int draw_shop(render *r, size_t k, int32_t x, int32_t y)
{
    const row *w = &r->rows[k];
    int64_t id = r->ids[k];
    const char *keys[] = { "id", "name", "shop", "status", "delivers", "takeaway", "gift_cards",
                           "confirmed", "opening_hours" };
    tiles_value vals[] = {
        { .type = TILES_VALUE_INT, .i = id },
        { .type = TILES_VALUE_STRING, .s = str(r, w->s[SHOP_NAME]) },
        { .type = TILES_VALUE_STRING, .s = str(r, w->s[SHOP_SHOP]) },
        { .type = TILES_VALUE_STRING, .s = shop_statuses[r->points[k].category] },
        { .type = TILES_VALUE_BOOL, .b = (int)w->i[SHOP_DELIVERS] },
        { .type = TILES_VALUE_BOOL, .b = (int)w->i[SHOP_TAKEAWAY] },
        { .type = TILES_VALUE_BOOL, .b = (int)w->i[SHOP_GIFT_CARDS] },
        { .type = TILES_VALUE_BOOL, .b = (int)w->i[SHOP_CONFIRMED] },
        { .type = TILES_VALUE_STRING, .s = str(r, w->s[SHOP_HOURS]) },
    };
    /* an empty opening_hours is left out rather than sent as "" */
    size_t n = *str(r, w->s[SHOP_HOURS]) ? 9 : 8;
    return add_point(r, 1, id, x, y, keys, vals, n);
}

/* ---- needs ------------------------------------------------------------------ */

/* Needs are kept as id and category only: a city's worth of them merge into
 * clusters at low zooms, and only lone ones are read again for their fields. */
static size_t n_categories(void)
{
    size_t n = 0;
    while (geodata_post_categories[n])
        n++;
    return n;
}

static int keep_need(void *arg, int64_t id, uint32_t category, int32_t x, int32_t y)
{
    tiles_cluster_acc *acc = arg;
    return tiles_cluster_acc_add(acc, x, y, category, (uint64_t)id);
}

typedef struct lone_need {
    render *r;
    int32_t x, y;
} lone_need;

static int add_need(void *arg, const geodata_map_need *p)
{
    lone_need *l = arg;
    const char *keys[] = { "id", "kind", "category", "status", "title", "neighbourhood" };
    tiles_value vals[] = {
        { .type = TILES_VALUE_INT, .i = p->id },
        { .type = TILES_VALUE_STRING, .s = p->kind },
        { .type = TILES_VALUE_STRING, .s = p->category },
        { .type = TILES_VALUE_STRING, .s = p->status },
        { .type = TILES_VALUE_STRING, .s = p->title },
        { .type = TILES_VALUE_STRING, .s = p->neighbourhood_id },
    };
    return add_point(l->r, 1, p->id, l->x, l->y, keys, vals, 6);
}

/* A cluster of needs, or a lone need drawn with its fields. A need that
 * changed since the tile's query is simply left out: the change drops this
 * tile from the cache, and the render that raced it is not kept. */
static int draw_need(void *arg, const tiles_cluster64 *c)
{
    render *r = arg;
    if (!inside_frame(r, c->x, c->y))
        return 0;
    if (c->count > 1)
        return add_cluster(r, c->x, c->y, c->count, c->per_category, geodata_post_categories,
                           n_categories());
    lone_need l = { r, c->x, c->y };
    return mapd_needs_get(r->needs, (int64_t)c->ref, r->now, add_need, &l);
}

/* The needs layer: the query's points summed per cell as they come (a
 * national staff tile holds hundreds of thousands), then drawn. */
static int draw_needs(render *r)
{
    tiles_cluster_acc acc;
    int32_t lo = -(int32_t)r->cell, hi = (int32_t)(MAPD_TILE_EXTENT + r->cell);
    int rc = tiles_cluster_acc_init(&acc, lo, hi, r->cell, n_categories());
    if (!rc && r->needs)
        rc = mapd_needs_query(r->needs, &r->wide, r->viewer->groups, r->viewer->n_groups, r->now,
                              keep_need, &acc);
    if (!rc)
        rc = tiles_cluster_acc_each(&acc, draw_need, r);
    tiles_cluster_acc_clear(&acc);
    return rc;
}

/* ---- makers ----------------------------------------------------------------- */

enum { MAKER_NAME, MAKER_MATERIALS };
enum { MAKER_CAPACITY, MAKER_STOCK, MAKER_MATERIALS_POST };

static int keep_maker(void *arg, const geodata_maker *m)
{
    render *r = arg;
    char materials[GEODATA_MATERIALS_MAX * (GEODATA_MATERIAL_LEN + 2) + 1] = "";
    size_t used = 0;
    for (size_t i = 0; i < m->n_materials; i++)
        used += (size_t)snprintf(materials + used, sizeof materials - used, "%s%s",
                                 i ? ", " : "", m->materials[i]);
    row w = { .i = { m->capacity_per_day, m->stock, m->materials_post_id } };
    w.s[MAKER_NAME] = arena_put(&r->strings, m->display_name);
    w.s[MAKER_MATERIALS] = arena_put(&r->strings, materials);
    if (w.s[MAKER_NAME] == (size_t)-1 || w.s[MAKER_MATERIALS] == (size_t)-1)
        return TILES_ENOMEM;
    return keep(r, m->lon, m->lat, m->member_id, 0, &w);
}

/* A maker who needs materials also carries materials_post, the id of the
 * request post that asks for them: their square and that post share one
 * point, and the map opens the request from the maker's popup. */
static int draw_maker(render *r, size_t k, int32_t x, int32_t y)
{
    const row *w = &r->rows[k];
    const char *keys[] = { "id", "display_name", "capacity_per_day", "stock", "materials", "materials_post" };
    tiles_value vals[] = {
        { .type = TILES_VALUE_INT, .i = r->ids[k] },
        { .type = TILES_VALUE_STRING, .s = str(r, w->s[MAKER_NAME]) },
        { .type = TILES_VALUE_INT, .i = w->i[MAKER_CAPACITY] },
        { .type = TILES_VALUE_INT, .i = w->i[MAKER_STOCK] },
        { .type = TILES_VALUE_STRING, .s = str(r, w->s[MAKER_MATERIALS]) },
        { .type = TILES_VALUE_INT, .i = w->i[MAKER_MATERIALS_POST] },
    };
    return add_point(r, 1, r->ids[k], x, y, keys, vals, w->i[MAKER_MATERIALS_POST] ? 6 : 5);
}

/* ---- the tile ----------------------------------------------------------------- */

/* The tile's bounds grown by margin tile units on each side (a little more
 * in latitude, where Mercator is not linear; tiles_point trims exactly). */
static void grown_box(const double b[4], double margin, double out[4])
{
    double mx = (b[2] - b[0]) * margin / MAPD_TILE_EXTENT;
    double my = (b[3] - b[1]) * margin / MAPD_TILE_EXTENT * 1.1;
    out[0] = b[0] - mx; out[1] = b[1] - my; out[2] = b[2] + mx; out[3] = b[3] + my;
}

static int draw(render *r, tiles_mvt *t)
{
    int z = r->frame.z;
    int rc = draw_neighbourhoods(r, t);
    if (!rc && z >= MAPD_TILE_STREETS_MINZOOM && r->level <= STREETS_MAX_LEVEL) {
        rc = tiles_mvt_layer(t, "streets", MAPD_TILE_EXTENT, &r->layer);
        if (!rc)
            rc = geodata_streets_in_box(r->store, r->frame_box, MAPD_TILE_STREETS_MAX, add_street, r);
    }
    if (!rc && z >= MAPD_TILE_ADDRESSES_MINZOOM && r->level == 0 && r->geocoder) {
        r->kept = 0;
        rc = tiles_mvt_layer(t, "addresses", MAPD_TILE_EXTENT, &r->layer);
        if (!rc)
            rc = geodata_geocoder_each_in_box(r->geocoder, r->frame_box, add_address_point, r);
        if (rc == ADDRESSES_FULL)
            rc = 0;
    }
    if (!rc) {
        rows_reset(r);
        rc = tiles_mvt_layer(t, "shops", MAPD_TILE_EXTENT, &r->layer);
    }
    if (!rc)
        rc = geodata_map_shops(r->store, r->wide_box, keep_shop, r);
    if (!rc)
        rc = draw_kept(r, z <= MAPD_TILE_SHOPS_CLUSTER_MAXZOOM, shop_statuses, N_SHOP_STATUSES,
                       draw_shop);
    const geodata_audience *a = r->viewer->audience;
    if (rc || !a || a->kind == GEODATA_AUDIENCE_NOBODY)
        return rc;

    rc = tiles_mvt_layer(t, "needs", MAPD_TILE_EXTENT, &r->layer);
    if (!rc)
        rc = draw_needs(r);
    if (!rc && over_budget(r))
        rc = TILES_ETOOBIG;
    if (!rc) {
        rows_reset(r);
        rc = tiles_mvt_layer(t, "makers", MAPD_TILE_EXTENT, &r->layer);
    }
    if (!rc)
        rc = geodata_makers_query(r->store, a, r->wide_box, 0, SIZE_MAX, keep_maker, r, NULL);
    if (!rc)
        rc = draw_kept(r, 1, NULL, 1, draw_maker);
    return rc;
}

int mapd_tile_render(geodata_store *store, const mapd_tile_sources *src, tiles_ctx *ctx, int z,
                     int64_t x, int64_t y, const mapd_tile_viewer *viewer, int64_t now,
                     size_t max_bytes, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    double b[4];
    if (tiles_tile_bounds(z, x, y, b))
        return TILES_EINVAL;
    render r = { .store = store, .needs = src->needs, .neighbourhoods = src->neighbourhoods,
                 .geocoder = src->geocoder, .ctx = ctx, .viewer = viewer, .now = now,
                 .max_bytes = max_bytes };
    int rc = TILES_ETOOBIG;
    for (int level = 0; level <= MAX_LEVEL && rc == TILES_ETOOBIG; level++) {
        r.level = level;
        r.cell = MAPD_TILE_CELL << level;
        if (r.cell > MAPD_TILE_EXTENT)
            r.cell = MAPD_TILE_EXTENT;
        r.frame = (tiles_frame){ .z = z, .x = x, .y = y, .extent = MAPD_TILE_EXTENT,
                                 .buffer = MAPD_TILE_BUFFER, .tolerance = level_tolerance(level) };
        r.wide = r.frame;
        r.wide.buffer = r.cell;
        grown_box(b, r.cell, r.wide_box);
        grown_box(b, MAPD_TILE_BUFFER, r.frame_box);
        tiles_mvt *t = r.tile = tiles_mvt_new();
        rc = t ? draw(&r, t) : TILES_ENOMEM;
        uint8_t *bytes = NULL;
        size_t n = 0;
        if (!rc)
            rc = tiles_mvt_encode(t, &bytes, &n);
        tiles_mvt_free(t);
        if (!rc && n > max_bytes) {
            free(bytes);
            rc = TILES_ETOOBIG;
        } else if (!rc) {
            *out = bytes;
            *len = n;
        }
    }
    tiles_geom_buf_clear(&r.buf);
    free(r.strings.buf);
    free(r.rows);
    free(r.ids);
    free(r.points);
    return rc;
}
