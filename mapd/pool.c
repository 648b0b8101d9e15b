/*
 * mapd/pool.c — work taken off the request threads (see pool.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "http.h"
#include "pool.h"

struct mapd_pool {
    pthread_mutex_t lock;        /* guards head, tail, waiting, running */
    pthread_cond_t wake;         /* a job came, or stop */
    mapd_pool_job *head, *tail;
    size_t waiting;              /* jobs in the queue */
    int running;                 /* 0: stopping, no job taken any more */
    mapd_pool_work work;
    size_t batch_max, queue_max;
    int threads;                 /* started */
    struct worker {
        pthread_t thread;
        mapd_pool *pool;
        mapd_pool_job **jobs;    /* its batch: batch_max slots */
    } *workers;
    mapd_pool_job **slots;       /* every worker's batch */
};

void mapd_pool_job_free(void *job)
{
    mapd_pool_job *j = job;
    if (j)
        j->free(j);
}

static void *pool_main(void *arg)
{
    struct worker *w = arg;
    mapd_pool *p = w->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && p->running)
            pthread_cond_wait(&p->wake, &p->lock);
        if (!p->head)
            break; /* stopping, and nothing left */
        size_t n = 0;
        for (; p->head && n < p->batch_max; n++) {
            w->jobs[n] = p->head;
            p->head = p->head->next;
        }
        if (!p->head)
            p->tail = NULL;
        p->waiting -= n;
        pthread_mutex_unlock(&p->lock);
        if (p->work.run)
            p->work.run(p->work.arg, w->jobs, n);
        else
            for (size_t i = 0; i < n; i++)
                w->jobs[i]->run(w->jobs[i]);
        for (size_t i = 0; i < n; i++)
            MHD_resume_connection(w->jobs[i]->conn);
        if (p->work.after)
            p->work.after(p->work.arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

mapd_pool *mapd_pool_start(int threads, size_t batch_max, size_t queue_max,
                           const mapd_pool_work *work)
{
    mapd_pool *p = calloc(1, sizeof *p);
    batch_max = batch_max ? batch_max : 1;
    if (!p || !(p->workers = calloc((size_t)threads, sizeof *p->workers))
        || !(p->slots = calloc((size_t)threads * batch_max, sizeof *p->slots))) {
        if (p)
            free(p->workers);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->work = *work;
    p->batch_max = batch_max;
    p->queue_max = queue_max;
    p->running = 1;
    for (; p->threads < threads; p->threads++) {
        struct worker *w = &p->workers[p->threads];
        w->pool = p;
        w->jobs = &p->slots[(size_t)p->threads * batch_max];
        if (pthread_create(&w->thread, NULL, pool_main, w))
            break;
    }
    if (p->threads < threads) {
        mapd_pool_free(p);
        return NULL;
    }
    return p;
}

void mapd_pool_stop(mapd_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    int was_running = p->running;
    p->running = 0;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (!was_running)
        return;
    for (int i = 0; i < p->threads; i++)
        pthread_join(p->workers[i].thread, NULL);
}

void mapd_pool_free(mapd_pool *p)
{
    if (!p)
        return;
    mapd_pool_stop(p);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p->slots);
    free(p);
}

int mapd_pool_submit(mapd_pool *p, mapd_pool_job *job)
{
    pthread_mutex_lock(&p->lock);
    int r = !p->running ? MAPD_POOL_STOPPED
          : p->queue_max && p->waiting >= p->queue_max ? MAPD_POOL_FULL : MAPD_POOL_TAKEN;
    if (r == MAPD_POOL_TAKEN) {
        MHD_suspend_connection(job->conn);
        job->next = NULL;
        if (p->tail)
            p->tail->next = job;
        else
            p->head = job;
        p->tail = job;
        p->waiting++;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

int mapd_pool_later(mapd_ctx *ctx, mapd_pool *p, mapd_pool_job *job)
{
    if (!p)
        return MAPD_POOL_STOPPED;
    job->conn = ctx->conn;
    /* Set before the submit: the handler is called again once resumed. */
    ctx->req->pending = job;
    ctx->req->pending_free = mapd_pool_job_free;
    int r = mapd_pool_submit(p, job);
    if (r != MAPD_POOL_TAKEN) {
        ctx->req->pending = NULL;
        ctx->req->pending_free = NULL;
    }
    return r;
}

mapd_pool_job *mapd_pool_done(mapd_ctx *ctx)
{
    mapd_pool_job *job = ctx->req->pending;
    ctx->req->pending = NULL;
    ctx->req->pending_free = NULL;
    return job;
}
