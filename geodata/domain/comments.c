/*
 * geodata/domain/comments.c — public comments under posts (see comments.h):
 * adding, editing, deleting, reporting, hiding, reading, searching.
 */
#include <stdio.h>
#include <string.h>

#include "geodata/comments.h"
#include "internal.h"

static int check_body(geodata_store *store, const char *body)
{
    size_t len = body ? strlen(body) : 0;
    if (len == 0 || len > GEODATA_COMMENT_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a comment has 1 to %d bytes",
                            GEODATA_COMMENT_MAX);
    return GEODATA_OK;
}

int geodata_comment_add(geodata_store *store, int64_t post_id, int64_t author, const char *body,
                        int64_t now, int64_t *id)
{
    *id = 0;
    int rc = check_body(store, body);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "INSERT INTO comments(post_id, author_id, body, created_at) "
        "SELECT id, ?2, ?3, ?4 FROM posts WHERE id = ?1 RETURNING id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, post_id);
    sql_bind_int64(st, 2, author);
    sql_bind_text(st, 3, body, -1, SQL_STATIC);
    sql_bind_int64(st, 4, now);
    rc = geodata_insert(store, st, "adding a comment", id);
    geodata_release(store, st);
    if (!rc && !*id)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such post");
    return rc;
}

#define COMMENT_COLUMNS \
    "c.id, c.post_id, coalesce(c.author_id, 0), coalesce(m.display_name, ''), c.body, " \
    "c.created_at, coalesce(c.edited_at, 0), c.hidden, " \
    "(SELECT count(*) FROM comment_reports r WHERE r.comment_id = c.id)"
#define COMMENT_FROM " FROM comments c LEFT JOIN members m ON m.id = c.author_id"

static void read_comment(sql_stmt *st, geodata_comment *c)
{
    c->id = sql_column_int64(st, 0);
    c->post_id = sql_column_int64(st, 1);
    c->author_id = sql_column_int64(st, 2);
    geodata_column_text(st, 3, c->author_name, sizeof c->author_name);
    geodata_column_text(st, 4, c->body, sizeof c->body);
    c->created_at = sql_column_int64(st, 5);
    c->edited_at = sql_column_int64(st, 6);
    c->hidden = sql_column_int(st, 7);
    c->reports = sql_column_int64(st, 8);
    c->post_title[0] = '\0';
}

int geodata_comment_get(geodata_store *store, int64_t id, geodata_comment *out)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT " COMMENT_COLUMNS COMMENT_FROM " WHERE c.id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int row = geodata_step(store, st);
    if (row > 0)
        read_comment(st, out);
    geodata_release(store, st);
    if (row < 0)
        return row;
    return row ? GEODATA_OK : geodata_fail(store, GEODATA_ENOTFOUND, "no such comment");
}

/* Runs st (bound by the caller, ?1 the comment, ?2 the author) and tells
 * a missing comment from someone else's. */
static int author_write(geodata_store *store, sql_stmt *st, int64_t id, const char *what)
{
    int changed;
    int rc = geodata_write(store, st, what, &changed);
    sql_finalize(st);
    if (rc || changed)
        return rc;
    geodata_comment c;
    rc = geodata_comment_get(store, id, &c);
    return rc ? rc : geodata_fail(store, GEODATA_EDENIED, "only its author changes a comment");
}

int geodata_comment_edit(geodata_store *store, int64_t id, int64_t author, const char *body,
                         int64_t now)
{
    int rc = check_body(store, body);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "UPDATE comments SET body = ?3, edited_at = ?4 WHERE id = ?1 AND author_id = ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, author);
    sql_bind_text(st, 3, body, -1, SQL_STATIC);
    sql_bind_int64(st, 4, now);
    return author_write(store, st, id, "editing a comment");
}

int geodata_comment_delete(geodata_store *store, int64_t id, int64_t author)
{
    sql_stmt *st = geodata_prepare(store, "DELETE FROM comments WHERE id = ?1 AND author_id = ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, author);
    return author_write(store, st, id, "deleting a comment");
}

int geodata_comment_report(geodata_store *store, int64_t id, int64_t reporter, const char *reason)
{
    size_t len = reason ? strlen(reason) : 0;
    if (len > GEODATA_COMMENT_REASON_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a reason has at most %d bytes",
                            GEODATA_COMMENT_REASON_MAX);
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO comment_reports(comment_id, reporter_id, reason) "
        "SELECT id, ?2, ?3 FROM comments WHERE id = ?1 "
        "ON CONFLICT(comment_id, reporter_id) DO UPDATE SET reason = excluded.reason");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, reporter);
    sql_bind_text(st, 3, reason ? reason : "", (int)len, SQL_STATIC);
    int changed;
    int rc = geodata_write(store, st, "reporting a comment", &changed);
    sql_finalize(st);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such comment");
    return rc;
}

int geodata_comment_set_hidden(geodata_store *store, int64_t id, int64_t staff, int hidden)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store, "UPDATE comments SET hidden = ?2 WHERE id = ?1");
    int changed = 0;
    if (!st) {
        rc = GEODATA_EDB;
    } else {
        sql_bind_int64(st, 1, id);
        sql_bind_int(st, 2, hidden ? 1 : 0);
        rc = geodata_write(store, st, "moderating a comment", &changed);
        sql_finalize(st);
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such comment");
    char target[32];
    snprintf(target, sizeof target, "comment %lld", (long long)id);
    if (!rc)
        rc = geodata_audit(store, staff, hidden ? "hide comment" : "restore comment", target, NULL);
    return geodata_end(store, rc);
}

