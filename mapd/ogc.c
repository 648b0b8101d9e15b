/*
 * mapd/ogc.c — OGC API – Features, Parts 1 (core, GeoJSON, OpenAPI 3.0)
 * and 2 (CRS), under /ogc: the landing page, conformance, the OpenAPI
 * document, the collections, their queryables; and what the handlers share
 * (the base URL, argument checks, ETag responses). Features themselves are
 * in ogc_items.c, coordinate systems in ogc_crs.c.
 *
 * Collections are geodata's feature layers (geodata/features.h). Public
 * ones (shops, neighbourhoods) are listed for everyone; members-only ones
 * (needs, makers) are listed only for a logged-in reader (the session
 * cookie, as in the JSON API) and answer 401 to anonymous readers — so a
 * client without a session sees a consistent catalogue of what it can read,
 * and one asking for a members' collection learns why it gets nothing.
 *
 * The OpenAPI document is generated here from the same layer definitions
 * that the handlers obey, one path per collection with the parameters it
 * takes: what the document declares is exactly what is accepted (any other
 * argument is a 400).
 *
 * Links are absolute, built from the Host header as the client sent it (GDAL
 * and QGIS follow them as they are), with https when the server runs behind
 * TLS (--cookie-secure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "ogc.h"
#include "parse.h"

#define OAS_TYPE "application/vnd.oai.openapi+json;version=3.0"

static const char *const conformance_classes[] = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    NULL,
};

/* ---- shared helpers ---- */

void mapd_ogc_base(mapd_ctx *ctx, char out[MAPD_OGC_BASE_MAX])
{
    _Static_assert(MAPD_OGC_BASE_MAX >= MAPD_BASE_URL_MAX + 4, "room for the base URL and /ogc");
    mapd_base_url(ctx, out);
    strcat(out, "/ogc");
}

typedef struct arg_check {
    const char *const *allowed;
    const char *bad;           /* the first argument refused */
    const char *why;           /* and why */
    const char *seen[24];      /* the names met so far, for repeats */
    size_t n_seen;
} arg_check;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    arg_check *c = cls;
    int known = strcmp(key, "f") == 0;
    for (const char *const *a = c->allowed; !known && *a; a++)
        known = strcmp(*a, key) == 0;
    if (!known) {
        c->bad = key;
        c->why = "is not a parameter of this resource";
        return MHD_NO;
    }
    for (size_t i = 0; i < c->n_seen; i++)
        if (strcmp(c->seen[i], key) == 0) {
            c->bad = key;
            c->why = "is given more than once";
            return MHD_NO;
        }
    if (c->n_seen < sizeof c->seen / sizeof c->seen[0])
        c->seen[c->n_seen++] = key;
    if (strcmp(key, "f") == 0
        && !(value && (strcmp(value, "json") == 0 || strcmp(value, "geojson") == 0
                       || strcmp(value, "application/json") == 0
                       || strcmp(value, "application/geo+json") == 0))) {
        c->bad = key;
        c->why = "must be json (the only format served)";
        return MHD_NO;
    }
    return MHD_YES;
}

int mapd_ogc_args_or_reply(mapd_ctx *ctx, const char *const *allowed)
{
    arg_check c = { .allowed = allowed };
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, check_arg, &c);
    if (!c.bad)
        return 0;
    char detail[200];
    snprintf(detail, sizeof detail, "'%.60s' %s", c.bad, c.why);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

int mapd_ogc_layer_or_reply(mapd_ctx *ctx, const char *id, const geodata_layer **layer,
                            const geodata_audience **audience)
{
    *layer = geodata_layer_find(id);
    *audience = NULL;
    if (!*layer) {
        mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such collection");
        return -1;
    }
    if ((*layer)->members_only && !mapd_member_optional(ctx)) {
        mapd_problem(ctx, MHD_HTTP_UNAUTHORIZED, "Unauthorized",
                     "this collection is for members: log in first");
        return -1;
    }
    return (*audience = mapd_audience_or_reply(ctx)) ? 0 : -1;
}

char *mapd_ogc_dump(json_t *doc, size_t *len)
{
    char *body = doc ? json_dumps(doc, MAPD_OGC_JSON_FLAGS) : NULL;
    json_decref(doc);
    *len = body ? strlen(body) : 0;
    return body;
}

