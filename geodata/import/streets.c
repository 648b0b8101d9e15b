/*
 * geodata/import/streets.c — street centrelines derived from the address points
 * (see geodata/streets.h).
 *
 * Method. French house numbers rise along a street, odd numbers on one side
 * and even numbers on the other (BAN and BANO alike, metric numbering too),
 * but not at the same pace: ordering a street's addresses by number alone
 * jumps from side to side and back and forth along it. So, for each street
 * (a commune's INSEE code and a name):
 *   1. Work in metres: an equirectangular projection centred on the street's
 *      first address (under 0.1 % error across a few kilometres).
 *   2. Split apart the groups of addresses that lie more than the gap
 *      (GEODATA_STREET_GAP_M, 250 m) apart along the principal axis of the
 *      addresses or across it, recursively: two streets of one name in one
 *      commune (the villages of a merged commune) become two.
 *   3. Each side (odd, even) in number order is a line along the houses.
 *      Excursions are dropped from it: a run of up to three addresses that
 *      the line leaves for and comes back from (there and back more than
 *      1.5 times the direct way, plus 3 m): a misplaced or misnumbered
 *      point, a door at the back of a courtyard.
 *   4. The side whose line is longer is the reference. Simplified at 2 m, it
 *      is the line every address is projected on, giving a position along
 *      the street (t) and an offset across it (an address more than 120 m
 *      away is not of this street: left out). Each side's offsets, averaged
 *      over three neighbours, are interpolated along t; the centreline at t
 *      is the reference line's point plus the mean of the two sides'
 *      offsets: halfway between the house lines, whichever side's numbers
 *      run faster. Past the end of one side's addresses its nearest offset
 *      carries on; a street with houses on one side only follows them.
 *   5. Erratic numbering — excursions that take more than a fifth of the
 *      reference side (and at least three points), or no side with two
 *      addresses — falls back to the addresses' principal axis as the
 *      reference line: positions along it order the addresses, whatever
 *      their numbers. Erratic addresses about as wide as long (across the
 *      axis, more than half their spread along it: a square numbered all
 *      around) have no axis and give no line.
 *   6. A centre point is taken at every address's t; excursions are dropped
 *      again, the line is cut where two consecutive points are more than the
 *      gap apart, simplified (Douglas–Peucker, 2 m), and kept if it is at
 *      least 5 m long: a street with a single address, or two facing each
 *      other, has no known direction and gives no line.
 * Numbers 0 and 99999 and above are left out: BAN numbers its named places
 * without a house number (lieux-dits) 99999.
 *
 * Limits: a street is drawn only where it has addresses: the stretch past
 * its last house, a street without any (across a park, a motorway), a
 * square's side without a door are missing, and lines stop short of the
 * crossings rather than meet. A one-sided street (a quay, a street along a
 * park) runs along its house fronts, not its middle. A curved street with
 * erratic numbers is drawn as a graph over its straight axis (a U-shaped one
 * badly). Two stretches of a street more than 250 m apart with no address
 * between are two lines; sparse rural houses further apart than that give
 * no line at all.
 *
 * Rebuild. The communes to rebuild are listed in streets_pending by
 * triggers on the addresses (schema migration 9). One SQL pass over their
 * addresses, ordered by commune, street and number, streams street by
 * street: memory holds the largest street. Each line is upserted by
 * (commune, name, part) and written only when its geometry changed; lines
 * that are no more are deleted by key ranges between the streets visited.
 * On PostgreSQL, where each statement is a round trip, the lines are
 * instead staged (COPY into a temporary table) and the streets of the
 * pending communes made equal to them at the end: one DELETE of the lines
 * that are no more, one UPDATE of those changed, one INSERT of the new ones
 * in the order derived (an upsert would take an id for every line).
 * So a rebuild that finds the same lines writes nothing, and the change
 * feed (triggers on streets) hears of real changes only. From BULK_COMMUNES
 * communes on, or for the store's first lines, the R*Tree of the lines is
 * suspended and rebuilt in bulk at the end (spatial_index.h), as the
 * address import does for its points.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "spatial_index.h"
#include "spatialite_blob.h"
#include "geodata/streets.h"

#define M_PER_DEG     111319.49079327357  /* metres per degree of latitude */
#define WIDTH_MAX_M   120.0   /* an address further from the reference line is not of this street */
#define SIMPLIFY_M    2.0     /* Douglas–Peucker tolerance, reference line and result */
#define MIN_LENGTH_M  5.0     /* shorter lines are left out */
#define SPIKE_RATIO   1.5     /* an excursion: there and back > ratio * direct + slack */
#define SPIKE_SLACK_M 3.0
#define SPIKE_RUN     3       /* points an excursion may hold */
#define ROUND_SPREAD  0.5     /* erratic addresses this round (a square) have no axis */
#define SPLIT_DEPTH   8       /* recursive splits of one street, at most */
#define BULK_COMMUNES 1000    /* from this many communes to derive, the R*Tree is rebuilt in bulk */
#define SAME_SPOT_M   0.5     /* consecutive centre points closer than this are one */
#define NO_NUMBER     99999   /* BAN's number of a named place without one */

/* ---- geometry in metres ---------------------------------------------------- */

