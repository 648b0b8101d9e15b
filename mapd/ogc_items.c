/*
 * mapd/ogc_items.c — the features of a collection: GET
 * /ogc/collections/{id}/items (a page of a FeatureCollection) and
 * /ogc/collections/{id}/items/{fid} (one Feature), as GeoJSON.
 *
 * Arguments are checked before any work: limit (1 to 10,000; more is
 * capped at 10,000, OGC's rule: numberReturned and the next link say so),
 * offset (0 to 100,000,000), bbox (4 or 6 numbers) in bbox-crs,
 * crs, datetime (collections with a time only), and the collection's
 * queryables; anything else is a 400. Pages are in id order, so the next
 * link (offset + limit) pages exactly and the pages add up to
 * numberMatched, which is a COUNT under the same conditions.
 *
 * Geometries leave in the crs asked for, in that CRS's axis order
 * (EPSG:4326: lat, lon), with a Content-Crs header. Properties are the
 * layer's fields (geodata/features.h): nothing else of a row is ever read
 * into a response.
 *
 * Pages of public collections are kept (a bounded cache, below) until the
 * change feed moves, so repeated pages of shops cost a lookup; members'
 * pages, and needs whose status turns "expired" with time alone, are always
 * built afresh.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "geodata/changes.h"
#include "geodata/dates.h"
#include "ogc.h"
#include "post_model.h"   /* mapd_text */
#include "text.h"

#define LIMIT_DEFAULT 10
#define LIMIT_MAX 10000
#define OFFSET_MAX 100000000L
#define URL_MAX 2048             /* bytes of a link's query we write; longer requests get 414 */

/* ---- arguments ---- */

typedef struct items_args {
    long limit, offset;
    int bbox;
    double box84[4];             /* west, south, east, north in CRS84 */
    mapd_ogc_crs crs;
    int64_t since, until;
    const char *neighbourhood, *category, *status;
} items_args;

/* A strict decimal integer from lo up (mapd_parse_long's: no '+', no
 * spaces, no trailing text); 1 with *out, 0 when malformed or below lo.
 * Above hi (even beyond long's range) is hi, as OGC API wants of limit. */
static int parse_count(const char *s, long lo, long hi, long *out)
{
    long v = 0;
    int rc = mapd_parse_long(s, &v);
    if (rc == -1 && *s != '-')
        v = hi;
    else if (rc != 1 || v < lo)
        return 0;
    *out = v > hi ? hi : v;
    return 1;
}

/* datetime: an instant, or start/end with ".." or "" for an open end. */
static int parse_datetime(const char *s, int64_t *since, int64_t *until)
{
    const char *slash = strchr(s, '/');
    if (!slash) {
        int64_t a, b;
        if (!geodata_time_parse(s, strlen(s), 0, &a) || !geodata_time_parse(s, strlen(s), 1, &b))
            return 0;
        *since = a;
        *until = b;
        return 1;
    }
    if (strchr(slash + 1, '/'))
        return 0;
    size_t n1 = (size_t)(slash - s), n2 = strlen(slash + 1);
    int open1 = n1 == 0 || (n1 == 2 && strncmp(s, "..", 2) == 0);
    int open2 = n2 == 0 || strcmp(slash + 1, "..") == 0;
    if (open1 && open2)
        return n1 != 0 || n2 != 0 ? 1 : 0;  /* "../..": everything; "/": malformed */
    if (!open1 && !geodata_time_parse(s, n1, 0, since))
        return 0;
    if (!open2 && !geodata_time_parse(slash + 1, n2, 1, until))
        return 0;
    return 1;
}

/* 1 when value is one of f's values (or f has no list). */
static int value_known(const geodata_field *f, const char *value)
{
    if (!f->values)
        return 1;
    for (const char *const *v = f->values; *v; v++)
        if (strcmp(*v, value) == 0)
            return 1;
    return 0;
}

