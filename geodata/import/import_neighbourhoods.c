/*
 * geodata/import/import_neighbourhoods.c — neighbourhood polygons from any OGR
 * source, their repair, their contiguity, and the reassignment of everything
 * that points into them.
 *
 * Design: the whole source is read and checked in memory first (it is small:
 * a city has tens to hundreds of neighbourhoods), so that a source that is
 * unusable as a whole fails before the store is touched. Then one transaction
 * upserts the polygons by id, deletes those no longer present, rewrites the
 * contiguity table and reassigns addresses, shops, members and posts. Ids that
 * survive a re-import keep their rows, so re-importing the same file changes
 * nothing but geometries that did change.
 *
 * Contiguity: two neighbourhoods are contiguous when their distance, measured
 * in metres in a local equal-area projection (geom.h), is at most gap_m. That
 * joins polygons that touch and polygons separated by a thin sliver or a
 * simplified river bank.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/nbindex.h"
#include "ogr_source.h"

typedef struct nb {
    char *id;
    char *name;
    GEOSGeometry *geom;      /* EPSG:4326, valid, polygonal */
    GEOSGeometry *metric;    /* the same in metres */
    const GEOSPreparedGeometry *prep_metric;
    double box[4];           /* metric envelope: minx, miny, maxx, maxy */
    double label[2];         /* lon, lat of a point inside */
    double area_m2;
} nb;

typedef struct nb_set {
    nb *items;
    size_t n, cap;
    geodata_geos geos;
} nb_set;

static void nb_set_clear(nb_set *set)
{
    GEOSContextHandle_t h = set->geos.h;
    for (size_t i = 0; i < set->n; i++) {
        nb *e = &set->items[i];
        free(e->id);
        free(e->name);
        if (e->prep_metric) GEOSPreparedGeom_destroy_r(h, e->prep_metric);
        if (e->metric) GEOSGeom_destroy_r(h, e->metric);
        if (e->geom) GEOSGeom_destroy_r(h, e->geom);
    }
    free(set->items);
    geodata_geos_clear(&set->geos);
}

static const char *const id_names[] = {
    "id", "code", "code_insee", "insee", "ref", "identifiant", "code_quartier", NULL
};
static const char *const name_names[] = {
    "name", "nom", "label", "libelle", "nom_quartier", "name_fr", "nom_qua", "lib", NULL
};
/* When no field has one of the names above: the first whose name starts so. */
static const char *const id_prefixes[] = { "code", "id", "insee", "ref", NULL };
static const char *const name_prefixes[] = { "nom", "name", "lib", "label", NULL };

/* Finds the id and name fields, honouring the options. The id may be absent
 * (then the feature id is used); a usable name field is required. */
static int find_fields(geodata_store *store, const char *path, const geodata_ogr *src,
                       const geodata_import_options *opts, int *id_field, int *name_field)
{
    const char *want_id[] = { opts->id_field, NULL };
    const char *want_name[] = { opts->name_field, NULL };
    *id_field = geodata_ogr_field(src, opts->id_field ? want_id : id_names);
    *name_field = geodata_ogr_field(src, opts->name_field ? want_name : name_names);
    if (*id_field < 0 && !opts->id_field)
        *id_field = geodata_ogr_field_prefix(src, id_prefixes);
    if (*name_field < 0 && !opts->name_field)
        *name_field = geodata_ogr_field_prefix(src, name_prefixes);
    if ((opts->id_field && *id_field < 0) || *name_field < 0) {
        char *fields = geodata_ogr_field_list(src);
        int rc;
        if (opts->id_field && *id_field < 0)
            rc = geodata_fail(store, GEODATA_EINVAL, "%s: no id field '%s' (fields: %s)",
                              path, opts->id_field, fields ? fields : "?");
        else if (opts->name_field)
            rc = geodata_fail(store, GEODATA_EINVAL, "%s: no name field '%s' (fields: %s)",
                              path, opts->name_field, fields ? fields : "?");
        else
            rc = geodata_fail(store, GEODATA_EINVAL,
                              "%s: no usable name field; name one with --name-field (fields: %s)",
                              path, (fields && *fields) ? fields : "none");
        free(fields);
        return rc;
    }
    return GEODATA_OK;
}

