/*
 * mapd/api_misc.c — health, the OpenAPI document, geocoding and public
 * statistics.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "geodata/posts.h"

extern const char mapd_openapi_json[];   /* openapi.c, generated from openapi.json */

enum MHD_Result mapd_api_healthz(mapd_ctx *ctx)
{
    int version = 0;
    if (geodata_store_schema_version(ctx->store, &version))
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the database does not answer");
    return mapd_respond_json(ctx, MHD_HTTP_OK,
                             json_pack("{s:s, s:i, s:I}", "status", "ok", "schema_version", version,
                                       "addresses", (json_int_t)geodata_geocoder_count(ctx->server->geocoder)),
                             NULL);
}

enum MHD_Result mapd_api_openapi(mapd_ctx *ctx)
{
    return mapd_respond(ctx, MHD_HTTP_OK, "application/json", mapd_openapi_json,
                        strlen(mapd_openapi_json));
}

enum MHD_Result mapd_api_geocode(mapd_ctx *ctx)
{
    const char *q = mapd_arg(ctx, "q"), *limit_s = mapd_arg(ctx, "limit");
    if (!q || !*q)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "give the address in q");
    long limit = 5;
    if (limit_s) {
        char *end;
        limit = strtol(limit_s, &end, 10);
        if (*end || limit < 1 || limit > 20)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "limit is 1 to 20");
    }
    geodata_geocode_result res[20];
    size_t n = 0;
    if (geodata_geocode(ctx->server->geocoder, q, (size_t)limit, res, &n))
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                            "q must be valid UTF-8 of at most 512 bytes");
    /* as the command line: one "none" object when nothing matches */
    return mapd_respond_json(ctx, MHD_HTTP_OK, mapd_geocode_json(q, res, n), NULL);
}

static int add_count(void *arg, const char *nb, const char *category, int64_t n)
{
    json_t *by_nb = arg;
    json_t *cats = json_object_get(by_nb, nb);
    if (!cats) {
        cats = json_object();
        json_object_set_new(by_nb, nb, cats);
    }
    json_object_set_new(cats, category, json_integer(n));
    return 0;
}

/* Open needs per neighbourhood and category: all an anonymous visitor sees
 * of the posts. */
enum MHD_Result mapd_api_stats(mapd_ctx *ctx)
{
    json_t *by_nb = json_object();
    int rc = geodata_post_counts(ctx->store, ctx->now, add_count, by_nb);
    if (rc) {
        json_decref(by_nb);
        return mapd_problem_geodata(ctx, rc);
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:o}", "open_posts", by_nb), NULL);
}
