/*
 * geodata/geocode/geocoder.c — the in-memory geocoder (see geocode.h).
 *
 * Index, built once from the store:
 *   - addresses, grouped into streets (same name, INSEE code and postcode),
 *     each street's addresses sorted by number and suffix;
 *   - a vocabulary of the normalised words of street and city names, with,
 *     for each word, its inverse document frequency and the streets using it;
 *   - a deletion index for typos: every spelling of a word with up to one
 *     letter deleted (two for words of 8 letters or more), hashed and sorted,
 *     so that a typed word finds the words within one or two edits by looking
 *     up its own deletions (the "symmetric delete" method);
 *   - towns (a city's name without its district ordinal), the postcodes each
 *     town holds, the street-type words (the commonest first words of street
 *     names), and the words in text order for prefixes;
 *   - a grid of address points for reverse geocoding.
 *
 * Searching is in geocode_search.c, the verification rule in
 * geocode_verify.c. Nothing here is tied to one city: all words, weights,
 * towns and postcodes come from the data.
 *
 * Memory: about 75 bytes per address with Paris's vocabulary (docs/geocoding.md).
 * After building, nothing is written: any number of threads may search at once.
 */
#define _GNU_SOURCE /* qsort_r */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "geodata/geocode.h"
#include "internal.h"
#include "geocoder_internal.h"
#include "normalize.h"

/* ---- building ---------------------------------------------------------- */

uint64_t gc_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;       /* FNV-1a, 64 bit */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap *= 2;
    void *q = realloc(*p, ncap * size);
    if (!q)
        return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

/* Appends s to the arena; UINT32_MAX when out of memory. */
static uint32_t intern(geodata_geocoder *g, const char *s, size_t n)
{
    if (g->arena_len + n + 1 > UINT32_MAX
        || grow((void **)&g->arena, &g->arena_cap, g->arena_len + n + 1, 1))
        return UINT32_MAX;
    uint32_t off = (uint32_t)g->arena_len;
    memcpy(g->arena + off, s, n);
    g->arena[off + n] = '\0';
    g->arena_len += n + 1;
    return off;
}

long gc_word_find(const geodata_geocoder *g, const char *s, size_t n)
{
    if (!g->word_hash_cap)
        return -1;
    size_t mask = g->word_hash_cap - 1;
    for (size_t i = gc_hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t v = g->word_hash[i];
        if (!v)
            return -1;
        const gc_word *w = &g->word[v - 1];
        if (w->len == n && memcmp(gc_str(g, w->text), s, n) == 0)
            return (long)(v - 1);
    }
}

static int rehash(geodata_geocoder *g, size_t cap)
{
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t k = 0; k < g->n_word; k++) {
        const gc_word *w = &g->word[k];
        size_t i = gc_hash_bytes(gc_str(g, w->text), w->len) & (cap - 1);
        while (t[i])
            i = (i + 1) & (cap - 1);
        t[i] = (uint32_t)k + 1;
    }
    free(g->word_hash);
    g->word_hash = t;
    g->word_hash_cap = cap;
    return 0;
}

/* The id of word s, added if new; -1 when out of memory. */
static long word_add(geodata_geocoder *g, const char *s, size_t n)
{
    long id = gc_word_find(g, s, n);
    if (id >= 0)
        return id;
    if ((g->n_word + 1) * 2 > g->word_hash_cap && rehash(g, g->word_hash_cap ? g->word_hash_cap * 2 : 1024))
        return -1;
    if (grow((void **)&g->word, &g->cap_word, g->n_word + 1, sizeof *g->word))
        return -1;
    uint32_t text = intern(g, s, n);
    if (text == UINT32_MAX)
        return -1;
    gc_word *w = &g->word[g->n_word];
    memset(w, 0, sizeof *w);
    w->text = text;
    w->len = (uint32_t)n;
    size_t mask = g->word_hash_cap - 1;
    size_t i = gc_hash_bytes(s, n) & mask;
    while (g->word_hash[i])
        i = (i + 1) & mask;
    g->word_hash[i] = (uint32_t)g->n_word + 1;
    return (long)g->n_word++;
}

/* Normalises text and appends its word ids to *toks, in order: all of them
 * (a street's name: "Route de la Porte Dauphine à la Porte des Sablons" says
 * "porte" twice), or each once (repeats 0: a city's name). */
