/*
 * geodata/import/import_addresses.c — BAN/BANO-style address CSV into the store.
 *
 * Format: a header naming at least the columns id, numero, rep, nom_voie,
 * code_postal, code_insee, nom_commune, lon, lat (any order, others ignored,
 * so the full 23-column BAN export works as well as the 9-column extract);
 * ';' separated, or ',' when the header holds no ';'; plain or gzip.
 *
 * Design: one pass, one transaction. Each row is checked, given its
 * neighbourhood (nbindex, with its grid: geodata_nbindex_accelerate)
 * and upserted by its source id with a prepared statement; a row whose stored
 * values are already the same is not rewritten, so re-importing a file is
 * idempotent and cheap. The R*Tree of address points and the index by
 * neighbourhood are not maintained row by row during the load but rebuilt in
 * one bulk pass at its end (rtree_bulk.c; CREATE INDEX sorts), which more
 * than halves the time of a full load. Bad rows are counted and the first few are named by
 * line number (see load_rows for the reader/writer pipeline). A failure of
 * the source as a whole (unreadable, wrong columns,
 * truncated gzip, no usable row) rolls everything back.
 *
 * The suffix ("rep") is stored in one spelling: BANO's bis/ter/quater become
 * BAN's b/t/q; anything else is lower-cased.
 *
 * At its end, in the same transaction, the import derives again the streets
 * of the communes whose addresses it changed (streets.c; triggers list
 * them), and notes how many. A re-import that changes no address is rolled
 * back whole: no index is rebuilt, no street derived, no audit line written,
 * and report->changed is 0 for the caller to say so.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "csv.h"
#include "normalize.h"
#include "geodata/nbindex.h"
#include "geodata/streets.h"
#include "spatial_index.h"
#include "spatialite_blob.h"

enum { COL_ID, COL_NUMERO, COL_REP, COL_VOIE, COL_CP, COL_INSEE, COL_COMMUNE, COL_LON, COL_LAT,
       N_COLS };

static const char *const col_names[N_COLS] = {
    "id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat"
};

#define MAX_FIELDS 64    /* fields looked at per row; a header may not be wider */

/* The import's page cache (the store's own is STORE_CACHE_KIB). Its one
 * transaction writes every page of the addresses' table and indexes; pages
 * that do not fit spill into the WAL before the commit, and each later read
 * of such a page looks through the WAL's index, O(frames / 4096), a cost
 * that grows with the import. With 1 GiB a 26-million-address import peaked
 * at 3.2 GB (docs/performance.md, "A country on one machine"). */
#define IMPORT_CACHE_PRAGMA "PRAGMA cache_size=-1048576"
/* With "PRAGMA threads=2" beside it, SQLite's sorter (the streets' pass in
 * commune order, the index rebuilt at the end) merges on a second thread. */

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
    /* Bounds that keep every label whole (geocode.h: GEODATA_LABEL_MAX). */
    if (strlen(r->id) > 100 || strlen(r->voie) > 200 || strlen(r->cp) > 10
        || strlen(r->insee) > 10 || strlen(r->commune) > 100) {
        snprintf(why, n, "a field is too long (id 100, nom_voie 200, code_postal 10, "
                 "code_insee 10, nom_commune 100 bytes at most)");
        return why;
    }
    /* Text goes into JSON and PostgreSQL, both UTF-8 only. */
    const char *texts[] = { r->id, r->rep_raw, r->voie, r->cp, r->insee, r->commune };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (!geodata_utf8_valid(texts[i], strlen(texts[i])))
            return "a field is not UTF-8 text";
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
    geodata_normalize_rep(r->rep_raw, r->rep, sizeof r->rep);
    return NULL;
}

static const char upsert_sql[] =
    "INSERT INTO addresses(source_id, number, rep, street, postcode, insee, city, "
    "  neighbourhood_id, geom) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?11) "
    "ON CONFLICT(source_id) DO UPDATE SET number = excluded.number, rep = excluded.rep, "
    "  street = excluded.street, postcode = excluded.postcode, insee = excluded.insee, "
    "  city = excluded.city, neighbourhood_id = excluded.neighbourhood_id, geom = excluded.geom "
    "WHERE NOT (addresses.number = excluded.number AND addresses.rep = excluded.rep "
    "  AND addresses.street = excluded.street AND addresses.postcode = excluded.postcode "
    "  AND addresses.insee = excluded.insee AND addresses.city = excluded.city "
    "  AND addresses.neighbourhood_id IS NOT DISTINCT FROM excluded.neighbourhood_id "
    "  AND ST_X(addresses.geom) = ?9 AND ST_Y(addresses.geom) = ?10)";

