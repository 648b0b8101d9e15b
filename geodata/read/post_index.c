/*
 * geodata/read/post_index.c — the live posts in memory (see post_index.h).
 *
 * Layout: one record per post, reachable two ways. `by_id` is an array of
 * record pointers sorted by id: newest-first lists walk it from the end, and
 * updates find a post by binary search (new posts, the usual case, append).
 * `cells` is a hash table of grid cells, 250 m squares of the store's metric
 * (the Lambert azimuthal equal-area projection centred on the
 * neighbourhoods, geom.h), each holding the records whose projected point
 * falls in it: a near query visits the cells that cover each circle's
 * bounding square. A hash rather than a fixed array: the grid spans wherever
 * posts are, whatever the city, and only cells that ever held a post exist.
 * Neighbourhood ids are interned to small integers, so that the viewer's
 * visible set is one byte per neighbourhood during a query.
 *
 * Exactness: a record keeps the public point as stored (the doubles of the
 * geometry BLOB's header, as posts.c reads them), projects it once through
 * the same PROJ pipeline that posts.c uses per query, and distances are the
 * same hypot() of the same doubles: the metres are those of the SQL path to
 * the last bit. Circles, limits and errors come from post_query.h.
 *
 * Invariants (under the lock): by_id is sorted by id without duplicates;
 * every record with a finite projected point is in exactly the cell its
 * point falls in (rec.cell), every other in none (rec.cell == NO_CELL);
 * every record's payload belongs to the index.
 *
 * Lock: `lock`, a pthread rwlock preferring writers (glibc's
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): queries hold it shared,
 * updates, pruning and swaps exclusively. Nothing else is shared.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "internal.h"
#include "post_query.h"
#include "geodata/ids.h"
#include "geodata/post_index.h"

#define CELL_M   250.0                 /* grid cell side, metres */
#define NO_CELL  INT64_MIN             /* rec.cell of a record outside the grid; a free slot's key */
#define NB_NONE  UINT32_MAX            /* rec.nb of a post without neighbourhood */
#define CELL_MAX 1000000000.0          /* |cell index| bound: far beyond any projected point */

enum { ST_OPEN, ST_CLAIMED };

typedef struct rec {
    int64_t id;
    int64_t author_id;
    int64_t claimed_by;       /* 0 when nobody */
    int64_t expires_at;
    int64_t group_id;         /* 0: in no group */
    double lon, lat;          /* the public point, as stored */
    double x, y;              /* in the metric; not finite when it cannot be projected */
    int64_t cell;             /* key of the cell holding it, or NO_CELL */
    void *payload;            /* the owner's, freed with free_payload */
    uint32_t nb;              /* interned neighbourhood, or NB_NONE */
    uint8_t status;           /* ST_OPEN, ST_CLAIMED */
    uint8_t kind;             /* 0 request, 1 offer */
    uint8_t category;         /* index in geodata_post_categories */
    uint8_t hidden;
} rec;

/* A record in a cell, with its point copied beside it: a near query reads
 * the cell's entries in a row and follows the pointer only for those inside
 * the circle. */
typedef struct cell_entry {
    double x, y;
    rec *r;
} cell_entry;

typedef struct cell {
    int64_t key;              /* packed (ix, iy), or NO_CELL for a free slot */
    cell_entry *items;        /* unordered */
    uint32_t n, cap;
} cell;

struct geodata_post_index {
    pthread_rwlock_t lock;    /* see the top of the file */
    void (*free_payload)(void *payload);
    rec **by_id;              /* sorted by id */
    size_t n, cap;
    cell *cells;              /* open addressing, linear probing; cap a power of two */
    size_t n_cells, cap_cells;
    geodata_ids *nbs;         /* interned neighbourhood ids: rec.nb numbers them */
};

