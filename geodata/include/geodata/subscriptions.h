/*
 * geodata/subscriptions.h — alerts by email: what a member subscribes to,
 * which new posts match it, and the log of the mails sent for them.
 *
 * A subscription belongs to a member with a verified home. It names the
 * kinds of post (requests, offers or both), the categories (none: all), an
 * area — a radius of 50 to 5,000 m around the member's home, or a polygon
 * inside the neighbourhoods the member sees (their own and the contiguous
 * ones, audience.h) — a mode (each post at once, or a daily digest) and
 * optional quiet hours, in local time, during which nothing is sent.
 *
 * Matching (geodata_alerts_match) considers the posts created since the
 * subscription's cursor, a change-feed seq (changes.h): so nothing older
 * than the subscription is ever alerted, and a post is considered once.
 * A post matches when it is open, not hidden, seen by the subscriber (the
 * audience rule of their home), not theirs, of the kinds and categories,
 * and in the area: within the radius (metres from the member's private home
 * to the post's public point, through the store's metric) or its public
 * point inside the polygon. Each match becomes a pending delivery, and the
 * cursor moves, in one transaction; a delivery is unique per subscription
 * and post, so a post is alerted at most once per subscription whatever
 * happens to the sender.
 *
 * Deliveries: the sender (mapd) takes the due ones one by one
 * (geodata_alert_next), sends them and says how it went: sent, or failed —
 * a temporary failure is retried after the server's backoff steps, then
 * given up; a permanent one (the relay refused the mail) is given up at
 * once, and GEODATA_SUB_FAILURES_PAUSE of them in a row pause the
 * subscription with the reason. A digest is made at its hour from the
 * items waiting for it: one delivery, listing them.
 *
 * Privacy: what a delivery carries is what the map shows of the post
 * (title, kind, category, neighbourhood) and a distance from the
 * subscriber's own home; never an author's address or home point.
 */
#ifndef GEODATA_SUBSCRIPTIONS_H
#define GEODATA_SUBSCRIPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/members.h"
#include "geodata/posts.h"
#include "geodata/store.h"

#define GEODATA_SUB_RADIUS_MIN     50       /* metres */
#define GEODATA_SUB_RADIUS_MAX     5000     /* metres */
#define GEODATA_SUB_VERTICES_MAX   200      /* of a polygon, its rings together */
#define GEODATA_SUB_POLYGON_MAX    16384    /* bytes of a polygon's GeoJSON as kept */
#define GEODATA_SUBS_PER_MEMBER    10       /* subscriptions a member may hold */
#define GEODATA_SUB_FAILURES_PAUSE 3        /* permanent failures in a row that pause one */
#define GEODATA_SUB_REASON_MAX     300      /* bytes of a pause's reason */
#define GEODATA_ALERT_ERROR_MAX    300      /* bytes of a delivery's last error */
#define GEODATA_ALERT_RETRIES_MAX  8        /* backoff steps at most */
#define GEODATA_DIGEST_ITEMS       50       /* items listed in one digest; more are counted */
#define GEODATA_DELIVERIES_PAGE    100      /* deliveries listed at most per call */
#define GEODATA_TEST_ALERT_GAP_S   60       /* a test alert at most this often per member */

#define GEODATA_ALERT_REQUEST 1u            /* kinds, as bits */
#define GEODATA_ALERT_OFFER   2u

/* What a member asks for; every field is checked by
 * geodata_subscription_create. */
typedef struct geodata_subscription_spec {
    const char *const *kinds;        /* "request", "offer": one or both */
    size_t n_kinds;
    const char *const *categories;   /* of geodata_post_categories; none: all */
    size_t n_categories;
    int has_radius;                  /* radius_m given */
    double radius_m;                 /* GEODATA_SUB_RADIUS_MIN to _MAX */
    const char *polygon;             /* a GeoJSON Polygon (EPSG:4326), or NULL */
    const char *mode;                /* "immediate" or "digest" */
    const char *quiet_start;         /* "HH:MM" local, with quiet_end; NULL: none */
    const char *quiet_end;
} geodata_subscription_spec;

