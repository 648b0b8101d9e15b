/*
 * tests/bench/geocode_bench.c [--only-nbindex] DB — geocoder speed, memory and
 * accuracy, and point-in-neighbourhood speed, on the addresses of DB, single
 * thread. Run through tests/bench/geocode.sh (make bench), which builds DB
 * from the bundled Paris sample. Prints every figure; asserts nothing.
 * --only-nbindex measures point in neighbourhood alone, on points around
 * addresses drawn at random by id (seconds on a national store, where the
 * whole run takes minutes).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "geocode_eval.h"
#include "geodata/geocode.h"
#include "geodata/nbindex.h"
#include "internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Point in neighbourhood on the m points pts (lon, lat pairs): the plain
 * index on the first eighth, then the grid's build time and memory, then
 * the grid on all of them, 8 times. */
static void bench_nbindex(geodata_store *store, const double *pts, size_t m)
{
    geodata_nbindex *idx;
    if (geodata_nbindex_load(store, &idx)) {
        fprintf(stderr, "%s\n", geodata_errmsg(store));
        return;
    }
    long sink = 0;
    double t0 = now();
    for (size_t i = 0; i < m / 8; i++)
        sink += geodata_nbindex_lookup(idx, pts[2 * i], pts[2 * i + 1]);
    double plain = (double)(m / 8) / (now() - t0);
    t0 = now();
    double c0 = cpu_now();
    int rc = geodata_nbindex_accelerate(idx);
    double grid_s = now() - t0, grid_cpu = cpu_now() - c0;
    geodata_nbindex_stats st0, st1;
    geodata_nbindex_get_stats(idx, &st0);
    t0 = now();
    for (int rep = 0; rep < 8; rep++)
        for (size_t i = 0; i < m; i++)
            sink += geodata_nbindex_lookup(idx, pts[2 * i], pts[2 * i + 1]);
    double fast = 8.0 * (double)m / (now() - t0);
    geodata_nbindex_get_stats(idx, &st1);
    printf("point in neighbourhood (target >= 5,000,000/s), %zu neighbourhoods:\n",
           geodata_nbindex_count(idx));
    printf("  R-tree + GEOS prepared   %10.0f lookups/s\n", plain);
    printf("  with the grid            %10.0f lookups/s   (grid built in %.2f s, %.2f s of CPU)%s"
           "   [%ld]\n", fast, grid_s, grid_cpu, rc ? " (accelerate failed)" : "", sink % 7);
    printf("  grid: %zu cells, %zu crossed by borders (%zu left to GEOS), %.1f MB; "
           "%zu of %zu lookups went to GEOS\n", st1.cells, st1.mixed_cells, st1.exact_cells,
           (double)st1.bytes / 1048576.0, st1.exact_lookups - st0.exact_lookups, 8 * m);
    geodata_nbindex_free(idx);
}

/* m (at most 2^20) points (lon, lat pairs) around addresses of the store
 * drawn at random by id, each moved by up to 0.001 degree either way; NULL
 * when the store has none. Reads the addresses in id order, not in draw
 * order. */
