/*
 * geodata/posts.h — requests and offers: their lifecycle, their queries, and
 * the privacy of their authors.
 *
 * A post is published at a coarse public point: the centre of the ~200 m cell
 * (geodata_public_point) that holds its author's home, never the home itself.
 * Only geodata_post_claim() reveals the author's address, to the claimer.
 *
 * Lifecycle: open -> claimed (by one member) -> done; the author may cancel
 * an open or claimed post and edit an open one; an open post past its expiry
 * reads as "expired" and can no longer be claimed.
 */
#ifndef GEODATA_POSTS_H
#define GEODATA_POSTS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/members.h"
#include "geodata/store.h"

#define GEODATA_TITLE_MAX 200     /* bytes */
#define GEODATA_BODY_MAX  4000    /* bytes */
#define GEODATA_PUBLIC_CELL_M 200.0

typedef struct geodata_post {
    int64_t id;
    int64_t author_id;
    char author_name[GEODATA_NAME_MAX + 1];
    char kind[8];                          /* request, offer */
    char category[16];
    char status[12];                       /* open, claimed, done, cancelled, expired */
    char title[GEODATA_TITLE_MAX + 1];
    char body[GEODATA_BODY_MAX + 1];
    char neighbourhood_id[GEODATA_ID_MAX + 1];
    double lon, lat;                       /* the public point */
    int64_t created_at, updated_at, expires_at;
    int64_t claimed_by;                    /* 0 when nobody */
    int64_t views;
    int hidden;                            /* hidden by staff */
    int64_t reports;
    int64_t group_id;                      /* the group it is addressed to; 0 none */
    int64_t comments;                      /* visible comments (comments.h) */
} geodata_post;

/* The centre of the ~200 m cell holding (lon, lat): rows of equal height in
 * latitude, each cut into cells of equal width in metres at its middle. */
void geodata_public_point(double lon, double lat, double *plon, double *plat);

/* The public point of a member (the point their posts and maker profile are
 * published at: geodata_public_point of their home), never the home itself.
 * GEODATA_ENOTFOUND when the member has no verified home. */
int geodata_member_public_point(geodata_store *store, int64_t member_id, double *plon, double *plat);

/* 1 when category (kind) is one of the known ones. */
int geodata_post_category_valid(const char *category);
int geodata_post_kind_valid(const char *kind);
extern const char *const geodata_post_categories[];   /* NULL-terminated */

/* Creates a post by author, located at the author's public point, in the
 * author's neighbourhood, expiring at expires_at, addressed to group group_id
 * (0: none). GEODATA_EDENIED when the author has no verified home or is not
 * a member of the group, GEODATA_ENOTFOUND when there is no such group,
 * GEODATA_ECONFLICT while the group is still forming (groups.h). */
int geodata_post_create(geodata_store *store, int64_t author_id, const char *kind,
                        const char *category, const char *title, const char *body,
                        int64_t group_id, int64_t now, int64_t expires_at, int64_t *id);

/* Reads a post (hidden ones too: the caller decides who may see them). */
int geodata_post_get(geodata_store *store, int64_t id, int64_t now, geodata_post *out);

/* Reads a post as stored, for derived state that outlives the moment: its
 * status is never "expired" (an open post past expires_at reads "open"; the
 * reader compares expires_at with its own clock). GEODATA_ENOTFOUND when none. */
int geodata_post_load(geodata_store *store, int64_t id, geodata_post *out);

/* Visits the posts that may still show on the map, as geodata_post_load reads
 * them, in id order: the claimed ones and the open ones that expire after
 * expires_after. A non-zero return of each stops the visit and is returned.
 * Work: one pass over the posts table. */
int geodata_posts_live(geodata_store *store, int64_t expires_after,
                       int (*each)(void *arg, const geodata_post *p), void *arg);

/* The counters of a post that change without a change-feed entry: its views
 * and its reports. GEODATA_ENOTFOUND when the post is gone. One indexed read. */
