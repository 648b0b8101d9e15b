/*
 * geodata/domain/groups.c — thematic groups (see groups.h): creating one,
 * seeing it, joining and leaving, moderating it.
 *
 * member_count is kept by the writers here, in the transaction of the
 * change, as the count of rows without removed_by: one indexed count, so a
 * join racing another join cannot leave it wrong.
 */
#include <stdio.h>
#include <string.h>

#include "geodata/groups.h"
#include "internal.h"

const char *const geodata_group_categories[] = {
    "food", "environment", "education", "culture", "sport", "solidarity", "health", "other", NULL,
};

int geodata_group_category_valid(const char *category)
{
    for (const char *const *c = geodata_group_categories; category && *c; c++)
        if (strcmp(*c, category) == 0)
            return 1;
    return 0;
}

/* Takes group id's row lock until the end of the transaction, so that the
 * writers of its members (join, leave, removal) follow one another and each
 * recount sees the rows of the writers before it. SQLite's BEGIN IMMEDIATE
 * orders every writer already; on PostgreSQL, under READ COMMITTED, a
 * recount that waited for another's row lock would count with its
 * statement's snapshot, taken before that other committed, and leave
 * member_count one short. A missing group is no error here: the reads that
 * follow report it. */
static int lock_group(geodata_store *store, int64_t id)
{
    if (!store->pg)
        return GEODATA_OK;
    sql_stmt *st = geodata_cached(store, "SELECT id FROM groups WHERE id = ?1 FOR UPDATE");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int row = geodata_step(store, st);
    geodata_release(store, st);
    return row < 0 ? row : GEODATA_OK;
}

/* Counts group id's members again and activates it when they reach
 * threshold (threshold <= 0: never from here). */
static int recount(geodata_store *store, int64_t id, int64_t now, int threshold)
{
    sql_stmt *st = geodata_cached(store,
        "UPDATE groups SET member_count = (SELECT count(*) FROM group_members "
        "  WHERE group_id = ?1 AND removed_by IS NULL),"
        " activated_at = CASE WHEN activated_at IS NULL AND ?3 > 0 AND (SELECT count(*) "
        "  FROM group_members WHERE group_id = ?1 AND removed_by IS NULL) >= ?3 THEN ?2 "
        "  ELSE activated_at END WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, now);
    sql_bind_int(st, 3, threshold);
    int rc = geodata_write(store, st, "counting a group's members", NULL);
    geodata_release(store, st);
    return rc;
}

int geodata_group_create(geodata_store *store, int64_t creator, const char *name,
                         const char *description, const char *category, int64_t now,
                         int threshold, int64_t *id)
{
    *id = 0;
    size_t nlen = name ? strlen(name) : 0, dlen = description ? strlen(description) : 0;
    if (nlen == 0 || nlen > GEODATA_GROUP_NAME_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a group's name has 1 to %d bytes",
                            GEODATA_GROUP_NAME_MAX);
    if (dlen > GEODATA_GROUP_DESCRIPTION_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a group's description has at most %d bytes",
                            GEODATA_GROUP_DESCRIPTION_MAX);
    if (!geodata_group_category_valid(category))
        return geodata_fail(store, GEODATA_EINVAL, "unknown group category");
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO groups(name, description, category, neighbourhood_id, creator_id, created_at) "
        "SELECT ?2, ?3, ?4, neighbourhood_id, id, ?5 FROM members WHERE id = ?1 "
        "AND home_lon IS NOT NULL AND neighbourhood_id IS NOT NULL RETURNING id");
    if (!st) {
        rc = GEODATA_EDB;
    } else {
        sql_bind_int64(st, 1, creator);
        sql_bind_text(st, 2, name, (int)nlen, SQL_STATIC);
        sql_bind_text(st, 3, description ? description : "", (int)dlen, SQL_STATIC);
        sql_bind_text(st, 4, category, -1, SQL_STATIC);
        sql_bind_int64(st, 5, now);
        rc = geodata_insert(store, st, "creating a group", id);
        sql_finalize(st);
    }
    if (!rc && !*id)
        rc = geodata_fail(store, GEODATA_EDENIED,
                          "only members with a verified home in a neighbourhood create groups");
    if (!rc && !(st = geodata_prepare(store,
            "INSERT INTO group_members(group_id, member_id, joined_at) VALUES (?1, ?2, ?3)")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, *id);
        sql_bind_int64(st, 2, creator);
        sql_bind_int64(st, 3, now);
        rc = geodata_write(store, st, "adding a group's creator", NULL);
        sql_finalize(st);
    }
    if (!rc)
        rc = recount(store, *id, now, threshold);
    char target[32];
    snprintf(target, sizeof target, "group %lld", (long long)*id);
    if (!rc)
        rc = geodata_audit(store, creator, "create group", target, name);
    rc = geodata_end(store, rc);
    if (rc)
        *id = 0;
    return rc;
}

