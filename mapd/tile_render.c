/*
 * mapd/tile_render.c — the public layers of a vector tile (see
 * tile_render.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tile_render.h"
#include "geodata/neighbourhoods.h"
#include "geodata/shops.h"
#include "tiles/mvt.h"
#include "tiles/tile.h"

int mapd_tile_parse(const char *path, const char *suffix, int *z, int64_t *x, int64_t *y)
{
    int64_t v[3];
    const char *p = path;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return 0;
        int64_t n = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 8)
                return 0; /* 2^22 has 7 digits */
            n = n * 10 + (*p++ - '0');
        }
        v[i] = n;
        if (i < 2 && *p++ != '/')
            return 0;
    }
    if (strcmp(p, suffix) != 0 || v[0] > TILES_MAX_ZOOM || !tiles_tile_valid((int)v[0], v[1], v[2]))
        return 0;
    *z = (int)v[0];
    *x = v[1];
    *y = v[2];
    return 1;
}

typedef struct render {
    tiles_ctx *ctx;
    tiles_frame frame;
    tiles_layer *layer;
    tiles_geom_buf buf;
    int64_t now;
    int rc;
} render;

static int add_neighbourhood(void *arg, const geodata_neighbourhood *n)
{
    render *r = arg;
    if (tiles_geom_from_wkb(r->ctx, &r->frame, n->wkb, n->wkb_len, &r->buf))
        return 0; /* an unreadable geometry is left out, not fatal */
    const char *keys[] = { "id", "name", "label" };
    tiles_value vals[] = { { .type = TILES_VALUE_STRING, .s = n->id },
                           { .type = TILES_VALUE_STRING, .s = n->name },
                           { .type = TILES_VALUE_BOOL, .b = 1 } };
    if (tiles_mvt_add(r->layer, 0, 0, &r->buf.g, keys, vals, 2))
        return TILES_ENOMEM;
    int32_t xy[2];
    uint32_t part = 0;
    if (tiles_point(&r->frame, n->label_lon, n->label_lat, &xy[0], &xy[1])) {
        tiles_geom label = { TILES_GEOM_POINT, xy, 1, &part, 1 };
        if (tiles_mvt_add(r->layer, 0, 0, &label, keys, vals, 3))
            return TILES_ENOMEM;
    }
    return 0;
}

static int add_shop(void *arg, const geodata_shop *s)
{
    render *r = arg;
    int32_t xy[2];
    uint32_t part = 0;
    if (!tiles_point(&r->frame, s->lon, s->lat, &xy[0], &xy[1]))
        return 0;
    int confirmed = s->confirmed_at && r->now - s->confirmed_at <= GEODATA_SHOP_STALE_S;
    const char *keys[] = { "name", "shop", "status", "delivers", "takeaway", "gift_cards", "confirmed" };
    tiles_value vals[] = {
        { .type = TILES_VALUE_STRING, .s = s->name }, { .type = TILES_VALUE_STRING, .s = s->shop },
        { .type = TILES_VALUE_STRING, .s = s->status }, { .type = TILES_VALUE_BOOL, .b = s->delivers },
        { .type = TILES_VALUE_BOOL, .b = s->takeaway }, { .type = TILES_VALUE_BOOL, .b = s->gift_cards },
        { .type = TILES_VALUE_BOOL, .b = confirmed },
    };
    tiles_geom g = { TILES_GEOM_POINT, xy, 1, &part, 1 };
    return tiles_mvt_add(r->layer, 1, (uint64_t)s->id, &g, keys, vals, 7) ? TILES_ENOMEM : 0;
}

int mapd_tile_render(geodata_store *store, tiles_ctx *ctx, int z, int64_t x, int64_t y,
                     int64_t now, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    double b[4];
    if (tiles_tile_bounds(z, x, y, b))
        return TILES_EINVAL;
    /* The query box grows by the buffer, so features just outside still draw
     * their edge into the tile. */
    double mx = (b[2] - b[0]) * MAPD_TILE_BUFFER / MAPD_TILE_EXTENT;
    double my = (b[3] - b[1]) * MAPD_TILE_BUFFER / MAPD_TILE_EXTENT;
    double box[4] = { b[0] - mx, b[1] - my, b[2] + mx, b[3] + my };
    tiles_mvt *t = tiles_mvt_new();
    render r = { .ctx = ctx, .frame = { z, x, y, MAPD_TILE_EXTENT, MAPD_TILE_BUFFER }, .now = now };
    int rc = t ? tiles_mvt_layer(t, "neighbourhoods", MAPD_TILE_EXTENT, &r.layer) : TILES_ENOMEM;
    if (!rc)
        rc = geodata_neighbourhoods_in_box(store, box, add_neighbourhood, &r);
    if (!rc)
        rc = tiles_mvt_layer(t, "shops", MAPD_TILE_EXTENT, &r.layer);
    size_t total = 0;
    if (!rc)
        rc = geodata_shops_query(store, box, NULL, 100000, 0, add_shop, &r, &total);
    if (!rc)
        rc = tiles_mvt_encode(t, out, len);
    tiles_geom_buf_clear(&r.buf);
    tiles_mvt_free(t);
    return rc;
}