int geodata_post_counters(geodata_store *store, int64_t id, int64_t *views, int64_t *reports);

/* Counts a view by member (once per member and post; not the author's), in
 * one transaction. On a full disk the view goes uncounted and 0 is returned:
 * reading a post does not fail for its statistic. */
int geodata_post_view(geodata_store *store, int64_t id, int64_t member_id);

/* Claims an open post for claimer; GEODATA_ECONFLICT when it is not open (or
 * expired, or claimed by someone else), GEODATA_EDENIED for its own author.
 * Claiming a post one has already claimed succeeds again. On success copies
 * the author's address into address (of size n): the one place it leaves. */
int geodata_post_claim(geodata_store *store, int64_t id, int64_t claimer, int64_t now,
                       char *address, size_t n);

/* Hands a claimed post back: claimer gives it up, it is open again, and the
 * claim's conversation and the author's address are no longer theirs.
 * GEODATA_EDENIED unless claimer holds the claim; GEODATA_ECONFLICT when the
 * post is not claimed. Audited. */
int geodata_post_release(geodata_store *store, int64_t id, int64_t claimer, int64_t now);

typedef enum { GEODATA_POST_DONE, GEODATA_POST_CANCEL } geodata_post_action;

/* done: by the author (open or claimed) or the claimer (claimed); cancel: by
 * the author (open or claimed). GEODATA_EDENIED or GEODATA_ECONFLICT otherwise.
 * A post done keeps now as its done_at (the statistics' time to done). */
int geodata_post_finish(geodata_store *store, int64_t id, int64_t member, geodata_post_action a,
                        int64_t now);

/* Edits title and/or body (NULL keeps) of an open post, by its author. */
int geodata_post_edit(geodata_store *store, int64_t id, int64_t author, const char *title,
                      const char *body, int64_t now);

/*
 * The private conversation of a claimed post (post_messages.c): messages
 * between its author and the member who claimed it, one thread per claim.
 * Nobody else writes or reads it; staff read it only once the post has been
 * reported. Messages never leave through lists, tiles or exports.
 */
#define GEODATA_MESSAGE_MAX 2000  /* bytes */
#define GEODATA_MESSAGES_PAGE 200 /* messages listed at most per call */

typedef struct geodata_post_message {
    int64_t id;
    int64_t author_id;
    char author_name[GEODATA_NAME_MAX + 1];
    char body[GEODATA_MESSAGE_MAX + 1];
    int64_t created_at;
} geodata_post_message;

/* The thread a member may read or write on post p: its claimer's id (the
 * claim the thread belongs to), 0 for staff reading every thread of a
 * reported post; GEODATA_EDENIED for anyone else ("only the author and the
 * volunteer who claimed it"), GEODATA_ECONFLICT when nobody holds a claim.
 * Staff may read, never write (writing 0). */
int geodata_post_thread(geodata_store *store, const geodata_post *p, int64_t member, int staff,
                        int writing, int64_t *claimer);

/* Adds a message by member to post p's current thread. body is 1 to
 * GEODATA_MESSAGE_MAX bytes (trimmed by the caller); GEODATA_EINVAL otherwise. */
int geodata_post_message_add(geodata_store *store, const geodata_post *p, int64_t member,
                             const char *body, int64_t now, int64_t *id);

/* Calls each for the messages of thread claimer (0: all threads) of post id
 * with an id above after, oldest first, at most GEODATA_MESSAGES_PAGE; *more
 * says whether others follow. Work: one indexed range. */
int geodata_post_messages(geodata_store *store, int64_t id, int64_t claimer, int64_t after,
                          int (*each)(void *arg, const geodata_post_message *m), void *arg,
                          int *more);

/* Reports a post (reporter 0: anonymous) (post_reports.c); hides or
 * restores it, by staff. */
