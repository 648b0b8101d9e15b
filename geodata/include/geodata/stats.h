/*
 * geodata/stats.h — figures of the store for the public and for municipal
 * staff: posts per creation day, neighbourhood, category and status; the
 * median time from posting to claiming and from claiming to done; the
 * accounts with a verified home and the shops of each neighbourhood; shops
 * by status and how many of them are unconfirmed.
 *
 * Every figure is computed from the store as it stands, by grouped queries
 * over indexes: nothing is kept between calls. Days are UTC days. Posts
 * hidden by moderation are left out of every figure. An open post past its
 * expiry counts as "expired", as everywhere else.
 *
 * The callbacks' pointers are valid during the call only. A callback that
 * returns non-zero stops the walk, and the function returns that value.
 */
#ifndef GEODATA_STATS_H
#define GEODATA_STATS_H

#include <stdint.h>

#include "geodata/store.h"

#define GEODATA_STATS_DAY_S    86400
#define GEODATA_STATS_MAX_DAYS 366     /* the longest window, in days */

/* Which posts: those created in [since, until), both at the start of a UTC
 * day, at most GEODATA_STATS_MAX_DAYS days apart. */
typedef struct geodata_stats_window {
    int64_t since;   /* Unix seconds, 00:00 UTC of the first day */
    int64_t until;   /* Unix seconds, 00:00 UTC of the day after the last */
    int64_t now;     /* Unix seconds: an open post expired before now reads "expired" */
} geodata_stats_window;

/* GEODATA_OK when w is a window the functions below accept, else
 * GEODATA_EINVAL with the message saying why (on store). */
int geodata_stats_window_check(geodata_store *store, const geodata_stats_window *w);

/* The posts of one day, neighbourhood, category and status. */
typedef struct geodata_stats_cell {
    int64_t day;                /* Unix seconds, 00:00 UTC of the day they were created */
    const char *neighbourhood;  /* its id; "" for posts inside no neighbourhood */
    const char *category;
    const char *status;         /* open, claimed, done, cancelled, expired */
    int64_t requests;           /* posts of kind "request" */
    int64_t offers;             /* posts of kind "offer" */
} geodata_stats_cell;

/* Calls each for every day, neighbourhood, category and status of the
 * window that holds at least one post (combinations with none are not
 * called), ordered by day, then neighbourhood id, category and status.
 * GEODATA_EINVAL for a window geodata_stats_window_check refuses. Work: one
 * range of the posts' creation index and a sort of the window's posts; at
 * most one call per post of the window. */
int geodata_stats_needs(geodata_store *store, const geodata_stats_window *w,
                        int (*each)(void *arg, const geodata_stats_cell *c), void *arg);

typedef struct geodata_stats_median {
    int64_t n;         /* posts measured; 0: none, and seconds is 0 */
    double seconds;    /* their median (the mean of the two middle ones when n is even) */
} geodata_stats_median;

typedef struct geodata_stats_times {
    geodata_stats_median to_claim;  /* created -> claimed, over the posts claimed (claimed,
                                       done after a claim, cancelled while claimed) */
    geodata_stats_median to_done;   /* claimed -> done, over the posts done after a claim
                                       whose done time is known (done since schema 10) */
} geodata_stats_times;

/* The medians of the window's posts: over all of them into *all, and per
 * neighbourhood through each (when not NULL), in neighbourhood id order, for
 * the neighbourhoods with at least one post measured. GEODATA_EINVAL for a
 * window geodata_stats_window_check refuses. Work: one range of the creation
 * index, sorted by neighbourhood; memory: 16 bytes per claimed post of the
 * window. */
int geodata_stats_times_of(geodata_store *store, const geodata_stats_window *w,
                           geodata_stats_times *all,
                           int (*each)(void *arg, const char *nb, const geodata_stats_times *t),
                           void *arg);

/* What staff see of one neighbourhood besides its posts. */
typedef struct geodata_stats_neighbourhood {
    const char *id;
    const char *name;
    int64_t verified_members;   /* accounts whose verified home lies in it */
    int64_t shops;
    int64_t shops_unconfirmed;  /* never confirmed, or last confirmed more than
                                   GEODATA_SHOP_STALE_S (7 days) before now */
} geodata_stats_neighbourhood;

/* Calls each for every neighbourhood, in id order. Work: per neighbourhood,
 * three counts over the members' and shops' neighbourhood indexes. */
int geodata_stats_neighbourhoods(geodata_store *store, int64_t now,
                                 int (*each)(void *arg, const geodata_stats_neighbourhood *n),
                                 void *arg);

/* Calls each for every shop status that some shop has (of unknown, open,
 * closed, delivery_only, takeaway_only), in alphabetical order: how many
 * shops have it, and how many of those are unconfirmed as above. Work: one
 * pass over the shops. */
int geodata_stats_shops(geodata_store *store, int64_t now,
                        int (*each)(void *arg, const char *status, int64_t shops,
                                    int64_t unconfirmed),
                        void *arg);

#endif
