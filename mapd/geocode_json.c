/*
 * mapd/geocode_json.c — geocoder results as the JSON objects of the
 * contract (fields in docs/geocoding.md), the same for `mapd geocode` and
 * GET /api/geocode, with the registration rule's verdict on the first.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geocode_json.h"

static const char *type_name(geodata_match_type t)
{
    return t == GEODATA_MATCH_HOUSENUMBER ? "housenumber" : t == GEODATA_MATCH_STREET ? "street"
                                                                                      : "none";
}

/* The house number as people write it: "12", or "12 bis" when r has a
 * suffix. The suffix word is the one the label spells after the number (the
 * geocoder's own b/t/q -> bis/ter/quater), or the stored suffix when the
 * label does not start with the number. Work: the label's first two words. */
static json_t *housenumber_json(const geodata_geocode_result *r)
{
    if (r->type != GEODATA_MATCH_HOUSENUMBER)
        return json_null();
    if (!r->rep || !*r->rep)
        return json_sprintf("%d", r->number);
    const char *word = r->rep;
    int word_len = (int)strlen(word);
    char digits[16];
    int nd = snprintf(digits, sizeof digits, "%d ", r->number);
    if (nd > 0 && (size_t)nd < sizeof digits && strncmp(r->label, digits, (size_t)nd) == 0) {
        word = r->label + nd;
        word_len = (int)strcspn(word, " ,");
    }
    return json_sprintf("%d %.*s", r->number, word_len, word);
}

static json_t *string_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* One result as the JSON object of the contract, with the verification it
 * carries; r NULL, or a result of type GEODATA_MATCH_NONE (the geocoder's way
 * to carry evidence of another town when nothing matches), gives the "none"
 * object. NULL when out of memory. */
static json_t *result_json(const char *query, const geodata_geocode_result *r, int verified,
                           const char *reason)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "query", query ? json_string(query) : json_null());
    if (!r || r->type == GEODATA_MATCH_NONE) {
        json_object_set_new(o, "label", json_null());
        json_object_set_new(o, "lon", json_null());
        json_object_set_new(o, "lat", json_null());
        json_object_set_new(o, "score", json_real(0));
        json_object_set_new(o, "type", json_string("none"));
        json_object_set_new(o, "address_id", json_null());
        json_object_set_new(o, "neighbourhood", json_null());
        json_object_set_new(o, "housenumber", json_null());
        json_object_set_new(o, "street", json_null());
        json_object_set_new(o, "postcode", json_null());
        json_object_set_new(o, "city", json_null());
        json_object_set_new(o, "approximate", json_false());
    } else {
        json_object_set_new(o, "label", json_string(r->label));
        json_object_set_new(o, "lon", json_real(r->lon));
        json_object_set_new(o, "lat", json_real(r->lat));
        json_object_set_new(o, "score", json_real(round(r->score * 1000) / 1000));
        json_object_set_new(o, "type", json_string(type_name(r->type)));
        json_object_set_new(o, "address_id", string_or_null(r->address_id));
        json_object_set_new(o, "neighbourhood",
                            r->neighbourhood_id
                                ? json_pack("{s:s, s:s}", "id", r->neighbourhood_id, "name",
                                            r->neighbourhood_name)
                                : json_null());
        json_object_set_new(o, "housenumber", housenumber_json(r));
        json_object_set_new(o, "street", string_or_null(r->street));
        json_object_set_new(o, "postcode", string_or_null(r->postcode));
        json_object_set_new(o, "city", string_or_null(r->city));
        json_object_set_new(o, "approximate", json_boolean(r->approximate));
    }
    json_object_set_new(o, "verified", json_boolean(verified));
    json_object_set_new(o, "reason", json_string(reason));
    return o;
}

/* The results of one query (res[0..n), best first) as a new array of the
 * contract's objects: the first `shown` of them, or the one "none" object
 * when n is 0. The registration rule is applied to the whole list of n, as
 * registration does (hence n may exceed shown): the first object carries its
 * outcome (a lone result of type none may thus say not_covered), every later
 * one verified false and reason "not_best". NULL when out of memory.
 * Work: O(n). */
json_t *mapd_geocode_json(const char *query, const geodata_geocode_result *res, size_t n,
                          size_t shown)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    if (n == 0) {
        if (json_array_append_new(arr, result_json(query, NULL, 0, "not_found"))) {
            json_decref(arr);
            return NULL;
        }
        return arr;
    }
    geodata_verify_status status = geodata_geocode_verify(res, n);
    for (size_t i = 0; i < n && i < shown; i++) {
        json_t *o = i == 0 ? result_json(query, &res[0], status == GEODATA_VERIFIED,
                                         geodata_verify_code(status))
                           : result_json(query, &res[i], 0, "not_best");
        if (json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