/* Keeps only the polygonal parts of g (which is consumed); NULL if none. */
static GEOSGeometry *polygonal_part(GEOSContextHandle_t h, GEOSGeometry *g)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON)
        return g;
    if (type != GEOS_GEOMETRYCOLLECTION) {
        GEOSGeom_destroy_r(h, g);
        return NULL;
    }
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = malloc((size_t)(n ? n : 1) * sizeof *parts);
    int k = 0;
    for (int i = 0; parts && i < n; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        int t = GEOSGeomTypeId_r(h, p);
        if (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON)
            parts[k++] = GEOSGeom_clone_r(h, p);
    }
    GEOSGeometry *out = NULL;
    if (parts && k > 0) {
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)k);
        out = coll ? GEOSUnaryUnion_r(h, coll) : NULL;
        if (coll) GEOSGeom_destroy_r(h, coll);
    }
    free(parts);
    GEOSGeom_destroy_r(h, g);
    return out;
}

/* Makes g valid and polygonal, consuming it; notes a repair. NULL if nothing
 * polygonal is left. */
static GEOSGeometry *repair(nb_set *set, GEOSGeometry *g, const char *where, geodata_report *report)
{
    GEOSContextHandle_t h = set->geos.h;
    if (GEOSisValid_r(h, g) == 1)
        return polygonal_part(h, g);
    char *reason = GEOSisValidReason_r(h, g);
    GEOSGeometry *fixed = GEOSMakeValid_r(h, g);
    GEOSGeom_destroy_r(h, g);
    fixed = fixed ? polygonal_part(h, fixed) : NULL;
    if (fixed && GEOSisValid_r(h, fixed) == 1) {
        report->repaired++;
        geodata_report_note(report, "%s: repaired invalid polygon (%s)", where,
                            reason ? reason : "invalid");
    } else {
        if (fixed) GEOSGeom_destroy_r(h, fixed);
        fixed = NULL;
    }
    if (reason) GEOSFree_r(h, reason);
    return fixed;
}

static int add_item(nb_set *set, const char *id, const char *name, GEOSGeometry *geom)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        nb *items = realloc(set->items, cap * sizeof *items);
        if (!items)
            return GEODATA_ENOMEM;
        set->items = items;
        set->cap = cap;
    }
    nb *e = &set->items[set->n++];
    memset(e, 0, sizeof *e);
    e->geom = geom;
    e->id = strdup(id);
    e->name = strdup(name);
    return (e->id && e->name) ? GEODATA_OK : GEODATA_ENOMEM;
}

static int cmp_nb_id(const void *a, const void *b)
{
    return strcmp(((const nb *)a)->id, ((const nb *)b)->id);
}

/* Reads every feature of the source into set; fails on an unusable source. */
static int read_source(geodata_store *store, const char *path, const geodata_import_options *opts,
                       nb_set *set, geodata_report *report)
{
    geodata_ogr src;
    int rc = geodata_ogr_open(store, path, GEODATA_WANT_POLYGONS, &src);
    if (rc)
        return rc;
    int id_field, name_field;
    rc = find_fields(store, path, &src, opts, &id_field, &name_field);
    OGRFeatureH f;
    char why[256] = "", fid[32];
    while (rc == GEODATA_OK && (f = OGR_L_GetNextFeature(src.layer)) != NULL) {
        report->read++;
        snprintf(fid, sizeof fid, "%lld", (long long)OGR_F_GetFID(f));
        const char *id = id_field >= 0 ? geodata_ogr_string(f, id_field) : fid;
        const char *name = geodata_ogr_string(f, name_field);
        char *where = geodata_format("feature %s (id %s)", fid, id ? id : "missing");
        if (!where) {
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        } else if (!id) {
            report->rejected++;
            geodata_report_note(report, "%s: no id, skipped", where);
        } else {
            GEOSGeometry *g = geodata_ogr_geometry(&src, f, &set->geos, why, sizeof why);
            if (g)
                g = repair(set, g, where, report);
            else
                geodata_report_note(report, "%s: %s, skipped", where, why);
            if (!g) {
                if (why[0] == '\0')
                    geodata_report_note(report, "%s: not a usable polygon, skipped", where);
                report->rejected++;
            } else {
                if (!name)
                    geodata_report_note(report, "%s: empty name, its id is used", where);
                if (add_item(set, id, name ? name : id, g))
                    rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
            }
        }
        why[0] = '\0';
        free(where);
        OGR_F_Destroy(f);
        if (opts->progress)
            opts->progress(opts->progress_arg, report->read,
                           src.n_features > 0 ? (uint64_t)src.n_features : 0);
    }
    geodata_ogr_close(&src);
    if (rc)
        return rc;
    if (set->n == 0)
        return geodata_fail(store, GEODATA_EINVAL, "%s: no usable polygon among %llu features",
                            path, (unsigned long long)report->read);
    qsort(set->items, set->n, sizeof *set->items, cmp_nb_id);
    for (size_t i = 1; i < set->n; i++)
        if (strcmp(set->items[i - 1].id, set->items[i].id) == 0)
            return geodata_fail(store, GEODATA_EINVAL,
                                "%s: id '%s' is used by more than one feature; choose another "
                                "field with --id-field", path, set->items[i].id);
    return GEODATA_OK;
}