int geodata_post_index_new(void (*free_payload)(void *payload), geodata_post_index **out)
{
    *out = NULL;
    geodata_post_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return GEODATA_ENOMEM;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&idx->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc) {
        free(idx);
        return GEODATA_ENOMEM;
    }
    idx->free_payload = free_payload;
    if (!(idx->nbs = geodata_ids_new())) {
        pthread_rwlock_destroy(&idx->lock);
        free(idx);
        return GEODATA_ENOMEM;
    }
    *out = idx;
    return GEODATA_OK;
}

static void free_rec(geodata_post_index *idx, rec *r)
{
    if (r && r->payload && idx->free_payload)
        idx->free_payload(r->payload);
    free(r);
}

/* Frees the contents (records, cells, names), leaving idx empty. */
static void clear_contents(geodata_post_index *idx)
{
    for (size_t i = 0; i < idx->n; i++)
        free_rec(idx, idx->by_id[i]);
    free(idx->by_id);
    for (size_t i = 0; i < idx->cap_cells; i++)
        free(idx->cells[i].items);
    free(idx->cells);
    geodata_ids_free(idx->nbs);
    idx->nbs = geodata_ids_new();  /* NULL when out of memory: interning then fails */
    idx->by_id = NULL;
    idx->n = idx->cap = 0;
    idx->cells = NULL;
    idx->n_cells = idx->cap_cells = 0;
}

void geodata_post_index_free(geodata_post_index *idx)
{
    if (!idx)
        return;
    clear_contents(idx);
    geodata_ids_free(idx->nbs);
    pthread_rwlock_destroy(&idx->lock);
    free(idx);
}

int geodata_post_index_covers(const geodata_post_query *q)
{
    return !q->keywords && !q->reported
        && (!q->status || strcmp(q->status, "open") == 0 || strcmp(q->status, "claimed") == 0);
}

/* ---- grid cells ---- */

static int64_t cell_key(int64_t ix, int64_t iy)
{
    return (int64_t)(((uint64_t)(uint32_t)ix << 32) | (uint32_t)iy);
}

/* The cell index of a coordinate, bounded so that keys stay distinct. */
static int64_t cell_index(double v)
{
    double c = floor(v / CELL_M);
    return (int64_t)fmax(-CELL_MAX, fmin(CELL_MAX, c));
}