typedef struct pt {
    double x, y;              /* metres from the street's first address */
    double key;               /* sort key of the moment (axis position, t) */
    long number;
    size_t order;             /* position in the input: ties keep it */
} pt;

static int by_key(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    if (p->key != q->key)
        return p->key < q->key ? -1 : 1;
    return p->order < q->order ? -1 : p->order > q->order;
}

static int by_number(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    if (p->number != q->number)
        return p->number < q->number ? -1 : 1;
    return p->order < q->order ? -1 : p->order > q->order;
}

/* Plain sqrt rather than hypot(), which guards against overflows that
 * metres across a street cannot reach, at several times the cost. */
static double norm(double dx, double dy)
{
    return sqrt(dx * dx + dy * dy);
}

static double dist(const pt *a, const pt *b)
{
    return norm(a->x - b->x, a->y - b->y);
}

static double path_length(const pt *p, size_t n)
{
    double len = 0;
    for (size_t i = 1; i < n; i++)
        len += dist(&p[i - 1], &p[i]);
    return len;
}

/* The centroid of p[0..n) and the unit vector of its principal axis; gives
 * the spread across the axis over the spread along it (standard
 * deviations): 0 for points on a line, 1 for a round cloud. */
static double axis_of(const pt *p, size_t n, double *mx, double *my, double *ux, double *uy)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sx += p[i].x;
        sy += p[i].y;
    }
    *mx = sx / (double)n;
    *my = sy / (double)n;
    for (size_t i = 0; i < n; i++) {
        double dx = p[i].x - *mx, dy = p[i].y - *my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    double th = 0.5 * atan2(2 * sxy, sxx - syy);
    *ux = cos(th);
    *uy = sin(th);
    double mean = (sxx + syy) / 2, r = hypot((sxx - syy) / 2, sxy);
    return mean + r > 0 ? sqrt(fmax(mean - r, 0) / (mean + r)) : 1;
}

/*
 * Drops excursions from the path p[0..n) in place and gives the number of
 * points kept: before keeping p[i], a run of up to SPIKE_RUN kept points that
 * the path leaves for and comes back from (its length there and back more
 * than SPIKE_RATIO times the direct way plus the slack) is removed. Work:
 * O(n * SPIKE_RUN^2).
 */
static size_t despike(pt *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (int popped = 1; popped;) {
            popped = 0;
            for (size_t m = 1; m <= SPIKE_RUN && k >= m + 1; m++) {
                const pt *a = &p[k - m - 1];
                double there = path_length(a, m + 1) + dist(&p[k - 1], &p[i]);
                if (there > SPIKE_RATIO * dist(a, &p[i]) + SPIKE_SLACK_M) {
                    k -= m;
                    popped = 1;
                    break;
                }
            }
        }
        p[k++] = p[i];
    }
    return k;
}

/*
 * Douglas–Peucker on p[0..n) in place at tol metres; gives the number of
 * points kept (the ends always are). stack holds 2n entries. Work: O(n log n)
 * typically, O(n^2) at worst.
 */
