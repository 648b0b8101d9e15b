/*
 * geodata/read/stats.c — the figures of stats.h, each one grouped query.
 *
 * Posts are selected by creation time through the posts_created index
 * (schema 10), so the work of a window grows with the posts created in it,
 * not with the store. Medians need the values themselves: the claimed posts
 * of the window are read ordered by neighbourhood into two arrays, each
 * neighbourhood's values being a run of them sorted in place for its
 * median, the whole arrays sorted last for the overall one.
 */
#include <stdlib.h>
#include <string.h>

#include "geodata/shops.h"
#include "geodata/stats.h"
#include "internal.h"

/* The latest day a window may end on (9999-12-31), so that no sum overflows. */
#define MAX_UNTIL 253402300800LL

int geodata_stats_window_check(geodata_store *store, const geodata_stats_window *w)
{
    if (w->since < 0 || w->until > MAX_UNTIL || w->since % GEODATA_STATS_DAY_S
        || w->until % GEODATA_STATS_DAY_S)
        return geodata_fail(store, GEODATA_EINVAL, "a window starts and ends at 00:00 UTC, "
                            "between 1970 and 9999");
    if (w->until <= w->since)
        return geodata_fail(store, GEODATA_EINVAL, "since must not be after until");
    if ((w->until - w->since) / GEODATA_STATS_DAY_S > GEODATA_STATS_MAX_DAYS)
        return geodata_fail(store, GEODATA_EINVAL, "a window is at most %d days long",
                            GEODATA_STATS_MAX_DAYS);
    return GEODATA_OK;
}

int geodata_stats_needs(geodata_store *store, const geodata_stats_window *w,
                        int (*each)(void *arg, const geodata_stats_cell *c), void *arg)
{
    int rc = geodata_stats_window_check(store, w);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "SELECT created_at / 86400 * 86400, coalesce(neighbourhood_id, ''), category, "
        "CASE WHEN status = 'open' AND expires_at <= ?3 THEN 'expired' ELSE status END, "
        "count(*) FILTER (WHERE kind = 'request'), count(*) FILTER (WHERE kind = 'offer') "
        "FROM posts WHERE created_at >= ?1 AND created_at < ?2 AND hidden = 0 "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, w->since);
    sql_bind_int64(st, 2, w->until);
    sql_bind_int64(st, 3, w->now);
    int step = SQL_DONE;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        geodata_stats_cell c = {
            .day = sql_column_int64(st, 0),
            .neighbourhood = (const char *)sql_column_text(st, 1),
            .category = (const char *)sql_column_text(st, 2),
            .status = (const char *)sql_column_text(st, 3),
            .requests = sql_column_int64(st, 4),
            .offers = sql_column_int64(st, 5),
        };
        if (!c.neighbourhood || !c.category || !c.status)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        else
            rc = each(arg, &c);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "counting posts");
    geodata_release(store, st);
    return rc;
}

/* A growing array of durations (seconds). */
typedef struct durations {
    int64_t *v;
    size_t n, cap;
} durations;

static int push(geodata_store *store, durations *d, int64_t x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        int64_t *v = cap > SIZE_MAX / sizeof *v ? NULL : realloc(d->v, cap * sizeof *v);
        if (!v)
            return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return GEODATA_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n), sorting it in place. */
static geodata_stats_median median(int64_t *v, size_t n)
{
    geodata_stats_median m = { .n = (int64_t)n, .seconds = 0 };
    if (!n)
        return m;
    qsort(v, n, sizeof *v, cmp_i64);
    m.seconds = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
    return m;
}

