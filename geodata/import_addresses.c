/*
 * geodata/import_addresses.c — BAN/BANO-style address CSV into the store.
 *
 * Format: a header naming at least the columns id, numero, rep, nom_voie,
 * code_postal, code_insee, nom_commune, lon, lat (any order, others ignored,
 * so the full 23-column BAN export works as well as the 9-column extract);
 * ';' separated, or ',' when the header holds no ';'; plain or gzip.
 *
 * Design: one pass, one transaction. Each row is checked, given its
 * neighbourhood (nbindex: R-tree candidates, then a prepared-geometry test)
 * and upserted by its source id with a prepared statement; a row whose stored
 * values are already the same is not rewritten, so re-importing a file is
 * idempotent and cheap. The R*Tree of address points is not maintained row by
 * row during the load but rebuilt in one bulk pass at its end (rtree_bulk.c). Bad rows are counted and the first few are named by
 * line number. A failure of the source as a whole (unreadable, wrong columns,
 * truncated gzip, no usable row) rolls everything back.
 *
 * The suffix ("rep") is stored in one spelling: BANO's bis/ter/quater become
 * BAN's b/t/q; anything else is lower-cased.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "geodata/nbindex.h"
#include "spatial_index.h"

enum { COL_ID, COL_NUMERO, COL_REP, COL_VOIE, COL_CP, COL_INSEE, COL_COMMUNE, COL_LON, COL_LAT,
       N_COLS };

static const char *const col_names[N_COLS] = {
    "id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat"
};

#define MAX_FIELDS 64    /* fields looked at per row; a header may not be wider */

typedef struct header {
    char sep;
    int n_fields;         /* fields in the header: every row must have as many */
    int col[N_COLS];      /* position of each needed column */
} header;

static int parse_header(geodata_store *store, const char *path, char *line, header *h)
{
    if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB
        && (unsigned char)line[2] == 0xBF)
        line += 3; /* UTF-8 byte-order mark */
    h->sep = strchr(line, ';') ? ';' : ',';
    char *copy = strdup(line);
    if (!copy)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    char *fields[MAX_FIELDS];
    h->n_fields = geodata_csv_split(line, h->sep, fields, MAX_FIELDS);
    int rc = GEODATA_OK;
    if (h->n_fields > MAX_FIELDS) {
        rc = geodata_fail(store, GEODATA_EINVAL, "%s: the header has %d columns, more than %d",
                          path, h->n_fields, MAX_FIELDS);
    }
    for (int c = 0; rc == GEODATA_OK && c < N_COLS; c++) {
        h->col[c] = -1;
        for (int i = 0; i < h->n_fields; i++)
            if (strcasecmp(fields[i], col_names[c]) == 0)
                h->col[c] = i;
        if (h->col[c] < 0)
            rc = geodata_fail(store, GEODATA_EINVAL,
                              "%s: wrong column set: no column '%s' in the header "
                              "(expected id;numero;rep;nom_voie;code_postal;code_insee;"
                              "nom_commune;lon;lat, found: %.200s)",
                              path, col_names[c], copy);
    }
    free(copy);
    return rc;
}

/* The canonical spelling of a suffix, written into out (of size n). */
static void normalise_rep(const char *rep, char *out, size_t n)
{
    static const struct { const char *from, *to; } spellings[] = {
        { "bis", "b" }, { "ter", "t" }, { "quater", "q" },
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
        if (strcasecmp(rep, spellings[i].from) == 0) {
            snprintf(out, n, "%s", spellings[i].to);
            return;
        }
    size_t i = 0;
    for (; rep[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)rep[i]);
    out[i] = '\0';
}

static int parse_double(const char *s, double *out)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out);
}

static int parse_number(const char *s, long *out)
{
    if (!*s || !isdigit((unsigned char)*s))
        return 0;
    char *end;
    errno = 0;
    *out = strtol(s, &end, 10);
    return *end == '\0' && errno == 0 && *out <= 99999;
}

/* One row, checked. Returns NULL when the row is good, else the reason. */
typedef struct row {
    const char *id, *rep_raw, *voie, *cp, *insee, *commune, *numero_raw;
    long numero;
    double lon, lat;
    char rep[16];
} row;

static const char *check_row(char **f, const header *h, row *r, char *why, size_t n)
{
    r->id = f[h->col[COL_ID]];
    r->numero_raw = f[h->col[COL_NUMERO]];
    r->rep_raw = f[h->col[COL_REP]];
    r->voie = f[h->col[COL_VOIE]];
    r->cp = f[h->col[COL_CP]];
    r->insee = f[h->col[COL_INSEE]];
    r->commune = f[h->col[COL_COMMUNE]];
    const char *lon = f[h->col[COL_LON]], *lat = f[h->col[COL_LAT]];
    if (!*r->id)
        return "missing id";
    if (!*r->voie)
        return "missing street name (nom_voie)";
    if (!parse_number(r->numero_raw, &r->numero)) {
        snprintf(why, n, "unparseable house number '%.40s'", r->numero_raw);
        return why;
    }
    if (!*lon || !*lat)
        return "missing coordinates";
    if (!parse_double(lon, &r->lon) || !parse_double(lat, &r->lat)) {
        snprintf(why, n, "unparseable coordinates '%.40s', '%.40s'", lon, lat);
        return why;
    }
    if (r->lon < -180 || r->lon > 180 || r->lat < -90 || r->lat > 90) {
        snprintf(why, n, "coordinates out of range (%.40s, %.40s)", lon, lat);
        return why;
    }
    if (strlen(r->rep_raw) >= sizeof r->rep) {
        snprintf(why, n, "suffix (rep) too long '%.40s'", r->rep_raw);
        return why;
    }
    normalise_rep(r->rep_raw, r->rep, sizeof r->rep);
    return NULL;
}

