/*
 * mapd/feed.h — the server's one follower of the store's change feed
 * (geodata/changes.h).
 *
 * Several parts of the server keep state derived from the store: the posts
 * read model (post_model.c), the tile service (api_tiles.c), and more to
 * come (a stream of live events). Each used to follow the feed on its own,
 * with its own cursor, lock and "too far behind" rule. Here the feed is read
 * once, by one follower with one cursor, and every change is handed to each
 * subscriber, in order, in batches.
 *
 * Rules, the same for every subscriber:
 *   - a subscriber sees every change committed after the position the
 *     follower was created at, at least once (a change may come twice: a
 *     subscriber that loaded its state after that position sees again what
 *     it already had; applying a change twice must be harmless);
 *   - too far behind (the feed pruned past the cursor: GEODATA_ESTALE), every
 *     subscriber rebuilds from the data itself (`reload`), and the cursor
 *     jumps to the feed's end;
 *   - a subscriber whose `apply` fails stops answering from its state (its
 *     own business: the read model falls back to SQL, for instance) and is
 *     rebuilt by `reload` at the next sync; the others go on;
 *   - `tick` is called under the follower's lock when the clock's second
 *     has moved since the last call, for work that follows time rather than
 *     writes (expired posts).
 *
 * Threads: one follower is shared by all workers. One worker at a time
 * applies the feed (`lock`); subscribers are called with it held, so their
 * own state needs no second writer lock (readers still need theirs).
 */
#ifndef MAPD_FEED_H
#define MAPD_FEED_H

#include <stdint.h>

#include "geodata/changes.h"
#include "geodata/store.h"

typedef struct mapd_feed mapd_feed;

typedef struct mapd_feed_subscriber {
    const char *name;            /* for the server's log */
    void *arg;
    /* Applies n changes, oldest first (valid during the call). 0, or a
     * GEODATA_E* code: the subscriber is then reloaded at the next sync. */
    int (*apply)(void *arg, geodata_store *store, int64_t now, const geodata_change *changes,
                 size_t n);
    /* Rebuilds the subscriber's state from the store. 0 or a GEODATA_E* code. */
    int (*reload)(void *arg, geodata_store *store, int64_t now);
    /* Optional: time moved on by a second at least. 0 or a GEODATA_E* code. */
    int (*tick)(void *arg, geodata_store *store, int64_t now);
} mapd_feed_subscriber;

#define MAPD_FEED_SUBSCRIBERS_MAX 8

/* A follower positioned at `position` (read with geodata_changes_last
 * before the subscribers load their state), at clock `now`. NULL when out
 * of memory. */
mapd_feed *mapd_feed_new(int64_t position, int64_t now);
void mapd_feed_free(mapd_feed *f);

/* Adds a subscriber (copied) before the server starts. -1 when full. */
int mapd_feed_subscribe(mapd_feed *f, const mapd_feed_subscriber *s);

/* How mapd_feed_sync waits and reads. */
enum {
    /* Wait for another worker applying the feed; without it, return at once
     * when one is (it, or the next caller, applies the rest): for writers,
     * whose own answer does not depend on it. */
    MAPD_FEED_WAIT = 1,
    /* Read the feed's end even when this process has committed nothing
     * since the last read less than a millisecond ago: for answers that
     * must reflect another process's write committed just before. */
    MAPD_FEED_EXACT = 2,
};

/*
 * Brings every subscriber up to the feed's end. Without MAPD_FEED_EXACT,
 * when this process has committed nothing since the last read, the feed is
 * read at most once a millisecond (a request then sees other processes'
 * changes at most a millisecond late, its own always). Work: one indexed
 * read (or none) when nothing changed; otherwise, under the lock, the
 * changes in batches of MAPD_FEED_BATCH handed to each subscriber, reloads
 * where needed, ticks. 0, or the first GEODATA_E* code met (store's message
 * set), the follower left consistent: the next call goes on from there.
 */
int mapd_feed_sync(mapd_feed *f, geodata_store *store, int64_t now, int flags);

#define MAPD_FEED_BATCH 1024

#endif
