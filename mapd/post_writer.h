/*
 * mapd/post_writer.h — group commit of new posts: one writer thread with its
 * own connection writes the posts that arrive together in one transaction,
 * with one fsync, while their requests wait suspended.
 */
#ifndef MAPD_POST_WRITER_H
#define MAPD_POST_WRITER_H

#include <jansson.h>
#include <microhttpd.h>

#include "geodata/members.h"
#include "feed.h"
#include "geodata/posts.h"

typedef struct mapd_post_writer mapd_post_writer;

/* One post to create, from the request that asked until its reply. */
typedef struct mapd_post_job {
    struct mapd_post_job *next;        /* in the writer's queue */
    struct MHD_Connection *conn;       /* suspended while the writer has the job */
    geodata_new_post post;             /* in: the post; out: its id, or why not */
    json_t *body;                      /* the request body: owns post's strings */
    geodata_member author;             /* for the reply */
} mapd_post_job;

/* Starts the writer on the database at path, following feed (NULL: none)
 * after each batch. 0, or -1 with *err a malloc'd message. */
int mapd_post_writer_start(const char *db_path, mapd_feed *feed, mapd_post_writer **out,
                           char **err);

/*
 * Stops taking jobs (mapd_post_writer_submit returns 0 from now on), writes
 * and hands back (resumes) every job already taken, then ends the thread.
 * After it returns no connection is left suspended by the writer. The writer
 * stays valid for concurrent submits until mapd_post_writer_free. NULL is a
 * no-op; so is a second call.
 */
void mapd_post_writer_stop(mapd_post_writer *w);

/* Stops the writer if needed and frees it: no other thread may use it. */
void mapd_post_writer_free(mapd_post_writer *w);

/*
 * Suspends job->conn and queues the job; the writer fills job->post's rc and
 * id once the transaction holding it has committed (the WAL fsynced), then
 * resumes the connection, whose handler is called again. Returns 1 when
 * queued, 0 when the writer is stopping (nothing done: write synchronously).
 * Must be called from the access handler of job->conn.
 */
int mapd_post_writer_submit(mapd_post_writer *w, mapd_post_job *job);

/* Frees a job and the body it holds. NULL is a no-op. */
void mapd_post_job_free(void *job);

#endif
