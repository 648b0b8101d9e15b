/*
 * geodata/domain/alert_deliveries.c — matching new posts to subscriptions,
 * and the deliveries that follow (see subscriptions.h).
 *
 * Matching reads the change feed: a post's insert is a change of layer
 * "needs" with no point before and one after, and its seq is never reused,
 * so a subscription's cursor (a seq) says exactly which posts it has
 * considered. SQL selects the candidates of one subscription (open, not
 * hidden, seen from the member's home by the audience rule, not theirs, of
 * its kinds and categories, inside its polygon); the radius is tested in C,
 * through the store's metric as near queries do, because SQL has no
 * metres. Inserts do nothing on a conflict with UNIQUE(subscription_id,
 * post_id): a post is alerted once per subscription, even if a cursor were
 * ever moved back. The polygon is read back as the engine's geometry bytes
 * (a SpatiaLite BLOB, or PostGIS's EWKB) and bound again as they came.
 *
 * Statuses: pending (never tried), retrying (tried, to be tried again at
 * next_attempt_at), sent (the relay accepted it), failed (given up),
 * dropped (not sent, and why: the post was closed, the subscription
 * deleted or paused). A digest's items stay pending with digest_id set
 * until their digest is sent or given up. Every change of status is one
 * transaction, so a sender stopped at any point leaves each delivery in
 * one state: a mail accepted by the relay but not yet marked sent is sent
 * again on the next turn — the one duplicate possible, and a rare one.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "geodata/changes.h"
#include "geodata/subscriptions.h"
#include "internal.h"
#include "spatialite_blob.h"

#define MATCH_PAGE 256   /* subscriptions matched per transaction */
#define DIGEST_PAGE 512  /* digests made per call at most; the rest at the next */

/* Runs a cached statement that writes and releases it; *changed gets its rows. */
static int run(geodata_store *store, sql_stmt *st, const char *what, int *changed)
{
    int rc = geodata_write(store, st, what, changed);
    geodata_release(store, st);
    return rc;
}

/* ---- matching ---- */

/* A subscription as matching needs it, copied out of its row. */
typedef struct match_sub {
    int64_t id, member, cursor;
    char kinds[32], categories[160];
    int radius_m;                     /* 0: the polygon */
    unsigned char *area;              /* malloc'd SpatiaLite BLOB, or NULL */
    int area_len;
    int digest, quiet_start, quiet_end;
    int has_home;
    double home_lon, home_lat;
    char nb[GEODATA_ID_MAX + 1];
} match_sub;

/* Reads the next page of active subscriptions behind the seq newest, with
 * an id above after, into subs (room for MATCH_PAGE); *n of them. */
static int load_subs(geodata_store *store, int64_t newest, int64_t after, match_sub *subs, size_t *n)
{
    *n = 0;
    sql_stmt *st = geodata_cached(store,
        "SELECT s.id, s.member_id, s.cursor, s.kinds, s.categories, coalesce(s.radius_m, 0), s.area, "
        "  s.mode = 'digest', coalesce(s.quiet_start, -1), coalesce(s.quiet_end, -1), "
        "  m.home_lon IS NOT NULL AND m.neighbourhood_id IS NOT NULL, m.home_lon, m.home_lat, "
        "  m.neighbourhood_id "
        "FROM subscriptions s JOIN members m ON m.id = s.member_id "
        "WHERE s.paused_at IS NULL AND s.cursor < ?1 AND s.id > ?2 ORDER BY s.id LIMIT ?3");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, newest);
    sql_bind_int64(st, 2, after);
    sql_bind_int(st, 3, MATCH_PAGE);
    int rc = GEODATA_OK, row;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        match_sub *s = &subs[(*n)++];
        *s = (match_sub){ 0 };
        s->id = sql_column_int64(st, 0);
        s->member = sql_column_int64(st, 1);
        s->cursor = sql_column_int64(st, 2);
        geodata_column_text(st, 3, s->kinds, sizeof s->kinds);
        geodata_column_text(st, 4, s->categories, sizeof s->categories);
        s->radius_m = sql_column_int(st, 5);
        if (sql_column_type(st, 6) != SQL_NULL) {  /* a BLOB, or PostGIS's geometry */
            s->area_len = sql_column_bytes(st, 6);
            if (!(s->area = malloc((size_t)s->area_len)))
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
            else
                memcpy(s->area, sql_column_blob(st, 6), (size_t)s->area_len);
        }
        s->digest = sql_column_int(st, 7);
        s->quiet_start = sql_column_int(st, 8);
        s->quiet_end = sql_column_int(st, 9);
        s->has_home = sql_column_int(st, 10);
        s->home_lon = sql_column_double(st, 11);
        s->home_lat = sql_column_double(st, 12);
        geodata_column_text(st, 13, s->nb, sizeof s->nb);
    }
    if (!rc && row < 0)
        rc = row;
    geodata_release(store, st);
    return rc;
}