void mapd_ogc_etag(const char *body, size_t len, char etag[MAPD_OGC_ETAG_LEN])
{
    snprintf(etag, MAPD_OGC_ETAG_LEN, "\"%016llx\"", (unsigned long long)XXH3_64bits(body, len));
}

enum MHD_Result mapd_ogc_send(mapd_ctx *ctx, const char *body, size_t len, const char *etag,
                              const char *type, int private_, const char *crs_uri,
                              void (*release)(void *cls), void *cls)
{
    const char *inm = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    int not_modified = mapd_parse_if_none_match(inm, etag);
    struct MHD_Response *r = not_modified
        ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
        : MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)body, release, cls);
    if (not_modified || !r)
        release(cls);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            private_ ? "private, no-store" : "public, no-cache");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Cookie");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (crs_uri) {
        char h[128];
        snprintf(h, sizeof h, "<%s>", crs_uri);
        MHD_add_response_header(r, "Content-Crs", h);
    }
    unsigned status = not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    ctx->req->status = status;
    ctx->req->bytes = not_modified ? 0 : len;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result mapd_ogc_respond(mapd_ctx *ctx, json_t *doc, const char *type, int private_,
                                 const char *crs_uri)
{
    size_t len;
    char *body = mapd_ogc_dump(doc, &len);
    return mapd_ogc_respond_text(ctx, body, len, type, private_, crs_uri);
}

enum MHD_Result mapd_ogc_respond_text(mapd_ctx *ctx, char *body, size_t len, const char *type,
                                      int private_, const char *crs_uri)
{
    if (!body)
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "out of memory");
    char etag[MAPD_OGC_ETAG_LEN];
    mapd_ogc_etag(body, len, etag);
    return mapd_ogc_send(ctx, body, len, etag, type, private_, crs_uri, free, body);
}

static json_t *link_json(const char *href, const char *rel, const char *type, const char *title)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "href", href, "rel", rel, "type", type, "title", title);
}

/* "base" + suffix, as a JSON string link. */
static json_t *linkf(const char *base, const char *suffix, const char *rel, const char *type,
                     const char *title)
{
    char href[MAPD_OGC_BASE_MAX + 160];
    snprintf(href, sizeof href, "%s%s", base, suffix);
    return link_json(href, rel, type, title);
}

/* 1 when the reader of ctx may read layer (members-only layers: a session). */
static int readable(mapd_ctx *ctx, const geodata_layer *layer)
{
    return !layer->members_only || mapd_member_optional(ctx) != NULL;
}

static const char *const no_args[] = { NULL };

/* ---- landing, conformance ---- */

enum MHD_Result mapd_ogc_landing(mapd_ctx *ctx)
{
    if (mapd_ogc_args_or_reply(ctx, no_args))
        return MHD_YES;
    char base[MAPD_OGC_BASE_MAX];
    mapd_ogc_base(ctx, base);
    json_t *doc = json_pack("{s:s, s:s, s:[o, o, o, o]}",
        "title", "Entraide — OGC API – Features",
        "description", "Neighbourhoods, shops and, for members, the needs and mask makers of "
                       "their area, for GIS software (GDAL, QGIS, OWSLib).",
        "links",
        linkf(base, "", "self", "application/json", "This document"),
        linkf(base, "/api", "service-desc", OAS_TYPE, "The API definition (OpenAPI 3.0)"),
        linkf(base, "/conformance", "conformance", "application/json",
              "The conformance classes implemented"),
        linkf(base, "/collections", "data", "application/json", "The collections"));
    return mapd_ogc_respond(ctx, doc, "application/json", 0, NULL);
}

enum MHD_Result mapd_ogc_conformance(mapd_ctx *ctx)
{
    if (mapd_ogc_args_or_reply(ctx, no_args))
        return MHD_YES;
    json_t *list = json_array();
    for (const char *const *c = conformance_classes; *c; c++)
        json_array_append_new(list, json_string(*c));
    return mapd_ogc_respond(ctx, json_pack("{s:o}", "conformsTo", list), "application/json", 0, NULL);
}

/* ---- collections ---- */

