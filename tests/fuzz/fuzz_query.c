/*
 * tests/fuzz/fuzz_query.c — a query string as mapd reads its arguments, on
 * any bytes.
 *
 * The input is cut at '&' into at most MAX_ARGS arguments, each at its first
 * '=' into a name and a value, both decoded as libmicrohttpd decodes them
 * ('+' is a blank, then MHD_http_unescape). Every value goes through every
 * parser of a query argument mapd has as a function of its own:
 *   - mapd_parse_numbers (mapd/request.c, linked as it is) for 1, 2, 4 and
 *     6 numbers: bbox, near, radius, the OGC bbox with heights;
 *   - mapd_ogc_crs_parse and mapd_ogc_bbox_to84 (mapd/ogc_crs.c, with
 *     PROJ): crs, bbox-crs, and the OGC bbox under the last bbox-crs given
 *     and under each CRS offered;
 *   - geodata_time_parse and geodata_day_parse (the OGC datetime, split at
 *     '/' as ogc_items.c splits it, and the export and statistics dates),
 *     geodata_export_parse_crs;
 *   - the names the lists filter on: post kind and category, shop status,
 *     group category, an OGC collection and its fields;
 *   - mapd/parse.c: a tile address, with and without ".mvt", the routing
 *     table, and, as the headers they also are, Accept-Encoding,
 *     If-None-Match and Range.
 * What must hold, else abort: each answers 1/0 (or 0/-1) and nothing else,
 * the same when asked twice; n numbers are n finite doubles and the value has
 * exactly n - 1 commas; a CRS parsed names one of the CRS offered, whose URI
 * parses back to it; a box accepted is finite, not inverted and within
 * CRS84's range, and a box refused says why; a time read lies in years 1 to
 * 9999 (with a day's margin for offsets), its start not after its end, a
 * date's end the last second of its day; a tile parsed is on its zoom's grid
 * and written back in plain decimal parses to the same tile; a name said
 * valid is one of its list; a route found is a row of the table.
 *
 * Not reachable as functions: ogc_items.c's limit/offset and datetime
 * interval readers, and mapd_bbox_arg_or_reply's checks, are static or need
 * a connection; the parts they call are fuzzed here.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/dates.h"
#include "geodata/export.h"
#include "geodata/features.h"
#include "geodata/groups.h"
#include "geodata/posts.h"
#include "geodata/shops.h"
#include "http.h"
#include "ogc.h"
#include "parse.h"
#include "tiles/tile.h"

#define MAX_ARGS 16
#define MAX_ARG_LEN 512       /* mapd's own URL limit is larger; beyond this is more of the same */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *value)
{
    fprintf(stderr, "fuzz_query: %s\nvalue: \"", what);
    for (const unsigned char *p = (const unsigned char *)value; p && *p; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            fputc(*p, stderr);
        else
            fprintf(stderr, "\\x%02x", *p);
    }
    fprintf(stderr, "\"\n");
    abort();
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

static void check_numbers(const char *v)
{
    static const int counts[] = { 1, 2, 4, 6 };
    size_t commas = 0;
    for (const char *p = v; *p; p++)
        commas += *p == ',';
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        double x[6], y[6];
        int n = counts[i];
        int ok = mapd_parse_numbers(v, x, n);
        if ((ok != 0 && ok != 1) || ok != mapd_parse_numbers(v, y, n))
            fail("mapd_parse_numbers answers neither 1 nor 0, or differently when asked twice", v);
        if (!ok)
            continue;
        if (commas != (size_t)n - 1)
            fail("mapd_parse_numbers read n numbers from a value without n - 1 commas", v);
        for (int k = 0; k < n; k++)
            if (!isfinite(x[k]) || memcmp(&x[k], &y[k], sizeof x[k]) != 0)
                fail("mapd_parse_numbers gave a number that is not finite, or two answers", v);
    }
}