#define GROUP_COLUMNS \
    "g.id, g.name, g.description, g.category, g.neighbourhood_id, coalesce(n.name, ''), " \
    "coalesce(g.creator_id, 0), coalesce(c.display_name, ''), g.member_count, g.created_at, " \
    "coalesce(g.activated_at, 0), gm.member_id IS NOT NULL AND gm.removed_by IS NULL, " \
    "gm.removed_by IS NOT NULL"
/* ?1 the audience, ?2 the viewer. */
#define GROUP_FROM \
    " FROM groups g LEFT JOIN neighbourhoods n ON n.id = g.neighbourhood_id" \
    " LEFT JOIN members c ON c.id = g.creator_id" \
    " LEFT JOIN group_members gm ON gm.group_id = g.id AND gm.member_id = ?2" \
    " WHERE " GEODATA_AUDIENCE_SQL("g.neighbourhood_id", "?1")

static void read_group(sql_stmt *st, geodata_group *g)
{
    g->id = sql_column_int64(st, 0);
    geodata_column_text(st, 1, g->name, sizeof g->name);
    geodata_column_text(st, 2, g->description, sizeof g->description);
    geodata_column_text(st, 3, g->category, sizeof g->category);
    geodata_column_text(st, 4, g->neighbourhood_id, sizeof g->neighbourhood_id);
    geodata_column_text(st, 5, g->neighbourhood_name, sizeof g->neighbourhood_name);
    g->creator_id = sql_column_int64(st, 6);
    geodata_column_text(st, 7, g->creator_name, sizeof g->creator_name);
    g->member_count = sql_column_int64(st, 8);
    g->created_at = sql_column_int64(st, 9);
    g->activated_at = sql_column_int64(st, 10);
    g->joined = sql_column_int(st, 11);
    g->removed = sql_column_int(st, 12);
}

int geodata_group_get(geodata_store *store, int64_t id, const geodata_audience *a, int64_t viewer,
                      geodata_group *out)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT " GROUP_COLUMNS GROUP_FROM " AND g.id = ?3");
    if (!st)
        return GEODATA_EDB;
    geodata_audience_bind(st, 1, a);
    sql_bind_int64(st, 2, viewer);
    sql_bind_int64(st, 3, id);
    int row = geodata_step(store, st);
    if (row > 0)
        read_group(st, out);
    geodata_release(store, st);
    if (row < 0)
        return row;
    return row ? GEODATA_OK : geodata_fail(store, GEODATA_ENOTFOUND, "no such group");
}

/* The groups a list selects, before its order and page: ?1 the audience,
 * ?2 the viewer, ?3 ?4 the near point (NULL: none), ?5 mine, ?6 the
 * category. The neighbourhood of the point (here) through SpatiaLite's
 * R*Tree (GROUPS_SELECTED) or PostGIS's GiST index, which ST_Covers uses by
 * itself (GROUPS_SELECTED_PG; ?3 typed there, since nothing else would type
 * it when it is NULL). */
#define GROUPS_SELECTED GROUPS_SELECTED_OF( \
    "WITH here(id) AS (SELECT n.id FROM neighbourhoods n JOIN idx_neighbourhoods_geom i " \
    "  ON i.pkid = n.rowid WHERE ?3 IS NOT NULL AND i.xmin <= ?3 AND i.xmax >= ?3 " \
    "  AND i.ymin <= ?4 AND i.ymax >= ?4 AND ST_Covers(n.geom, MakePoint(?3, ?4, 4326)) " \
    "  ORDER BY n.id LIMIT 1) ")
#define GROUPS_SELECTED_PG GROUPS_SELECTED_OF( \
    "WITH here(id) AS (SELECT n.id FROM neighbourhoods n WHERE CAST(?3 AS float8) IS NOT NULL " \
    "  AND ST_Covers(n.geom, ST_SetSRID(ST_MakePoint(?3, CAST(?4 AS float8)), 4326)) " \
    "  ORDER BY n.id LIMIT 1) ")
#define GROUPS_SELECTED_OF(here) \
    here \
    "SELECT " GROUP_COLUMNS GROUP_FROM \
    " AND (?3 IS NULL OR g.neighbourhood_id IN (SELECT id FROM here UNION " \
    "      SELECT b FROM neighbourhood_contiguity WHERE a IN (SELECT id FROM here)))" \
    " AND (?5 = 0 OR (gm.member_id IS NOT NULL AND gm.removed_by IS NULL))" \
    " AND (CAST(?6 AS TEXT) IS NULL OR g.category = ?6)"

