/*
 * mapd/post_writer.c — group commit of new posts (see post_writer.h).
 *
 * Why: measured on the benchmark machine, a post written in a transaction of
 * its own spent most of its time outside the insert: the commit (WAL frames
 * of the same R*Tree, index and full-text pages written again for each post,
 * then an fsync), and workers waiting for one another's write lock. Posts
 * that arrive together now share one transaction: the R*Tree and index pages
 * are written once per batch, the full-text index gets one segment per batch,
 * and one fsync acknowledges them all.
 *
 * How: the create handler checks the request (session, CSRF, body), then
 * suspends its connection (MHD_suspend_connection: the worker thread goes
 * on serving other connections) and queues the job. The writer thread takes
 * every job queued, writes them in one transaction through its own
 * connection (geodata_posts_create_batch), and once COMMIT has returned —
 * with synchronous=FULL, the WAL is on disk — resumes each connection; its
 * handler runs again on its worker and answers 201 with the post, or the
 * post's own error. Batches form by themselves: the jobs that arrive while a
 * batch is being written make the next one; a lone post is written at once.
 *
 * Durability: unchanged. A 201 leaves only after the commit of the
 * transaction holding its post; a batch whose commit fails answers 503 for
 * every post in it, and none of them is in the database.
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

#include "post_writer.h"

#define BATCH_MAX 512     /* posts per transaction at most */

struct mapd_post_writer {
    pthread_mutex_t lock;     /* guards head, tail, running */
    pthread_cond_t wake;      /* a job came, or stop */
    mapd_post_job *head, *tail;
    int running;              /* 0: stopping, no job taken any more */
    pthread_t thread;
    geodata_store *store;     /* the writer thread's own connection */
    mapd_feed *feed;          /* followed after each batch; NULL: not */
    mapd_post_job *jobs[BATCH_MAX];       /* the batch being written (writer thread) */
    geodata_new_post *batch[BATCH_MAX];   /* their posts */
};

void mapd_post_job_free(void *job)
{
    mapd_post_job *j = job;
    if (!j)
        return;
    json_decref(j->body);
    free(j);
}

static void *writer_main(void *arg)
{
    mapd_post_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && w->running)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break; /* stopping, and nothing left */
        size_t n = 0;
        for (; w->head && n < BATCH_MAX; n++) {
            w->jobs[n] = w->head;
            w->batch[n] = &w->head->post;
            w->head = w->head->next;
        }
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        geodata_posts_create_batch(w->store, w->batch, n);
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

int mapd_post_writer_start(const char *db_path, mapd_feed *feed, mapd_post_writer **out,
                           char **err)
{
    *out = NULL;
    *err = NULL;
    mapd_post_writer *w = calloc(1, sizeof *w);
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

void mapd_post_writer_stop(mapd_post_writer *w)
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

void mapd_post_writer_free(mapd_post_writer *w)
{
    if (!w)
        return;
    mapd_post_writer_stop(w);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int mapd_post_writer_submit(mapd_post_writer *w, mapd_post_job *job)
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