int geodata_post_report(geodata_store *store, int64_t id, int64_t reporter, const char *reason);

#define GEODATA_REPORT_REASON_MAX 500  /* bytes */
#define GEODATA_REPORTS_PAGE 200       /* reports of a post listed at most per call */

typedef struct geodata_post_report_row {
    int64_t id;                                /* the report's: the cursor of the next page */
    char reason[GEODATA_REPORT_REASON_MAX + 1];
    int64_t created_at;
    char reporter_name[GEODATA_NAME_MAX + 1];  /* "" for an anonymous report */
} geodata_post_report_row;

/* Calls each for the reports of post id with an id above after (0: from
 * the first), oldest first, at most GEODATA_REPORTS_PAGE (for staff: the
 * caller checks); *more says whether others follow the last one visited.
 * Work: one index range of GEODATA_REPORTS_PAGE + 1 rows. */
int geodata_post_reports(geodata_store *store, int64_t id, int64_t after,
                         int (*each)(void *arg, const geodata_post_report_row *r), void *arg,
                         int *more);

/* Staff found the post fine: its reports are removed (*dismissed says how
 * many), the action audited. */
int geodata_post_reports_dismiss(geodata_store *store, int64_t id, int64_t staff, int64_t *dismissed);
int geodata_post_set_hidden(geodata_store *store, int64_t id, int64_t staff, int hidden);

typedef struct geodata_post_query {
    const geodata_audience *audience; /* whose rule selects the posts (audience.h); NULL: all
                                  (an author's own posts, wherever they are) */
    int near;                  /* lon, lat, radius_m apply */
    double lon, lat, radius_m;
    int bbox;                  /* west, south, east, north apply */
    double west, south, east, north;
    const char *category, *kind;
    const char *status;        /* NULL: open; or open, claimed, done, cancelled, expired, any */
    const char *keywords;      /* full-text, accent-insensitive; NULL = none */
    int64_t author_id;         /* > 0: this author's only */
    int64_t group_id;          /* > 0: the posts addressed to this group only */
    int with_hidden;           /* staff: hidden posts too */
    int reported;              /* staff: only posts reported at least once */
    size_t limit, offset;
    int64_t now;
    int64_t cursor;            /* > 0: only the posts after this one in the list's order
                                  (keyset paging, with offset 0): newest first, those with
                                  a smaller id; near, those farther away, or as far with a
                                  larger id. Set with geodata_posts_cursor. */
    double cursor_m;           /* near: the cursor post's distance from the centre */
} geodata_post_query;

/* Calls each(arg, post, distance) for the page of matching posts: by
 * distance when near is set (metres through PROJ), then by id; else newest
 * first; *more is 1 when another page follows. With q->cursor, a page ends
 * where the next one starts: posts added meanwhile shift nothing. Work: for
 * near queries, the posts of the smallest circle (250 m, doubling up to the
 * radius; from the cursor's distance on) that holds the page, one
 * projection each; otherwise the page itself through the indexes. At most
 * 100,000 posts are ranked (GEODATA_EINVAL beyond: narrow the query). */
int geodata_posts_query(geodata_store *store, const geodata_post_query *q,
                        int (*each)(void *arg, const geodata_post *p, double distance_m),
                        void *arg, int *more);

/* Makes post id q's cursor: q->cursor, and for a near query q->cursor_m,
 * its distance from q's centre computed as the ranking computes it (to the
 * bit). Whether the viewer may see that post is the caller's to check.
 * GEODATA_ENOTFOUND when there is no such post. Work: one indexed read,
 * one projection. */
int geodata_posts_cursor(geodata_store *store, geodata_post_query *q, int64_t id);

/* Open needs per neighbourhood and category, for anonymous visitors. */
int geodata_post_counts(geodata_store *store, int64_t now,
                        int (*each)(void *arg, const char *nb, const char *category, int64_t n),
                        void *arg);

#endif
