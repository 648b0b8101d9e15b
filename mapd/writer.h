/*
 * mapd/writer.h — group commit: one writer thread with its own connection
 * writes the jobs that arrive together (new posts, new comments) in one
 * transaction, with one fsync, while their requests wait suspended.
 */
#ifndef MAPD_WRITER_H
#define MAPD_WRITER_H

#include "feed.h"
#include "pool.h"
#include "geodata/store.h"

typedef struct mapd_writer mapd_writer;

/* One write, from the request that asked until its reply. A kind of job
 * embeds it as its first member. */
typedef struct mapd_write_job mapd_write_job;
struct mapd_write_job {
    mapd_pool_job base;               /* first: what the pool holds; its free frees the
                                         whole job */
    /* Writes the job through store, inside the batch's transaction: 0, or a
     * GEODATA_E* code with the store's message set. */
    int (*write)(mapd_write_job *job, geodata_store *store);
    int rc;                           /* out: 0 once committed, or why not */
    char err[160];                    /* out: the message when rc is not 0 */
};

/* Starts the writer on the database at path, following feed (NULL: none)
 * after each batch; each statement has timeout_ms at most (0: no limit,
 * geodata_store_time_budget). 0, or -1 with *err a malloc'd message. */
int mapd_writer_start(const char *db_path, int timeout_ms, mapd_feed *feed, mapd_writer **out,
                      char **err);

/* Stops taking jobs, writes and hands back every job already taken, then
 * ends the thread (mapd_pool_stop), and closes the connection. NULL is a
 * no-op; so is a second call. */
void mapd_writer_stop(mapd_writer *w);

/* Stops the writer if needed and frees it: no other thread may use it. */
void mapd_writer_free(mapd_writer *w);

struct mapd_ctx;

/* Hands job to the server's writer on behalf of the request of ctx: 1 when
 * taken (the connection is suspended; once the job is written — its rc and
 * err filled once the transaction holding it has committed, the WAL fsynced
 * — the handler is called again, and mapd_write_done gives the job back), 0
 * when there is no writer or it is stopping (job untouched: write it here). */
int mapd_write_later(struct mapd_ctx *ctx, mapd_write_job *job);

/* The job of a request resumed by the writer, taken back from its request
 * (the caller frees it); NULL on a first call. */
mapd_write_job *mapd_write_done(struct mapd_ctx *ctx);

/* job's outcome reported on store (the message set on it): 0 or job->rc. */
int mapd_write_job_result(geodata_store *store, const mapd_write_job *job);

#endif