static int tokens_of(geodata_geocoder *g, const char *text, int repeats, uint32_t **toks, size_t *n,
                     size_t *cap, uint32_t *first, uint32_t *count)
{
    geodata_tokens t;
    *first = (uint32_t)*n;
    *count = 0;
    if (geodata_normalize(text, strlen(text), &t))
        return 0; /* a name that is not UTF-8 is simply not searchable */
    for (size_t i = 0; i < t.n; i++) {
        long id = word_add(g, t.tok[i].text, t.tok[i].len);
        if (id < 0)
            return -1;
        int dup = 0;
        for (uint32_t k = *first; k < *first + *count; k++)
            dup |= (*toks)[k] == (uint32_t)id;
        if (dup && !repeats)
            continue;
        if (grow((void **)toks, cap, *n + 1, sizeof **toks))
            return -1;
        (*toks)[(*n)++] = (uint32_t)id;
        (*count)++;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(((const gc_nb *)a)->id, ((const gc_nb *)b)->id);
}

int gc_load_neighbourhoods(geodata_store *store, geodata_geocoder *g)
{
    sql_stmt *st = geodata_prepare(store, "SELECT id, name FROM neighbourhoods ORDER BY id");
    if (!st)
        return GEODATA_EDB;
    size_t cap = 0;
    int rc = GEODATA_OK, row = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (grow((void **)&g->nbs, &cap, g->n_nbs + 1, sizeof *g->nbs)) {
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
            break;
        }
        const char *id = (const char *)sql_column_text(st, 0);
        const char *name = (const char *)sql_column_text(st, 1);
        gc_nb *nb = &g->nbs[g->n_nbs++];
        nb->id = strdup(id ? id : "");
        nb->name = strdup(name ? name : "");
        if (!nb->id || !nb->name)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    if (!rc && row < 0)
        rc = row;
    sql_finalize(st);
    if (!rc && g->n_nbs > GC_NBS_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "%zu neighbourhoods: the geocoder holds at most %d",
                            g->n_nbs, GC_NBS_MAX);
    return rc;
}

static int32_t nb_index(const geodata_geocoder *g, const unsigned char *id)
{
    if (!id)
        return GC_NO_NB;
    gc_nb key = { (char *)id, NULL };
    const gc_nb *hit = bsearch(&key, g->nbs, g->n_nbs, sizeof *g->nbs, cmp_str);
    return hit ? (int32_t)(hit - g->nbs) : GC_NO_NB;
}

/* The index of the suffix spelling rep, added if new: 0 .. GC_REPS_MAX, or
 * -1 when out of memory, -2 when there are too many spellings. Work: the
 * spellings seen (a few hundred in a national base; "" is the first). */
static int32_t rep_index(geodata_geocoder *g, const char *rep, size_t *cap)
{
    for (size_t i = 0; i < g->n_reps; i++)
        if (strcmp(g->reps[i], rep) == 0)
            return (int32_t)i;
    if (g->n_reps > GC_REPS_MAX)
        return -2;
    if (grow((void **)&g->reps, cap, g->n_reps + 1, sizeof *g->reps))
        return -1;
    g->reps[g->n_reps] = strdup(rep);
    return g->reps[g->n_reps] ? (int32_t)g->n_reps++ : -1;
}

/* ---- reading the addresses ----------------------------------------------- */

/* While reading: the streets and cities met so far, found by hashing, so
 * that the addresses are read in the store's own order (no sort by SQLite,
 * which for a country's base was most of the build). */
typedef struct reading {
    uint32_t *street_hash;   /* open addressing: street index + 1, 0 = empty */
    size_t street_hash_cap;  /* a power of two, at least twice the streets */
    char (*insee)[16];       /* each street's INSEE code */
    uint64_t *street_key;    /* each street's hash */
    uint32_t *city_hash;     /* the same for cities, by name */
    size_t city_hash_cap;
    size_t cap_street, cap_city, cap_st, cap_ct, cap_pc, cap_keys;
} reading;

static void reading_free(reading *rd)
{
    free(rd->street_hash);
    free(rd->insee);
    free(rd->street_key);
    free(rd->city_hash);
}

/* Doubles an open-addressing table of index + 1 entries, rehashed by key(i). */
static int table_grow(uint32_t **table, size_t *cap, const uint64_t *keys, const geodata_geocoder *g,
                      size_t n)
{
    size_t ncap = *cap ? *cap * 2 : 4096;
    uint32_t *t = calloc(ncap, sizeof *t);
    if (!t)
        return -1;
    for (size_t k = 0; k < n; k++) {
        uint64_t h = keys ? keys[k] : gc_hash_bytes(gc_str(g, g->city[k].name),
                                                      strlen(gc_str(g, g->city[k].name)));
        size_t i = h & (ncap - 1);
        while (t[i])
            i = (i + 1) & (ncap - 1);
        t[i] = (uint32_t)k + 1;
    }
    free(*table);
    *table = t;
    *cap = ncap;
    return 0;
}

static const char *text_or_empty(sql_stmt *st, int col)
{
    const unsigned char *s = sql_column_text(st, col);
    return s ? (const char *)s : "";
}

/* The index of the city named cn, added if new; -1 when out of memory. */
static long city_of(geodata_geocoder *g, reading *rd, const char *cn)
{
    size_t n = strlen(cn);
    uint64_t h = gc_hash_bytes(cn, n);
    if (rd->city_hash_cap) {
        size_t mask = rd->city_hash_cap - 1;
        for (size_t i = h & mask; rd->city_hash[i]; i = (i + 1) & mask)
            if (strcmp(gc_str(g, g->city[rd->city_hash[i] - 1].name), cn) == 0)
                return (long)rd->city_hash[i] - 1;
    }
    if ((g->n_city + 1) * 2 > rd->city_hash_cap
        && table_grow(&rd->city_hash, &rd->city_hash_cap, NULL, g, g->n_city))
        return -1;
    if (grow((void **)&g->city, &rd->cap_city, g->n_city + 1, sizeof *g->city))
        return -1;
    gc_city *c = &g->city[g->n_city];
    c->name = intern(g, cn, n);
    if (c->name == UINT32_MAX
        || tokens_of(g, cn, 0, &g->city_toks, &g->n_city_toks, &rd->cap_ct, &c->tok, &c->ntok))
        return -1;
    size_t mask = rd->city_hash_cap - 1, i = h & mask;
    while (rd->city_hash[i])
        i = (i + 1) & mask;
    rd->city_hash[i] = (uint32_t)g->n_city + 1;
    return (long)g->n_city++;
}

/* The index of the street of the current row (same name, INSEE code,
 * postcode and city), added if new; -1 when out of memory. */
static long street_of(geodata_geocoder *g, reading *rd, sql_stmt *st)
{
    const char *sn = text_or_empty(st, 3), *pc = text_or_empty(st, 4);
    const char *ins = text_or_empty(st, 5), *cn = text_or_empty(st, 6);
    uint64_t h = gc_hash_bytes(sn, strlen(sn)) * 31 + gc_hash_bytes(pc, strlen(pc));
    h = h * 31 + gc_hash_bytes(ins, strlen(ins));
    h = h * 31 + gc_hash_bytes(cn, strlen(cn));
    if (rd->street_hash_cap) {
        size_t mask = rd->street_hash_cap - 1;
        for (size_t i = h & mask; rd->street_hash[i]; i = (i + 1) & mask) {
            uint32_t k = rd->street_hash[i] - 1;
            const gc_street *s = &g->street[k];
            if (rd->street_key[k] == h && strcmp(gc_str(g, s->name), sn) == 0
                && strcmp(gc_str(g, s->postcode), pc) == 0 && strncmp(rd->insee[k], ins, 15) == 0
                && strcmp(gc_str(g, g->city[s->city].name), cn) == 0)
                return (long)k;
        }
    }
    size_t k = g->n_street;
    if (grow((void **)&g->street, &rd->cap_street, k + 1, sizeof *g->street))
        return -1;
    if (k + 1 > rd->cap_keys) {   /* insee and street_key grow together */
        size_t ncap = rd->cap_keys ? rd->cap_keys * 2 : 256;
        void *a = realloc(rd->insee, ncap * sizeof *rd->insee);
        if (a)
            rd->insee = a;
        void *b = a ? realloc(rd->street_key, ncap * sizeof *rd->street_key) : NULL;
        if (!b)
            return -1;
        rd->street_key = b;
        rd->cap_keys = ncap;
    }
    if ((k + 1) * 2 > rd->street_hash_cap
        && table_grow(&rd->street_hash, &rd->street_hash_cap, rd->street_key, g, k))
        return -1;
    long city = city_of(g, rd, cn);
    if (city < 0)
        return -1;
    gc_street *s = &g->street[k];
    memset(s, 0, sizeof *s);
    s->name = intern(g, sn, strlen(sn));
    s->postcode = intern(g, pc, strlen(pc));
    s->city = (uint32_t)city;
    if (s->name == UINT32_MAX || s->postcode == UINT32_MAX
        || tokens_of(g, sn, 1, &g->street_toks, &g->n_street_toks, &rd->cap_st, &s->tok, &s->ntok))
        return -1;
    long pcv = strlen(pc) == 5 ? strtol(pc, NULL, 10) : -1;
    s->postcode_value = pcv > 0 ? (uint32_t)pcv : 0;
    if (pcv > 0) {   /* sorted and made unique in build_postings */
        if (grow((void **)&g->postcodes, &rd->cap_pc, g->n_postcodes + 1, sizeof *g->postcodes))
            return -1;
        g->postcodes[g->n_postcodes++] = (uint32_t)pcv;
    }
    snprintf(rd->insee[k], sizeof rd->insee[k], "%s", ins);
    rd->street_key[k] = h;
    size_t mask = rd->street_hash_cap - 1, i = h & mask;
    while (rd->street_hash[i])
        i = (i + 1) & mask;
    rd->street_hash[i] = (uint32_t)k + 1;
    g->n_street++;
    return (long)k;
}

/* Orders the addresses by street (in place: each address is moved once to
 * its street's next free place), then each street's by number and suffix
 * text; sets each street's first and count. */
static int cmp_addr_in_street(const void *a, const void *b, void *arg)
{
    const gc_addr *x = a, *y = b;
    const geodata_geocoder *g = arg;
    if (x->number != y->number)
        return (x->number > y->number) - (x->number < y->number);
    return strcmp(g->reps[x->rep], g->reps[y->rep]);
}

static int group_by_street(geodata_geocoder *g)
{
    uint32_t *next = malloc((g->n_street ? g->n_street : 1) * sizeof *next);
    if (!next)
        return -1;
    uint32_t at = 0;
    for (size_t s = 0; s < g->n_street; s++) {
        g->street[s].first = next[s] = at;
        at += g->street[s].count;
    }
    for (size_t s = 0; s < g->n_street; s++) {
        size_t end = (size_t)g->street[s].first + g->street[s].count;
        while (next[s] < end) {
            gc_addr *a = &g->addr[next[s]];
            if (a->street == s) {
                next[s]++;
                continue;
            }
            gc_addr t = *a;   /* t goes to its street's next place, what was there comes here */
            *a = g->addr[next[t.street]];
            g->addr[next[t.street]++] = t;
        }
    }
    free(next);
    for (size_t s = 0; s < g->n_street; s++)
        if (g->street[s].count > 1)
            qsort_r(g->addr + g->street[s].first, g->street[s].count, sizeof *g->addr,
                    cmp_addr_in_street, g);
    return 0;
}

/* Reads the addresses, grouped into streets, and the cities' and streets'
 * words. The streets come in the order of their first address in the store
 * (a national base's files come commune by commune). */
static int read_addresses(geodata_store *store, geodata_geocoder *g)
{
    sql_stmt *st = geodata_prepare_stream(store,
        "SELECT source_id, number, rep, street, postcode, insee, city, ST_X(geom), ST_Y(geom), "
        "neighbourhood_id FROM addresses");
    if (!st)
        return GEODATA_EDB;
    reading rd = { 0 };
    size_t cap_addr = 0, cap_reps = 0;
    int rc = GEODATA_OK, row = 0;
    char last_nb[64];            /* the last neighbourhood id met, when it fits */
    int last_nb_known = 0;
    int32_t last_nb_index = GC_NO_NB;
    if (rep_index(g, "", &cap_reps) < 0)
        rc = GEODATA_ENOMEM;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        long s = street_of(g, &rd, st);
        if (s < 0 || grow((void **)&g->addr, &cap_addr, g->n_addr + 1, sizeof *g->addr)) {
            rc = GEODATA_ENOMEM;
            break;
        }
        gc_addr *a = &g->addr[g->n_addr++];
        const char *id = text_or_empty(st, 0);
        a->id = intern(g, id, strlen(id));
        a->number = sql_column_int(st, 1);
        int32_t r = rep_index(g, text_or_empty(st, 2), &cap_reps);
        a->rep = r >= 0 ? (unsigned)r : 0;
        a->street = (uint32_t)s;
        a->lon = sql_column_double(st, 7);
        a->lat = sql_column_double(st, 8);
        /* Neighbours in the store share their neighbourhood: the last is kept. */
        const char *nb = text_or_empty(st, 9);
        if (!last_nb_known || strcmp(nb, last_nb) != 0) {
            last_nb_index = nb_index(g, (const unsigned char *)nb);
            last_nb_known = strlen(nb) < sizeof last_nb;
            if (last_nb_known)
                strcpy(last_nb, nb);
        }
        a->nb = last_nb_index;
        g->street[s].count++;
        if (r == -2)
            rc = geodata_fail(store, GEODATA_EINVAL, "more than %d spellings of house-number "
                              "suffixes: the geocoder holds at most that many", GC_REPS_MAX + 1);
        else if (a->id == UINT32_MAX || r < 0)
            rc = GEODATA_ENOMEM;
    }
    sql_finalize(st);
    reading_free(&rd);
    if (!rc && row >= 0 && group_by_street(g))
        rc = GEODATA_ENOMEM;
    if (rc == GEODATA_ENOMEM)
        return geodata_fail(store, rc, "out of memory");
    if (rc)
        return rc;
    return row < 0 ? row : GEODATA_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Postings (word -> streets), weights, and the postcode list. */
/* Whether the k-th word of street s already came earlier in its name. */
static int repeated(const geodata_geocoder *g, const gc_street *st, uint32_t k)
{
    for (uint32_t j = 0; j < k; j++)
        if (g->street_toks[st->tok + j] == g->street_toks[st->tok + k])
            return 1;
    return 0;
}

static int build_postings(geodata_geocoder *g)
{
    for (size_t s = 0; s < g->n_street; s++)
        for (uint32_t k = 0; k < g->street[s].ntok; k++)
            if (!repeated(g, &g->street[s], k))  /* a street is posted once per word */
                g->word[g->street_toks[g->street[s].tok + k]].npost++;
    uint32_t at = 0;
    for (size_t w = 0; w < g->n_word; w++) {
        g->word[w].post = at;
        at += g->word[w].npost;
        g->word[w].npost = 0;
    }
    g->posts = malloc((at ? at : 1) * sizeof *g->posts);
    if (!g->posts)
        return -1;
    g->n_posts = at;
    for (size_t s = 0; s < g->n_street; s++)
        for (uint32_t k = 0; k < g->street[s].ntok; k++) {
            if (repeated(g, &g->street[s], k))
                continue;
            gc_word *w = &g->word[g->street_toks[g->street[s].tok + k]];
            g->posts[w->post + w->npost++] = (uint32_t)s;
        }
    double n = (double)(g->n_street ? g->n_street : 1);
    for (size_t w = 0; w < g->n_word; w++)
        g->word[w].idf = (float)log(1.0 + n / (g->word[w].npost ? g->word[w].npost : 1));
    g->idf_unknown = (float)log(1.0 + n);
    for (size_t s = 0; s < g->n_street; s++) {
        float sum = 0;
        for (uint32_t k = 0; k < g->street[s].ntok; k++)
            sum += g->word[g->street_toks[g->street[s].tok + k]].idf;
        g->street[s].weight = sum;
    }
    for (size_t i = 0; i < g->n_city_toks; i++)
        g->word[g->city_toks[i]].in_city = 1;
    if (g->n_postcodes > 1)
        qsort(g->postcodes, g->n_postcodes, sizeof *g->postcodes, cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < g->n_postcodes; i++)
        if (!u || g->postcodes[u - 1] != g->postcodes[i])
            g->postcodes[u++] = g->postcodes[i];
    g->n_postcodes = u;
    return 0;
}

typedef struct town_key { char key[GEODATA_QUERY_MAX]; uint32_t city; } town_key;

static int cmp_town_key(const void *a, const void *b)
{
    const town_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->city > y->city) - (x->city < y->city);
}

