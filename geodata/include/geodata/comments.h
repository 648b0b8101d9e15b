/*
 * geodata/comments.h — public comments under posts: the neighbourhood's
 * conversation, as opposed to the private thread of a claim (posts.h).
 *
 * Who may comment is who may see the post: the caller checks it (the
 * audience rule, audience.h) before adding. A comment shows its author's
 * display name only. Its author edits or deletes it; members report it;
 * staff hide and restore it (audited). A hidden comment is seen only by
 * staff and its author, and is not counted: posts.comment_count counts the
 * visible ones, kept by the store's triggers, and every change of a comment
 * is a change-feed entry (layer 'comments', ref_id the post) so that what
 * holds posts in memory refreshes the count.
 *
 * Search: the same accent-insensitive full text as posts (FTS5,
 * unicode61 remove_diacritics 2), over the comments of posts the audience
 * sees.
 */
#ifndef GEODATA_COMMENTS_H
#define GEODATA_COMMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/members.h"
#include "geodata/posts.h"
#include "geodata/store.h"

#define GEODATA_COMMENT_MAX         4000  /* bytes */
#define GEODATA_COMMENTS_PAGE       200   /* comments listed at most per call */
#define GEODATA_COMMENT_REASON_MAX  500   /* bytes of a report's reason */

typedef struct geodata_comment {
    int64_t id;
    int64_t post_id;
    int64_t author_id;                          /* 0: the account was deleted */
    char author_name[GEODATA_NAME_MAX + 1];
    char body[GEODATA_COMMENT_MAX + 1];
    int64_t created_at;
    int64_t edited_at;                          /* 0: never edited */
    int hidden;
    int64_t reports;
    char post_title[GEODATA_TITLE_MAX + 1];     /* filled by searches only */
} geodata_comment;

/* Adds a comment by author under post post_id. body: 1 to
 * GEODATA_COMMENT_MAX bytes (trimmed by the caller), GEODATA_EINVAL
 * otherwise; GEODATA_ENOTFOUND when the post is gone. */
int geodata_comment_add(geodata_store *store, int64_t post_id, int64_t author, const char *body,
                        int64_t now, int64_t *id);

/* Reads comment id (hidden ones too: the caller decides). */
int geodata_comment_get(geodata_store *store, int64_t id, geodata_comment *out);

/* Its author changes comment id's body (as geodata_comment_add checks it);
 * GEODATA_EDENIED for anyone else. */
int geodata_comment_edit(geodata_store *store, int64_t id, int64_t author, const char *body,
                         int64_t now);

/* Its author deletes comment id; GEODATA_EDENIED for anyone else. */
int geodata_comment_delete(geodata_store *store, int64_t id, int64_t author);

/* reporter reports comment id (once; a second report replaces the reason). */
int geodata_comment_report(geodata_store *store, int64_t id, int64_t reporter, const char *reason);

/* Staff hide or restore comment id. Audited. */
int geodata_comment_set_hidden(geodata_store *store, int64_t id, int64_t staff, int hidden);

/* Calls each for the comments of post post_id with an id above after,
 * oldest first, at most GEODATA_COMMENTS_PAGE; hidden ones only when staff
 * or written by viewer. *more says whether others follow. Work: one index
 * range. */
int geodata_comments_of_post(geodata_store *store, int64_t post_id, int64_t after,
                             int64_t viewer, int staff,
                             int (*each)(void *arg, const geodata_comment *c), void *arg,
                             int *more);

typedef struct geodata_comment_query {
    const geodata_audience *audience;   /* the posts whose comments are searched */
    const char *keywords;               /* NULL: any */
    int reported;                       /* staff: only comments reported at least once */
    int with_hidden;                    /* staff: hidden comments and posts too */
    size_t limit;                       /* 1 to GEODATA_COMMENTS_PAGE */
    int64_t before;                     /* ids below it (0: from the newest) */
} geodata_comment_query;

/* Calls each for the comments q selects, newest first, post_title filled;
 * *more says whether another page follows (ask again with before = the
 * last id). GEODATA_EINVAL for keywords holding no word. */
int geodata_comments_search(geodata_store *store, const geodata_comment_query *q,
                            int (*each)(void *arg, const geodata_comment *c), void *arg,
                            int *more);

#endif
