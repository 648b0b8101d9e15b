/*
 * mapd/tile_render.c — the layers of a vector tile (see tile_render.h).
 *
 * Point layers are read in two steps: rows of the tile and one clustering
 * cell around it are kept (their strings in one arena), then clustered; a
 * cluster of one is drawn as its row. Reading the cell ring around the tile
 * makes a cluster near the edge identical in both tiles that draw it.
 * A tile over its size budget is drawn again at the next detail level:
 * level L simplifies at 0.5 * 4^L units and clusters on cells of 256 * 2^L
 * (at most the whole tile); address points only at level 0, street lines
 * up to level STREETS_MAX_LEVEL (simplified at 8 tile units there).
 * Neighbourhoods keep their label points up to LABELS_MAX_LEVEL and their
 * names up to NAMES_MAX_LEVEL: a low zoom over a whole country holds
 * thousands of them, whose outlines still fit when their words do not
 * (a name is read from the tile of a nearer zoom, or the API).
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
        char names[16][32];
        const char *keys[18] = { "cluster", "point_count" };
        tiles_value vals[18] = { { .type = TILES_VALUE_BOOL, .b = 1 },
                                 { .type = TILES_VALUE_INT, .i = c->count } };
        size_t n = 2;
        for (size_t k = 0; categories && k < n_categories && k < 16; k++) {
            if (!c->per_category[k])
                continue;
            snprintf(names[k], sizeof names[k], "count_%s", categories[k]);
            keys[n] = names[k];
            vals[n++] = (tiles_value){ .type = TILES_VALUE_INT, .i = c->per_category[k] };
        }
        rc = add_point(r, 0, 0, c->x, c->y, keys, vals, n);
    }
    tiles_clusters_clear(&cl);
    return rc;
}

/* ---- neighbourhoods ------------------------------------------------------- */

static int add_neighbourhood(void *arg, const mapd_neighbourhood *n)
{
    render *r = arg;
    int rc = tiles_geom_from_shape(r->ctx, &r->frame, n->shape, &r->buf);
    if (rc == TILES_ENOMEM)
        return rc;
    if (rc)
        r->buf.g.n = 0; /* a polygon GEOS fails on is left out, its label kept */
    const char *keys[] = { "id", "name", "label" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = n->id },
                           { .type = TILES_VALUE_STRING, .s = n->name },
                           { .type = TILES_VALUE_BOOL, .b = 1 } };
    if (r->buf.g.n > 0
        && tiles_mvt_add(r->layer, 0, 0, &r->buf.g, keys, vals, r->level <= NAMES_MAX_LEVEL ? 2 : 1))
        return TILES_ENOMEM;
    int32_t x, y;
    if (r->level <= LABELS_MAX_LEVEL && tiles_point(&r->frame, n->label_lon, n->label_lat, &x, &y))
        return add_point(r, 0, 0, x, y, keys, vals, 3);
    return 0;
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
    return keep_at(arg, x, y, id, category, NULL);
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

/* A need that changed since the tile's query is simply left out: the change
 * drops this tile from the cache, and the render that raced it is not kept. */
static int draw_need(render *r, size_t k, int32_t x, int32_t y)
{
    lone_need l = { r, x, y };
    return mapd_needs_get(r->needs, r->ids[k], r->now, add_need, &l);
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
    int rc = tiles_mvt_layer(t, "neighbourhoods", MAPD_TILE_EXTENT, &r->layer);
    if (!rc)
        rc = mapd_neighbourhoods_each(r->neighbourhoods, &r->frame, add_neighbourhood, r);
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

    rows_reset(r);
    rc = tiles_mvt_layer(t, "needs", MAPD_TILE_EXTENT, &r->layer);
    if (!rc && r->needs)
        rc = mapd_needs_query(r->needs, &r->wide, r->viewer->groups, r->viewer->n_groups, r->now,
                              keep_need, r);
    if (!rc)
        rc = draw_kept(r, 1, geodata_post_categories, n_categories(), draw_need);
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
                 .geocoder = src->geocoder, .ctx = ctx, .viewer = viewer, .now = now };
    int rc = TILES_ETOOBIG;
    for (int level = 0; level <= MAX_LEVEL && rc == TILES_ETOOBIG; level++) {
        r.level = level;
        r.cell = MAPD_TILE_CELL << level;
        if (r.cell > MAPD_TILE_EXTENT)
            r.cell = MAPD_TILE_EXTENT;
        r.frame = (tiles_frame){ .z = z, .x = x, .y = y, .extent = MAPD_TILE_EXTENT,
                                 .buffer = MAPD_TILE_BUFFER, .tolerance = 0.5 * (1 << (2 * level)) };
        r.wide = r.frame;
        r.wide.buffer = r.cell;
        grown_box(b, r.cell, r.wide_box);
        grown_box(b, MAPD_TILE_BUFFER, r.frame_box);
        tiles_mvt *t = tiles_mvt_new();
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