int geodata_groups_list(geodata_store *store, const geodata_group_query *q,
                        int (*each)(void *arg, const geodata_group *g), void *arg, int *more)
{
    *more = 0;
    if (q->limit < 1 || q->limit > GEODATA_GROUPS_PAGE)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds 1 to %d groups",
                            GEODATA_GROUPS_PAGE);
    sql_stmt *st = geodata_cached(store, q->by_id
        ? GEODATA_DIALECT(store, GROUPS_SELECTED " AND g.id > ?9 ORDER BY g.id LIMIT ?7",
                          GROUPS_SELECTED_PG " AND g.id > ?9 ORDER BY g.id LIMIT ?7")
        : GEODATA_DIALECT(store,
                          GROUPS_SELECTED " ORDER BY g.member_count DESC, g.id DESC LIMIT ?7 OFFSET ?8",
                          GROUPS_SELECTED_PG " ORDER BY g.member_count DESC, g.id DESC LIMIT ?7 OFFSET ?8"));
    if (!st)
        return GEODATA_EDB;
    geodata_audience_bind(st, 1, q->audience);
    sql_bind_int64(st, 2, q->viewer);
    if (q->near) {
        sql_bind_double(st, 3, q->lon);
        sql_bind_double(st, 4, q->lat);
    }
    sql_bind_int(st, 5, q->mine ? 1 : 0);
    sql_bind_text(st, 6, q->category, -1, SQL_STATIC);
    sql_bind_int64(st, 7, (long long)q->limit + 1);
    if (q->by_id)
        sql_bind_int64(st, 9, q->after > 0 ? q->after : 0);
    else
        sql_bind_int64(st, 8, (long long)q->offset);
    geodata_group g;
    size_t n = 0;
    int rc = GEODATA_OK, row;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (n++ == q->limit) {
            *more = 1;
            break;
        }
        read_group(st, &g);
        rc = each(arg, &g);
    }
    if (!rc && row < 0)
        rc = row;
    geodata_release(store, st);
    return rc;
}

/* Reads what a join or a moderation needs of group id: its neighbourhood,
 * its creator, and member's row (joined, removed). */
static int group_facts(geodata_store *store, int64_t id, int64_t member, char *nb, size_t n,
                       int64_t *creator, int *joined, int *removed)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT g.neighbourhood_id, coalesce(g.creator_id, 0), gm.member_id IS NOT NULL "
        "AND gm.removed_by IS NULL, gm.removed_by IS NOT NULL FROM groups g "
        "LEFT JOIN group_members gm ON gm.group_id = g.id AND gm.member_id = ?2 WHERE g.id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, member);
    int row = geodata_step(store, st);
    if (row > 0) {
        geodata_column_text(st, 0, nb, n);
        *creator = sql_column_int64(st, 1);
        *joined = sql_column_int(st, 2);
        *removed = sql_column_int(st, 3);
    }
    geodata_release(store, st);
    if (row < 0)
        return row;
    return row ? GEODATA_OK : geodata_fail(store, GEODATA_ENOTFOUND, "no such group");
}

int geodata_group_join(geodata_store *store, int64_t id, int64_t member,
                       const geodata_audience *a, int64_t now, int threshold)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    char nb[GEODATA_ID_MAX + 1] = "";
    int64_t creator = 0;
    int joined = 0, removed = 0;
    rc = lock_group(store, id);
    if (!rc)
        rc = group_facts(store, id, member, nb, sizeof nb, &creator, &joined, &removed);
    if (!rc && !a->home[0])
        rc = geodata_fail(store, GEODATA_EDENIED, "only members with a verified home join groups");
    else if (!rc && !geodata_audience_lives_near(a, nb))
        rc = geodata_fail(store, GEODATA_EDENIED, "this group belongs to a neighbourhood you "
                          "neither live in nor border");
    if (!rc && removed)
        rc = geodata_fail(store, GEODATA_EDENIED, "the group's moderators removed you from it");
    if (!rc && !joined) {
        sql_stmt *st = geodata_cached(store,
            "INSERT INTO group_members(group_id, member_id, joined_at) VALUES (?1, ?2, ?3)");
        if (!st) {
            rc = GEODATA_EDB;
        } else {
            sql_bind_int64(st, 1, id);
            sql_bind_int64(st, 2, member);
            sql_bind_int64(st, 3, now);
            rc = geodata_write(store, st, "joining a group", NULL);
            geodata_release(store, st);
        }
        if (!rc)
            rc = recount(store, id, now, threshold);
    }
    return geodata_end(store, rc);
}

