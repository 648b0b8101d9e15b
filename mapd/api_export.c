/*
 * mapd/api_export.c — staff exports over HTTP, the background export jobs,
 * and the audit log read by staff.
 *
 *   GET /api/export?layer=&format=[&crs=&neighbourhood=&category=&status=&since=&until=]
 *                  [&background=1]
 *       staff: the file itself (200) when at most MAPD_EXPORT_SYNC_ROWS rows
 *       match and background is not asked, else a job (202, Location)
 *   GET /api/exports                 staff: the jobs kept, newest first
 *   GET /api/exports/{id}            staff: one job and its progress
 *   GET /api/exports/{id}/file       staff: a finished job's file
 *   GET /api/audit?limit=&before=    staff: the audit log, newest first
 *
 * Jobs: one worker thread with its own store connection (and so its own
 * GDAL error handler) runs the queued jobs one after the other, oldest
 * first; a job that waits costs a few hundred bytes. At most
 * MAPD_EXPORT_JOBS jobs are kept, MAPD_EXPORT_PENDING of them queued or
 * running: past that a new job is refused (503), and to make room the
 * oldest finished job is dropped with its file. Files live in a private
 * directory (mode 0700, made with mkdtemp under $TMPDIR or /tmp on the
 * first export, so that a server that never exports leaves nothing there
 * even when it is killed) for --export-keep seconds after the job ends
 * (default 24 h), removed on expiry (checked each minute and on every
 * listing) and, with the directory, when the server stops; a job running
 * then is cancelled.
 *
 * A direct download is written into the same directory, opened, unlinked,
 * and sent from the open file: nothing stays behind whatever the client
 * does. At most MAPD_EXPORT_SYNC_BUSY direct downloads run at once (each
 * holds a request worker for up to a few seconds); a request beyond that
 * becomes a job.
 *
 * Locking: exports->lock (a mutex) guards the job list and every field of
 * every job; the worker holds it only to take a job, to publish progress
 * and to finish it — never while writing a file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "geodata/audit.h"
#include "geodata/export.h"

#define MAPD_EXPORT_SYNC_ROWS 100000   /* more rows than this: a background job */
#define MAPD_EXPORT_SYNC_BUSY 2        /* direct downloads at once; more become jobs */
#define MAPD_EXPORT_JOBS      32       /* jobs kept, finished or not */
#define MAPD_EXPORT_PENDING   8        /* jobs queued or running */

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED } job_state;
static const char *const state_names[] = { "queued", "running", "done", "failed" };

typedef struct export_job {
    int64_t id;
    job_state state;
    char layer[32], format[16];
    int epsg;
    char neighbourhood[GEODATA_ID_MAX + 1];  /* filters, "" when absent */
    char category[64], status[32];
    int64_t since, until;                    /* GEODATA_TIME_OPEN_*: no bound */
    int64_t actor_id;
    char actor_name[GEODATA_NAME_MAX + 1];
    int64_t created_at, finished_at, expires_at;   /* Unix seconds; 0 until then */
    int64_t rows_total, rows_done, bytes;
    char error[256];                         /* why it failed */
    char filename[96];                       /* offered to the browser */
    char path[PATH_MAX];                     /* the file in the private directory */
} export_job;

