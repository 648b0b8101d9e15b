/*
 * geodata/domain/posts.c — requests and offers (see posts.h).
 *
 * State changes are single UPDATE statements guarded by the expected state
 * ("... WHERE status = 'open'"), so two members claiming at once cannot both
 * win: the second sees no row changed and gets GEODATA_ECONFLICT.
 * Near queries rank in two phases: ids and public points of the posts in the
 * radius's bounding box (SpatiaLite's R*Tree, PostGIS's GiST index),
 * distances through PROJ, then full rows for the requested page only.
 * post_index.c answers the same queries from memory; post_query.h holds
 * what both must share to answer alike.
 *
 * Creation: the statements are kept prepared (their triggers — R*Tree, full
 * text, change feed — are compiled once per connection, not per post), so
 * that many posts written in one transaction (geodata_store_batch, group
 * commit) cost one insert each and one fsync for all.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "internal.h"
#include "geodata/posts.h"
#include "post_query.h"
#include "spatialite_blob.h"

const char *const geodata_post_categories[] = {
    "groceries", "pharmacy", "childcare", "schooling", "masks", "errands", "company", "pets",
    "materials", "other", NULL,
};

int geodata_post_category_valid(const char *category)
{
    for (const char *const *c = geodata_post_categories; category && *c; c++)
        if (strcmp(*c, category) == 0)
            return 1;
    return 0;
}

int geodata_post_kind_valid(const char *kind)
{
    return kind && (strcmp(kind, "request") == 0 || strcmp(kind, "offer") == 0);
}

void geodata_public_point(double lon, double lat, double *plon, double *plat)
{
    double dlat = GEODATA_PUBLIC_CELL_M / 110574.0;
    double row = floor(lat / dlat);
    double clat = (row + 0.5) * dlat;
    double dlon = GEODATA_PUBLIC_CELL_M / (111320.0 * fmax(cos(clat * M_PI / 180.0), 0.01));
    *plat = clat;
    *plon = (floor(lon / dlon) + 0.5) * dlon;
}

int geodata_member_public_point(geodata_store *store, int64_t member_id, double *plon, double *plat)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT home_lon, home_lat FROM members WHERE id = ? "
        "AND home_lon IS NOT NULL AND neighbourhood_id IS NOT NULL");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member_id);
    int step = sql_step(st);
    int rc = GEODATA_OK;
    if (step == SQL_ROW)
        geodata_public_point(sql_column_double(st, 0), sql_column_double(st, 1), plon, plat);
    else
        rc = step == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no verified home")
                                 : geodata_fail_sql(store, "reading the member's home");
    geodata_release(store, st);
    return rc;
}

/* The rule of a post addressed to group id by author (see
 * geodata_post_create): 0, or the error set. */
static int check_group(geodata_store *store, int64_t id, int64_t author)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT g.activated_at IS NOT NULL, gm.member_id IS NOT NULL AND gm.removed_by IS NULL "
        "FROM groups g LEFT JOIN group_members gm ON gm.group_id = g.id AND gm.member_id = ?2 "
        "WHERE g.id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, author);
    int row = geodata_step(store, st);
    int active = row > 0 && sql_column_int(st, 0), member = row > 0 && sql_column_int(st, 1);
    geodata_release(store, st);
    if (row < 0)
        return row;
    if (!row)
        return geodata_fail(store, GEODATA_ENOTFOUND, "no such group");
    if (!member)
        return geodata_fail(store, GEODATA_EDENIED, "only the group's members post in it");
    if (!active)
        return geodata_fail(store, GEODATA_ECONFLICT, "the group is still forming: it takes "
                            "posts once it has enough members");
    return GEODATA_OK;
}

/* Inserts one post (see geodata_post_create) through kept statements; the
 * caller owns the transaction, if any. */
