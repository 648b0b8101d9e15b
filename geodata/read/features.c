/*
 * geodata/read/features.c — the feature layers (see features.h): their
 * definitions, and the one query that reads them.
 *
 * Design: each layer has one SQL shape, written out below as string
 * literals, in four variants — the COUNT and the page, each with and without
 * a box — so that every statement is prepared once per connection and kept
 * (geodata_cached). Optional conditions are written "(?n IS NULL OR ...)" and
 * bound or left NULL; the numbers of the parameters are the same in every
 * layer (see the enum below). Who sees which row is the audience's rule,
 * in its one SQL form (GEODATA_AUDIENCE_SQL, internal.h).
 *
 * Column order: the id first, then one column per field of the layer in its
 * order, then the geometry (a SpatiaLite BLOB for points, read from its
 * header; OGC WKB for polygons). read_row turns a row into a feature without
 * knowing the layer.
 *
 * Boxes: the R*Tree finds the candidates — for points as an "id IN (the
 * R*Tree's ids)" list, which SQLite keeps sorted, so rows are read in id
 * order by their primary key and never sorted whole; for polygons as the
 * outer loop of a CROSS JOIN. Its float bounds are rounded outwards, so
 * points are tested exactly against the box's edges (MbrMinX/MbrMinY read
 * the BLOB's header only), polygons with Intersects. The COUNT uses the very same conditions, so
 * numberMatched is the sum of the pages; it runs after the page, and only
 * when the page does not tell it (a page that ends before its limit ends at
 * the last match).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "geodata/features.h"
#include "geodata/posts.h"
#include "spatialite_blob.h"

/* ---- the layers ---- */

static const char *const need_kinds[] = { "request", "offer", NULL };
static const char *const need_statuses[] = { "open", "claimed", "done", "cancelled", "expired", NULL };
static const char *const shop_statuses[] = {
    "unknown", "open", "closed", "delivery_only", "takeaway_only", NULL,
};

#define F_FILTER GEODATA_FIELD_FILTER
#define F_EXPORT GEODATA_FIELD_EXPORT

static const geodata_field need_fields[] = {
    { "kind", GEODATA_FIELD_TEXT, "request (someone needs help) or offer (someone offers it)",
      F_EXPORT, need_kinds },
    { "category", GEODATA_FIELD_TEXT, "what kind of help", F_FILTER | F_EXPORT,
      geodata_post_categories },
    { "status", GEODATA_FIELD_TEXT, "open, claimed (a volunteer took it), done, cancelled, or "
      "expired (open past its expiry)", F_FILTER | F_EXPORT, need_statuses },
    { "title", GEODATA_FIELD_TEXT, "the short title its author gave (members only; never exported)",
      0, NULL },
    { "neighbourhood", GEODATA_FIELD_TEXT, "id of the neighbourhood it belongs to",
      F_FILTER | F_EXPORT, NULL },
    { "created_at", GEODATA_FIELD_DATETIME, "when it was posted", F_EXPORT, NULL },
    { "updated_at", GEODATA_FIELD_DATETIME, "when it last changed", F_EXPORT, NULL },
    { "expires_at", GEODATA_FIELD_DATETIME, "when an open need stops showing", F_EXPORT, NULL },
    { "hidden", GEODATA_FIELD_BOOL, "hidden by moderation (only staff see hidden needs)",
      F_EXPORT, NULL },
};

static const geodata_field shop_fields[] = {
    { "name", GEODATA_FIELD_TEXT, "the shop's name", F_EXPORT, NULL },
    { "category", GEODATA_FIELD_TEXT, "what it sells (OpenStreetMap shop=* value)",
      F_FILTER | F_EXPORT, NULL },
    { "brand", GEODATA_FIELD_TEXT, "its brand, if any", F_EXPORT, NULL },
    { "opening_hours", GEODATA_FIELD_TEXT, "usual opening hours (OpenStreetMap syntax)",
      F_EXPORT, NULL },
    { "housenumber", GEODATA_FIELD_TEXT, "house number of its address", F_EXPORT, NULL },
    { "street", GEODATA_FIELD_TEXT, "street of its address", F_EXPORT, NULL },
    { "postcode", GEODATA_FIELD_TEXT, "postcode of its address", F_EXPORT, NULL },
    { "city", GEODATA_FIELD_TEXT, "city of its address", F_EXPORT, NULL },
    { "status", GEODATA_FIELD_TEXT, "unknown, open, closed, delivery_only or takeaway_only",
      F_FILTER | F_EXPORT, shop_statuses },
    { "delivers", GEODATA_FIELD_BOOL, "it delivers", F_EXPORT, NULL },
    { "takeaway", GEODATA_FIELD_BOOL, "it sells to take away", F_EXPORT, NULL },
    { "gift_cards", GEODATA_FIELD_BOOL, "it sells gift cards", F_EXPORT, NULL },
    { "confirmed_at", GEODATA_FIELD_DATETIME, "when its owner last confirmed the status",
      F_EXPORT, NULL },
    { "neighbourhood", GEODATA_FIELD_TEXT, "id of the neighbourhood it lies in",
      F_FILTER | F_EXPORT, NULL },
};