/* Labels, areas and metric geometries of every item. */
static int measure(geodata_store *store, nb_set *set)
{
    GEOSContextHandle_t h = set->geos.h;
    double minx = DBL_MAX, miny = DBL_MAX, maxx = -DBL_MAX, maxy = -DBL_MAX;
    for (size_t i = 0; i < set->n; i++) {
        double x0, y0, x1, y1;
        GEOSGeom_getExtent_r(h, set->items[i].geom, &x0, &y0, &x1, &y1);
        if (x0 < minx) minx = x0;
        if (y0 < miny) miny = y0;
        if (x1 > maxx) maxx = x1;
        if (y1 > maxy) maxy = y1;
    }
    geodata_metric m;
    char msg[256];
    if (geodata_metric_init(&m, (minx + maxx) / 2, (miny + maxy) / 2, msg, sizeof msg))
        return geodata_fail(store, GEODATA_EGEOM, "metric projection: %s", msg);
    int rc = GEODATA_OK;
    for (size_t i = 0; rc == GEODATA_OK && i < set->n; i++) {
        nb *e = &set->items[i];
        GEOSGeometry *label = GEOSPointOnSurface_r(h, e->geom);
        e->metric = geodata_metric_project(&m, &set->geos, e->geom);
        if (!label || !e->metric
            || !GEOSGeomGetX_r(h, label, &e->label[0]) || !GEOSGeomGetY_r(h, label, &e->label[1])
            || !GEOSArea_r(h, e->metric, &e->area_m2)
            || !GEOSGeom_getExtent_r(h, e->metric, &e->box[0], &e->box[1], &e->box[2], &e->box[3])
            || !(e->prep_metric = GEOSPrepare_r(h, e->metric)))
            rc = geodata_fail(store, GEODATA_EGEOM, "neighbourhood '%s': cannot measure it: %s",
                              e->id, set->geos.msg);
        if (label) GEOSGeom_destroy_r(h, label);
    }
    geodata_metric_clear(&m);
    return rc;
}

static int store_items(geodata_store *store, nb_set *set)
{
    GEOSContextHandle_t h = set->geos.h;
    sql_stmt *up = geodata_prepare(store, GEODATA_DIALECT(store,
        "INSERT INTO neighbourhoods(id, name, label_lon, label_lat, area_m2, geom) "
        "VALUES (?1, ?2, ?3, ?4, ?5, CastToMultiPolygon(ST_GeomFromWKB(?6, 4326))) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, label_lon = excluded.label_lon, "
        "  label_lat = excluded.label_lat, area_m2 = excluded.area_m2, geom = excluded.geom "
        "WHERE NOT (name IS excluded.name AND Equals(geom, excluded.geom))",
        "INSERT INTO neighbourhoods(id, name, label_lon, label_lat, area_m2, geom) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ST_Multi(ST_GeomFromWKB(?6, 4326))) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, label_lon = excluded.label_lon, "
        "  label_lat = excluded.label_lat, area_m2 = excluded.area_m2, geom = excluded.geom "
        "WHERE neighbourhoods.name IS DISTINCT FROM excluded.name "
        "  OR NOT ST_Equals(neighbourhoods.geom, excluded.geom)"));
    sql_stmt *keep = geodata_prepare(store, "INSERT INTO nb_keep(id) VALUES (?)");
    if (!up || !keep) {
        sql_finalize(up);
        sql_finalize(keep);
        return GEODATA_EDB;
    }
    int rc = GEODATA_OK;
    for (size_t i = 0; rc == GEODATA_OK && i < set->n; i++) {
        nb *e = &set->items[i];
        size_t len = 0;
        unsigned char *wkb = GEOSGeomToWKB_buf_r(h, e->geom, &len);
        if (!wkb) {
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
            break;
        }
        sql_bind_text(up, 1, e->id, -1, SQL_STATIC);
        sql_bind_text(up, 2, e->name, -1, SQL_STATIC);
        sql_bind_double(up, 3, e->label[0]);
        sql_bind_double(up, 4, e->label[1]);
        sql_bind_double(up, 5, e->area_m2);
        sql_bind_blob(up, 6, wkb, (int)len, SQL_STATIC);
        sql_bind_text(keep, 1, e->id, -1, SQL_STATIC);
        if (sql_step(up) != SQL_DONE || sql_step(keep) != SQL_DONE)
            rc = geodata_fail_sql(store, "storing neighbourhoods");
        sql_reset(up);
        sql_reset(keep);
        GEOSFree_r(h, wkb);
    }
    sql_finalize(up);
    sql_finalize(keep);
    if (rc == GEODATA_OK)
        rc = geodata_exec(store, "DELETE FROM neighbourhoods WHERE id NOT IN (SELECT id FROM nb_keep)",
                          "removing old neighbourhoods");
    return rc;
}

