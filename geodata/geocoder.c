/*
 * geodata/geocoder.c — the in-memory geocoder (see geocode.h).
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
 *   - a grid of address points for reverse geocoding.
 *
 * Search: the query is normalised into tokens (normalize.c); each word is
 * matched exactly and with typos against the vocabulary (a word found as
 * typed is only read as a typo in a second pass, when the first gives no sure
 * answer); the streets of the rarest street word, and of up to two other rare
 * words, are the candidates; each candidate is scored by
 * how much of its name the query covers and how much of the query its name
 * and city cover (words weighted by rarity). Then the house number is looked
 * up on the best streets: a house-number result only when that number exists
 * there; otherwise the street, with a lower score. Nothing here is tied to one
 * city: all words, weights and postcodes come from the data.
 *
 * Memory: about 75 bytes per address with Paris's vocabulary (docs/geocoding.md).
 * After building, nothing is written: any number of threads may search at once.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/geocode.h"
#include "internal.h"
#include "normalize.h"

#define NO_NB      (-1)
#define MAX_MATCH  8        /* vocabulary matches kept per query token */
#define MAX_CAND   4096     /* candidate streets scored per query */
#define TOP_STREETS 8       /* streets whose house numbers are looked at */

typedef struct gc_addr {
    double lon, lat;
    uint32_t id;          /* source id, arena offset */
    uint32_t street;
    int32_t number;
    uint16_t rep;         /* index into reps; 0 is "" */
    int16_t nb;           /* neighbourhood index, or NO_NB */
} gc_addr;

typedef struct gc_street {
    uint32_t name;        /* display name, arena offset */
    uint32_t city;        /* city index */
    uint32_t postcode;    /* arena offset */
    uint32_t first, count;/* addresses [first, first + count), by number then suffix */
    uint32_t tok, ntok;   /* its vocabulary ids: street_toks[tok .. tok + ntok) */
    float weight;         /* sum of its tokens' idf */
} gc_street;

typedef struct gc_city {
    uint32_t name;        /* arena offset */
    uint32_t tok, ntok;   /* vocabulary ids in city_toks */
} gc_city;

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
    gc_word *word;       size_t n_word, cap_word;
    uint32_t *street_toks; size_t n_street_toks;
    uint32_t *city_toks;   size_t n_city_toks;
    uint32_t *posts;             /* street ids, grouped by word */
    uint32_t *word_hash;         /* open addressing: word id + 1, 0 = empty */
    size_t word_hash_cap;        /* a power of two */
    uint64_t *del_hash;          /* deletion index: sorted hashes ... */
    uint32_t *del_word;          /* ... and the word each belongs to */
    size_t n_del;
    char **reps;         size_t n_reps;
    gc_nb *nbs;          size_t n_nbs;
    uint32_t *postcodes; size_t n_postcodes;   /* sorted numeric postcodes seen */
    /* reverse grid: addresses sorted by cell, and the cells present */
    uint32_t *grid_addr;
    int64_t *grid_key;   uint32_t *grid_start; size_t n_cells;
    double cell_lat, cell_lon, min_lat, min_lon;
    float idf_unknown;
};