static size_t simplify(pt *p, size_t n, double tol, unsigned char *keep, size_t *stack)
{
    if (n <= 2)
        return n;
    memset(keep, 0, n);
    keep[0] = keep[n - 1] = 1;
    size_t top = 0;
    stack[top++] = 0;
    stack[top++] = n - 1;
    while (top) {
        size_t last = stack[--top], first = stack[--top];
        double ax = p[first].x, ay = p[first].y;
        double dx = p[last].x - ax, dy = p[last].y - ay, len2 = dx * dx + dy * dy;
        double worst = -1;
        size_t at = first;
        for (size_t i = first + 1; i < last; i++) {
            double ex = p[i].x - ax, ey = p[i].y - ay, d;
            if (len2 > 0) {
                double u = (ex * dx + ey * dy) / len2;
                u = u < 0 ? 0 : u > 1 ? 1 : u;
                d = norm(ex - u * dx, ey - u * dy);
            } else {
                d = norm(ex, ey);
            }
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        if (worst > tol) {
            keep[at] = 1;
            stack[top++] = first;
            stack[top++] = at;
            stack[top++] = at;
            stack[top++] = last;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            p[k++] = p[i];
    return k;
}

/* ---- the reference line ------------------------------------------------------ */

typedef struct line {
    const pt *v;              /* vertices */
    size_t n;
    double *cum;              /* arc length at each vertex */
} line;

typedef struct proj {
    double t;                 /* arc length of the foot; past an end: extended */
    double fx, fy;            /* the foot on the line */
    double d;                 /* distance from the line */
    int beyond;               /* the point lies past an end of the line */
} proj;

/* The closest point of l to (x, y). Work: O(l->n). */
static void project(const line *l, double x, double y, proj *out)
{
    double best = INFINITY;
    for (size_t i = 0; i + 1 < l->n; i++) {
        double ax = l->v[i].x, ay = l->v[i].y;
        double dx = l->v[i + 1].x - ax, dy = l->v[i + 1].y - ay;
        double len2 = dx * dx + dy * dy;
        double raw = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0;
        double u = raw < 0 ? 0 : raw > 1 ? 1 : raw;
        double fx = ax + u * dx, fy = ay + u * dy, d = norm(x - fx, y - fy);
        if (d < best) {
            best = d;
            double seg = sqrt(len2);
            out->fx = fx;
            out->fy = fy;
            out->d = d;
            out->beyond = (i == 0 && raw < 0) || (i + 2 == l->n && raw > 1);
            out->t = l->cum[i] + (out->beyond ? raw : u) * seg;
        }
    }
}

/* The point of l at arc length t, clamped to its ends. */
static void line_at(const line *l, double t, double *x, double *y)
{
    size_t lo = 0, hi = l->n - 1;
    if (t <= 0) {
        *x = l->v[0].x;
        *y = l->v[0].y;
        return;
    }
    if (t >= l->cum[hi]) {
        *x = l->v[hi].x;
        *y = l->v[hi].y;
        return;
    }
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (l->cum[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    double seg = l->cum[hi] - l->cum[lo], w = seg > 0 ? (t - l->cum[lo]) / seg : 0;
    *x = l->v[lo].x + w * (l->v[hi].x - l->v[lo].x);
    *y = l->v[lo].y + w * (l->v[hi].y - l->v[lo].y);
}

/* One side's offsets from the reference line, in t order: key is t, (x, y)
 * the offset vector. */
typedef struct offsets {
    pt *o;
    size_t n;
} offsets;

/* The offset of side s at t, interpolated, held constant past its ends; 0
 * when the side has none. */
static int offset_at(const offsets *s, double t, double *dx, double *dy)
{
    if (!s->n)
        return 0;
    const pt *o = s->o;
    size_t lo = 0, hi = s->n - 1;
    if (t <= o[0].key || s->n == 1) {
        *dx = o[0].x;
        *dy = o[0].y;
        return 1;
    }
    if (t >= o[hi].key) {
        *dx = o[hi].x;
        *dy = o[hi].y;
        return 1;
    }
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (o[mid].key <= t)
            lo = mid;
        else
            hi = mid;
    }
    double span = o[hi].key - o[lo].key, w = span > 0 ? (t - o[lo].key) / span : 0;
    *dx = o[lo].x + w * (o[hi].x - o[lo].x);
    *dy = o[lo].y + w * (o[hi].y - o[lo].y);
    return 1;
}

/* The centreline's offset from the reference line at t: the mean of the
 * sides' offsets, or the one side's. */
static void centre_offset(const offsets side[2], double t, double *dx, double *dy)
{
    double ax = 0, ay = 0, bx = 0, by = 0;
    int a = offset_at(&side[0], t, &ax, &ay), b = offset_at(&side[1], t, &bx, &by);
    *dx = a && b ? (ax + bx) / 2 : a ? ax : bx;
    *dy = a && b ? (ay + by) / 2 : a ? ay : by;
}

/* ---- one street ---------------------------------------------------------------- */

typedef struct deriving {
    double lon0, lat0;        /* the projection's centre */
    double kx;                /* metres per degree of longitude there */
    int (*each)(void *arg, const double *lonlat, size_t n);
    void *arg;
    /* buffers of the street's size (n) or more */
    pt *side[2];              /* even, odd addresses */
    pt *ref;                  /* the reference line's vertices */
    double *cum;
    pt *off[2];               /* the sides' offsets */
    pt *centre;               /* centre points: one per address at most */
    unsigned char *keep;
    size_t *stack;
    double *lonlat;
} deriving;

/* Averages the offsets over three neighbours (the ends over two), in place:
 * (px, py) keeps the one before as it was. */
static void smooth(pt *o, size_t n)
{
    if (n < 3)
        return;
    double px = 0, py = 0;
    for (size_t i = 0; i < n; i++) {
        double cx = o[i].x, cy = o[i].y, sx = cx, sy = cy;
        int k = 1;
        if (i > 0) {
            sx += px;
            sy += py;
            k++;
        }
        if (i + 1 < n) {
            sx += o[i + 1].x;
            sy += o[i + 1].y;
            k++;
        }
        o[i].x = sx / k;
        o[i].y = sy / k;
        px = cx;
        py = cy;
    }
}

/* Cuts the centre points c[0..n) at the gaps, simplifies each piece and
 * hands on those long enough. */
static int emit(deriving *d, pt *c, size_t n)
{
    size_t start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && dist(&c[i - 1], &c[i]) <= GEODATA_STREET_GAP_M)
            continue;
        pt *piece = c + start;
        size_t m = i - start;
        start = i;
        if (m < 2 || path_length(piece, m) < MIN_LENGTH_M)
            continue;
        m = simplify(piece, m, SIMPLIFY_M, d->keep, d->stack);
        for (size_t j = 0; j < m; j++) {
            d->lonlat[2 * j] = round((d->lon0 + piece[j].x / d->kx) * 1e7) / 1e7;
            d->lonlat[2 * j + 1] = round((d->lat0 + piece[j].y / M_PER_DEG) * 1e7) / 1e7;
        }
        int rc = d->each(d->arg, d->lonlat, m);
        if (rc)
            return rc;
    }
    return 0;
}

/* The centreline of one group of addresses p[0..n) (no gap splits it along
 * its axes). */
static int centreline(deriving *d, pt *p, size_t n)
{
    if (n < 2)
        return 0;
    qsort(p, n, sizeof *p, by_number);
    size_t ns[2] = { 0, 0 }, kept[2];
    for (size_t i = 0; i < n; i++) {
        int s = (int)(p[i].number & 1);
        d->side[s][ns[s]++] = p[i];
    }
    for (int s = 0; s < 2; s++)
        kept[s] = despike(d->side[s], ns[s]);
    double len[2] = { path_length(d->side[0], kept[0]), path_length(d->side[1], kept[1]) };
    int ref = kept[1] >= 2 && (kept[0] < 2 || len[1] >= len[0]) ? 1 : kept[0] >= 2 ? 0 : -1;
    int erratic = ref < 0 || ((ns[ref] - kept[ref]) * 5 > ns[ref] && ns[ref] - kept[ref] >= 3)
                  || len[ref] < MIN_LENGTH_M;

    line l = { d->ref, 0, d->cum };
    if (!erratic) {
        memcpy(d->ref, d->side[ref], kept[ref] * sizeof *d->ref);
        l.n = simplify(d->ref, kept[ref], SIMPLIFY_M, d->keep, d->stack);
    } else {
        /* The principal axis, across the extent of the addresses; every
         * address counts, in no particular order. */
        double mx, my, ux, uy, lo = INFINITY, hi = -INFINITY;
        if (n < 3 || axis_of(p, n, &mx, &my, &ux, &uy) > ROUND_SPREAD)
            return 0;
        ns[0] = ns[1] = 0;
        for (size_t i = 0; i < n; i++) {
            double k = (p[i].x - mx) * ux + (p[i].y - my) * uy;
            lo = fmin(lo, k);
            hi = fmax(hi, k);
            int s = (int)(p[i].number & 1);
            d->side[s][ns[s]++] = p[i];
        }
        kept[0] = ns[0];
        kept[1] = ns[1];
        if (hi - lo < MIN_LENGTH_M)
            return 0;
        d->ref[0] = (pt){ .x = mx + lo * ux, .y = my + lo * uy };
        d->ref[1] = (pt){ .x = mx + hi * ux, .y = my + hi * uy };
        l.n = 2;
    }
    l.cum[0] = 0;
    for (size_t i = 1; i < l.n; i++)
        l.cum[i] = l.cum[i - 1] + dist(&l.v[i - 1], &l.v[i]);

    /* Each side's offsets, in t order, smoothed. */
    offsets side[2];
    for (int s = 0; s < 2; s++) {
        side[s] = (offsets){ d->off[s], 0 };
        for (size_t i = 0; i < kept[s]; i++) {
            proj pr;
            project(&l, d->side[s][i].x, d->side[s][i].y, &pr);
            if (pr.d > WIDTH_MAX_M || pr.beyond)
                continue;
            side[s].o[side[s].n++] = (pt){ .x = d->side[s][i].x - pr.fx,
                                           .y = d->side[s][i].y - pr.fy, .key = pr.t,
                                           .order = d->side[s][i].order };
        }
        qsort(side[s].o, side[s].n, sizeof *side[s].o, by_key);
        smooth(side[s].o, side[s].n);
    }

    /* A centre point at every address's t; past an end of the reference
     * line, the address moved across by its side's offset to the centre. */
    size_t nc = 0;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < kept[s]; i++) {
            const pt *a = &d->side[s][i];
            proj pr;
            project(&l, a->x, a->y, &pr);
            if (pr.d > WIDTH_MAX_M)
                continue;
            double cx, cy, ox, oy;
            double t = fmin(fmax(pr.t, 0), l.cum[l.n - 1]);
            centre_offset(side, t, &cx, &cy);
            pt c = { .key = pr.t, .order = a->order };
            if (pr.beyond) {
                if (!offset_at(&side[s], t, &ox, &oy)) {
                    ox = cx;
                    oy = cy;
                }
                c.x = a->x - ox + cx;
                c.y = a->y - oy + cy;
            } else {
                line_at(&l, t, &c.x, &c.y);
                c.x += cx;
                c.y += cy;
            }
            d->centre[nc++] = c;
        }
    qsort(d->centre, nc, sizeof *d->centre, by_key);
    size_t k = 0;
    for (size_t i = 0; i < nc; i++)
        if (!k || dist(&d->centre[k - 1], &d->centre[i]) >= SAME_SPOT_M)
            d->centre[k++] = d->centre[i];
    k = despike(d->centre, k);
    return emit(d, d->centre, k);
}

/* Splits p[0..n) where its addresses lie more than the gap apart along its
 * principal axis or across it, recursively, and derives each group. Work:
 * O(n log n) per level, SPLIT_DEPTH levels at most. */
static int split_groups(deriving *d, pt *p, size_t n, int depth)
{
    if (n >= 2 && depth < SPLIT_DEPTH) {
        double mx, my, ux, uy;
        axis_of(p, n, &mx, &my, &ux, &uy);
        for (int across = 0; across < 2; across++) {
            double ax = across ? -uy : ux, ay = across ? ux : uy;
            for (size_t i = 0; i < n; i++)
                p[i].key = (p[i].x - mx) * ax + (p[i].y - my) * ay;
            qsort(p, n, sizeof *p, by_key);
            size_t start = 0;
            for (size_t i = 1; i < n; i++) {
                if (p[i].key - p[i - 1].key <= GEODATA_STREET_GAP_M)
                    continue;
                int rc = split_groups(d, p + start, i - start, depth + 1);
                if (rc)
                    return rc;
                start = i;
            }
            if (start > 0)
                return split_groups(d, p + start, n - start, depth + 1);
        }
    }
    return centreline(d, p, n);
}

/* A house number on a street, at a point. */
static int usable(const geodata_street_address *a)
{
    return a->number > 0 && a->number < NO_NUMBER && isfinite(a->lon) && isfinite(a->lat);
}

int geodata_streets_derive(const geodata_street_address *a, size_t n,
                           int (*each)(void *arg, const double *lonlat, size_t n_points),
                           void *arg)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += (size_t)usable(&a[i]);
    if (m < 2)
        return 0;
    deriving d = { .each = each, .arg = arg };
    pt *p = malloc(m * sizeof *p);
    d.side[0] = malloc(m * sizeof *d.side[0]);
    d.side[1] = malloc(m * sizeof *d.side[1]);
    d.ref = malloc(m * sizeof *d.ref);
    d.cum = malloc(m * sizeof *d.cum);
    d.off[0] = malloc(m * sizeof *d.off[0]);
    d.off[1] = malloc(m * sizeof *d.off[1]);
    d.centre = malloc(m * sizeof *d.centre);
    d.keep = malloc(m);
    d.stack = malloc(2 * m * sizeof *d.stack);
    d.lonlat = malloc(2 * m * sizeof *d.lonlat);
    int rc = GEODATA_ENOMEM;
    if (p && d.side[0] && d.side[1] && d.ref && d.cum && d.off[0] && d.off[1] && d.centre
        && d.keep && d.stack && d.lonlat) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!usable(&a[i]))
                continue;
            if (!k) {
                d.lon0 = a[i].lon;
                d.lat0 = a[i].lat;
                d.kx = M_PER_DEG * cos(d.lat0 * M_PI / 180);
                if (d.kx < 1)
                    d.kx = 1; /* at the poles: no street there anyway */
            }
            p[k] = (pt){ .x = (a[i].lon - d.lon0) * d.kx, .y = (a[i].lat - d.lat0) * M_PER_DEG,
                         .number = a[i].number, .order = i };
            k++;
        }
        rc = split_groups(&d, p, k, 0);
    }
    free(p);
    free(d.side[0]);
    free(d.side[1]);
    free(d.ref);
    free(d.cum);
    free(d.off[0]);
    free(d.off[1]);
    free(d.centre);
    free(d.keep);
    free(d.stack);
    free(d.lonlat);
    return rc;
}

