/*
 * tiles/pointset.c — points in memory (see pointset.h).
 *
 * Positions are kept as 32-bit Web Mercator world coordinates for the scan
 * (a tile of zoom z spans 2^(32-z) of them) and as tiles_world's doubles for
 * the exact tile coordinates of the hits, so a point lands where tiles_point
 * puts it at every zoom, without a logarithm per hit. The scan box is the
 * frame grown by its buffer plus one world unit, widened to whole world
 * units; hits are then trimmed exactly as tiles_point would.
 *
 * A query streams through the 32-bit positions alone (8 bytes a point: a
 * wide query scans them all), and reads what a hit needs (id, group,
 * category, expiry, payload) from a second array in the same order; the
 * exact tile position is worked out from the 32-bit one (see placer below),
 * so a low-zoom query over a whole country's points makes no cache miss per
 * hit on a third. The doubles are read only in the rare cases the 32-bit
 * position cannot decide.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/pointset.h"
#include "tiles/tile.h"

typedef struct scan {
    uint32_t wx, wy;         /* world coordinates, 2^32 across: floor(tiles_world * 2^32) */
} scan;

typedef struct meta {
    uint32_t group, category;
    int64_t expires;         /* 0: never */
    int64_t id;
    void *payload;
} meta;

/* The grids: the tiles of a zoom, each listing the slots of its points; a
 * fine one for deep tiles and a coarse one for the middle zooms. */
#define GRIDS 2
static const int grid_zoom[GRIDS] = { 17, 11 };
#define GRID_MAX_CELLS 1200  /* a query spanning more fine cells tries the coarse grid */
#define COARSE_MAX_CELLS 4096 /* a query spanning more coarse cells scans the arrays */
#define COARSE_MAX_SHARE 8   /* ... as does one whose coarse cells hold 1/8 of the points */

typedef struct detail {
    double wx, wy;           /* tiles_world of the point */
    uint32_t cell[GRIDS], pos[GRIDS];  /* its cell in each grid, and its place in the cell's list */
} detail;

typedef struct cell {
    uint64_t key;            /* column << 32 | row */
    uint32_t *slots;
    uint32_t n, cap;
} cell;

typedef struct grid {
    int shift;               /* 32 - its zoom: world units to cells */
    cell *cells;             /* every cell ever used (empty ones stay) */
    size_t n_cells, cap_cells;
    uint32_t *index;         /* open addressing: cell key -> index + 1 in cells */
    size_t table;            /* a power of two, at least 2 n_cells */
} grid;

struct tiles_pointset {
    pthread_rwlock_t lock;   /* queries share it; changes take it alone */
    scan *scan;              /* what the box test reads, 8 bytes a point */
    meta *meta;              /* what a hit reads */
    detail *detail;
    size_t n, cap;
    int64_t *keys;           /* open addressing: id -> slot + 1 in slots (0: empty) */
    uint32_t *slots;
    size_t table;            /* a power of two, at least 2n */
    size_t tombstones;
    grid grids[GRIDS];
    void (*free_payload)(void *);
};

#define TOMBSTONE UINT32_MAX

static uint64_t mix(int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u;
    return h ^ (h >> 29);
}

tiles_pointset *tiles_pointset_new(void (*free_payload)(void *payload))
{
    tiles_pointset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_rwlock_init(&s->lock, NULL);
    s->free_payload = free_payload;
    for (int k = 0; k < GRIDS; k++)
        s->grids[k].shift = 32 - grid_zoom[k];
    return s;
}

static void drop_payload(tiles_pointset *s, void *payload)
{
    if (payload && s->free_payload)
        s->free_payload(payload);
}

