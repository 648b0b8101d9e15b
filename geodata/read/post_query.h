/*
 * geodata/read/post_query.h — what the two ways of answering a posts query share,
 * so that they answer alike to the byte: through SQL (posts.c) and from the
 * in-memory index (post_index.c). Internal to the library.
 *
 * A near query ranks the posts of growing circles around the point — the
 * first of GEODATA_NEAR_FIRST_M, each next one twice as wide, the last one the
 * radius asked for — and stops at the first circle that holds the page and one
 * post more. More than GEODATA_RANKED_MAX matching posts in that circle is an
 * error (GEODATA_EINVAL) rather than unbounded work.
 */
#ifndef GEODATA_POST_QUERY_H
#define GEODATA_POST_QUERY_H

#include "geodata/posts.h"

#define GEODATA_NEAR_FIRST_M 250.0
#define GEODATA_RANKED_MAX   100000

struct geodata_metric;

/* q's centre in the store's metric; 0, or an error with the message set:
 * GEODATA_EGEOM when the store has no metric, GEODATA_EINVAL when the point
 * cannot be projected. */
int geodata_posts_near_centre(geodata_store *store, const geodata_post_query *q,
                              struct geodata_metric **metric, double *cx, double *cy);

/* The error for a circle holding more than GEODATA_RANKED_MAX posts. */
int geodata_posts_too_many(geodata_store *store);

/* The first circle a near query ranks: GEODATA_NEAR_FIRST_M, or with a
 * cursor the first of the doubling circles that reaches as far as it (the
 * smaller ones hold nothing after it); never past the radius. */
static inline double geodata_posts_first_circle(const geodata_post_query *q)
{
    double r = q->radius_m < GEODATA_NEAR_FIRST_M ? q->radius_m : GEODATA_NEAR_FIRST_M;
    while (q->cursor > 0 && r < q->cursor_m && r < q->radius_m)
        r = r * 2 < q->radius_m ? r * 2 : q->radius_m;
    return r;
}

/* 1 when the post id at d metres comes after q's cursor in a near list
 * (always without a cursor). */
static inline int geodata_posts_after_cursor(const geodata_post_query *q, int64_t id, double d)
{
    return q->cursor <= 0 || d > q->cursor_m || (d == q->cursor_m && id > q->cursor);
}

#endif