/* ---- building ---------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n)
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

static const char *str(const geodata_geocoder *g, uint32_t off)
{
    return g->arena + off;
}

static long word_find(const geodata_geocoder *g, const char *s, size_t n)
{
    if (!g->word_hash_cap)
        return -1;
    size_t mask = g->word_hash_cap - 1;
    for (size_t i = hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t v = g->word_hash[i];
        if (!v)
            return -1;
        const gc_word *w = &g->word[v - 1];
        if (w->len == n && memcmp(str(g, w->text), s, n) == 0)
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
        size_t i = hash_bytes(str(g, w->text), w->len) & (cap - 1);
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
    long id = word_find(g, s, n);
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
    size_t i = hash_bytes(s, n) & mask;
    while (g->word_hash[i])
        i = (i + 1) & mask;
    g->word_hash[i] = (uint32_t)g->n_word + 1;
    return (long)g->n_word++;
}

/* Normalises text and appends its distinct word ids to *toks. */
static int tokens_of(geodata_geocoder *g, const char *text, uint32_t **toks, size_t *n,
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
        if (dup)
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

static int load_neighbourhoods(geodata_store *store, geodata_geocoder *g)
{
    sqlite3_stmt *st = geodata_prepare(store, "SELECT id, name FROM neighbourhoods ORDER BY id");
    if (!st)
        return GEODATA_EDB;
    size_t cap = 0;
    int rc = GEODATA_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (grow((void **)&g->nbs, &cap, g->n_nbs + 1, sizeof *g->nbs)) {
            rc = GEODATA_ENOMEM;
            break;
        }
        gc_nb *nb = &g->nbs[g->n_nbs++];
        nb->id = strdup((const char *)sqlite3_column_text(st, 0));
        nb->name = strdup((const char *)sqlite3_column_text(st, 1));
        if (!nb->id || !nb->name)
            rc = GEODATA_ENOMEM;
    }
    sqlite3_finalize(st);
    if (g->n_nbs > INT16_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "too many neighbourhoods for the geocoder");
    return rc ? geodata_fail(store, rc, "out of memory") : GEODATA_OK;
}

static int16_t nb_index(const geodata_geocoder *g, const unsigned char *id)
{
    if (!id)
        return NO_NB;
    gc_nb key = { (char *)id, NULL };
    const gc_nb *hit = bsearch(&key, g->nbs, g->n_nbs, sizeof *g->nbs, cmp_str);
    return hit ? (int16_t)(hit - g->nbs) : NO_NB;
}

static uint16_t rep_index(geodata_geocoder *g, const char *rep, size_t *cap)
{
    for (size_t i = 0; i < g->n_reps; i++)
        if (strcmp(g->reps[i], rep) == 0)
            return (uint16_t)i;
    if (g->n_reps >= UINT16_MAX || grow((void **)&g->reps, cap, g->n_reps + 1, sizeof *g->reps))
        return UINT16_MAX;
    g->reps[g->n_reps] = strdup(rep);
    return g->reps[g->n_reps] ? (uint16_t)g->n_reps++ : UINT16_MAX;
}

static int same(const unsigned char *a, const char *b)
{
    return strcmp(a ? (const char *)a : "", b) == 0;
}

/* Reads the addresses, grouped into streets, and the cities' and streets'
 * words. */