/* A box in crs as ogc_items.c reads one (4 numbers, or 6 with heights). */
static void check_bbox(const char *v, mapd_ogc_crs crs)
{
    double n[6], box[4], out[4] = { NAN, NAN, NAN, NAN };
    if (mapd_parse_numbers(v, n, 4)) {
        memcpy(box, n, sizeof box);
    } else if (mapd_parse_numbers(v, n, 6)) {
        box[0] = n[0]; box[1] = n[1]; box[2] = n[3]; box[3] = n[4];
    } else {
        return;
    }
    const char *why = "unset";
    int rc = mapd_ogc_bbox_to84(crs, box, out, &why);
    if (rc != 0 && rc != -1)
        fail("mapd_ogc_bbox_to84 returned neither 0 nor -1", v);
    if (rc == -1) {
        if (!why || !*why || strcmp(why, "unset") == 0)
            fail("mapd_ogc_bbox_to84 refused a box without saying why", v);
        return;
    }
    if (why)
        fail("mapd_ogc_bbox_to84 accepted a box with a reason", v);
    for (int i = 0; i < 4; i++)
        if (!isfinite(out[i]))
            fail("mapd_ogc_bbox_to84 gave a box that is not finite", v);
    if (out[0] > out[2] || out[1] > out[3] || out[0] < -180 || out[2] > 180 || out[1] < -90 || out[3] > 90)
        fail("mapd_ogc_bbox_to84 gave a box inverted or outside CRS84", v);
}

static void check_crs(const char *v, mapd_ogc_crs *bbox_crs, int is_bbox_crs)
{
    mapd_ogc_crs crs = MAPD_CRS_COUNT, again = MAPD_CRS_COUNT;
    int rc = mapd_ogc_crs_parse(v, &crs);
    if (rc != 0 && rc != -1)
        fail("mapd_ogc_crs_parse returned neither 0 nor -1", v);
    if (rc == 0) {
        if ((int)crs < 0 || crs >= MAPD_CRS_COUNT || mapd_ogc_crs_parse(mapd_ogc_crs_uri(crs), &again)
            || again != crs)
            fail("mapd_ogc_crs_parse named a CRS whose URI does not parse back to it", v);
        if (is_bbox_crs)
            *bbox_crs = crs;
    }
    int epsg = geodata_export_parse_crs(v);
    if (epsg != 0 && epsg != 4326 && epsg != 2154)
        fail("geodata_export_parse_crs gave another code than 0, 4326 or 2154", v);
}

/* geodata_time_parse on exactly the n bytes at s (a copy without NUL, so
 * that ASan sees a read past them). */
static void check_time(const char *s, size_t n)
{
    char *copy = malloc(n ? n : 1);
    if (!copy)
        return;
    memcpy(copy, s, n);
    /* 0001-01-01 and 9999-12-31, with a day either side for offsets */
    const int64_t lo = (geodata_days_from_civil(1, 1, 1) - 1) * GEODATA_DAY_S;
    const int64_t hi = (geodata_days_from_civil(9999, 12, 31) + 2) * GEODATA_DAY_S;
    int64_t a = 42, b = 43;
    int ra = geodata_time_parse(copy, n, 0, &a), rb = geodata_time_parse(copy, n, 1, &b);
    if ((ra != 0 && ra != 1) || ra != rb)
        fail("geodata_time_parse answers differently for a start and an end", s);
    if (!ra) {
        if (a != 42 || b != 43)
            fail("geodata_time_parse refused but changed *t", s);
    } else if (a < lo || b > hi || a > b || b - a > GEODATA_DAY_S - 1) {
        fail("geodata_time_parse read a time out of range, or an end before its start", s);
    }
    free(copy);
}

static void check_dates(const char *v)
{
    size_t len = strlen(v);
    const char *slash = strchr(v, '/');
    if (slash) {                         /* an interval, as ogc_items.c cuts it */
        check_time(v, (size_t)(slash - v));
        check_time(slash + 1, strlen(slash + 1));
    }
    check_time(v, len);
    int64_t day = 1, t0 = 0, t1 = 0;
    if (geodata_day_parse(v, &day)) {
        if (day % GEODATA_DAY_S != 0 || !geodata_time_parse(v, len, 0, &t0) || !geodata_time_parse(v, len, 1, &t1)
            || t0 != day || t1 != day + GEODATA_DAY_S - 1)
            fail("geodata_day_parse and geodata_time_parse disagree on a date", v);
    }
}

static void check_names(const char *v)
{
    static const char *const kinds[] = { "request", "offer", NULL };
    static const char *const statuses[] = { "open", "closed", "delivery_only", "takeaway_only", NULL };
    if (geodata_post_kind_valid(v) != in_list(v, kinds)
        || geodata_post_category_valid(v) != in_list(v, geodata_post_categories)
        || geodata_group_category_valid(v) != in_list(v, geodata_group_categories)
        || geodata_shop_status_valid(v) != in_list(v, statuses))
        fail("a validator of names disagrees with its list", v);
    const geodata_layer *l = geodata_layer_find(v);
    if (l && strcmp(l->id, v) != 0)
        fail("geodata_layer_find gave another layer", v);
    for (size_t i = 0; i < GEODATA_LAYERS; i++) {
        int f = geodata_layer_field(&geodata_layers[i], v);
        if (f < -1 || f >= (int)geodata_layers[i].n_fields
            || (f >= 0 && strcmp(geodata_layers[i].fields[f].name, v) != 0))
            fail("geodata_layer_field gave another field", v);
    }
}