/*
 * On PostgreSQL a row at a time costs a round trip each (20 s for Paris's
 * 158,000 addresses). There, each batch is sent in one COPY to a temporary
 * table, then written from it in two statements: the rows that changed
 * updated (a row already the same is not rewritten), the new ones inserted
 * in line order, so that ids follow the file and none is taken for a row
 * that exists. An id met twice in one batch first sends the rows before
 * it, so the later row wins as it does row by row. Writers of the store
 * take turns (geodata_begin), so no other inserts between the two.
 */
static const char stage_pg_sql[] =
    "CREATE TEMP TABLE addresses_in (line bigint, source_id text, number bigint, rep text, "
    "  street text, postcode text, insee text, city text, neighbourhood_id text, "
    "  lon float8, lat float8) ON COMMIT DROP";
static const char copy_pg_sql[] = "COPY addresses_in FROM STDIN";
static const char update_pg_sql[] =
    "UPDATE addresses a SET number = i.number, rep = i.rep, street = i.street, "
    "  postcode = i.postcode, insee = i.insee, city = i.city, "
    "  neighbourhood_id = i.neighbourhood_id, geom = ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) "
    "FROM addresses_in i WHERE a.source_id = i.source_id "
    "AND NOT (a.number = i.number AND a.rep = i.rep AND a.street = i.street "
    "  AND a.postcode = i.postcode AND a.insee = i.insee AND a.city = i.city "
    "  AND a.neighbourhood_id IS NOT DISTINCT FROM i.neighbourhood_id "
    "  AND ST_X(a.geom) = i.lon AND ST_Y(a.geom) = i.lat)";
/* New rows only, in line order: an upsert would take an id for every row. */
static const char insert_pg_sql[] =
    "INSERT INTO addresses(source_id, number, rep, street, postcode, insee, city, "
    "  neighbourhood_id, geom) "
    "SELECT source_id, number, rep, street, postcode, insee, city, neighbourhood_id, "
    "  ST_SetSRID(ST_MakePoint(lon, lat), 4326) FROM addresses_in i "
    "WHERE NOT EXISTS (SELECT 1 FROM addresses a WHERE a.source_id = i.source_id) ORDER BY line";
static const char unstage_pg_sql[] = "TRUNCATE addresses_in";
/* Each batch's rows are found by their source id, an index probe each: a
 * hash or merge join would read the whole table once per batch, a cost
 * that grows with the table (quadratic over a country's import). */
static const char probe_pg_sql[] = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off";
static const char unprobe_pg_sql[] =
    "SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT";

/*
 * The load is a two-stage pipeline. A reader thread reads, splits and checks
 * lines and finds each row's neighbourhood (it alone uses the nbindex and its
 * GEOS context); the calling thread, which alone uses the SQLite connection,
 * writes the rows. They pass batches through two slots, so at most two
 * batches (about 4 MB) are in memory. The writer does all the counting and
 * the notes, in line order.
 */
#define BATCH_ROWS 4096
#define BATCH_TEXT (2 * GEODATA_CSV_MAX_LINE + 2)   /* never realloc'd: fields point in */
#define COPY_BYTES (4 * BATCH_TEXT)                 /* PostgreSQL: staged rows, sent when full */
#define ID_SLOTS (2 * BATCH_ROWS)                   /* a power of two, at most half full */

typedef struct batch_row {
    uint64_t line;        /* line number in the file */
    const char *bad;      /* why the row is rejected (in text), or NULL */
    row w;                /* fields point into the batch's text */
    long nb;              /* neighbourhood position in the index, or -1 */
} batch_row;

typedef struct batch {
    batch_row rows[BATCH_ROWS];
    size_t n;
    char *text;           /* copies of the lines, BATCH_TEXT bytes */
    size_t used;
    uint64_t offset;      /* file offset reached, for progress */
    int last;             /* no batch follows */
    int err;              /* a read error ended the file: why holds it */
    char why[512];
} batch;

