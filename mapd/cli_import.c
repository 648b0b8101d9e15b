/*
 * mapd/cli_import.c — `mapd import neighbourhoods|addresses|shops FILE --db DB`.
 *
 * Prints one summary line on stdout, the import's notes (the first few bad
 * records, repairs) on stderr, and a progress bar when stderr is a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "progress.h"
#include "geodata/geocode.h"
#include "geodata/import.h"

typedef int (*import_fn)(geodata_store *, const char *, const geodata_import_options *,
                         geodata_report *);

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_report(const char *what, const geodata_report *r, double elapsed)
{
    printf("imported %llu %s in %.2f s: %llu read, %llu rejected, %llu outside every neighbourhood",
           (unsigned long long)r->stored, what, elapsed, (unsigned long long)r->read,
           (unsigned long long)r->rejected, (unsigned long long)r->outside);
    if (strcmp(what, "neighbourhoods") == 0)
        printf(", %llu repaired, %llu contiguous pairs, %llu records reassigned",
               (unsigned long long)r->repaired, (unsigned long long)r->contiguities,
               (unsigned long long)r->reassigned);
    if (strcmp(what, "addresses") == 0 && r->changed)
        printf(", %llu new or changed", (unsigned long long)r->changed);
    printf("\n");
    if (strcmp(what, "addresses") == 0 && !r->changed)
        printf("nothing changed: the store already holds every address of the file as it is\n");
    for (size_t i = 0; i < r->n_notes; i++)
        fprintf(stderr, "  %s\n", r->notes[i]);
    if (r->n_notes_total > r->n_notes)
        fprintf(stderr, "  ... and %llu more\n",
                (unsigned long long)(r->n_notes_total - r->n_notes));
}

/* The geocoder's index file brought up to date with what the import changed
 * (geodata_geocoder_open), so that `mapd serve` maps it instead of building
 * it; a failure here is said, not fatal: the server would build it. */
static void refresh_geocoder(geodata_store *store)
{
    double t0 = seconds();
    geodata_geocoder_origin how;
    if (geodata_geocoder_refresh(store, &how))
        fprintf(stderr, "mapd: geocoder index not built: %s\n", geodata_errmsg(store));
    else if (how == GEODATA_GEOCODER_BUILT)
        printf("geocoder index built in %.2f s\n", seconds() - t0);
    else if (how == GEODATA_GEOCODER_BUILT_UNSAVED)
        fprintf(stderr, "mapd: geocoder index not written: %s\n", geodata_errmsg(store));
}

int mapd_cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "id-field", required_argument, NULL, 'i' },
        { "name-field", required_argument, NULL, 'n' },
        { "gap-m", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL;
    geodata_import_options opts = { 0 };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'i': opts.id_field = optarg; break;
        case 'n': opts.name_field = optarg; break;
        case 'g': {
            char *end;
            opts.gap_m = strtod(optarg, &end);
            if (*end || !(opts.gap_m > 0 && opts.gap_m <= 10000))
                return mapd_fail(MAPD_EXIT_USAGE, "--gap-m wants metres in (0, 10000], not '%s'",
                                 optarg);
            break;
        }
        default: return MAPD_EXIT_USAGE;
        }
    }
    if (argc - optind != 2)
        return mapd_fail(MAPD_EXIT_USAGE,
                         "usage: mapd import neighbourhoods|addresses|shops FILE --db DB");
    if (!db)
        return mapd_fail(MAPD_EXIT_USAGE, "import: --db DB is required");
    const char *kind = argv[optind], *file = argv[optind + 1];
    import_fn fn = strcmp(kind, "neighbourhoods") == 0 ? geodata_import_neighbourhoods
                 : strcmp(kind, "addresses") == 0 ? geodata_import_addresses
                 : strcmp(kind, "shops") == 0 ? geodata_import_shops
                 : NULL;
    if (!fn)
        return mapd_fail(MAPD_EXIT_USAGE,
                         "import: unknown kind '%s' (neighbourhoods, addresses or shops)", kind);
    if ((opts.id_field || opts.name_field || opts.gap_m > 0) && fn != geodata_import_neighbourhoods)
        return mapd_fail(MAPD_EXIT_USAGE, "import %s: --id-field, --name-field and --gap-m are "
                         "for neighbourhoods only", kind);
    geodata_store *store = mapd_store_or_fail(db, GEODATA_OPEN_CREATE);
    if (!store)
        return MAPD_EXIT_FAIL;
    mapd_progress progress;
    mapd_progress_init(&progress, kind);
    opts.progress = mapd_progress_update;
    opts.progress_arg = &progress;
    geodata_report report;
    double t0 = seconds();
    int rc = fn(store, file, &opts, &report);
    mapd_progress_finish(&progress);
    if (rc) {
        mapd_fail(MAPD_EXIT_FAIL, "import %s: %s (nothing was changed)", kind,
                  geodata_errmsg(store));
    } else {
        print_report(kind, &report, seconds() - t0);
        if (fn != geodata_import_shops)
            refresh_geocoder(store);
    }
    geodata_report_clear(&report);
    geodata_store_close(store);
    return rc ? MAPD_EXIT_FAIL : MAPD_EXIT_OK;
}
