/*
 * tests/geodata/geocode_eval.h — a geocoding accuracy harness built from the
 * data itself: sample addresses, write each one the ways people do, geocode,
 * and compare with the truth. Shared by the test (which asserts floors) and
 * the benchmark (which prints every figure). Nothing in it knows a city.
 */
#ifndef GEOCODE_EVAL_H
#define GEOCODE_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "geodata/geocode.h"
#include "geodata/store.h"

typedef enum {
    EVAL_CLEAN, EVAL_ABBREVIATED, EVAL_NO_ACCENTS, EVAL_CAPITALS, EVAL_TYPO,
    EVAL_NO_POSTCODE, EVAL_REORDERED, EVAL_SUFFIX,
    EVAL_TYPE_TYPO,       /* the street type misspelt: "ue Blanche", "Ru de la Santé" */
    EVAL_GLUED_POSTCODE,  /* "Rue Servandoni75006" */
    EVAL_GLUED_WORDS,     /* "RueVernier", "desHaies": two words of the name as one */
    EVAL_GLUED_TOWN,      /* "Rue VernierParis" */
    EVAL_N_VARIANTS
} eval_variant;

extern const char *const eval_variant_names[EVAL_N_VARIANTS];

typedef struct eval_addr {
    char *id, *rep, *street, *postcode, *city;
    int number;
    double lon, lat;
} eval_addr;

typedef struct eval_set {
    eval_addr *a;
    size_t n;
} eval_set;

/* Reads every address of the store (sorted by street, postcode, number). */
int eval_load(geodata_store *store, eval_set *set);
void eval_free(eval_set *set);

/* A deterministic generator (xorshift64*). */
uint64_t eval_rand(uint64_t *state);

/* Writes the query for address a in the given variant into buf. */
void eval_query(const eval_addr *a, eval_variant v, uint64_t *rng, char *buf, size_t n);

/* A query for an address that does not exist: a real street with a number it
 * does not have (even k) or an invented street (odd k). */
void eval_fake_query(const eval_set *set, uint64_t *rng, int k, char *buf, size_t n);

typedef struct eval_result {
    size_t asked[EVAL_N_VARIANTS];
    size_t exact[EVAL_N_VARIANTS];     /* top result is the source address */
    size_t within30[EVAL_N_VARIANTS];  /* top result within 30 m of it */
    size_t verified[EVAL_N_VARIANTS];  /* would verify a member (the rule) */
    size_t fake_asked, fake_confident; /* fakes answered with a confident house number */
} eval_result;

/* Geocodes `sample` addresses (chosen with seed) in every variant, plus
 * `fakes` invented ones, and counts. */
void eval_run(const geodata_geocoder *g, const eval_set *set, size_t sample, size_t fakes,
              uint64_t seed, eval_result *r);

/* The share (0..1) of the perturbed queries, every variant but clean,
 * answered within 30 m of their address. */
double eval_perturbed_within30(const eval_result *r);

/* One line per variant (asked, exact, within 30 m, verified), each after
 * prefix, on out. */
void eval_print(const eval_result *r, const char *prefix, FILE *out);

/* Where eval_run describes each miss (query, answer, truth); NULL = nowhere.
 * The environment variable GEOCODE_EVAL_MISSES=1 sets it to stderr. */
extern FILE *eval_misses;

/* Distance in metres between two lon/lat points (spherical). */
double eval_distance_m(double lon1, double lat1, double lon2, double lat2);

#endif