/* Inserts the deliveries of subscription s for the posts created in
 * (s->cursor, newest], and moves its cursor to newest. In the caller's
 * transaction. */
static int match_one(geodata_store *store, const match_sub *s, int64_t newest, int64_t now,
                     int digest_minute, size_t *matched)
{
    int rc = GEODATA_OK;
    geodata_metric *metric = NULL;
    double hx = s->home_lon, hy = s->home_lat;
    if (s->has_home) {
        metric = geodata_store_metric(store);
        if (!metric)
            return GEODATA_EGEOM;
        if (geodata_metric_forward(metric, &hx, &hy))
            metric = NULL; /* no distance; a radius then matches nothing */
    }
    int64_t due = s->digest ? geodata_local_next(now, digest_minute) : now;
    due = geodata_quiet_after(due, s->quiet_start, s->quiet_end);
    sql_stmt *st = !s->has_home ? NULL : geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT p.id, p.geom FROM changes c JOIN posts p ON p.id = c.ref_id "
        "WHERE c.seq > ?1 AND c.seq <= ?2 AND c.layer = 'needs' AND c.old_geom IS NULL "
        "AND c.new_geom IS NOT NULL AND p.status = 'open' AND p.expires_at > ?3 AND p.hidden = 0 "
        "AND p.author_id <> ?4 AND " GEODATA_AUDIENCE_SQL("p.neighbourhood_id", "?5")
        " AND ',' || ?6 || ',' LIKE '%,' || p.kind || ',%'"
        " AND (?7 = '' OR ',' || ?7 || ',' LIKE '%,' || p.category || ',%')"
        " AND (?8 IS NULL OR ST_Covers(?8, p.geom) = 1) ORDER BY c.seq",
        "SELECT p.id, p.geom FROM changes c JOIN posts p ON p.id = c.ref_id "
        "WHERE c.seq > ?1 AND c.seq <= ?2 AND c.layer = 'needs' AND c.old_geom IS NULL "
        "AND c.new_geom IS NOT NULL AND p.status = 'open' AND p.expires_at > ?3 AND p.hidden = 0 "
        "AND p.author_id <> ?4 AND " GEODATA_AUDIENCE_SQL("p.neighbourhood_id", "?5")
        " AND ',' || CAST(?6 AS TEXT) || ',' LIKE '%,' || p.kind || ',%'"
        " AND (CAST(?7 AS TEXT) = '' OR ',' || ?7 || ',' LIKE '%,' || p.category || ',%')"
        " AND (CAST(?8 AS bytea) IS NULL OR ST_Covers(ST_GeomFromEWKB(?8), p.geom)) "
        "ORDER BY c.seq"));
    sql_stmt *ins = !s->has_home ? NULL : geodata_cached(store,
        "INSERT INTO alert_deliveries(subscription_id, member_id, post_id, type, "
        "  next_attempt_at, distance_m, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT DO NOTHING");
    if (s->has_home && (!st || !ins))
        rc = GEODATA_EDB;
    if (!rc && st) {
        sql_bind_int64(st, 1, s->cursor);
        sql_bind_int64(st, 2, newest);
        sql_bind_int64(st, 3, now);
        sql_bind_int64(st, 4, s->member);
        sql_bind_text(st, 5, s->nb, -1, SQL_STATIC); /* never NULL: that would be staff's "all" */
        sql_bind_text(st, 6, s->kinds, -1, SQL_STATIC);
        sql_bind_text(st, 7, s->categories, -1, SQL_STATIC);
        if (s->area)
            sql_bind_blob(st, 8, s->area, s->area_len, SQL_STATIC);
        int row;
        while (!rc && (row = geodata_step(store, st)) > 0) {
            double box[4], d = -1;
            if (geodata_blob_box(sql_column_blob(st, 1), sql_column_bytes(st, 1), box))
                continue;
            double x = box[0], y = box[2];
            if (metric && !geodata_metric_forward(metric, &x, &y))
                d = hypot(x - hx, y - hy);
            if (s->radius_m && (d < 0 || d > s->radius_m))
                continue;
            sql_bind_int64(ins, 1, s->id);
            sql_bind_int64(ins, 2, s->member);
            sql_bind_int64(ins, 3, sql_column_int64(st, 0));
            sql_bind_text(ins, 4, s->digest ? "item" : "post", -1, SQL_STATIC);
            sql_bind_int64(ins, 5, due);
            if (d >= 0)
                sql_bind_double(ins, 6, d);
            else
                sql_bind_null(ins, 6);
            sql_bind_int64(ins, 7, now);
            if (sql_step(ins) != SQL_DONE)
                rc = geodata_fail_sql(store, "recording an alert");
            else
                *matched += (size_t)sql_changes(store);
            sql_reset(ins);
        }
        if (!rc && row < 0)
            rc = row;
    }
    geodata_release(store, st);
    geodata_release(store, ins);
    sql_stmt *up = rc ? NULL : geodata_cached(store,
        "UPDATE subscriptions SET cursor = ?2 WHERE id = ?1");
    if (!rc && !up)
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(up, 1, s->id);
        sql_bind_int64(up, 2, newest);
        rc = run(store, up, "moving a subscription's cursor", NULL);
    }
    return rc;
}