int geodata_stats_times_of(geodata_store *store, const geodata_stats_window *w,
                           geodata_stats_times *all,
                           int (*each)(void *arg, const char *nb, const geodata_stats_times *t),
                           void *arg)
{
    memset(all, 0, sizeof *all);
    int rc = geodata_stats_window_check(store, w);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "SELECT coalesce(neighbourhood_id, ''), claimed_at - created_at, "
        "CASE WHEN status = 'done' AND done_at IS NOT NULL THEN done_at - claimed_at END "
        "FROM posts WHERE created_at >= ?1 AND created_at < ?2 AND hidden = 0 "
        "AND claimed_at IS NOT NULL ORDER BY 1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, w->since);
    sql_bind_int64(st, 2, w->until);
    durations claim = { 0 }, done = { 0 };
    size_t claim0 = 0, done0 = 0;       /* where the current neighbourhood's run starts */
    char nb[GEODATA_ID_MAX + 1] = "";
    int step = SQL_DONE, any = 0;
    for (;;) {
        step = rc ? SQL_DONE : sql_step(st);
        const char *id = step == SQL_ROW ? (const char *)sql_column_text(st, 0) : NULL;
        if (step == SQL_ROW && !id) {
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
            break;
        }
        /* The end of a neighbourhood's run: its medians. */
        if (any && (!id || strcmp(id, nb) != 0)) {
            geodata_stats_times t = { .to_claim = median(claim.v + claim0, claim.n - claim0),
                                      .to_done = median(done.v + done0, done.n - done0) };
            if (each && nb[0])
                rc = each(arg, nb, &t);
            claim0 = claim.n;
            done0 = done.n;
            any = 0;
        }
        if (rc || step != SQL_ROW)
            break;
        if (!any) {
            if (strlen(id) >= sizeof nb) {
                rc = geodata_fail(store, GEODATA_EINVAL, "a neighbourhood id is too long");
                break;
            }
            strcpy(nb, id);
            any = 1;
        }
        rc = push(store, &claim, sql_column_int64(st, 1));
        if (!rc && sql_column_type(st, 2) != SQL_NULL)
            rc = push(store, &done, sql_column_int64(st, 2));
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "measuring posts");
    geodata_release(store, st);
    if (!rc) {
        all->to_claim = median(claim.v, claim.n);
        all->to_done = median(done.v, done.n);
    }
    free(claim.v);
    free(done.v);
    return rc;
}

int geodata_stats_neighbourhoods(geodata_store *store, int64_t now,
                                 int (*each)(void *arg, const geodata_stats_neighbourhood *n),
                                 void *arg)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT n.id, n.name, "
        "(SELECT count(*) FROM members m WHERE m.neighbourhood_id = n.id), "
        "(SELECT count(*) FROM shops s WHERE s.neighbourhood_id = n.id), "
        "(SELECT count(*) FROM shops s WHERE s.neighbourhood_id = n.id "
        "  AND (s.confirmed_at IS NULL OR ?1 - s.confirmed_at > ?2)) "
        "FROM neighbourhoods n ORDER BY n.id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, now);
    sql_bind_int64(st, 2, GEODATA_SHOP_STALE_S);
    int rc = GEODATA_OK, step = SQL_DONE;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        geodata_stats_neighbourhood n = {
            .id = (const char *)sql_column_text(st, 0),
            .name = (const char *)sql_column_text(st, 1),
            .verified_members = sql_column_int64(st, 2),
            .shops = sql_column_int64(st, 3),
            .shops_unconfirmed = sql_column_int64(st, 4),
        };
        rc = n.id && n.name ? each(arg, &n) : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "counting per neighbourhood");
    geodata_release(store, st);
    return rc;
}

int geodata_stats_shops(geodata_store *store, int64_t now,
                        int (*each)(void *arg, const char *status, int64_t shops,
                                    int64_t unconfirmed),
                        void *arg)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT status, count(*), count(*) FILTER (WHERE confirmed_at IS NULL OR ?1 - confirmed_at > ?2) "
        "FROM shops GROUP BY status ORDER BY status");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, now);
    sql_bind_int64(st, 2, GEODATA_SHOP_STALE_S);
    int rc = GEODATA_OK, step = SQL_DONE;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        const char *status = (const char *)sql_column_text(st, 0);
        rc = status ? each(arg, status, sql_column_int64(st, 1), sql_column_int64(st, 2))
                    : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "counting shops");
    geodata_release(store, st);
    return rc;
}