/* ---- the streets table ----------------------------------------------------------- */

typedef struct rebuild {
    geodata_store *store;
    sql_stmt *upsert;     /* one line, written only when it changed */
    sql_stmt *names;      /* a commune's lines of the names between two */
    sql_stmt *names_after;  /* a commune's lines of the names after one */
    sql_stmt *first;      /* the lines of the pending communes up to one */
    sql_stmt *communes;   /* the lines of the pending communes between two */
    sql_stmt *parts;      /* a street's parts past those written */
    char *insee, *name;       /* the street being read */
    size_t insee_cap, name_cap;
    char *prev_insee, *prev_name;  /* the last street written */
    size_t prev_insee_cap, prev_name_cap;
    int has_prev;             /* a street was written */
    geodata_street_address *a;
    size_t n, cap;
    int part;                 /* lines written for the street so far */
    unsigned char *wkb;
    size_t wkb_cap;
    char *copy;               /* PostgreSQL: lines staged in COPY's text format */
    size_t copy_len, copy_cap;
    uint64_t staged;          /* PostgreSQL: lines staged so far, their order */
    geodata_streets_stats *stats;
} rebuild;

/* PostgreSQL: the lines staged in streets_in, then made the streets of the
 * pending communes in three statements (see "Rebuild" above). */
