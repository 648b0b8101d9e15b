/*
 * mapd/cli_backup.c — `mapd backup --db DB --out FILE`: a consistent copy of
 * a live database (SQLite's online backup API), safe while `mapd serve` runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "geodata/store.h"

int mapd_cmd_backup(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "out", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') db = optarg;
        else if (c == 'o') out = optarg;
        else return MAPD_EXIT_USAGE;
    }
    if (!db || !out || optind != argc)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd backup --db DB --out FILE");
    geodata_store *store = mapd_store_or_fail(db, GEODATA_OPEN_READONLY | GEODATA_OPEN_ANY_VERSION);
    if (!store)
        return MAPD_EXIT_FAIL;
    int rc = geodata_store_backup(store, out);
    if (rc)
        mapd_fail(MAPD_EXIT_FAIL, "backup: %s", geodata_errmsg(store));
    else
        printf("backed up %s to %s\n", geodata_store_name(store), out);
    geodata_store_close(store);
    return rc ? MAPD_EXIT_FAIL : MAPD_EXIT_OK;
}