static json_t *crs_list(void)
{
    json_t *a = json_array();
    for (int i = 0; i < MAPD_CRS_COUNT; i++)
        json_array_append_new(a, json_string(mapd_ogc_crs_uri((mapd_ogc_crs)i)));
    return a;
}

static json_t *collection_json(mapd_ctx *ctx, const char *base, const geodata_layer *l, int *rc)
{
    char self[MAPD_OGC_BASE_MAX + 64], items[MAPD_OGC_BASE_MAX + 96], q[MAPD_OGC_BASE_MAX + 96];
    snprintf(self, sizeof self, "%s/collections/%s", base, l->id);
    snprintf(items, sizeof items, "%s/items", self);
    snprintf(q, sizeof q, "%s/queryables", self);
    double box[4];
    *rc = geodata_layer_extent(ctx->store, l, box);
    if (*rc == GEODATA_ENOTFOUND) {
        /* An empty layer: the extent of the neighbourhoods, or the world. */
        *rc = geodata_layer_extent(ctx->store, &geodata_layers[GEODATA_LAYERS - 1], box);
        if (*rc == GEODATA_ENOTFOUND) {
            box[0] = -180; box[1] = -90; box[2] = 180; box[3] = 90;
            *rc = 0;
        }
    }
    if (*rc)
        return NULL;
    json_t *extent = json_pack("{s:{s:[[f, f, f, f]], s:s}}", "spatial", "bbox", box[0], box[1],
                               box[2], box[3], "crs", MAPD_CRS84_URI);
    if (extent && l->time_field)
        json_object_set_new(extent, "temporal", json_pack("{s:[[n, n]], s:s}", "interval", "trs",
                            "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"));
    return json_pack("{s:s, s:s, s:s, s:[o, o, o], s:o, s:s, s:o, s:s}",
        "id", l->id, "title", l->title, "description", l->description,
        "links",
        link_json(self, "self", "application/json", "This collection"),
        link_json(items, "items", "application/geo+json", "Its features"),
        link_json(q, "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json",
             "What its features can be filtered on"),
        "extent", extent, "itemType", "feature", "crs", crs_list(), "storageCrs", MAPD_CRS84_URI);
}

enum MHD_Result mapd_ogc_collections(mapd_ctx *ctx)
{
    if (mapd_ogc_args_or_reply(ctx, no_args))
        return MHD_YES;
    char base[MAPD_OGC_BASE_MAX];
    mapd_ogc_base(ctx, base);
    json_t *list = json_array();
    int any_private = 0;
    for (size_t i = 0; i < GEODATA_LAYERS; i++) {
        const geodata_layer *l = &geodata_layers[i];
        if (!readable(ctx, l))
            continue;
        any_private |= l->members_only;
        int rc;
        json_t *c = collection_json(ctx, base, l, &rc);
        if (!c) {
            json_decref(list);
            return rc ? mapd_problem_geodata(ctx, rc) : MHD_NO;
        }
        json_array_append_new(list, c);
    }
    json_t *doc = json_pack("{s:[o], s:o, s:o}", "links",
                            linkf(base, "/collections", "self", "application/json", "This document"),
                            "crs", crs_list(), "collections", list);
    return mapd_ogc_respond(ctx, doc, "application/json", any_private, NULL);
}

static json_t *field_schema(const geodata_field *f)
{
    static const char *const types[] = { "integer", "number", "string", "boolean", "string" };
    json_t *s = json_pack("{s:s, s:s, s:s}", "title", f->name, "description", f->description,
                          "type", types[f->type]);
    if (f->type == GEODATA_FIELD_DATETIME)
        json_object_set_new(s, "format", json_string("date-time"));
    if (f->values) {
        json_t *e = json_array();
        for (const char *const *v = f->values; *v; v++)
            json_array_append_new(e, json_string(*v));
        json_object_set_new(s, "enum", e);
    }
    return s;
}

/* GET /ogc/collections/{id}/queryables: the filterable fields as a JSON
 * Schema. */