static int read_addresses(geodata_store *store, geodata_geocoder *g)
{
    sqlite3_stmt *st = geodata_prepare(store,
        "SELECT source_id, number, rep, street, postcode, insee, city, X(geom), Y(geom), "
        "neighbourhood_id FROM addresses ORDER BY street, insee, postcode, number, rep");
    if (!st)
        return GEODATA_EDB;
    size_t cap_addr = 0, cap_street = 0, cap_city = 0, cap_reps = 0, cap_st = 0, cap_ct = 0;
    int rc = GEODATA_OK;
    char insee[32] = "";
    if (rep_index(g, "", &cap_reps) == UINT16_MAX)
        rc = GEODATA_ENOMEM;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *street = sqlite3_column_text(st, 3);
        const unsigned char *postcode = sqlite3_column_text(st, 4);
        const unsigned char *ins = sqlite3_column_text(st, 5);
        const unsigned char *cityname = sqlite3_column_text(st, 6);
        gc_street *s = g->n_street ? &g->street[g->n_street - 1] : NULL;
        if (!s || !same(street, str(g, s->name)) || !same(postcode, str(g, s->postcode))
            || !same(ins, insee)
            || !same(cityname, str(g, g->city[s->city].name))) {
            if (grow((void **)&g->street, &cap_street, g->n_street + 1, sizeof *g->street)) {
                rc = GEODATA_ENOMEM;
                break;
            }
            snprintf(insee, sizeof insee, "%s", ins ? (const char *)ins : "");
            s = &g->street[g->n_street++];
            memset(s, 0, sizeof *s);
            const char *sn = street ? (const char *)street : "";
            const char *pc = postcode ? (const char *)postcode : "";
            const char *cn = cityname ? (const char *)cityname : "";
            s->name = intern(g, sn, strlen(sn));
            s->postcode = intern(g, pc, strlen(pc));
            s->first = (uint32_t)g->n_addr;
            /* Cities repeat street after street: the last one is reused. */
            if (!g->n_city || strcmp(str(g, g->city[g->n_city - 1].name), cn) != 0) {
                if (grow((void **)&g->city, &cap_city, g->n_city + 1, sizeof *g->city)) {
                    rc = GEODATA_ENOMEM;
                    break;
                }
                gc_city *c = &g->city[g->n_city++];
                c->name = intern(g, cn, strlen(cn));
                if (tokens_of(g, cn, &g->city_toks, &g->n_city_toks, &cap_ct, &c->tok, &c->ntok)) {
                    rc = GEODATA_ENOMEM;
                    break;
                }
            }
            s->city = (uint32_t)g->n_city - 1;
            if (s->name == UINT32_MAX || s->postcode == UINT32_MAX
                || tokens_of(g, sn, &g->street_toks, &g->n_street_toks, &cap_st, &s->tok, &s->ntok)) {
                rc = GEODATA_ENOMEM;
                break;
            }
            long pcv = strlen(pc) == 5 ? strtol(pc, NULL, 10) : -1;
            if (pcv > 0 && (!g->n_postcodes || g->postcodes[g->n_postcodes - 1] != (uint32_t)pcv)) {
                size_t cap_pc = g->n_postcodes;
                if (grow((void **)&g->postcodes, &cap_pc, g->n_postcodes + 1, sizeof *g->postcodes)) {
                    rc = GEODATA_ENOMEM;
                    break;
                }
                g->postcodes[g->n_postcodes++] = (uint32_t)pcv;
            }
        }
        if (grow((void **)&g->addr, &cap_addr, g->n_addr + 1, sizeof *g->addr)) {
            rc = GEODATA_ENOMEM;
            break;
        }
        gc_addr *a = &g->addr[g->n_addr++];
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *rep = (const char *)sqlite3_column_text(st, 2);
        a->id = intern(g, id, strlen(id));
        a->number = sqlite3_column_int(st, 1);
        a->rep = rep_index(g, rep ? rep : "", &cap_reps);
        a->street = (uint32_t)g->n_street - 1;
        a->lon = sqlite3_column_double(st, 7);
        a->lat = sqlite3_column_double(st, 8);
        a->nb = nb_index(g, sqlite3_column_text(st, 9));
        s->count++;
        if (a->id == UINT32_MAX || a->rep == UINT16_MAX)
            rc = GEODATA_ENOMEM;
    }
    sqlite3_finalize(st);
    if (rc)
        return geodata_fail(store, rc, "out of memory");
    return GEODATA_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Postings (word -> streets), weights, and the postcode list. */
