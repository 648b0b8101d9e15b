/*
 * mapd/cli_stats.c — `mapd stats --db DB`: the store's counts as one JSON
 * object, for scripts and health checks.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "geodata/store.h"

int mapd_cmd_stats(int argc, char **argv)
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
    if (!db || optind != argc)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd stats --db DB");
    geodata_store *store = mapd_store_or_fail(db, GEODATA_OPEN_READONLY);
    if (!store)
        return MAPD_EXIT_FAIL;
    geodata_counts n;
    int version = 0;
    int rc = geodata_store_counts(store, &n);
    if (!rc)
        rc = geodata_store_schema_version(store, &version);
    if (rc) {
        mapd_fail(MAPD_EXIT_FAIL, "stats: %s", geodata_errmsg(store));
        geodata_store_close(store);
        return MAPD_EXIT_FAIL;
    }
    json_t *o = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "schema_version", version,
                          "neighbourhoods", (json_int_t)n.neighbourhoods,
                          "contiguous_pairs", (json_int_t)n.contiguities,
                          "addresses", (json_int_t)n.addresses,
                          "addresses_outside", (json_int_t)n.addresses_outside,
                          "shops", (json_int_t)n.shops,
                          "members", (json_int_t)n.members,
                          "posts", (json_int_t)n.posts);
    int ok = o && json_dumpf(o, stdout, JSON_COMPACT) == 0;
    if (ok)
        putchar('\n');
    json_decref(o);
    geodata_store_close(store);
    return ok ? MAPD_EXIT_OK : mapd_fail(MAPD_EXIT_FAIL, "stats: out of memory");
}