typedef struct geodata_subscription {
    int64_t id, member_id;
    unsigned kinds;                  /* GEODATA_ALERT_* bits */
    unsigned categories;             /* bit i: geodata_post_categories[i]; 0: all */
    int radius_m;                    /* 0: the polygon */
    char polygon[GEODATA_SUB_POLYGON_MAX + 1];  /* GeoJSON, "" with a radius */
    int digest;                      /* 1: a daily digest; 0: each post at once */
    int quiet_start, quiet_end;      /* minutes after local midnight; -1: none */
    int64_t created_at;
    int64_t paused_at;               /* 0: active */
    char paused_reason[GEODATA_SUB_REASON_MAX + 1];
    int failures;                    /* permanent failures in a row */
} geodata_subscription;

/*
 * Creates a subscription of member from spec, its cursor at the newest
 * change (nothing older is alerted). GEODATA_EINVAL with the reason for a
 * bad field: an unknown kind or category, none or both of radius and
 * polygon, a radius out of range, a polygon that is not a valid GeoJSON
 * Polygon of at most GEODATA_SUB_VERTICES_MAX vertices or lies outside the
 * neighbourhoods the member sees (about a metre of tolerance), a bad mode
 * or quiet hours; GEODATA_EDENIED without a verified home;
 * GEODATA_ECONFLICT past GEODATA_SUBS_PER_MEMBER. One transaction. Work:
 * one GEOS parse and validity check, one union of the member's visible
 * neighbourhoods.
 */
int geodata_subscription_create(geodata_store *store, int64_t member,
                                const geodata_subscription_spec *spec, int64_t now, int64_t *id);

/* Reads subscription id; with member > 0, only when it is theirs
 * (GEODATA_ENOTFOUND otherwise, as when there is none). */
int geodata_subscription_get(geodata_store *store, int64_t id, int64_t member,
                             geodata_subscription *out);

/* Calls each for member's subscriptions, oldest first (at most
 * GEODATA_SUBS_PER_MEMBER). */
int geodata_subscriptions_list(geodata_store *store, int64_t member,
                               int (*each)(void *arg, const geodata_subscription *s), void *arg);

/* Deletes subscription id (with member > 0: only theirs; 0: whoever's, for
 * an unsubscribe link). What it had not sent is dropped; its log stays,
 * unlinked. GEODATA_ENOTFOUND when there is none. One transaction. */
int geodata_subscription_delete(geodata_store *store, int64_t id, int64_t member);

/* Resumes member's paused subscription id: its failures are forgotten and
 * its cursor moves to now (what came while it was paused is not alerted). */
int geodata_subscription_resume(geodata_store *store, int64_t id, int64_t member);

/* The server's secret called name, of n bytes, into out: the stored one,
 * or else fresh (random bytes from the caller) stored now. Two servers
 * starting at once agree on one. */
int geodata_secret(geodata_store *store, const char *name, const unsigned char *fresh, size_t n,
                   unsigned char *out);

/* ---- local time (alert_times.c) ---- */

/* The offset of local time from UTC at t, in seconds: Central European
 * Time, +1 h, and its summer time, +2 h, from 01:00 UTC on the last Sunday
 * of March to 01:00 UTC on the last Sunday of October (the EU rule,
 * Europe/Paris since 1996). */
int64_t geodata_local_offset(int64_t t);

/* Minutes after local midnight at t (0 to 1439). */
int geodata_local_minute(int64_t t);

/* The first instant at or after t whose local time is minute (0 to 1439)
 * after midnight. Across a change of offset, the offset of that instant. */
int64_t geodata_local_next(int64_t t, int minute);

/* 1 when t falls in the quiet hours [start, end) (minutes, local; start >
 * end wraps midnight); 0 when not or when start < 0 (none). */
int geodata_quiet_at(int64_t t, int start, int end);

/* t, or the end of the quiet hours when t falls in them. */
int64_t geodata_quiet_after(int64_t t, int start, int end);

/* Reads "HH:MM" (00:00 to 23:59) into minutes after midnight: 1, or 0. */
int geodata_hhmm_parse(const char *s, int *minutes);

/* ---- matching and deliveries (alert_deliveries.c) ---- */

/*
 * Matches the posts created since each active subscription's cursor (see
 * the top of this file) and moves the cursors, the matches and the cursor
 * of a subscription in one transaction (subscriptions are taken 256 at a
 * time, each group one transaction). An immediate match is due now, or at
 * the end of the quiet hours; a digest's item at the next digest_minute
 * (local), or the end of the quiet hours after it. *matched counts the new
 * deliveries. Work: per subscription, one read of the changes since its
 * cursor (indexed by seq) and their posts, one projection each.
 */
int geodata_alerts_match(geodata_store *store, int64_t now, int digest_minute, size_t *matched);

