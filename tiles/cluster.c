/*
 * tiles/cluster.c — grid clustering (see cluster.h).
 *
 * Each point gets the key of its cell (column and row, offset to be
 * unsigned, row major); sorting (key, point) pairs groups every cell's
 * points together (a counting sort when the cells span a small box, as they
 * do for one tile), and one pass sums them. Sums are 64-bit, so the mean of
 * up to 2^32 points of int32 coordinates cannot overflow.
 *
 * The accumulator sums as the points come instead, into an array of the
 * cells of a known square: no sort, no copy of the points. Its clusters are
 * the sorted path's, since both sum the same points per cell and list cells
 * in the same (row, column) order.
 */
#include <stdlib.h>
#include <string.h>

#include "tiles/cluster.h"
#include "tiles/tile.h"

typedef struct keyed {
    uint64_t key;
    uint32_t i;              /* index into the caller's points */
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (p->key != q->key)
        return p->key < q->key ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* When the points' cells fit a box of at most this many cells (a tile and
 * its ring hold 18 x 18), a counting sort by cell replaces the comparison
 * sort: two linear passes. Both give the order of (key, index). */
#define COUNTING_MAX_CELLS 65536

/* Sorts k by key, stably (k is in index order), through counts per cell of
 * the box whose corner cell is (cx0, cy0) and width w. */
static int counting_sort(keyed *k, size_t n, uint32_t cx0, uint32_t cy0, size_t w, size_t cells)
{
    size_t *start = calloc(cells + 1, sizeof *start);
    keyed *out = malloc(n * sizeof *out);
    if (!start || !out) {
        free(start);
        free(out);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)((k[i].key >> 32) - cy0) * w + ((uint32_t)k[i].key - cx0);
        start[c + 1]++;
    }
    for (size_t c = 0; c < cells; c++)
        start[c + 1] += start[c];
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)((k[i].key >> 32) - cy0) * w + ((uint32_t)k[i].key - cx0);
        out[start[c]++] = k[i];
    }
    memcpy(k, out, n * sizeof *k);
    free(out);
    free(start);
    return 0;
}

/* floor(v / cell) for any sign, as an unsigned 32-bit cell index. */
static uint32_t cell_of(int32_t v, uint32_t cell)
{
    int64_t w = v;
    int64_t c = w >= 0 ? w / cell : -((-w + cell - 1) / cell);
    return (uint32_t)(c + INT32_MAX / 2);
}

static int64_t mean(int64_t sum, uint32_t n)
{
    /* rounds half away from zero, so the result stays inside the cell */
    return sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n);
}

void tiles_clusters_clear(tiles_clusters *c)
{
    free(c->items);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

int tiles_cluster_grid(const tiles_cluster_point *pts, size_t n, uint32_t cell,
                       size_t n_categories, tiles_clusters *out)
{
    memset(out, 0, sizeof *out);
    out->n_categories = n_categories;
    if (cell == 0 || n > UINT32_MAX)
        return TILES_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (pts[i].category >= n_categories)
            return TILES_EINVAL;
    if (n == 0)
        return TILES_OK;

    keyed *k = malloc(n * sizeof *k);
    if (!k)
        return TILES_ENOMEM;
    uint32_t cx0 = UINT32_MAX, cx1 = 0, cy0 = UINT32_MAX, cy1 = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cx = cell_of(pts[i].x, cell), cy = cell_of(pts[i].y, cell);
        k[i] = (keyed){ ((uint64_t)cy << 32) | cx, (uint32_t)i };
        if (cx < cx0) cx0 = cx;
        if (cx > cx1) cx1 = cx;
        if (cy < cy0) cy0 = cy;
        if (cy > cy1) cy1 = cy;
    }
    uint64_t w = (uint64_t)cx1 - cx0 + 1, cells_in_box = w * ((uint64_t)cy1 - cy0 + 1);
    if (cells_in_box <= COUNTING_MAX_CELLS) {
        if (counting_sort(k, n, cx0, cy0, (size_t)w, (size_t)cells_in_box)) {
            free(k);
            return TILES_ENOMEM;
        }
    } else {
        qsort(k, n, sizeof *k, cmp_keyed);
    }

    size_t cells = 1;
    for (size_t i = 1; i < n; i++)
        cells += k[i].key != k[i - 1].key;
    out->items = malloc(cells * sizeof *out->items);
    out->counts = calloc(cells * (n_categories ? n_categories : 1), sizeof *out->counts);
    if (!out->items || !out->counts) {
        free(k);
        tiles_clusters_clear(out);
        return TILES_ENOMEM;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int64_t sx = 0, sy = 0;
        uint32_t *per = out->counts + out->n * n_categories;
        for (; j < n && k[j].key == k[i].key; j++) {
            const tiles_cluster_point *p = &pts[k[j].i];
            sx += p->x;
            sy += p->y;
            per[p->category]++;
        }
        uint32_t count = (uint32_t)(j - i);
        uint32_t ref = pts[k[i].i].ref;
        for (size_t m = i + 1; m < j; m++)
            if (pts[k[m].i].ref < ref)
                ref = pts[k[m].i].ref;
        out->items[out->n++] = (tiles_cluster){ (int32_t)mean(sx, count), (int32_t)mean(sy, count),
                                                count, ref, per };
        i = j;
    }
    free(k);
    return TILES_OK;
}