int geodata_alerts_match(geodata_store *store, int64_t now, int digest_minute, size_t *matched)
{
    *matched = 0;
    match_sub *subs = malloc(MATCH_PAGE * sizeof *subs);
    if (!subs)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int64_t after = 0;
    int rc = GEODATA_OK;
    for (;;) {
        size_t n = 0;
        int64_t newest = 0;
        rc = geodata_begin(store);
        if (!rc)
            rc = geodata_changes_last(store, &newest);
        if (!rc)
            rc = load_subs(store, newest, after, subs, &n);
        for (size_t i = 0; !rc && i < n; i++)
            rc = match_one(store, &subs[i], newest, now, digest_minute, matched);
        for (size_t i = 0; i < n; i++)
            free(subs[i].area);
        rc = geodata_end(store, rc);
        if (rc || n < MATCH_PAGE)
            break;
        after = subs[n - 1].id;
    }
    free(subs);
    return rc;
}

/* ---- digests ---- */

int geodata_alerts_digest(geodata_store *store, int64_t now, size_t *made)
{
    *made = 0;
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "UPDATE alert_deliveries SET status = 'dropped', last_error = 'the post is no longer open' "
        "WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ?1 AND type = 'item' "
        "AND digest_id IS NULL AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = post_id "
        "AND p.status = 'open' AND p.expires_at > ?1 AND p.hidden = 0)");
    if (!st)
        rc = GEODATA_EDB;
    else {
        sql_bind_int64(st, 1, now);
        rc = run(store, st, "dropping closed posts from digests", NULL);
    }
    int64_t (*subs)[2] = rc ? NULL : malloc(DIGEST_PAGE * sizeof *subs);
    size_t n = 0;
    if (!rc && !subs)
        rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    if (!rc && !(st = geodata_cached(store,
            "SELECT DISTINCT subscription_id, member_id FROM alert_deliveries "
            "WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ?1 AND type = 'item' "
            "AND digest_id IS NULL AND subscription_id IS NOT NULL LIMIT ?2")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, now);
        sql_bind_int(st, 2, DIGEST_PAGE);
        int row;
        while ((row = geodata_step(store, st)) > 0) {
            subs[n][0] = sql_column_int64(st, 0);
            subs[n++][1] = sql_column_int64(st, 1);
        }
        if (row < 0)
            rc = row;
        geodata_release(store, st);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        st = geodata_cached(store,
            "INSERT INTO alert_deliveries(subscription_id, member_id, type, next_attempt_at, "
            "  created_at) VALUES (?1, ?2, 'digest', ?3, ?3) RETURNING id");
        if (!st) {
            rc = GEODATA_EDB;
            break;
        }
        sql_bind_int64(st, 1, subs[i][0]);
        sql_bind_int64(st, 2, subs[i][1]);
        sql_bind_int64(st, 3, now);
        int64_t digest = 0;
        rc = geodata_insert(store, st, "making a digest", &digest);
        geodata_release(store, st);
        if (!rc && !(st = geodata_cached(store,
                "UPDATE alert_deliveries SET digest_id = ?2 WHERE subscription_id = ?1 "
                "AND status IN ('pending', 'retrying') AND next_attempt_at <= ?3 AND type = 'item' "
                "AND digest_id IS NULL")))
            rc = GEODATA_EDB;
        if (!rc) {
            sql_bind_int64(st, 1, subs[i][0]);
            sql_bind_int64(st, 2, digest);
            sql_bind_int64(st, 3, now);
            rc = run(store, st, "gathering a digest's items", NULL);
        }
        if (!rc)
            (*made)++;
    }
    free(subs);
    rc = geodata_end(store, rc);
    if (rc)
        *made = 0;
    return rc;
}