static int insert_post(geodata_store *store, int64_t author_id, const char *kind,
                       const char *category, const char *title, const char *body,
                       int64_t group_id, int64_t now, int64_t expires_at, int64_t *id)
{
    if (group_id > 0) {
        int rc = check_group(store, group_id, author_id);
        if (rc)
            return rc;
    }
    sql_stmt *st = geodata_cached(store,
        "SELECT home_lon, home_lat, neighbourhood_id FROM members WHERE id = ? "
        "AND home_lon IS NOT NULL AND neighbourhood_id IS NOT NULL");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, author_id);
    int step = sql_step(st);
    if (step != SQL_ROW) {
        int rc = step == SQL_DONE
            ? geodata_fail(store, GEODATA_EDENIED,
                           "only members with a verified home in a neighbourhood can post")
            : geodata_fail_sql(store, "reading the author");
        geodata_release(store, st);
        return rc;
    }
    double plon, plat;
    geodata_public_point(sql_column_double(st, 0), sql_column_double(st, 1), &plon, &plat);
    char nb[GEODATA_ID_MAX + 1];
    snprintf(nb, sizeof nb, "%s", (const char *)sql_column_text(st, 2));
    geodata_release(store, st);
    unsigned char blob[GEODATA_POINT_BLOB_SIZE];
    st = geodata_cached(store,
        "INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, created_at, "
        "  updated_at, expires_at, geom, group_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10) RETURNING id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, author_id);
    sql_bind_text(st, 2, kind, -1, SQL_STATIC);
    sql_bind_text(st, 3, category, -1, SQL_STATIC);
    sql_bind_text(st, 4, title, -1, SQL_STATIC);
    sql_bind_text(st, 5, body ? body : "", -1, SQL_STATIC);
    sql_bind_text(st, 6, nb, -1, SQL_STATIC);
    sql_bind_int64(st, 7, now);
    sql_bind_int64(st, 8, expires_at);
    geodata_bind_point(store, st, 9, plon, plat, blob);
    if (group_id > 0)
        sql_bind_int64(st, 10, group_id);
    int rc = geodata_insert(store, st, "creating a post", id);
    geodata_release(store, st);
    return rc;
}

int geodata_post_create(geodata_store *store, int64_t author_id, const char *kind,
                        const char *category, const char *title, const char *body,
                        int64_t group_id, int64_t now, int64_t expires_at, int64_t *id)
{
    return insert_post(store, author_id, kind, category, title, body, group_id, now, expires_at,
                       id);
}

#define POST_COLUMNS \
    "p.id, p.author_id, m.display_name, p.kind, p.category, " \
    "CASE WHEN p.status = 'open' AND p.expires_at <= ?99 THEN 'expired' ELSE p.status END, " \
    "p.title, p.body, coalesce(p.neighbourhood_id, ''), p.geom, NULL, p.created_at, " \
    "p.updated_at, p.expires_at, coalesce(p.claimed_by, 0), p.views, p.hidden, " \
    "(SELECT count(*) FROM post_reports r WHERE r.post_id = p.id), coalesce(p.group_id, 0), " \
    "p.comment_count"

static const char POST_BY_ID[] =
    "SELECT " POST_COLUMNS " FROM posts p JOIN members m ON m.id = p.author_id WHERE p.id = ?1";

static void read_post(sql_stmt *st, geodata_post *p)
{
    p->id = sql_column_int64(st, 0);
    p->author_id = sql_column_int64(st, 1);
    geodata_column_text(st, 2, p->author_name, sizeof p->author_name);
    geodata_column_text(st, 3, p->kind, sizeof p->kind);
    geodata_column_text(st, 4, p->category, sizeof p->category);
    geodata_column_text(st, 5, p->status, sizeof p->status);
    geodata_column_text(st, 6, p->title, sizeof p->title);
    geodata_column_text(st, 7, p->body, sizeof p->body);
    geodata_column_text(st, 8, p->neighbourhood_id, sizeof p->neighbourhood_id);
    /* The point is read from the BLOB's header in C: X() and Y() would parse
     * the whole geometry, with allocations, for each row. */
    double box[4] = { 0, 0, 0, 0 };
    geodata_blob_box(sql_column_blob(st, 9), sql_column_bytes(st, 9), box);
    p->lon = box[0];
    p->lat = box[2];
    p->created_at = sql_column_int64(st, 11);
    p->updated_at = sql_column_int64(st, 12);
    p->expires_at = sql_column_int64(st, 13);
    p->claimed_by = sql_column_int64(st, 14);
    p->views = sql_column_int64(st, 15);
    p->hidden = sql_column_int(st, 16);
    p->reports = sql_column_int64(st, 17);
    p->group_id = sql_column_int64(st, 18);
    p->comments = sql_column_int64(st, 19);
}