static enum MHD_Result queryables(mapd_ctx *ctx, const char *base, const geodata_layer *l)
{
    char id[MAPD_OGC_BASE_MAX + 64];
    snprintf(id, sizeof id, "%s/collections/%s/queryables", base, l->id);
    json_t *props = json_object();
    for (size_t i = 0; i < l->n_fields; i++)
        if (l->fields[i].flags & GEODATA_FIELD_FILTER)
            json_object_set_new(props, l->fields[i].name, field_schema(&l->fields[i]));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}",
        "$schema", "https://json-schema.org/draft/2019-09/schema", "$id", id, "type", "object",
        "title", l->title, "properties", props, "additionalProperties", 0);
    return mapd_ogc_respond(ctx, doc, "application/schema+json", l->members_only, NULL);
}

/* GET /ogc/collections/{id}[/items[/{fid}] | /queryables]. */
enum MHD_Result mapd_ogc_collection(mapd_ctx *ctx)
{
    const char *rest = ctx->url + strlen("/ogc/collections/");
    const char *slash = strchr(rest, '/');
    size_t id_len = slash ? (size_t)(slash - rest) : strlen(rest);
    char id[64];
    if (id_len == 0 || id_len >= sizeof id)
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such collection");
    memcpy(id, rest, id_len);
    id[id_len] = '\0';
    const char *sub = slash ? slash + 1 : NULL;  /* after "{id}/" */
    const geodata_layer *l;
    const geodata_audience *audience;
    if (mapd_ogc_layer_or_reply(ctx, id, &l, &audience))
        return MHD_YES;
    char base[MAPD_OGC_BASE_MAX];
    mapd_ogc_base(ctx, base);
    if (!sub) {
        if (mapd_ogc_args_or_reply(ctx, no_args))
            return MHD_YES;
        int rc;
        json_t *c = collection_json(ctx, base, l, &rc);
        if (!c)
            return rc ? mapd_problem_geodata(ctx, rc) : MHD_NO;
        return mapd_ogc_respond(ctx, c, "application/json", l->members_only, NULL);
    }
    if (strcmp(sub, "queryables") == 0) {
        if (mapd_ogc_args_or_reply(ctx, no_args))
            return MHD_YES;
        return queryables(ctx, base, l);
    }
    if (strcmp(sub, "items") == 0)
        return mapd_ogc_items(ctx, l, audience, NULL);
    if (strncmp(sub, "items/", 6) == 0 && sub[6] && !strchr(sub + 6, '/'))
        return mapd_ogc_items(ctx, l, audience, sub + 6);
    return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such resource");
}

/* ---- the OpenAPI document ---- */

static json_t *ref(const char *name)
{
    char r[128];
    snprintf(r, sizeof r, "#/components/parameters/%s", name);
    return json_pack("{s:s}", "$ref", r);
}

static json_t *response(const char *description, const char *type, const char *schema)
{
    char r[128];
    snprintf(r, sizeof r, "#/components/schemas/%s", schema);
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", description, "content", type,
                     "schema", "$ref", r);
}

static json_t *problem_response(const char *description)
{
    return response(description, "application/problem+json", "problem");
}

static json_t *get_op(const char *id, const char *summary, json_t *params, json_t *responses)
{
    json_object_set_new(responses, "400", problem_response("Bad request: the detail says what"));
    return json_pack("{s:{s:s, s:s, s:o, s:o}}", "get", "operationId", id, "summary", summary,
                     "parameters", params, "responses", responses);
}

static json_t *crs_enum(void)
{
    json_t *e = crs_list();
    return json_pack("{s:s, s:o, s:s}", "type", "string", "enum", e, "default", MAPD_CRS84_URI);
}

