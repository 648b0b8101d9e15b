/*
 * geodata/geocode/geocoder_internal.h — the geocoder's index, shared by the file that
 * builds it (geocoder.c) and the file that searches it (geocode_search.c).
 * Nothing here is seen outside the geodata library.
 *
 * Invariants once built: every array is read-only; strings live in the arena
 * and are NUL-terminated; streets' addresses are sorted by number then
 * suffix; postings (word -> streets) are sorted by street id.
 */
#ifndef GEODATA_GEOCODER_INTERNAL_H
#define GEODATA_GEOCODER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/geocode.h"

#define GC_NO_NB      (-1)
#define GC_NBS_MAX    ((1 << 19) - 1)  /* neighbourhoods an address can point to (nb : 20) */
#define GC_REPS_MAX   ((1 << 12) - 1)  /* distinct suffix spellings (rep : 12) */
#define GC_TYPE_WORDS 24     /* street-type words kept (rue, avenue, ...) */

typedef struct gc_addr {
    double lon, lat;
    uint32_t id;          /* source id, arena offset */
    uint32_t street;
    int32_t number;
    unsigned int rep : 12;/* index into reps; 0 is "" */
    signed int nb : 20;   /* neighbourhood index, or GC_NO_NB: 32 bytes an address in all */
} gc_addr;

typedef struct gc_street {
    uint32_t name;        /* display name, arena offset */
    uint32_t city;        /* city index */
    uint32_t postcode;    /* arena offset */
    uint32_t postcode_value; /* numeric postcode, 0 when it is not 5 digits */
    uint32_t first, count;/* addresses [first, first + count), by number then suffix */
    uint32_t tok, ntok;   /* its vocabulary ids, in the name's order: street_toks[tok ..) */
    float weight;         /* sum of its tokens' idf */
} gc_street;

/* A city as the address base names it ("Paris 11e Arrondissement"), and its
 * town: the name without district ordinals and the word "arrondissement", so
 * that the twenty districts of a city are one town. */
typedef struct gc_city {
    uint32_t name;        /* arena offset */
    uint32_t tok, ntok;   /* vocabulary ids in city_toks */
    uint32_t town;        /* town index */
} gc_city;

typedef struct gc_town {
    uint32_t tok, ntok;   /* every word of its cities' names, in town_toks */
} gc_town;

typedef struct gc_word {
    uint32_t text;        /* arena offset */
    uint32_t len : 31;
    uint32_t in_city : 1; /* also a word of some city's name */
    uint32_t post, npost; /* streets using it: posts[post .. post + npost) */
    float idf;
} gc_word;

typedef struct gc_nb {
    char *id, *name;
} gc_nb;

struct geodata_geocoder {
    char *arena;                 /* every string, NUL-terminated */
    size_t arena_len, arena_cap;
    gc_addr *addr;       size_t n_addr;
    gc_street *street;   size_t n_street;
    gc_city *city;       size_t n_city;
    gc_town *town;       size_t n_town;
    gc_word *word;       size_t n_word, cap_word;
    uint32_t *street_toks; size_t n_street_toks;
    uint32_t *city_toks;   size_t n_city_toks;
    uint32_t *town_toks;   size_t n_town_toks;
    uint32_t *posts;             /* street ids, grouped by word */
    size_t n_posts;
    uint32_t *word_hash;         /* open addressing: word id + 1, 0 = empty */
    size_t word_hash_cap;        /* a power of two */
    uint32_t *word_sorted;       /* word ids in byte order of their text (prefixes) */
    uint64_t *del_hash;          /* deletion index: sorted hashes ... */
    uint32_t *del_word;          /* ... and the word each belongs to */
    size_t n_del;
    uint32_t type_words[GC_TYPE_WORDS]; /* the commonest first words of street names */
    size_t n_type_words;
    char **reps;         size_t n_reps;
    gc_nb *nbs;          size_t n_nbs;
    uint32_t *postcodes; size_t n_postcodes;   /* sorted numeric postcodes seen */
    uint64_t *postcode_towns; size_t n_postcode_towns; /* sorted postcode << 32 | town */
    uint64_t *pc_street; size_t n_pc_street; /* sorted postcode << 32 | street: a postcode's streets */
    uint64_t *town_street; size_t n_town_street; /* sorted town << 32 | street: a town's streets */
    uint64_t *word_town; size_t n_word_town; /* sorted word << 32 | town: the towns a word names */
    /* reverse grid: addresses sorted by cell, and the cells present */
    uint32_t *grid_addr;
    int64_t *grid_key;   uint32_t *grid_start; size_t n_cells;
    double cell_lat, cell_lon, min_lat, min_lon;
    float idf_unknown;
    void *map;                   /* the index file mapped (geocoder_file.c), or NULL: every
                                    array above is then in it, but reps' and nbs' lists */
    size_t map_len;
};

static inline const char *gc_str(const geodata_geocoder *g, uint32_t off)
{
    return g->arena + off;
}

/* Reads the neighbourhoods' ids and names into g->nbs, sorted by id. */
int gc_load_neighbourhoods(geodata_store *store, geodata_geocoder *g);

/* FNV-1a, 64 bit. */
uint64_t gc_hash_bytes(const char *s, size_t n);

/* The id of the vocabulary word s (n bytes), or -1. */
long gc_word_find(const geodata_geocoder *g, const char *s, size_t n);

/* Edits allowed for a typo in a word of len letters: 0, 1 or 2. */
int gc_typo_distance_for(size_t len);

/* Calls emit(arg, variant, len) for s and every spelling of s with up to d
 * letters deleted (duplicates included). Work: O(len^d) variants. */
void gc_deletions(const char *s, size_t n, int d,
                  void (*emit)(void *, const char *, size_t), void *arg);

/* Only the letters a to z. */
int gc_is_letters(const char *s, size_t n);

/* Fills r from address a (the label, ids, neighbourhood); type says whether
 * the number is part of the answer. typed_number is -1, evidence 0. */
void gc_fill_result(const geodata_geocoder *g, const gc_addr *a, geodata_match_type type,
                    double score, geodata_geocode_result *r);

#endif
