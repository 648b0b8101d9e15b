/*
 * mapd/api_tiles.c — GET /tiles/{z}/{x}/{y}.mvt: the public layers of the
 * tileset. A bad address is 400 (not a number, out of range, no .mvt), never
 * a 500.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tile_render.h"

enum MHD_Result mapd_api_tile(mapd_ctx *ctx)
{
    int z;
    int64_t x, y;
    if (strlen(ctx->url) > 64 || !mapd_tile_parse(ctx->url + strlen("/tiles/"), ".mvt", &z, &x, &y))
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                            "a tile is /tiles/Z/X/Y.mvt with zoom 0 to 22 and X, Y below 2^zoom");
    tiles_ctx *tc = tiles_ctx_new();
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = tc ? mapd_tile_render(ctx->store, tc, z, x, y, ctx->now, &bytes, &len) : TILES_ENOMEM;
    tiles_ctx_free(tc);
    if (rc == TILES_ENOMEM)
        return MHD_NO;
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    enum MHD_Result ret = mapd_respond(ctx, MHD_HTTP_OK, "application/vnd.mapbox-vector-tile",
                                       bytes ? bytes : (const uint8_t *)"", len);
    free(bytes);
    return ret;
}