/* Reads post id; with has_now, an open post past its expiry reads
 * "expired", else the status is the stored one (?99 stays NULL, and the CASE
 * of POST_COLUMNS never holds). */
static int get_post(geodata_store *store, int64_t id, int has_now, int64_t now, geodata_post *out)
{
    sql_stmt *st = geodata_cached(store, POST_BY_ID);
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    if (has_now)
        sql_bind_int64(st, 99, now);
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        read_post(st, out);
    geodata_release(store, st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    return rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such post")
                             : geodata_fail_sql(store, "reading a post");
}

int geodata_post_get(geodata_store *store, int64_t id, int64_t now, geodata_post *out)
{
    return get_post(store, id, 1, now, out);
}

int geodata_post_load(geodata_store *store, int64_t id, geodata_post *out)
{
    return get_post(store, id, 0, 0, out);
}

int geodata_posts_live(geodata_store *store, int64_t expires_after,
                       int (*each)(void *arg, const geodata_post *p), void *arg)
{
    sql_stmt *st = geodata_prepare_stream(store,
        "SELECT " POST_COLUMNS " FROM posts p JOIN members m ON m.id = p.author_id "
        "WHERE p.status = 'claimed' OR (p.status = 'open' AND p.expires_at > ?1) ORDER BY p.id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, expires_after);
    geodata_post *p = malloc(sizeof *p);
    int rc = p ? GEODATA_OK : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int step = SQL_DONE;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        read_post(st, p);
        rc = each(arg, p);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading posts");
    free(p);
    sql_finalize(st);
    return rc;
}

int geodata_post_counters(geodata_store *store, int64_t id, int64_t *views, int64_t *reports)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT views, (SELECT count(*) FROM post_reports r WHERE r.post_id = ?1) FROM posts "
        "WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int step = sql_step(st);
    if (step == SQL_ROW) {
        *views = sql_column_int64(st, 0);
        *reports = sql_column_int64(st, 1);
    }
    geodata_release(store, st);
    if (step == SQL_ROW)
        return GEODATA_OK;
    return step == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such post")
                               : geodata_fail_sql(store, "reading a post's counters");
}

static int exec_changes(geodata_store *store, sql_stmt *st, const char *what, int *changed)
{
    int rc = geodata_write(store, st, what, changed);
    sql_finalize(st);
    return rc;
}

/* The view and the count, in one transaction: both or neither. */
static int count_view(geodata_store *store, int64_t id, int64_t member_id)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO post_views(post_id, member_id) SELECT id, ?2 FROM posts "
        "WHERE id = ?1 AND author_id <> ?2 ON CONFLICT DO NOTHING");
    if (!st)
        return geodata_end(store, GEODATA_EDB);
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, member_id);
    int changed;
    rc = exec_changes(store, st, "counting a view", &changed);
    if (rc || !changed)
        return geodata_end(store, rc);
    st = geodata_prepare(store, "UPDATE posts SET views = views + 1 WHERE id = ?");
    if (!st)
        return geodata_end(store, GEODATA_EDB);
    sql_bind_int64(st, 1, id);
    return geodata_end(store, exec_changes(store, st, "counting a view", &changed));
}

int geodata_post_view(geodata_store *store, int64_t id, int64_t member_id)
{
    int rc = count_view(store, id, member_id);
    /* A view is a statistic: on a full disk it goes uncounted, and the
     * member still reads the post. */
    return rc == GEODATA_EFULL ? GEODATA_OK : rc;
}

