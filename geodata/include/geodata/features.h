/*
 * geodata/features.h — the store's data as feature layers for other systems
 * (OGC API – Features, staff exports): ONE definition per layer of what may
 * leave the server, and one query that reads them.
 *
 * A layer is a table seen from outside: its id, title, geometry type, who
 * may read it, and its fields (name, type, a short description, whether it
 * can be filtered on, whether it may be exported to a file). A field that is
 * not in the definition never leaves: a member's email, home address and
 * home point, a post's body and its author's name are in no layer. Exports
 * are stricter still (GEODATA_FIELD_EXPORT): no person's name and no free
 * text — so a need's title is readable by members online but is not
 * exported.
 *
 * Geometries are in EPSG:4326, lon/lat order (CRS84). Needs are at their
 * post's coarse public point (the centre of the ~200 m cell of the author's
 * home, stored with the post), makers at their member's public point
 * (geodata_member_public_point), never a home. Neighbourhoods are
 * multipolygons, handed over as OGC WKB (little- or big-endian, as
 * SpatiaLite's AsBinary writes it: little-endian here).
 *
 * Rows come in a stable order — the layer's id, ascending (numeric for
 * needs, shops and makers; text for neighbourhoods) — so that paging by
 * offset is exact while the data does not change.
 *
 * Threads: the layer definitions are constant and shared; a query uses its
 * store, which one thread at a time may use (store.h).
 */
#ifndef GEODATA_FEATURES_H
#define GEODATA_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/members.h"
#include "geodata/store.h"

typedef enum geodata_field_type {
    GEODATA_FIELD_INT,        /* value.i */
    GEODATA_FIELD_REAL,       /* value.r */
    GEODATA_FIELD_TEXT,       /* value.s (UTF-8, NUL-terminated), value.len bytes */
    GEODATA_FIELD_BOOL,       /* value.i: 0 or 1 */
    GEODATA_FIELD_DATETIME,   /* value.i: Unix seconds, UTC */
} geodata_field_type;

/* geodata_field.flags */
#define GEODATA_FIELD_FILTER 0x1u  /* a query can select on it (see the query's filters) */
#define GEODATA_FIELD_EXPORT 0x2u  /* it may go into an export file */

typedef struct geodata_field {
    const char *name;               /* the property's name, e.g. "category" */
    geodata_field_type type;
    const char *description;        /* one short English sentence, for schemas */
    unsigned flags;                 /* GEODATA_FIELD_FILTER | GEODATA_FIELD_EXPORT */
    const char *const *values;      /* the values it can take (NULL-terminated), or NULL */
} geodata_field;

typedef enum geodata_geometry_type {
    GEODATA_GEOMETRY_POINT,         /* feature.lon, feature.lat */
    GEODATA_GEOMETRY_MULTIPOLYGON,  /* feature.wkb, feature.wkb_len */
} geodata_geometry_type;

typedef struct geodata_layer {
    const char *id;                 /* "needs", "shops", "makers", "neighbourhoods" */
    const char *title, *description;/* English, for catalogues */
    geodata_geometry_type geometry;
    int members_only;               /* anonymous readers get nothing (GEODATA_EDENIED) */
    const char *time_field;         /* the field the created-at interval applies to, or NULL */
    const geodata_field *fields;
    size_t n_fields;
} geodata_layer;

/* The layers, in a fixed order: needs, shops, makers, neighbourhoods. */
#define GEODATA_LAYERS 4
extern const geodata_layer geodata_layers[GEODATA_LAYERS];

/* The layer of this id, or NULL. */
const geodata_layer *geodata_layer_find(const char *id);

/* The index of field name in layer, or -1. */
int geodata_layer_field(const geodata_layer *layer, const char *name);

/* Unbounded ends of the created-at interval. */
#define GEODATA_TIME_OPEN_START INT64_MIN
#define GEODATA_TIME_OPEN_END   INT64_MAX

typedef struct geodata_feature_query {
    const geodata_layer *layer;
    const geodata_audience *audience; /* who reads (audience.h); kept by the caller */
    const char *id;                 /* only the feature of this id (its text form), or NULL */
    int bbox;                       /* west, south, east, north (lon/lat) apply */
    double west, south, east, north;/* features that meet the box (edges included) */
    const char *neighbourhood;      /* filters: NULL = any; each needs a field of that */
    const char *category;           /*   name with GEODATA_FIELD_FILTER in the layer, */
    const char *status;             /*   else GEODATA_EINVAL (needs: "expired" too) */
    int64_t since, until;           /* created at since..until, both included; the
                                       GEODATA_TIME_OPEN_* values leave an end open;
                                       a layer without time_field: GEODATA_EINVAL unless
                                       both are open. 0..0 is NOT open: set them. */
    int64_t now;                    /* an open need past expiry reads "expired" */
    int export;                     /* 1: fields without GEODATA_FIELD_EXPORT come back NULL */
    size_t offset, limit;           /* the page, in the layer's order; limit 0: none */
    size_t max_limit;               /* the caller's cap on limit (GEODATA_EINVAL above it) */
} geodata_feature_query;

/* Sets q to read the whole of layer for audience: no box, no filter, open
 * interval, at now, limit 0. */
void geodata_feature_query_init(geodata_feature_query *q, const geodata_layer *layer,
                                const geodata_audience *audience, int64_t now);

typedef struct geodata_value {
    int null;                       /* 1: no value (SQL NULL, or withheld for an export) */
    int64_t i;                      /* INT, BOOL, DATETIME */
    double r;                       /* REAL */
    const char *s;                  /* TEXT */
    size_t len;                     /* TEXT: bytes */
} geodata_value;

typedef struct geodata_feature {
    const char *id;                 /* the feature's id as text ("42", "75111") */
    const geodata_value *values;    /* one per field of the layer, in its order */
    double lon, lat;                /* POINT layers */
    const unsigned char *wkb;       /* MULTIPOLYGON layers: OGC WKB, EPSG:4326 lon/lat */
    size_t wkb_len;
} geodata_feature;

/*
 * Reads the features of q->layer that q's audience may see and that match
 * its box, filters and interval, in the layer's order, from q->offset, at
 * most q->limit (when not 0), calling each(arg, f) for every one; f and all
 * it points to are valid during the call only. A non-zero return of each
 * stops the reading and is returned. When matched is not NULL, *matched is
 * the number of features that match, before paging: offset + the features
 * read when the page ends before its limit (and is not empty past the
 * last match), else one COUNT with the same conditions.
 *
 * Who sees what: the audience's rule (audience.h) — staff every row (hidden
 * needs too); a member the needs and makers of their visible
 * neighbourhoods, no hidden need; anyone else no row of a members-only
 * layer (GEODATA_EDENIED). Bad input (a filter the layer does
 * not have, a box with west > east or south > north, a limit above
 * max_limit, a reversed interval) is GEODATA_EINVAL with the message saying
 * which.
 *
 * Work: prepared statements only; the box through the layer's R*Tree; at
 * most offset + limit rows stepped (the COUNT, when needed, visits every
 * match once).
 */
int geodata_features_query(geodata_store *store, const geodata_feature_query *q,
                           int (*each)(void *arg, const geodata_feature *f), void *arg,
                           int64_t *matched);

/* The box (west, south, east, north) of every feature of layer, whoever
 * reads (for catalogues: the needs' box is their public points');
 * GEODATA_ENOTFOUND when the layer is empty. Work: a scan of its R*Tree. */
int geodata_layer_extent(geodata_store *store, const geodata_layer *layer, double box[4]);

#endif
