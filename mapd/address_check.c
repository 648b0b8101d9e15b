/*
 * mapd/address_check.c — the address rules of registration and shop creation
 * as HTTP answers: geocode the typed address, then either go on with the
 * results or reply 422 saying why, in the geocoder's own words and codes.
 *
 * Suggestions offered with a refusal are only results the geocoder says may
 * be offered (geodata_geocode_suggestible) and that would themselves verify a
 * home's neighbourhood; none at all when the query names a town or postcode
 * the service does not cover, so that a form never proposes a street of
 * another town that happens to bear the person's town's name.
 */
#include <stdio.h>

#include "http.h"

#define CANDIDATES_MAX 5

int mapd_geocode_address_or_reply(mapd_ctx *ctx, const char *address, geodata_geocode_result *res,
                                  size_t max, size_t *n, geodata_verify_status *why)
{
    *n = 0;
    int rc = geodata_geocode(ctx->server->geocoder, address, max, res, n);
    if (rc == GEODATA_EINVAL) {
        const char *problem = geodata_geocode_query_problem(address);
        char detail[128];
        snprintf(detail, sizeof detail, "'address': %s", problem ? problem : "cannot be searched");
        mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
        return -1;
    }
    if (rc) {
        mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                     "the address could not be searched now; try again");
        return -1;
    }
    *why = geodata_geocode_verify(res, *n);
    return 0;
}

/* The results of res[0..n) that may be offered instead of a refused address,
 * as a new array of {label, score}, at most CANDIDATES_MAX, best first; NULL
 * when there is none (or no memory). */
static json_t *candidates_json(geodata_verify_status why, const geodata_geocode_result *res,
                               size_t n)
{
    if (why == GEODATA_VERIFY_NOT_COVERED)
        return NULL;
    json_t *arr = NULL;
    for (size_t i = 0; i < n && json_array_size(arr) < CANDIDATES_MAX; i++) {
        if (!geodata_geocode_suggestible(&res[i]) || !res[i].neighbourhood_id)
            continue;
        if (!arr && !(arr = json_array()))
            return NULL;
        json_array_append_new(arr, json_pack("{s:s, s:f}", "label", res[i].label,
                                             "score", res[i].score));
    }
    return arr;
}

int mapd_home_or_reply(mapd_ctx *ctx, const char *address, geodata_geocode_result *res,
                       geodata_new_member *home)
{
    size_t n = 0;
    geodata_verify_status why;
    if (mapd_geocode_address_or_reply(ctx, address, res, MAPD_VERIFY_RESULTS, &n, &why))
        return -1;
    if (why != GEODATA_VERIFIED) {
        mapd_refuse_address(ctx, why, res, n, 1);
        return -1;
    }
    home->address_id = res[0].address_id;
    home->address_text = res[0].label;
    home->home_lon = res[0].lon;
    home->home_lat = res[0].lat;
    home->neighbourhood_id = res[0].neighbourhood_id;
    return 0;
}

enum MHD_Result mapd_refuse_address(mapd_ctx *ctx, geodata_verify_status why,
                                    const geodata_geocode_result *res, size_t n, int suggest)
{
    json_t *extra = json_pack("{s:s}", "reason", geodata_verify_code(why));
    json_t *cands = suggest && extra ? candidates_json(why, res, n) : NULL;
    if (cands)
        json_object_set_new(extra, "candidates", cands);
    return mapd_problem_with(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                             geodata_verify_reason(why), extra);
}