int geodata_post_claim(geodata_store *store, int64_t id, int64_t claimer, int64_t now,
                       char *address, size_t n)
{
    geodata_post p;
    int rc = geodata_begin(store);
    if (!rc) rc = geodata_post_get(store, id, now, &p);
    if (!rc && p.author_id == claimer)
        rc = geodata_fail(store, GEODATA_EDENIED, "one cannot claim one's own post");
    else if (!rc && (p.hidden || !(strcmp(p.status, "open") == 0
                                   || (strcmp(p.status, "claimed") == 0 && p.claimed_by == claimer))))
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this post is %s and cannot be claimed",
                          p.hidden ? "hidden" : p.status);
    if (!rc && strcmp(p.status, "open") == 0) {
        sql_stmt *st = geodata_prepare(store,
            "UPDATE posts SET status = 'claimed', claimed_by = ?2, claimed_at = ?3, updated_at = ?3 "
            "WHERE id = ?1 AND status = 'open' AND expires_at > ?3");
        int changed = 0;
        if (!st)
            rc = GEODATA_EDB;
        else {
            sql_bind_int64(st, 1, id);
            sql_bind_int64(st, 2, claimer);
            sql_bind_int64(st, 3, now);
            rc = exec_changes(store, st, "claiming", &changed);
        }
        if (!rc && !changed)
            rc = geodata_fail(store, GEODATA_ECONFLICT, "this post was claimed by someone else");
    }
    if (!rc) {
        sql_stmt *st = geodata_prepare(store,
            "SELECT coalesce(address_text, '') FROM members WHERE id = ?");
        if (!st)
            rc = GEODATA_EDB;
        else {
            sql_bind_int64(st, 1, p.author_id);
            if (sql_step(st) == SQL_ROW)
                geodata_column_text(st, 0, address, n);
            else
                rc = geodata_fail_sql(store, "reading the author's address");
            sql_finalize(st);
        }
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}

int geodata_post_release(geodata_store *store, int64_t id, int64_t claimer, int64_t now)
{
    geodata_post p;
    int rc = geodata_begin(store);
    if (!rc) rc = geodata_post_get(store, id, now, &p);
    if (!rc && strcmp(p.status, "claimed") != 0)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this post is %s, not claimed", p.status);
    else if (!rc && p.claimed_by != claimer)
        rc = geodata_fail(store, GEODATA_EDENIED, "only the volunteer who claimed a post can hand "
                          "it back");
    if (!rc) {
        sql_stmt *st = geodata_prepare(store,
            "UPDATE posts SET status = 'open', claimed_by = NULL, claimed_at = NULL, updated_at = ?3 "
            "WHERE id = ?1 AND status = 'claimed' AND claimed_by = ?2");
        int changed = 0;
        if (!st)
            rc = GEODATA_EDB;
        else {
            sql_bind_int64(st, 1, id);
            sql_bind_int64(st, 2, claimer);
            sql_bind_int64(st, 3, now);
            rc = exec_changes(store, st, "handing a post back", &changed);
        }
        if (!rc && !changed)
            rc = geodata_fail(store, GEODATA_ECONFLICT, "this post changed meanwhile");
    }
    if (!rc) {
        char target[32];
        snprintf(target, sizeof target, "post %lld", (long long)id);
        rc = geodata_audit(store, claimer, "release post", target, NULL);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}

int geodata_post_finish(geodata_store *store, int64_t id, int64_t member, geodata_post_action a,
                        int64_t now)
{
    geodata_post p;
    int rc = geodata_post_get(store, id, now, &p);
    if (rc)
        return rc;
    int author = p.author_id == member, claimer = p.claimed_by == member && member > 0;
    int open = strcmp(p.status, "open") == 0 || strcmp(p.status, "expired") == 0;
    int claimed = strcmp(p.status, "claimed") == 0;
    if (a == GEODATA_POST_DONE ? !(author || claimer) : !author)
        return geodata_fail(store, GEODATA_EDENIED, a == GEODATA_POST_DONE
                            ? "only the author or the claimer can mark a post done"
                            : "only the author can cancel a post");
    if (!(claimed || (open && author)))
        return geodata_fail(store, GEODATA_ECONFLICT, "this post is %s", p.status);
    sql_stmt *st = geodata_prepare(store,
        "UPDATE posts SET status = ?2, updated_at = ?3, "
        "done_at = CASE WHEN ?2 = 'done' THEN ?3 END WHERE id = ?1 AND status = ?4");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, a == GEODATA_POST_DONE ? "done" : "cancelled", -1, SQL_STATIC);
    sql_bind_int64(st, 3, now);
    sql_bind_text(st, 4, claimed ? "claimed" : "open", -1, SQL_STATIC);
    int changed;
    rc = exec_changes(store, st, "changing a post", &changed);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this post changed meanwhile");
    return rc;
}