static const char stage_pg_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS streets_in (seq bigint, insee text, name text, "
    "  part bigint, wkb bytea) ON COMMIT DROP";
static const char copy_pg_sql[] = "COPY streets_in FROM STDIN";
static const char gone_pg_sql[] =
    "DELETE FROM streets s WHERE s.insee IN (SELECT insee FROM streets_pending) "
    "AND NOT EXISTS (SELECT 1 FROM streets_in i "
    "  WHERE i.insee = s.insee AND i.name = s.name AND i.part = s.part)";
static const char update_pg_sql[] =
    "UPDATE streets s SET geom = ST_GeomFromWKB(i.wkb, 4326) FROM streets_in i "
    "WHERE i.insee = s.insee AND i.name = s.name AND i.part = s.part "
    "AND s.geom IS DISTINCT FROM ST_GeomFromWKB(i.wkb, 4326)";
/* New lines only, in the order derived: an upsert would take an id for each. */
static const char insert_pg_sql[] =
    "INSERT INTO streets(insee, name, part, geom) "
    "SELECT insee, name, part, ST_GeomFromWKB(wkb, 4326) FROM streets_in i "
    "WHERE NOT EXISTS (SELECT 1 FROM streets s "
    "  WHERE s.insee = i.insee AND s.name = i.name AND s.part = i.part) ORDER BY seq";
#define COPY_FLUSH (4u << 20)   /* bytes staged before they are sent */

/* PostgreSQL: the staged lines sent to streets_in. */
static int send_staged(rebuild *r)
{
    int rc = r->copy_len ? geodata_pg_copy(r->store, copy_pg_sql, r->copy, r->copy_len,
                                           "writing streets") : 0;
    r->copy_len = 0;
    return rc;
}

/* PostgreSQL: one line (its WKB, len bytes) staged as the current street's
 * next part. */
static int stage_line(rebuild *r, size_t len)
{
    size_t need = 64 + 2 * (strlen(r->insee) + strlen(r->name)) + 3 + 2 * len;
    if (r->copy_len + need > r->copy_cap) {
        size_t cap = r->copy_cap ? r->copy_cap : COPY_FLUSH + need;
        while (cap < r->copy_len + need)
            cap *= 2;
        char *c = realloc(r->copy, cap);
        if (!c)
            return geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
        r->copy = c;
        r->copy_cap = cap;
    }
    char *d = r->copy + r->copy_len;
    d += sprintf(d, "%llu\t", (unsigned long long)++r->staged);
    d += geodata_pg_copy_text(d, r->insee);
    *d++ = '\t';
    d += geodata_pg_copy_text(d, r->name);
    d += sprintf(d, "\t%d\t\\\\x", r->part++);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        *d++ = hex[r->wkb[i] >> 4];
        *d++ = hex[r->wkb[i] & 15];
    }
    *d++ = '\n';
    r->copy_len = (size_t)(d - r->copy);
    return r->copy_len >= COPY_FLUSH ? send_staged(r) : 0;
}

