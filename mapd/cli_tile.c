/*
 * mapd/cli_tile.c — `mapd tile`: vector tiles without HTTP.
 *
 *   mapd tile Z X Y --db DB [--viewer V] > tile.mvt
 *   mapd tile --batch --db DB [--viewer V] [--out DIR] < tiles.txt
 *   mapd tile --pyramid --minzoom A --maxzoom B --out DIR --db DB [--viewer V]
 *
 * V is `anonymous` (the default: what visitors see), `all` (the staff view:
 * every need and maker) or a neighbourhood id (a member living there).
 *
 * Every mode opens one store and one tiles_ctx and draws each tile through
 * draw(), the only call of mapd_tile_render() here, so the three modes draw
 * exactly what GET /tiles/Z/X/Y.mvt draws for the same viewer (uncompressed).
 * For a member viewer the needs layer is loaded into memory once, before the
 * first tile, as `mapd serve` does at start (not part of --batch's timings).
 *
 * --batch reads one "Z X Y" a line (blank lines and lines starting with #
 * are skipped) and prints "Z X Y BYTES MICROSECONDS" for each, the time being
 * that of mapd_tile_render() alone on the monotonic clock: it is the
 * benchmarks' probe. With --out, each tile is also written to DIR/Z/X/Y.mvt
 * (an empty tile as an empty file). A bad line stops the batch with exit 2.
 *
 * --pyramid draws every tile of zooms A..B that meets the neighbourhoods'
 * box and writes the non-empty ones to DIR/Z/X/Y.mvt. Its work is bounded
 * before it starts: zoom at most PYRAMID_MAX_ZOOM and at most
 * PYRAMID_MAX_TILES tiles. It uses every core (at most
 * PYRAMID_MAX_WORKERS): each worker thread has its own store connection and
 * tiles_ctx, shares the polygons and the needs layer (each behind its own
 * lock, as the server's workers share them) and takes the next tile from
 * one atomic counter; a tile is the same whichever worker draws it. The
 * first failure stops every worker, and its reason is printed once.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "geodata/map.h"
#include "geodata/neighbourhoods.h"
#include "parse.h"
#include "progress.h"
#include "tile_neighbourhoods.h"
#include "tile_render.h"
#include "tiles/tile.h"

#define PYRAMID_MAX_ZOOM 18
#define PYRAMID_MAX_TILES 5000000
#define PYRAMID_MAX_WORKERS 8
#define LINE_MAX_BYTES 256     /* a batch line longer than this is refused */

#define USAGE "usage: mapd tile Z X Y --db DB [--viewer V] > tile.mvt | " \
              "mapd tile --batch --db DB [--viewer V] [--out DIR] < tiles.txt | " \
              "mapd tile --pyramid --minzoom A --maxzoom B --out DIR --db DB [--viewer V] " \
              "(V: anonymous, all, or a neighbourhood id)"

/* What every mode shares: the store, the GEOS context, the viewer, the clock. */
typedef struct job {
    const char *db;        /* its path, for the pyramid's other connections */
    geodata_store *store;
    tiles_ctx *ctx;
    mapd_needs *needs;     /* member viewers only; NULL: no needs layer */
    geodata_geocoder *geocoder; /* its address points, when a tile may show them, as mapd serve */
    mapd_neighbourhoods *neighbourhoods; /* the polygons, prepared once */
    mapd_tile_viewer viewer;
    geodata_audience audience; /* storage of viewer.audience */
    char viewer_nb[64];    /* --viewer's neighbourhood */
    uint8_t *groups;       /* storage of viewer.groups */
    int64_t now;           /* one instant for every tile of the run */
    const char *out;       /* directory of Z/X/Y.mvt files, or NULL */
} job;

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Draws one tile with store and ctx into *bytes (malloc'd, *len bytes;
 * NULL when empty). Returns mapd_tile_render()'s code; why (n bytes) says
 * what failed. */