static json_t *components(void)
{
    json_t *p = json_object();
    json_object_set_new(p, "f", json_pack("{s:s, s:s, s:s, s:b, s:{s:s, s:[s, s], s:s}}",
        "name", "f", "in", "query", "description", "The format: JSON (the only one).", "required", 0,
        "schema", "type", "string", "enum", "json", "geojson", "default", "json"));
    json_object_set_new(p, "limit", json_pack("{s:s, s:s, s:s, s:b, s:s, s:b, s:{s:s, s:i, s:i, s:i}}",
        "name", "limit", "in", "query", "description",
        "The most features in the page; above 10000 the page holds 10000.", "required", 0,
        "style", "form", "explode", 0,
        "schema", "type", "integer", "minimum", 1, "maximum", 10000, "default", 10));
    json_object_set_new(p, "offset", json_pack("{s:s, s:s, s:s, s:b, s:{s:s, s:i, s:i}}",
        "name", "offset", "in", "query", "description",
        "The features to skip, in the collection's order (by id): next links use it.",
        "required", 0, "schema", "type", "integer", "minimum", 0, "default", 0));
    json_object_set_new(p, "bbox", json_pack("{s:s, s:s, s:s, s:b, s:s, s:b, s:{s:s, s:i, s:i, "
        "s:{s:s}}}", "name", "bbox", "in", "query", "description",
        "Features that meet the box: minimums then maximums in bbox-crs (CRS84 lon/lat by "
        "default; 4 numbers, or 6 with heights, which are ignored).", "required", 0,
        "style", "form", "explode", 0, "schema", "type", "array", "minItems", 4, "maxItems", 6,
        "items", "type", "number"));
    json_object_set_new(p, "bbox-crs", json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", "bbox-crs",
        "in", "query", "description", "The CRS of bbox.", "required", 0, "schema", crs_enum()));
    json_object_set_new(p, "crs", json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", "crs", "in", "query",
        "description", "The CRS of the geometries returned.", "required", 0, "schema", crs_enum()));
    json_object_set_new(p, "datetime", json_pack("{s:s, s:s, s:s, s:b, s:{s:s}}", "name", "datetime",
        "in", "query", "description",
        "When the features were created: an RFC 3339 date-time, or an interval start/end where "
        "either end may be .. (open).", "required", 0, "schema", "type", "string"));
    json_object_set_new(p, "collectionId", json_pack("{s:s, s:s, s:b, s:{s:s}}", "name",
        "collectionId", "in", "path", "required", 1, "schema", "type", "string"));
    json_object_set_new(p, "featureId", json_pack("{s:s, s:s, s:s, s:b, s:{s:s}}", "name",
        "featureId", "in", "path", "description", "The feature's id.", "required", 1,
        "schema", "type", "string"));
    json_t *s = json_object();
    json_object_set_new(s, "problem", json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}",
        "type", "object", "properties", "type", "type", "string", "title", "type", "string",
        "status", "type", "integer", "detail", "type", "string"));
    json_object_set_new(s, "document", json_pack("{s:s, s:b}", "type", "object",
                                                 "additionalProperties", 1));
    json_object_set_new(s, "featureCollection", json_pack(
        "{s:s, s:[s, s], s:{s:{s:s, s:[s]}, s:{s:s, s:{s:s}}, s:{s:s}, s:{s:s, s:i}, s:{s:s, s:i}, "
        "s:{s:s, s:s}}}", "type", "object", "required", "type", "features", "properties",
        "type", "type", "string", "enum", "FeatureCollection", "features", "type", "array",
        "items", "$ref", "#/components/schemas/feature", "links", "type", "array",
        "numberMatched", "type", "integer", "minimum", 0, "numberReturned", "type", "integer",
        "minimum", 0, "timeStamp", "type", "string", "format", "date-time"));
    json_object_set_new(s, "feature", json_pack(
        "{s:s, s:[s, s, s], s:{s:{s:s, s:[s]}, s:{s:s}, s:{s:s, s:b}, s:{s:s, s:b}}}",
        "type", "object", "required", "type", "geometry", "properties", "properties",
        "type", "type", "string", "enum", "Feature", "id", "type", "string",
        "geometry", "type", "object", "nullable", 1, "properties", "type", "object", "nullable", 1));
    return json_pack("{s:o, s:o}", "parameters", p, "schemas", s);
}

