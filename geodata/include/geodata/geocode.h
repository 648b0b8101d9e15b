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
    GEODATA_MATCH_HOUSENUMBER,  /* that number exists on that street (see approximate) */
} geodata_match_type;

/* What the words of a query say against a result, beyond its score: each is
 * a reason never to verify it (docs/geocoding.md, "Word roles"). */
enum {
    GEODATA_EVIDENCE_OTHER_TOWN     = 1 << 0, /* names a town the address base does not hold */
    GEODATA_EVIDENCE_OTHER_POSTCODE = 1 << 1, /* a postcode the base does not hold, not a typo of this one */
    GEODATA_EVIDENCE_CONTRADICTION  = 1 << 2, /* postcode and town of the query disagree, or name
                                                 another held town than the result's */
    GEODATA_EVIDENCE_UNEXPLAINED    = 1 << 3, /* a word that is neither of the street nor of the town */
    GEODATA_EVIDENCE_RESPELT        = 1 << 4, /* a word the base knows, read as a typo of another
                                                 ("gare" for Mare): a spelling fix, not verified */
};

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
    int approximate;              /* 1: the nearest number or suffix held on the street, not
                                     the one typed (type is HOUSENUMBER; never verifies) */
    int typed_number;             /* the house number typed, or -1 */
    unsigned evidence;            /* GEODATA_EVIDENCE_* flags */
    const char *rep;              /* its suffix ("" when none) */
    const char *street, *postcode, *city;  /* owned by the geocoder */
    char label[GEODATA_LABEL_MAX];/* "12 bis Rue de la Roquette, 75011 Paris 11e Arrondissement" */
} geodata_geocode_result;

/* Builds a geocoder from every address of the store. Work: one pass over the
 * addresses plus sorting; about 0.6 s and 12 MB for 158,000 addresses, a
 * minute and a half and 1.9 GB for 26 million. */
int geodata_geocoder_load(geodata_store *store, geodata_geocoder **out);

/* How geodata_geocoder_open got its index. */
typedef enum {
    GEODATA_GEOCODER_MAPPED,        /* the index file, current, mapped */
    GEODATA_GEOCODER_BUILT,         /* built from the store, and the file written */
    GEODATA_GEOCODER_BUILT_UNSAVED  /* built, but the file could not be written: why is in
                                       geodata_errmsg(store); it is built again next time */
} geodata_geocoder_origin;

/* The geocoder of the store, from its index file (DB.geocoder) when that
 * was built from the store as it is now, else built (geodata_geocoder_load)
 * and the file written for the next opening (geocoder_file.c says how a
 * stale file is told). *origin (may be NULL) says which. Work: mapping the
 * file and reading the neighbourhoods, or a build and a write. */
int geodata_geocoder_open(geodata_store *store, geodata_geocoder **out,
                          geodata_geocoder_origin *origin);

/* Brings the store's index file up to date (built and written if stale).
 * The imports call it after a change of addresses or neighbourhoods. */
int geodata_geocoder_refresh(geodata_store *store, geodata_geocoder_origin *origin);

void geodata_geocoder_free(geodata_geocoder *g);

/* Number of addresses held. */
size_t geodata_geocoder_count(const geodata_geocoder *g);

/*
 * Geocodes query (UTF-8) into at most limit results, best first, and sets *n.
 * No acceptable match gives *n = 0 and GEODATA_OK, or, when the query names a
 * town or postcode the address base does not cover, one result of type
 * GEODATA_MATCH_NONE that carries that evidence (and no address). A query
 * refused by geodata_geocode_query_problem() gives GEODATA_EINVAL. Each
 * result's evidence says what the query's own words hold against it
 * (docs/geocoding.md, "Word roles"). Work: bounded by the query's tokens and
 * the few thousand streets its rarest words point to.
 */
int geodata_geocode(const geodata_geocoder *g, const char *query, size_t limit,
                    geodata_geocode_result *results, size_t *n);

/*
 * As geodata_geocode, for a query being typed: its last word may be the first
 * letters of a word ("7 rue montorg" finds 7 Rue Montorgueil). Results are
 * ranked by how much of the typed text they explain. For suggestions only:
 * verification runs on the full address the person confirms. Work: as
 * geodata_geocode, plus the vocabulary words the prefix begins (bounded).
 */
int geodata_geocode_autocomplete(const geodata_geocoder *g, const char *query, size_t limit,
                                 geodata_geocode_result *results, size_t *n);

/* Why a query is refused before any search, as a short English phrase ("the
 * query is empty", "... longer than 512 bytes", "... not valid UTF-8",
 * "... holds control characters"), or NULL when it may be searched. The two
 * functions above give GEODATA_EINVAL exactly when this is not NULL. */
const char *geodata_geocode_query_problem(const char *query);

/* The address nearest to (lon, lat), within max_m metres; GEODATA_ENOTFOUND
 * when there is none. Work: the grid cells within max_m. */
int geodata_geocode_reverse(const geodata_geocoder *g, double lon, double lat, double max_m,
                            geodata_geocode_result *result);

/* An address point as the geocoder holds it; the strings belong to it. */
typedef struct geodata_address_point {
    double lon, lat;
    int number;
    const char *rep;              /* "" or the suffix word: bis, ter, quater, a letter */
    const char *street;
} geodata_address_point;

/* Calls fn(arg, point) for every address whose point lies in box (west,
 * south, east, north, in degrees; edges included), cell by cell of the
 * reverse grid, until fn returns non-zero, which is returned. The one copy
 * of the addresses in memory thus also draws the tiles' address points.
 * Work: a binary search per row of ~100 m cells the box covers, then its
 * points; a box wider than 2 degrees either way is refused (GEODATA_EINVAL). */
int geodata_geocoder_each_in_box(const geodata_geocoder *g, const double box[4],
                                 int (*fn)(void *arg, const geodata_address_point *p), void *arg);

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
    GEODATA_VERIFY_NOT_COVERED,    /* the query names a town or postcode the service does not
                                      cover, or town and postcode disagree */
    GEODATA_VERIFY_APPROXIMATE,    /* only a nearby number or suffix of the street exists */
} geodata_verify_status;

/* Applies the rule to results (as returned by geodata_geocode, best first). */
geodata_verify_status geodata_geocode_verify(const geodata_geocode_result *results, size_t n);

/* A short English phrase for a status, e.g. "ambiguous address". */
const char *geodata_verify_reason(geodata_verify_status status);

/* A stable code for a status, for APIs: "verified", "not_found", "uncertain",
 * "ambiguous", "outside", "not_covered", "approximate". */
const char *geodata_verify_code(geodata_verify_status status);

/* Whether r may be offered to the person whose query was refused ("did you
 * mean"): a house number (not approximate) with the number they typed, whose
 * words all stand for it, at most respelt: a spelling fix of their street in
 * this town ("5 rue de la gare" -> 5 Rue de la Mare), never a street of this
 * base named after (or spelt like) their town. */
int geodata_geocode_suggestible(const geodata_geocode_result *r);

#endif
