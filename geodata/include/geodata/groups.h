/*
 * geodata/groups.h — thematic groups of neighbours (a shared compost,
 * home-schooling): who sees them, who joins, when they may take posts.
 *
 * A group lives in its creator's neighbourhood and is seen by the audience
 * that sees that neighbourhood (audience.h: its members and those of the
 * contiguous ones; staff all). Its creator is its first member. It is
 * "forming" until a join brings it to the threshold (GEODATA_GROUP_THRESHOLD
 * unless the server says otherwise), then "active" for good: a group whose
 * members later leave keeps the posts it was given and may take more. Only
 * an active group takes posts, and only from its members (posts.c checks it
 * when a post names a group).
 *
 * Moderation: the creator and staff remove a post from the group (the post
 * stays, outside the group) or a member (who cannot join again). Every
 * moderation is audited. A group shows display names only: never an
 * address, a home point or an email.
 */
#ifndef GEODATA_GROUPS_H
#define GEODATA_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/members.h"
#include "geodata/store.h"

#define GEODATA_GROUP_NAME_MAX        100   /* bytes */
#define GEODATA_GROUP_DESCRIPTION_MAX 2000  /* bytes */
#define GEODATA_GROUP_THRESHOLD       10    /* members for a group to become active */
#define GEODATA_GROUPS_PAGE           100   /* groups listed at most per call */
#define GEODATA_GROUP_MEMBERS_PAGE    200   /* members listed at most per call */

extern const char *const geodata_group_categories[];   /* NULL-terminated */
int geodata_group_category_valid(const char *category);

typedef struct geodata_group {
    int64_t id;
    char name[GEODATA_GROUP_NAME_MAX + 1];
    char description[GEODATA_GROUP_DESCRIPTION_MAX + 1];
    char category[16];
    char neighbourhood_id[GEODATA_ID_MAX + 1];
    char neighbourhood_name[GEODATA_NAME_MAX + 1];
    int64_t creator_id;                          /* 0: the account was deleted */
    char creator_name[GEODATA_NAME_MAX + 1];
    int64_t member_count;
    int64_t created_at;
    int64_t activated_at;                        /* 0: still forming */
    int joined;                                  /* the viewer asked about is a member */
    int removed;                                 /* ... was removed by a moderator */
} geodata_group;

/* Creates a group in creator's neighbourhood, creator its first member
 * (active at once when threshold is 1). name: 1 to GEODATA_GROUP_NAME_MAX
 * bytes, description up to GEODATA_GROUP_DESCRIPTION_MAX, a known category:
 * GEODATA_EINVAL otherwise; GEODATA_EDENIED without a verified home.
 * Audited. One transaction. */
int geodata_group_create(geodata_store *store, int64_t creator, const char *name,
                         const char *description, const char *category, int64_t now,
                         int threshold, int64_t *id);

/* Reads group id as viewer (0: nobody) finds it, when audience a sees it;
 * GEODATA_ENOTFOUND otherwise (whether or not it exists). Work: one indexed
 * read. */
int geodata_group_get(geodata_store *store, int64_t id, const geodata_audience *a, int64_t viewer,
                      geodata_group *out);

typedef struct geodata_group_query {
    const geodata_audience *audience;   /* whose groups; required */
    int64_t viewer;                     /* for joined/removed */
    int near;                           /* lon, lat apply */
    double lon, lat;                    /* the neighbourhood there and its contiguous ones */
    int mine;                           /* only the viewer's groups */
    const char *category;               /* NULL: any */
    size_t limit, offset;               /* limit 1 to GEODATA_GROUPS_PAGE */
    int by_id;                          /* by id from after, not by size (offset unused) */
    int64_t after;                      /* with by_id: the groups with a larger id */
} geodata_group_query;

/* Calls each for the page of groups q selects, most members first, then
 * newest (offset of them skipped); or with by_id, by id from the first
 * above after: an order that joins do not change, where a page ends where
 * the next one starts, so every group is listed once whatever happens
 * meanwhile. *more says whether another page follows. A near point outside
 * every neighbourhood selects none. Work: the groups of the audience's
 * neighbourhoods through their index (by_id: one id range), one R*Tree
 * lookup for near. */
int geodata_groups_list(geodata_store *store, const geodata_group_query *q,
                        int (*each)(void *arg, const geodata_group *g), void *arg, int *more);

/* member joins group id. GEODATA_ENOTFOUND when there is no such group,
 * GEODATA_EDENIED when the member (audience a, theirs) has no verified home
 * in its neighbourhood or a contiguous one (staff too: they moderate any
 * group, join only those near their home), or a moderator removed them. Joining again is a success. The
 * join that reaches threshold members activates the group. One
 * transaction. */
int geodata_group_join(geodata_store *store, int64_t id, int64_t member,
                       const geodata_audience *a, int64_t now, int threshold);

/* member leaves group id (a success when not a member). */
int geodata_group_leave(geodata_store *store, int64_t id, int64_t member);

/* 1 when member moderates group id (its creator, or staff), else 0; a
 * negative GEODATA_E* code on a failed read. */
int geodata_group_moderates(geodata_store *store, int64_t id, int64_t member, int staff);

/* A moderator removes member from group id; they cannot join again.
 * GEODATA_EDENIED when moderator does not moderate it, GEODATA_ENOTFOUND
 * when member is not in it. Audited. */
int geodata_group_remove_member(geodata_store *store, int64_t id, int64_t moderator, int staff,
                                int64_t member);

/* A moderator takes post out of group id (the post stays, in no group).
 * GEODATA_ENOTFOUND when the post is not in the group. Audited. */
int geodata_group_remove_post(geodata_store *store, int64_t id, int64_t moderator, int staff,
                              int64_t post);

typedef struct geodata_group_member {
    int64_t id;
    char display_name[GEODATA_NAME_MAX + 1];
    int64_t joined_at;
} geodata_group_member;

/* Calls each for the members of group id with an id above after, by id, at
 * most GEODATA_GROUP_MEMBERS_PAGE; *more says whether others follow. */
int geodata_group_members(geodata_store *store, int64_t id, int64_t after,
                          int (*each)(void *arg, const geodata_group_member *m), void *arg,
                          int *more);

#endif
