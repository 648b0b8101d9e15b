/*
 * mapd/cli_export.c — `mapd export`: one layer of the store to a file for a
 * GIS or a spreadsheet (geodata/export.h), anonymised, audited as the
 * command line.
 *
 *   mapd export --db DB --layer L --format F --out FILE [--crs EPSG:4326|EPSG:2154]
 *               [--neighbourhood ID] [--category C] [--status S] [--since DATE] [--until DATE]
 *
 * DATE is YYYY-MM-DD (a UTC day; --until includes the whole day) or an
 * RFC 3339 time. Options that cannot be read are a usage error (exit 2);
 * values the store refuses (an unknown layer, format, category, status or
 * neighbourhood, since after until) and a file that cannot be written are a
 * failure (exit 1); both print one line and leave no file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "progress.h"
#include "geodata/export.h"
#include "geodata/features.h"

#define USAGE "usage: mapd export --db DB --layer L --format " \
    "gpkg|geojson|csv|shp|fgb|kml|xlsx --out FILE [--crs EPSG:4326|EPSG:2154] " \
    "[--neighbourhood ID] [--category C] [--status S] [--since DATE] [--until DATE]"

static int progress(void *arg, uint64_t done, uint64_t total)
{
    mapd_progress_update(arg, done, total);
    return 0;
}

int mapd_cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "layer", required_argument, NULL, 'l' },
        { "format", required_argument, NULL, 'f' },
        { "out", required_argument, NULL, 'o' },
        { "crs", required_argument, NULL, 'c' },
        { "neighbourhood", required_argument, NULL, 'n' },
        { "category", required_argument, NULL, 'C' },
        { "status", required_argument, NULL, 's' },
        { "since", required_argument, NULL, 'S' },
        { "until", required_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL, *out = NULL, *crs = NULL, *since = NULL, *until = NULL;
    geodata_export_request req = { .since = GEODATA_TIME_OPEN_START, .until = GEODATA_TIME_OPEN_END,
                                   .now = (int64_t)time(NULL) };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': req.layer = optarg; break;
        case 'f': req.format = optarg; break;
        case 'o': out = optarg; break;
        case 'c': crs = optarg; break;
        case 'n': req.neighbourhood = optarg; break;
        case 'C': req.category = optarg; break;
        case 's': req.status = optarg; break;
        case 'S': since = optarg; break;
        case 'U': until = optarg; break;
        default:
            return mapd_fail(MAPD_EXIT_USAGE, "export: unknown or incomplete option '%s'; %s",
                             argv[optind - 1], USAGE);
        }
    }
    if (!db || !req.layer || !req.format || !out || optind != argc)
        return mapd_fail(MAPD_EXIT_USAGE, USAGE);
    if (!(req.epsg = geodata_export_parse_crs(crs)))
        return mapd_fail(MAPD_EXIT_USAGE, "export: --crs wants EPSG:4326 or EPSG:2154, not '%s'", crs);
    if (since && geodata_export_parse_time(NULL, since, 0, &req.since))
        return mapd_fail(MAPD_EXIT_USAGE, "export: --since wants YYYY-MM-DD or an RFC 3339 time, "
                         "not '%s'", since);
    if (until && geodata_export_parse_time(NULL, until, 1, &req.until))
        return mapd_fail(MAPD_EXIT_USAGE, "export: --until wants YYYY-MM-DD or an RFC 3339 time, "
                         "not '%s'", until);
    geodata_store *store = mapd_store_or_fail(db, 0);
    if (!store)
        return MAPD_EXIT_FAIL;
    mapd_progress bar;
    mapd_progress_init(&bar, req.layer);
    req.progress = progress;
    req.progress_arg = &bar;
    geodata_export_result res;
    int rc = geodata_export_write(store, &req, out, &res);
    mapd_progress_finish(&bar);
    if (rc)
        mapd_fail(MAPD_EXIT_FAIL, "export: %s", geodata_errmsg(store));
    else
        printf("exported %lld %s to %s (%s, EPSG:%d, %lld bytes)\n", (long long)res.rows, req.layer,
               out, geodata_export_format_find(req.format)->label, req.epsg, (long long)res.bytes);
    geodata_store_close(store);
    return rc ? MAPD_EXIT_FAIL : MAPD_EXIT_OK;
}
