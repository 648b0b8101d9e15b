/*
 * mapd/geocode_json.h — geocoder results as the JSON objects of the
 * contract, for the command line and the API alike (geocode_json.c).
 */
#ifndef MAPD_GEOCODE_JSON_H
#define MAPD_GEOCODE_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "geodata/geocode.h"

/* How many results of a query the verification rule is given, wherever it
 * is applied (registration, shops, `mapd user add`, the geocode JSON): the
 * rule looks past the best one for rivals, so fewer could let an ambiguous
 * address verify. */
#define MAPD_VERIFY_RESULTS 5

/* The results of one query (res[0..n), best first, n being at least
 * MAPD_VERIFY_RESULTS when the geocoder found that many) as a new JSON array
 * of the contract's objects: the first `shown` of them, the first carrying the
 * verification of the whole list; the one "none" object when n is 0.
 * NULL when out of memory. Work: O(n). */
json_t *mapd_geocode_json(const char *query, const geodata_geocode_result *res, size_t n,
                          size_t shown);

#endif
