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
 * PYRAMID_MAX_TILES tiles.
 */
#include <errno.h>
#include <getopt.h>
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
#define LINE_MAX_BYTES 256     /* a batch line longer than this is refused */

#define USAGE "usage: mapd tile Z X Y --db DB [--viewer V] > tile.mvt | " \
              "mapd tile --batch --db DB [--viewer V] [--out DIR] < tiles.txt | " \
              "mapd tile --pyramid --minzoom A --maxzoom B --out DIR --db DB [--viewer V] " \
              "(V: anonymous, all, or a neighbourhood id)"

/* What every mode shares: the store, the GEOS context, the viewer, the clock. */
typedef struct job {
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

/* Draws one tile into *bytes (malloc'd, *len bytes; NULL when empty) and
 * gives the time mapd_tile_render() took. Returns 0, or 1 after printing the
 * reason. */
static int draw(job *j, int z, int64_t x, int64_t y, uint8_t **bytes, size_t *len, double *seconds)
{
    double t0 = monotonic_s();
    mapd_tile_sources src = { j->needs, j->geocoder, j->neighbourhoods };
    int rc = mapd_tile_render(j->store, &src, j->ctx, z, x, y, &j->viewer, j->now,
                              MAPD_TILE_MAX_BYTES, bytes, len);
    *seconds = monotonic_s() - t0;
    if (!rc)
        return 0;
    mapd_fail(MAPD_EXIT_FAIL, "tile %d/%lld/%lld: %s", z, (long long)x, (long long)y,
              rc == TILES_ENOMEM    ? "out of memory"
              : rc == TILES_ETOOBIG ? "cannot be drawn within the tile size budget"
              : rc == TILES_EINVAL  ? "not a tile"
                                    : geodata_errmsg(j->store));
    return 1;
}

/* mkdir that accepts an existing directory; 0 or -1 with errno. */
static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Writes bytes to DIR/Z/X/Y.mvt, creating DIR/Z and DIR/Z/X as needed.
 * Returns 0, or 1 after printing the reason. */
static int write_tile(const job *j, int z, int64_t x, int64_t y, const uint8_t *bytes, size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%d", j->out, z);
    if (n < 0 || (size_t)n >= sizeof path - 64)
        return mapd_fail(MAPD_EXIT_FAIL, "--out: the directory name is too long");
    if (make_dir(path))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot create %s: %s", path, strerror(errno));
    n += snprintf(path + n, sizeof path - (size_t)n, "/%lld", (long long)x);
    if (make_dir(path))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot create %s: %s", path, strerror(errno));
    snprintf(path + n, sizeof path - (size_t)n, "/%lld.mvt", (long long)y);
    FILE *f = fopen(path, "wb");
    if (!f)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot create %s: %s", path, strerror(errno));
    int bad = len && fwrite(bytes, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot write %s: %s", path, strerror(errno));
    return 0;
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

/* --pyramid: see the top of the file. Work: (maxzoom - minzoom + 1) ranges
 * of the extent, at most PYRAMID_MAX_TILES renders, counted first. */
static int run_pyramid(job *j, int minzoom, int maxzoom)
{
    double box[4];
    int rc = geodata_map_extent(j->store, box);
    if (rc)
        return mapd_fail(MAPD_EXIT_FAIL, "tile --pyramid: %s", geodata_errmsg(j->store));
    uint64_t total = 0;
    for (int z = minzoom; z <= maxzoom; z++) {
        int64_t r[4];
        tile_range(box, z, r);
        total += (uint64_t)(r[2] - r[0] + 1) * (uint64_t)(r[3] - r[1] + 1);
    }
    if (total > PYRAMID_MAX_TILES)
        return mapd_fail(MAPD_EXIT_USAGE,
                         "tile --pyramid: zooms %d to %d hold %llu tiles over the data, more than "
                         "%d: lower --maxzoom", minzoom, maxzoom, (unsigned long long)total,
                         PYRAMID_MAX_TILES);
    if (make_dir(j->out))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot create %s: %s", j->out, strerror(errno));

    mapd_progress progress;
    mapd_progress_init(&progress, "tiles");
    double t0 = monotonic_s();
    uint64_t done = 0, written = 0, bytes_out = 0;
    for (int z = minzoom; z <= maxzoom; z++) {
        int64_t r[4];
        tile_range(box, z, r);
        for (int64_t x = r[0]; x <= r[2]; x++)
            for (int64_t y = r[1]; y <= r[3]; y++) {
                uint8_t *bytes = NULL;
                size_t len = 0;
                double s;
                if (draw(j, z, x, y, &bytes, &len, &s)) {
                    mapd_progress_finish(&progress);
                    return MAPD_EXIT_FAIL;
                }
                int bad = len && write_tile(j, z, x, y, bytes, len);
                free(bytes);
                if (bad) {
                    mapd_progress_finish(&progress);
                    return MAPD_EXIT_FAIL;
                }
                written += len != 0;
                bytes_out += len;
                mapd_progress_update(&progress, ++done, total);
            }
    }
    mapd_progress_finish(&progress);
    printf("pyramid: zooms %d to %d, %llu tiles drawn, %llu written (%llu empty skipped), "
           "%llu bytes, %.2f s\n", minzoom, maxzoom, (unsigned long long)done,
           (unsigned long long)written, (unsigned long long)(done - written),
           (unsigned long long)bytes_out, monotonic_s() - t0);
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

    job j = { .now = (int64_t)time(NULL), .out = out };
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
