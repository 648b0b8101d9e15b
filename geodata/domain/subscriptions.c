/*
 * geodata/domain/subscriptions.c — alert subscriptions (see
 * subscriptions.h): creating one with every field checked, reading,
 * deleting and resuming them, and the server's stored secrets.
 *
 * A polygon is read by GEOS from its GeoJSON (type, emptiness, size,
 * validity and coordinates checked there, with GEOS's own reason for an
 * invalid one), written back as GeoJSON for the API and as WKB for the
 * store, which keeps it as a geometry (no polygon: NULL, which
 * ST_GeomFromWKB gives for NULL on both engines) and tests coverage: the
 * polygon must lie within the union of the neighbourhoods its member sees,
 * buffered by 0.00001 degree (about a metre) so that a boundary drawn on
 * the outline of those neighbourhoods is not refused for rounding.
 * Kinds and categories are kept as comma-separated names in a fixed order
 * (the matching SQL tests membership with LIKE), read back as bits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "geodata/subscriptions.h"
#include "internal.h"

#define COVER_TOLERANCE_DEG 0.00001

static const char *const kind_names[] = { "request", "offer", NULL };

/* Bits of the names in list (of n) among names (NULL-terminated): 0 with
 * *bits, or the index in list of the first unknown name, plus one. */
static size_t names_to_bits(const char *const *list, size_t n, const char *const *names,
                            unsigned *bits)
{
    *bits = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (names[j] && !(list[i] && strcmp(names[j], list[i]) == 0))
            j++;
        if (!names[j])
            return i + 1;
        *bits |= 1u << j;
    }
    return 0;
}

/* The names of bits, comma-separated in names' order, into out (of size n;
 * every list of known names fits 160 bytes). */
static void bits_to_text(unsigned bits, const char *const *names, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t j = 0; names[j]; j++)
        if (bits & (1u << j))
            len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", len ? "," : "",
                                    names[j]);
}

/* The bits of a comma-separated text of names. */
static unsigned text_to_bits(const char *text, const char *const *names)
{
    unsigned bits = 0;
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        for (size_t j = 0; names[j]; j++)
            if (strlen(names[j]) == len && strncmp(names[j], p, len) == 0)
                bits |= 1u << j;
        p = end ? end + 1 : NULL;
    }
    return bits;
}

/* A polygon checked and converted: its WKB (GEOSFree it) and GeoJSON
 * (GEOSFree it). */
typedef struct checked_polygon {
    unsigned char *wkb;
    size_t wkb_len;
    char *geojson;
} checked_polygon;

/* Reads text as a GeoJSON Polygon with GEOS and checks it (see the top of
 * the file): 0 with *out filled, or GEODATA_EINVAL with the reason. Work:
 * one parse, one validity check, linear in the vertices (at most
 * GEODATA_SUB_VERTICES_MAX are accepted; the parse of more is bounded by
 * the request body's size). */