static const mapd_route_key routes[] = {
    { "GET", "/api/posts" },
    { "GET", "/api/posts/{id}" },
    { "POST", "/api/posts/{id}/claim" },
    { "GET", "/tiles/*" },
    { "GET", "/ogc/collections/*" },
};
#define N_ROUTES (sizeof routes / sizeof *routes)

static void check_parse_c(const char *v)
{
    static const char *const suffixes[] = { ".mvt", "" };
    for (size_t i = 0; i < 2; i++) {
        int z = -1;
        int64_t x = -1, y = -1;
        int ok = mapd_parse_tile(v, suffixes[i], &z, &x, &y);
        if (ok != 0 && ok != 1)
            fail("mapd_parse_tile answered neither 1 nor 0", v);
        if (!ok)
            continue;
        char back[64];
        int z2 = -1;
        int64_t x2 = -1, y2 = -1;
        snprintf(back, sizeof back, "%d/%lld/%lld%s", z, (long long)x, (long long)y, suffixes[i]);
        if (!tiles_tile_valid(z, x, y) || !mapd_parse_tile(back, suffixes[i], &z2, &x2, &y2)
            || z2 != z || x2 != x || y2 != y)
            fail("mapd_parse_tile gave a tile off the grid, or one that does not read back", v);
    }
    int64_t id = -1;
    int known = -1;
    int r = mapd_parse_route_find(routes, N_ROUTES, "GET", v, &id, &known);
    if (r < -1 || r >= (int)N_ROUTES || (r >= 0 && strcmp(routes[r].method, "GET") != 0)
        || (r == 1 && id <= 0) || (r == -1 && known != 0 && known != 1))
        fail("mapd_parse_route_find gave a row out of the table, or a bad {id}", v);
    if (r >= 0 && !mapd_parse_route_match(routes[r].pattern, v, &id))
        fail("mapd_parse_route_find gave a row whose pattern does not match", v);
    int q = mapd_parse_accept_encoding(v, "gzip");
    if (q < 0 || q > 1000)
        fail("mapd_parse_accept_encoding gave a weight outside 0..1000", v);
    int m = mapd_parse_if_none_match(v, "\"abc\"");
    if (m != 0 && m != 1)
        fail("mapd_parse_if_none_match answered neither 1 nor 0", v);
    uint64_t first = 0, last = 0;
    int rg = mapd_parse_range(v, 1000, &first, &last);
    if (rg < -1 || rg > 1 || (rg == 1 && (first > last || last >= 1000)))
        fail("mapd_parse_range gave a range outside the representation", v);
}

/* Decodes s[0..n) as libmicrohttpd decodes an argument: a new string. */
static char *decode(const uint8_t *s, size_t n)
{
    if (n > MAX_ARG_LEN)
        n = MAX_ARG_LEN;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    for (char *p = d; *p; p++)
        if (*p == '+')
            *p = ' ';
    MHD_http_unescape(d);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mapd_ogc_crs bbox_crs = MAPD_CRS_CRS84;
    const uint8_t *p = data, *end = data + size;
    for (int args = 0; args < MAX_ARGS && p <= end; args++) {
        const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
        const uint8_t *stop = amp ? amp : end;
        const uint8_t *eq = memchr(p, '=', (size_t)(stop - p));
        char *name = decode(p, (size_t)((eq ? eq : stop) - p));
        char *value = eq ? decode(eq + 1, (size_t)(stop - eq - 1)) : NULL;
        if (name && (value || !eq)) {
            const char *v = value ? value : name;
            check_numbers(v);
            check_crs(v, &bbox_crs, strcmp(name, "bbox-crs") == 0);
            check_bbox(v, bbox_crs);
            if (strcmp(name, "bbox") == 0)
                for (int c = 0; c < MAPD_CRS_COUNT; c++)
                    check_bbox(v, (mapd_ogc_crs)c);
            check_dates(v);
            check_names(v);
            check_parse_c(v);
        }
        free(name);
        free(value);
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}