/* Finds and stores every contiguous pair, both ways. Work: one envelope test
 * per pair, and an exact distance only for pairs whose envelopes are within
 * gap_m of each other. */
static int store_contiguity(geodata_store *store, nb_set *set, double gap_m, geodata_report *report)
{
    GEOSContextHandle_t h = set->geos.h;
    int rc = geodata_exec(store, "DELETE FROM neighbourhood_contiguity", "clearing contiguity");
    if (rc)
        return rc;
    sql_stmt *ins = geodata_prepare(store,
        "INSERT INTO neighbourhood_contiguity(a, b, gap_m) VALUES (?1, ?2, ?3), (?2, ?1, ?3)");
    if (!ins)
        return GEODATA_EDB;
    for (size_t i = 0; rc == GEODATA_OK && i < set->n; i++) {
        nb *a = &set->items[i];
        for (size_t j = i + 1; rc == GEODATA_OK && j < set->n; j++) {
            nb *b = &set->items[j];
            if (a->box[0] > b->box[2] + gap_m || b->box[0] > a->box[2] + gap_m
                || a->box[1] > b->box[3] + gap_m || b->box[1] > a->box[3] + gap_m)
                continue;
            if (GEOSPreparedDistanceWithin_r(h, a->prep_metric, b->metric, gap_m) != 1)
                continue;
            double d = 0;
            GEOSPreparedDistance_r(h, a->prep_metric, b->metric, &d);
            sql_bind_text(ins, 1, a->id, -1, SQL_STATIC);
            sql_bind_text(ins, 2, b->id, -1, SQL_STATIC);
            sql_bind_double(ins, 3, d);
            if (sql_step(ins) != SQL_DONE)
                rc = geodata_fail_sql(store, "storing contiguity");
            sql_reset(ins);
            report->contiguities++;
        }
    }
    sql_finalize(ins);
    return rc;
}

/* Reassigns the rows of one table whose point lies in a neighbourhood.
 * select_sql yields (rowid, lon, lat, current neighbourhood id); update_sql
 * takes (new id or NULL, rowid). Only rows whose neighbourhood changes are
 * written. Work: one index lookup per row. */