/* Towns: cities whose names differ only by a district ordinal and the word
 * "arrondissement" ("Paris 11e Arrondissement", "Paris 12e Arrondissement")
 * are one town; a town's words are all its cities' words. Work: sorting the
 * cities by key. */
static int build_towns(geodata_geocoder *g)
{
    town_key *k = malloc((g->n_city ? g->n_city : 1) * sizeof *k);
    if (!k)
        return -1;
    geodata_tokens t;
    for (size_t c = 0; c < g->n_city; c++) {
        const char *name = gc_str(g, g->city[c].name);
        k[c].city = (uint32_t)c;
        k[c].key[0] = '\0';
        if (geodata_normalize(name, strlen(name), &t))
            continue;
        size_t at = 0;
        for (size_t i = 0; i < t.n; i++) {
            if (t.tok[i].kind == GEODATA_TOK_ORDINAL || strcmp(t.tok[i].text, "arrondissement") == 0)
                continue;
            int w = snprintf(k[c].key + at, sizeof k[c].key - at, "%s%s", at ? " " : "", t.tok[i].text);
            if (w < 0 || (size_t)w >= sizeof k[c].key - at)
                break;
            at += (size_t)w;
        }
    }
    if (g->n_city > 1)
        qsort(k, g->n_city, sizeof *k, cmp_town_key);
    g->town = malloc((g->n_city ? g->n_city : 1) * sizeof *g->town);
    g->town_toks = malloc((g->n_city_toks ? g->n_city_toks : 1) * sizeof *g->town_toks);
    if (!g->town || !g->town_toks) {
        free(k);
        return -1;
    }
    g->n_town = 0;
    g->n_town_toks = 0;
    for (size_t i = 0; i < g->n_city; i++) {
        if (i == 0 || strcmp(k[i].key, k[i - 1].key) != 0) {
            gc_town *tw = &g->town[g->n_town++];
            tw->tok = (uint32_t)g->n_town_toks;
            tw->ntok = 0;
        }
        gc_town *tw = &g->town[g->n_town - 1];
        gc_city *c = &g->city[k[i].city];
        c->town = (uint32_t)g->n_town - 1;
        for (uint32_t j = 0; j < c->ntok; j++) {
            uint32_t w = g->city_toks[c->tok + j];
            int seen = 0;
            for (uint32_t m = 0; m < tw->ntok && !seen; m++)
                seen = g->town_toks[tw->tok + m] == w;
            if (!seen) {
                g->town_toks[g->n_town_toks++] = w;
                tw->ntok++;
            }
        }
    }
    free(k);
    return 0;
}