void tiles_pointset_free(tiles_pointset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        drop_payload(s, s->meta[i].payload);
    free(s->scan);
    free(s->meta);
    free(s->detail);
    free(s->keys);
    free(s->slots);
    for (int k = 0; k < GRIDS; k++) {
        for (size_t i = 0; i < s->grids[k].n_cells; i++)
            free(s->grids[k].cells[i].slots);
        free(s->grids[k].cells);
        free(s->grids[k].index);
    }
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

/* ---- the grids ---- */

static uint64_t cell_key(const grid *g, uint32_t wx, uint32_t wy)
{
    return ((uint64_t)(wx >> g->shift) << 32) | (wy >> g->shift);
}

static uint64_t mix_key(uint64_t k)
{
    k *= 0x9E3779B97F4A7C15u;
    return k ^ (k >> 31);
}

/* The index of the cell with key, or -1 when there is none. */
static long cell_find(const grid *g, uint64_t key)
{
    if (!g->table)
        return -1;
    size_t mask = g->table - 1;
    for (size_t i = (size_t)mix_key(key) & mask; g->index[i]; i = (i + 1) & mask)
        if (g->cells[g->index[i] - 1].key == key)
            return (long)g->index[i] - 1;
    return -1;
}

/* The index of the cell with key, made if need be; -1 when out of memory. */
static long cell_get(grid *g, uint64_t key)
{
    long c = cell_find(g, key);
    if (c >= 0)
        return c;
    if ((g->n_cells + 1) * 2 > g->table) {
        size_t size = g->table ? g->table * 2 : 64;
        uint32_t *index = calloc(size, sizeof *index);
        if (!index)
            return -1;
        for (size_t i = 0; i < g->n_cells; i++) {
            size_t j = (size_t)mix_key(g->cells[i].key) & (size - 1);
            while (index[j])
                j = (j + 1) & (size - 1);
            index[j] = (uint32_t)i + 1;
        }
        free(g->index);
        g->index = index;
        g->table = size;
    }
    if (g->n_cells == g->cap_cells) {
        size_t cap = g->cap_cells ? g->cap_cells * 2 : 64;
        cell *cells = realloc(g->cells, cap * sizeof *cells);
        if (!cells)
            return -1;
        g->cells = cells;
        g->cap_cells = cap;
    }
    g->cells[g->n_cells] = (cell){ .key = key };
    size_t j = (size_t)mix_key(key) & (g->table - 1);
    while (g->index[j])
        j = (j + 1) & (g->table - 1);
    g->index[j] = (uint32_t)g->n_cells + 1;
    return (long)g->n_cells++;
}

/* Lists slot in cell c of grid k; 0 or -1 when out of memory. */
static int cell_add(tiles_pointset *s, int k, long c, uint32_t slot)
{
    cell *e = &s->grids[k].cells[c];
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 8;
        uint32_t *slots = realloc(e->slots, cap * sizeof *slots);
        if (!slots)
            return -1;
        e->slots = slots;
        e->cap = cap;
    }
    s->detail[slot].cell[k] = (uint32_t)c;
    s->detail[slot].pos[k] = e->n;
    e->slots[e->n++] = slot;
    return 0;
}

/* Takes slot out of its cell's list in grid k (the list's last slot fills
 * the hole). */
static void cell_drop(tiles_pointset *s, int k, uint32_t slot)
{
    cell *e = &s->grids[k].cells[s->detail[slot].cell[k]];
    uint32_t pos = s->detail[slot].pos[k], last = e->slots[--e->n];
    e->slots[pos] = last;
    s->detail[last].pos[k] = pos;
}