static int render(const job *j, geodata_store *store, tiles_ctx *ctx, int z, int64_t x, int64_t y,
                  uint8_t **bytes, size_t *len, char *why, size_t n)
{
    mapd_tile_sources src = { j->needs, j->geocoder, j->neighbourhoods };
    int rc = mapd_tile_render(store, &src, ctx, z, x, y, &j->viewer, j->now, MAPD_TILE_MAX_BYTES,
                              bytes, len);
    if (rc)
        snprintf(why, n, "tile %d/%lld/%lld: %s", z, (long long)x, (long long)y,
                 rc == TILES_ENOMEM    ? "out of memory"
                 : rc == TILES_ETOOBIG ? "cannot be drawn within the tile size budget"
                 : rc == TILES_EINVAL  ? "not a tile"
                                       : geodata_errmsg(store));
    return rc;
}

/* Draws one tile into *bytes (malloc'd, *len bytes; NULL when empty) and
 * gives the time mapd_tile_render() took. Returns 0, or 1 after printing the
 * reason. */
static int draw(job *j, int z, int64_t x, int64_t y, uint8_t **bytes, size_t *len, double *seconds)
{
    char why[512];
    double t0 = monotonic_s();
    int rc = render(j, j->store, j->ctx, z, x, y, bytes, len, why, sizeof why);
    *seconds = monotonic_s() - t0;
    return rc ? mapd_fail(MAPD_EXIT_FAIL, "%s", why), 1 : 0;
}

/* mkdir that accepts an existing directory; 0 or -1 with errno. */
static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Writes bytes to DIR/Z/X/Y.mvt, creating DIR/Z and DIR/Z/X as needed
 * (another thread creating them first is fine). Returns 0, or -1 with the
 * reason in why (n bytes). */
static int save_tile(const job *j, int z, int64_t x, int64_t y, const uint8_t *bytes, size_t len,
                     char *why, size_t n_why)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%d", j->out, z);
    if (n < 0 || (size_t)n >= sizeof path - 64)
        return snprintf(why, n_why, "--out: the directory name is too long"), -1;
    if (make_dir(path))
        return snprintf(why, n_why, "cannot create %s: %s", path, strerror(errno)), -1;
    n += snprintf(path + n, sizeof path - (size_t)n, "/%lld", (long long)x);
    if (make_dir(path))
        return snprintf(why, n_why, "cannot create %s: %s", path, strerror(errno)), -1;
    snprintf(path + n, sizeof path - (size_t)n, "/%lld.mvt", (long long)y);
    FILE *f = fopen(path, "wb");
    if (!f)
        return snprintf(why, n_why, "cannot create %s: %s", path, strerror(errno)), -1;
    int bad = len && fwrite(bytes, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad)
        return snprintf(why, n_why, "cannot write %s: %s", path, strerror(errno)), -1;
    return 0;
}

/* save_tile, printing the reason: 0, or 1. */
static int write_tile(const job *j, int z, int64_t x, int64_t y, const uint8_t *bytes, size_t len)
{
    char why[4200];
    return save_tile(j, z, x, y, bytes, len, why, sizeof why) ? mapd_fail(MAPD_EXIT_FAIL, "%s", why), 1 : 0;
}

/* Parses "Z X Y" (decimal, separated by blanks) with mapd_parse_tile's
 * rules. 1 when valid. */
static int parse_line(const char *line, int *z, int64_t *x, int64_t *y)
{
    char word[3][32];
    const char *p = line;
    for (int i = 0; i < 3; i++) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t\r\n");
        if (n == 0 || n >= sizeof word[i])
            return 0;
        memcpy(word[i], p, n);
        word[i][n] = '\0';
        p += n;
    }
    if (p[strspn(p, " \t\r\n")] != '\0')
        return 0;
    char path[3 * 32 + 3];
    snprintf(path, sizeof path, "%s/%s/%s", word[0], word[1], word[2]);
    return mapd_parse_tile(path, "", z, x, y);
}

