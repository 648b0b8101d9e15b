/*
 * mapd/cli_tile.c — `mapd tile Z X Y --db DB > tile.mvt`: one vector tile,
 * without HTTP.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "tile_render.h"

int mapd_cmd_tile(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'd')
            return MAPD_EXIT_USAGE;
        db = optarg;
    }
    if (!db || argc - optind != 3)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd tile Z X Y --db DB > tile.mvt");
    char path[96];
    snprintf(path, sizeof path, "%.30s/%.30s/%.30s", argv[optind], argv[optind + 1], argv[optind + 2]);
    int z;
    int64_t x, y;
    if (!mapd_tile_parse(path, "", &z, &x, &y))
        return mapd_fail(MAPD_EXIT_USAGE, "tile: %s is not a tile (zoom 0 to 22, x and y below 2^zoom)",
                         path);
    geodata_store *store;
    char *err;
    if (geodata_store_open(db, GEODATA_OPEN_READONLY, &store, &err)) {
        mapd_fail(MAPD_EXIT_FAIL, "%s", err);
        free(err);
        return MAPD_EXIT_FAIL;
    }
    tiles_ctx *ctx = tiles_ctx_new();
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = ctx ? mapd_tile_render(store, ctx, z, x, y, (int64_t)time(NULL), &bytes, &len) : TILES_ENOMEM;
    if (rc)
        mapd_fail(MAPD_EXIT_FAIL, "tile: %s", rc == TILES_ENOMEM ? "out of memory" : geodata_errmsg(store));
    else if (len && fwrite(bytes, 1, len, stdout) != len)
        rc = mapd_fail(MAPD_EXIT_FAIL, "tile: cannot write the tile");
    free(bytes);
    tiles_ctx_free(ctx);
    geodata_store_close(store);
    return rc ? MAPD_EXIT_FAIL : MAPD_EXIT_OK;
}