static int build_postings(geodata_geocoder *g)
{
    for (size_t i = 0; i < g->n_street_toks; i++)
        g->word[g->street_toks[i]].npost++;
    uint32_t at = 0;
    for (size_t w = 0; w < g->n_word; w++) {
        g->word[w].post = at;
        at += g->word[w].npost;
        g->word[w].npost = 0;
    }
    g->posts = malloc((at ? at : 1) * sizeof *g->posts);
    if (!g->posts)
        return -1;
    for (size_t s = 0; s < g->n_street; s++)
        for (uint32_t k = 0; k < g->street[s].ntok; k++) {
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

/* Typos: the deletion index. */
static int typo_distance_for(size_t len)
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

/* Calls emit(arg, variant, len) for s and every spelling of s with up to d
 * letters deleted (duplicates included). Work: O(len^d) variants. */
static void deletions(const char *s, size_t n, int d,
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
    b->e[b->n].h = hash_bytes(s, n);
    b->e[b->n++].w = b->w;
}

static int is_letters(const char *s, size_t n)
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
        const char *s = str(g, g->word[w].text);
        size_t n = g->word[w].len;
        int d = typo_distance_for(n);
        if (!d || !is_letters(s, n))
            continue;
        b.w = (uint32_t)w;
        deletions(s, n, d, add_deletion, &b);
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
    for (size_t i = 0; i < g->n_reps; i++)
        free(g->reps[i]);
    for (size_t i = 0; i < g->n_nbs; i++) {
        free(g->nbs[i].id);
        free(g->nbs[i].name);
    }
    free(g->reps);
    free(g->nbs);
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
    int rc = load_neighbourhoods(store, g);
    if (!rc) rc = read_addresses(store, g);
    if (!rc && (build_postings(g) || build_deletions(g) || build_grid(g)))
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

/* ---- searching --------------------------------------------------------- */

typedef struct qmatch { uint32_t word; float sim; } qmatch;

typedef struct qtok {
    const geodata_token *t;
    qmatch m[MAX_MATCH];
    int nm;
    float weight;          /* rarity of what it matched, or idf_unknown */
    uint64_t posts;        /* streets its matches point to */
    int in_city;           /* its best match is also a word of a city's name */
    int postcode;          /* a 5-digit number: the postcode, right or wrong */
} qtok;

/* Optimal string alignment distance (edits and adjacent swaps), or a value
 * above bound as soon as it must exceed it. Work: O(len(a) * len(b)). */
static int osa_distance(const char *a, size_t n, const char *b, size_t m, int bound)
{
    if ((n > m ? n - m : m - n) > (size_t)bound)
        return bound + 1;
    int rows[3][257];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
            if (v < best) best = v;
        }
        if (best > bound)
            return bound + 1;
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

static void add_match(qtok *q, uint32_t word, float sim)
{
    for (int i = 0; i < q->nm; i++)
        if (q->m[i].word == word) {
            if (sim > q->m[i].sim) q->m[i].sim = sim;
            return;
        }
    if (q->nm < MAX_MATCH) {
        q->m[q->nm].word = word;
        q->m[q->nm++].sim = sim;
        return;
    }
    int worst = 0;
    for (int i = 1; i < q->nm; i++)
        if (q->m[i].sim < q->m[worst].sim) worst = i;
    if (sim > q->m[worst].sim) {
        q->m[worst].word = word;
        q->m[worst].sim = sim;
    }
}

typedef struct fuzzy_ctx { const geodata_geocoder *g; qtok *q; } fuzzy_ctx;

/* One deletion variant of the typed word: every vocabulary word sharing it is
 * a candidate, kept if truly within the allowed number of edits. */
static void fuzzy_variant(void *arg, const char *s, size_t n)
{
    fuzzy_ctx *c = arg;
    const geodata_geocoder *g = c->g;
    uint64_t h = hash_bytes(s, n);
    size_t lo = 0, hi = g->n_del;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->del_hash[mid] < h) lo = mid + 1; else hi = mid;
    }
    const geodata_token *t = c->q->t;
    for (size_t i = lo; i < g->n_del && g->del_hash[i] == h; i++) {
        const gc_word *w = &g->word[g->del_word[i]];
        size_t shortest = w->len < t->len ? w->len : t->len;
        int allowed = typo_distance_for(shortest) ? typo_distance_for(shortest) : 1;
        int d = osa_distance(t->text, t->len, str(g, w->text), w->len, allowed);
        if (d > 0 && d <= allowed) {
            size_t longest = w->len > t->len ? w->len : t->len;
            add_match(c->q, g->del_word[i], (float)(1.0 - (double)d / (double)longest));
        }
    }
}