int geodata_group_leave(geodata_store *store, int64_t id, int64_t member)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    rc = lock_group(store, id);
    if (rc)
        return geodata_end(store, rc);
    sql_stmt *st = geodata_cached(store,
        "DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2 AND removed_by IS NULL");
    int changed = 0;
    if (!st) {
        rc = GEODATA_EDB;
    } else {
        sql_bind_int64(st, 1, id);
        sql_bind_int64(st, 2, member);
        rc = geodata_write(store, st, "leaving a group", &changed);
        geodata_release(store, st);
    }
    if (!rc && changed)
        rc = recount(store, id, 0, 0);
    return geodata_end(store, rc);
}

int geodata_group_moderates(geodata_store *store, int64_t id, int64_t member, int staff)
{
    char nb[GEODATA_ID_MAX + 1];
    int64_t creator = 0;
    int joined, removed;
    int rc = group_facts(store, id, member, nb, sizeof nb, &creator, &joined, &removed);
    if (rc)
        return rc;
    return staff || (creator && creator == member);
}

/* The moderation check inside a transaction: 0, or the error set. */
static int check_moderator(geodata_store *store, int64_t id, int64_t moderator, int staff)
{
    int m = geodata_group_moderates(store, id, moderator, staff);
    if (m < 0)
        return m;
    return m ? GEODATA_OK : geodata_fail(store, GEODATA_EDENIED, "only the group's creator and "
                                         "staff moderate it");
}

int geodata_group_remove_member(geodata_store *store, int64_t id, int64_t moderator, int staff,
                                int64_t member)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    rc = lock_group(store, id);
    if (!rc)
        rc = check_moderator(store, id, moderator, staff);
    if (!rc && member == moderator)
        rc = geodata_fail(store, GEODATA_EINVAL, "a moderator leaves a group, not removes "
                          "themselves from it");
    int changed = 0;
    if (!rc) {
        sql_stmt *st = geodata_prepare(store,
            "UPDATE group_members SET removed_by = ?3 WHERE group_id = ?1 AND member_id = ?2 "
            "AND removed_by IS NULL");
        if (!st) {
            rc = GEODATA_EDB;
        } else {
            sql_bind_int64(st, 1, id);
            sql_bind_int64(st, 2, member);
            sql_bind_int64(st, 3, moderator);
            rc = geodata_write(store, st, "removing a group member", &changed);
            sql_finalize(st);
        }
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "this member is not in the group");
    if (!rc)
        rc = recount(store, id, 0, 0);
    char target[32], detail[40];
    snprintf(target, sizeof target, "group %lld", (long long)id);
    snprintf(detail, sizeof detail, "member %lld", (long long)member);
    if (!rc)
        rc = geodata_audit(store, moderator, "remove group member", target, detail);
    return geodata_end(store, rc);
}

int geodata_group_remove_post(geodata_store *store, int64_t id, int64_t moderator, int staff,
                              int64_t post)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    rc = check_moderator(store, id, moderator, staff);
    int changed = 0;
    if (!rc) {
        sql_stmt *st = geodata_prepare(store,
            "UPDATE posts SET group_id = NULL WHERE id = ?2 AND group_id = ?1");
        if (!st) {
            rc = GEODATA_EDB;
        } else {
            sql_bind_int64(st, 1, id);
            sql_bind_int64(st, 2, post);
            rc = geodata_write(store, st, "removing a post from a group", &changed);
            sql_finalize(st);
        }
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "this post is not in the group");
    char target[32], detail[40];
    snprintf(target, sizeof target, "group %lld", (long long)id);
    snprintf(detail, sizeof detail, "post %lld", (long long)post);
    if (!rc)
        rc = geodata_audit(store, moderator, "remove group post", target, detail);
    return geodata_end(store, rc);
}

int geodata_group_members(geodata_store *store, int64_t id, int64_t after,
                          int (*each)(void *arg, const geodata_group_member *m), void *arg,
                          int *more)
{
    *more = 0;
    sql_stmt *st = geodata_cached(store,
        "SELECT gm.member_id, m.display_name, gm.joined_at FROM group_members gm "
        "JOIN members m ON m.id = gm.member_id WHERE gm.group_id = ?1 AND gm.removed_by IS NULL "
        "AND gm.member_id > ?2 ORDER BY gm.member_id LIMIT ?3");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, after);
    sql_bind_int(st, 3, GEODATA_GROUP_MEMBERS_PAGE + 1);
    geodata_group_member m;
    int rc = GEODATA_OK, row, n = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (++n > GEODATA_GROUP_MEMBERS_PAGE) {
            *more = 1;
            break;
        }
        m.id = sql_column_int64(st, 0);
        geodata_column_text(st, 1, m.display_name, sizeof m.display_name);
        m.joined_at = sql_column_int64(st, 2);
        rc = each(arg, &m);
    }
    if (!rc && row < 0)
        rc = row;
    geodata_release(store, st);
    return rc;
}