typedef struct run {
    geodata_store *store;
    const char *path;
    geodata_csv csv;
    header h;
    geodata_nbindex *idx;
    sql_stmt *upsert;     /* SQLite: the row's upsert */
    sql_stmt *update, *insert;  /* PostgreSQL: the staged rows written */
    char *copy;           /* PostgreSQL: rows in COPY's text format, COPY_BYTES */
    const char **seen;    /* PostgreSQL: the ids in copy, ID_SLOTS open-addressed */
    const geodata_import_options *opts;
    geodata_report *report;
    double load_s, index_s; /* seconds spent loading the rows, rebuilding the indexes */
    /* the pipeline; mu guards produced, consumed and stop */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *slot[2];
    unsigned produced, consumed;
    int stop;             /* the writer failed: the reader must end */
} run;

/* Copies s into the batch's text; NULL when the batch is full. */
static char *batch_copy(batch *b, const char *s, size_t len)
{
    if (b->used + len + 1 > BATCH_TEXT)
        return NULL;
    char *dst = b->text + b->used;
    memcpy(dst, s, len + 1);
    b->used += len + 1;
    return dst;
}

/* Fills b with the next rows. A line that does not fit is kept for the
 * next batch in *pending. */
static void fill_batch(run *r, batch *b, char **pending)
{
    b->n = 0;
    b->used = 0;
    b->last = b->err = 0;
    char *f[MAX_FIELDS], rowwhy[160];
    while (b->n < BATCH_ROWS) {
        char *line = *pending;
        *pending = NULL;
        if (!line) {
            int got = geodata_csv_next(&r->csv, &line, b->why, sizeof b->why);
            if (got <= 0) {
                b->last = 1;
                b->err = got < 0;
                break;
            }
        }
        if (!*line)
            continue; /* blank lines are not rows */
        char *copy = batch_copy(b, line, strlen(line));
        if (!copy) {
            *pending = line; /* stays valid: the reader is not called again first */
            break;
        }
        batch_row *br = &b->rows[b->n++];
        br->line = r->csv.line;
        br->bad = NULL;
        br->nb = -1;
        int nf = geodata_csv_split(copy, r->h.sep, f, MAX_FIELDS);
        const char *bad;
        if (nf != r->h.n_fields) {
            snprintf(rowwhy, sizeof rowwhy, "%d fields where the header has %d", nf, r->h.n_fields);
            bad = rowwhy;
        } else {
            bad = check_row(f, &r->h, &br->w, rowwhy, sizeof rowwhy);
        }
        if (bad) {
            br->bad = batch_copy(b, bad, strlen(bad));
            if (!br->bad)
                br->bad = "row too long";
        } else {
            br->nb = geodata_nbindex_lookup(r->idx, br->w.lon, br->w.lat);
        }
    }
    b->offset = geodata_csv_offset(&r->csv);
}

static void *reader_main(void *arg)
{
    run *r = arg;
    char *pending = NULL;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (r->produced - r->consumed == 2 && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            return NULL;
        batch *b = r->slot[r->produced % 2];
        fill_batch(r, b, &pending);
        pthread_mutex_lock(&r->mu);
        r->produced++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (b->last)
            return NULL;
    }
}

static int store_row(run *r, const batch_row *br)
{
    sql_stmt *st = r->upsert;
    const row *w = &br->w;
    if (br->nb < 0)
        r->report->outside++;
    sql_bind_text(st, 1, w->id, -1, SQL_STATIC);
    sql_bind_int(st, 2, (int)w->numero);
    sql_bind_text(st, 3, w->rep, -1, SQL_STATIC);
    sql_bind_text(st, 4, w->voie, -1, SQL_STATIC);
    sql_bind_text(st, 5, w->cp, -1, SQL_STATIC);
    sql_bind_text(st, 6, w->insee, -1, SQL_STATIC);
    sql_bind_text(st, 7, w->commune, -1, SQL_STATIC);
    if (br->nb >= 0)
        sql_bind_text(st, 8, geodata_nbindex_id(r->idx, (size_t)br->nb), -1, SQL_STATIC);
    else
        sql_bind_null(st, 8);
    unsigned char blob[GEODATA_POINT_BLOB_SIZE];
    sql_bind_double(st, 9, w->lon);
    sql_bind_double(st, 10, w->lat);
    geodata_bind_point(r->store, st, 11, w->lon, w->lat, blob);
    int rc = sql_step(st);
    sql_reset(st);
    if (rc != SQL_DONE)
        return geodata_fail_sql(r->store, "storing an address");
    r->report->stored++;
    r->report->changed += (uint64_t)sql_changes(r->store);
    return GEODATA_OK;
}

