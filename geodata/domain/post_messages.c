/*
 * geodata/domain/post_messages.c — the private conversation of a claimed post (see
 * posts.h): who may take part, adding a message, reading a thread.
 *
 * A thread is the messages of one claim: (post_id, claimer_id). The author
 * and the current claimer share it; a volunteer who hands the post back
 * loses it, and the next claimer starts a new one. The rule of who may read
 * lives here only, so that every caller applies the same.
 */
#include <string.h>

#include "geodata/posts.h"
#include "internal.h"

int geodata_post_thread(geodata_store *store, const geodata_post *p, int64_t member, int staff,
                        int writing, int64_t *claimer)
{
    *claimer = 0;
    int author = p->author_id == member, holder = p->claimed_by && p->claimed_by == member;
    if (!author && !holder) {
        if (staff && !writing && p->reports > 0)
            return GEODATA_OK; /* a reported post: every thread, to moderate it */
        return geodata_fail(store, GEODATA_EDENIED, staff && !writing
                            ? "staff read a conversation only once its post has been reported"
                            : "only the author and the volunteer who claimed the post take part "
                              "in its conversation");
    }
    if (!p->claimed_by)
        return geodata_fail(store, GEODATA_ECONFLICT, "nobody has claimed this post: there is no "
                            "conversation yet");
    *claimer = p->claimed_by;
    return GEODATA_OK;
}

int geodata_post_message_add(geodata_store *store, const geodata_post *p, int64_t member,
                             const char *body, int64_t now, int64_t *id)
{
    size_t len = strlen(body);
    if (len == 0 || len > GEODATA_MESSAGE_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a message has 1 to %d bytes", GEODATA_MESSAGE_MAX);
    int64_t claimer;
    int rc = geodata_post_thread(store, p, member, 0, 1, &claimer);
    if (rc)
        return rc;
    /* The claim must still be the same when the row goes in: a release or a
     * new claim between reading the post and writing is a conflict. */
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO post_messages(post_id, claimer_id, author_id, body, created_at) "
        "SELECT id, claimed_by, ?3, ?4, ?5 FROM posts WHERE id = ?1 AND claimed_by = ?2 RETURNING id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, p->id);
    sql_bind_int64(st, 2, claimer);
    sql_bind_int64(st, 3, member);
    sql_bind_text(st, 4, body, (int)len, SQL_STATIC);
    sql_bind_int64(st, 5, now);
    rc = geodata_insert(store, st, "adding a message", id);
    int changed = *id != 0;
    sql_finalize(st);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "the post was handed back or claimed again "
                          "meanwhile");
    return rc;
}

int geodata_post_messages(geodata_store *store, int64_t id, int64_t claimer, int64_t after,
                          int (*each)(void *arg, const geodata_post_message *m), void *arg,
                          int *more)
{
    *more = 0;
    sql_stmt *st = geodata_prepare(store,
        "SELECT m.id, m.author_id, coalesce(a.display_name, ''), m.body, m.created_at "
        "FROM post_messages m LEFT JOIN members a ON a.id = m.author_id "
        "WHERE m.post_id = ?1 AND (?2 = 0 OR m.claimer_id = ?2) AND m.id > ?3 "
        "ORDER BY m.id LIMIT ?4");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, claimer);
    sql_bind_int64(st, 3, after);
    sql_bind_int(st, 4, GEODATA_MESSAGES_PAGE + 1);
    geodata_post_message m;
    int rc = GEODATA_OK, n = 0, step = SQL_DONE;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        if (++n > GEODATA_MESSAGES_PAGE) {
            *more = 1;
            break;
        }
        m.id = sql_column_int64(st, 0);
        m.author_id = sql_column_int64(st, 1);
        geodata_column_text(st, 2, m.author_name, sizeof m.author_name);
        geodata_column_text(st, 3, m.body, sizeof m.body);
        m.created_at = sql_column_int64(st, 4);
        rc = each(arg, &m);
    }
    if (!rc && n <= GEODATA_MESSAGES_PAGE && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading messages");
    sql_finalize(st);
    return rc;
}