/* Copies s into *buf (grown as needed); 0 or GEODATA_ENOMEM. */
static int set_text(char **buf, size_t *cap, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > *cap) {
        char *b = realloc(*buf, n);
        if (!b)
            return GEODATA_ENOMEM;
        *buf = b;
        *cap = n;
    }
    memcpy(*buf, s, n);
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* Steps a write statement bound by the caller, counting the rows changed. */
static int run_write(rebuild *r, sql_stmt *st, const char *what)
{
    int rc = sql_step(st);
    sql_reset(st);
    sql_clear_bindings(st);
    if (rc != SQL_DONE)
        return geodata_fail_sql(r->store, what);
    r->stats->changed += (uint64_t)sql_changes(r->store);
    return 0;
}

/* Writes one line of the current street as its next part. */
static int write_line(void *arg, const double *lonlat, size_t n)
{
    rebuild *r = arg;
    size_t len = 9 + 16 * n;
    if (len > r->wkb_cap) {
        unsigned char *w = realloc(r->wkb, len);
        if (!w)
            return geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
        r->wkb = w;
        r->wkb_cap = len;
    }
    r->wkb[0] = 1; /* little-endian WKB LINESTRING */
    put_u32(r->wkb + 1, 2);
    put_u32(r->wkb + 5, (uint32_t)n);
    for (size_t i = 0; i < 2 * n; i++)
        put_f64(r->wkb + 9 + 8 * i, lonlat[i]);
    r->stats->streets++;
    if (r->store->pg)
        return stage_line(r, len);
    sql_stmt *st = r->upsert;
    sql_bind_text(st, 1, r->insee, -1, SQL_STATIC);
    sql_bind_text(st, 2, r->name, -1, SQL_STATIC);
    sql_bind_int(st, 3, r->part++);
    sql_bind_blob(st, 4, r->wkb, (int)len, SQL_STATIC);
    return run_write(r, st, "writing a street");
}

/* Deletes the lines of commune insee whose name lies strictly between lo
 * and hi ("" and NULL: no bound). Work: an index range. */
static int delete_names(rebuild *r, const char *insee, const char *lo, const char *hi)
{
    sql_stmt *st = hi ? r->names : r->names_after;
    sql_bind_text(st, 1, insee, -1, SQL_STATIC);
    sql_bind_text(st, 2, lo, -1, SQL_STATIC);
    if (hi)
        sql_bind_text(st, 3, hi, -1, SQL_STATIC);
    return run_write(r, st, "deleting old streets");
}

/* Deletes the lines of the pending communes after lo (from the first when
 * lo is NULL) and before hi (NULL: no bound): communes left without an
 * address. Work: an index range of the pending list. */
static int delete_communes(rebuild *r, const char *lo, const char *hi)
{
    sql_stmt *st = lo ? r->communes : r->first;
    sql_bind_text(st, 1, lo ? lo : "", -1, SQL_STATIC);
    if (hi)
        sql_bind_text(st, 2, hi, -1, SQL_STATIC);
    return run_write(r, st, "deleting old streets");
}

/* Derives and writes the street read so far, after deleting the lines of
 * the streets between the previous one written and it: they have no
 * address left. */