struct mapd_exports {
    pthread_mutex_t lock;          /* guards everything below and every job */
    pthread_cond_t wake;           /* a job was queued, or the server stops */
    pthread_t worker;
    const char *db_path;
    char base[520];                /* where the private directory is made: $TMPDIR or /tmp */
    char dir[PATH_MAX];            /* the private directory, once made */
    int have_dir;                  /* dir was made */
    int64_t keep_s;                /* seconds a finished job's file is kept */
    export_job *jobs[MAPD_EXPORT_JOBS];   /* oldest first */
    size_t n_jobs;
    int64_t next_id;
    unsigned next_file;            /* names of direct downloads */
    int stopping;
    int sync_busy;                 /* direct downloads running (atomic, not under lock) */
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- the job list (callers hold the lock) ---- */

static void job_drop(mapd_exports *ex, size_t i)
{
    export_job *j = ex->jobs[i];
    if (j->path[0])
        unlink(j->path);
    free(j);
    memmove(&ex->jobs[i], &ex->jobs[i + 1], (ex->n_jobs - i - 1) * sizeof ex->jobs[0]);
    ex->n_jobs--;
}

/* Drops the finished jobs whose time is up. Work: one pass over the list. */
static void purge_expired(mapd_exports *ex, int64_t now)
{
    for (size_t i = 0; i < ex->n_jobs;) {
        export_job *j = ex->jobs[i];
        if ((j->state == JOB_DONE || j->state == JOB_FAILED) && j->expires_at <= now)
            job_drop(ex, i);
        else
            i++;
    }
}

static export_job *job_find(mapd_exports *ex, int64_t id)
{
    for (size_t i = 0; i < ex->n_jobs; i++)
        if (ex->jobs[i]->id == id)
            return ex->jobs[i];
    return NULL;
}

/* Makes the private directory on first use: 0, or -1 after a message on
 * stderr. */
static int ensure_dir(mapd_exports *ex)
{
    if (ex->have_dir)
        return 0;
    snprintf(ex->dir, sizeof ex->dir, "%s/mapd-exports.XXXXXX", ex->base);
    if (!mkdtemp(ex->dir)) {
        fprintf(stderr, "mapd: cannot make a directory for exports in %s: %s\n", ex->base,
                strerror(errno));
        return -1;
    }
    ex->have_dir = 1;
    return 0;
}

/* ---- the worker ---- */

typedef struct run_state {
    mapd_exports *ex;
    export_job *job;
} run_state;

/* Publishes progress; cancels when the server stops. */
static int job_progress(void *arg, uint64_t done, uint64_t total)
{
    run_state *r = arg;
    pthread_mutex_lock(&r->ex->lock);
    r->job->rows_done = (int64_t)done;
    r->job->rows_total = (int64_t)total;
    int stop = r->ex->stopping;
    pthread_mutex_unlock(&r->ex->lock);
    return stop ? 1 : 0;
}

static void job_request(const export_job *j, geodata_export_request *req)
{
    *req = (geodata_export_request){
        .layer = j->layer, .format = j->format, .epsg = j->epsg,
        .neighbourhood = j->neighbourhood[0] ? j->neighbourhood : NULL,
        .category = j->category[0] ? j->category : NULL,
        .status = j->status[0] ? j->status : NULL,
        .since = j->since, .until = j->until, .actor_id = j->actor_id, .now = j->created_at,
    };
}

static void *worker_main(void *arg)
{
    mapd_exports *ex = arg;
    geodata_store *store = NULL;
    pthread_mutex_lock(&ex->lock);
    while (!ex->stopping) {
        export_job *job = NULL;
        for (size_t i = 0; i < ex->n_jobs && !job; i++)
            if (ex->jobs[i]->state == JOB_QUEUED)
                job = ex->jobs[i];
        if (!job) {
            /* Wakes each minute to remove expired files even when idle. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 60;
            pthread_cond_timedwait(&ex->wake, &ex->lock, &until);
            purge_expired(ex, now_s());
            continue;
        }
        job->state = JOB_RUNNING;
        geodata_export_request req;
        job_request(job, &req);
        run_state r = { ex, job };
        req.progress = job_progress;
        req.progress_arg = &r;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", job->path);
        pthread_mutex_unlock(&ex->lock);

        char *err = NULL;
        geodata_export_result res = { 0 };
        int rc = store ? 0 : geodata_store_open(ex->db_path, 0, &store, &err);
        char why[256] = "";
        if (rc) {
            snprintf(why, sizeof why, "%s", err ? err : "the database cannot be opened");
            free(err);
        } else if ((rc = geodata_export_write(store, &req, path, &res))) {
            snprintf(why, sizeof why, "%s", rc > 0 ? "cancelled: the server stopped"
                                                   : geodata_errmsg(store));
            if (rc == GEODATA_EDB) {   /* a fresh connection for the next job */
                geodata_store_close(store);
                store = NULL;
            }
        }

        pthread_mutex_lock(&ex->lock);
        job->finished_at = now_s();
        job->expires_at = job->finished_at + ex->keep_s;
        if (rc) {
            job->state = JOB_FAILED;
            job->path[0] = '\0';
            snprintf(job->error, sizeof job->error, "%s", why);
        } else {
            job->state = JOB_DONE;
            job->rows_done = res.rows;
            job->bytes = res.bytes;
        }
    }
    pthread_mutex_unlock(&ex->lock);
    geodata_store_close(store);
    return NULL;
}

