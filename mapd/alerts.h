/*
 * mapd/alerts.h — the alert sender: a thread of the server that matches new
 * posts to subscriptions and mails the due alerts through an SMTP relay
 * (libcurl), and the signed one-click unsubscribe links (alerts.c).
 *
 * Every interval (--alerts-interval-s) and whenever woken (a test alert
 * asked), the thread, on its own store connection, matches the posts
 * created since each subscription's cursor (geodata/subscriptions.h),
 * makes the digests due, then sends the due deliveries one by one, each
 * marked sent only once the relay accepted it. Without --smtp-url it still
 * matches (deliveries wait) but sends nothing.
 *
 * Unsubscribe links: "<id>.<mac>", mac the HMAC (libsodium's crypto_auth)
 * of the subscription id under a key the store keeps (made at first use),
 * so a link names one subscription and cannot be forged or altered.
 */
#ifndef MAPD_ALERTS_H
#define MAPD_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/subscriptions.h"

typedef struct mapd_server mapd_server;
typedef struct mapd_alerts mapd_alerts;

#define MAPD_PUBLIC_URL_MAX 256          /* bytes of --public-url */

typedef struct mapd_alerts_options {
    const char *smtp_url;                /* smtp:// or smtps://; NULL: no mail */
    const char *smtp_from;               /* the From header; its address is the envelope's */
    const char *public_url;              /* links' base; NULL: the listen address */
    long interval_s;                     /* between turns, 1 to 3600 */
    int digest_minute;                   /* local minutes after midnight of the digest */
    int64_t backoff[GEODATA_ALERT_RETRIES_MAX];  /* seconds before each retry */
    size_t n_backoff;
} mapd_alerts_options;

/* Reads "60,300,1800,7200" into o's backoff (1 to GEODATA_ALERT_RETRIES_MAX
 * steps of 1 s to 7 days): 1, or 0. */
int mapd_alerts_backoff_parse(const char *s, mapd_alerts_options *o);

/* Starts the sender on its own connection to the server's database (and
 * makes the unsubscribe key if the store has none), before the server
 * listens. 0, or -1 after printing why. */
int mapd_alerts_start(mapd_server *server, const mapd_alerts_options *o);

/* The base of links when there is no --public-url: the address the server
 * listens at, known once it listens ("http://127.0.0.1:8080"). */
void mapd_alerts_set_listen_url(mapd_alerts *a, const char *url);

/* 1 when mails are sent (--smtp-url), else 0. */
int mapd_alerts_mail_configured(const mapd_alerts *a);

/* Asks for a turn now (a test alert waits). Any thread. */
void mapd_alerts_wake(mapd_alerts *a);

/* Stops the thread: a mail being sent is given up to a few seconds, then
 * abandoned (it is sent again next time: not marked sent). NULL and a
 * second call are no-ops. */
void mapd_alerts_stop(mapd_alerts *a);
void mapd_alerts_free(mapd_alerts *a);

/* The unsubscribe token of subscription id into out. */
#define MAPD_ALERT_TOKEN_MAX 72          /* 20 digits, '.', 43 of base64url, NUL */
void mapd_alerts_token(const mapd_alerts *a, int64_t id, char out[MAPD_ALERT_TOKEN_MAX]);

/* 0 with *id when token is one this server made, else -1. Constant time in
 * the MAC. */
int mapd_alerts_token_check(const mapd_alerts *a, const char *token, int64_t *id);

/* Deliveries sent, given up and retried since start, for /metrics. */
void mapd_alerts_counts(const mapd_alerts *a, uint64_t *sent, uint64_t *failed, uint64_t *retried);

#endif
