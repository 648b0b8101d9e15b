/*
 * mapd/ogc_crs.c — the coordinate reference systems of the OGC API
 * (Part 2): CRS84 (the store's, lon/lat), EPSG:4326 (the same datum, lat/lon
 * axis order) and EPSG:2154 (Lambert-93, through PROJ).
 *
 * Threads: PROJ objects are not shared. Each worker thread makes its own
 * PJ_CONTEXT and transformation on first use, kept in a thread-specific slot
 * whose destructor frees them when the thread ends.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proj.h>

#include "ogc.h"

static const char *const uris[MAPD_CRS_COUNT] = {
    MAPD_CRS84_URI,
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/2154",
};

/* Short forms clients also send. */
static const struct { const char *name; mapd_ogc_crs crs; } aliases[] = {
    { "OGC:CRS84", MAPD_CRS_CRS84 }, { "CRS84", MAPD_CRS_CRS84 },
    { "[OGC:CRS84]", MAPD_CRS_CRS84 }, { "EPSG:4326", MAPD_CRS_EPSG4326 },
    { "[EPSG:4326]", MAPD_CRS_EPSG4326 }, { "EPSG:2154", MAPD_CRS_EPSG2154 },
    { "[EPSG:2154]", MAPD_CRS_EPSG2154 },
    { "https://www.opengis.net/def/crs/OGC/1.3/CRS84", MAPD_CRS_CRS84 },
    { "https://www.opengis.net/def/crs/EPSG/0/4326", MAPD_CRS_EPSG4326 },
    { "https://www.opengis.net/def/crs/EPSG/0/2154", MAPD_CRS_EPSG2154 },
};

/* The projected bounds of EPSG:2154 (its area of use, metropolitan France,
 * as EPSG gives it), easting then northing. */
static const double lambert93_bounds[4] = { -378305.81, 6093283.21, 1212610.74, 7186901.68 };

const char *mapd_ogc_crs_uri(mapd_ogc_crs crs)
{
    return crs < MAPD_CRS_COUNT ? uris[crs] : uris[0];
}

int mapd_ogc_crs_parse(const char *text, mapd_ogc_crs *out)
{
    for (int i = 0; i < MAPD_CRS_COUNT; i++)
        if (strcmp(text, uris[i]) == 0) {
            *out = (mapd_ogc_crs)i;
            return 0;
        }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(text, aliases[i].name) == 0) {
            *out = aliases[i].crs;
            return 0;
        }
    return -1;
}

/* The calling thread's PROJ objects. */
typedef struct thread_proj {
    PJ_CONTEXT *ctx;
    PJ *to2154;        /* CRS84 lon/lat -> Lambert-93 easting/northing (normalised order) */
} thread_proj;

static pthread_key_t proj_key;
static pthread_once_t proj_once = PTHREAD_ONCE_INIT;

static void thread_proj_free(void *p)
{
    thread_proj *t = p;
    if (!t)
        return;
    proj_destroy(t->to2154);
    if (t->ctx)
        proj_context_destroy(t->ctx);
    free(t);
}

static void make_key(void)
{
    pthread_key_create(&proj_key, thread_proj_free);
}

/* The thread's transformation to Lambert-93, made on first use; NULL when
 * PROJ cannot make it. */
static PJ *to_lambert93(PJ_CONTEXT **ctx)
{
    pthread_once(&proj_once, make_key);
    thread_proj *t = pthread_getspecific(proj_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            return NULL;
        t->ctx = proj_context_create();
        if (t->ctx) {
            proj_log_level(t->ctx, PJ_LOG_NONE);
            PJ *raw = proj_create_crs_to_crs(t->ctx, "OGC:CRS84", "EPSG:2154", NULL);
            if (raw) {
                t->to2154 = proj_normalize_for_visualization(t->ctx, raw);
                proj_destroy(raw);
            }
        }
        pthread_setspecific(proj_key, t);
    }
    *ctx = t->ctx;
    return t->to2154;
}

int mapd_ogc_crs_from84(mapd_ogc_crs crs, double *x, double *y)
{
    if (crs == MAPD_CRS_CRS84)
        return 0;
    if (crs == MAPD_CRS_EPSG4326) {
        double lon = *x;
        *x = *y;
        *y = lon;
        return 0;
    }
    PJ_CONTEXT *ctx;
    PJ *pj = to_lambert93(&ctx);
    if (!pj)
        return -1;
    PJ_COORD c = proj_trans(pj, PJ_FWD, proj_coord(*x, *y, 0, 0));
    if (!isfinite(c.xy.x) || !isfinite(c.xy.y))
        return -1;
    *x = c.xy.x;
    *y = c.xy.y;
    return 0;
}

int mapd_ogc_bbox_to84(mapd_ogc_crs crs, const double in[4], double out[4], const char **why)
{
    *why = NULL;
    if (crs == MAPD_CRS_CRS84 || crs == MAPD_CRS_EPSG4326) {
        /* EPSG:4326 boxes are lat, lon: south, west, north, east. */
        double w = crs == MAPD_CRS_CRS84 ? in[0] : in[1], s = crs == MAPD_CRS_CRS84 ? in[1] : in[0];
        double e = crs == MAPD_CRS_CRS84 ? in[2] : in[3], n = crs == MAPD_CRS_CRS84 ? in[3] : in[2];
        if (fabs(w) > 180 || fabs(e) > 180 || fabs(s) > 90 || fabs(n) > 90)
            *why = crs == MAPD_CRS_CRS84
                ? "bbox is out of range: longitudes within 180, latitudes within 90"
                : "bbox is out of range: with bbox-crs EPSG:4326 it is lat,lon,lat,lon (latitudes "
                  "within 90, longitudes within 180)";
        else if (w > e || s > n)
            *why = crs == MAPD_CRS_CRS84 ? "bbox must have its minimums first: west,south,east,north"
                                         : "bbox must have its minimums first: south,west,north,east "
                                           "with bbox-crs EPSG:4326";
        if (*why)
            return -1;
        out[0] = w; out[1] = s; out[2] = e; out[3] = n;
        return 0;
    }
    const double *b = lambert93_bounds;
    if (in[0] < b[0] || in[2] > b[2] || in[1] < b[1] || in[3] > b[3]) {
        *why = "bbox is out of the range of EPSG:2154 (eastings -378306 to 1212611, northings "
               "6093283 to 7186902 metres)";
        return -1;
    }
    if (in[0] > in[2] || in[1] > in[3]) {
        *why = "bbox must have its minimums first: minimum easting, minimum northing, maximum "
               "easting, maximum northing";
        return -1;
    }
    PJ_CONTEXT *ctx;
    PJ *pj = to_lambert93(&ctx);
    /* The densified edges of the box, back to lon/lat: the box covering them. */
    if (!pj || !proj_trans_bounds(ctx, pj, PJ_INV, in[0], in[1], in[2], in[3], &out[0], &out[1],
                                  &out[2], &out[3], 21)) {
        *why = "bbox cannot be transformed from EPSG:2154";
        return -1;
    }
    return 0;
}
