/*
 * tests/fuzz/fuzz_geocode.c — the geocoder's search and autocompletion on any
 * bytes, against a geocoder built once from a real store (the second test
 * city, imported into a temporary SpatiaLite file removed at exit).
 *
 * The input is cut at its first NUL and searched as a C string. For both
 * geodata_geocode and geodata_geocode_autocomplete, with limit 5 and limit 1:
 *   - the return is GEODATA_OK or GEODATA_EINVAL, and EINVAL exactly when
 *     geodata_geocode_query_problem() gives a reason;
 *   - at most limit results, each scoring in [0, 1] with a label NUL-terminated
 *     within GEODATA_LABEL_MAX, sorted by score, best first;
 *   - a GEODATA_MATCH_NONE result only alone, and with an evidence flag;
 *   - geodata_geocode_verify gives a known status, with a known code.
 * Any violation aborts. The store is built on the first input (replay.c calls
 * only LLVMFuzzerTestOneInput) or in LLVMFuzzerInitialize under libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geodata/geocode.h"
#include "geodata/import.h"
#include "geodata/store.h"

#include "fuzz_city.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[256];
static geodata_store *store;
static geodata_geocoder *geocoder;

static void fail(const char *what, const char *detail)
{
    fuzz_fail("fuzz_geocode", what, detail);
}

/* Frees the geocoder and the store, before the temporary directory goes. */
static void cleanup(void)
{
    geodata_geocoder_free(geocoder);
    geocoder = NULL;
    geodata_store_close(store);
    store = NULL;
}

static void init(void)
{
    if (geocoder)
        return;
    fuzz_city_tmpdir("fuzz_geocode", tmpdir, cleanup);
    char path[512];
    snprintf(path, sizeof path, "%s/store.sqlite", tmpdir);
    char *err = NULL;
    if (geodata_store_open(path, GEODATA_OPEN_CREATE, &store, &err) != GEODATA_OK)
        fail(path, err);
    fuzz_city_import("fuzz_geocode", store, "quartiers.geojson", geodata_import_neighbourhoods);
    fuzz_city_import("fuzz_geocode", store, "adresses.csv.gz", geodata_import_addresses);
    if (geodata_geocoder_load(store, &geocoder) != GEODATA_OK)
        fail("geodata_geocoder_load", geodata_errmsg(store));
    if (geodata_geocoder_count(geocoder) == 0)
        fail("the geocoder holds no address", NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    init();
    return 0;
}

typedef int (*search_fn)(const geodata_geocoder *, const char *, size_t,
                         geodata_geocode_result *, size_t *);

/* Reports a violation with the query (bytes outside printable ASCII as \xNN)
 * so that a replayed corpus file can be found, then aborts. */
static void violation(const char *name, const char *query, size_t limit, const char *what)
{
    fprintf(stderr, "fuzz_geocode: %s (limit %zu): %s\nquery: \"", name, limit, what);
    for (const unsigned char *p = (const unsigned char *)query; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            fputc(*p, stderr);
        else
            fprintf(stderr, "\\x%02x", *p);
    }
    fprintf(stderr, "\"\n");
    abort();
}

static void check(search_fn search, const char *name, const char *query, size_t limit)
{
    /* Exactly limit results on the heap, so that ASan sees any write past
     * them; filled with a pattern without NUL, so that a label left
     * unwritten is caught as unterminated. */
    geodata_geocode_result *res = malloc(limit * sizeof *res);
    if (!res)
        abort();
    memset(res, 0xa5, limit * sizeof *res);
    size_t n = (size_t)-1;
    int rc = search(geocoder, query, limit, res, &n);
    const char *problem = geodata_geocode_query_problem(query);
    if (rc != GEODATA_OK && rc != GEODATA_EINVAL)
        violation(name, query, limit, "neither GEODATA_OK nor GEODATA_EINVAL");
    if ((rc == GEODATA_EINVAL) != (problem != NULL))
        violation(name, query, limit,
                  rc == GEODATA_EINVAL ? "GEODATA_EINVAL on a query with no problem"
                                       : "GEODATA_OK on a query with a problem");
    if (rc != GEODATA_OK) {
        free(res);
        return;
    }
    if (n > limit)
        violation(name, query, limit, "more results than the limit");
    for (size_t i = 0; i < n; i++) {
        const geodata_geocode_result *r = &res[i];
        if (!(r->score >= 0.0 && r->score <= 1.0))
            violation(name, query, limit, "a score outside [0, 1]");
        if (!memchr(r->label, '\0', GEODATA_LABEL_MAX))
            violation(name, query, limit,
                      "a label not NUL-terminated within GEODATA_LABEL_MAX");
        if (i > 0 && r->score > res[i - 1].score)
            violation(name, query, limit, "results not sorted by score, best first");
        if (r->type == GEODATA_MATCH_NONE && (n != 1 || r->evidence == 0))
            violation(name, query, limit,
                      "a GEODATA_MATCH_NONE result not alone or without evidence");
    }
    geodata_verify_status st = geodata_geocode_verify(res, n);
    if ((int)st < (int)GEODATA_VERIFIED || (int)st > (int)GEODATA_VERIFY_APPROXIMATE)
        violation(name, query, limit, "geodata_geocode_verify gave an unknown status");
    if (strcmp(geodata_verify_code(st), "unknown") == 0)
        violation(name, query, limit, "geodata_verify_code gave \"unknown\"");
    free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    const uint8_t *nul = memchr(data, '\0', size);
    size_t len = nul ? (size_t)(nul - data) : size;
    char *query = malloc(len + 1);   /* exactly the string: ASan sees over-reads */
    if (!query)
        abort();
    memcpy(query, data, len);
    query[len] = '\0';
    static const size_t limits[] = {5, 1};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        check(geodata_geocode, "geodata_geocode", query, limits[i]);
        check(geodata_geocode_autocomplete, "geodata_geocode_autocomplete", query, limits[i]);
    }
    free(query);
    return 0;
}
