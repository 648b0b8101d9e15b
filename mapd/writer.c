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
 * transaction holding its record; a batch whose commit fails answers every
 * job in it with the commit's error (507 on a full disk, else 503), and none
 * of them is in the database (tests/api/test_faults.py).
 *
 * The queue, the suspending and the resuming are the pool's (pool.h): the
 * writer is a pool of one thread that runs batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "writer.h"

#define BATCH_MAX 512     /* jobs per transaction at most */

struct mapd_writer {
    mapd_pool *pool;          /* one thread */
    geodata_store *store;     /* the writer thread's own connection */
    mapd_feed *feed;          /* followed after each batch; NULL: not */
};

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

/* The pool's run: the jobs taken together, in one transaction. */
static void write_batch(void *arg, mapd_pool_job **jobs, size_t n)
{
    mapd_writer *w = arg;
    mapd_write_job **batch = (mapd_write_job **)jobs; /* each a mapd_write_job: base first */
    int rc = geodata_store_batch(w->store, n, write_one, batch);
    for (size_t i = 0; rc && i < n; i++) { /* nothing committed: each job says why */
        batch[i]->rc = rc;
        snprintf(batch[i]->err, sizeof batch[i]->err, "%s", geodata_errmsg(w->store));
    }
}

/* The pool's after: the follower brought up to date, the batch answered. */
static void follow(void *arg)
{
    mapd_writer *w = arg;
    if (w->feed && mapd_feed_sync(w->feed, w->store, (int64_t)time(NULL), 0))
        fprintf(stderr, "mapd: following the change feed: %s\n", geodata_errmsg(w->store));
}

int mapd_writer_start(const char *db_path, int timeout_ms, mapd_feed *feed, mapd_writer **out,
                      char **err)
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
    geodata_store_time_budget(w->store, timeout_ms);
    w->feed = feed;
    mapd_pool_work work = { write_batch, follow, w };
    if (!(w->pool = mapd_pool_start(1, BATCH_MAX, 0, &work))) {
        geodata_store_close(w->store);
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
    mapd_pool_stop(w->pool);
    geodata_store_close(w->store);
    w->store = NULL;
}

void mapd_writer_free(mapd_writer *w)
{
    if (!w)
        return;
    mapd_writer_stop(w);
    mapd_pool_free(w->pool);
    free(w);
}

int mapd_write_later(mapd_ctx *ctx, mapd_write_job *job)
{
    mapd_writer *w = ctx->server->writer;
    return mapd_pool_later(ctx, w ? w->pool : NULL, &job->base) == MAPD_POOL_TAKEN;
}

mapd_write_job *mapd_write_done(mapd_ctx *ctx)
{
    return (mapd_write_job *)mapd_pool_done(ctx);
}
