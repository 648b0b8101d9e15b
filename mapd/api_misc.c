/*
 * mapd/api_misc.c — health, the OpenAPI document and geocoding (the
 * statistics are api_stats.c's).
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

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

/* GET /api/geocode?q=…[&limit=N][&autocomplete=0|1]: the results of
 * geodata_geocode (or, with autocomplete=1, of its autocompletion) as the
 * contract's objects, verified over as many results as registration sees.
 * A query the geocoder refuses before any search is a 400 whose detail is
 * its phrase; a NUL byte in q (%00), which would otherwise cut the query
 * silently, is refused as the control character it is. Work: one geocoder
 * search of at most 20 results. */
enum MHD_Result mapd_api_geocode(mapd_ctx *ctx)
{
    const char *q = NULL, *ac = mapd_arg(ctx, "autocomplete");
    size_t q_len = 0;
    if (MHD_lookup_connection_value_n(ctx->conn, MHD_GET_ARGUMENT_KIND, "q", 1, &q, &q_len) != MHD_YES
        || !q)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "give the address in q");
    long limit;
    if (mapd_long_arg_or_reply(ctx, "limit", 1, 20, 5, &limit))
        return MHD_YES;
    if (ac && strcmp(ac, "0") != 0 && strcmp(ac, "1") != 0)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "autocomplete is 0 or 1");
    const char *problem = strlen(q) != q_len ? geodata_geocode_query_problem("\x01") /* a NUL */
                                             : geodata_geocode_query_problem(q);
    if (problem)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", problem);
    geodata_geocode_result res[20 > MAPD_VERIFY_RESULTS ? 20 : MAPD_VERIFY_RESULTS];
    size_t n = 0, want = limit > MAPD_VERIFY_RESULTS ? (size_t)limit : MAPD_VERIFY_RESULTS;
    int rc = ac && strcmp(ac, "1") == 0
               ? geodata_geocode_autocomplete(ctx->server->geocoder, q, want, res, &n)
               : geodata_geocode(ctx->server->geocoder, q, want, res, &n);
    if (rc == GEODATA_EINVAL) /* not expected after the check above */
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "q cannot be searched");
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    /* as the command line: one "none" object when nothing matches */
    return mapd_respond_json(ctx, MHD_HTTP_OK, mapd_geocode_json(q, res, n, (size_t)limit), NULL);
}