/* PostgreSQL: the staged rows (len bytes of r->copy, n rows) copied, then
 * written (the changed updated, the new inserted); 0, or a negative code. */
static int send_staged(run *r, size_t len, uint64_t n)
{
    if (n == 0)
        return GEODATA_OK;
    int rc = geodata_pg_copy(r->store, copy_pg_sql, r->copy, len, "storing addresses");
    sql_stmt *const writes[] = { r->update, r->insert };
    for (size_t i = 0; !rc && i < 2; i++) {
        if (sql_step(writes[i]) != SQL_DONE)
            rc = geodata_fail_sql(r->store, "storing addresses");
        else
            r->report->changed += (uint64_t)sql_changes(r->store);
        sql_reset(writes[i]);
    }
    if (rc)
        return rc;
    r->report->stored += n;
    return geodata_exec(r->store, unstage_pg_sql, "storing addresses");
}

/* The staged row of br appended at dst, in COPY's text format: the end. */
static char *stage_row(run *r, const batch_row *br, char *dst)
{
    const row *w = &br->w;
    const char *text[] = { w->id, NULL, w->rep, w->voie, w->cp, w->insee, w->commune };
    dst += sprintf(dst, "%llu", (unsigned long long)br->line);
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        *dst++ = '\t';
        if (text[i])
            dst += geodata_pg_copy_text(dst, text[i]);
        else
            dst += sprintf(dst, "%ld", w->numero);
    }
    *dst++ = '\t';
    if (br->nb >= 0)
        dst += geodata_pg_copy_text(dst, geodata_nbindex_id(r->idx, (size_t)br->nb));
    else
        dst += sprintf(dst, "\\N");
    dst += sprintf(dst, "\t%.17g\t%.17g\n", w->lon, w->lat);
    return dst;
}

/* FNV-1a of an id, for the ids of one batch. */
static uint32_t id_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The bytes a row may take staged: its texts escaped (twice their length
 * at most), the numbers, the tabs and the newline. */
static size_t row_room(run *r, const batch_row *br)
{
    const row *w = &br->w;
    size_t n = strlen(w->id) + strlen(w->rep) + strlen(w->voie) + strlen(w->cp)
               + strlen(w->insee) + strlen(w->commune);
    if (br->nb >= 0)
        n += strlen(geodata_nbindex_id(r->idx, (size_t)br->nb));
    return 2 * n + 128;
}

/* PostgreSQL: the good rows of b staged and sent; 0, or a negative code. */
static int store_batch_pg(run *r, const batch *b)
{
    memset(r->seen, 0, ID_SLOTS * sizeof *r->seen);
    char *dst = r->copy;
    uint64_t staged = 0;
    int rc = GEODATA_OK;
    for (size_t i = 0; i < b->n && !rc; i++) {
        const batch_row *br = &b->rows[i];
        if (br->bad)
            continue;
        uint32_t slot = id_hash(br->w.id) & (ID_SLOTS - 1);
        while (r->seen[slot] && strcmp(r->seen[slot], br->w.id) != 0)
            slot = (slot + 1) & (ID_SLOTS - 1);
        /* Twice in the batch, or no room left: what came before goes first. */
        if (r->seen[slot] || (size_t)(dst - r->copy) + row_room(r, br) > COPY_BYTES) {
            rc = send_staged(r, (size_t)(dst - r->copy), staged);
            dst = r->copy;
            staged = 0;
            memset(r->seen, 0, ID_SLOTS * sizeof *r->seen);
            slot = id_hash(br->w.id) & (ID_SLOTS - 1);
        }
        r->seen[slot] = br->w.id;
        if (br->nb < 0)
            r->report->outside++;
        dst = stage_row(r, br, dst);
        staged++;
    }
    if (!rc)
        rc = send_staged(r, (size_t)(dst - r->copy), staged);
    return rc;
}