/* ---- sending ---- */

/* Sets delivery id's status to dropped with why. */
static int drop(geodata_store *store, int64_t id, const char *why)
{
    sql_stmt *st = geodata_cached(store,
        "UPDATE alert_deliveries SET status = 'dropped', last_error = ?2 WHERE id = ?1 "
        "AND status IN ('pending', 'retrying')");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, why, -1, SQL_STATIC);
    return run(store, st, "dropping an alert", NULL);
}

/* Reads the items of delivery a->id (a post's one, or a digest's) into a;
 * *live is 0 when a post's delivery has no open, visible post. */
static int read_items(geodata_store *store, int64_t now, geodata_alert *a, int *live)
{
    int digest = strcmp(a->type, "digest") == 0;
    sql_stmt *st = geodata_cached(store,
        "SELECT p.id, p.kind, p.category, p.title, coalesce(n.name, ''), coalesce(d.distance_m, -1), "
        "  p.status = 'open' AND p.expires_at > ?3 AND p.hidden = 0 "
        "FROM alert_deliveries d JOIN posts p ON p.id = d.post_id "
        "LEFT JOIN neighbourhoods n ON n.id = p.neighbourhood_id "
        "WHERE (?2 = 0 AND d.id = ?1) OR (?2 = 1 AND d.digest_id = ?1) ORDER BY d.id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, a->id);
    sql_bind_int(st, 2, digest);
    sql_bind_int64(st, 3, now);
    int row;
    *live = 0;
    while ((row = geodata_step(store, st)) > 0) {
        if (!digest && !sql_column_int(st, 6))
            break;
        *live = 1;
        if (a->n_items < GEODATA_DIGEST_ITEMS) {
            geodata_alert_item *it = &a->items[a->n_items++];
            it->post_id = sql_column_int64(st, 0);
            geodata_column_text(st, 1, it->kind, sizeof it->kind);
            geodata_column_text(st, 2, it->category, sizeof it->category);
            geodata_column_text(st, 3, it->title, sizeof it->title);
            geodata_column_text(st, 4, it->neighbourhood, sizeof it->neighbourhood);
            it->distance_m = sql_column_double(st, 5);
        }
        a->total_items++;
    }
    geodata_release(store, st);
    return row < 0 ? row : GEODATA_OK;
}

/* Takes delivery id for this sender: its next attempt moved a lease ahead,
 * if it is still due. *got is 0 when another sender (another replica on the
 * same database) took it first. A sender that dies with it leaves it to be
 * taken again once the lease is over. */
static int claim(geodata_store *store, int64_t id, int64_t now, int *got)
{
    sql_stmt *st = geodata_cached(store,
        "UPDATE alert_deliveries SET next_attempt_at = ?3 WHERE id = ?1 "
        "AND status IN ('pending', 'retrying') AND next_attempt_at <= ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int64(st, 2, now);
    sql_bind_int64(st, 3, now + GEODATA_ALERT_LEASE_S);
    return run(store, st, "taking a delivery", got);
}

int geodata_alert_next(geodata_store *store, int64_t now, int64_t after, geodata_alert *out)
{
    for (;;) {
        sql_stmt *st = geodata_cached(store,
            "SELECT d.id, d.type, coalesce(d.subscription_id, 0), d.member_id, m.email, d.attempts, "
            "  s.paused_at IS NOT NULL "
            "FROM alert_deliveries d JOIN members m ON m.id = d.member_id "
            "LEFT JOIN subscriptions s ON s.id = d.subscription_id "
            "WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at <= ?1 "
            "AND d.type IN ('post', 'digest', 'test') AND d.id > ?2 ORDER BY d.id LIMIT 1");
        if (!st)
            return GEODATA_EDB;
        sql_bind_int64(st, 1, now);
        sql_bind_int64(st, 2, after);
        int row = geodata_step(store, st);
        int paused = 0;
        if (row > 0) {
            memset(out, 0, offsetof(geodata_alert, items));
            out->id = sql_column_int64(st, 0);
            geodata_column_text(st, 1, out->type, sizeof out->type);
            out->subscription_id = sql_column_int64(st, 2);
            out->member_id = sql_column_int64(st, 3);
            geodata_column_text(st, 4, out->email, sizeof out->email);
            out->attempts = sql_column_int(st, 5);
            paused = sql_column_int(st, 6);
        }
        geodata_release(store, st);
        if (row <= 0)
            return row;
        after = out->id;
        int rc = GEODATA_OK, live = 1;
        if (paused) {
            rc = drop(store, out->id, "the subscription is paused");
            live = 0;
        } else if (strcmp(out->type, "test") != 0) {
            rc = read_items(store, now, out, &live);
            if (!rc && !live)
                rc = drop(store, out->id, strcmp(out->type, "digest") == 0
                          ? "nothing of the digest is open any more" : "the post is no longer open");
        }
        int got = 0;
        if (!rc && live)
            rc = claim(store, out->id, now, &got);
        if (rc)
            return rc;
        if (got)
            return 1;
    }
}

/* Sets the status of a digest's items (the digest id) to its own. */
static int items_follow(geodata_store *store, int64_t id, const char *status, int64_t now)
{
    sql_stmt *st = geodata_cached(store,
        "UPDATE alert_deliveries SET status = ?2, sent_at = CASE WHEN ?2 = 'sent' THEN ?3 END "
        "WHERE digest_id = ?1 AND status IN ('pending', 'retrying')");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, status, -1, SQL_STATIC);
    sql_bind_int64(st, 3, now);
    return run(store, st, "updating a digest's items", NULL);
}

int geodata_alert_sent(geodata_store *store, int64_t id, int64_t now)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?2, "
        "last_error = NULL WHERE id = ?1");
    int changed = 0;
    if (!st)
        rc = GEODATA_EDB;
    else {
        sql_bind_int64(st, 1, id);
        sql_bind_int64(st, 2, now);
        rc = run(store, st, "marking an alert sent", &changed);
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such delivery");
    if (!rc)
        rc = items_follow(store, id, "sent", now);
    if (!rc && !(st = geodata_cached(store,
            "UPDATE subscriptions SET failures = 0 WHERE failures > 0 "
            "AND id = (SELECT subscription_id FROM alert_deliveries WHERE id = ?1)")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, id);
        rc = run(store, st, "forgetting a subscription's failures", NULL);
    }
    return geodata_end(store, rc);
}