int mapd_exports_start(mapd_server *server, int64_t keep_s)
{
    mapd_exports *ex = calloc(1, sizeof *ex);
    if (!ex) {
        fprintf(stderr, "mapd: out of memory\n");
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    if (tmp && strlen(tmp) > 512) {
        fprintf(stderr, "mapd: TMPDIR is too long for the exports' directory\n");
        free(ex);
        return -1;
    }
    snprintf(ex->base, sizeof ex->base, "%s", tmp && *tmp ? tmp : "/tmp");
    ex->db_path = server->db_path;
    ex->keep_s = keep_s;
    ex->next_id = 1;
    pthread_mutex_init(&ex->lock, NULL);
    pthread_cond_init(&ex->wake, NULL);
    if (pthread_create(&ex->worker, NULL, worker_main, ex) != 0) {
        fprintf(stderr, "mapd: cannot start the export worker\n");
        free(ex);
        return -1;
    }
    server->exports = ex;
    return 0;
}

/* Removes the files directly in dir (none is expected: every job's file was
 * dropped with it, and direct downloads are unlinked once open). */
static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    }
    if (d)
        closedir(d);
}

void mapd_exports_stop(mapd_server *server)
{
    mapd_exports *ex = server->exports;
    if (!ex)
        return;
    pthread_mutex_lock(&ex->lock);
    ex->stopping = 1;
    pthread_cond_broadcast(&ex->wake);
    pthread_mutex_unlock(&ex->lock);
    pthread_join(ex->worker, NULL);
    while (ex->n_jobs)
        job_drop(ex, ex->n_jobs - 1);
    if (ex->have_dir) {
        remove_files(ex->dir);
        rmdir(ex->dir);
    }
    pthread_cond_destroy(&ex->wake);
    pthread_mutex_destroy(&ex->lock);
    free(ex);
    server->exports = NULL;
}

/* ---- responses ---- */

/* Queues r (destroyed here) with the headers every response carries, the
 * Content-Type, and Location or Content-Disposition when not NULL. */
static enum MHD_Result queue(mapd_ctx *ctx, unsigned status, struct MHD_Response *r, size_t bytes,
                             const char *type, const char *location, const char *disposition)
{
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    if (disposition)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
    ctx->req->status = status;
    ctx->req->bytes = bytes;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends the open file fd (taken: libmicrohttpd closes it) as an attachment
 * named filename. */
static enum MHD_Result send_file(mapd_ctx *ctx, int fd, const char *format, const char *filename)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the export file cannot be read; try again");
    }
    char disposition[160];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
    if (!r)
        close(fd);
    return queue(ctx, MHD_HTTP_OK, r, (size_t)sb.st_size,
                 geodata_export_format_find(format)->media_type, NULL, disposition);
}

static json_t *time_or_null(int64_t t, int64_t open)
{
    return t == open ? json_null() : mapd_json_time(t);
}

/* A job as the API shows it (the caller holds the lock). */
static json_t *job_json(const export_job *j)
{
    char crs[16], file[64];
    snprintf(crs, sizeof crs, "EPSG:%d", j->epsg);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:s, s:o, "
                          "s:{s:o, s:o, s:o, s:o, s:o}, s:{s:I, s:s}}",
        "id", (json_int_t)j->id, "status", state_names[j->state], "layer", j->layer,
        "format", j->format, "crs", crs, "rows_total", (json_int_t)j->rows_total,
        "rows_done", (json_int_t)j->rows_done, "created_at", mapd_json_time(j->created_at),
        "finished_at", mapd_json_time(j->finished_at), "expires_at", mapd_json_time(j->expires_at),
        "filename", j->filename,
        "bytes", j->state == JOB_DONE ? json_integer(j->bytes) : json_null(),
        "filters",
        "neighbourhood", j->neighbourhood[0] ? json_string(j->neighbourhood) : json_null(),
        "category", j->category[0] ? json_string(j->category) : json_null(),
        "status", j->status[0] ? json_string(j->status) : json_null(),
        "since", time_or_null(j->since, GEODATA_TIME_OPEN_START),
        "until", time_or_null(j->until, GEODATA_TIME_OPEN_END),
        "requested_by", "id", (json_int_t)j->actor_id, "display_name", j->actor_name);
    if (o && j->state == JOB_DONE) {
        snprintf(file, sizeof file, "/api/exports/%lld/file", (long long)j->id);
        json_object_set_new(o, "file", json_string(file));
    }
    if (o && j->state == JOB_FAILED)
        json_object_set_new(o, "error", json_string(j->error));
    return o;
}