static const geodata_field maker_fields[] = {
    { "display_name", GEODATA_FIELD_TEXT, "the maker's public name (members only; never exported)",
      0, NULL },
    { "capacity_per_day", GEODATA_FIELD_INT, "masks they can sew a day", F_EXPORT, NULL },
    { "stock", GEODATA_FIELD_INT, "masks ready now", F_EXPORT, NULL },
    { "materials", GEODATA_FIELD_TEXT, "materials they need, comma-separated", F_EXPORT, NULL },
    { "materials_post", GEODATA_FIELD_INT, "id of the need asking for those materials",
      F_EXPORT, NULL },
    { "neighbourhood", GEODATA_FIELD_TEXT, "id of the maker's neighbourhood",
      F_FILTER | F_EXPORT, NULL },
};

static const geodata_field neighbourhood_fields[] = {
    { "name", GEODATA_FIELD_TEXT, "the neighbourhood's name", F_EXPORT, NULL },
    { "area_m2", GEODATA_FIELD_REAL, "its area in square metres", F_EXPORT, NULL },
};

#define N(a) (sizeof (a) / sizeof (a)[0])

const geodata_layer geodata_layers[GEODATA_LAYERS] = {
    { "needs", "Needs", "Requests for help and offers of help, at a coarse public point (the "
      "centre of a ~200 m cell), never a home. Members see those of their neighbourhood and the "
      "contiguous ones; staff see all.", GEODATA_GEOMETRY_POINT, 1, "created_at",
      need_fields, N(need_fields) },
    { "shops", "Shops", "Local shops: whether they are open, deliver or sell to take away.",
      GEODATA_GEOMETRY_POINT, 0, NULL, shop_fields, N(shop_fields) },
    { "makers", "Mask makers", "Members who sew masks, at their coarse public point, never a "
      "home. Members see those of their neighbourhood and the contiguous ones; staff see all.",
      GEODATA_GEOMETRY_POINT, 1, NULL, maker_fields, N(maker_fields) },
    { "neighbourhoods", "Neighbourhoods", "The neighbourhoods members belong to.",
      GEODATA_GEOMETRY_MULTIPOLYGON, 0, NULL, neighbourhood_fields, N(neighbourhood_fields) },
};

const geodata_layer *geodata_layer_find(const char *id)
{
    for (size_t i = 0; id && i < GEODATA_LAYERS; i++)
        if (strcmp(geodata_layers[i].id, id) == 0)
            return &geodata_layers[i];
    return NULL;
}

