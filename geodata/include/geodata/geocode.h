/*
 * geodata/geocode.h — addresses typed by people, matched against the address
 * base; and the rule that verifies a member's home.
 *
 * The geocoder is built once from the store and then only read: one geocoder
 * may serve every thread at once. Results point into it and stay valid until
 * it is freed.
 */
#ifndef GEODATA_GEOCODE_H
#define GEODATA_GEOCODE_H

#include <stddef.h>

#include "geodata/store.h"

typedef struct geodata_geocoder geodata_geocoder;

typedef enum {
    GEODATA_MATCH_NONE,         /* nothing acceptable */
    GEODATA_MATCH_STREET,       /* the street, not the number (absent, or not given) */
    GEODATA_MATCH_HOUSENUMBER,  /* that number exists on that street */
} geodata_match_type;

#define GEODATA_LABEL_MAX 400   /* fits any stored number, suffix, street, postcode and city */

typedef struct geodata_geocode_result {
    geodata_match_type type;
    double score;                 /* 0..1 */
    double lon, lat;              /* EPSG:4326; for a street, one of its address points */
    const char *address_id;       /* the source id of the matched address, or NULL */
    const char *neighbourhood_id; /* NULL when outside every neighbourhood */
    const char *neighbourhood_name;
    double distance_m;            /* reverse geocoding: metres from the asked point */
    int number;                   /* house number, or 0 for a street */
    const char *rep;              /* its suffix ("" when none) */
    const char *street, *postcode, *city;  /* owned by the geocoder */
    char label[GEODATA_LABEL_MAX];/* "12 bis Rue de la Roquette, 75011 Paris 11e Arrondissement" */
} geodata_geocode_result;

/* Builds a geocoder from every address of the store. Work: one pass over the
 * addresses plus sorting; about 0.6 s and 12 MB for 158,000 addresses. */
int geodata_geocoder_load(geodata_store *store, geodata_geocoder **out);
void geodata_geocoder_free(geodata_geocoder *g);

/* Number of addresses held. */
size_t geodata_geocoder_count(const geodata_geocoder *g);

/*
 * Geocodes query (UTF-8) into at most limit results, best first, and sets *n.
 * No acceptable match gives *n = 0 and GEODATA_OK. A query that is not valid
 * UTF-8, or longer than 512 bytes, gives GEODATA_EINVAL. Work: bounded by the
 * query's tokens and the few hundred streets its rarest words point to.
 */
int geodata_geocode(const geodata_geocoder *g, const char *query, size_t limit,
                    geodata_geocode_result *results, size_t *n);

/* The address nearest to (lon, lat), within max_m metres; GEODATA_ENOTFOUND
 * when there is none. Work: the grid cells within max_m. */
int geodata_geocode_reverse(const geodata_geocoder *g, double lon, double lat, double max_m,
                            geodata_geocode_result *result);

/* The verification rule (docs/geocoding.md): an address verifies a member when
 * the best result is a house number, scores at least GEODATA_VERIFY_MIN_SCORE,
 * lies in a neighbourhood, and no other house number scores within
 * GEODATA_VERIFY_MARGIN of it. */
#define GEODATA_VERIFY_MIN_SCORE 0.80
#define GEODATA_VERIFY_MARGIN    0.05

typedef enum {
    GEODATA_VERIFIED = 0,
    GEODATA_VERIFY_NOT_FOUND,      /* no result, or only a street */
    GEODATA_VERIFY_LOW_SCORE,      /* a house number, but not a confident one */
    GEODATA_VERIFY_AMBIGUOUS,      /* several house numbers match about as well */
    GEODATA_VERIFY_OUTSIDE,        /* the address is in no neighbourhood */
} geodata_verify_status;

/* Applies the rule to results (as returned by geodata_geocode, best first). */
geodata_verify_status geodata_geocode_verify(const geodata_geocode_result *results, size_t n);

/* A short English phrase for a status, e.g. "ambiguous address". */
const char *geodata_verify_reason(geodata_verify_status status);

#endif