static int flush_street(rebuild *r)
{
    int rc;
    if (r->store->pg) {   /* staged: what is no more goes at the end */
        r->part = 0;
        rc = geodata_streets_derive(r->a, r->n, write_line, r);
        if (rc == GEODATA_ENOMEM)
            rc = geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
        r->n = 0;
        return rc;
    }
    if (r->has_prev && strcmp(r->prev_insee, r->insee) == 0) {
        rc = delete_names(r, r->insee, r->prev_name, r->name);
    } else {
        rc = r->has_prev ? delete_names(r, r->prev_insee, r->prev_name, NULL) : 0;
        if (!rc) rc = delete_communes(r, r->has_prev ? r->prev_insee : NULL, r->insee);
        if (!rc) rc = delete_names(r, r->insee, "", r->name);
    }
    r->part = 0;
    if (!rc)
        rc = geodata_streets_derive(r->a, r->n, write_line, r);
    if (rc == GEODATA_ENOMEM)
        rc = geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
    if (!rc) {
        sql_bind_text(r->parts, 1, r->insee, -1, SQL_STATIC);
        sql_bind_text(r->parts, 2, r->name, -1, SQL_STATIC);
        sql_bind_int(r->parts, 3, r->part);
        rc = run_write(r, r->parts, "deleting old streets");
    }
    if (!rc && (set_text(&r->prev_insee, &r->prev_insee_cap, r->insee)
                || set_text(&r->prev_name, &r->prev_name_cap, r->name)))
        rc = geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
    r->has_prev = 1;
    r->n = 0;
    return rc;
}

static int count_pending(geodata_store *store, uint64_t *n)
{
    sql_stmt *st = geodata_prepare(store, "SELECT count(*) FROM streets_pending");
    if (!st)
        return GEODATA_EDB;
    int rc = sql_step(st) == SQL_ROW ? GEODATA_OK
                                            : geodata_fail_sql(store, "reading the streets to rebuild");
    *n = rc ? 0 : (uint64_t)sql_column_int64(st, 0);
    sql_finalize(st);
    return rc;
}

/* Appends an address of the current street. */
static int add_address(rebuild *r, sql_stmt *rows)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        geodata_street_address *a = realloc(r->a, cap * sizeof *a);
        if (!a)
            return geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
        r->a = a;
        r->cap = cap;
    }
    double box[4];
    if (geodata_blob_box(sql_column_blob(rows, 3), sql_column_bytes(rows, 3), box))
        return 0; /* no point: nothing to place */
    r->a[r->n++] = (geodata_street_address){ .lon = box[0], .lat = box[2],
                                             .number = (long)sql_column_int64(rows, 2) };
    r->stats->addresses++;
    return 0;
}

/* Reads the addresses of rows street by street, deriving each; 0 or a
 * negative code. */