static int check_polygon(geodata_store *store, geodata_geos *g, const char *text,
                         checked_polygon *out)
{
    *out = (checked_polygon){ 0 };
    GEOSGeoJSONReader *reader = GEOSGeoJSONReader_create_r(g->h);
    if (!reader)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    GEOSGeometry *geom = GEOSGeoJSONReader_readGeometry_r(g->h, reader, text);
    GEOSGeoJSONReader_destroy_r(g->h, reader);
    int rc = GEODATA_OK;
    if (!geom)
        return geodata_fail(store, GEODATA_EINVAL, "'polygon' is not GeoJSON that can be read: %s",
                            g->msg[0] ? g->msg : "unknown reason");
    double xmin = 0, ymin = 0, xmax = 0, ymax = 0;
    int n = GEOSGetNumCoordinates_r(g->h, geom);
    if (GEOSGeomTypeId_r(g->h, geom) != GEOS_POLYGON)
        rc = geodata_fail(store, GEODATA_EINVAL, "'polygon' must be a GeoJSON Polygon");
    else if (GEOSisEmpty_r(g->h, geom) != 0)
        rc = geodata_fail(store, GEODATA_EINVAL, "'polygon' is empty");
    else if (n < 4 || n > GEODATA_SUB_VERTICES_MAX)
        rc = geodata_fail(store, GEODATA_EINVAL, "'polygon' has %d positions: it may have 4 to %d",
                          n, GEODATA_SUB_VERTICES_MAX);
    else if (!GEOSGeom_getXMin_r(g->h, geom, &xmin) || !GEOSGeom_getYMin_r(g->h, geom, &ymin)
             || !GEOSGeom_getXMax_r(g->h, geom, &xmax) || !GEOSGeom_getYMax_r(g->h, geom, &ymax)
             || !isfinite(xmin) || !isfinite(xmax) || !isfinite(ymin) || !isfinite(ymax)
             || xmin < -180 || xmax > 180 || ymin < -90 || ymax > 90)
        rc = geodata_fail(store, GEODATA_EINVAL, "'polygon' has coordinates outside longitude "
                          "-180..180 and latitude -90..90 (EPSG:4326, longitude first)");
    if (!rc && GEOSisValid_r(g->h, geom) != 1) {
        char *why = GEOSisValidReason_r(g->h, geom);
        rc = geodata_fail(store, GEODATA_EINVAL, "'polygon' is not a valid polygon: %s",
                          why ? why : "unknown reason");
        GEOSFree_r(g->h, why);
    }
    if (!rc) {
        GEOSWKBWriter *w = GEOSWKBWriter_create_r(g->h);
        GEOSGeoJSONWriter *j = GEOSGeoJSONWriter_create_r(g->h);
        if (w)
            GEOSWKBWriter_setOutputDimension_r(g->h, w, 2);
        out->wkb = w ? GEOSWKBWriter_write_r(g->h, w, geom, &out->wkb_len) : NULL;
        out->geojson = j ? GEOSGeoJSONWriter_writeGeometry_r(g->h, j, geom, -1) : NULL;
        if (w)
            GEOSWKBWriter_destroy_r(g->h, w);
        if (j)
            GEOSGeoJSONWriter_destroy_r(g->h, j);
        if (!out->wkb || !out->geojson)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        else if (strlen(out->geojson) > GEODATA_SUB_POLYGON_MAX)
            rc = geodata_fail(store, GEODATA_EINVAL, "'polygon' is longer than %d bytes as GeoJSON",
                              GEODATA_SUB_POLYGON_MAX);
    }
    GEOSGeom_destroy_r(g->h, geom);
    if (rc) {
        GEOSFree_r(g->h, out->wkb);
        GEOSFree_r(g->h, out->geojson);
        *out = (checked_polygon){ 0 };
    }
    return rc;
}

/* 0 when the polygon (WKB) lies within the neighbourhoods seen from home nb,
 * else GEODATA_EINVAL saying so. */
static int check_covered(geodata_store *store, const checked_polygon *p, const char *nb)
{
    sql_stmt *st = geodata_prepare(store,
        "SELECT ST_Covers(ST_Buffer(ST_Union(n.geom), ?3), ST_GeomFromWKB(?1, 4326)) "
        "FROM neighbourhoods n WHERE n.id = ?2 "
        "OR n.id IN (SELECT b FROM neighbourhood_contiguity WHERE a = ?2)");
    if (!st)
        return GEODATA_EDB;
    sql_bind_blob(st, 1, p->wkb, (int)p->wkb_len, SQL_STATIC);
    sql_bind_text(st, 2, nb, -1, SQL_STATIC);
    sql_bind_double(st, 3, COVER_TOLERANCE_DEG);
    int row = geodata_step(store, st);
    int covered = row > 0 && sql_column_type(st, 0) == SQL_INTEGER
                  && sql_column_int(st, 0) == 1;
    sql_finalize(st);
    if (row < 0)
        return row;
    return covered ? GEODATA_OK
                   : geodata_fail(store, GEODATA_EINVAL, "'polygon' must lie within your "
                                  "neighbourhood and the ones next to it");
}

/* The checks of spec that need no database: kinds, categories, radius or
 * polygon given (not both), mode, quiet hours. */