/* Matches one token against the vocabulary: exactly, and with typos unless
 * the exact match is enough (exact_suffices and there is one). */
static void match_token(const geodata_geocoder *g, qtok *q, int exact_suffices)
{
    const geodata_token *t = q->t;
    q->nm = 0;
    q->postcode = t->kind == GEODATA_TOK_NUMBER && t->len == 5;
    long exact = word_find(g, t->text, t->len);
    if (exact >= 0)
        add_match(q, (uint32_t)exact, 1.0f);
    /* A 3-letter word is only looked up as it is among the deletions: that
     * finds the 4-letter words it lacks one letter of. */
    int d = typo_distance_for(t->len);
    if ((exact < 0 || !exact_suffices) && t->kind == GEODATA_TOK_WORD && t->len >= 3
        && is_letters(t->text, t->len)) {
        fuzzy_ctx c = { g, q };
        deletions(t->text, t->len, d, fuzzy_variant, &c);
    }
    float best = 0;
    q->weight = g->idf_unknown;
    q->posts = 0;
    q->in_city = 0;
    for (int i = 0; i < q->nm; i++) {
        const gc_word *w = &g->word[q->m[i].word];
        q->posts += w->npost;
        if (q->m[i].sim > best) {
            best = q->m[i].sim;
            q->weight = w->idf;
            q->in_city = w->in_city;
        }
    }
}

typedef struct scored {
    uint32_t street;
    float score;
    int house;             /* query token index of the house number, or -1 */
} scored;

static int has_word(const uint32_t *toks, uint32_t n, uint32_t w)
{
    for (uint32_t i = 0; i < n; i++)
        if (toks[i] == w)
            return 1;
    return 0;
}

/* How well street s fits the query; also chooses the house number among the
 * query's numbers (the first one that is not part of the street's name). */
static void score_street(const geodata_geocoder *g, const qtok *q, size_t nq, long postcode,
                         uint32_t s, scored *out)
{
    const gc_street *st = &g->street[s];
    const uint32_t *T = g->street_toks + st->tok;
    const gc_city *city = &g->city[st->city];
    const uint32_t *C = g->city_toks + city->tok;
    int consumed[GEODATA_TOKENS_MAX] = { 0 };
    /* Numbers of the street's own name ("Rue du 4 Septembre") take the last
     * matching numbers of the query; the first number left is the house. */
    for (uint32_t k = 0; k < st->ntok; k++)
        for (size_t i = nq; i-- > 0;) {
            if (q[i].t->kind != GEODATA_TOK_NUMBER || q[i].postcode || consumed[i])
                continue;
            if (q[i].nm && q[i].m[0].sim == 1.0f && q[i].m[0].word == T[k]) {
                consumed[i] = 1;
                break;
            }
        }
    int house = -1;
    for (size_t i = 0; i < nq && house < 0; i++)
        if (q[i].t->kind == GEODATA_TOK_NUMBER && !q[i].postcode && !consumed[i]
            && q[i].t->number >= 0 && q[i].t->len <= 5)
            house = (int)i;
    float best_tok[GEODATA_TOKENS_MAX] = { 0 };
    double qw = 0, qm = 0;
    for (size_t i = 0; i < nq; i++) {
        if ((int)i == house || q[i].postcode
            || (house >= 0 && (int)i == house + 1 && q[i].t->kind == GEODATA_TOK_SUFFIX))
            continue;
        float in_street = 0, in_city = 0;
        for (int k = 0; k < q[i].nm; k++) {
            for (uint32_t j = 0; j < st->ntok && j < GEODATA_TOKENS_MAX; j++)
                if (T[j] == q[i].m[k].word) {
                    if (q[i].m[k].sim > in_street) in_street = q[i].m[k].sim;
                    if (q[i].m[k].sim > best_tok[j]) best_tok[j] = q[i].m[k].sim;
                }
            if (has_word(C, city->ntok, q[i].m[k].word) && q[i].m[k].sim > in_city)
                in_city = q[i].m[k].sim;
        }
        qw += q[i].weight;
        qm += q[i].weight * (in_street > in_city ? in_street : in_city);
    }
    double sw = 0;
    for (uint32_t j = 0; j < st->ntok && j < GEODATA_TOKENS_MAX; j++)
        sw += g->word[T[j]].idf * best_tok[j];
    double street_cov = st->weight > 0 ? sw / st->weight : 0;
    double query_cov = qw > 0 ? qm / qw : 1;
    double score = street_cov < 0.5 ? 0 : 0.55 * street_cov + 0.45 * query_cov;
    if (postcode >= 0 && strtol(str(g, st->postcode), NULL, 10) != postcode)
        score -= 0.05;
    out->street = s;
    out->score = (float)(score > 0 ? score : 0);
    out->house = house;
}

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->street > y->street) - (x->street < y->street);
}