static size_t cell_slot(int64_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static cell *cell_find(const geodata_post_index *idx, int64_t key)
{
    if (!idx->cap_cells)
        return NULL;
    for (size_t i = cell_slot(key, idx->cap_cells);; i = (i + 1) & (idx->cap_cells - 1)) {
        cell *c = &idx->cells[i];
        if (c->key == key)
            return c;
        if (c->key == NO_CELL)
            return NULL;
    }
}

/* The cell of key, made if absent; NULL when out of memory. The table is
 * kept at most half full, so probing ends quickly. */
static cell *cell_get(geodata_post_index *idx, int64_t key)
{
    cell *c = cell_find(idx, key);
    if (c)
        return c;
    if ((idx->n_cells + 1) * 2 > idx->cap_cells) {
        size_t ncap = idx->cap_cells ? idx->cap_cells * 2 : 1024;
        cell *t = malloc(ncap * sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < ncap; i++)
            t[i] = (cell){ .key = NO_CELL };
        for (size_t i = 0; i < idx->cap_cells; i++) {
            if (idx->cells[i].key == NO_CELL)
                continue;
            size_t j = cell_slot(idx->cells[i].key, ncap);
            while (t[j].key != NO_CELL)
                j = (j + 1) & (ncap - 1);
            t[j] = idx->cells[i];
        }
        free(idx->cells);
        idx->cells = t;
        idx->cap_cells = ncap;
    }
    size_t i = cell_slot(key, idx->cap_cells);
    while (idx->cells[i].key != NO_CELL)
        i = (i + 1) & (idx->cap_cells - 1);
    idx->cells[i] = (cell){ .key = key };
    idx->n_cells++;
    return &idx->cells[i];
}

static int grid_add(geodata_post_index *idx, rec *r)
{
    if (!isfinite(r->x) || !isfinite(r->y)) {
        r->cell = NO_CELL;
        return GEODATA_OK;
    }
    int64_t key = cell_key(cell_index(r->x), cell_index(r->y));
    cell *c = cell_get(idx, key);
    if (!c)
        return GEODATA_ENOMEM;
    if (c->n == c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 8;
        cell_entry *m = realloc(c->items, ncap * sizeof *m);
        if (!m)
            return GEODATA_ENOMEM;
        c->items = m;
        c->cap = ncap;
    }
    c->items[c->n++] = (cell_entry){ r->x, r->y, r };
    r->cell = key;
    return GEODATA_OK;
}

static void grid_remove(geodata_post_index *idx, rec *r)
{
    cell *c = r->cell == NO_CELL ? NULL : cell_find(idx, r->cell);
    for (uint32_t i = 0; c && i < c->n; i++)
        if (c->items[i].r == r) {
            c->items[i] = c->items[--c->n];
            break;
        }
    r->cell = NO_CELL;
}

/* ---- records ---- */

/* The position of id in by_id, or where it would go; *found tells which. */
static size_t find_id(const geodata_post_index *idx, int64_t id, int *found)
{
    size_t lo = 0, hi = idx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < idx->n && idx->by_id[lo]->id == id;
    return lo;
}

/* The interned index of neighbourhood nb ("" for none); NB_NONE with *oom
 * set when out of memory. */
static uint32_t intern_nb(geodata_post_index *idx, const char *nb, int *oom)
{
    if (!*nb)
        return NB_NONE;
    uint32_t i = idx->nbs ? geodata_ids_intern(idx->nbs, nb) : GEODATA_IDS_NONE;
    if (i == GEODATA_IDS_NONE)
        *oom = 1;
    return i;
}

static int category_index(const char *category)
{
    for (int i = 0; category && geodata_post_categories[i]; i++)
        if (strcmp(geodata_post_categories[i], category) == 0)
            return i;
    return -2; /* matches no post */
}

static int kind_index(const char *kind)
{
    return !kind ? -1 : strcmp(kind, "request") == 0 ? 0 : strcmp(kind, "offer") == 0 ? 1 : -2;
}

/* 1 when p belongs in the index at now. */
static int is_live(const geodata_post *p, int64_t now)
{
    return strcmp(p->status, "claimed") == 0
        || (strcmp(p->status, "open") == 0 && p->expires_at > now - GEODATA_POST_INDEX_GRACE_S);
}

/* A record for p (not yet in the index: no cell, no neighbourhood), with its
 * point projected through metric (NULL: none); NULL when out of memory. */
static rec *make_rec(const geodata_post *p, geodata_metric *metric)
{
    rec *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    int category = category_index(p->category);
    *r = (rec){
        .id = p->id, .author_id = p->author_id, .claimed_by = p->claimed_by,
        .expires_at = p->expires_at, .group_id = p->group_id, .lon = p->lon, .lat = p->lat,
        .x = NAN, .y = NAN,
        .cell = NO_CELL, .nb = NB_NONE,
        .status = strcmp(p->status, "claimed") == 0 ? ST_CLAIMED : ST_OPEN,
        .kind = strcmp(p->kind, "offer") == 0 ? 1 : 0,
        .category = (uint8_t)(category < 0 ? UINT8_MAX : category),
        .hidden = p->hidden ? 1 : 0,
    };
    double x = p->lon, y = p->lat;
    if (metric && geodata_metric_forward(metric, &x, &y) == GEODATA_OK) {
        r->x = x;
        r->y = y;
    }
    return r;
}

/* Takes the record at position i out of the index and frees it. */
static void drop_at(geodata_post_index *idx, size_t i)
{
    rec *r = idx->by_id[i];
    grid_remove(idx, r);
    memmove(idx->by_id + i, idx->by_id + i + 1, (idx->n - i - 1) * sizeof *idx->by_id);
    idx->n--;
    free_rec(idx, r);
}

int geodata_post_index_update(geodata_post_index *idx, geodata_store *store, int64_t now,
                              const geodata_post_index_item *items, size_t n)
{
    /* Projection and allocation first, outside the lock. */
    rec **fresh = calloc(n ? n : 1, sizeof *fresh);
    geodata_metric *metric = store ? geodata_store_metric(store) : NULL;
    int rc = fresh ? GEODATA_OK : GEODATA_ENOMEM;
    size_t n_live = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!items[i].post || !is_live(items[i].post, now))
            continue;
        if (!(fresh[i] = make_rec(items[i].post, metric)))
            rc = GEODATA_ENOMEM;
        else
            fresh[i]->payload = items[i].payload;
        n_live++;
    }
    if (rc) {
        for (size_t i = 0; fresh && i < n; i++) {
            if (fresh[i])
                fresh[i]->payload = NULL;
            free(fresh[i]);
        }
        free(fresh);
        for (size_t i = 0; i < n; i++)
            if (items[i].payload && idx->free_payload)
                idx->free_payload(items[i].payload);
        return rc;
    }

    pthread_rwlock_wrlock(&idx->lock);
    if (idx->n + n_live > idx->cap) {
        size_t ncap = idx->cap ? idx->cap : 1024;
        while (ncap < idx->n + n_live)
            ncap *= 2;
        rec **m = realloc(idx->by_id, ncap * sizeof *m);
        if (m) {
            idx->by_id = m;
            idx->cap = ncap;
        } else {
            rc = GEODATA_ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        rec *r = fresh[i];
        if (rc) { /* out of memory: drop the rest, the caller rebuilds */
            if (r)
                free_rec(idx, r);
            else if (items[i].payload && idx->free_payload)
                idx->free_payload(items[i].payload);
            continue;
        }
        int found;
        size_t at = find_id(idx, items[i].id, &found);
        if (found)
            drop_at(idx, at);
        if (!r) { /* gone or no longer live */
            if (items[i].payload && idx->free_payload)
                idx->free_payload(items[i].payload);
            continue;
        }
        int oom = 0;
        r->nb = intern_nb(idx, items[i].post->neighbourhood_id, &oom);
        if (oom || grid_add(idx, r)) {
            rc = GEODATA_ENOMEM;
            free_rec(idx, r);
            continue;
        }
        memmove(idx->by_id + at + 1, idx->by_id + at, (idx->n - at) * sizeof *idx->by_id);
        idx->by_id[at] = r;
        idx->n++;
    }
    pthread_rwlock_unlock(&idx->lock);
    free(fresh);
    return rc;
}

