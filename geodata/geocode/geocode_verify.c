/*
 * geodata/geocode/geocode_verify.c — the rule that verifies a member's home from the
 * results of their typed address (docs/geocoding.md, "The verification
 * rule"), and what may be suggested to them when it refuses.
 *
 * The rule reads only the results: their type, score, neighbourhood and the
 * evidence the search found in the query's own words (geocode_search.c).
 * Evidence of another town comes first: whatever the street words matched,
 * a query that names a town or postcode the address base does not hold, or
 * whose town and postcode disagree, never verifies.
 */
#include <stddef.h>

#include "geodata/geocode.h"

#define TOWN_EVIDENCE (GEODATA_EVIDENCE_OTHER_TOWN | GEODATA_EVIDENCE_OTHER_POSTCODE \
                       | GEODATA_EVIDENCE_CONTRADICTION)

geodata_verify_status geodata_geocode_verify(const geodata_geocode_result *r, size_t n)
{
    if (n == 0)
        return GEODATA_VERIFY_NOT_FOUND;
    if (r[0].evidence & TOWN_EVIDENCE)
        return GEODATA_VERIFY_NOT_COVERED;
    if (r[0].type != GEODATA_MATCH_HOUSENUMBER)
        return GEODATA_VERIFY_NOT_FOUND;
    if (r[0].approximate)
        return GEODATA_VERIFY_APPROXIMATE;
    if (r[0].score < GEODATA_VERIFY_MIN_SCORE
        || (r[0].evidence & (GEODATA_EVIDENCE_UNEXPLAINED | GEODATA_EVIDENCE_RESPELT)))
        return GEODATA_VERIFY_LOW_SCORE;
    for (size_t i = 1; i < n; i++)
        if (r[i].type == GEODATA_MATCH_HOUSENUMBER && r[0].score - r[i].score < GEODATA_VERIFY_MARGIN
            && r[i].address_id != r[0].address_id)
            return GEODATA_VERIFY_AMBIGUOUS;
    if (!r[0].neighbourhood_id)
        return GEODATA_VERIFY_OUTSIDE;
    return GEODATA_VERIFIED;
}

int geodata_geocode_suggestible(const geodata_geocode_result *r)
{
    return r->type == GEODATA_MATCH_HOUSENUMBER && !r->approximate
        && !(r->evidence & ~(unsigned)GEODATA_EVIDENCE_RESPELT) && r->typed_number == r->number;
}

const char *geodata_verify_reason(geodata_verify_status status)
{
    switch (status) {
    case GEODATA_VERIFIED: return "verified";
    case GEODATA_VERIFY_NOT_FOUND: return "address not found";
    case GEODATA_VERIFY_LOW_SCORE: return "address not recognised with confidence";
    case GEODATA_VERIFY_AMBIGUOUS: return "ambiguous address";
    case GEODATA_VERIFY_OUTSIDE: return "address outside every neighbourhood";
    case GEODATA_VERIFY_NOT_COVERED:
        return "address in a town or postcode outside the area the service covers";
    case GEODATA_VERIFY_APPROXIMATE: return "this house number is not in the address base";
    }
    return "unknown";
}

const char *geodata_verify_code(geodata_verify_status status)
{
    switch (status) {
    case GEODATA_VERIFIED: return "verified";
    case GEODATA_VERIFY_NOT_FOUND: return "not_found";
    case GEODATA_VERIFY_LOW_SCORE: return "uncertain";
    case GEODATA_VERIFY_AMBIGUOUS: return "ambiguous";
    case GEODATA_VERIFY_OUTSIDE: return "outside";
    case GEODATA_VERIFY_NOT_COVERED: return "not_covered";
    case GEODATA_VERIFY_APPROXIMATE: return "approximate";
    }
    return "unknown";
}