/* Writes the rows of one batch; 0, or a negative code. */
static int write_batch(run *r, const batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const batch_row *br = &b->rows[i];
        r->report->read++;
        if (br->bad) {
            r->report->rejected++;
            geodata_report_note(r->report, "line %llu: %s", (unsigned long long)br->line, br->bad);
            continue;
        }
        int rc = r->store->pg ? GEODATA_OK : store_row(r, br);
        if (rc)
            return rc;
    }
    if (r->store->pg) {
        int rc = store_batch_pg(r, b);
        if (rc)
            return rc;
    }
    if (b->err)
        return geodata_fail(r->store, GEODATA_EIO, "%s: %s", r->path, b->why);
    if (r->opts->progress)
        r->opts->progress(r->opts->progress_arg, b->offset, r->csv.file_size);
    return GEODATA_OK;
}

/* Reads and stores every data row through the pipeline. */
static int load_rows(run *r)
{
    for (int i = 0; i < 2; i++) {
        r->slot[i] = malloc(sizeof *r->slot[i]);
        if (r->slot[i])
            r->slot[i]->text = malloc(BATCH_TEXT);
        if (!r->slot[i] || !r->slot[i]->text) {
            for (int j = 0; j <= i; j++)
                if (r->slot[j]) free(r->slot[j]->text), free(r->slot[j]);
            return geodata_fail(r->store, GEODATA_ENOMEM, "out of memory");
        }
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    pthread_t reader;
    int rc = GEODATA_OK;
    if (pthread_create(&reader, NULL, reader_main, r) != 0) {
        rc = geodata_fail(r->store, GEODATA_ENOMEM, "cannot start the reader thread");
    } else {
        for (int last = 0; !last && !rc;) {
            pthread_mutex_lock(&r->mu);
            while (r->produced == r->consumed)
                pthread_cond_wait(&r->cv, &r->mu);
            pthread_mutex_unlock(&r->mu);
            const batch *b = r->slot[r->consumed % 2];
            last = b->last;
            rc = write_batch(r, b);
            pthread_mutex_lock(&r->mu);
            r->consumed++;
            r->stop = rc != GEODATA_OK;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
        pthread_join(reader, NULL);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    for (int i = 0; i < 2; i++) {
        free(r->slot[i]->text);
        free(r->slot[i]);
    }
    if (rc)
        return rc;
    if (r->report->read == 0)
        return geodata_fail(r->store, GEODATA_EINVAL, "%s: no data rows after the header", r->path);
    if (r->report->stored == 0)
        return geodata_fail(r->store, GEODATA_EINVAL, "%s: none of the %llu rows is usable (%s)",
                            r->path, (unsigned long long)r->report->read,
                            r->report->n_notes ? r->report->notes[0] : "?");
    return GEODATA_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds note (taken; NULL is ignored) to the report even when the notes of
 * bad rows have filled it: it then takes the last one's place (that one is
 * still counted among the "more"). */
static void note_kept(geodata_report *report, char *note)
{
    if (!note)
        return;
    report->n_notes_total++;
    if (report->n_notes == GEODATA_REPORT_NOTES)
        free(report->notes[--report->n_notes]);
    report->notes[report->n_notes++] = note;
}

/* After a load that changed rows: the R*Tree and the index by neighbourhood
 * rebuilt, the streets of the communes changed derived again, the audit line
 * written, all in the import's transaction. */
static int finish_load(run *r, const char *index_sql)
{
    geodata_store *store = r->store;
    geodata_report *report = r->report;
    double t0 = now_s();
    /* PostgreSQL plans the streets' pass with the table's statistics, which
     * a first load leaves empty until autovacuum comes by. */
    int rc = store->pg ? geodata_exec(store, "ANALYZE addresses", "analysing the addresses") : 0;
    if (!rc) rc = geodata_spatial_index_rebuild(store, "addresses");
    if (!rc) rc = geodata_index_restore(store, index_sql);
    r->index_s = now_s() - t0;
    geodata_streets_stats streets = { 0 };
    t0 = now_s();
    if (!rc) rc = geodata_streets_rebuild(store, r->opts->progress, r->opts->progress_arg, &streets);
    if (!rc && streets.communes)
        note_kept(report, geodata_format("streets: %llu derived from the addresses of %llu communes "
                                         "(%llu lines changed, %.2f s)",
                                         (unsigned long long)streets.streets,
                                         (unsigned long long)streets.communes,
                                         (unsigned long long)streets.changed, now_s() - t0));
    if (!rc) {
        char *detail = geodata_format("%llu rows, %llu stored, %llu rejected, %llu outside, "
                                      "%llu streets of %llu communes derived",
                                      (unsigned long long)report->read,
                                      (unsigned long long)report->stored,
                                      (unsigned long long)report->rejected,
                                      (unsigned long long)report->outside,
                                      (unsigned long long)streets.streets,
                                      (unsigned long long)streets.communes);
        rc = geodata_audit(store, 0, "import addresses", r->path, detail);
        free(detail);
    }
    return rc;
}

int geodata_import_addresses(geodata_store *store, const char *path,
                             const geodata_import_options *opts, geodata_report *report)
{
    static const geodata_import_options defaults = { 0 };
    memset(report, 0, sizeof *report);
    run r = { .store = store, .path = path, .opts = opts ? opts : &defaults, .report = report };
    char why[512];
    char *line = NULL, *index_sql = NULL;
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
    if (!rc && !store->pg)   /* SQLite's own tuning; PostgreSQL's is the server's */
        rc = geodata_exec(store, IMPORT_CACHE_PRAGMA "; PRAGMA threads=2",
                          "sizing the import's page cache");
    int bulk = !rc && geodata_bulk_journal(store);
    if (!rc) rc = geodata_begin(store);
    if (!rc) {
        rc = geodata_nbindex_load(store, &r.idx);
        if (!rc) rc = geodata_nbindex_accelerate(r.idx);  /* millions of lookups */
        if (!rc) rc = geodata_spatial_index_suspend(store, "addresses");
        if (!rc) rc = geodata_index_suspend(store, "addresses_neighbourhood", &index_sql);
        if (!rc && !store->pg && !(r.upsert = geodata_prepare(store, upsert_sql)))
            rc = GEODATA_EDB;
        if (!rc && store->pg) {
            rc = geodata_exec(store, stage_pg_sql, "staging the addresses");
            if (!rc) rc = geodata_exec(store, probe_pg_sql, "staging the addresses");
            if (!rc && (!(r.update = geodata_prepare(store, update_pg_sql))
                        || !(r.insert = geodata_prepare(store, insert_pg_sql))))
                rc = GEODATA_EDB;
            if (!rc && (!(r.copy = malloc(COPY_BYTES)) || !(r.seen = malloc(ID_SLOTS * sizeof *r.seen))))
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        }
        double t0 = now_s();
        if (!rc) rc = load_rows(&r);
        if (!rc && store->pg) rc = geodata_exec(store, unprobe_pg_sql, "staging the addresses");
        r.load_s = now_s() - t0;
        /* Nothing new: the transaction is undone (the indexes were only
         * suspended in it), and nothing is rebuilt, derived or logged. */
        int same = !rc && report->changed == 0;
        if (!rc && !same) rc = finish_load(&r, index_sql);
        sql_finalize(r.upsert);
        sql_finalize(r.update);
        sql_finalize(r.insert);
        free(r.copy);
        free(r.seen);
        t0 = now_s();
        if (!rc && !same) rc = geodata_commit(store);
        if (rc || same) geodata_rollback(store);
        if (!rc && !same)
            note_kept(report, geodata_format("rows loaded in %.1f s, indexes rebuilt in %.1f s, "
                                             "committed in %.1f s", r.load_s, r.index_s, now_s() - t0));
    }
    geodata_bulk_done(store, bulk);
    if (!store->pg)
        sqlite3_exec(store->db, "PRAGMA cache_size=" STORE_CACHE_KIB "; PRAGMA threads=0", NULL, NULL, NULL);
    sqlite3_free(index_sql);
    geodata_nbindex_free(r.idx);
    geodata_csv_close(&r.csv);
    return rc;
}