typedef struct word_text { const char *text; uint32_t id; } word_text;

static int cmp_word_text(const void *a, const void *b)
{
    return strcmp(((const word_text *)a)->text, ((const word_text *)b)->text);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The words in text order (for prefixes), the street-type words, and which
 * town holds which postcode. Street types are the first words of at least
 * one street name in 200 (rue, avenue, ...), found in the data, not listed. */
static int build_lookups(geodata_geocoder *g)
{
    g->word_sorted = malloc((g->n_word ? g->n_word : 1) * sizeof *g->word_sorted);
    uint32_t *first = calloc(g->n_word ? g->n_word : 1, sizeof *first);
    g->postcode_towns = malloc((g->n_street ? g->n_street : 1) * sizeof *g->postcode_towns);
    g->pc_street = malloc((g->n_street ? g->n_street : 1) * sizeof *g->pc_street);
    g->town_street = malloc((g->n_street ? g->n_street : 1) * sizeof *g->town_street);
    g->word_town = malloc((g->n_town_toks ? g->n_town_toks : 1) * sizeof *g->word_town);
    if (!g->word_sorted || !first || !g->postcode_towns || !g->pc_street || !g->town_street
        || !g->word_town) {
        free(first);
        return -1;
    }
    word_text *wt = malloc((g->n_word ? g->n_word : 1) * sizeof *wt);
    if (!wt) {
        free(first);
        return -1;
    }
    for (size_t w = 0; w < g->n_word; w++) {
        wt[w].text = gc_str(g, g->word[w].text);
        wt[w].id = (uint32_t)w;
    }
    if (g->n_word > 1)
        qsort(wt, g->n_word, sizeof *wt, cmp_word_text);
    for (size_t w = 0; w < g->n_word; w++)
        g->word_sorted[w] = wt[w].id;
    free(wt);
    size_t np = 0;
    for (size_t s = 0; s < g->n_street; s++) {
        const gc_street *st = &g->street[s];
        if (st->ntok)
            first[g->street_toks[st->tok]]++;
        g->town_street[s] = (uint64_t)g->city[st->city].town << 32 | (uint32_t)s;
        if (st->postcode_value) {
            g->pc_street[np] = (uint64_t)st->postcode_value << 32 | (uint32_t)s;
            g->postcode_towns[np++] = (uint64_t)st->postcode_value << 32 | g->city[st->city].town;
        }
    }
    if (np > 1)
        qsort(g->pc_street, np, sizeof *g->pc_street, cmp_u64);
    g->n_pc_street = np;
    if (np > 1)
        qsort(g->postcode_towns, np, sizeof *g->postcode_towns, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < np; i++)
        if (!u || g->postcode_towns[u - 1] != g->postcode_towns[i])
            g->postcode_towns[u++] = g->postcode_towns[i];
    g->n_postcode_towns = u;
    g->n_town_street = g->n_street;
    if (g->n_street > 1)
        qsort(g->town_street, g->n_street, sizeof *g->town_street, cmp_u64);
    for (size_t t = 0; t < g->n_town; t++)
        for (uint32_t k = 0; k < g->town[t].ntok; k++)
            g->word_town[g->town[t].tok + k] = (uint64_t)g->town_toks[g->town[t].tok + k] << 32 | t;
    g->n_word_town = g->n_town_toks;
    if (g->n_word_town > 1)
        qsort(g->word_town, g->n_word_town, sizeof *g->word_town, cmp_u64);
    g->n_type_words = 0;
    for (size_t w = 0; w < g->n_word; w++) {
        if (first[w] * 200 < g->n_street || first[w] < 2)
            continue;
        if (g->n_type_words < GC_TYPE_WORDS) {
            g->type_words[g->n_type_words++] = (uint32_t)w;
            continue;
        }
        size_t least = 0;  /* keep the commonest: replace the least common kept */
        for (size_t i = 1; i < GC_TYPE_WORDS; i++)
            if (first[g->type_words[i]] < first[g->type_words[least]])
                least = i;
        if (first[w] > first[g->type_words[least]])
            g->type_words[least] = (uint32_t)w;
    }
    free(first);
    return 0;
}

/* Typos: the deletion index. */
int gc_typo_distance_for(size_t len)
{
    return len >= 8 ? 2 : len >= 4 ? 1 : 0;
}

typedef struct del_entry { uint64_t h; uint32_t w; } del_entry;

static int cmp_del(const void *a, const void *b)
{
    const del_entry *x = a, *y = b;
    if (x->h != y->h)
        return (x->h > y->h) - (x->h < y->h);
    return (x->w > y->w) - (x->w < y->w);
}

void gc_deletions(const char *s, size_t n, int d,
                  void (*emit)(void *, const char *, size_t), void *arg)
{
    char buf[256];
    emit(arg, s, n);
    if (d < 1 || n > sizeof buf)
        return;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf, s, i);
        memcpy(buf + i, s + i + 1, n - i - 1);
        emit(arg, buf, n - 1);
        if (d < 2)
            continue;
        char b2[256];
        for (size_t j = i; j < n - 1; j++) {
            memcpy(b2, buf, j);
            memcpy(b2 + j, buf + j + 1, n - 2 - j);
            emit(arg, b2, n - 2);
        }
    }
}