/* --batch: see the top of the file. Work: one render per line read. */
static int run_batch(job *j)
{
    if (j->out && make_dir(j->out))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot create %s: %s", j->out, strerror(errno));
    char line[LINE_MAX_BYTES + 2];
    long lineno = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n')
            return mapd_fail(MAPD_EXIT_USAGE, "tile --batch: line %ld is longer than %d bytes",
                             lineno, LINE_MAX_BYTES);
        const char *p = line + strspn(line, " \t\r\n");
        if (*p == '\0' || *p == '#')
            continue;
        int z;
        int64_t x, y;
        if (!parse_line(line, &z, &x, &y)) {
            line[strcspn(line, "\r\n")] = '\0';
            return mapd_fail(MAPD_EXIT_USAGE,
                             "tile --batch: line %ld: '%.40s' is not Z X Y "
                             "(zoom 0 to %d, x and y below 2^zoom)", lineno, line, TILES_MAX_ZOOM);
        }
        uint8_t *bytes = NULL;
        size_t len = 0;
        double s;
        if (draw(j, z, x, y, &bytes, &len, &s))
            return MAPD_EXIT_FAIL;
        int bad = j->out && write_tile(j, z, x, y, bytes, len);
        free(bytes);
        if (bad)
            return MAPD_EXIT_FAIL;
        if (printf("%d %lld %lld %zu %.0f\n", z, (long long)x, (long long)y, len, s * 1e6) < 0)
            return mapd_fail(MAPD_EXIT_FAIL, "tile --batch: cannot write to standard output");
    }
    if (ferror(stdin))
        return mapd_fail(MAPD_EXIT_FAIL, "tile --batch: cannot read standard input");
    if (fflush(stdout))
        return mapd_fail(MAPD_EXIT_FAIL, "tile --batch: cannot write to standard output");
    return MAPD_EXIT_OK;
}

/* The tiles of zoom z that meet box: x0..x1, y0..y1 inclusive. */
static void tile_range(const double box[4], int z, int64_t r[4])
{
    tiles_tile_at(box[0], box[3], z, &r[0], &r[1]);
    tiles_tile_at(box[2], box[1], z, &r[2], &r[3]);
}

/* The pyramid's shared state: the tiles in order (zoom, then x, then y),
 * numbered from 0, and what the workers report. */
typedef struct pyramid_run {
    job *j;
    int minzoom, maxzoom;
    int64_t range[PYRAMID_MAX_ZOOM + 1][4];   /* per zoom: x0, y0, x1, y1 */
    uint64_t first[PYRAMID_MAX_ZOOM + 2];     /* per zoom: the number of its first tile */
    uint64_t total;
    atomic_uint_fast64_t next;                /* the next tile to take */
    atomic_int stop;                          /* set on the first failure */
    pthread_mutex_t lock;                     /* guards what follows */
    uint64_t done, written, bytes;
    mapd_progress progress;
    char why[4200];                           /* the first failure's reason, or "" */
} pyramid_run;

typedef struct worker {
    pyramid_run *p;
    geodata_store *store;  /* the job's for the first worker, else its own */
    tiles_ctx *ctx;
    pthread_t thread;
} worker;

/* Tile number i as z, x, y. */
static void pyramid_tile(const pyramid_run *p, uint64_t i, int *z, int64_t *x, int64_t *y)
{
    int k = p->minzoom;
    while (i >= p->first[k + 1])
        k++;
    uint64_t at = i - p->first[k], rows = (uint64_t)(p->range[k][3] - p->range[k][1] + 1);
    *z = k;
    *x = p->range[k][0] + (int64_t)(at / rows);
    *y = p->range[k][1] + (int64_t)(at % rows);
}

static void pyramid_fail(pyramid_run *p, const char *why)
{
    pthread_mutex_lock(&p->lock);
    if (!p->why[0])
        snprintf(p->why, sizeof p->why, "%s", why);
    pthread_mutex_unlock(&p->lock);
    atomic_store(&p->stop, 1);
}