void geodata_post_index_prune(geodata_post_index *idx, int64_t now)
{
    pthread_rwlock_wrlock(&idx->lock);
    size_t kept = 0;
    for (size_t i = 0; i < idx->n; i++) {
        rec *r = idx->by_id[i];
        if (r->status == ST_OPEN && r->expires_at <= now - GEODATA_POST_INDEX_GRACE_S) {
            grid_remove(idx, r);
            free_rec(idx, r);
        } else {
            idx->by_id[kept++] = r;
        }
    }
    idx->n = kept;
    pthread_rwlock_unlock(&idx->lock);
}

void geodata_post_index_swap(geodata_post_index *idx, geodata_post_index *fresh)
{
    pthread_rwlock_wrlock(&idx->lock);
#define SWAP(type, f) do { type t_ = idx->f; idx->f = fresh->f; fresh->f = t_; } while (0)
    SWAP(rec **, by_id); SWAP(size_t, n); SWAP(size_t, cap);
    SWAP(cell *, cells); SWAP(size_t, n_cells); SWAP(size_t, cap_cells);
    SWAP(geodata_ids *, nbs);
#undef SWAP
    pthread_rwlock_unlock(&idx->lock);
}

void geodata_post_index_stats(geodata_post_index *idx, size_t *posts, size_t *bytes)
{
    pthread_rwlock_rdlock(&idx->lock);
    size_t b = sizeof *idx + idx->cap * sizeof *idx->by_id + idx->n * sizeof(rec)
             + idx->cap_cells * sizeof(cell) + (idx->nbs ? geodata_ids_bytes(idx->nbs) : 0);
    for (size_t i = 0; i < idx->cap_cells; i++)
        b += idx->cells[i].cap * sizeof(cell_entry);
    *posts = idx->n;
    *bytes = b;
    pthread_rwlock_unlock(&idx->lock);
}