typedef struct del_build { del_entry *e; size_t n, cap; uint32_t w; int oom; } del_build;

static void add_deletion(void *arg, const char *s, size_t n)
{
    del_build *b = arg;
    if (b->oom || grow((void **)&b->e, &b->cap, b->n + 1, sizeof *b->e)) {
        b->oom = 1;
        return;
    }
    b->e[b->n].h = gc_hash_bytes(s, n);
    b->e[b->n++].w = b->w;
}

int gc_is_letters(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
    return 1;
}

static int build_deletions(geodata_geocoder *g)
{
    del_build b = { 0 };
    for (size_t w = 0; w < g->n_word; w++) {
        const char *s = gc_str(g, g->word[w].text);
        size_t n = g->word[w].len;
        int d = gc_typo_distance_for(n);
        if (!d || !gc_is_letters(s, n))
            continue;
        b.w = (uint32_t)w;
        gc_deletions(s, n, d, add_deletion, &b);
    }
    if (b.oom) {
        free(b.e);
        return -1;
    }
    if (b.n > 1)
        qsort(b.e, b.n, sizeof *b.e, cmp_del);
    size_t u = 0;
    for (size_t i = 0; i < b.n; i++)
        if (!u || b.e[u - 1].h != b.e[i].h || b.e[u - 1].w != b.e[i].w)
            b.e[u++] = b.e[i];
    g->del_hash = malloc((u ? u : 1) * sizeof *g->del_hash);
    g->del_word = malloc((u ? u : 1) * sizeof *g->del_word);
    if (!g->del_hash || !g->del_word) {
        free(b.e);
        return -1;
    }
    for (size_t i = 0; i < u; i++) {
        g->del_hash[i] = b.e[i].h;
        g->del_word[i] = b.e[i].w;
    }
    g->n_del = u;
    free(b.e);
    return 0;
}