static int bad(mapd_ctx *ctx, const char *detail)
{
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

/* Reads and checks the arguments of an items (or, with single, a feature)
 * request into a; 0, or -1 after a 400. */
static int items_args_or_reply(mapd_ctx *ctx, const geodata_layer *l, int single, items_args *a)
{
    const char *allowed[16];
    size_t n = 0;
    allowed[n++] = "crs";
    if (!single) {
        allowed[n++] = "limit";
        allowed[n++] = "offset";
        allowed[n++] = "bbox";
        allowed[n++] = "bbox-crs";
        if (l->time_field)
            allowed[n++] = "datetime";
        for (size_t i = 0; i < l->n_fields && n < 15; i++)
            if (l->fields[i].flags & GEODATA_FIELD_FILTER)
                allowed[n++] = l->fields[i].name;
    }
    allowed[n] = NULL;
    if (mapd_ogc_args_or_reply(ctx, allowed))
        return -1;
    *a = (items_args){ .limit = LIMIT_DEFAULT, .crs = MAPD_CRS_CRS84,
                       .since = GEODATA_TIME_OPEN_START, .until = GEODATA_TIME_OPEN_END };
    const char *s = mapd_arg(ctx, "crs");
    if (s && mapd_ogc_crs_parse(s, &a->crs))
        return bad(ctx, "crs is not offered: use http://www.opengis.net/def/crs/OGC/1.3/CRS84, "
                        "http://www.opengis.net/def/crs/EPSG/0/4326 or "
                        "http://www.opengis.net/def/crs/EPSG/0/2154");
    if (single)
        return 0;
    if ((s = mapd_arg(ctx, "limit")) && !parse_count(s, 1, LIMIT_MAX, &a->limit))
        return bad(ctx, "limit must be a whole number from 1 (at most 10000 are returned)");
    /* Past OFFSET_MAX (far beyond any layer) an offset is refused, not
     * capped as limit is: a capped offset would answer another page. */
    if ((s = mapd_arg(ctx, "offset"))
        && (!parse_count(s, 0, LONG_MAX, &a->offset) || a->offset > OFFSET_MAX))
        return bad(ctx, "offset must be a whole number from 0 to 100000000");
    mapd_ogc_crs bbox_crs = MAPD_CRS_CRS84;
    if ((s = mapd_arg(ctx, "bbox-crs")) && mapd_ogc_crs_parse(s, &bbox_crs))
        return bad(ctx, "bbox-crs is not offered: use http://www.opengis.net/def/crs/OGC/1.3/CRS84, "
                        "http://www.opengis.net/def/crs/EPSG/0/4326 or "
                        "http://www.opengis.net/def/crs/EPSG/0/2154");
    if ((s = mapd_arg(ctx, "bbox"))) {
        double v[6], box[4];
        if (mapd_parse_numbers(s, v, 4)) {
            memcpy(box, v, sizeof box);
        } else if (mapd_parse_numbers(s, v, 6)) {
            box[0] = v[0]; box[1] = v[1]; box[2] = v[3]; box[3] = v[4];
        } else {
            return bad(ctx, "bbox must be 4 numbers (minimums, then maximums, in bbox-crs) or 6 "
                            "(with heights)");
        }
        const char *why;
        if (mapd_ogc_bbox_to84(bbox_crs, box, a->box84, &why))
            return bad(ctx, why);
        a->bbox = 1;
    }
    if ((s = mapd_arg(ctx, "datetime")) && !parse_datetime(s, &a->since, &a->until))
        return bad(ctx, "datetime must be an RFC 3339 date-time (2020-04-01T10:00:00Z), or an "
                        "interval start/end where an open end is ..");
    if (a->since > a->until)
        return bad(ctx, "datetime: the interval ends before it starts");
    const char **filters[] = { &a->neighbourhood, &a->category, &a->status };
    const char *names[] = { "neighbourhood", "category", "status" };
    for (int i = 0; i < 3; i++) {
        int f = geodata_layer_field(l, names[i]);
        if (f < 0 || !(l->fields[f].flags & GEODATA_FIELD_FILTER) || !(s = mapd_arg(ctx, names[i])))
            continue;
        if (!value_known(&l->fields[f], s) || strlen(s) > 128) {
            char detail[400];
            size_t o = (size_t)snprintf(detail, sizeof detail, "%s must be one of", names[i]);
            for (const char *const *v = l->fields[f].values; v && *v && o < sizeof detail; v++)
                o += (size_t)snprintf(detail + o, sizeof detail - o, "%s %s",
                                      v == l->fields[f].values ? "" : ",", *v);
            return bad(ctx, l->fields[f].values ? detail : "the filter value is too long");
        }
        *filters[i] = s;
    }
    return 0;
}

/* ---- GeoJSON ---- */

/* A WKB reader over [p, end): byte order per geometry, as WKB allows. */
typedef struct wkb {
    const unsigned char *p, *end;
} wkb;

static int wkb_u32(wkb *w, int le, uint32_t *v)
{
    if (w->end - w->p < 4)
        return -1;
    const unsigned char *b = w->p;
    *v = le ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
            : (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    w->p += 4;
    return 0;
}

static int wkb_f64(wkb *w, int le, double *v)
{
    if (w->end - w->p < 8)
        return -1;
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = le ? w->p[i] : w->p[7 - i];
    memcpy(v, b, 8);   /* the host is little-endian (x86-64, aarch64) */
    w->p += 8;
    return 0;
}

/* The rings of one polygon as a GeoJSON coordinates array, in crs. Bounded
 * by the bytes: a count larger than what is left fails. */
static json_t *wkb_polygon(wkb *w, mapd_ogc_crs crs)
{
    if (w->end - w->p < 5)
        return NULL;
    int le = *w->p++ == 1;
    uint32_t type, rings;
    if (wkb_u32(w, le, &type) || type != 3 || wkb_u32(w, le, &rings)
        || rings > (size_t)(w->end - w->p) / 4)
        return NULL;
    json_t *poly = json_array();
    for (uint32_t r = 0; poly && r < rings; r++) {
        uint32_t npts;
        if (wkb_u32(w, le, &npts) || npts > (size_t)(w->end - w->p) / 16)
            goto fail;
        json_t *ring = json_array();
        json_array_append_new(poly, ring);
        for (uint32_t i = 0; i < npts; i++) {
            double x, y;
            if (wkb_f64(w, le, &x) || wkb_f64(w, le, &y) || mapd_ogc_crs_from84(crs, &x, &y)
                || json_array_append_new(ring, json_pack("[f, f]", x, y)))
                goto fail;
        }
    }
    return poly;
fail:
    json_decref(poly);
    return NULL;
}

/* A MultiPolygon (or Polygon) WKB as a GeoJSON MultiPolygon, in crs. */
static json_t *wkb_multipolygon(const unsigned char *bytes, size_t len, mapd_ogc_crs crs)
{
    wkb w = { bytes, bytes + len };
    if (len < 9)
        return NULL;
    int le = bytes[0] == 1;
    uint32_t type;
    w.p = bytes + 1;
    if (wkb_u32(&w, le, &type))
        return NULL;
    json_t *coords = json_array();
    if (type == 3) {
        w.p = bytes;
        json_t *poly = wkb_polygon(&w, crs);
        if (!poly || json_array_append_new(coords, poly))
            goto fail;
    } else if (type == 6) {
        uint32_t n;
        if (wkb_u32(&w, le, &n) || n > len / 9)
            goto fail;
        for (uint32_t i = 0; i < n; i++) {
            json_t *poly = wkb_polygon(&w, crs);
            if (!poly || json_array_append_new(coords, poly))
                goto fail;
        }
    } else {
        goto fail;
    }
    return json_pack("{s:s, s:o}", "type", "MultiPolygon", "coordinates", coords);
fail:
    json_decref(coords);
    return NULL;
}

/* t as an RFC 3339 UTC date-time into buf; 0, or -1 when out of range. */
static int time_text(int64_t t, char buf[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return -1;
    return strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}

static json_t *time_json(int64_t t)
{
    char buf[32];
    return time_text(t, buf) ? json_null() : json_string(buf);
}

/*
 * The Features of a page come out of ONE jansson tree per page, refilled for
 * each row and serialised by json_dumpb: a tree of its own for each feature
 * (some 30 values, an allocation each, and the objects' hash tables) cost
 * most of a page built afresh. The tree's members are made once, in the
 * order of the layer's fields; a row changes values in place where the JSON
 * type stays (numbers, strings, coordinates) and swaps a value only where it
 * does not (null, booleans), so the bytes are those of a tree built for the
 * row alone. The page is these serialisations joined by commas (see
 * page_text), as mapd/post_model.c joins its fragments.
 */
typedef struct feature_writer {
    const geodata_layer *layer;
    mapd_ogc_crs crs;
    json_t *feature;             /* {"type":"Feature","id":…,"geometry":…,"properties":{…}} */
    json_t *id;                  /* in feature: an integer (points) or a string */
    json_t *coords;              /* points: the geometry's [x, y], two reals */
    json_t *props;               /* in feature */
    json_t *values[16];          /* borrowed: the value props holds for each field */
} feature_writer;

static void writer_clear(feature_writer *w)
{
    json_decref(w->feature);
    w->feature = NULL;
}

/* Makes w's tree for layer l in crs: 0, or -1 when out of memory. */
static int writer_init(feature_writer *w, const geodata_layer *l, mapd_ogc_crs crs)
{
    *w = (feature_writer){ .layer = l, .crs = crs };
    if (l->n_fields > sizeof w->values / sizeof w->values[0])
        return -1;
    int point = l->geometry == GEODATA_GEOMETRY_POINT;
    w->props = json_object();
    for (size_t i = 0; w->props && i < l->n_fields; i++) {
        w->values[i] = json_null();
        if (json_object_set_new(w->props, l->fields[i].name, w->values[i])) {
            json_decref(w->props);
            w->props = NULL;
        }
    }
    w->id = point ? json_integer(0) : json_string("");
    json_t *geom = point ? json_pack("{s:s, s:[f, f]}", "type", "Point", "coordinates", 0.0, 0.0)
                         : json_null();
    w->coords = point ? json_object_get(geom, "coordinates") : NULL;
    if (!w->props || !w->id || !geom) {
        json_decref(w->props);
        json_decref(w->id);
        json_decref(geom);
        return -1;
    }
    w->feature = json_pack("{s:s, s:o, s:o, s:o}", "type", "Feature", "id", w->id,
                           "geometry", geom, "properties", w->props);
    return w->feature ? 0 : -1;
}

/* Makes j (consumed) the value of property i. */
static int writer_swap(feature_writer *w, size_t i, json_t *j)
{
    if (!j || json_object_set_new(w->props, w->layer->fields[i].name, j))
        return -1;
    w->values[i] = j;
    return 0;
}

/* Property i becomes the string s (n bytes, UTF-8: else -1). */
static int writer_text(feature_writer *w, size_t i, const char *s, size_t n)
{
    json_t *cur = w->values[i];
    if (!json_is_string(cur))
        return writer_swap(w, i, json_stringn(s, n));
    if (json_string_length(cur) == n && memcmp(json_string_value(cur), s, n) == 0)
        return 0;   /* the same as the previous row's (a city, a status) */
    return json_string_setn(cur, s, n);
}

/* Property i becomes v, a value of its field's type. */
static int writer_value(feature_writer *w, size_t i, const geodata_value *v)
{
    json_t *cur = w->values[i];
    char t[32];
    if (v->null)
        return json_is_null(cur) ? 0 : writer_swap(w, i, json_null());
    switch (w->layer->fields[i].type) {
    case GEODATA_FIELD_INT:
        return json_is_integer(cur) ? json_integer_set(cur, v->i)
                                    : writer_swap(w, i, json_integer(v->i));
    case GEODATA_FIELD_REAL:
        return json_is_real(cur) ? json_real_set(cur, v->r) : writer_swap(w, i, json_real(v->r));
    case GEODATA_FIELD_BOOL:
        return cur == json_boolean(v->i) ? 0 : writer_swap(w, i, json_boolean(v->i));
    case GEODATA_FIELD_DATETIME:
        if (time_text(v->i, t))
            return json_is_null(cur) ? 0 : writer_swap(w, i, json_null());
        return writer_text(w, i, t, strlen(t));
    default:
        return writer_text(w, i, v->s, v->len);
    }
}

/* Fills w's tree with f: 0, or -1 when out of memory, a text is not UTF-8
 * or the geometry cannot be transformed. Work: the row's values, and for
 * polygons a new geometry. */
static int writer_fill(feature_writer *w, const geodata_feature *f)
{
    for (size_t i = 0; i < w->layer->n_fields; i++)
        if (writer_value(w, i, &f->values[i]))
            return -1;
    if (w->layer->geometry == GEODATA_GEOMETRY_POINT) {
        double x = f->lon, y = f->lat;
        return mapd_ogc_crs_from84(w->crs, &x, &y)
               || json_integer_set(w->id, strtoll(f->id, NULL, 10))
               || json_real_set(json_array_get(w->coords, 0), x)
               || json_real_set(json_array_get(w->coords, 1), y) ? -1 : 0;
    }
    json_t *geom = wkb_multipolygon(f->wkb, f->wkb_len, w->crs);
    return !geom || json_object_set_new(w->feature, "geometry", geom)
           || json_string_set(w->id, f->id) ? -1 : 0;
}

/* Appends j serialised by jansson to t, less its first skip and last cut
 * bytes (an object's braces, an array's brackets): 0, or -1 when out of
 * memory. */
static int append_json(mapd_text *t, const json_t *j, size_t skip, size_t cut)
{
    char buf[8192];
    size_t n = j ? json_dumpb(j, buf, sizeof buf, MAPD_OGC_JSON_FLAGS) : 0;
    if (n < skip + cut || n == 0)
        return -1;
    if (n <= sizeof buf)
        return mapd_text_append(t, buf + skip, n - skip - cut);
    char *big = malloc(n);   /* a neighbourhood's polygons, long links */
    int rc = big && json_dumpb(j, big, n, MAPD_OGC_JSON_FLAGS) == n
             ? mapd_text_append(t, big + skip, n - skip - cut) : -1;
    free(big);
    return rc;
}

/* A page of Features as text: the FeatureCollection's head, then each
 * Feature, joined by commas; page_close adds the rest. Every byte but the
 * commas and brackets that join the features comes from jansson: the same
 * bytes as one serialisation of the whole collection. */
typedef struct page {
    feature_writer w;
    int single;                  /* one feature: kept in w's tree, not serialised */
    size_t returned;
    mapd_text text;              /* '{"type":"FeatureCollection","features":[' and the features */
} page;

/* Starts p's text: 0, or -1 when out of memory. */
static int page_open(page *p)
{
    json_t *h = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
    int rc = append_json(&p->text, h, 0, 2);   /* less "]}" */
    json_decref(h);
    return rc;
}

static int add_feature(void *arg, const geodata_feature *f)
{
    page *p = arg;
    if (writer_fill(&p->w, f))
        return GEODATA_ENOMEM;
    if (!p->single && ((p->returned && mapd_text_append(&p->text, ",", 1))
                       || append_json(&p->text, p->w.feature, 0, 0)))
        return GEODATA_ENOMEM;
    p->returned++;
    return GEODATA_OK;
}

/* Ends p's text with the members of tail (consumed), those that follow
 * "features": 0, or -1 when out of memory. */
static int page_close(page *p, json_t *tail)
{
    int rc = mapd_text_append(&p->text, "],", 2) || append_json(&p->text, tail, 1, 0) ? -1 : 0;
    json_decref(tail);
    return rc;
}

/* ---- links ---- */

typedef struct query_text {
    char buf[URL_MAX];
    size_t len;
    int overflow;                /* what did not fit was dropped: do not use buf */
    int paging;                  /* copy_arg copies limit and offset too */
} query_text;

static void put(query_text *q, const char *s, size_t n)
{
    if (q->len + n >= sizeof q->buf) {
        q->overflow = 1;
        return;
    }
    memcpy(q->buf + q->len, s, n);
    q->len += n;
    q->buf[q->len] = '\0';
}

static void put_encoded(query_text *q, const char *s)
{
    char e[3];
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        put(q, e, mapd_url_byte(*c, ",:", e));
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    query_text *q = cls;
    if (!q->paging && (strcmp(key, "offset") == 0 || strcmp(key, "limit") == 0))
        return MHD_YES;
    put(q, "&", 1);
    put_encoded(q, key);
    if (value) {
        put(q, "=", 1);
        put_encoded(q, value);
    }
    return MHD_YES;
}

/* The link to this page of items at offset, with every other argument of
 * the request as it was. */
static json_t *page_link(const char *items_url, const query_text *rest, long limit, long offset,
                         const char *rel, const char *title)
{
    char href[MAPD_OGC_BASE_MAX + 256 + URL_MAX];
    snprintf(href, sizeof href, "%s?limit=%ld&offset=%ld%s", items_url, limit, offset, rest->buf);
    return json_pack("{s:s, s:s, s:s, s:s}", "href", href, "rel", rel, "type",
                     "application/geo+json", "title", title);
}

/* ---- the page cache ---- */

/* Pages of public collections, kept while the change feed stands still.
 * Slots are chosen by the hash of the request (host, path, arguments as
 * sent); a new page replaces the slot's old one. Bounded: CACHE_SLOTS pages
 * of at most CACHE_BODY_MAX bytes each. A page is reference-counted: the
 * cache holds one reference, each response being sent another, so a page
 * replaced while it is sent lives until it is sent. */
#define CACHE_SLOTS 64
#define CACHE_BODY_MAX (1024 * 1024)

typedef struct cached_page {
    int refs;                       /* atomic: the cache's and the responses' */
    uint64_t hash;                  /* of key */
    char *key;                      /* "host\npath?arguments" */
    int64_t seq;                    /* the change feed's newest entry when it was built */
    char etag[MAPD_OGC_ETAG_LEN];
    size_t len;
    char *body;                     /* malloc'd, len bytes */
} cached_page;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;   /* guards slots */
static cached_page *slots[CACHE_SLOTS];

static void page_release(void *cls)
{
    cached_page *c = cls;
    if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(c->key);
        free(c->body);
        free(c);
    }
}

/* The page of key built at seq, with a reference for the caller; NULL when
 * not kept. */
static cached_page *cache_get(const char *key, uint64_t hash, int64_t seq)
{
    pthread_mutex_lock(&cache_lock);
    cached_page *c = slots[hash % CACHE_SLOTS];
    if (c && (c->hash != hash || c->seq != seq || strcmp(c->key, key) != 0))
        c = NULL;
    if (c)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&cache_lock);
    return c;
}

/* Keeps c (taking a reference of its own), dropping what held its slot. */
static void cache_put(cached_page *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&cache_lock);
    cached_page *old = slots[c->hash % CACHE_SLOTS];
    slots[c->hash % CACHE_SLOTS] = c;
    pthread_mutex_unlock(&cache_lock);
    if (old)
        page_release(old);
}