static int check_spec(geodata_store *store, const geodata_subscription_spec *spec, unsigned *kinds,
                      unsigned *categories, int *quiet_start, int *quiet_end)
{
    size_t bad;
    if (spec->n_kinds == 0)
        return geodata_fail(store, GEODATA_EINVAL, "'kinds' names request, offer or both");
    if ((bad = names_to_bits(spec->kinds, spec->n_kinds, kind_names, kinds)))
        return geodata_fail(store, GEODATA_EINVAL, "'kinds' holds an unknown kind: '%s' "
                            "(request, offer)", spec->kinds[bad - 1] ? spec->kinds[bad - 1] : "");
    if ((bad = names_to_bits(spec->categories, spec->n_categories, geodata_post_categories,
                             categories)))
        return geodata_fail(store, GEODATA_EINVAL, "'categories' holds an unknown category: '%s'",
                            spec->categories[bad - 1] ? spec->categories[bad - 1] : "");
    if (spec->has_radius == (spec->polygon != NULL))
        return geodata_fail(store, GEODATA_EINVAL, "give either 'radius_m' or 'polygon', not %s",
                            spec->has_radius ? "both" : "neither");
    if (spec->has_radius && !(isfinite(spec->radius_m) && spec->radius_m >= GEODATA_SUB_RADIUS_MIN
                              && spec->radius_m <= GEODATA_SUB_RADIUS_MAX))
        return geodata_fail(store, GEODATA_EINVAL, "'radius_m' is %d to %d metres",
                            GEODATA_SUB_RADIUS_MIN, GEODATA_SUB_RADIUS_MAX);
    if (!spec->mode || (strcmp(spec->mode, "immediate") != 0 && strcmp(spec->mode, "digest") != 0))
        return geodata_fail(store, GEODATA_EINVAL, "'mode' is immediate or digest");
    *quiet_start = *quiet_end = -1;
    if (!spec->quiet_start != !spec->quiet_end)
        return geodata_fail(store, GEODATA_EINVAL, "'quiet_hours' has both a start and an end");
    if (spec->quiet_start) {
        if (!geodata_hhmm_parse(spec->quiet_start, quiet_start)
            || !geodata_hhmm_parse(spec->quiet_end, quiet_end))
            return geodata_fail(store, GEODATA_EINVAL, "'quiet_hours' start and end are HH:MM, "
                                "00:00 to 23:59");
        if (*quiet_start == *quiet_end)
            return geodata_fail(store, GEODATA_EINVAL, "'quiet_hours' start and end differ");
    }
    return GEODATA_OK;
}

/* The member's neighbourhood into nb (of size n): 0, GEODATA_EDENIED
 * without a verified home. */
static int member_home(geodata_store *store, int64_t member, char *nb, size_t n)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT neighbourhood_id FROM members WHERE id = ?1 AND home_lon IS NOT NULL "
        "AND neighbourhood_id IS NOT NULL");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member);
    int row = geodata_step(store, st);
    if (row > 0)
        geodata_column_text(st, 0, nb, n);
    geodata_release(store, st);
    if (row < 0)
        return row;
    return row ? GEODATA_OK : geodata_fail(store, GEODATA_EDENIED, "only members with a verified "
                                           "home subscribe to alerts");
}

/* Runs a statement that writes and finalizes it; *changed gets its rows. */
static int run(geodata_store *store, sql_stmt *st, const char *what, int *changed)
{
    int rc = geodata_write(store, st, what, changed);
    sql_finalize(st);
    return rc;
}