/* error cut to at most max bytes, on a UTF-8 character boundary, into out
 * (of size max + 1). */
static void cut_utf8(const char *error, char *out, size_t max)
{
    size_t n = strlen(error);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)error[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, error, n);
    out[n] = '\0';
}

int geodata_alert_failed(geodata_store *store, int64_t id, int64_t now, int permanent,
                         const char *error, const int64_t *backoff, size_t n_backoff,
                         int *paused)
{
    *paused = 0;
    char why[GEODATA_ALERT_ERROR_MAX + 1];
    cut_utf8(error ? error : "", why, GEODATA_ALERT_ERROR_MAX);
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "SELECT d.attempts, coalesce(d.subscription_id, 0), coalesce(s.quiet_start, -1), "
        "coalesce(s.quiet_end, -1), coalesce(s.failures, 0) FROM alert_deliveries d "
        "LEFT JOIN subscriptions s ON s.id = d.subscription_id WHERE d.id = ?1");
    if (!st) {
        geodata_rollback(store);
        return GEODATA_EDB;
    }
    sql_bind_int64(st, 1, id);
    int row = geodata_step(store, st);
    int attempts = row > 0 ? sql_column_int(st, 0) + 1 : 0;
    int64_t sub = row > 0 ? sql_column_int64(st, 1) : 0;
    int qs = row > 0 ? sql_column_int(st, 2) : -1, qe = row > 0 ? sql_column_int(st, 3) : -1;
    int failures = row > 0 ? sql_column_int(st, 4) : 0;
    geodata_release(store, st);
    if (row <= 0)
        return geodata_end(store, row < 0 ? row : geodata_fail(store, GEODATA_ENOTFOUND, "no such delivery"));
    int final = permanent || (size_t)attempts > n_backoff;
    int64_t next = final ? now : geodata_quiet_after(now + backoff[attempts - 1], qs, qe);
    if (!(st = geodata_cached(store,
            "UPDATE alert_deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
            "last_error = ?5 WHERE id = ?1")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, id);
        sql_bind_text(st, 2, final ? "failed" : "retrying", -1, SQL_STATIC);
        sql_bind_int(st, 3, attempts);
        sql_bind_int64(st, 4, next);
        sql_bind_text(st, 5, why, -1, SQL_STATIC);
        rc = run(store, st, "marking an alert failed", NULL);
    }
    if (!rc && final)
        rc = items_follow(store, id, "failed", now);
    if (!rc && permanent && sub) {
        failures++;
        char reason[GEODATA_SUB_REASON_MAX + 1];
        snprintf(reason, sizeof reason, "paused after %d refused deliveries in a row; the last: ",
                 failures);
        cut_utf8(why, reason + strlen(reason), GEODATA_SUB_REASON_MAX - strlen(reason));
        *paused = failures >= GEODATA_SUB_FAILURES_PAUSE;
        if (!(st = geodata_cached(store,
                "UPDATE subscriptions SET failures = ?2, paused_at = CASE WHEN ?3 <> 0 THEN ?4 END, "
                "paused_reason = CASE WHEN ?3 <> 0 THEN ?5 END WHERE id = ?1")))
            rc = GEODATA_EDB;
        if (!rc) {
            sql_bind_int64(st, 1, sub);
            sql_bind_int(st, 2, failures);
            sql_bind_int(st, 3, *paused);
            sql_bind_int64(st, 4, now);
            sql_bind_text(st, 5, reason, -1, SQL_STATIC);
            rc = run(store, st, "counting a subscription's failures", NULL);
        }
        if (!rc && *paused && !(st = geodata_cached(store,
                "UPDATE alert_deliveries SET status = 'dropped', "
                "last_error = 'the subscription is paused' WHERE subscription_id = ?1 "
                "AND status IN ('pending', 'retrying')")))
            rc = GEODATA_EDB;
        else if (!rc && *paused) {
            sql_bind_int64(st, 1, sub);
            rc = run(store, st, "dropping a paused subscription's alerts", NULL);
        }
    }
    rc = geodata_end(store, rc);
    if (rc)
        *paused = 0;
    return rc;
}