static double *random_address_points(geodata_store *store, size_t m, uint64_t *rng)
{
    sqlite3_stmt *st;
    sqlite3_int64 max_id = 0;
    if (sqlite3_prepare_v2(store->db, "SELECT max(id) FROM addresses", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        max_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (max_id < 1)
        return NULL;
    /* (id, slot) pairs sorted by id, so the store is read in order. */
    uint64_t *draw = malloc(m * sizeof *draw);
    double *pts = malloc(2 * m * sizeof *pts);
    if (!draw || !pts) {
        free(draw);
        free(pts);
        return NULL;
    }
    for (size_t i = 0; i < m; i++)
        draw[i] = (1 + eval_rand(rng) % (uint64_t)max_id) << 20 | i;
    qsort(draw, m, sizeof *draw, cmp_u64);
    if (sqlite3_prepare_v2(store->db, "SELECT X(geom), Y(geom) FROM addresses WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        free(draw);
        free(pts);
        return NULL;
    }
    double lon = 0, lat = 0;
    for (size_t i = 0; i < m; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(draw[i] >> 20));
        if (sqlite3_step(st) == SQLITE_ROW) { /* a missing id keeps the last point */
            lon = sqlite3_column_double(st, 0);
            lat = sqlite3_column_double(st, 1);
        }
        sqlite3_reset(st);
        size_t slot = draw[i] & ((1u << 20) - 1);
        pts[2 * slot] = lon + ((double)(eval_rand(rng) % 2001) - 1000) * 1e-6;
        pts[2 * slot + 1] = lat + ((double)(eval_rand(rng) % 2001) - 1000) * 1e-6;
    }
    sqlite3_finalize(st);
    free(draw);
    return pts;
}

typedef int (*geocode_fn)(const geodata_geocoder *, const char *, size_t, geodata_geocode_result *,
                          size_t *);

/* Geocodes every query once with fn, timing each; prints q/s and latency
 * quantiles. */
static void timed(const geodata_geocoder *g, geocode_fn fn, char **queries, size_t n, const char *what)
{
    double *lat = malloc(n * sizeof *lat);
    geodata_geocode_result res[5];
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        double a = now();
        size_t k;
        fn(g, queries[i], 5, res, &k);
        lat[i] = now() - a;
    }
    double total = now() - t0;
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("  %-28s %8.0f queries/s   p50 %6.3f ms   p99 %6.3f ms   max %6.3f ms   (%zu queries)\n",
           what, (double)n / total, lat[n / 2] * 1e3, lat[(size_t)((double)n * 0.99)] * 1e3,
           lat[n - 1] * 1e3, n);
    free(lat);
}

int main(int argc, char **argv)
{
    int only_nbindex = argc == 3 && strcmp(argv[1], "--only-nbindex") == 0;
    if (argc != 2 && !only_nbindex) {
        fprintf(stderr, "usage: geocode_bench [--only-nbindex] DB\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    geodata_store *store;
    char *err;
    if (geodata_store_open(path, GEODATA_OPEN_READONLY, &store, &err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (only_nbindex) {
        size_t m = 1u << 20;
        uint64_t rng = 12345;
        double *pts = random_address_points(store, m, &rng);
        if (!pts) {
            fprintf(stderr, "%s: no addresses to draw points from\n", path);
            geodata_store_close(store);
            return 1;
        }
        bench_nbindex(store, pts, m);
        free(pts);
        geodata_store_close(store);
        return 0;
    }
    eval_set set;
    eval_load(store, &set);

    malloc_trim(0);
    struct mallinfo2 mi0 = mallinfo2();
    double rss0 = rss_mb(), t0 = now();
    geodata_geocoder *g;
    if (geodata_geocoder_load(store, &g)) {
        fprintf(stderr, "%s\n", geodata_errmsg(store));
        return 1;
    }
    double load_s = now() - t0;
    struct mallinfo2 mi1 = mallinfo2();
    malloc_trim(0); /* what building freed is given back before RSS is read */
    double rss1 = rss_mb();
    double held_mb = ((double)(mi1.uordblks + mi1.hblkhd) - (double)(mi0.uordblks + mi0.hblkhd)) / 1048576.0;
    size_t n_addr = geodata_geocoder_count(g);
    printf("geocoder: %zu addresses, built in %.2f s, RSS growth %.1f MB = %.1f MB per million "
           "addresses (target <= 100); allocated %.1f MB = %.1f MB per million\n", n_addr, load_s,
           rss1 - rss0, (rss1 - rss0) / ((double)n_addr / 1e6), held_mb, held_mb / ((double)n_addr / 1e6));

    /* Queries are written before the clock starts. */
    size_t n = 20000;
    char **clean = malloc(n * sizeof *clean), **pert = malloc(n * sizeof *pert);
    uint64_t rng = 12345;
    char q[1024];
    for (size_t i = 0; i < n; i++) {
        const eval_addr *a = &set.a[eval_rand(&rng) % set.n];
        eval_query(a, EVAL_CLEAN, &rng, q, sizeof q);
        clean[i] = strdup(q);
        eval_query(a, (eval_variant)(1 + i % (EVAL_N_VARIANTS - 1)), &rng, q, sizeof q);
        pert[i] = strdup(q);
    }
    /* Autocompletion: the address as typed from its start, cut inside the
     * street's longest word after 3 or more of its letters ("7 Rue Montorg"). */
    char **partial = malloc(n * sizeof *partial);
    size_t found = 0;
    geodata_geocode_result res[5];
    for (size_t i = 0; i < n; i++) {
        const eval_addr *a = &set.a[eval_rand(&rng) % set.n];
        char full[600];
        snprintf(full, sizeof full, "%d %s", a->number, a->street);
        size_t len = strlen(full), wbeg = 0, wlen = 0;
        for (size_t p = strcspn(full, " "); p < len;) {
            p += strspn(full + p, " -'");
            size_t l = strcspn(full + p, " -'");
            if (l > wlen) {
                wbeg = p;
                wlen = l;
            }
            p += l;
        }
        size_t cut = wlen > 3 ? wbeg + 3 + (size_t)(eval_rand(&rng) % (wlen - 3 + 1)) : len;
        while (cut < len && (full[cut] & 0xC0) == 0x80)
            cut++;  /* never inside a UTF-8 character */
        full[cut] = '\0';
        partial[i] = strdup(full);
        size_t k = 0;
        if (i < 5000 && geodata_geocode_autocomplete(g, full, 5, res, &k) == GEODATA_OK)
            for (size_t j = 0; j < k; j++)
                if (res[j].type == GEODATA_MATCH_HOUSENUMBER && res[j].number == a->number
                    && strcmp(res[j].street, a->street) == 0 && strcmp(res[j].postcode, a->postcode) == 0) {
                    found++;
                    break;
                }
    }
    printf("speed, one thread (targets: >= 20000 clean/s, >= 5000 perturbed/s, p99 <= 2 ms; "
           "autocompletion >= 5000/s, p99 <= 5 ms):\n");
    timed(g, geodata_geocode, clean, n, "clean queries");
    timed(g, geodata_geocode, pert, n, "perturbed queries (11 kinds)");
    timed(g, geodata_geocode_autocomplete, partial, n, "autocompletion (word cut)");
    printf("  autocompletion: the address among the first 5 suggestions for %.1f%% of 5000 "
           "cut queries (the address cut inside its street's longest word)\n", 100.0 * (double)found / 5000.0);

    eval_result r;
    size_t sample = 5000;
    eval_run(g, &set, sample, 2000, 20200317, &r);
    printf("accuracy, %zu sampled addresses (targets: clean exact >= 99.5%%, perturbed within 30 m "
           ">= 99%%, invented confident <= 0.5%%):\n", sample);
    eval_print(&r, "  ", stdout);
    printf("  all perturbed    %6.2f%% within 30 m\n", 100.0 * eval_perturbed_within30(&r));
    printf("  invented         %6.2f%% confident house numbers (%zu of %zu)\n",
           100.0 * (double)r.fake_confident / (double)r.fake_asked, r.fake_confident, r.fake_asked);

    /* Point in neighbourhood: address points and random points around them. */
    size_t m = 1u << 20;
    double *pts = malloc(2 * m * sizeof *pts);
    for (size_t i = 0; i < m; i++) {
        const eval_addr *a = &set.a[eval_rand(&rng) % set.n];
        pts[2 * i] = a->lon + ((double)(eval_rand(&rng) % 2001) - 1000) * 1e-6;
        pts[2 * i + 1] = a->lat + ((double)(eval_rand(&rng) % 2001) - 1000) * 1e-6;
    }
    bench_nbindex(store, pts, m);

    for (size_t i = 0; i < n; i++) {
        free(clean[i]);
        free(pert[i]);
        free(partial[i]);
    }
    free(clean);
    free(pert);
    free(partial);
    free(pts);
    eval_free(&set);
    geodata_geocoder_free(g);
    geodata_store_close(store);
    return 0;
}