/* ---- arguments ---- */

/* The argument name, NULL when absent or empty (a form's empty field). */
static const char *arg_value(mapd_ctx *ctx, const char *name)
{
    const char *v = mapd_arg(ctx, name);
    return v && *v ? v : NULL;
}

/* The time argument name into *t (left as it is when absent): 0, or -1
 * after a 400. */
static int time_arg_or_reply(mapd_ctx *ctx, const char *name, int end_of_day, int64_t *t)
{
    const char *v = arg_value(ctx, name);
    if (!v || !geodata_export_parse_time(NULL, v, end_of_day, t))
        return 0;
    char detail[160];
    snprintf(detail, sizeof detail, "%s is a date (YYYY-MM-DD) or an RFC 3339 time, not '%.40s'",
             name, v);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

static const char *const export_args[] = {
    "layer", "format", "crs", "neighbourhood", "category", "status", "since", "until",
    "background", NULL,
};

/* The export the query string asks for, checked against the store: 0, or
 * -1 after a 400 saying what is wrong (or a 503). */
static int export_request_or_reply(mapd_ctx *ctx, const geodata_member *m,
                                   geodata_export_request *req, int *background)
{
    if (mapd_known_args_or_reply(ctx, export_args))
        return -1;
    *req = (geodata_export_request){
        .layer = arg_value(ctx, "layer"), .format = arg_value(ctx, "format"),
        .neighbourhood = arg_value(ctx, "neighbourhood"), .category = arg_value(ctx, "category"),
        .status = arg_value(ctx, "status"), .since = GEODATA_TIME_OPEN_START,
        .until = GEODATA_TIME_OPEN_END, .actor_id = m->id, .now = ctx->now,
    };
    const char *why = NULL, *bg = arg_value(ctx, "background");
    if (!req->layer)
        why = "give layer: one of " GEODATA_EXPORT_LAYERS;
    else if (!req->format)
        why = "give format: one of " GEODATA_EXPORT_FORMATS;
    else if (!(req->epsg = geodata_export_parse_crs(arg_value(ctx, "crs"))))
        why = "crs is EPSG:4326 or EPSG:2154";
    else if (bg && strcmp(bg, "0") != 0 && strcmp(bg, "1") != 0)
        why = "background is 0 or 1";
    if (why) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", why);
        return -1;
    }
    *background = bg && strcmp(bg, "1") == 0;
    if (time_arg_or_reply(ctx, "since", 0, &req->since) || time_arg_or_reply(ctx, "until", 1, &req->until))
        return -1;
    int rc = geodata_export_check(ctx->store, req);
    if (rc) {
        mapd_problem_geodata(ctx, rc);
        return -1;
    }
    return 0;
}

/* ---- handlers ---- */