int geodata_post_edit(geodata_store *store, int64_t id, int64_t author, const char *title,
                      const char *body, int64_t now)
{
    geodata_post p;
    int rc = geodata_post_get(store, id, now, &p);
    if (rc)
        return rc;
    if (p.author_id != author)
        return geodata_fail(store, GEODATA_EDENIED, "only the author can edit a post");
    if (strcmp(p.status, "open") != 0)
        return geodata_fail(store, GEODATA_ECONFLICT, "only an open post can be edited (this one is %s)",
                            p.status);
    sql_stmt *st = geodata_prepare(store,
        "UPDATE posts SET title = coalesce(?2, title), body = coalesce(?3, body), updated_at = ?4 "
        "WHERE id = ?1 AND status = 'open'");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, title, -1, SQL_STATIC);
    sql_bind_text(st, 3, body, -1, SQL_STATIC);
    sql_bind_int64(st, 4, now);
    int changed;
    rc = exec_changes(store, st, "editing a post", &changed);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this post changed meanwhile");
    return rc;
}

int geodata_post_set_hidden(geodata_store *store, int64_t id, int64_t staff, int hidden)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store, "UPDATE posts SET hidden = ?2 WHERE id = ?1");
    int changed = 0;
    if (!st)
        rc = GEODATA_EDB;
    else {
        sql_bind_int64(st, 1, id);
        sql_bind_int(st, 2, hidden ? 1 : 0);
        rc = exec_changes(store, st, "moderating a post", &changed);
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such post");
    char target[32];
    snprintf(target, sizeof target, "post %lld", (long long)id);
    if (!rc) rc = geodata_audit(store, staff, hidden ? "hide post" : "restore post", target, NULL);
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}

typedef struct ranked { int64_t id; double d; } ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The filter shared by both phases; ?1.. are bound by bind_filter. The
 * engines differ in the keywords' match (?5) and in ?7, an integer, which
 * PostgreSQL does not take as a truth value: FILTER is SQLite's (FTS5's
 * MATCH), FILTER_PG PostgreSQL's without keywords (?5 NULL), FILTER_PG_WORDS
 * with them (the tsvector of schema_pg.c). PostgreSQL's keep the keywords'
 * test out of an OR, so that the planner can join the words' GIN index
 * rather than test every post of the scan against the matching ids. */
#define FILTER_OF(words, with_hidden) \
    " WHERE " GEODATA_AUDIENCE_SQL("p.neighbourhood_id", "?1") \
    " AND (CAST(?2 AS TEXT) IS NULL OR p.category = ?2) AND (CAST(?3 AS TEXT) IS NULL OR p.kind = ?3)" \
    " AND (?4 = 'any' OR (?4 = 'expired' AND p.status = 'open' AND p.expires_at <= ?99)" \
    "      OR (?4 = 'open' AND p.status = 'open' AND p.expires_at > ?99)" \
    "      OR (?4 NOT IN ('open', 'expired') AND p.status = ?4))" \
    words \
    " AND (?6 = 0 OR p.author_id = ?6) AND (" with_hidden " OR p.hidden = 0)" \
    " AND (?8 = 0 OR EXISTS (SELECT 1 FROM post_reports r WHERE r.post_id = p.id))" \
    " AND (?9 = 0 OR p.group_id = ?9)"
#define FILTER FILTER_OF( \
    " AND (CAST(?5 AS TEXT) IS NULL OR p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?5))", \
    "?7")
#define FILTER_PG FILTER_OF(" AND CAST(?5 AS TEXT) IS NULL", "?7 <> 0")
#define FILTER_PG_WORDS FILTER_OF( \
    " AND p.id IN (SELECT rowid FROM posts_fts WHERE fts @@ to_tsquery('simple', unaccent(?5)))", \
    "?7 <> 0")

static void bind_filter(sql_stmt *st, const geodata_post_query *q, const char *fts)
{
    geodata_audience_bind(st, 1, q->audience);
    sql_bind_text(st, 2, q->category, -1, SQL_STATIC);
    sql_bind_text(st, 3, q->kind, -1, SQL_STATIC);
    sql_bind_text(st, 4, q->status ? q->status : "open", -1, SQL_STATIC);
    sql_bind_text(st, 5, fts, -1, SQL_STATIC);
    sql_bind_int64(st, 6, q->author_id > 0 ? q->author_id : 0);
    sql_bind_int(st, 7, q->with_hidden ? 1 : 0);
    sql_bind_int(st, 8, q->reported ? 1 : 0);
    sql_bind_int64(st, 9, q->group_id > 0 ? q->group_id : 0);
    sql_bind_int64(st, 99, q->now);
}