int geodata_subscription_create(geodata_store *store, int64_t member,
                                const geodata_subscription_spec *spec, int64_t now, int64_t *id)
{
    *id = 0;
    unsigned kinds = 0, categories = 0;
    int qs = -1, qe = -1;
    int rc = check_spec(store, spec, &kinds, &categories, &qs, &qe);
    if (rc)
        return rc;
    char nb[GEODATA_ID_MAX + 1];
    if ((rc = member_home(store, member, nb, sizeof nb)))
        return rc;
    geodata_geos g = { 0 };
    checked_polygon poly = { 0 };
    if (spec->polygon) {
        if ((rc = geodata_geos_init(&g)))
            return geodata_fail(store, rc, "out of memory");
        rc = check_polygon(store, &g, spec->polygon, &poly);
        if (!rc)
            rc = check_covered(store, &poly, nb);
    }
    if (!rc)
        rc = geodata_begin(store);
    sql_stmt *st = NULL;
    if (!rc && (st = geodata_prepare(store, "SELECT count(*) FROM subscriptions WHERE member_id = ?1"))) {
        sql_bind_int64(st, 1, member);
        int row = geodata_step(store, st);
        if (row < 0)
            rc = row;
        else if (sql_column_int(st, 0) >= GEODATA_SUBS_PER_MEMBER)
            rc = geodata_fail(store, GEODATA_ECONFLICT, "a member holds at most %d subscriptions",
                              GEODATA_SUBS_PER_MEMBER);
        sql_finalize(st);
    } else if (!rc) {
        rc = GEODATA_EDB;
    }
    char kinds_text[32], categories_text[160];
    bits_to_text(kinds, kind_names, kinds_text, sizeof kinds_text);
    bits_to_text(categories, geodata_post_categories, categories_text, sizeof categories_text);
    if (!rc && !(st = geodata_prepare(store,
            "INSERT INTO subscriptions(member_id, kinds, categories, radius_m, polygon, area, mode, "
            "  quiet_start, quiet_end, created_at, cursor) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ST_GeomFromWKB(?6, 4326), "
            "  ?7, ?8, ?9, ?10, (SELECT coalesce(max(seq), 0) FROM changes)) RETURNING id")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, member);
        sql_bind_text(st, 2, kinds_text, -1, SQL_STATIC);
        sql_bind_text(st, 3, categories_text, -1, SQL_STATIC);
        if (spec->has_radius)
            sql_bind_int(st, 4, (int)lround(spec->radius_m));
        if (poly.wkb) {
            sql_bind_text(st, 5, poly.geojson, -1, SQL_STATIC);
            sql_bind_blob(st, 6, poly.wkb, (int)poly.wkb_len, SQL_STATIC);
        }
        sql_bind_text(st, 7, spec->mode, -1, SQL_STATIC);
        if (qs >= 0) {
            sql_bind_int(st, 8, qs);
            sql_bind_int(st, 9, qe);
        }
        sql_bind_int64(st, 10, now);
        rc = geodata_insert(store, st, "creating a subscription", id);
        sql_finalize(st);
    }
    if (!rc)
        rc = geodata_commit(store);
    if (rc) {
        geodata_rollback(store);
        *id = 0;
    }
    if (g.h) {
        GEOSFree_r(g.h, poly.wkb);
        GEOSFree_r(g.h, poly.geojson);
        geodata_geos_clear(&g);
    }
    return rc;
}

#define SUB_COLUMNS \
    "id, member_id, kinds, categories, coalesce(radius_m, 0), coalesce(polygon, ''), mode, " \
    "coalesce(quiet_start, -1), coalesce(quiet_end, -1), created_at, coalesce(paused_at, 0), " \
    "coalesce(paused_reason, ''), failures"

static void read_sub(sql_stmt *st, geodata_subscription *s)
{
    s->id = sql_column_int64(st, 0);
    s->member_id = sql_column_int64(st, 1);
    s->kinds = text_to_bits((const char *)sql_column_text(st, 2), kind_names);
    s->categories = text_to_bits((const char *)sql_column_text(st, 3), geodata_post_categories);
    s->radius_m = sql_column_int(st, 4);
    geodata_column_text(st, 5, s->polygon, sizeof s->polygon);
    const char *mode = (const char *)sql_column_text(st, 6);
    s->digest = mode && strcmp(mode, "digest") == 0;
    s->quiet_start = sql_column_int(st, 7);
    s->quiet_end = sql_column_int(st, 8);
    s->created_at = sql_column_int64(st, 9);
    s->paused_at = sql_column_int64(st, 10);
    geodata_column_text(st, 11, s->paused_reason, sizeof s->paused_reason);
    s->failures = sql_column_int(st, 12);
}

