/*
 * geodata/changes.h — the change feed: what changed on the map, in order.
 *
 * Every insert, delete and visible update of a post (layer "needs"), a shop
 * ("shops") or a maker ("makers") is recorded by SQL triggers, whichever
 * process wrote it, with the record's public point before and after; so is
 * every change of a neighbourhood ("neighbourhoods", with no points). Readers
 * that keep derived state (tile caches, in-memory indexes) remember the last
 * sequence number they applied and ask for what came after. The feed keeps
 * the last 100,000 changes; a reader further behind is told to reload.
 */
#ifndef GEODATA_CHANGES_H
#define GEODATA_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/store.h"

typedef struct geodata_change {
    int64_t seq;                 /* increasing, never reused */
    const char *layer;           /* "needs" (posts), "shops", "makers", "neighbourhoods" */
    int64_t ref_id;              /* post id, shop id, maker's member id, neighbourhood rowid */
    int has_old;                 /* an update or a delete: the point before */
    double old_lon, old_lat;
    int has_new;                 /* an insert or an update: the point after */
    double new_lon, new_lat;
} geodata_change;

/* The number of transactions this process's stores have committed so far:
 * while it has not moved, the feed can only have moved through another
 * process. Any thread; no I/O. */
uint64_t geodata_local_commits(void);

/* Waits until another process may have added to the change feed, at most
 * timeout_ms: 1 when woken, 0 when the time ran out. On PostgreSQL the
 * store LISTENs to geodata_changes, which the feed's trigger NOTIFYs at each
 * commit (whichever process, whichever machine); a lost connection is made
 * again on the next call (GEODATA_EUNAVAIL meanwhile). On SQLite no
 * notice crosses processes: it returns 0 at once, and readers poll. The
 * store must be used for nothing else meanwhile. */
int geodata_changes_wait(geodata_store *store, int timeout_ms);

/* The sequence number of the newest change, 0 when there is none. Work: one
 * read of the table's last row. */
int geodata_changes_last(geodata_store *store, int64_t *seq);

/*
 * Visits the changes with seq > after, oldest first, at most max of them,
 * calling each (a non-zero return stops the visit and is returned). *last is
 * the seq of the last change visited (after, when none). GEODATA_ESTALE when
 * changes after `after` were already pruned: the reader must rebuild from
 * the data itself. The change passed to each is valid during the call only.
 */
int geodata_changes_since(geodata_store *store, int64_t after, size_t max,
                          int (*each)(void *arg, const geodata_change *c), void *arg,
                          int64_t *last);

#endif