/* The degrees of a box holding the circle of r metres around (lon, lat). */
static void circle_box(double lon, double lat, double r, double box[4])
{
    double dlat = r / 110574.0 * 1.02 + 1e-6;
    double dlon = r / (111320.0 * fmax(cos((fabs(lat) + dlat) * M_PI / 180), 0.01)) * 1.02 + 1e-6;
    box[0] = lon - dlon; box[1] = lat - dlat; box[2] = lon + dlon; box[3] = lat + dlat;
}

/* Near queries, phase one: the ids and distances of the matching posts
 * within r metres, in *r (grown as needed; *nr of them). The box ?10..?13
 * (west, south, east, north) through SpatiaLite's R*Tree, or PostGIS's GiST
 * index. */
static const char POSTS_IN_BOX[] =
    "SELECT p.id, p.geom FROM idx_posts_geom i JOIN posts p ON p.id = i.pkid"
    FILTER " AND i.xmin <= ?12 AND i.xmax >= ?10 AND i.ymin <= ?13 AND i.ymax >= ?11";
#define IN_BOX_PG " AND p.geom && ST_MakeEnvelope(?10, ?11, ?12, ?13, 4326)"
static const char POSTS_IN_BOX_PG[] = "SELECT p.id, p.geom FROM posts p" FILTER_PG IN_BOX_PG;
static const char POSTS_IN_BOX_PG_WORDS[] =
    "SELECT p.id, p.geom FROM posts p" FILTER_PG_WORDS IN_BOX_PG;

int geodata_posts_too_many(geodata_store *store)
{
    return geodata_fail(store, GEODATA_EINVAL, "more than %d posts match: narrow the query",
                        GEODATA_RANKED_MAX);
}

int geodata_posts_near_centre(geodata_store *store, const geodata_post_query *q,
                              struct geodata_metric **metric, double *cx, double *cy)
{
    *metric = geodata_store_metric(store);
    if (!*metric)
        return GEODATA_EGEOM;
    *cx = q->lon;
    *cy = q->lat;
    if (geodata_metric_forward(*metric, cx, cy))
        return geodata_fail(store, GEODATA_EINVAL, "the point cannot be projected");
    return GEODATA_OK;
}

static int collect_within(geodata_store *store, const geodata_post_query *q, const char *fts,
                          geodata_metric *metric, double cx, double cy, double radius,
                          ranked **r, size_t *nr, size_t *cap)
{
    double box[4];
    circle_box(q->lon, q->lat, radius, box);
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store, POSTS_IN_BOX,
                                                         fts ? POSTS_IN_BOX_PG_WORDS : POSTS_IN_BOX_PG));
    if (!st)
        return GEODATA_EDB;
    bind_filter(st, q, fts);
    for (int i = 0; i < 4; i++)
        sql_bind_double(st, 10 + i, box[i]);
    *nr = 0;
    int rc = GEODATA_OK, step;
    while ((step = sql_step(st)) == SQL_ROW) {
        double pt[4];
        if (geodata_blob_box(sql_column_blob(st, 1), sql_column_bytes(st, 1), pt))
            continue;
        double x = pt[0], y = pt[2];
        if (geodata_metric_forward(metric, &x, &y))
            continue;
        double d = hypot(x - cx, y - cy);
        if (d > radius || !geodata_posts_after_cursor(q, sql_column_int64(st, 0), d))
            continue;
        if (*nr == GEODATA_RANKED_MAX) {
            rc = geodata_posts_too_many(store);
            break;
        }
        if (*nr == *cap) {
            size_t ncap = *cap ? *cap * 2 : 256;
            ranked *m = realloc(*r, ncap * sizeof *m);
            if (!m) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            *r = m;
            *cap = ncap;
        }
        (*r)[*nr].id = sql_column_int64(st, 0);
        (*r)[(*nr)++].d = d;
    }
    if (!rc && step != SQL_DONE && step != SQL_ROW)
        rc = geodata_fail_sql(store, "querying posts");
    geodata_release(store, st);
    return rc;
}