static void fill_result(const geodata_geocoder *g, const gc_addr *a, geodata_match_type type,
                        double score, geodata_geocode_result *r)
{
    const gc_street *st = &g->street[a->street];
    memset(r, 0, sizeof *r);
    r->typed_number = -1;
    r->type = type;
    r->score = score;
    r->lon = a->lon;
    r->lat = a->lat;
    if (a->nb != NO_NB) {
        r->neighbourhood_id = g->nbs[a->nb].id;
        r->neighbourhood_name = g->nbs[a->nb].name;
    }
    const char *city = str(g, g->city[st->city].name);
    r->street = str(g, st->name);
    r->postcode = str(g, st->postcode);
    r->city = city;
    r->rep = "";
    if (type == GEODATA_MATCH_HOUSENUMBER) {
        r->number = a->number;
        r->rep = g->reps[a->rep];
        const char *rep = g->reps[a->rep];
        r->address_id = str(g, a->id);
        snprintf(r->label, sizeof r->label, "%d%s%s %s, %s %s", (int)a->number, *rep ? " " : "",
                 geodata_rep_word(rep), str(g, st->name), str(g, st->postcode), city);
    } else {
        snprintf(r->label, sizeof r->label, "%s, %s %s", str(g, st->name), str(g, st->postcode), city);
    }
}

/* The address of street s with this number and suffix, or NULL. */
static const gc_addr *find_number(const geodata_geocoder *g, uint32_t s, long number, const char *rep)
{
    const gc_street *st = &g->street[s];
    size_t lo = st->first, hi = (size_t)st->first + st->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->addr[mid].number < number) lo = mid + 1; else hi = mid;
    }
    for (size_t i = lo; i < (size_t)st->first + st->count && g->addr[i].number == number; i++)
        if (strcmp(g->reps[g->addr[i].rep], rep) == 0)
            return &g->addr[i];
    return NULL;
}

/* Turns a scored street into a result: the house number if it exists there. */
static void resolve(const geodata_geocoder *g, const qtok *q, size_t nq, const scored *c,
                    geodata_geocode_result *r)
{
    const gc_street *st = &g->street[c->street];
    const gc_addr *middle = &g->addr[st->first + st->count / 2];
    if (c->house < 0) {
        fill_result(g, middle, GEODATA_MATCH_STREET, c->score * 0.9, r);
        return;
    }
    long number = q[c->house].t->number;
    const char *rep = "";
    if ((size_t)c->house + 1 < nq && q[c->house + 1].t->kind == GEODATA_TOK_SUFFIX)
        rep = q[c->house + 1].t->text;
    const gc_addr *a = find_number(g, c->street, number, rep);
    if (a) {
        fill_result(g, a, GEODATA_MATCH_HOUSENUMBER, c->score, r);
    } else if (strcmp(rep, "a") == 0 && (a = find_number(g, c->street, number, "")) != NULL) {
        /* "12 a rue ..." is more often "12, à la rue" than the suffix a. */
        fill_result(g, a, GEODATA_MATCH_HOUSENUMBER, c->score * 0.9, r);
    } else {
        fill_result(g, middle, GEODATA_MATCH_STREET, c->score * 0.6, r);
    }
    r->typed_number = (int)number;
}

