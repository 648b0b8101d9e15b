/*
 * mapd/pool.h — work taken off the request threads.
 *
 * A handler that has slow work to do (a write that waits for an fsync, a
 * password hash) queues it as a job and suspends its connection
 * (libmicrohttpd's suspend and resume: the worker thread goes on serving
 * other connections). A pool thread takes the jobs waiting — several at a
 * time when the pool runs batches — runs them, then resumes their
 * connections, and each handler is called again to answer. Two pools: the
 * group-commit writer (writer.c) and password hashing (hashing.c).
 *
 * Lock: one lock guards the queue. MHD_suspend_connection is called under
 * it, so no thread can resume a connection before it is suspended;
 * MHD_resume_connection is called without it. After its resume a job
 * belongs to its handler again: the pool does not touch it.
 */
#ifndef MAPD_POOL_H
#define MAPD_POOL_H

#include <stddef.h>

#include <microhttpd.h>

typedef struct mapd_pool mapd_pool;

/* A job waiting in a pool. A kind of job embeds it as its first member. */
typedef struct mapd_pool_job mapd_pool_job;
struct mapd_pool_job {
    mapd_pool_job *next;              /* in the queue */
    struct MHD_Connection *conn;      /* suspended while the pool has the job */
    void (*run)(mapd_pool_job *job);  /* in a pool without a run of its own: the work */
    void (*free)(mapd_pool_job *job); /* frees the whole job */
};

/* What a pool does with its jobs, in a pool thread: run n jobs taken
 * together (1 to batch_max), or, when run is NULL, each job's own run;
 * then, once their connections are resumed, after (may be NULL). arg is
 * the pool's. */
typedef struct mapd_pool_work {
    void (*run)(void *arg, mapd_pool_job **jobs, size_t n);
    void (*after)(void *arg);
    void *arg;
} mapd_pool_work;

/* Starts threads threads running work, batch_max jobs at a time at most,
 * holding at most queue_max jobs waiting (0: no bound). NULL when out of
 * memory or when a thread cannot start. */
mapd_pool *mapd_pool_start(int threads, size_t batch_max, size_t queue_max,
                           const mapd_pool_work *work);

/* Stops taking jobs (mapd_pool_submit returns 0 from now on), runs and
 * hands back every job already taken, then ends the threads: no connection
 * is left suspended by the pool. NULL is a no-op; so is a second call. */
void mapd_pool_stop(mapd_pool *p);

/* Stops the pool if needed and frees it: no other thread may use it. */
void mapd_pool_free(mapd_pool *p);

enum { MAPD_POOL_FULL = -1, MAPD_POOL_STOPPED = 0, MAPD_POOL_TAKEN = 1 };

/* Suspends job->conn and queues job: MAPD_POOL_TAKEN; MAPD_POOL_STOPPED
 * when the pool is stopping, MAPD_POOL_FULL when queue_max jobs are waiting
 * (nothing done in both cases). Must be called from the access handler of
 * job->conn. */
int mapd_pool_submit(mapd_pool *p, mapd_pool_job *job);

struct mapd_ctx;

/* mapd_pool_submit on behalf of the request of ctx (p NULL: no pool,
 * MAPD_POOL_STOPPED): once the job has run the handler is called again,
 * and mapd_pool_done gives the job back. */
int mapd_pool_later(struct mapd_ctx *ctx, mapd_pool *p, mapd_pool_job *job);

/* The job of a request resumed by a pool, taken back from its request (the
 * caller frees it); NULL on a first call. */
mapd_pool_job *mapd_pool_done(struct mapd_ctx *ctx);

/* Frees a job through its own free. NULL is a no-op. For a request's
 * pending_free. */
void mapd_pool_job_free(void *job);

#endif