/* The cache key of this request into q; 0, or -1 when it is too long to keep. */
static int cache_key(mapd_ctx *ctx, const char *base, query_text *q)
{
    q->len = 0;
    q->overflow = 0;
    q->paging = 1;
    q->buf[0] = '\0';
    put(q, base, strlen(base));
    put(q, "\n", 1);
    put(q, ctx->url, strlen(ctx->url));
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, copy_arg, q);
    return q->overflow ? -1 : 0;
}

/* Keeps body (malloc'd, len bytes; taken) under key at seq when small
 * enough, and sends it. */
static enum MHD_Result send_kept(mapd_ctx *ctx, char *body, size_t len, const query_text *key,
                                 uint64_t hash, int64_t seq, const char *crs_uri)
{
    cached_page *c = malloc(sizeof *c);
    char *k = strdup(key->buf);
    if (!c || !k) {
        free(c);
        free(k);
        free(body);
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "out of memory");
    }
    *c = (cached_page){ .refs = 1, .hash = hash, .key = k, .seq = seq, .len = len, .body = body };
    mapd_ogc_etag(c->body, len, c->etag);
    if (len <= CACHE_BODY_MAX)
        cache_put(c);
    return mapd_ogc_send(ctx, c->body, c->len, c->etag, "application/geo+json", 0, crs_uri,
                         page_release, c);
}