/* A worker: takes tiles until none is left or one fails. */
static void *pyramid_work(void *arg)
{
    worker *w = arg;
    pyramid_run *p = w->p;
    char why[4200];
    while (!atomic_load(&p->stop)) {
        uint64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->total)
            break;
        int z;
        int64_t x, y;
        pyramid_tile(p, i, &z, &x, &y);
        uint8_t *bytes = NULL;
        size_t len = 0;
        int bad = render(p->j, w->store, w->ctx, z, x, y, &bytes, &len, why, sizeof why) != 0
               || (len && save_tile(p->j, z, x, y, bytes, len, why, sizeof why));
        free(bytes);
        if (bad) {
            pyramid_fail(p, why);
            break;
        }
        pthread_mutex_lock(&p->lock);
        p->written += len != 0;
        p->bytes += len;
        mapd_progress_update(&p->progress, ++p->done, p->total);
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

/* --pyramid: see the top of the file. Work: (maxzoom - minzoom + 1) ranges
 * of the extent, at most PYRAMID_MAX_TILES renders, counted first, shared
 * by one worker per core. */
static int run_pyramid(job *j, int minzoom, int maxzoom)
{
    double box[4];
    int rc = geodata_map_extent(j->store, box);
    if (rc)
        return mapd_fail(MAPD_EXIT_FAIL, "tile --pyramid: %s", geodata_errmsg(j->store));
    pyramid_run p = { .j = j };
    p.minzoom = minzoom;
    p.maxzoom = maxzoom;
    for (int z = minzoom; z <= maxzoom; z++) {
        int64_t *r = p.range[z];
        tile_range(box, z, r);
        p.first[z] = p.total;
        p.total += (uint64_t)(r[2] - r[0] + 1) * (uint64_t)(r[3] - r[1] + 1);
    }
    p.first[maxzoom + 1] = p.total;
    if (p.total > PYRAMID_MAX_TILES)
        return mapd_fail(MAPD_EXIT_USAGE,
                         "tile --pyramid: zooms %d to %d hold %llu tiles over the data, more than "
                         "%d: lower --maxzoom", minzoom, maxzoom, (unsigned long long)p.total,
                         PYRAMID_MAX_TILES);
    if (make_dir(j->out))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot create %s: %s", j->out, strerror(errno));

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cores < 1 ? 1 : cores > PYRAMID_MAX_WORKERS ? PYRAMID_MAX_WORKERS : (int)cores;
    if ((uint64_t)n > p.total)
        n = p.total ? (int)p.total : 1;
    worker w[PYRAMID_MAX_WORKERS] = { { .p = &p, .store = j->store, .ctx = j->ctx } };
    int opened = 1;
    for (; opened < n; opened++) {
        w[opened] = (worker){ .p = &p, .store = mapd_store_or_fail(j->db, GEODATA_OPEN_READONLY),
                              .ctx = tiles_ctx_new() };
        if (!w[opened].store || !w[opened].ctx) {
            if (w[opened].store && !w[opened].ctx)
                mapd_fail(MAPD_EXIT_FAIL, "tile: out of memory");
            geodata_store_close(w[opened].store);
            tiles_ctx_free(w[opened].ctx);
            break;
        }
    }
    rc = MAPD_EXIT_OK;
    if (opened < n)
        rc = MAPD_EXIT_FAIL;
    pthread_mutex_init(&p.lock, NULL);
    mapd_progress_init(&p.progress, "tiles");
    double t0 = monotonic_s();
    int started = 0;
    for (; !rc && started < opened; started++)
        if (pthread_create(&w[started].thread, NULL, pyramid_work, &w[started])) {
            pyramid_fail(&p, "tile --pyramid: cannot start a worker thread");
            break;
        }
    for (int i = 0; i < started; i++)
        pthread_join(w[i].thread, NULL);
    mapd_progress_finish(&p.progress);
    for (int i = 1; i < opened; i++) {
        geodata_store_close(w[i].store);
        tiles_ctx_free(w[i].ctx);
    }
    pthread_mutex_destroy(&p.lock);
    if (rc)
        return rc;
    if (p.why[0])
        return mapd_fail(MAPD_EXIT_FAIL, "%s", p.why);
    printf("pyramid: zooms %d to %d, %llu tiles drawn, %llu written (%llu empty skipped), "
           "%llu bytes, %.2f s\n", minzoom, maxzoom, (unsigned long long)p.done,
           (unsigned long long)p.written, (unsigned long long)(p.done - p.written),
           (unsigned long long)p.bytes, monotonic_s() - t0);
    return fflush(stdout) ? mapd_fail(MAPD_EXIT_FAIL, "cannot write to standard output")
                          : MAPD_EXIT_OK;
}

/* The one tile of `mapd tile Z X Y` on standard output. */
static int run_one(job *j, int z, int64_t x, int64_t y)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    double s;
    if (draw(j, z, x, y, &bytes, &len, &s))
        return MAPD_EXIT_FAIL;
    int rc = MAPD_EXIT_OK;
    if (len && fwrite(bytes, 1, len, stdout) != len)
        rc = mapd_fail(MAPD_EXIT_FAIL, "tile: cannot write the tile");
    free(bytes);
    return rc;
}

