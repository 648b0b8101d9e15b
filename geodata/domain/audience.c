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