/* Near queries: the nearest first, found in growing circles (250 m, then
 * doubling up to the radius) until one holds the requested page and one post
 * more; so the work follows the page asked for, not the number of posts in the
 * whole radius. Then the page's full rows. */
static int query_near(geodata_store *store, const geodata_post_query *q, const char *fts,
                      int (*each)(void *arg, const geodata_post *p, double distance_m), void *arg,
                      int *more)
{
    geodata_metric *metric;
    double cx, cy;
    int rc = geodata_posts_near_centre(store, q, &metric, &cx, &cy);
    if (rc)
        return rc;
    size_t want = q->offset + q->limit + 1;
    ranked *r = NULL;
    size_t nr = 0, cap = 0;
    for (double radius = geodata_posts_first_circle(q);; radius = fmin(radius * 2, q->radius_m)) {
        rc = collect_within(store, q, fts, metric, cx, cy, radius, &r, &nr, &cap);
        if (rc || nr >= want || radius >= q->radius_m)
            break;
    }
    if (!rc && nr > 1)
        qsort(r, nr, sizeof *r, cmp_ranked);
    *more = !rc && nr > q->offset + q->limit;
    sql_stmt *st = rc ? NULL : geodata_cached(store, POST_BY_ID);
    if (!rc && !st)
        rc = GEODATA_EDB;
    geodata_post *p = rc ? NULL : malloc(sizeof *p);
    if (!rc && !p)
        rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    for (size_t i = q->offset; !rc && i < nr && i < q->offset + q->limit; i++) {
        sql_bind_int64(st, 1, r[i].id);
        sql_bind_int64(st, 99, q->now);
        int row = geodata_step(store, st);
        if (row > 0) {
            read_post(st, p);
            rc = each(arg, p, r[i].d);
        } else if (row < 0) {
            rc = row;
        } /* else gone since it was ranked: left out */
        sql_reset(st);
    }
    free(p);
    geodata_release(store, st);
    free(r);
    return rc;
}

static const char POSTS_NEWEST_IN_BOX[] =
    "SELECT " POST_COLUMNS " FROM idx_posts_geom i JOIN posts p ON p.id = i.pkid "
    "JOIN members m ON m.id = p.author_id" FILTER
    " AND i.xmin <= ?12 AND i.xmax >= ?10 AND i.ymin <= ?13 AND i.ymax >= ?11"
    " AND ST_X(p.geom) BETWEEN ?10 AND ?12 AND ST_Y(p.geom) BETWEEN ?11 AND ?13"
    " AND p.id < ?16 ORDER BY p.id DESC LIMIT ?14 OFFSET ?15";
static const char POSTS_NEWEST[] =
    "SELECT " POST_COLUMNS " FROM posts p JOIN members m ON m.id = p.author_id" FILTER
    " AND p.id < ?16 ORDER BY p.id DESC LIMIT ?14 OFFSET ?15";
#define NEWEST_FROM_PG "SELECT " POST_COLUMNS " FROM posts p JOIN members m ON m.id = p.author_id"
#define NEWEST_IN_BOX_PG IN_BOX_PG \
    " AND ST_X(p.geom) BETWEEN ?10 AND ?12 AND ST_Y(p.geom) BETWEEN ?11 AND ?13" \
    " AND p.id < ?16 ORDER BY p.id DESC LIMIT ?14 OFFSET ?15"
#define NEWEST_PG " AND p.id < ?16 ORDER BY p.id DESC LIMIT ?14 OFFSET ?15"
static const char POSTS_NEWEST_IN_BOX_PG[] = NEWEST_FROM_PG FILTER_PG NEWEST_IN_BOX_PG;
static const char POSTS_NEWEST_IN_BOX_PG_WORDS[] = NEWEST_FROM_PG FILTER_PG_WORDS NEWEST_IN_BOX_PG;
static const char POSTS_NEWEST_PG[] = NEWEST_FROM_PG FILTER_PG NEWEST_PG;
static const char POSTS_NEWEST_PG_WORDS[] = NEWEST_FROM_PG FILTER_PG_WORDS NEWEST_PG;