int geodata_alert_test(geodata_store *store, int64_t member, int64_t now, int64_t *id)
{
    *id = 0;
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_cached(store,
        "SELECT (SELECT home_lon IS NOT NULL AND neighbourhood_id IS NOT NULL FROM members "
        "  WHERE id = ?1), EXISTS (SELECT 1 FROM alert_deliveries WHERE member_id = ?1 "
        "  AND type = 'test' AND created_at > ?2)");
    if (!st)
        rc = GEODATA_EDB;
    else {
        sql_bind_int64(st, 1, member);
        sql_bind_int64(st, 2, now - GEODATA_TEST_ALERT_GAP_S);
        int row = geodata_step(store, st);
        if (row < 0)
            rc = row;
        else if (sql_column_int(st, 0) != 1)
            rc = geodata_fail(store, GEODATA_EDENIED, "only members with a verified home "
                              "subscribe to alerts");
        else if (sql_column_int(st, 1))
            rc = geodata_fail(store, GEODATA_ECONFLICT, "a test alert was asked less than %d "
                              "seconds ago", GEODATA_TEST_ALERT_GAP_S);
        geodata_release(store, st);
    }
    if (!rc && !(st = geodata_cached(store,
            "INSERT INTO alert_deliveries(member_id, type, next_attempt_at, created_at) "
            "VALUES (?1, 'test', ?2, ?2) RETURNING id")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, member);
        sql_bind_int64(st, 2, now);
        rc = geodata_insert(store, st, "asking for a test alert", id);
        geodata_release(store, st);
    }
    rc = geodata_end(store, rc);
    if (rc)
        *id = 0;
    return rc;
}