static const char upsert_sql[] =
    "INSERT INTO addresses(source_id, number, rep, street, postcode, insee, city, "
    "  neighbourhood_id, geom) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, MakePoint(?9, ?10, 4326)) "
    "ON CONFLICT(source_id) DO UPDATE SET number = excluded.number, rep = excluded.rep, "
    "  street = excluded.street, postcode = excluded.postcode, insee = excluded.insee, "
    "  city = excluded.city, neighbourhood_id = excluded.neighbourhood_id, geom = excluded.geom "
    "WHERE NOT (number = excluded.number AND rep = excluded.rep AND street = excluded.street "
    "  AND postcode = excluded.postcode AND insee = excluded.insee AND city = excluded.city "
    "  AND neighbourhood_id IS excluded.neighbourhood_id "
    "  AND X(geom) = ?9 AND Y(geom) = ?10)";

typedef struct run {
    geodata_store *store;
    const char *path;
    geodata_csv csv;
    header h;
    geodata_nbindex *idx;
    sqlite3_stmt *upsert;
    const geodata_import_options *opts;
    geodata_report *report;
} run;

static int store_row(run *r, const row *w)
{
    sqlite3_stmt *st = r->upsert;
    long k = geodata_nbindex_lookup(r->idx, w->lon, w->lat);
    if (k < 0)
        r->report->outside++;
    sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)w->numero);
    sqlite3_bind_text(st, 3, w->rep, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->voie, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, w->cp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, w->insee, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, w->commune, -1, SQLITE_STATIC);
    if (k >= 0)
        sqlite3_bind_text(st, 8, geodata_nbindex_id(r->idx, (size_t)k), -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_double(st, 9, w->lon);
    sqlite3_bind_double(st, 10, w->lat);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return geodata_fail_sql(r->store, "storing an address");
    r->report->stored++;
    return GEODATA_OK;
}

/* Reads and stores every data row. */
static int load_rows(run *r)
{
    char why[512], rowwhy[160];
    char *line, *f[MAX_FIELDS];
    int got;
    while ((got = geodata_csv_next(&r->csv, &line, why, sizeof why)) == 1) {
        if (!*line)
            continue; /* blank lines are not rows */
        r->report->read++;
        int nf = geodata_csv_split(line, r->h.sep, f, MAX_FIELDS);
        row w;
        const char *bad = NULL;
        if (nf != r->h.n_fields) {
            snprintf(rowwhy, sizeof rowwhy, "%d fields where the header has %d", nf, r->h.n_fields);
            bad = rowwhy;
        } else {
            bad = check_row(f, &r->h, &w, rowwhy, sizeof rowwhy);
        }
        if (bad) {
            r->report->rejected++;
            geodata_report_note(r->report, "line %llu: %s", (unsigned long long)r->csv.line, bad);
        } else {
            int rc = store_row(r, &w);
            if (rc)
                return rc;
        }
        if (r->opts->progress && (r->report->read & 4095) == 0)
            r->opts->progress(r->opts->progress_arg, geodata_csv_offset(&r->csv), r->csv.file_size);
    }
    if (got < 0)
        return geodata_fail(r->store, GEODATA_EIO, "%s: %s", r->path, why);
    if (r->opts->progress)
        r->opts->progress(r->opts->progress_arg, r->csv.file_size, r->csv.file_size);
    if (r->report->read == 0)
        return geodata_fail(r->store, GEODATA_EINVAL, "%s: no data rows after the header", r->path);
    if (r->report->stored == 0)
        return geodata_fail(r->store, GEODATA_EINVAL, "%s: none of the %llu rows is usable (%s)",
                            r->path, (unsigned long long)r->report->read,
                            r->report->n_notes ? r->report->notes[0] : "?");
    return GEODATA_OK;
}

int geodata_import_addresses(geodata_store *store, const char *path,
                             const geodata_import_options *opts, geodata_report *report)
{
    static const geodata_import_options defaults = { 0 };
    memset(report, 0, sizeof *report);
    run r = { .store = store, .path = path, .opts = opts ? opts : &defaults, .report = report };
    char why[512];
    char *line = NULL;
    int rc = geodata_csv_open(&r.csv, path, why, sizeof why);
    if (rc)
        return geodata_fail(store, rc, "%s", why);
    int got = geodata_csv_next(&r.csv, &line, why, sizeof why);
    if (got < 0)
        rc = geodata_fail(store, GEODATA_EIO, "%s: %s", path, why);
    else if (got == 0)
        rc = geodata_fail(store, GEODATA_EINVAL, "%s: the file is empty", path);
    else
        rc = parse_header(store, path, line, &r.h);
    if (!rc) rc = geodata_begin(store);
    if (!rc) {
        rc = geodata_nbindex_load(store, &r.idx);
        if (!rc) rc = geodata_spatial_index_suspend(store, "addresses");
        if (!rc && !(r.upsert = geodata_prepare(store, upsert_sql)))
            rc = GEODATA_EDB;
        if (!rc) rc = load_rows(&r);
        if (!rc) rc = geodata_spatial_index_rebuild(store, "addresses");
        if (!rc) {
            char *detail = geodata_format("%llu rows, %llu stored, %llu rejected, %llu outside",
                                          (unsigned long long)report->read,
                                          (unsigned long long)report->stored,
                                          (unsigned long long)report->rejected,
                                          (unsigned long long)report->outside);
            rc = geodata_audit(store, 0, "import addresses", path, detail);
            free(detail);
        }
        sqlite3_finalize(r.upsert);
        if (!rc) rc = geodata_commit(store);
        if (rc) geodata_rollback(store);
    }
    geodata_nbindex_free(r.idx);
    geodata_csv_close(&r.csv);
    return rc;
}
