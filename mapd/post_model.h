/*
 * mapd/post_model.h — posts as GeoJSON, and the in-memory read model that
 * answers the common lists of posts from serialised fragments.
 *
 * The model pairs geodata's index of live posts (geodata/post_index.h) with
 * each post's Feature, serialised once by jansson when the post enters or
 * changes, and follows the change feed (geodata/changes.h) through the
 * server's follower (feed.h), so that a list reflects every committed
 * change, whichever process made it.
 *
 * Threads: one model is shared by all workers. Lists read it concurrently
 * (geodata's rwlock); the follower's lock makes one worker at a time apply
 * the change feed.
 */
#ifndef MAPD_POST_MODEL_H
#define MAPD_POST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "geodata/members.h"
#include "geodata/posts.h"
#include "geodata/store.h"
#include "feed.h"
#include "post_json.h"
#include "text.h"

typedef struct mapd_post_model mapd_post_model;

/*
 * Builds the model of the live posts of the database at db_path, through a
 * store of its own (closed before returning). *out is the new model, or NULL
 * with *err a malloc'd message. Work: one pass over the posts, one jansson
 * serialisation each; also one serialisation of every distance from 0 to
 * MAPD_POST_DISTANCE_MAX metres, kept for the near lists.
 */
int mapd_post_model_new(const char *db_path, int64_t now, mapd_post_model **out, char **err);
void mapd_post_model_free(mapd_post_model *m);

/* The posts held and the bytes they take (index and fragments). */
void mapd_post_model_stats(mapd_post_model *m, size_t *posts, size_t *bytes);

/* The model as a subscriber of the server's change-feed follower (feed.h):
 * each batch of changes re-reads the changed posts; once a minute, the
 * posts expired for more than GEODATA_POST_INDEX_GRACE_S are dropped. */
mapd_feed_subscriber mapd_post_model_subscriber(mapd_post_model *m);

/* 1 when the model answers q (see geodata_post_index_covers), and is not
 * waiting for a reload after a failed update. */
int mapd_post_model_covers(mapd_post_model *m, const geodata_post_query *q);

/* The open posts per neighbourhood and category (geodata_post_counts), from
 * memory when the model is there and fresh, else through SQL; the model is
 * first brought up to the change feed. 0, or a GEODATA_E* code. */
int mapd_post_model_counts(mapd_post_model *m, mapd_feed *feed, geodata_store *store, int64_t now,
                           int (*each)(void *arg, const char *nb, const char *category, int64_t n),
                           void *arg);

/*
 * Appends to out the page of features that geodata_posts_query would give
 * for q, as viewer sees them, comma-separated (the inside of the
 * "features" array), byte for byte what the SQL path's jansson serialisation
 * gives; *n is their number, *more whether a page follows and *last the id
 * of the last post of the page (0 when none). Each feature
 * is its stored fragment joined with its viewer-dependent members, themselves
 * serialised by jansson (see post_model.c). The store reads the viewer's
 * neighbourhoods, and the views and reports where the viewer sees them (not
 * kept in memory: they change without a feed entry). 0, or a GEODATA_E* code.
 */
int mapd_post_model_page(mapd_post_model *m, geodata_store *store, const geodata_post_query *q,
                         const geodata_member *viewer, mapd_text *out, size_t *n, int *more,
                         int64_t *last);

/* The start of a FeatureCollection, up to the opening of its features
 * array: {"type":"FeatureCollection","features":[ as jansson serialises it
 * (made once, with the model). */
const char *mapd_post_model_head(mapd_post_model *m);

#define MAPD_POST_DISTANCE_MAX 20000   /* metres: the largest radius of a near query */

#endif