static int cmp_result(const void *a, const void *b)
{
    const geodata_geocode_result *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return 0;
}

#define MIN_SCORE 0.3
#define SURE_SCORE 0.95   /* a first pass this good needs no second one */

/* One search pass over normalised tokens (see the top of the file). */
static int search(const geodata_geocoder *g, const geodata_tokens *toks, int exact_suffices,
                  size_t limit, geodata_geocode_result *results, size_t *n)
{
    *n = 0;
    qtok q[GEODATA_TOKENS_MAX];
    long postcode = -1;
    for (size_t i = 0; i < toks->n; i++) {
        q[i].t = &toks->tok[i];
        match_token(g, &q[i], exact_suffices);
        if (q[i].postcode && postcode < 0)
            postcode = q[i].t->number;
    }
    /* Candidate streets come from seeds: the rarest street word (not a
     * number, not a city's word: "Paris" is also in "Parvis du Tribunal de
     * Paris"), however common, then up to two more words, numbers last, if
     * rare (in fewer than one street in 50). */
    int order[GEODATA_TOKENS_MAX], no = 0;
    for (size_t i = 0; i < toks->n; i++)
        if (q[i].nm && q[i].posts && !q[i].postcode && q[i].t->kind != GEODATA_TOK_SUFFIX)
            order[no++] = (int)i;
    for (int i = 1; i < no; i++)
        for (int j = i; j > 0; j--) {
            const qtok *a = &q[order[j - 1]], *b = &q[order[j]];
            int ak = (a->t->kind == GEODATA_TOK_NUMBER) * 2 + a->in_city;
            int bk = (b->t->kind == GEODATA_TOK_NUMBER) * 2 + b->in_city;
            if (ak > bk || (ak == bk && a->posts > b->posts)) {
                int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
            }
        }
    uint32_t *cand = malloc(MAX_CAND * sizeof *cand);
    scored *sc = malloc(MAX_CAND * sizeof *sc);
    if (!cand || !sc) {
        free(cand);
        free(sc);
        return GEODATA_ENOMEM;
    }
    size_t nc = 0;
    for (int k = 0, used = 0; k < no && used < 3; k++) {
        const qtok *s = &q[order[k]];
        if (k > 0 && s->posts * 50 > g->n_street)
            continue;
        used++;
        for (int m = 0; m < s->nm; m++) {
            const gc_word *w = &g->word[s->m[m].word];
            for (uint32_t p = 0; p < w->npost && nc < MAX_CAND; p++)
                cand[nc++] = g->posts[w->post + p];
        }
    }
    qsort(cand, nc, sizeof *cand, cmp_u32);
    size_t ns = 0;
    for (size_t i = 0; i < nc; i++) {
        if (i && cand[i] == cand[i - 1])
            continue;
        score_street(g, q, toks->n, postcode, cand[i], &sc[ns]);
        if (sc[ns].score >= MIN_SCORE)
            ns++;
    }
    qsort(sc, ns, sizeof *sc, cmp_scored);
    geodata_geocode_result tmp[TOP_STREETS];
    size_t nt = ns < TOP_STREETS ? ns : TOP_STREETS;
    for (size_t i = 0; i < nt; i++)
        resolve(g, q, toks->n, &sc[i], &tmp[i]);
    qsort(tmp, nt, sizeof *tmp, cmp_result);
    for (size_t i = 0; i < nt && *n < limit; i++)
        if (tmp[i].score >= MIN_SCORE)
            results[(*n)++] = tmp[i];
    free(cand);
    free(sc);
    return GEODATA_OK;
}