int geodata_deliveries_list(geodata_store *store, int64_t member, int64_t before, size_t limit,
                            int (*each)(void *arg, const geodata_delivery *d), void *arg,
                            int *more)
{
    *more = 0;
    if (limit < 1 || limit > GEODATA_DELIVERIES_PAGE)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds 1 to %d deliveries",
                            GEODATA_DELIVERIES_PAGE);
    sql_stmt *st = geodata_cached(store,
        "SELECT d.id, coalesce(d.subscription_id, 0), d.type, coalesce(d.post_id, 0), "
        "  CASE WHEN p.hidden = 0 THEN p.title ELSE '' END, coalesce(d.digest_id, 0), d.status, "
        "  d.attempts, d.next_attempt_at, coalesce(d.last_error, ''), d.created_at, "
        "  coalesce(d.sent_at, 0) "
        "FROM alert_deliveries d LEFT JOIN posts p ON p.id = d.post_id "
        "WHERE d.member_id = ?1 AND (?2 = 0 OR d.id < ?2) ORDER BY d.id DESC LIMIT ?3");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member);
    sql_bind_int64(st, 2, before > 0 ? before : 0);
    sql_bind_int64(st, 3, (long long)limit + 1);
    geodata_delivery d;
    size_t n = 0;
    int rc = GEODATA_OK, row;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        d.id = sql_column_int64(st, 0);
        d.subscription_id = sql_column_int64(st, 1);
        geodata_column_text(st, 2, d.type, sizeof d.type);
        d.post_id = sql_column_int64(st, 3);
        geodata_column_text(st, 4, d.post_title, sizeof d.post_title);
        d.digest_id = sql_column_int64(st, 5);
        geodata_column_text(st, 6, d.status, sizeof d.status);
        d.attempts = sql_column_int(st, 7);
        d.next_attempt_at = sql_column_int64(st, 8);
        geodata_column_text(st, 9, d.last_error, sizeof d.last_error);
        d.created_at = sql_column_int64(st, 10);
        d.sent_at = sql_column_int64(st, 11);
        rc = each(arg, &d);
    }
    if (!rc && row < 0)
        rc = row;
    geodata_release(store, st);
    return rc;
}