/* Queues a job for req (rows_total rows) and answers 202 with it. */
static enum MHD_Result start_job(mapd_ctx *ctx, const geodata_member *m,
                                 const geodata_export_request *req, int64_t rows)
{
    mapd_exports *ex = ctx->server->exports;
    export_job *j = calloc(1, sizeof *j);
    if (!j)
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable", "out of memory");
    snprintf(j->layer, sizeof j->layer, "%s", req->layer);
    snprintf(j->format, sizeof j->format, "%s", req->format);
    snprintf(j->neighbourhood, sizeof j->neighbourhood, "%s", req->neighbourhood ? req->neighbourhood : "");
    snprintf(j->category, sizeof j->category, "%s", req->category ? req->category : "");
    snprintf(j->status, sizeof j->status, "%s", req->status ? req->status : "");
    if ((req->category && strlen(req->category) >= sizeof j->category)
        || (req->neighbourhood && strlen(req->neighbourhood) >= sizeof j->neighbourhood)) {
        free(j);   /* unknown to the store anyway: checked values are short */
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "a filter value is too long");
    }
    j->epsg = req->epsg;
    j->since = req->since;
    j->until = req->until;
    j->actor_id = m->id;
    snprintf(j->actor_name, sizeof j->actor_name, "%s", m->display_name);
    j->created_at = ctx->now;
    j->rows_total = rows;
    geodata_export_filename(req, j->filename, sizeof j->filename);

    pthread_mutex_lock(&ex->lock);
    purge_expired(ex, ctx->now);
    size_t pending = 0, oldest_done = ex->n_jobs;
    for (size_t i = 0; i < ex->n_jobs; i++) {
        if (ex->jobs[i]->state == JOB_QUEUED || ex->jobs[i]->state == JOB_RUNNING)
            pending++;
        else if (oldest_done == ex->n_jobs)
            oldest_done = i;
    }
    if (pending >= MAPD_EXPORT_PENDING || ex->stopping) {
        pthread_mutex_unlock(&ex->lock);
        free(j);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "too many exports are waiting; try again in a few minutes");
    }
    if (ensure_dir(ex)) {
        pthread_mutex_unlock(&ex->lock);
        free(j);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the export file cannot be written; try again");
    }
    if (ex->n_jobs == MAPD_EXPORT_JOBS)
        job_drop(ex, oldest_done);   /* pending < n_jobs: there is a finished one */
    j->id = ex->next_id++;
    if (snprintf(j->path, sizeof j->path, "%s/job-%lld.%s", ex->dir, (long long)j->id,
                 geodata_export_format_find(j->format)->extension) >= (int)sizeof j->path)
        j->path[0] = '\0';   /* cannot happen: the directory's name is short (mapd_exports_start) */
    ex->jobs[ex->n_jobs++] = j;
    pthread_cond_signal(&ex->wake);
    json_t *doc = job_json(j);
    pthread_mutex_unlock(&ex->lock);

    char location[64];
    snprintf(location, sizeof location, "/api/exports/%lld", (long long)j->id);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return MHD_NO;
    size_t len = strlen(body);
    return queue(ctx, MHD_HTTP_ACCEPTED,
                 MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE), len,
                 "application/json", location, NULL);
}

/* Writes req now into the private directory and sends it. */
static enum MHD_Result send_now(mapd_ctx *ctx, const geodata_export_request *req)
{
    mapd_exports *ex = ctx->server->exports;
    char path[PATH_MAX], filename[96];
    unsigned n = __atomic_add_fetch(&ex->next_file, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&ex->lock);
    int no_dir = ensure_dir(ex);
    pthread_mutex_unlock(&ex->lock);
    if (no_dir) {
        __atomic_sub_fetch(&ex->sync_busy, 1, __ATOMIC_RELAXED);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the export file cannot be written; try again");
    }
    if (snprintf(path, sizeof path, "%s/direct-%u.%s", ex->dir, n,
                 geodata_export_format_find(req->format)->extension) >= (int)sizeof path) {
        __atomic_sub_fetch(&ex->sync_busy, 1, __ATOMIC_RELAXED);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the export directory's name is too long");
    }
    geodata_export_filename(req, filename, sizeof filename);
    geodata_export_result res;
    int rc = geodata_export_write(ctx->store, req, path, &res);
    __atomic_sub_fetch(&ex->sync_busy, 1, __ATOMIC_RELAXED);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);   /* the open file is all that is left; it goes when sent */
    if (fd < 0)
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the export file cannot be read; try again");
    return send_file(ctx, fd, req->format, filename);
}

enum MHD_Result mapd_api_export(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_staff_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    geodata_export_request req;
    int background = 0;
    if (export_request_or_reply(ctx, m, &req, &background))
        return MHD_YES;
    int64_t rows = 0;
    int rc = geodata_export_count(ctx->store, &req, &rows);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    mapd_exports *ex = ctx->server->exports;
    if (!background && rows <= MAPD_EXPORT_SYNC_ROWS) {
        if (__atomic_add_fetch(&ex->sync_busy, 1, __ATOMIC_RELAXED) <= MAPD_EXPORT_SYNC_BUSY)
            return send_now(ctx, &req);
        __atomic_sub_fetch(&ex->sync_busy, 1, __ATOMIC_RELAXED);   /* busy: a job instead */
    }
    return start_job(ctx, m, &req, rows);
}