/* The table position of id, or of the empty place where it would go. */
static size_t probe(const tiles_pointset *s, int64_t id)
{
    size_t mask = s->table - 1, i = (size_t)mix(id) & mask, free_at = SIZE_MAX;
    for (;;) {
        if (s->slots[i] == 0)
            return free_at != SIZE_MAX ? free_at : i;
        if (s->slots[i] == TOMBSTONE) {
            if (free_at == SIZE_MAX)
                free_at = i;
        } else if (s->keys[i] == id) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int found(const tiles_pointset *s, size_t at, int64_t id)
{
    return s->slots[at] != 0 && s->slots[at] != TOMBSTONE && s->keys[at] == id;
}

/* Rebuilds the table for size entries (dropping tombstones). */
static int rehash(tiles_pointset *s, size_t size)
{
    int64_t *keys = calloc(size, sizeof *keys);
    uint32_t *slots = calloc(size, sizeof *slots);
    if (!keys || !slots) {
        free(keys);
        free(slots);
        return TILES_ENOMEM;
    }
    free(s->keys);
    free(s->slots);
    s->keys = keys;
    s->slots = slots;
    s->table = size;
    s->tombstones = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t at = probe(s, s->meta[i].id);
        s->keys[at] = s->meta[i].id;
        s->slots[at] = (uint32_t)i + 1;
    }
    return TILES_OK;
}

/* Frees slot i (already out of its cells' lists), whose id sits at table
 * position at: the last slot moves into it, its table entry and its cells'
 * lists following. */
static void remove_slot(tiles_pointset *s, uint32_t i, size_t at)
{
    uint32_t last = (uint32_t)s->n - 1;
    s->slots[at] = TOMBSTONE;
    s->tombstones++;
    if (i != last) {
        s->scan[i] = s->scan[last];
        s->meta[i] = s->meta[last];
        s->detail[i] = s->detail[last];
        s->slots[probe(s, s->meta[i].id)] = i + 1;
        for (int k = 0; k < GRIDS; k++)
            s->grids[k].cells[s->detail[i].cell[k]].slots[s->detail[i].pos[k]] = i;
    }
    s->n--;
}

int tiles_pointset_put(tiles_pointset *s, int64_t id, double lon, double lat, uint32_t group,
                       uint32_t category, int64_t expires, void *payload)
{
    if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
        drop_payload(s, payload);
        return TILES_EINVAL;
    }
    detail d = { 0 };
    tiles_world(lon, lat, &d.wx, &d.wy);
    double scale = 4294967296.0;
    scan sc = { (uint32_t)fmin(fmax(d.wx * scale, 0), scale - 1),
                (uint32_t)fmin(fmax(d.wy * scale, 0), scale - 1) };
    meta mt = { group, category, expires, id, payload };
    pthread_rwlock_wrlock(&s->lock);
    int rc = TILES_OK;
    if ((s->n + s->tombstones + 1) * 2 > s->table)
        rc = rehash(s, s->table ? (s->n + 1) * 4 > s->table ? s->table * 2 : s->table : 64);
    if (!rc && s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        scan *a = realloc(s->scan, cap * sizeof *a);
        if (a)
            s->scan = a;
        meta *m = realloc(s->meta, cap * sizeof *m);
        if (m)
            s->meta = m;
        detail *b = realloc(s->detail, cap * sizeof *b);
        if (b)
            s->detail = b;
        if (a && m && b)
            s->cap = cap;
        else
            rc = TILES_ENOMEM;
    }
    long c[GRIDS];
    for (int k = 0; k < GRIDS; k++) {
        c[k] = rc ? -1 : cell_get(&s->grids[k], cell_key(&s->grids[k], sc.wx, sc.wy));
        if (!rc && c[k] < 0)
            rc = TILES_ENOMEM;
    }
    if (rc) {
        pthread_rwlock_unlock(&s->lock);
        drop_payload(s, payload);
        return rc;
    }
    size_t at = probe(s, id);
    void *old = NULL;
    uint32_t slot;
    if (found(s, at, id)) {
        slot = s->slots[at] - 1;
        old = s->meta[slot].payload;
        for (int k = 0; k < GRIDS; k++)
            cell_drop(s, k, slot);
    } else {
        if (s->slots[at] == TOMBSTONE)
            s->tombstones--;
        slot = (uint32_t)s->n++;
        s->keys[at] = id;
        s->slots[at] = slot + 1;
    }
    s->scan[slot] = sc;
    s->meta[slot] = mt;
    s->detail[slot] = d;
    int added = 0;
    while (added < GRIDS && !cell_add(s, added, c[added], slot))
        added++;
    if (added < GRIDS) {
        /* out of memory for a cell's list: the point goes, as if never put */
        while (added)
            cell_drop(s, --added, slot);
        void *mine = s->meta[slot].payload;
        remove_slot(s, slot, at);
        pthread_rwlock_unlock(&s->lock);
        drop_payload(s, old);
        drop_payload(s, mine);
        return TILES_ENOMEM;
    }
    pthread_rwlock_unlock(&s->lock);
    drop_payload(s, old);
    return TILES_OK;
}

void tiles_pointset_remove(tiles_pointset *s, int64_t id)
{
    void *old = NULL;
    pthread_rwlock_wrlock(&s->lock);
    size_t at = s->table ? probe(s, id) : 0;
    if (s->table && found(s, at, id)) {
        uint32_t i = s->slots[at] - 1;
        old = s->meta[i].payload;
        for (int k = 0; k < GRIDS; k++)
            cell_drop(s, k, i);
        remove_slot(s, i, at);
    }
    pthread_rwlock_unlock(&s->lock);
    drop_payload(s, old);
}