static int reassign(geodata_store *store, geodata_nbindex *idx, const char *select_sql,
                    const char *update_sql, geodata_report *report)
{
    sql_stmt *sel = geodata_prepare(store, select_sql);
    sql_stmt *upd = geodata_prepare(store, update_sql);
    if (!sel || !upd) {
        sql_finalize(sel);
        sql_finalize(upd);
        return GEODATA_EDB;
    }
    /* Changes are gathered first: the table is not written while it is read. */
    struct change { long long row; long nb; } *changes = NULL;
    size_t n = 0, cap = 0;
    int rc = GEODATA_OK, step;
    while (rc == GEODATA_OK && (step = sql_step(sel)) == SQL_ROW) {
        long k = geodata_nbindex_lookup(idx, sql_column_double(sel, 1),
                                        sql_column_double(sel, 2));
        const char *now = (const char *)sql_column_text(sel, 3);
        const char *want = k >= 0 ? geodata_nbindex_id(idx, (size_t)k) : NULL;
        if ((now == NULL) == (want == NULL) && (!now || strcmp(now, want) == 0))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            struct change *c = realloc(changes, cap * sizeof *c);
            if (!c) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            changes = c;
        }
        changes[n].row = sql_column_int64(sel, 0);
        changes[n].nb = k;
        n++;
    }
    if (rc == GEODATA_OK && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading points to reassign");
    sql_finalize(sel);
    for (size_t i = 0; rc == GEODATA_OK && i < n; i++) {
        if (changes[i].nb >= 0)
            sql_bind_text(upd, 1, geodata_nbindex_id(idx, (size_t)changes[i].nb), -1, SQL_STATIC);
        else
            sql_bind_null(upd, 1);
        sql_bind_int64(upd, 2, changes[i].row);
        if (sql_step(upd) != SQL_DONE)
            rc = geodata_fail_sql(store, "reassigning neighbourhoods");
        sql_reset(upd);
    }
    report->reassigned += n;
    sql_finalize(upd);
    free(changes);
    return rc;
}

static int reassign_all(geodata_store *store, geodata_report *report)
{
    geodata_nbindex *idx = NULL;
    int rc = geodata_nbindex_load(store, &idx);
    if (!rc) rc = reassign(store, idx,
        "SELECT id, ST_X(geom), ST_Y(geom), neighbourhood_id FROM addresses",
        "UPDATE addresses SET neighbourhood_id = ? WHERE id = ?", report);
    if (!rc) rc = reassign(store, idx,
        "SELECT id, ST_X(geom), ST_Y(geom), neighbourhood_id FROM shops WHERE geom IS NOT NULL",
        "UPDATE shops SET neighbourhood_id = ? WHERE id = ?", report);
    if (!rc) rc = reassign(store, idx,
        "SELECT id, home_lon, home_lat, neighbourhood_id FROM members WHERE home_lon IS NOT NULL",
        "UPDATE members SET neighbourhood_id = ? WHERE id = ?", report);
    /* A post belongs to its author's neighbourhood, not to its coarse point. */
    if (!rc)
        rc = geodata_exec(store,
            "UPDATE posts SET neighbourhood_id = (SELECT m.neighbourhood_id FROM members m "
            "WHERE m.id = posts.author_id) WHERE neighbourhood_id IS DISTINCT FROM "
            "(SELECT m.neighbourhood_id FROM members m WHERE m.id = posts.author_id)",
            "reassigning posts");
    geodata_nbindex_free(idx);
    return rc;
}

int geodata_import_neighbourhoods(geodata_store *store, const char *path,
                                  const geodata_import_options *opts, geodata_report *report)
{
    static const geodata_import_options defaults = { 0 };
    if (!opts)
        opts = &defaults;
    memset(report, 0, sizeof *report);
    double gap_m = opts->gap_m > 0 ? opts->gap_m : GEODATA_DEFAULT_GAP_M;
    nb_set set = { 0 };
    if (geodata_geos_init(&set.geos))
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int rc = read_source(store, path, opts, &set, report);
    if (!rc) rc = measure(store, &set);
    if (!rc) rc = geodata_begin(store);
    if (!rc) {
        rc = geodata_exec(store, "CREATE TEMP TABLE IF NOT EXISTS nb_keep(id TEXT PRIMARY KEY);"
                          "DELETE FROM nb_keep", "preparing the import");
        if (!rc) rc = store_items(store, &set);
        if (!rc) rc = store_contiguity(store, &set, gap_m, report);
        if (!rc) rc = reassign_all(store, report);
        if (!rc) {
            char *detail = geodata_format("%zu neighbourhoods, %llu contiguous pairs, %llu repaired",
                                          set.n, (unsigned long long)report->contiguities,
                                          (unsigned long long)report->repaired);
            rc = geodata_audit(store, 0, "import neighbourhoods", path, detail);
            free(detail);
        }
        if (!rc) rc = geodata_commit(store);
        if (rc) geodata_rollback(store);
    }
    report->stored = rc ? 0 : set.n;
    nb_set_clear(&set);
    return rc;
}