/* ---- the handler ---- */

enum MHD_Result mapd_ogc_items(mapd_ctx *ctx, const geodata_layer *l, const geodata_audience *audience,
                               const char *fid)
{
    items_args a;
    if (items_args_or_reply(ctx, l, fid != NULL, &a))
        return MHD_YES;
    geodata_feature_query q;
    geodata_feature_query_init(&q, l, audience, ctx->now);
    q.max_limit = LIMIT_MAX;
    if (fid) {
        q.id = fid;
        q.limit = 1;
    } else {
        q.limit = (size_t)a.limit;
        q.offset = (size_t)a.offset;
        q.bbox = a.bbox;
        q.west = a.box84[0]; q.south = a.box84[1]; q.east = a.box84[2]; q.north = a.box84[3];
        q.since = a.since;
        q.until = a.until;
        q.neighbourhood = a.neighbourhood;
        q.category = a.category;
        q.status = a.status;
    }
    const char *crs_uri = mapd_ogc_crs_uri(a.crs);
    char base[MAPD_OGC_BASE_MAX], coll[MAPD_OGC_BASE_MAX + 96], items[MAPD_OGC_BASE_MAX + 128];
    mapd_ogc_base(ctx, base);
    /* Public pages come from the cache while the change feed stands still. */
    static __thread query_text key;
    int64_t seq = 0;
    uint64_t hash = 0;
    int keep = !l->members_only && !fid && cache_key(ctx, base, &key) == 0
               && geodata_changes_last(ctx->store, &seq) == 0;
    if (keep) {
        hash = XXH3_64bits(key.buf, key.len);
        cached_page *c = cache_get(key.buf, hash, seq);
        if (c)
            return mapd_ogc_send(ctx, c->body, c->len, c->etag, "application/geo+json", 0, crs_uri,
                                 page_release, c);
    }
    page p = { .single = fid != NULL };
    if (writer_init(&p.w, l, a.crs) || (!fid && page_open(&p))) {
        writer_clear(&p.w);
        free(p.text.data);
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "out of memory");
    }
    int64_t matched = 0;
    int rc = GEODATA_OK;
    /* A member without a neighbourhood sees no needs or makers: an empty page. */
    if (!(l->members_only && audience->kind == GEODATA_AUDIENCE_NOBODY))
        rc = geodata_features_query(ctx->store, &q, add_feature, &p, fid ? NULL : &matched);
    json_t *feature = p.w.feature;   /* single: the one feature, filled */
    p.w.feature = NULL;
    if (rc) {
        json_decref(feature);
        free(p.text.data);
        return mapd_problem_geodata(ctx, rc);
    }
    snprintf(coll, sizeof coll, "%s/collections/%s", base, l->id);
    snprintf(items, sizeof items, "%s/items", coll);
    query_text rest = { .len = 0 };
    rest.buf[0] = '\0';
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, copy_arg, &rest);
    if (fid) {
        if (!p.returned) {
            json_decref(feature);
            return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such feature");
        }
        char self[sizeof items + 80 + URL_MAX];
        snprintf(self, sizeof self, "%s/%s%s%s", items, fid, rest.len ? "?" : "",
                 rest.len ? rest.buf + 1 : "");
        json_object_set_new(feature, "links", json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]",
            "href", self, "rel", "self", "type", "application/geo+json",
            "href", coll, "rel", "collection", "type", "application/json"));
        return mapd_ogc_respond(ctx, feature, "application/geo+json", l->members_only, crs_uri);
    }
    json_decref(feature);
    if (rest.overflow) {
        free(p.text.data);
        return mapd_problem(ctx, MHD_HTTP_URI_TOO_LONG, "URI Too Long", "the query is too long");
    }
    json_t *links = json_pack("[o, {s:s, s:s, s:s, s:s}]",
        page_link(items, &rest, a.limit, a.offset, "self", "This page"),
        "href", coll, "rel", "collection", "type", "application/json", "title", "The collection");
    if ((int64_t)a.offset + (int64_t)p.returned < matched)
        json_array_append_new(links, page_link(items, &rest, a.limit, a.offset + a.limit, "next",
                                               "The next page"));
    if (a.offset > 0)
        json_array_append_new(links, page_link(items, &rest, a.limit,
                                               a.offset > a.limit ? a.offset - a.limit : 0, "prev",
                                               "The previous page"));
    json_t *tail = json_pack("{s:I, s:I, s:o, s:o}", "numberMatched", (json_int_t)matched,
                             "numberReturned", (json_int_t)p.returned, "timeStamp",
                             time_json(ctx->now), "links", links);
    if (page_close(&p, tail)) {
        free(p.text.data);
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "out of memory");
    }
    if (keep)
        return send_kept(ctx, p.text.data, p.text.len, &key, hash, seq, crs_uri);
    return mapd_ogc_respond_text(ctx, p.text.data, p.text.len, "application/geo+json",
                                 l->members_only, crs_uri);
}