int geodata_posts_query(geodata_store *store, const geodata_post_query *q,
                        int (*each)(void *arg, const geodata_post *p, double distance_m),
                        void *arg, int *more)
{
    *more = 0;
    char fts[1024];
    geodata_fts_keywords(store, q->keywords ? q->keywords : "", fts, sizeof fts);
    if (q->keywords && !*fts)
        return geodata_fail(store, GEODATA_EINVAL, "the keywords hold no word");
    if (q->near)
        return query_near(store, q, *fts ? fts : NULL, each, arg, more);
    /* Newest first, paged by SQL; one row more tells whether a page follows. */
    const char *pg_sql = q->bbox ? (*fts ? POSTS_NEWEST_IN_BOX_PG_WORDS : POSTS_NEWEST_IN_BOX_PG)
                                 : (*fts ? POSTS_NEWEST_PG_WORDS : POSTS_NEWEST_PG);
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        q->bbox ? POSTS_NEWEST_IN_BOX : POSTS_NEWEST, pg_sql));
    if (!st)
        return GEODATA_EDB;
    bind_filter(st, q, *fts ? fts : NULL);
    if (q->bbox) {
        sql_bind_double(st, 10, q->west);
        sql_bind_double(st, 11, q->south);
        sql_bind_double(st, 12, q->east);
        sql_bind_double(st, 13, q->north);
    }
    sql_bind_int64(st, 14, (long long)q->limit + 1);
    sql_bind_int64(st, 15, (long long)q->offset);
    sql_bind_int64(st, 16, q->cursor > 0 ? q->cursor : INT64_MAX);
    geodata_post *p = malloc(sizeof *p);
    int rc = p ? GEODATA_OK : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    size_t n = 0;
    int step = SQL_DONE;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        if (n++ == q->limit) {
            *more = 1;
            break;
        }
        read_post(st, p);
        rc = each(arg, p, 0);
    }
    if (!rc && step != SQL_DONE && step != SQL_ROW)
        rc = geodata_fail_sql(store, "querying posts");
    free(p);
    geodata_release(store, st);
    return rc;
}

int geodata_posts_cursor(geodata_store *store, geodata_post_query *q, int64_t id)
{
    q->cursor = id;
    q->cursor_m = 0;
    sql_stmt *st = geodata_cached(store, "SELECT geom FROM posts WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int row = geodata_step(store, st);
    int rc = row < 0 ? row : row == 0 ? geodata_fail(store, GEODATA_ENOTFOUND, "no such post") : 0;
    if (!rc && q->near) {
        /* As collect_within measures it: the BLOB's point, projected, hypot. */
        geodata_metric *metric;
        double cx = 0, cy = 0, pt[4] = { 0 };
        rc = geodata_posts_near_centre(store, q, &metric, &cx, &cy);
        if (!rc && geodata_blob_box(sql_column_blob(st, 0), sql_column_bytes(st, 0), pt))
            rc = geodata_fail(store, GEODATA_EGEOM, "post %lld has no readable point", (long long)id);
        double x = pt[0], y = pt[2];
        if (!rc && geodata_metric_forward(metric, &x, &y))
            rc = geodata_fail(store, GEODATA_EGEOM, "post %lld cannot be projected", (long long)id);
        if (!rc)
            q->cursor_m = hypot(x - cx, y - cy);
    }
    geodata_release(store, st);
    return rc;
}

int geodata_post_counts(geodata_store *store, int64_t now,
                        int (*each)(void *arg, const char *nb, const char *category, int64_t n),
                        void *arg)
{
    sql_stmt *st = geodata_prepare(store,
        "SELECT neighbourhood_id, category, count(*) FROM posts WHERE status = 'open' "
        "AND expires_at > ? AND hidden = 0 AND neighbourhood_id IS NOT NULL "
        "GROUP BY neighbourhood_id, category ORDER BY 1, 2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, now);
    int rc = GEODATA_OK, row = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        const char *nb = (const char *)sql_column_text(st, 0);
        const char *category = (const char *)sql_column_text(st, 1);
        rc = each(arg, nb ? nb : "", category ? category : "", sql_column_int64(st, 2));
    }
    if (!rc && row < 0)
        rc = row;
    sql_finalize(st);
    return rc;
}