/* Gives back the slack of the growing arrays. */
static void shrink(void **p, size_t n, size_t size)
{
    void *q = realloc(*p, (n ? n : 1) * size);
    if (q)
        *p = q;
}

/* Reverse geocoding grid: cells of about 100 m. */
static int64_t cell_key(const geodata_geocoder *g, double lon, double lat)
{
    int64_t row = (int64_t)floor((lat - g->min_lat) / g->cell_lat);
    int64_t col = (int64_t)floor((lon - g->min_lon) / g->cell_lon);
    return row * 4294967296LL + col; /* rows may be negative: no shift */
}

typedef struct grid_entry { int64_t key; uint32_t addr; } grid_entry;

static int cmp_grid(const void *a, const void *b)
{
    const grid_entry *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->addr > y->addr) - (x->addr < y->addr);
}

static int build_grid(geodata_geocoder *g)
{
    double min_lat = 90, min_lon = 180, max_lat = -90;
    for (size_t i = 0; i < g->n_addr; i++) {
        if (g->addr[i].lat < min_lat) min_lat = g->addr[i].lat;
        if (g->addr[i].lat > max_lat) max_lat = g->addr[i].lat;
        if (g->addr[i].lon < min_lon) min_lon = g->addr[i].lon;
    }
    double mid = g->n_addr ? (min_lat + max_lat) / 2 : 0;
    g->min_lat = min_lat - 1;
    g->min_lon = min_lon - 1;
    g->cell_lat = 100.0 / 110574.0;
    g->cell_lon = 100.0 / (111320.0 * fmax(cos(mid * M_PI / 180.0), 0.01));
    size_t n = g->n_addr ? g->n_addr : 1;
    grid_entry *e = malloc(n * sizeof *e);
    g->grid_addr = malloc(n * sizeof *g->grid_addr);
    g->grid_key = malloc(n * sizeof *g->grid_key);
    g->grid_start = malloc((g->n_addr + 1) * sizeof *g->grid_start);
    if (!e || !g->grid_addr || !g->grid_key || !g->grid_start) {
        free(e);
        return -1;
    }
    for (size_t i = 0; i < g->n_addr; i++) {
        e[i].key = cell_key(g, g->addr[i].lon, g->addr[i].lat);
        e[i].addr = (uint32_t)i;
    }
    qsort(e, g->n_addr, sizeof *e, cmp_grid);
    g->n_cells = 0;
    for (size_t i = 0; i < g->n_addr; i++) {
        g->grid_addr[i] = e[i].addr;
        if (!g->n_cells || g->grid_key[g->n_cells - 1] != e[i].key) {
            g->grid_key[g->n_cells] = e[i].key;
            g->grid_start[g->n_cells++] = (uint32_t)i;
        }
    }
    g->grid_start[g->n_cells] = (uint32_t)g->n_addr;
    free(e);
    shrink((void **)&g->grid_key, g->n_cells, sizeof *g->grid_key);
    return 0;
}