int geodata_subscription_get(geodata_store *store, int64_t id, int64_t member,
                             geodata_subscription *out)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT " SUB_COLUMNS " FROM subscriptions WHERE id = ?1 AND (?2 = 0 OR member_id = ?2)");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, member > 0 ? member : 0);
    int row = geodata_step(store, st);
    if (row > 0)
        read_sub(st, out);
    geodata_release(store, st);
    if (row < 0)
        return row;
    return row ? GEODATA_OK : geodata_fail(store, GEODATA_ENOTFOUND, "no such subscription");
}

int geodata_subscriptions_list(geodata_store *store, int64_t member,
                               int (*each)(void *arg, const geodata_subscription *s), void *arg)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT " SUB_COLUMNS " FROM subscriptions WHERE member_id = ?1 ORDER BY id LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member);
    sql_bind_int(st, 2, GEODATA_SUBS_PER_MEMBER);
    geodata_subscription *s = malloc(sizeof *s);
    int rc = s ? GEODATA_OK : geodata_fail(store, GEODATA_ENOMEM, "out of memory"), row = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        read_sub(st, s);
        rc = each(arg, s);
    }
    if (!rc && row < 0)
        rc = row;
    free(s);
    geodata_release(store, st);
    return rc;
}

int geodata_subscription_delete(geodata_store *store, int64_t id, int64_t member)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "UPDATE alert_deliveries SET status = 'dropped', last_error = 'the subscription was deleted' "
        "WHERE subscription_id = ?1 AND status IN ('pending', 'retrying') "
        "AND EXISTS (SELECT 1 FROM subscriptions WHERE id = ?1 AND (?2 = 0 OR member_id = ?2))");
    if (!st) {
        rc = GEODATA_EDB;
    } else {
        sql_bind_int64(st, 1, id);
        sql_bind_int64(st, 2, member > 0 ? member : 0);
        rc = run(store, st, "dropping a subscription's deliveries", NULL);
    }
    int changed = 0;
    if (!rc && !(st = geodata_prepare(store,
            "DELETE FROM subscriptions WHERE id = ?1 AND (?2 = 0 OR member_id = ?2)")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, id);
        sql_bind_int64(st, 2, member > 0 ? member : 0);
        rc = run(store, st, "deleting a subscription", &changed);
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such subscription");
    if (!rc)
        rc = geodata_commit(store);
    if (rc)
        geodata_rollback(store);
    return rc;
}

int geodata_subscription_resume(geodata_store *store, int64_t id, int64_t member)
{
    sql_stmt *st = geodata_prepare(store,
        "UPDATE subscriptions SET paused_at = NULL, paused_reason = NULL, failures = 0, "
        "cursor = (SELECT coalesce(max(seq), 0) FROM changes) "
        "WHERE id = ?1 AND member_id = ?2 AND paused_at IS NOT NULL");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, member);
    int changed = 0;
    int rc = run(store, st, "resuming a subscription", &changed);
    if (rc || changed)
        return rc;
    geodata_subscription *s = malloc(sizeof *s); /* not paused: a success, if it is theirs */
    rc = s ? geodata_subscription_get(store, id, member, s)
           : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    free(s);
    return rc;
}

int geodata_secret(geodata_store *store, const char *name, const unsigned char *fresh, size_t n,
                   unsigned char *out)
{
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO secrets(name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, name, -1, SQL_STATIC);
    sql_bind_blob(st, 2, fresh, (int)n, SQL_STATIC);
    int rc = run(store, st, "storing a secret", NULL);
    if (rc)
        return rc;
    if (!(st = geodata_prepare(store, "SELECT value FROM secrets WHERE name = ?1")))
        return GEODATA_EDB;
    sql_bind_text(st, 1, name, -1, SQL_STATIC);
    int row = geodata_step(store, st);
    if (row > 0 && (size_t)sql_column_bytes(st, 0) == n)
        memcpy(out, sql_column_blob(st, 0), n);
    else if (row >= 0)
        row = geodata_fail(store, GEODATA_EDB, "the stored secret %s is not %zu bytes", name, n);
    sql_finalize(st);
    return row < 0 ? row : GEODATA_OK;
}