static int read_streets(rebuild *r, sql_stmt *rows, geodata_progress_fn progress,
                        void *progress_arg, uint64_t total)
{
    int rc = GEODATA_OK, step = SQL_DONE, reading = 0;
    uint64_t visited = 0;     /* communes with addresses, for progress */
    while (!rc && (step = sql_step(rows)) == SQL_ROW) {
        const char *insee = (const char *)sql_column_text(rows, 0);
        const char *name = (const char *)sql_column_text(rows, 1);
        insee = insee ? insee : "";
        name = name ? name : "";
        int new_commune = !reading || strcmp(insee, r->insee) != 0;
        int new_street = new_commune || strcmp(name, r->name) != 0;
        if (reading && new_street)
            rc = flush_street(r);
        if (!rc && new_commune && progress)
            progress(progress_arg, ++visited, total);
        if (!rc && new_street && (set_text(&r->insee, &r->insee_cap, insee)
                                  || set_text(&r->name, &r->name_cap, name)))
            rc = geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
        reading = 1;
        if (!rc)
            rc = add_address(r, rows);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(r->store, "reading addresses for the streets");
    if (!rc && reading)
        rc = flush_street(r);
    return rc;
}

/* PostgreSQL: every line staged, then those no more deleted, those changed
 * updated and the new ones inserted, each in one statement. */
static int rebuild_pending_pg(rebuild *r, sql_stmt *rows, uint64_t total,
                              geodata_progress_fn progress, void *progress_arg)
{
    geodata_store *store = r->store;
    int rc = rows ? geodata_exec(store, stage_pg_sql, "staging the streets") : GEODATA_EDB;
    if (!rc)
        rc = read_streets(r, rows, progress, progress_arg, total);
    sql_finalize(rows);
    if (!rc)
        rc = send_staged(r);
    const char *const writes[] = { gone_pg_sql, update_pg_sql, insert_pg_sql };
    for (size_t i = 0; !rc && i < 3; i++) {
        sql_stmt *st = geodata_prepare(store, writes[i]);
        rc = st ? run_write(r, st, "writing streets") : GEODATA_EDB;
        sql_finalize(st);
    }
    if (!rc)
        rc = geodata_exec(store, "TRUNCATE streets_in; DELETE FROM streets_pending",
                          "emptying the streets to rebuild");
    r->stats->communes = total;
    return rc;
}

static int rebuild_pending(rebuild *r, geodata_progress_fn progress, void *progress_arg)
{
    geodata_store *store = r->store;
    uint64_t total;
    int rc = count_pending(store, &total);
    if (rc || total == 0)
        return rc;
    sql_stmt *rows = geodata_prepare_stream(store,
        "SELECT insee, street, number, geom FROM addresses "
        "WHERE insee IN (SELECT insee FROM streets_pending) "
        "ORDER BY insee, street, number, rep, id");
    if (store->pg)
        return rebuild_pending_pg(r, rows, total, progress, progress_arg);
    r->upsert = geodata_prepare(store,
        "INSERT INTO streets(insee, name, part, geom) VALUES (?1, ?2, ?3, ST_GeomFromWKB(?4, 4326)) "
        "ON CONFLICT(insee, name, part) DO UPDATE SET geom = excluded.geom "
        "WHERE streets.geom IS DISTINCT FROM excluded.geom");
    r->names = geodata_prepare(store,
        "DELETE FROM streets WHERE insee = ?1 AND name > ?2 AND name < ?3");
    r->names_after = geodata_prepare(store, "DELETE FROM streets WHERE insee = ?1 AND name > ?2");
    r->first = geodata_prepare(store,
        "DELETE FROM streets WHERE insee IN (SELECT insee FROM streets_pending "
        "  WHERE insee >= ?1 AND (CAST(?2 AS TEXT) IS NULL OR insee < ?2))");
    r->communes = geodata_prepare(store,
        "DELETE FROM streets WHERE insee IN (SELECT insee FROM streets_pending "
        "  WHERE insee > ?1 AND (CAST(?2 AS TEXT) IS NULL OR insee < ?2))");
    r->parts = geodata_prepare(store,
        "DELETE FROM streets WHERE insee = ?1 AND name = ?2 AND part >= ?3");
    if (!rows || !r->upsert || !r->names || !r->names_after || !r->first || !r->communes || !r->parts)
        rc = GEODATA_EDB;
    if (!rc)
        rc = read_streets(r, rows, progress, progress_arg, total);
    if (!rc && r->has_prev)
        rc = delete_names(r, r->prev_insee, r->prev_name, NULL);
    if (!rc)
        rc = delete_communes(r, r->has_prev ? r->prev_insee : NULL, NULL);
    sql_finalize(rows);
    if (!rc)
        rc = geodata_exec(store, "DELETE FROM streets_pending", "emptying the streets to rebuild");
    r->stats->communes = total;
    return rc;
}

int geodata_streets_rebuild(geodata_store *store, geodata_progress_fn progress, void *progress_arg,
                            geodata_streets_stats *stats)
{
    geodata_streets_stats ignored;
    stats = stats ? stats : &ignored;
    memset(stats, 0, sizeof *stats);
    int own = !sql_in_transaction(store);
    int rc = own ? geodata_begin(store) : GEODATA_OK;
    if (rc)
        return rc;
    /* Lines of many communes at once, or the first lines of the store (a
     * country's first import), are written without the R*Tree, which is
     * then rebuilt in one bulk pass. */
    uint64_t pending = 0;
    rc = count_pending(store, &pending);
    sql_stmt *first = rc ? NULL : geodata_prepare(store, "SELECT NOT EXISTS (SELECT 1 FROM streets)");
    int bulk = first && sql_step(first) == SQL_ROW && pending > 0
               && (pending >= BULK_COMMUNES || sql_column_int(first, 0));
    sql_finalize(first);
    if (!rc && !first)
        rc = GEODATA_EDB;
    if (bulk)
        rc = geodata_spatial_index_suspend(store, "streets");
    rebuild r = { .store = store, .stats = stats };
    if (!rc)
        rc = rebuild_pending(&r, progress, progress_arg);
    if (!rc && bulk)
        rc = geodata_spatial_index_rebuild(store, "streets");
    sql_finalize(r.upsert);
    sql_finalize(r.names);
    sql_finalize(r.names_after);
    sql_finalize(r.first);
    sql_finalize(r.communes);
    sql_finalize(r.parts);
    free(r.insee);
    free(r.name);
    free(r.prev_insee);
    free(r.prev_name);
    free(r.a);
    free(r.wkb);
    free(r.copy);
    if (own) {
        if (!rc)
            rc = geodata_commit(store);
        if (rc)
            geodata_rollback(store);
    }
    return rc;
}

int geodata_streets_in_box(geodata_store *store, const double box[4], size_t max,
                           int (*each)(void *arg, const geodata_street *s), void *arg)
{
    /* The spatial index's candidates (float boxes rounded outward), in its
     * order on either engine. */
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT s.name, s.insee, ST_AsBinary(s.geom) FROM idx_streets_geom i "
        "JOIN streets s ON s.id = i.pkid "
        "WHERE i.xmin <= ?3 AND i.xmax >= ?1 AND i.ymin <= ?4 AND i.ymax >= ?2 LIMIT ?5",
        "SELECT s.name, s.insee, ST_AsBinary(s.geom) FROM streets s "
        "WHERE s.geom && ST_MakeEnvelope(?1, ?2, ?3, ?4, 4326) LIMIT ?5"));
    if (!st)
        return GEODATA_EDB;
    for (int i = 0; i < 4; i++)
        sql_bind_double(st, i + 1, box[i]);
    sql_bind_int64(st, 5, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    int rc = GEODATA_OK, step;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        geodata_street s = {
            .name = (const char *)sql_column_text(st, 0),
            .insee = (const char *)sql_column_text(st, 1),
            .wkb = sql_column_blob(st, 2),
            .wkb_len = (size_t)sql_column_bytes(st, 2),
        };
        if (s.name && s.insee && s.wkb)
            rc = each(arg, &s);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading streets");
    geodata_release(store, st);
    return rc;
}