void geodata_geocoder_free(geodata_geocoder *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_nbs; i++) {
        free(g->nbs[i].id);
        free(g->nbs[i].name);
    }
    free(g->nbs);
    if (g->map) {  /* the arrays and the spellings are the file's */
        free(g->reps);
        munmap(g->map, g->map_len);
        free(g);
        return;
    }
    for (size_t i = 0; i < g->n_reps; i++)
        free(g->reps[i]);
    free(g->reps);
    free(g->arena);
    free(g->addr);
    free(g->street);
    free(g->city);
    free(g->word);
    free(g->street_toks);
    free(g->city_toks);
    free(g->posts);
    free(g->word_hash);
    free(g->del_hash);
    free(g->del_word);
    free(g->postcodes);
    free(g->postcode_towns);
    free(g->pc_street);
    free(g->town_street);
    free(g->word_town);
    free(g->town);
    free(g->town_toks);
    free(g->word_sorted);
    free(g->grid_addr);
    free(g->grid_key);
    free(g->grid_start);
    free(g);
}

int geodata_geocoder_load(geodata_store *store, geodata_geocoder **out)
{
    *out = NULL;
    geodata_geocoder *g = calloc(1, sizeof *g);
    if (!g)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int rc = gc_load_neighbourhoods(store, g);
    if (!rc) rc = read_addresses(store, g);
    if (!rc && (build_postings(g) || build_towns(g) || build_lookups(g) || build_deletions(g)
                || build_grid(g)))
        rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    if (rc) {
        geodata_geocoder_free(g);
        return rc;
    }
    shrink((void **)&g->arena, g->arena_len, 1);
    shrink((void **)&g->addr, g->n_addr, sizeof *g->addr);
    shrink((void **)&g->street, g->n_street, sizeof *g->street);
    shrink((void **)&g->word, g->n_word, sizeof *g->word);
    *out = g;
    return GEODATA_OK;
}

size_t geodata_geocoder_count(const geodata_geocoder *g)
{
    return g->n_addr;
}