/* One (neighbourhood, category) count of geodata_post_index_counts. */
typedef struct count_row {
    const char *nb, *category;
    int64_t n;
} count_row;

static int cmp_count_row(const void *a, const void *b)
{
    const count_row *x = a, *y = b;
    int c = strcmp(x->nb, y->nb);
    return c ? c : strcmp(x->category, y->category);
}

int geodata_post_index_counts(geodata_post_index *idx, geodata_store *store, int64_t now,
                              int (*each)(void *arg, const char *nb, const char *category,
                                          int64_t n),
                              void *arg)
{
    size_t n_cat = 0;
    while (geodata_post_categories[n_cat])
        n_cat++;
    pthread_rwlock_rdlock(&idx->lock);
    size_t n_nbs = idx->nbs ? geodata_ids_count(idx->nbs) : 0;
    int64_t *grid = calloc(n_nbs * n_cat + 1, sizeof *grid);
    count_row *rows = grid ? malloc((n_nbs * n_cat + 1) * sizeof *rows) : NULL;
    size_t n_rows = 0;
    int rc = rows ? GEODATA_OK : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < idx->n; i++) {
        const rec *r = idx->by_id[i];
        if (r->status == ST_OPEN && r->expires_at > now && !r->hidden && r->nb != NB_NONE
            && r->category < n_cat)
            grid[(size_t)r->nb * n_cat + r->category]++;
    }
    for (size_t nb = 0; !rc && nb < n_nbs; nb++)
        for (size_t c = 0; c < n_cat; c++)
            if (grid[nb * n_cat + c])
                rows[n_rows++] = (count_row){ geodata_ids_name(idx->nbs, (uint32_t)nb),
                                              geodata_post_categories[c],
                                              grid[nb * n_cat + c] };
    /* The rows point into the index: visited before the lock goes, each short. */
    if (!rc)
        qsort(rows, n_rows, sizeof *rows, cmp_count_row);
    for (size_t i = 0; !rc && i < n_rows; i++)
        rc = each(arg, rows[i].nb, rows[i].category, rows[i].n);
    pthread_rwlock_unlock(&idx->lock);
    free(rows);
    free(grid);
    return rc;
}

/* ---- queries ---- */

typedef struct filter {
    const uint8_t *visible;   /* by interned neighbourhood; NULL: any neighbourhood */
    int category, kind;       /* -1: any; -2: none */
    int status;               /* ST_OPEN (and not expired at now) or ST_CLAIMED */
    int64_t author_id;        /* 0: any */
    int64_t group_id;         /* 0: any */
    int with_hidden;
    int64_t now;
} filter;

/* The FILTER of posts.c, on a record. */
static int matches(const filter *f, const rec *r)
{
    return (!f->visible || (r->nb != NB_NONE && f->visible[r->nb]))
        && (f->category == -1 || r->category == f->category)
        && (f->kind == -1 || r->kind == f->kind)
        && r->status == f->status
        && (f->status != ST_OPEN || r->expires_at > f->now)
        && (!f->author_id || r->author_id == f->author_id)
        && (!f->group_id || r->group_id == f->group_id)
        && (f->with_hidden || !r->hidden);
}

typedef struct ranked {
    const rec *r;
    double d;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return (x->r->id > y->r->id) - (x->r->id < y->r->id);
}

static void hit_of(const rec *r, double d, geodata_post_hit *h)
{
    *h = (geodata_post_hit){ .id = r->id, .author_id = r->author_id, .claimed_by = r->claimed_by,
                             .hidden = r->hidden, .distance_m = d, .payload = r->payload };
}