/* Finds nb among the neighbourhoods. */
static int find_nb(void *arg, const geodata_neighbourhood *n)
{
    return strcmp(n->id, arg) == 0;
}

/* Loads the needs layer a member viewer sees. 0, or an exit code after
 * printing the reason. Work: one pass over the open and claimed posts. */
static int load_needs(job *j)
{
    if (!(j->needs = mapd_needs_new()))
        return mapd_fail(MAPD_EXIT_FAIL, "tile: out of memory");
    int rc = mapd_needs_load(j->needs, j->store, j->now);
    if (!rc)
        rc = mapd_needs_visible(j->needs, &j->audience, &j->groups, &j->viewer.n_groups);
    j->viewer.groups = j->groups;
    if (!rc)
        return 0;
    return mapd_fail(MAPD_EXIT_FAIL, "tile: loading the needs: %s",
                     rc == TILES_ENOMEM ? "out of memory" : geodata_errmsg(j->store));
}

/* Sets the viewer from --viewer's value and loads what it sees. Returns 0,
 * or an exit code after printing the reason. */
static int set_viewer(job *j, const char *v)
{
    if (!v || strcmp(v, "anonymous") == 0)
        return 0;
    j->viewer.audience = &j->audience;
    if (strcmp(v, "all") == 0) {
        j->audience = GEODATA_AUDIENCE_ALL;
        return load_needs(j);
    }
    if (strlen(v) >= sizeof j->viewer_nb)
        return mapd_fail(MAPD_EXIT_USAGE, "--viewer: no neighbourhood '%.40s...'", v);
    snprintf(j->viewer_nb, sizeof j->viewer_nb, "%s", v);
    int found = geodata_neighbourhoods_in_box(j->store, NULL, find_nb, j->viewer_nb);
    if (found < 0)
        return mapd_fail(MAPD_EXIT_FAIL, "%s", geodata_errmsg(j->store));
    if (!found)
        return mapd_fail(MAPD_EXIT_USAGE, "--viewer wants anonymous, all or a neighbourhood id, "
                         "and there is no neighbourhood '%s'", v);
    if (geodata_audience_of_home(j->store, j->viewer_nb, &j->audience))
        return mapd_fail(MAPD_EXIT_FAIL, "%s", geodata_errmsg(j->store));
    return load_needs(j);
}

/* A zoom option's value: 0 to PYRAMID_MAX_ZOOM, else -1. */
static int parse_zoom(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < 0 || v > PYRAMID_MAX_ZOOM)
        return -1;
    return (int)v;
}

