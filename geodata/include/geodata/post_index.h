/*
 * geodata/post_index.h — the live posts in memory, for answering the common
 * posts queries without SQL.
 *
 * The index holds the posts that may still show on a map (claimed ones, and
 * open ones until an hour past their expiry), with what the query filters
 * need, their public point projected once into the store's metric, a uniform
 * grid of 250 m cells over those metres, and one opaque payload per post that
 * belongs to the caller (mapd keeps each post's serialised GeoJSON there).
 *
 * It answers exactly as geodata_posts_query() does — same posts, same order,
 * same distances, same paging and errors — every query that
 * geodata_post_index_covers() accepts: without keywords, for open (the
 * default) or claimed posts. Expiry is decided at query time from q->now.
 *
 * It is kept in step by its owner, who reads changed posts with
 * geodata_post_load() and passes them to geodata_post_index_update().
 *
 * Threads: one index is shared by all threads. A pthread rwlock (writers
 * preferred, so a stream of queries cannot starve updates) guards it: queries
 * share it, updates take it alone. The store passed to a call belongs to the
 * calling thread; its metric must be the one every other store of the same
 * database makes (geodata_store_metric: centred on the neighbourhoods).
 */
#ifndef GEODATA_POST_INDEX_H
#define GEODATA_POST_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/posts.h"
#include "geodata/store.h"

typedef struct geodata_post_index geodata_post_index;

/* An open post leaves the index this long after its expiry: queries filter
 * on expiry anyway, the margin only covers a clock set back. */
#define GEODATA_POST_INDEX_GRACE_S 3600

/* A new empty index; payloads it drops are freed with free_payload (may be
 * NULL). 0 or GEODATA_ENOMEM. */
int geodata_post_index_new(void (*free_payload)(void *payload), geodata_post_index **out);

/* Frees the index and every payload in it. NULL is a no-op. No other thread
 * may use it any more. */
void geodata_post_index_free(geodata_post_index *idx);

/* 1 when the index answers q exactly as geodata_posts_query() would. */
int geodata_post_index_covers(const geodata_post_query *q);

/* One change to apply: post is the post as geodata_post_load() read it, or
 * NULL when it is gone; payload goes with it. */
typedef struct geodata_post_index_item {
    int64_t id;
    const geodata_post *post;   /* NULL: remove id */
    void *payload;              /* taken by the index in every case (freed if not kept) */
} geodata_post_index_item;

/*
 * Applies n changes under one write lock, so that a query sees all of them or
 * none: a live post is inserted or replaced (with its payload), any other —
 * done, cancelled, gone, expired more than the grace ago at now — removed.
 * Points are projected through store's metric before the lock is taken. On
 * GEODATA_ENOMEM some items may be applied and others not: the caller must
 * rebuild the index. Work: O(log n) per item, plus moving the tail of the id
 * array for an id that is not the newest.
 */
int geodata_post_index_update(geodata_post_index *idx, geodata_store *store, int64_t now,
                              const geodata_post_index_item *items, size_t n);

/* Removes the open posts that expired more than the grace before now. Work:
 * one pass over the index under the write lock. */
void geodata_post_index_prune(geodata_post_index *idx, int64_t now);

/* Exchanges the contents of idx and fresh (a newly built index that no other
 * thread sees), under idx's write lock: a reload without a gap. */
void geodata_post_index_swap(geodata_post_index *idx, geodata_post_index *fresh);

/* The number of posts held, and the bytes of the index's own structures
 * (payloads not counted). */
void geodata_post_index_stats(geodata_post_index *idx, size_t *posts, size_t *bytes);

/* The open posts per neighbourhood and category, as geodata_post_counts
 * gives them (open and not expired at now, not hidden, in a neighbourhood;
 * ordered by neighbourhood id, then category), from memory. each runs under
 * the read lock. Work: one pass over the posts held, a sort of the non-empty
 * (neighbourhood, category) pairs. */
int geodata_post_index_counts(geodata_post_index *idx, geodata_store *store, int64_t now,
                              int (*each)(void *arg, const char *nb, const char *category,
                                          int64_t n),
                              void *arg);

/* One post of a page, as geodata_post_index_query passes it. */
typedef struct geodata_post_hit {
    int64_t id;
    int64_t author_id;
    int64_t claimed_by;         /* 0 when nobody */
    int hidden;
    double distance_m;          /* near queries; 0 otherwise, as geodata_posts_query */
    const void *payload;        /* valid during the call only */
} geodata_post_hit;

/*
 * Calls each(arg, hit) for the page of posts matching q (which must be
 * covered), in geodata_posts_query()'s order, and sets *more as it does.
 * each runs under the read lock: it must be short and must not call into the
 * index (the lock is not recursive); a non-zero return stops the page and is
 * returned. store serves the viewer's contiguous neighbourhoods (one indexed
 * read), the metric and the error message.
 * Work: near, the posts of the grid cells around each circle tried (250 m,
 * doubling up to the radius, until one holds the page), plus a sort of those
 * inside it; otherwise a scan from the newest post (or the cursor's place,
 * found by binary search) back until the page is full, at worst every post
 * held.
 */
int geodata_post_index_query(geodata_post_index *idx, geodata_store *store,
                             const geodata_post_query *q,
                             int (*each)(void *arg, const geodata_post_hit *hit), void *arg,
                             int *more);

#endif
