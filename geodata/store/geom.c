/*
 * geodata/store/geom.c — GEOS contexts that keep their messages, and the local
 * metric projection through PROJ (see geom.h for the choice of projection).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geom.h"
#include "geodata/store.h"

static void keep_message(const char *message, void *userdata)
{
    geodata_geos *g = userdata;
    snprintf(g->msg, sizeof g->msg, "%s", message);
}

int geodata_geos_init(geodata_geos *g)
{
    g->msg[0] = '\0';
    g->h = GEOS_init_r();
    if (!g->h)
        return GEODATA_ENOMEM;
    GEOSContext_setErrorMessageHandler_r(g->h, keep_message, g);
    GEOSContext_setNoticeMessageHandler_r(g->h, keep_message, g);
    return GEODATA_OK;
}

void geodata_geos_clear(geodata_geos *g)
{
    if (g->h)
        GEOS_finish_r(g->h);
    g->h = NULL;
}

int geodata_metric_init(geodata_metric *m, double lon0, double lat0, char *msg, size_t n)
{
    m->pj = NULL;
    m->ctx = proj_context_create();
    if (!m->ctx) {
        snprintf(msg, n, "cannot create a PROJ context");
        return GEODATA_EGEOM;
    }
    proj_log_level(m->ctx, PJ_LOG_NONE);
    char target[160];
    snprintf(target, sizeof target,
             "+proj=laea +lat_0=%.6f +lon_0=%.6f +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
             lat0, lon0);
    PJ *raw = proj_create_crs_to_crs(m->ctx, "EPSG:4326", target, NULL);
    if (raw) {
        m->pj = proj_normalize_for_visualization(m->ctx, raw);
        proj_destroy(raw);
    }
    if (!m->pj) {
        snprintf(msg, n, "PROJ: %s", proj_context_errno_string(m->ctx, proj_context_errno(m->ctx)));
        geodata_metric_clear(m);
        return GEODATA_EGEOM;
    }
    return GEODATA_OK;
}

void geodata_metric_clear(geodata_metric *m)
{
    proj_destroy(m->pj);
    if (m->ctx)
        proj_context_destroy(m->ctx);
    m->pj = NULL;
    m->ctx = NULL;
}

int geodata_metric_forward(geodata_metric *m, double *x, double *y)
{
    PJ_COORD c = proj_coord(*x, *y, 0, 0);
    c = proj_trans(m->pj, PJ_FWD, c);
    if (!isfinite(c.xy.x) || !isfinite(c.xy.y))
        return GEODATA_EGEOM;
    *x = c.xy.x;
    *y = c.xy.y;
    return GEODATA_OK;
}

static int forward_cb(double *x, double *y, void *userdata)
{
    return geodata_metric_forward(userdata, x, y) == GEODATA_OK;
}

GEOSGeometry *geodata_metric_project(geodata_metric *m, geodata_geos *g, const GEOSGeometry *geom)
{
    return GEOSGeom_transformXY_r(g->h, geom, forward_cb, m);
}