int mapd_cmd_tile(int argc, char **argv)
{
    enum { OPT_DB = 'd', OPT_VIEWER = 'v', OPT_BATCH = 'b', OPT_PYRAMID = 'p', OPT_MINZOOM = 'n',
           OPT_MAXZOOM = 'x', OPT_OUT = 'o' };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, OPT_DB },
        { "viewer", required_argument, NULL, OPT_VIEWER },
        { "batch", no_argument, NULL, OPT_BATCH },
        { "pyramid", no_argument, NULL, OPT_PYRAMID },
        { "minzoom", required_argument, NULL, OPT_MINZOOM },
        { "maxzoom", required_argument, NULL, OPT_MAXZOOM },
        { "out", required_argument, NULL, OPT_OUT },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL, *viewer = NULL, *out = NULL, *minzoom_s = NULL, *maxzoom_s = NULL;
    int batch = 0, pyramid = 0, c;
    optind = 1;
    opterr = 0; /* our own one-line message below */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_VIEWER: viewer = optarg; break;
        case OPT_BATCH: batch = 1; break;
        case OPT_PYRAMID: pyramid = 1; break;
        case OPT_MINZOOM: minzoom_s = optarg; break;
        case OPT_MAXZOOM: maxzoom_s = optarg; break;
        case OPT_OUT: out = optarg; break;
        default:
            return mapd_fail(MAPD_EXIT_USAGE, "tile: unknown option or missing value in '%.40s'; "
                             USAGE, argv[optind - 1]);
        }
    }
    int n_args = argc - optind;
    int single = !batch && !pyramid;
    if (!db || batch + pyramid > 1 || n_args != (single ? 3 : 0)
        || ((minzoom_s || maxzoom_s) && !pyramid) || (out && single))
        return mapd_fail(MAPD_EXIT_USAGE, USAGE);
    int z = 0, minzoom = 0, maxzoom = 0;
    int64_t x = 0, y = 0;
    if (single) {
        char path[96];
        snprintf(path, sizeof path, "%.30s/%.30s/%.30s", argv[optind], argv[optind + 1],
                 argv[optind + 2]);
        if (!mapd_parse_tile(path, "", &z, &x, &y))
            return mapd_fail(MAPD_EXIT_USAGE, "tile: %s is not a tile (zoom 0 to %d, x and y "
                             "below 2^zoom)", path, TILES_MAX_ZOOM);
    }
    if (pyramid) {
        if (!out)
            return mapd_fail(MAPD_EXIT_USAGE, "tile --pyramid needs --out DIR");
        if (!minzoom_s || !maxzoom_s)
            return mapd_fail(MAPD_EXIT_USAGE, "tile --pyramid needs --minzoom and --maxzoom");
        minzoom = parse_zoom(minzoom_s);
        maxzoom = parse_zoom(maxzoom_s);
        if (minzoom < 0 || maxzoom < 0 || minzoom > maxzoom)
            return mapd_fail(MAPD_EXIT_USAGE, "tile --pyramid: --minzoom '%.20s' and --maxzoom "
                             "'%.20s' must be zooms from 0 to %d, the first not above the second",
                             minzoom_s, maxzoom_s, PYRAMID_MAX_ZOOM);
    }
    if (out && !*out)
        return mapd_fail(MAPD_EXIT_USAGE, "--out wants a directory");

    job j = { .db = db, .now = (int64_t)time(NULL), .out = out };
    if (!(j.store = mapd_store_or_fail(db, GEODATA_OPEN_READONLY)))
        return MAPD_EXIT_FAIL;
    int rc = set_viewer(&j, viewer);
    if (!rc && !(j.ctx = tiles_ctx_new()))
        rc = mapd_fail(MAPD_EXIT_FAIL, "tile: out of memory");
    /* The polygons are prepared once, and the address points loaded once
     * when a tile may show them (neither is part of the timings): every mode
     * draws a tile from the same sources as mapd serve, so to the same bytes. */
    if (!rc && !(j.neighbourhoods = mapd_neighbourhoods_new()))
        rc = mapd_fail(MAPD_EXIT_FAIL, "tile: out of memory");
    int lrc = rc ? 0 : mapd_neighbourhoods_load(j.neighbourhoods, j.store);
    if (lrc)
        rc = mapd_fail(MAPD_EXIT_FAIL, "tile: loading the neighbourhoods: %s",
                       lrc == TILES_ENOMEM ? "out of memory" : geodata_errmsg(j.store));
    int addresses = batch || (pyramid && maxzoom >= MAPD_TILE_ADDRESSES_MINZOOM)
                 || (!batch && !pyramid && z >= MAPD_TILE_ADDRESSES_MINZOOM);
    lrc = !rc && addresses ? geodata_geocoder_open(j.store, &j.geocoder, NULL) : 0;
    if (lrc)
        rc = mapd_fail(MAPD_EXIT_FAIL, "tile: loading the addresses: %s", geodata_errmsg(j.store));
    if (!rc)
        rc = batch ? run_batch(&j) : pyramid ? run_pyramid(&j, minzoom, maxzoom)
                                             : run_one(&j, z, x, y);
    tiles_ctx_free(j.ctx);
    mapd_needs_free(j.needs);
    geodata_geocoder_free(j.geocoder);
    mapd_neighbourhoods_free(j.neighbourhoods);
    free(j.groups);
    geodata_audience_clear(&j.audience);
    geodata_store_close(j.store);
    return rc;
}