/* Visits the rows of st (COMMENT_COLUMNS, then the post's title when
 * titled), at most limit, *more set when one row more came. */
static int visit(geodata_store *store, sql_stmt *st, size_t limit, int titled,
                 int (*each)(void *arg, const geodata_comment *c), void *arg, int *more)
{
    geodata_comment c;
    size_t n = 0;
    int rc = GEODATA_OK, row;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        read_comment(st, &c);
        if (titled)
            geodata_column_text(st, 9, c.post_title, sizeof c.post_title);
        rc = each(arg, &c);
    }
    if (!rc && row < 0)
        rc = row;
    return rc;
}

int geodata_comments_of_post(geodata_store *store, int64_t post_id, int64_t after,
                             int64_t viewer, int staff,
                             int (*each)(void *arg, const geodata_comment *c), void *arg,
                             int *more)
{
    *more = 0;
    /* ?3, an integer, is no truth value on PostgreSQL. */
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT " COMMENT_COLUMNS COMMENT_FROM " WHERE c.post_id = ?1 AND c.id > ?2 "
        "AND (c.hidden = 0 OR ?3 OR c.author_id = ?4) ORDER BY c.id LIMIT ?5",
        "SELECT " COMMENT_COLUMNS COMMENT_FROM " WHERE c.post_id = ?1 AND c.id > ?2 "
        "AND (c.hidden = 0 OR ?3 <> 0 OR c.author_id = ?4) ORDER BY c.id LIMIT ?5"));
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, post_id);
    sql_bind_int64(st, 2, after);
    sql_bind_int(st, 3, staff ? 1 : 0);
    sql_bind_int64(st, 4, viewer);
    sql_bind_int(st, 5, GEODATA_COMMENTS_PAGE + 1);
    int rc = visit(store, st, GEODATA_COMMENTS_PAGE, 0, each, arg, more);
    geodata_release(store, st);
    return rc;
}

/* comments_search's statement on PostgreSQL, with words the keywords' test. */
#define COMMENTS_SEARCH_PG(words) \
    "SELECT " COMMENT_COLUMNS ", p.title" COMMENT_FROM " JOIN posts p ON p.id = c.post_id" \
    " WHERE " GEODATA_AUDIENCE_SQL("p.neighbourhood_id", "?1") words \
    " AND (?3 = 0 OR EXISTS (SELECT 1 FROM comment_reports r WHERE r.comment_id = c.id))" \
    " AND (?4 <> 0 OR (c.hidden = 0 AND p.hidden = 0)) AND (?5 = 0 OR c.id < ?5)" \
    " ORDER BY c.id DESC LIMIT ?6"

int geodata_comments_search(geodata_store *store, const geodata_comment_query *q,
                            int (*each)(void *arg, const geodata_comment *c), void *arg,
                            int *more)
{
    *more = 0;
    if (q->limit < 1 || q->limit > GEODATA_COMMENTS_PAGE)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds 1 to %d comments",
                            GEODATA_COMMENTS_PAGE);
    char fts[1024];
    geodata_fts_keywords(store, q->keywords ? q->keywords : "", fts, sizeof fts);
    if (q->keywords && !*fts)
        return geodata_fail(store, GEODATA_EINVAL, "the keywords hold no word");
    /* The keywords through FTS5 or the tsvector (schema_pg.c); ?4, an
     * integer, is no truth value on PostgreSQL. PostgreSQL's statement
     * keeps the words' test out of an OR (one statement with keywords,
     * one without), so that the planner can start from their GIN index. */
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT " COMMENT_COLUMNS ", p.title" COMMENT_FROM " JOIN posts p ON p.id = c.post_id"
        " WHERE " GEODATA_AUDIENCE_SQL("p.neighbourhood_id", "?1")
        " AND (CAST(?2 AS TEXT) IS NULL OR c.id IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH ?2))"
        " AND (?3 = 0 OR EXISTS (SELECT 1 FROM comment_reports r WHERE r.comment_id = c.id))"
        " AND (?4 OR (c.hidden = 0 AND p.hidden = 0)) AND (?5 = 0 OR c.id < ?5)"
        " ORDER BY c.id DESC LIMIT ?6",
        *fts ? COMMENTS_SEARCH_PG(" AND c.id IN (SELECT rowid FROM comments_fts"
                                  "  WHERE fts @@ to_tsquery('simple', unaccent(?2)))")
             : COMMENTS_SEARCH_PG(" AND CAST(?2 AS TEXT) IS NULL")));
    if (!st)
        return GEODATA_EDB;
    geodata_audience_bind(st, 1, q->audience);
    if (*fts)
        sql_bind_text(st, 2, fts, -1, SQL_STATIC);
    sql_bind_int(st, 3, q->reported ? 1 : 0);
    sql_bind_int(st, 4, q->with_hidden ? 1 : 0);
    sql_bind_int64(st, 5, q->before > 0 ? q->before : 0);
    sql_bind_int64(st, 6, (long long)q->limit + 1);
    int rc = visit(store, st, q->limit, 1, each, arg, more);
    geodata_release(store, st);
    return rc;
}
