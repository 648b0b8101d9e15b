/*
 * geodata/domain/audience.c — the rule of who sees what (see audience.h), computed
 * once per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/audience.h"
#include "internal.h"

void geodata_audience_clear(geodata_audience *a)
{
    free(a->visible);
    *a = (geodata_audience){ 0 };
}

static int is_staff(const geodata_member *m)
{
    return strcmp(m->role, "staff") == 0 || strcmp(m->role, "admin") == 0;
}

/* The audience of someone (member_id, 0 for none) living in nb ("" for no
 * home), staff or not. */
static int audience_for(geodata_store *store, int64_t member_id, const char *nb, int staff,
                        geodata_audience *out)
{
    *out = (geodata_audience){ 0 };
    out->member_id = member_id;
    snprintf(out->home, sizeof out->home, "%s", nb);
    if (!nb[0]) {
        out->kind = staff ? GEODATA_AUDIENCE_STAFF : GEODATA_AUDIENCE_NOBODY;
        return GEODATA_OK;
    }
    sql_stmt *st = geodata_cached(store,
        "SELECT ?1 UNION SELECT b FROM neighbourhood_contiguity WHERE a = ?1 ORDER BY 1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, out->home, -1, SQL_STATIC);
    size_t cap = 0;
    int rc = GEODATA_OK, row;
    while ((row = geodata_step(store, st)) > 0) {
        if (out->n_visible == cap) {
            cap = cap ? cap * 2 : 16;
            void *m = realloc(out->visible, cap * sizeof *out->visible);
            if (!m) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            out->visible = m;
        }
        geodata_column_text(st, 0, out->visible[out->n_visible++], GEODATA_ID_MAX + 1);
    }
    if (!rc && row < 0)
        rc = row;
    geodata_release(store, st);
    if (rc) {
        geodata_audience_clear(out);
        return rc;
    }
    out->kind = staff ? GEODATA_AUDIENCE_STAFF : GEODATA_AUDIENCE_MEMBER;
    return GEODATA_OK;
}

/* Sorts an audience's visible ids (bsearch reads them). */
static int cmp_visible(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Appends id to a's visible list, grown as needed (*cap: its room). */
static int add_visible(geodata_store *store, geodata_audience *a, size_t *cap, const char *id)
{
    if (a->n_visible == *cap) {
        size_t more = *cap ? *cap * 2 : 16;
        void *m = realloc(a->visible, more * sizeof *a->visible);
        if (!m)
            return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        a->visible = m;
        *cap = more;
    }
    snprintf(a->visible[a->n_visible++], GEODATA_ID_MAX + 1, "%s", id ? id : "");
    return GEODATA_OK;
}

int geodata_session_resolve(geodata_store *store, const unsigned char hash[32], int64_t now,
                            geodata_session *session, geodata_member *member,
                            geodata_audience *audience)
{
    *audience = (geodata_audience){ 0 };
    sql_stmt *st = geodata_cached(store,
        "SELECT s.member_id, s.csrf, s.expires_at, m.email, m.display_name, m.role, "
        "  coalesce(m.neighbourhood_id, ''), coalesce(n.name, ''), c.b "
        "FROM sessions s JOIN members m ON m.id = s.member_id "
        "LEFT JOIN neighbourhoods n ON n.id = m.neighbourhood_id "
        "LEFT JOIN neighbourhood_contiguity c ON c.a = m.neighbourhood_id "
        "WHERE s.token_hash = ?1 AND s.expires_at > ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_blob(st, 1, hash, 32, SQL_STATIC);
    sql_bind_int64(st, 2, now);
    geodata_audience *a = audience;
    size_t cap = 0;
    int rc = GEODATA_OK, row, rows = 0;
    while ((row = geodata_step(store, st)) > 0) {
        if (rows++ == 0) {
            session->member_id = sql_column_int64(st, 0);
            geodata_column_text(st, 1, session->csrf, sizeof session->csrf);
            session->expires_at = sql_column_int64(st, 2);
            member->id = session->member_id;
            geodata_column_text(st, 3, member->email, sizeof member->email);
            geodata_column_text(st, 4, member->display_name, sizeof member->display_name);
            geodata_column_text(st, 5, member->role, sizeof member->role);
            geodata_column_text(st, 6, member->neighbourhood_id, sizeof member->neighbourhood_id);
            geodata_column_text(st, 7, member->neighbourhood_name,
                                sizeof member->neighbourhood_name);
            a->member_id = member->id;
            snprintf(a->home, sizeof a->home, "%s", member->neighbourhood_id);
        }
        /* the home (once), then the row's contiguous one, if any */
        if (a->home[0] && rows == 1)
            rc = add_visible(store, a, &cap, a->home);
        if (!rc && a->home[0] && sql_column_type(st, 8) != SQL_NULL)
            rc = add_visible(store, a, &cap, (const char *)sql_column_text(st, 8));
        if (rc)
            break;
    }
    geodata_release(store, st);
    if (!rc && row < 0)
        rc = row;
    if (!rc && !rows)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such session");
    if (rc) {
        geodata_audience_clear(a);
        return rc;
    }
    if (a->visible)
        qsort(a->visible, a->n_visible, sizeof *a->visible, cmp_visible);
    a->kind = is_staff(member) ? GEODATA_AUDIENCE_STAFF
            : a->home[0] ? GEODATA_AUDIENCE_MEMBER : GEODATA_AUDIENCE_NOBODY;
    return GEODATA_OK;
}

int geodata_audience_of(geodata_store *store, const geodata_member *member, geodata_audience *out)
{
    if (!member) {
        *out = (geodata_audience){ 0 };
        return GEODATA_OK;
    }
    return audience_for(store, member->id, member->neighbourhood_id, is_staff(member), out);
}

int geodata_audience_of_home(geodata_store *store, const char *nb, geodata_audience *out)
{
    return audience_for(store, 0, nb ? nb : "", 0, out);
}

static int cmp_id(const void *key, const void *elem)
{
    return strcmp(key, elem);
}

int geodata_audience_sees(const geodata_audience *a, const char *nb)
{
    if (a->kind == GEODATA_AUDIENCE_STAFF)
        return 1;
    if (a->kind != GEODATA_AUDIENCE_MEMBER || !nb)
        return 0;
    return bsearch(nb, a->visible, a->n_visible, sizeof *a->visible, cmp_id) != NULL;
}

int geodata_audience_lives_near(const geodata_audience *a, const char *nb)
{
    if (!a->home[0] || !a->visible || !nb)
        return 0;
    return bsearch(nb, a->visible, a->n_visible, sizeof *a->visible, cmp_id) != NULL;
}

void geodata_audience_bind(sql_stmt *st, int i, const geodata_audience *a)
{
    if (!a || a->kind == GEODATA_AUDIENCE_STAFF)
        sql_bind_null(st, i);
    else if (a->kind == GEODATA_AUDIENCE_MEMBER)
        sql_bind_text(st, i, a->home, -1, SQL_STATIC);
    else
        sql_bind_text(st, i, "", 0, SQL_STATIC); /* no neighbourhood has the id "" */
}