const char *geodata_geocode_query_problem(const char *query)
{
    if (!query)
        return "the query is empty";
    size_t len = strlen(query);
    if (len > GEODATA_QUERY_MAX)
        return "the query is longer than 512 bytes";
    if (!geodata_utf8_valid(query, len))
        return "the query is not valid UTF-8";
    int blank = 1;
    for (const unsigned char *c = (const unsigned char *)query; *c; c++) {
        /* C0 controls and DEL; C1 controls are U+0080..U+009F, 0xC2 0x80..0x9F */
        if (*c < 0x20 || *c == 0x7F || (*c == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F))
            return "the query holds control characters";
        blank &= *c == ' ';
    }
    return blank ? "the query is empty" : NULL;
}

int geodata_geocode(const geodata_geocoder *g, const char *query, size_t limit,
                    geodata_geocode_result *results, size_t *n)
{
    *n = 0;
    if (geodata_geocode_query_problem(query))
        return GEODATA_EINVAL;
    geodata_tokens toks;
    if (geodata_normalize(query, strlen(query), &toks))
        return GEODATA_EINVAL;
    if (limit == 0 || g->n_street == 0)
        return GEODATA_OK;
    /* Words found as typed are taken as typed first; only when that gives no
     * sure answer are they also read as typos of other words (a typo can make
     * another real word: "rue de la paix" for "poix"). */
    int rc = search(g, &toks, 1, limit, results, n);
    if (rc || (*n > 0 && results[0].score >= SURE_SCORE))
        return rc;
    return search(g, &toks, 0, limit, results, n);
}

int geodata_geocode_autocomplete(const geodata_geocoder *g, const char *query, size_t limit,
                                 geodata_geocode_result *results, size_t *n)
{
    return geodata_geocode(g, query, limit, results, n);
}

/* Great-circle distance in metres (haversine, mean Earth radius). */
static double distance_m(double lon1, double lat1, double lon2, double lat2)
{
    double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
    double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
    double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * 6371008.8 * asin(sqrt(h));
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
    fill_result(g, best, GEODATA_MATCH_HOUSENUMBER, 1.0, result);
    result->distance_m = best_d;
    return GEODATA_OK;
}

geodata_verify_status geodata_geocode_verify(const geodata_geocode_result *r, size_t n)
{
    if (n == 0)
        return GEODATA_VERIFY_NOT_FOUND;
    if (r[0].evidence & (GEODATA_EVIDENCE_OTHER_TOWN | GEODATA_EVIDENCE_OTHER_POSTCODE
                         | GEODATA_EVIDENCE_CONTRADICTION))
        return GEODATA_VERIFY_NOT_COVERED;
    if (r[0].type != GEODATA_MATCH_HOUSENUMBER)
        return GEODATA_VERIFY_NOT_FOUND;
    if (r[0].approximate)
        return GEODATA_VERIFY_APPROXIMATE;
    if (r[0].score < GEODATA_VERIFY_MIN_SCORE || (r[0].evidence & GEODATA_EVIDENCE_UNEXPLAINED))
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
    return r->type == GEODATA_MATCH_HOUSENUMBER && !r->approximate && !r->evidence
        && r->typed_number == r->number;
}

const char *geodata_verify_reason(geodata_verify_status status)
{
    switch (status) {
    case GEODATA_VERIFIED: return "verified";
    case GEODATA_VERIFY_NOT_FOUND: return "address not found";
    case GEODATA_VERIFY_LOW_SCORE: return "address not recognised with confidence";
    case GEODATA_VERIFY_AMBIGUOUS: return "ambiguous address";
    case GEODATA_VERIFY_OUTSIDE: return "address outside every neighbourhood";
    case GEODATA_VERIFY_NOT_COVERED: return "address in a town or postcode the service does not cover";
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
