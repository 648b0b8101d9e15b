/*
 * mapd/writer.c — group commit of new posts and comments (see writer.h).
 *
 * Why: measured on the benchmark machine, a post written in a transaction of
 * its own spent most of its time outside the insert: the commit (WAL frames
 * of the same R*Tree, index and full-text pages written again for each post,
 * then an fsync), and workers waiting for one another's write lock. Posts
 * that arrive together now share one transaction: the R*Tree and index pages
 * are written once per batch, the full-text index gets one segment per batch,
 * and one fsync acknowledges them all.
 *
 * Comments, measured the same way, lost most of their time to workers
 * waiting for one another's write lock (SQLite's busy handler sleeps).
 *
 * How: the create handler checks the request (session, CSRF, body), then
 * suspends its connection (MHD_suspend_connection: the worker thread goes
 * on serving other connections) and queues the job. The writer thread takes
 * every job queued, writes them in one transaction through its own
 * connection (geodata_store_batch, each job's own write), and once COMMIT
 * has returned — with synchronous=FULL, the WAL is on disk — resumes each
 * connection; its handler runs again on its worker and answers 201 with the
 * new record, or the job's own error. Batches form by themselves: the jobs
 * that arrive while a batch is being written make the next one; a lone job
 * is written at once.
 *
 * Durability: unchanged. A 201 leaves only after the commit of the
 * transaction holding its record; a batch whose commit fails answers 503
 * for every job in it, and none of them is in the database.
 *
 * Lock: `lock` guards the queue and `running`. MHD_suspend_connection is
 * called under it, so the writer cannot resume a connection before it is
 * suspended; MHD_resume_connection is called without it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "writer.h"

#define BATCH_MAX 512     /* jobs per transaction at most */

struct mapd_writer {
    pthread_mutex_t lock;     /* guards head, tail, running */
    pthread_cond_t wake;      /* a job came, or stop */
    mapd_write_job *head, *tail;
    int running;              /* 0: stopping, no job taken any more */
    pthread_t thread;
    geodata_store *store;     /* the writer thread's own connection */
    mapd_feed *feed;          /* followed after each batch; NULL: not */
    mapd_write_job *jobs[BATCH_MAX];      /* the batch being written (writer thread) */
};

void mapd_write_job_free(void *job)
{
    mapd_write_job *j = job;
    if (j)
        j->free(j);
}

int mapd_write_job_result(geodata_store *store, const mapd_write_job *job)
{
    return job->rc ? geodata_store_error(store, job->rc, job->err) : 0;
}

/* One job of the batch, inside its transaction (geodata_store_batch). */
static int write_one(void *arg, size_t i, geodata_store *store)
{
    mapd_write_job *job = ((mapd_write_job **)arg)[i];
    job->rc = job->write(job, store);
    if (job->rc)
        snprintf(job->err, sizeof job->err, "%s", geodata_errmsg(store));
    return job->rc;
}

static void *writer_main(void *arg)
{
    mapd_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && w->running)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break; /* stopping, and nothing left */
        size_t n = 0;
        for (; w->head && n < BATCH_MAX; n++) {
            w->jobs[n] = w->head;
            w->head = w->head->next;
        }
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        int rc = geodata_store_batch(w->store, n, write_one, w->jobs);
        for (size_t i = 0; rc && i < n; i++) { /* nothing committed: each job says why */
            w->jobs[i]->rc = rc;
            snprintf(w->jobs[i]->err, sizeof w->jobs[i]->err, "%s", geodata_errmsg(w->store));
        }
        /* After its resume a job belongs to its handler again: not touched. */
        for (size_t i = 0; i < n; i++)
            MHD_resume_connection(w->jobs[i]->conn);
        if (w->feed && mapd_feed_sync(w->feed, w->store, (int64_t)time(NULL), 0))
            fprintf(stderr, "mapd: following the change feed: %s\n", geodata_errmsg(w->store));
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int mapd_writer_start(const char *db_path, mapd_feed *feed, mapd_writer **out, char **err)
{
    *out = NULL;
    *err = NULL;
    mapd_writer *w = calloc(1, sizeof *w);
    if (!w) {
        *err = strdup("out of memory");
        return -1;
    }
    if (geodata_store_open(db_path, 0, &w->store, err)) {
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->feed = feed;
    w->running = 1;
    if (pthread_create(&w->thread, NULL, writer_main, w)) {
        geodata_store_close(w->store);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        *err = strdup("cannot start the writer thread");
        return -1;
    }
    *out = w;
    return 0;
}

void mapd_writer_stop(mapd_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    int was_running = w->running;
    w->running = 0;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (!was_running)
        return;
    pthread_join(w->thread, NULL);
    geodata_store_close(w->store);
    w->store = NULL;
}

void mapd_writer_free(mapd_writer *w)
{
    if (!w)
        return;
    mapd_writer_stop(w);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int mapd_writer_submit(mapd_writer *w, mapd_write_job *job)
{
    pthread_mutex_lock(&w->lock);
    int ok = w->running;
    if (ok) {
        MHD_suspend_connection(job->conn);
        job->next = NULL;
        if (w->tail)
            w->tail->next = job;
        else
            w->head = job;
        w->tail = job;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

int mapd_write_later(mapd_ctx *ctx, mapd_write_job *job)
{
    mapd_writer *w = ctx->server->writer;
    if (!w)
        return 0;
    job->conn = ctx->conn;
    /* Set before the submit: the handler is called again once resumed. */
    ctx->req->pending = job;
    ctx->req->pending_free = mapd_write_job_free;
    if (mapd_writer_submit(w, job))
        return 1;
    ctx->req->pending = NULL;
    ctx->req->pending_free = NULL;
    return 0;
}

mapd_write_job *mapd_write_done(mapd_ctx *ctx)
{
    mapd_write_job *job = ctx->req->pending;
    ctx->req->pending = NULL;
    ctx->req->pending_free = NULL;
    return job;
}
