/*
 * mapd/cli_geocode.c — `mapd geocode`: one query, a batch of queries, or the
 * address nearest to a point, as JSON lines (fields in docs/geocoding.md).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "geocode_json.h"
#include "geodata/geocode.h"

#define MAX_LIMIT 20

static int print_line(json_t *o)
{
    if (!o)
        return -1;
    int rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    putchar('\n');
    return rc;
}

/* Prints each object of arr (taken) on its own line; -1 when arr is NULL. */
static int print_lines(json_t *arr)
{
    if (!arr)
        return -1;
    size_t i;
    json_t *o;
    int rc = 0;
    json_array_foreach(arr, i, o)
        if (print_line(json_incref(o)))
            rc = -1;
    json_decref(arr);
    return rc;
}

typedef int (*geocode_fn)(const geodata_geocoder *g, const char *query, size_t limit,
                          geodata_geocode_result *results, size_t *n);

/* Geocodes one query with search (geodata_geocode or its autocomplete) and
 * prints at most limit lines (the verification sees MAPD_VERIFY_RESULTS at
 * least); 0, GEODATA_EINVAL for a query refused before any search
 * (the reason, geodata_geocode_query_problem's phrase, is printed as a "none"
 * line carrying an "error" field), or another GEODATA_E code. */
static int geocode_one(const geodata_geocoder *g, geocode_fn search, const char *query,
                       size_t limit)
{
    geodata_geocode_result res[MAX_LIMIT > MAPD_VERIFY_RESULTS ? MAX_LIMIT : MAPD_VERIFY_RESULTS];
    size_t n = 0;
    int rc = search(g, query, limit > MAPD_VERIFY_RESULTS ? limit : MAPD_VERIFY_RESULTS, res, &n);
    if (rc == GEODATA_EINVAL) {
        const char *problem = geodata_geocode_query_problem(query);
        json_t *arr = mapd_geocode_json(NULL, NULL, 0, 0);
        json_object_set_new(json_array_get(arr, 0), "error",
                            json_string(problem ? problem : "the query cannot be searched"));
        print_lines(arr);
        return GEODATA_EINVAL;
    }
    if (rc)
        return rc;
    return print_lines(mapd_geocode_json(query, res, n, limit)) ? GEODATA_ENOMEM : 0;
}

/* Reads one line of stdin into buf (of size n, n > 513), without its end of
 * line; a longer line is read to its end but cut at n - 1 bytes, which the
 * geocoder then refuses as too long. A NUL byte, which would silently end the
 * string there, is kept as another control character (0x01) so that the line
 * is refused whole. Returns 0 at the end of the input. */
static int read_line(char *buf, size_t n)
{
    size_t len = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n')
        if (len + 1 < n)
            buf[len++] = c == '\0' ? '\x01' : (char)c;
    if (c == EOF && len == 0)
        return 0;
    if (len && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    return 1;
}

static int batch(const geodata_geocoder *g, geocode_fn search, size_t limit)
{
    char line[4096];
    while (read_line(line, sizeof line))
        geocode_one(g, search, line, limit); /* a bad line gets its own error line */
    return MAPD_EXIT_OK;
}

int mapd_cmd_geocode(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "limit", required_argument, NULL, 'l' },
        { "batch", no_argument, NULL, 'b' },
        { "reverse", required_argument, NULL, 'r' },
        { "autocomplete", no_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL, *reverse = NULL;
    long limit = 1;
    int is_batch = 0, autocomplete = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b': is_batch = 1; break;
        case 'r': reverse = optarg; break;
        case 'a': autocomplete = 1; break;
        case 'l': {
            char *end;
            errno = 0;
            limit = strtol(optarg, &end, 10);
            if (*end || errno || limit < 1 || limit > MAX_LIMIT)
                return mapd_fail(MAPD_EXIT_USAGE, "--limit wants 1 to %d, not '%s'", MAX_LIMIT, optarg);
            break;
        }
        default: return MAPD_EXIT_USAGE;
        }
    }
    int n_args = argc - optind;
    if (!db || (is_batch + (reverse != NULL) + (n_args == 1)) != 1 || n_args > 1
        || (reverse && autocomplete))
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd geocode \"ADDRESS\" --db DB [--limit N] "
                         "[--autocomplete] | --batch --db DB [--limit N] [--autocomplete] | "
                         "--reverse LON,LAT --db DB");
    double lon = 0, lat = 0;
    if (reverse) {
        char *end;
        lon = strtod(reverse, &end);
        if (*end != ',' || (lat = strtod(end + 1, &end), *end) || !isfinite(lon) || !isfinite(lat)
            || fabs(lon) > 180 || fabs(lat) > 90)
            return mapd_fail(MAPD_EXIT_USAGE, "--reverse wants LON,LAT in degrees, not '%s'", reverse);
    }
    geodata_store *store = mapd_store_or_fail(db, GEODATA_OPEN_READONLY);
    if (!store)
        return MAPD_EXIT_FAIL;
    geodata_geocoder *g = NULL;
    int rc = geodata_geocoder_open(store, &g, NULL);
    if (rc) {
        mapd_fail(MAPD_EXIT_FAIL, "geocode: %s", geodata_errmsg(store));
        geodata_store_close(store);
        return MAPD_EXIT_FAIL;
    }
    geodata_store_close(store);
    int exit_code = MAPD_EXIT_OK;
    geocode_fn search = autocomplete ? geodata_geocode_autocomplete : geodata_geocode;
    if (is_batch) {
        exit_code = batch(g, search, (size_t)limit);
    } else if (reverse) {
        geodata_geocode_result r;
        int found = geodata_geocode_reverse(g, lon, lat, 200, &r) == GEODATA_OK;
        print_lines(mapd_geocode_json(NULL, &r, found ? 1 : 0, 1));
    } else if ((rc = geocode_one(g, search, argv[optind], (size_t)limit)) == GEODATA_EINVAL) {
        const char *problem = geodata_geocode_query_problem(argv[optind]);
        exit_code = mapd_fail(MAPD_EXIT_FAIL, "geocode: %s",
                              problem ? problem : "the query cannot be searched");
    } else if (rc) {
        exit_code = mapd_fail(MAPD_EXIT_FAIL, "geocode: out of memory");
    }
    geodata_geocoder_free(g);
    return exit_code;
}