int geodata_layer_field(const geodata_layer *layer, const char *name)
{
    for (size_t i = 0; i < layer->n_fields; i++)
        if (strcmp(layer->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

void geodata_feature_query_init(geodata_feature_query *q, const geodata_layer *layer,
                                const geodata_audience *audience, int64_t now)
{
    *q = (geodata_feature_query){
        .layer = layer, .audience = audience, .since = GEODATA_TIME_OPEN_START,
        .until = GEODATA_TIME_OPEN_END, .now = now,
    };
}

/* ---- the statements ---- */

/* Parameters, the same in every layer's statements. */
enum {
    P_STAFF = 1,       /* 1: every row, hidden needs too */
    P_ID_TEXT = 2,     /* neighbourhoods: one id, or NULL */
    P_NB = 3, P_CATEGORY = 4, P_STATUS = 5,
    P_SINCE = 6, P_UNTIL = 7,
    P_WEST = 10, P_SOUTH = 11, P_EAST = 12, P_NORTH = 13,
    P_LIMIT = 14, P_OFFSET = 15,
    P_ID_MIN = 16, P_ID_MAX = 17,   /* numeric ids: one id, or the whole range */
    P_AUDIENCE = 20,   /* geodata_audience_bind */
    P_NOW = 99,
};

#define VISIBLE_IN(col) " AND " GEODATA_AUDIENCE_SQL(col, "?20")

#define RTREE_BOX " AND i.xmin <= ?12 AND i.xmax >= ?10 AND i.ymin <= ?13 AND i.ymax >= ?11"
/* Points: the ids of the R*Tree's candidates, a list SQLite keeps sorted,
 * so rows come in id order without sorting them whole. */
#define POINT_IN_BOX(id, idx, g) " AND " id " IN (SELECT i.pkid FROM " idx " i WHERE 1" \
    RTREE_BOX ") AND MbrMinX(" g ") BETWEEN ?10 AND ?12 AND MbrMinY(" g ") BETWEEN ?11 AND ?13"
#define PAGE " LIMIT ?14 OFFSET ?15"
/* PostgreSQL: the GiST index's candidates (boxes of floats, rounded
 * outward), then the exact test on the point. */
#define PG_POINT_IN_BOX(g) " AND " g " && ST_MakeEnvelope(?10, ?11, ?12, ?13, 4326)" \
    " AND ST_X(" g ") BETWEEN ?10 AND ?12 AND ST_Y(" g ") BETWEEN ?11 AND ?13"

/* needs */
#define NEED_STATUS "CASE WHEN p.status = 'open' AND p.expires_at <= ?99 THEN 'expired' " \
    "ELSE p.status END"
#define NEED_COLUMNS "p.id, p.kind, p.category, " NEED_STATUS ", p.title, p.neighbourhood_id, " \
    "p.created_at, p.updated_at, p.expires_at, p.hidden, p.geom"
#define NEED_WHERE " WHERE p.id BETWEEN ?16 AND ?17 AND (?1 = 1 OR p.hidden = 0)" \
    VISIBLE_IN("p.neighbourhood_id") \
    " AND (CAST(?3 AS TEXT) IS NULL OR p.neighbourhood_id = ?3) AND (CAST(?4 AS TEXT) IS NULL OR p.category = ?4)" \
    " AND (CAST(?5 AS TEXT) IS NULL OR (?5 = 'expired' AND p.status = 'open' AND p.expires_at <= ?99)" \
    "      OR (?5 = 'open' AND p.status = 'open' AND p.expires_at > ?99)" \
    "      OR (?5 NOT IN ('open', 'expired') AND p.status = ?5))" \
    " AND p.created_at BETWEEN ?6 AND ?7"
#define NEED_IN_BOX POINT_IN_BOX("p.id", "idx_posts_geom", "p.geom")
#define PG_NEED_IN_BOX PG_POINT_IN_BOX("p.geom")

static const char NEEDS_COUNT[] = "SELECT count(*) FROM posts p" NEED_WHERE;
static const char NEEDS_PAGE[] = "SELECT " NEED_COLUMNS " FROM posts p" NEED_WHERE
    " ORDER BY p.id" PAGE;
static const char NEEDS_BOX_COUNT[] = "SELECT count(*) FROM posts p" NEED_WHERE NEED_IN_BOX;
static const char NEEDS_BOX_PAGE[] = "SELECT " NEED_COLUMNS " FROM posts p" NEED_WHERE NEED_IN_BOX
    " ORDER BY p.id" PAGE;
static const char PG_NEEDS_BOX_COUNT[] = "SELECT count(*) FROM posts p" NEED_WHERE PG_NEED_IN_BOX;
static const char PG_NEEDS_BOX_PAGE[] = "SELECT " NEED_COLUMNS " FROM posts p" NEED_WHERE
    PG_NEED_IN_BOX " ORDER BY p.id" PAGE;

/* shops */
#define SHOP_COLUMNS "s.id, s.name, s.shop, s.brand, s.opening_hours, s.addr_housenumber, " \
    "s.addr_street, s.addr_postcode, s.addr_city, s.status, s.delivers, s.takeaway, " \
    "s.gift_cards, s.confirmed_at, s.neighbourhood_id, s.geom"
#define SHOP_WHERE " WHERE s.id BETWEEN ?16 AND ?17" \
    " AND (CAST(?3 AS TEXT) IS NULL OR s.neighbourhood_id = ?3) AND (CAST(?4 AS TEXT) IS NULL OR s.shop = ?4)" \
    " AND (CAST(?5 AS TEXT) IS NULL OR s.status = ?5)"
#define SHOP_IN_BOX POINT_IN_BOX("s.id", "idx_shops_geom", "s.geom")
#define PG_SHOP_IN_BOX PG_POINT_IN_BOX("s.geom")

static const char SHOPS_COUNT[] = "SELECT count(*) FROM shops s" SHOP_WHERE;
static const char SHOPS_PAGE[] = "SELECT " SHOP_COLUMNS " FROM shops s" SHOP_WHERE
    " ORDER BY s.id" PAGE;
static const char SHOPS_BOX_COUNT[] = "SELECT count(*) FROM shops s" SHOP_WHERE SHOP_IN_BOX;
static const char SHOPS_BOX_PAGE[] = "SELECT " SHOP_COLUMNS " FROM shops s" SHOP_WHERE SHOP_IN_BOX
    " ORDER BY s.id" PAGE;
static const char PG_SHOPS_BOX_COUNT[] = "SELECT count(*) FROM shops s" SHOP_WHERE PG_SHOP_IN_BOX;
static const char PG_SHOPS_BOX_PAGE[] = "SELECT " SHOP_COLUMNS " FROM shops s" SHOP_WHERE
    PG_SHOP_IN_BOX " ORDER BY s.id" PAGE;

/* makers: their member's neighbourhood decides who sees them */
#define MAKER_COLUMNS "k.member_id, m.display_name, k.capacity_per_day, k.stock, " \
    "(SELECT group_concat(value, ', ') FROM json_each(k.materials)), k.materials_post_id, " \
    "m.neighbourhood_id, k.geom"
/* PostgreSQL: the materials (a JSON array of text) joined in their order. */
#define PG_MAKER_COLUMNS "k.member_id, m.display_name, k.capacity_per_day, k.stock, " \
    "(SELECT string_agg(e.value, ', ' ORDER BY e.n) FROM " \
    "jsonb_array_elements_text(k.materials::jsonb) WITH ORDINALITY AS e(value, n)), " \
    "k.materials_post_id, m.neighbourhood_id, k.geom"
#define MAKER_WHERE " WHERE k.member_id BETWEEN ?16 AND ?17" VISIBLE_IN("m.neighbourhood_id") \
    " AND (CAST(?3 AS TEXT) IS NULL OR m.neighbourhood_id = ?3)"

static const char MAKERS_COUNT[] = "SELECT count(*) FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE;
static const char MAKERS_PAGE[] = "SELECT " MAKER_COLUMNS " FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE " ORDER BY k.member_id" PAGE;
#define MAKER_IN_BOX POINT_IN_BOX("k.member_id", "idx_makers_geom", "k.geom")

static const char MAKERS_BOX_COUNT[] = "SELECT count(*) FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE MAKER_IN_BOX;
static const char MAKERS_BOX_PAGE[] = "SELECT " MAKER_COLUMNS " FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE MAKER_IN_BOX " ORDER BY k.member_id" PAGE;
static const char PG_MAKERS_PAGE[] = "SELECT " PG_MAKER_COLUMNS " FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE " ORDER BY k.member_id" PAGE;
static const char PG_MAKERS_BOX_COUNT[] = "SELECT count(*) FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE PG_POINT_IN_BOX("k.geom");
static const char PG_MAKERS_BOX_PAGE[] = "SELECT " PG_MAKER_COLUMNS " FROM makers k JOIN members m "
    "ON m.id = k.member_id" MAKER_WHERE PG_POINT_IN_BOX("k.geom") " ORDER BY k.member_id" PAGE;

/* neighbourhoods: rowid is the R*Tree's key, id the feature's */
#define NB_COLUMNS "n.id, n.name, n.area_m2, ST_AsBinary(n.geom)"
#define NB_WHERE " WHERE (CAST(?2 AS TEXT) IS NULL OR n.id = ?2)"
#define NB_BOX_FROM " FROM idx_neighbourhoods_geom i CROSS JOIN neighbourhoods n ON n.rowid = i.pkid"
#define NB_IN_BOX RTREE_BOX " AND Intersects(n.geom, BuildMbr(?10, ?11, ?12, ?13, 4326))"

static const char NBS_COUNT[] = "SELECT count(*) FROM neighbourhoods n" NB_WHERE;
static const char NBS_PAGE[] = "SELECT " NB_COLUMNS " FROM neighbourhoods n" NB_WHERE
    " ORDER BY n.id" PAGE;
static const char NBS_BOX_COUNT[] = "SELECT count(*)" NB_BOX_FROM NB_WHERE NB_IN_BOX;
static const char NBS_BOX_PAGE[] = "SELECT " NB_COLUMNS NB_BOX_FROM NB_WHERE NB_IN_BOX
    " ORDER BY n.id" PAGE;
/* PostgreSQL: ST_Intersects uses the GiST index itself. */
#define PG_NB_IN_BOX " AND ST_Intersects(n.geom, ST_MakeEnvelope(?10, ?11, ?12, ?13, 4326))"
static const char PG_NBS_BOX_COUNT[] = "SELECT count(*) FROM neighbourhoods n" NB_WHERE PG_NB_IN_BOX;
static const char PG_NBS_BOX_PAGE[] = "SELECT " NB_COLUMNS " FROM neighbourhoods n" NB_WHERE
    PG_NB_IN_BOX " ORDER BY n.id" PAGE;

/* Per layer, in the order of geodata_layers: count, page, box count, box page. */
static const char *const layer_sql[GEODATA_LAYERS][4] = {
    { NEEDS_COUNT, NEEDS_PAGE, NEEDS_BOX_COUNT, NEEDS_BOX_PAGE },
    { SHOPS_COUNT, SHOPS_PAGE, SHOPS_BOX_COUNT, SHOPS_BOX_PAGE },
    { MAKERS_COUNT, MAKERS_PAGE, MAKERS_BOX_COUNT, MAKERS_BOX_PAGE },
    { NBS_COUNT, NBS_PAGE, NBS_BOX_COUNT, NBS_BOX_PAGE },
};
/* The same on PostgreSQL: the statements without a box are SQLite's. */
static const char *const layer_sql_pg[GEODATA_LAYERS][4] = {
    { NEEDS_COUNT, NEEDS_PAGE, PG_NEEDS_BOX_COUNT, PG_NEEDS_BOX_PAGE },
    { SHOPS_COUNT, SHOPS_PAGE, PG_SHOPS_BOX_COUNT, PG_SHOPS_BOX_PAGE },
    { MAKERS_COUNT, PG_MAKERS_PAGE, PG_MAKERS_BOX_COUNT, PG_MAKERS_BOX_PAGE },
    { NBS_COUNT, NBS_PAGE, PG_NBS_BOX_COUNT, PG_NBS_BOX_PAGE },
};

static const char *const extent_sql[GEODATA_LAYERS] = {
    "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_posts_geom",
    "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_shops_geom",
    "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_makers_geom",
    "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_neighbourhoods_geom",
};
/* PostgreSQL: the extent of the geometries (SQLite's reads every box of the
 * R*Tree; this reads every geometry). */
#define PG_EXTENT(table) "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) " \
    "FROM (SELECT ST_Extent(geom) AS e FROM " table ") x"
static const char *const extent_sql_pg[GEODATA_LAYERS] = {
    PG_EXTENT("posts"), PG_EXTENT("shops"), PG_EXTENT("makers"), PG_EXTENT("neighbourhoods"),
};

/* ---- the query ---- */

/* Checks q against its layer; 0, or GEODATA_EINVAL with the message. */
static int check_query(geodata_store *store, const geodata_feature_query *q)
{
    const geodata_layer *l = q->layer;
    const struct { const char *name, *value; } filters[] = {
        { "neighbourhood", q->neighbourhood }, { "category", q->category }, { "status", q->status },
    };
    for (size_t i = 0; i < N(filters); i++) {
        if (!filters[i].value)
            continue;
        int f = geodata_layer_field(l, filters[i].name);
        if (f < 0 || !(l->fields[f].flags & GEODATA_FIELD_FILTER))
            return geodata_fail(store, GEODATA_EINVAL, "the %s layer cannot be filtered by %s",
                                l->id, filters[i].name);
    }
    if (q->bbox && !(q->west <= q->east && q->south <= q->north))
        return geodata_fail(store, GEODATA_EINVAL,
                            "the box's west must not exceed its east, nor its south its north");
    if (q->since > q->until)
        return geodata_fail(store, GEODATA_EINVAL, "the interval ends before it starts");
    if (!l->time_field && (q->since != GEODATA_TIME_OPEN_START || q->until != GEODATA_TIME_OPEN_END))
        return geodata_fail(store, GEODATA_EINVAL, "the %s layer has no time to select on", l->id);
    if (q->max_limit && (q->limit == 0 || q->limit > q->max_limit))
        return geodata_fail(store, GEODATA_EINVAL, "at most %zu features a page", q->max_limit);
    return GEODATA_OK;
}

/* A feature id in its numeric form: 1 with *out, 0 when text is not a
 * canonical positive integer (then no feature has it). */
static int numeric_id(const char *text, int64_t *out)
{
    if (!text[0] || text[0] == '0' || strlen(text) > 18)
        return 0;
    for (const char *c = text; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    *out = strtoll(text, NULL, 10);
    return 1;
}

static void bind_query(sql_stmt *st, const geodata_feature_query *q, int64_t id)
{
    int staff = q->audience->kind == GEODATA_AUDIENCE_STAFF;
    sql_bind_int(st, P_STAFF, staff ? 1 : 0);
    geodata_audience_bind(st, P_AUDIENCE, q->audience);
    sql_bind_text(st, P_ID_TEXT, q->id, -1, SQL_STATIC);
    sql_bind_int64(st, P_ID_MIN, q->id ? id : INT64_MIN);
    sql_bind_int64(st, P_ID_MAX, q->id ? id : INT64_MAX);
    sql_bind_text(st, P_NB, q->neighbourhood, -1, SQL_STATIC);
    sql_bind_text(st, P_CATEGORY, q->category, -1, SQL_STATIC);
    sql_bind_text(st, P_STATUS, q->status, -1, SQL_STATIC);
    sql_bind_int64(st, P_SINCE, q->since);
    sql_bind_int64(st, P_UNTIL, q->until);
    if (q->bbox) {
        sql_bind_double(st, P_WEST, q->west);
        sql_bind_double(st, P_SOUTH, q->south);
        sql_bind_double(st, P_EAST, q->east);
        sql_bind_double(st, P_NORTH, q->north);
    }
    sql_bind_int64(st, P_NOW, q->now);
}

/* Reads the current row of a page statement into f and values (room for
 * the layer's fields). 0, or -1 when the geometry cannot be read. */
static int read_row(sql_stmt *st, const geodata_feature_query *q, geodata_feature *f,
                    geodata_value *values)
{
    const geodata_layer *l = q->layer;
    f->id = (const char *)sql_column_text(st, 0);
    for (size_t i = 0; i < l->n_fields; i++) {
        int col = (int)i + 1;
        geodata_value *v = &values[i];
        *v = (geodata_value){ .null = sql_column_type(st, col) == SQL_NULL };
        if (v->null)
            continue;
        if (q->export && !(l->fields[i].flags & GEODATA_FIELD_EXPORT)) {
            v->null = 1;
            continue;
        }
        switch (l->fields[i].type) {
        case GEODATA_FIELD_REAL:
            v->r = sql_column_double(st, col);
            break;
        case GEODATA_FIELD_TEXT:
            v->s = (const char *)sql_column_text(st, col);
            v->len = (size_t)sql_column_bytes(st, col);
            v->null = v->s == NULL;
            break;
        default:
            v->i = sql_column_int64(st, col);
            break;
        }
    }
    int g = (int)l->n_fields + 1;
    const unsigned char *blob = sql_column_blob(st, g);
    int len = sql_column_bytes(st, g);
    if (l->geometry == GEODATA_GEOMETRY_POINT) {
        double box[4];
        if (!blob || geodata_blob_box(blob, len, box))
            return -1;
        f->lon = box[0];
        f->lat = box[2];
        f->wkb = NULL;
        f->wkb_len = 0;
    } else {
        if (!blob || len <= 0)
            return -1;
        f->wkb = blob;
        f->wkb_len = (size_t)len;
        f->lon = f->lat = 0;
    }
    return f->id ? 0 : -1;
}

int geodata_features_query(geodata_store *store, const geodata_feature_query *q,
                           int (*each)(void *arg, const geodata_feature *f), void *arg,
                           int64_t *matched)
{
    if (matched)
        *matched = 0;
    const geodata_layer *l = q->layer;
    ptrdiff_t li = l - geodata_layers;
    if (li < 0 || li >= GEODATA_LAYERS)
        return geodata_fail(store, GEODATA_EINVAL, "no such layer");
    int rc = check_query(store, q);
    if (rc)
        return rc;
    if (l->members_only && q->audience->kind == GEODATA_AUDIENCE_NOBODY)
        return geodata_fail(store, GEODATA_EDENIED, "the %s layer is for members", l->id);
    int64_t id = 0;
    if (q->id && l->geometry == GEODATA_GEOMETRY_POINT && !numeric_id(q->id, &id))
        return GEODATA_OK;   /* no feature has that id: nothing matches */
    const char *const *sql = store->pg ? layer_sql_pg[li] : layer_sql[li];
    /* Without a limit (an export of a whole layer) PostgreSQL reads through
     * a cursor, not holding every row at once. */
    int streamed = store->pg && !q->limit;
    sql_stmt *st = streamed ? geodata_prepare_stream(store, sql[q->bbox ? 3 : 1])
                            : geodata_cached(store, sql[q->bbox ? 3 : 1]);
    if (!st)
        return GEODATA_EDB;
    bind_query(st, q, id);
    if (q->limit)
        sql_bind_int64(st, P_LIMIT, (long long)q->limit);
    else if (store->pg)
        sql_bind_null(st, P_LIMIT);   /* PostgreSQL's LIMIT NULL is no limit */
    else
        sql_bind_int64(st, P_LIMIT, -1);   /* SQLite's */
    sql_bind_int64(st, P_OFFSET, (long long)q->offset);
    geodata_value values[16];
    _Static_assert(N(shop_fields) <= 16 && N(need_fields) <= 16, "room for every field");
    size_t returned = 0;
    int step = SQL_DONE, stopped = 0;   /* stopped: by each's return */
    while ((step = sql_step(st)) == SQL_ROW) {
        geodata_feature f = { .values = values };
        if (read_row(st, q, &f, values)) {
            rc = geodata_fail(store, GEODATA_EGEOM, "a feature of %s has no readable geometry", l->id);
            break;
        }
        returned++;
        if ((rc = each(arg, &f)) != 0) {
            stopped = 1;
            break;
        }
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading features");
    if (streamed)
        sql_finalize(st);
    else
        geodata_release(store, st);
    if (!matched || (rc && !stopped))
        return rc;
    /* A page read to its end before its limit ends at the last match: the
     * count is known, unless the offset is past every match (no row). */
    if (!stopped && (!q->limit || returned < q->limit) && (returned || !q->offset)) {
        *matched = (int64_t)(q->offset + returned);
        return rc;
    }
    sql_stmt *cnt = geodata_cached(store, sql[q->bbox ? 2 : 0]);
    if (!cnt)
        return GEODATA_EDB;
    bind_query(cnt, q, id);
    if (sql_step(cnt) == SQL_ROW)
        *matched = sql_column_int64(cnt, 0);
    else
        rc = geodata_fail_sql(store, "counting features");
    geodata_release(store, cnt);
    return rc;
}

int geodata_layer_extent(geodata_store *store, const geodata_layer *layer, double box[4])
{
    ptrdiff_t li = layer - geodata_layers;
    if (li < 0 || li >= GEODATA_LAYERS)
        return geodata_fail(store, GEODATA_EINVAL, "no such layer");
    sql_stmt *st = geodata_cached(store, store->pg ? extent_sql_pg[li] : extent_sql[li]);
    if (!st)
        return GEODATA_EDB;
    int rc = GEODATA_OK;
    if (sql_step(st) != SQL_ROW)
        rc = geodata_fail_sql(store, "reading a layer's extent");
    else if (sql_column_type(st, 0) == SQL_NULL)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "the %s layer is empty", layer->id);
    else
        for (int i = 0; i < 4; i++)
            box[i] = sql_column_double(st, i);
    geodata_release(store, st);
    return rc;
}