/* floor(v / cell) for any sign. */
static int64_t floor_cell(int32_t v, uint32_t cell)
{
    int64_t w = v;
    return w >= 0 ? w / cell : -((-w + cell - 1) / cell);
}

int tiles_cluster_acc_init(tiles_cluster_acc *a, int32_t lo, int32_t hi, uint32_t cell,
                           size_t n_categories)
{
    memset(a, 0, sizeof *a);
    if (cell == 0 || lo > hi)
        return TILES_EINVAL;
    a->cell = cell;
    a->n_categories = n_categories;
    a->shift = -1;
    for (int s = 0; s < 32; s++)
        if (cell == 1u << s)
            a->shift = s;
    int64_t c0 = floor_cell(lo, cell);
    a->origin = c0 * cell;
    a->w = (size_t)(floor_cell(hi, cell) - c0 + 1);
    size_t cells = a->w * a->w;
    a->sums = calloc(cells * 2, sizeof *a->sums);
    a->counts = calloc(cells, sizeof *a->counts);
    a->refs = malloc(cells * sizeof *a->refs);
    a->per = calloc(cells * (n_categories ? n_categories : 1), sizeof *a->per);
    if (!a->sums || !a->counts || !a->refs || !a->per) {
        tiles_cluster_acc_clear(a);
        return TILES_ENOMEM;
    }
    return TILES_OK;
}

int tiles_cluster_acc_add(tiles_cluster_acc *a, int32_t x, int32_t y, uint32_t category, uint64_t ref)
{
    int64_t dx = x - a->origin, dy = y - a->origin;
    if (dx < 0 || dy < 0 || category >= a->n_categories)
        return TILES_EINVAL;
    uint64_t cx = a->shift >= 0 ? (uint64_t)dx >> a->shift : (uint64_t)dx / a->cell;
    uint64_t cy = a->shift >= 0 ? (uint64_t)dy >> a->shift : (uint64_t)dy / a->cell;
    if (cx >= a->w || cy >= a->w)
        return TILES_EINVAL;
    size_t i = (size_t)cy * a->w + (size_t)cx;
    a->sums[2 * i] += x;
    a->sums[2 * i + 1] += y;
    if (a->counts[i]++ == 0 || ref < a->refs[i])
        a->refs[i] = ref;
    a->per[i * a->n_categories + category]++;
    return TILES_OK;
}

int tiles_cluster_acc_each(const tiles_cluster_acc *a,
                           int (*each)(void *arg, const tiles_cluster64 *c), void *arg)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < a->w * a->w; i++) {
        uint32_t n = a->counts[i];
        if (!n)
            continue;
        tiles_cluster64 c = { (int32_t)mean(a->sums[2 * i], n), (int32_t)mean(a->sums[2 * i + 1], n),
                              n, a->refs[i], a->per + i * a->n_categories };
        rc = each(arg, &c);
    }
    return rc;
}

void tiles_cluster_acc_clear(tiles_cluster_acc *a)
{
    free(a->sums);
    free(a->counts);
    free(a->refs);
    free(a->per);
    memset(a, 0, sizeof *a);
}