enum MHD_Result mapd_api_exports(mapd_ctx *ctx)
{
    if (!mapd_staff_or_reply(ctx, 0))
        return MHD_YES;
    mapd_exports *ex = ctx->server->exports;
    json_t *arr = json_array();
    int ok = arr != NULL;
    pthread_mutex_lock(&ex->lock);
    purge_expired(ex, ctx->now);
    for (size_t i = ex->n_jobs; ok && i-- > 0;)
        ok = json_array_append_new(arr, job_json(ex->jobs[i])) == 0;
    pthread_mutex_unlock(&ex->lock);
    if (!ok) {
        json_decref(arr);
        return MHD_NO;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:o}", "exports", arr), NULL);
}

enum MHD_Result mapd_api_export_job(mapd_ctx *ctx)
{
    if (!mapd_staff_or_reply(ctx, 0))
        return MHD_YES;
    mapd_exports *ex = ctx->server->exports;
    pthread_mutex_lock(&ex->lock);
    purge_expired(ex, ctx->now);
    export_job *j = job_find(ex, ctx->id);
    json_t *doc = j ? job_json(j) : NULL;
    pthread_mutex_unlock(&ex->lock);
    if (!j)
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found",
                            "no such export (finished exports are removed after a while)");
    return doc ? mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL) : MHD_NO;
}

enum MHD_Result mapd_api_export_file(mapd_ctx *ctx)
{
    if (!mapd_staff_or_reply(ctx, 0))
        return MHD_YES;
    mapd_exports *ex = ctx->server->exports;
    char filename[96], format[16];
    int fd = -1;
    pthread_mutex_lock(&ex->lock);
    purge_expired(ex, ctx->now);
    export_job *j = job_find(ex, ctx->id);
    job_state state = j ? j->state : JOB_FAILED;
    if (j && state == JOB_DONE) {
        fd = open(j->path, O_RDONLY | O_CLOEXEC);   /* stays readable if it expires meanwhile */
        snprintf(filename, sizeof filename, "%s", j->filename);
        snprintf(format, sizeof format, "%s", j->format);
    }
    pthread_mutex_unlock(&ex->lock);
    if (!j)
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found",
                            "no such export (finished exports are removed after a while)");
    if (state != JOB_DONE) {
        char detail[64];
        snprintf(detail, sizeof detail, "this export is %s: it has no file", state_names[state]);
        return mapd_problem(ctx, MHD_HTTP_CONFLICT, "Conflict", detail);
    }
    if (fd < 0)
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the export file cannot be read; try again");
    return send_file(ctx, fd, format, filename);
}

/* ---- the audit log ---- */

static int add_entry(void *arg, const geodata_audit_entry *e)
{
    json_t *actor = e->actor_id ? json_pack("{s:I, s:s}", "id", (json_int_t)e->actor_id,
                                            "display_name", e->actor_name)
                                : json_null();
    json_t *o = json_pack("{s:I, s:o, s:o, s:s, s:o, s:o}", "id", (json_int_t)e->id,
                          "at", mapd_json_time(e->at), "actor", actor, "action", e->action,
                          "target", e->target ? json_string(e->target) : json_null(),
                          "detail", e->detail ? json_string(e->detail) : json_null());
    return json_array_append_new(arg, o) ? GEODATA_ENOMEM : 0;
}

static const char *const audit_args[] = { "limit", "before", NULL };

enum MHD_Result mapd_api_audit(mapd_ctx *ctx)
{
    if (!mapd_staff_or_reply(ctx, 0))
        return MHD_YES;
    long limit, before;
    if (mapd_known_args_or_reply(ctx, audit_args)
        || mapd_long_arg_or_reply(ctx, "limit", 1, GEODATA_AUDIT_PAGE_MAX, 50, &limit)
        || mapd_long_arg_or_reply(ctx, "before", 1, LONG_MAX, 0, &before))
        return MHD_YES;
    json_t *entries = json_array();
    int more = 0;
    int rc = entries ? geodata_audit_read(ctx->store, before, (int)limit, add_entry, entries, &more)
                     : GEODATA_ENOMEM;
    if (rc) {
        json_decref(entries);
        return mapd_problem_geodata(ctx, rc);
    }
    size_t n = json_array_size(entries);
    json_t *next = more && n ? json_object_get(json_array_get(entries, n - 1), "id") : NULL;
    return mapd_respond_json(ctx, MHD_HTTP_OK,
                             json_pack("{s:o, s:O}", "entries", entries, "next_before",
                                       next ? next : json_null()), NULL);
}