/* The best k matches of a circle: a max-heap on (distance, id), so the
 * worst of the k is at the top; `count` counts every match. */
typedef struct ranking {
    ranked *heap;             /* k entries */
    size_t k, n;
    size_t count;             /* matches in the circle, kept or not */
} ranking;

static int ranked_after(const ranked *a, const ranked *b)
{
    return cmp_ranked(a, b) > 0;
}

static void rank(ranking *rk, const rec *r, double d)
{
    ranked e = { r, d };
    rk->count++;
    size_t i;
    if (rk->n < rk->k) { /* sift up */
        i = rk->n++;
        while (i > 0 && ranked_after(&e, &rk->heap[(i - 1) / 2])) {
            rk->heap[i] = rk->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        rk->heap[i] = e;
        return;
    }
    if (!rk->k || !ranked_after(&rk->heap[0], &e))
        return; /* not better than the worst kept */
    for (i = 0;;) { /* replace the top, sift down */
        size_t c = 2 * i + 1;
        if (c >= rk->n)
            break;
        if (c + 1 < rk->n && ranked_after(&rk->heap[c + 1], &rk->heap[c]))
            c++;
        if (!ranked_after(&rk->heap[c], &e))
            break;
        rk->heap[i] = rk->heap[c];
        i = c;
    }
    rk->heap[i] = e;
}

/* Ranks the matching records within radius of (cx, cy) into rk (emptied
 * first). Stops at the GEODATA_RANKED_MAX + 1st match, as the SQL path does.
 * Read lock held. Work: every record of the cells that the circle's square
 * touches; hypot() only for those whose squared distance is not clearly
 * beyond the radius (the margin dwarfs its rounding), so the distance kept
 * is the very value the SQL path computes. */
static void collect_within(const geodata_post_index *idx, const geodata_post_query *q,
                           const filter *f, double cx, double cy, double radius, ranking *rk)
{
    rk->n = rk->count = 0;
    double far2 = radius * radius * (1 + 1e-9);
    int64_t x0 = cell_index(cx - radius), x1 = cell_index(cx + radius);
    int64_t y0 = cell_index(cy - radius), y1 = cell_index(cy + radius);
    for (int64_t ix = x0; ix <= x1; ix++)
        for (int64_t iy = y0; iy <= y1; iy++) {
            const cell *c = cell_find(idx, cell_key(ix, iy));
            for (uint32_t i = 0; c && i < c->n; i++) {
                double dx = c->items[i].x - cx, dy = c->items[i].y - cy;
                if (dx * dx + dy * dy > far2)
                    continue;
                const rec *r = c->items[i].r;
                if (!matches(f, r))
                    continue;
                double d = hypot(dx, dy);
                if (d > radius || !geodata_posts_after_cursor(q, r->id, d))
                    continue;
                if (rk->count == GEODATA_RANKED_MAX) {
                    rk->count++; /* one too many: the caller fails */
                    return;
                }
                rank(rk, r, d);
            }
        }
}

/* Near queries, as query_near of posts.c: circles from GEODATA_NEAR_FIRST_M,
 * doubling up to the radius, until one holds the page and one post more.
 * Only the page's posts and those before it are kept and sorted. */
static int query_near(const geodata_post_index *idx, geodata_store *store,
                      const geodata_post_query *q, const filter *f, double cx, double cy,
                      int (*each)(void *arg, const geodata_post_hit *hit), void *arg, int *more)
{
    size_t end = q->offset + q->limit;
    ranking rk = { .heap = malloc((end ? end : 1) * sizeof *rk.heap), .k = end };
    if (!rk.heap)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    for (double radius = geodata_posts_first_circle(q);; radius = fmin(radius * 2, q->radius_m)) {
        collect_within(idx, q, f, cx, cy, radius, &rk);
        if (rk.count > GEODATA_RANKED_MAX || rk.count > end || radius >= q->radius_m)
            break;
    }
    int rc = GEODATA_OK;
    if (rk.count > GEODATA_RANKED_MAX)
        rc = geodata_posts_too_many(store);
    if (!rc && rk.n > 1)
        qsort(rk.heap, rk.n, sizeof *rk.heap, cmp_ranked);
    *more = !rc && rk.count > end;
    for (size_t i = q->offset; !rc && i < rk.n; i++) {
        geodata_post_hit h;
        hit_of(rk.heap[i].r, rk.heap[i].d, &h);
        rc = each(arg, &h);
    }
    free(rk.heap);
    return rc;
}

/* Other queries: newest first, from the end of by_id, or from the cursor's
 * place in it (binary search). */
static int query_newest(const geodata_post_index *idx, const geodata_post_query *q,
                        const filter *f,
                        int (*each)(void *arg, const geodata_post_hit *hit), void *arg, int *more)
{
    size_t seen = 0, end = q->offset + q->limit;
    int rc = GEODATA_OK, found;
    size_t from = q->cursor > 0 ? find_id(idx, q->cursor, &found) : idx->n;
    for (size_t i = from; !rc && i-- > 0;) {
        const rec *r = idx->by_id[i];
        if (q->bbox && !(r->lon >= q->west && r->lon <= q->east && r->lat >= q->south
                         && r->lat <= q->north))
            continue;
        if (!matches(f, r))
            continue;
        if (seen == end) {
            *more = 1;
            break;
        }
        if (seen++ >= q->offset) {
            geodata_post_hit h;
            hit_of(r, 0, &h);
            rc = each(arg, &h);
        }
    }
    return rc;
}

int geodata_post_index_query(geodata_post_index *idx, geodata_store *store,
                             const geodata_post_query *q,
                             int (*each)(void *arg, const geodata_post_hit *hit), void *arg,
                             int *more)
{
    *more = 0;
    if (!geodata_post_index_covers(q))
        return geodata_fail(store, GEODATA_EINVAL, "this query is not answered from memory");
    filter f = {
        .category = q->category ? category_index(q->category) : -1,
        .kind = kind_index(q->kind),
        .status = q->status && strcmp(q->status, "claimed") == 0 ? ST_CLAIMED : ST_OPEN,
        .author_id = q->author_id > 0 ? q->author_id : 0,
        .group_id = q->group_id > 0 ? q->group_id : 0,
        .with_hidden = q->with_hidden,
        .now = q->now,
    };
    /* What needs the store comes before the lock: the projected centre. */
    const geodata_audience *a = q->audience;
    int filtered = a && a->kind != GEODATA_AUDIENCE_STAFF;
    int rc = 0;
    geodata_metric *metric;
    double cx = 0, cy = 0;
    if (!rc && q->near)
        rc = geodata_posts_near_centre(store, q, &metric, &cx, &cy);
    uint8_t *visible = NULL;
    if (!rc) {
        pthread_rwlock_rdlock(&idx->lock);
        if (filtered) { /* the audience's rule, on the index's neighbourhoods: its list
                         * looked up (a handful), not every neighbourhood tested */
            size_t n_nbs = idx->nbs ? geodata_ids_count(idx->nbs) : 0;
            visible = calloc(n_nbs ? n_nbs : 1, 1);
            for (size_t j = 0; visible && n_nbs && a->kind == GEODATA_AUDIENCE_MEMBER
                               && j < a->n_visible; j++) {
                uint32_t k = geodata_ids_find(idx->nbs, a->visible[j]);
                if (k != GEODATA_IDS_NONE)
                    visible[k] = 1;
            }
            f.visible = visible;
            if (!visible)
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        }
        if (!rc)
            rc = q->near ? query_near(idx, store, q, &f, cx, cy, each, arg, more)
                         : query_newest(idx, q, &f, each, arg, more);
        pthread_rwlock_unlock(&idx->lock);
    }
    free(visible);
    return rc;
}