/*
 * Makes the digests due at now: for each subscription with items due, the
 * items whose post is no longer open or visible are dropped, the others
 * become one delivery of type digest, due now. *made counts them. One
 * transaction. Work: one indexed read of the due items.
 */
int geodata_alerts_digest(geodata_store *store, int64_t now, size_t *made);

typedef struct geodata_alert_item {
    int64_t post_id;
    char kind[8];
    char category[16];
    char title[GEODATA_TITLE_MAX + 1];
    char neighbourhood[128];             /* its name */
    double distance_m;                   /* from the subscriber's home; < 0 unknown */
} geodata_alert_item;

typedef struct geodata_alert {
    int64_t id;                          /* the delivery */
    char type[8];                        /* post, digest, test */
    int64_t subscription_id;             /* 0: none (a test) */
    int64_t member_id;
    char email[GEODATA_EMAIL_MAX + 1];   /* the subscriber's */
    int attempts;                        /* made before this one */
    size_t n_items;                      /* listed: at most GEODATA_DIGEST_ITEMS */
    size_t total_items;                  /* in the delivery: a digest counts the others */
    geodata_alert_item items[GEODATA_DIGEST_ITEMS];
} geodata_alert;

/* Seconds a sender holds a delivery it took (geodata_alert_next) before
 * another may take it again: longer than any send. */
#define GEODATA_ALERT_LEASE_S 600

/*
 * The next due delivery (pending or retrying, its time come; a post, a
 * digest or a test) with an id above after, into out: 1, or 0 when there
 * is none. A post's delivery whose post is no longer open or visible is
 * dropped on the way (status dropped, with why), as is any of a paused
 * subscription. The delivery returned is taken: its next attempt moves
 * GEODATA_ALERT_LEASE_S ahead, so that another sender on the same database
 * (another replica) passes it by; geodata_alert_sent or _failed then sets
 * its fate. Work: indexed reads, one per delivery passed, and one write.
 */
int geodata_alert_next(geodata_store *store, int64_t now, int64_t after, geodata_alert *out);

/* Delivery id was accepted by the relay: sent (a digest's items too), and
 * its subscription's failures forgotten. */
int geodata_alert_sent(geodata_store *store, int64_t id, int64_t now);

/*
 * Delivery id failed with error (kept, cut to GEODATA_ALERT_ERROR_MAX
 * bytes on a character boundary). permanent: given up at once, and its
 * subscription paused at its GEODATA_SUB_FAILURES_PAUSE-th permanent
 * failure in a row (*paused set), what it had pending dropped. Otherwise
 * retried after backoff[attempts - 1] seconds (out of the quiet hours)
 * while attempts <= n_backoff, then given up. A digest's items share its
 * fate. One transaction.
 */
int geodata_alert_failed(geodata_store *store, int64_t id, int64_t now, int permanent,
                         const char *error, const int64_t *backoff, size_t n_backoff,
                         int *paused);

/* A test alert for member, due now. GEODATA_ECONFLICT when one was asked
 * less than GEODATA_TEST_ALERT_GAP_S ago; GEODATA_EDENIED without a
 * verified home. */
int geodata_alert_test(geodata_store *store, int64_t member, int64_t now, int64_t *id);

typedef struct geodata_delivery {
    int64_t id;
    int64_t subscription_id;             /* 0: none, or deleted since */
    char type[8];                        /* post, item, digest, test */
    int64_t post_id;                     /* 0: none (a digest, a test), or deleted */
    char post_title[GEODATA_TITLE_MAX + 1];  /* "" when none or hidden since */
    int64_t digest_id;                   /* an item: the digest that carried it, 0 none yet */
    char status[12];                     /* pending, retrying, sent, failed, dropped */
    int attempts;
    int64_t next_attempt_at;             /* while pending or retrying */
    char last_error[GEODATA_ALERT_ERROR_MAX + 1];
    int64_t created_at, sent_at;         /* sent_at 0: not sent */
} geodata_delivery;

/* Calls each for member's deliveries with an id below before (0: from the
 * newest), newest first, at most limit (1 to GEODATA_DELIVERIES_PAGE);
 * *more says whether older ones follow. Work: one indexed range. */
int geodata_deliveries_list(geodata_store *store, int64_t member, int64_t before, size_t limit,
                            int (*each)(void *arg, const geodata_delivery *d), void *arg,
                            int *more);

#endif
