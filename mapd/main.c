/*
 * mapd/main.c — the entry point: dispatches to a subcommand.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} commands[] = {
    { "import", mapd_cmd_import,
      "import neighbourhoods FILE --db DB [--id-field F] [--name-field F] [--gap-m M]\n"
      "  mapd import addresses FILE --db DB\n"
      "  mapd import shops FILE --db DB" },
    { "geocode", mapd_cmd_geocode,
      "geocode \"ADDRESS\" --db DB [--limit N] [--autocomplete]\n"
      "  mapd geocode --batch --db DB [--limit N] [--autocomplete] < queries.txt\n"
      "  mapd geocode --reverse LON,LAT --db DB" },
    { "backup", mapd_cmd_backup, "backup --db DB --out FILE" },
    { "export", mapd_cmd_export,
      "export --db DB --layer needs|shops|makers|neighbourhoods --format "
      "gpkg|geojson|csv|shp|fgb|kml|xlsx --out FILE\n"
      "        [--crs EPSG:4326|EPSG:2154] [--neighbourhood ID] [--category C] [--status S]\n"
      "        [--since DATE] [--until DATE]" },
    { "seed", mapd_cmd_seed, "seed --db DB [--posts N] [--seed S]" },
    { "stats", mapd_cmd_stats, "stats --db DB" },
    { "tile", mapd_cmd_tile,
      "tile Z X Y --db DB [--viewer V] > tile.mvt\n"
      "  mapd tile --batch --db DB [--viewer V] [--out DIR] < tiles.txt\n"
      "  mapd tile --pyramid --minzoom A --maxzoom B --out DIR --db DB [--viewer V]" },
    { "user", mapd_cmd_user,
      "user add --db DB --email E --role member|shop|staff|admin [--address A] [--name N] "
      "[--password-stdin]" },
    { "serve", mapd_cmd_serve,
      "serve --db DB [--listen 127.0.0.1:8080] [--web DIR | --no-web] [--threads N] [--max-body BYTES]\n"
      "        [--auth-per-minute N] [--cookie-secure] [--tile-cache-mb N] [--tile-max-kb N]\n"
      "        [--attribution TEXT] [--posts-model on|off] [--log-flush-ms N]\n"
      "        [--export-keep SECONDS]" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

int mapd_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mapd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

geodata_store *mapd_store_or_fail(const char *db, unsigned flags)
{
    geodata_store *store = NULL;
    char *err = NULL;
    if (geodata_store_open(db, flags, &store, &err)) {
        mapd_fail(MAPD_EXIT_FAIL, "%s", err ? err : "out of memory");
        free(err);
        return NULL;
    }
    return store;
}

static int usage(FILE *out)
{
    fputs("usage:\n", out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  mapd %s\n", commands[i].usage);
    return out == stdout ? MAPD_EXIT_OK : MAPD_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
        return usage(stdout);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    mapd_fail(MAPD_EXIT_USAGE, "unknown command '%s'", argv[1]);
    return usage(stderr);
}