void gc_fill_result(const geodata_geocoder *g, const gc_addr *a, geodata_match_type type,
                    double score, geodata_geocode_result *r)
{
    const gc_street *st = &g->street[a->street];
    memset(r, 0, sizeof *r);
    r->typed_number = -1;
    r->type = type;
    r->score = score;
    r->lon = a->lon;
    r->lat = a->lat;
    if (a->nb != GC_NO_NB) {
        r->neighbourhood_id = g->nbs[a->nb].id;
        r->neighbourhood_name = g->nbs[a->nb].name;
    }
    const char *city = gc_str(g, g->city[st->city].name);
    r->street = gc_str(g, st->name);
    r->postcode = gc_str(g, st->postcode);
    r->city = city;
    r->rep = "";
    if (type == GEODATA_MATCH_HOUSENUMBER) {
        const char *rep = g->reps[a->rep];
        r->number = a->number;
        r->rep = rep;
        r->address_id = gc_str(g, a->id);
        snprintf(r->label, sizeof r->label, "%d%s%s %s, %s %s", (int)a->number, *rep ? " " : "",
                 geodata_rep_word(rep), gc_str(g, st->name), gc_str(g, st->postcode), city);
    } else {
        snprintf(r->label, sizeof r->label, "%s, %s %s", gc_str(g, st->name), gc_str(g, st->postcode),
                 city);
    }
}

/* Great-circle distance in metres (haversine, mean Earth radius). */
static double distance_m(double lon1, double lat1, double lon2, double lat2)
{
    double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
    double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
    double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * 6371008.8 * asin(sqrt(h));
}

int geodata_geocoder_each_in_box(const geodata_geocoder *g, const double box[4],
                                 int (*fn)(void *arg, const geodata_address_point *p), void *arg)
{
    if (!(box[2] - box[0] <= 2.0 && box[3] - box[1] <= 2.0 && box[0] <= box[2] && box[1] <= box[3]))
        return GEODATA_EINVAL;  /* also NaN */
    if (g->n_cells == 0)
        return 0;
    double r0 = floor((box[1] - g->min_lat) / g->cell_lat), r1 = floor((box[3] - g->min_lat) / g->cell_lat);
    double c0 = floor((box[0] - g->min_lon) / g->cell_lon), c1 = floor((box[2] - g->min_lon) / g->cell_lon);
    if (r1 < 0 || c1 < 0)
        return 0;
    if (r0 < 0) r0 = 0;
    if (c0 < 0) c0 = 0;
    if (r0 > 2e9 || c0 > 2e9)
        return 0;  /* beyond every address: the grid's keys are row * 2^32 + column */
    for (int64_t row = (int64_t)r0; row <= (int64_t)r1; row++) {
        int64_t first = row * 4294967296LL + (int64_t)c0, last = row * 4294967296LL + (int64_t)c1;
        size_t lo = 0, hi = g->n_cells;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (g->grid_key[mid] < first) lo = mid + 1; else hi = mid;
        }
        for (; lo < g->n_cells && g->grid_key[lo] <= last; lo++)
            for (uint32_t i = g->grid_start[lo]; i < g->grid_start[lo + 1]; i++) {
                const gc_addr *a = &g->addr[g->grid_addr[i]];
                if (a->lon < box[0] || a->lon > box[2] || a->lat < box[1] || a->lat > box[3])
                    continue;
                geodata_address_point p = { a->lon, a->lat, a->number, geodata_rep_word(g->reps[a->rep]),
                                            gc_str(g, g->street[a->street].name) };
                int rc = fn(arg, &p);
                if (rc)
                    return rc;
            }
    }
    return 0;
}

int geodata_geocode_reverse(const geodata_geocoder *g, double lon, double lat, double max_m,
                            geodata_geocode_result *result)
{
    if (!isfinite(lon) || !isfinite(lat) || !(max_m > 0) || g->n_cells == 0)
        return GEODATA_ENOTFOUND;
    double row0 = floor((lat - g->min_lat) / g->cell_lat);
    double col0 = floor((lon - g->min_lon) / g->cell_lon);
    if (!(fabs(row0) < 1e9 && fabs(col0) < 1e9))
        return GEODATA_ENOTFOUND;
    long reach = (long)ceil(max_m / 100.0) + 1;
    if (reach > 50)
        reach = 50;
    const gc_addr *best = NULL;
    double best_d = max_m;
    for (long dr = -reach; dr <= reach; dr++)
        for (long dc = -reach; dc <= reach; dc++) {
            int64_t key = (int64_t)(row0 + (double)dr) * 4294967296LL + (int64_t)(col0 + (double)dc);
            size_t lo = 0, hi = g->n_cells;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (g->grid_key[mid] < key) lo = mid + 1; else hi = mid;
            }
            if (lo == g->n_cells || g->grid_key[lo] != key)
                continue;
            for (uint32_t i = g->grid_start[lo]; i < g->grid_start[lo + 1]; i++) {
                const gc_addr *a = &g->addr[g->grid_addr[i]];
                double d = distance_m(lon, lat, a->lon, a->lat);
                if (d <= best_d) {
                    best_d = d;
                    best = a;
                }
            }
        }
    if (!best)
        return GEODATA_ENOTFOUND;
    gc_fill_result(g, best, GEODATA_MATCH_HOUSENUMBER, 1.0, result);
    result->distance_m = best_d;
    return GEODATA_OK;
}