void tiles_pointset_swap(tiles_pointset *s, tiles_pointset *fresh)
{
    pthread_rwlock_wrlock(&s->lock);
    tiles_pointset t = *s;
    s->scan = fresh->scan;       s->detail = fresh->detail;
    s->meta = fresh->meta;
    s->n = fresh->n;             s->cap = fresh->cap;
    s->keys = fresh->keys;       s->slots = fresh->slots;
    s->table = fresh->table;     s->tombstones = fresh->tombstones;
    fresh->scan = t.scan;        fresh->detail = t.detail;
    fresh->meta = t.meta;
    fresh->n = t.n;              fresh->cap = t.cap;
    fresh->keys = t.keys;        fresh->slots = t.slots;
    fresh->table = t.table;      fresh->tombstones = t.tombstones;
    memcpy(s->grids, fresh->grids, sizeof s->grids);
    memcpy(fresh->grids, t.grids, sizeof t.grids);
    pthread_rwlock_unlock(&s->lock);
}

size_t tiles_pointset_count(tiles_pointset *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->n;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

/* How a query places its hits from their 32-bit world units, without
 * reading their doubles (another cache line a hit): with m = 32 -
 * log2(extent) - z >= 1, a tile unit is 2^m world units, and a point at
 * w + f world units (w = floor, 0 <= f < 1) is at (w + f) / 2^m - origin
 * tile units. Its rounding half away from zero is ((w + 2^(m-1)) >> m) -
 * origin exactly (f cannot carry past a multiple of 2^m), except at a tie
 * left of or above the origin, where f decides; and the frame's edges
 * (w >= lo, w + f <= hi with lo, hi multiples of 2^m) are decided by w alone
 * except at w == hi. Those cases, and w clamped at the world's last unit,
 * are placed from the doubles as tiles_point_world does. */
typedef struct placer {
    int m;                   /* 0: no fast path (extent not a power of two, deep zoom) */
    int64_t origin[2];       /* the tile's corner in tile units of the zoom */
    int64_t lo[2], hi[2];    /* the frame's edges in world units */
} placer;

static void placer_init(placer *p, const tiles_frame *f)
{
    memset(p, 0, sizeof *p);
    int e = 0;
    while (e < 32 && (1u << e) != f->extent)
        e++;
    if (e == 32 || 32 - e - f->z < 1)
        return;
    p->m = 32 - e - f->z;
    int64_t at[2] = { f->x, f->y };
    for (int k = 0; k < 2; k++) {
        p->origin[k] = at[k] * (int64_t)f->extent;
        p->lo[k] = (p->origin[k] - (int64_t)f->buffer) * ((int64_t)1 << p->m);
        p->hi[k] = (p->origin[k] + (int64_t)f->extent + f->buffer) * ((int64_t)1 << p->m);
    }
}

/* One axis: 1 placed in *t, 0 outside the frame, -1 ask the doubles. */
static int place(const placer *p, int k, uint32_t w, int32_t *t)
{
    if ((int64_t)w < p->lo[k] || (int64_t)w > p->hi[k])
        return 0;
    uint64_t up = (uint64_t)w + ((uint64_t)1 << (p->m - 1));
    int64_t r = (int64_t)(up >> p->m) - p->origin[k];
    if ((int64_t)w == p->hi[k] || w == UINT32_MAX || (r <= 0 && (up & (((uint64_t)1 << p->m) - 1)) == 0))
        return -1;
    *t = (int32_t)r;
    return 1;
}

/* Visits slot i if it passes the query's filters; box is the scan box in
 * world units, x0, x1, y0, y1 inclusive. */
static int visit_slot(const tiles_pointset *s, size_t i, const uint32_t box[4], const placer *pl,
                      const tiles_frame *f, const uint8_t *groups, size_t n_groups, int64_t now,
                      int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    const scan *p = &s->scan[i];
    if (p->wx < box[0] || p->wx > box[1] || p->wy < box[2] || p->wy > box[3])
        return 0;
    const meta *m = &s->meta[i];
    if (groups && (m->group >= n_groups || !(groups[m->group >> 3] & (1u << (m->group & 7)))))
        return 0;
    if (m->expires && m->expires <= now)
        return 0;
    tiles_pointset_hit h = { .id = m->id, .group = m->group, .category = m->category,
                             .payload = m->payload };
    int px = pl->m ? place(pl, 0, p->wx, &h.x) : -1, py = px ? (pl->m ? place(pl, 1, p->wy, &h.y) : -1) : 0;
    if (px < 0 || py < 0)
        return tiles_point_world(f, s->detail[i].wx, s->detail[i].wy, &h.x, &h.y) ? each(arg, &h) : 0;
    return px && py ? each(arg, &h) : 0;
}

/* The world units (integers) of [lo, hi]: *a to *b; 0 when there are none. */
static int units(double lo, double hi, uint32_t *a, uint32_t *b)
{
    lo = fmax(ceil(lo), 0);
    hi = fmin(floor(hi), 4294967295.0);
    if (lo > hi)
        return 0;
    *a = (uint32_t)lo;
    *b = (uint32_t)hi;
    return 1;
}

int tiles_pointset_query(tiles_pointset *s, const tiles_frame *f, const uint8_t *groups,
                         size_t n_groups, int64_t now,
                         int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    if (!tiles_tile_valid(f->z, f->x, f->y) || f->extent == 0)
        return TILES_EINVAL;
    /* The scan box in world units: the tile, its margin, one unit of slack. */
    double span = ldexp(1.0, 32 - f->z), unit = span / f->extent;
    double box[4] = { (double)f->x * span - f->buffer * unit - 1,
                      (double)(f->x + 1) * span + f->buffer * unit + 1,
                      (double)f->y * span - f->buffer * unit - 1,
                      (double)(f->y + 1) * span + f->buffer * unit + 1 };
    /* compared as integers: a point's unit passes these bounds exactly when
     * it lies in the box of doubles */
    uint32_t ubox[4];
    if (!units(box[0], box[1], &ubox[0], &ubox[1]) || !units(box[2], box[3], &ubox[2], &ubox[3]))
        return 0;
    placer pl;
    placer_init(&pl, f);
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    /* the finest grid whose cells the box spans few enough of, and whose
     * cells there hold few enough points to beat one pass over the arrays */
    const grid *use = NULL;
    uint32_t c[4];
    for (int k = 0; k < GRIDS && !use; k++) {
        const grid *g = &s->grids[k];
        for (int e = 0; e < 4; e++)
            c[e] = ubox[e] >> g->shift;
        uint64_t spanned = (uint64_t)(c[1] - c[0] + 1) * (c[3] - c[2] + 1);
        if (k == 0 && spanned <= GRID_MAX_CELLS) {
            use = g;
        } else if (k > 0 && spanned <= COARSE_MAX_CELLS) {
            size_t held = 0;
            for (uint32_t cx = c[0]; cx <= c[1]; cx++)
                for (uint32_t cy = c[2]; cy <= c[3]; cy++) {
                    long i = cell_find(g, ((uint64_t)cx << 32) | cy);
                    held += i >= 0 ? g->cells[i].n : 0;
                }
            if (held <= s->n / COARSE_MAX_SHARE)
                use = g;
        }
    }
    if (use) {
        for (uint32_t cx = c[0]; cx <= c[1] && !rc; cx++)
            for (uint32_t cy = c[2]; cy <= c[3] && !rc; cy++) {
                long i = cell_find(use, ((uint64_t)cx << 32) | cy);
                for (uint32_t k = 0; i >= 0 && k < use->cells[i].n && !rc; k++)
                    rc = visit_slot(s, use->cells[i].slots[k], ubox, &pl, f, groups, n_groups, now, each,
                                    arg);
            }
    } else {
        for (size_t i = 0; i < s->n && !rc; i++)
            rc = visit_slot(s, i, ubox, &pl, f, groups, n_groups, now, each, arg);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int tiles_pointset_get(tiles_pointset *s, int64_t id, int64_t now,
                       int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    size_t at = s->table ? probe(s, id) : 0;
    if (s->table && found(s, at, id)
        && !(s->meta[s->slots[at] - 1].expires && s->meta[s->slots[at] - 1].expires <= now)) {
        size_t i = s->slots[at] - 1;
        tiles_pointset_hit h = { .id = id, .group = s->meta[i].group,
                                 .category = s->meta[i].category,
                                 .payload = s->meta[i].payload };
        rc = each(arg, &h);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}