enum MHD_Result mapd_ogc_api(mapd_ctx *ctx)
{
    if (mapd_ogc_args_or_reply(ctx, no_args))
        return MHD_YES;
    char base[MAPD_OGC_BASE_MAX];
    mapd_ogc_base(ctx, base);
    json_t *paths = json_object();
    json_object_set_new(paths, "/", get_op("getLandingPage", "The landing page", json_pack("[o]",
        ref("f")), json_pack("{s:o}", "200", response("The landing page", "application/json",
        "document"))));
    json_object_set_new(paths, "/conformance", get_op("getConformance", "The conformance classes",
        json_pack("[o]", ref("f")), json_pack("{s:o}", "200", response("The conformance classes",
        "application/json", "document"))));
    json_object_set_new(paths, "/api", get_op("getApi", "This document", json_pack("[o]", ref("f")),
        json_pack("{s:o}", "200", response("This document", OAS_TYPE, "document"))));
    json_object_set_new(paths, "/collections", get_op("getCollections", "The collections "
        "(members-only ones for a logged-in member)", json_pack("[o]", ref("f")),
        json_pack("{s:o}", "200", response("The collections", "application/json", "document"))));
    for (size_t i = 0; i < GEODATA_LAYERS; i++) {
        const geodata_layer *l = &geodata_layers[i];
        char path[128], opid[96], summary[160];
        json_t *unauth = l->members_only ? problem_response("Members only: log in first") : NULL;
        snprintf(path, sizeof path, "/collections/%s", l->id);
        snprintf(opid, sizeof opid, "describe_%s", l->id);
        snprintf(summary, sizeof summary, "The %s collection", l->id);
        json_t *r = json_pack("{s:o, s:o}", "200", response("The collection", "application/json",
                              "document"), "404", problem_response("No such collection"));
        if (unauth)
            json_object_set(r, "401", unauth);
        json_object_set_new(paths, path, get_op(opid, summary, json_pack("[o]", ref("f")), r));

        snprintf(path, sizeof path, "/collections/%s/queryables", l->id);
        snprintf(opid, sizeof opid, "queryables_%s", l->id);
        snprintf(summary, sizeof summary, "What the %s can be filtered on", l->id);
        r = json_pack("{s:o}", "200", response("A JSON Schema", "application/schema+json", "document"));
        if (unauth)
            json_object_set(r, "401", unauth);
        json_object_set_new(paths, path, get_op(opid, summary, json_pack("[o]", ref("f")), r));

        json_t *params = json_pack("[o, o, o, o, o, o]", ref("f"), ref("limit"), ref("offset"),
                                   ref("bbox"), ref("bbox-crs"), ref("crs"));
        if (l->time_field)
            json_array_append_new(params, ref("datetime"));
        for (size_t k = 0; k < l->n_fields; k++)
            if (l->fields[k].flags & GEODATA_FIELD_FILTER) {
                json_t *schema = field_schema(&l->fields[k]);
                json_object_del(schema, "title");
                json_object_del(schema, "description");
                json_array_append_new(params, json_pack("{s:s, s:s, s:s, s:b, s:o}", "name",
                    l->fields[k].name, "in", "query", "description", l->fields[k].description,
                    "required", 0, "schema", schema));
            }
        snprintf(path, sizeof path, "/collections/%s/items", l->id);
        snprintf(opid, sizeof opid, "getFeatures_%s", l->id);
        snprintf(summary, sizeof summary, "The features of %s, a page at a time", l->id);
        r = json_pack("{s:o}", "200", response("A page of features", "application/geo+json",
                      "featureCollection"));
        if (unauth)
            json_object_set(r, "401", unauth);
        json_object_set_new(paths, path, get_op(opid, summary, params, r));

        snprintf(path, sizeof path, "/collections/%s/items/{featureId}", l->id);
        snprintf(opid, sizeof opid, "getFeature_%s", l->id);
        snprintf(summary, sizeof summary, "One feature of %s", l->id);
        r = json_pack("{s:o, s:o}", "200", response("The feature", "application/geo+json", "feature"),
                      "404", problem_response("No such feature"));
        if (unauth)
            json_object_set(r, "401", unauth);
        json_object_set_new(paths, path, get_op(opid, summary, json_pack("[o, o, o]",
                            ref("featureId"), ref("f"), ref("crs")), r));
        json_decref(unauth);
    }
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:o}",
        "openapi", "3.0.3",
        "info", "title", "Entraide — OGC API – Features", "version", "1.0.0", "description",
        "Neighbourhoods and shops for everyone; needs and mask makers for members (session "
        "cookie from POST /api/session), at coarse public points.",
        "servers", "url", base, "paths", paths, "components", components());
    return mapd_ogc_respond(ctx, doc, OAS_TYPE, 0, NULL);
}
