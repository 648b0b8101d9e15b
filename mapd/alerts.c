/*
 * mapd/alerts.c — the alert sender and the unsubscribe links (see alerts.h).
 *
 * One thread, its own store connection, one libcurl easy handle reused
 * from mail to mail (so a relay's connection is kept between them). A turn
 * matches, makes the digests due, then sends at most TURN_SENDS mails; if
 * more are due, the next turn follows at once. Each mail is one SMTP
 * transaction (MAIL, RCPT, DATA) by libcurl; its result decides:
 *   - accepted (250 after the data): marked sent — only then;
 *   - refused for good (a 5xx to RCPT or to the data: the address or the
 *     message is refused): given up, and counted against its subscription
 *     (three in a row pause it, geodata_alert_failed);
 *   - anything else (no relay, a 4xx, a refused sender or login — the
 *     server's fault, not the member's): retried after the backoff.
 * The member reads the reason in their delivery log, in words that name no
 * host; the server's log has libcurl's own (with the member's id, never
 * their address).
 *
 * Threads and locks: `lock` guards running, woken, stop_at, base and
 * base_ready; the key and the options are set before the thread starts and
 * only read after (workers check tokens with the key); the rest belongs to
 * the thread. No mail leaves before base is known (the address the server
 * listens at is set once it listens), so no link points nowhere. Stopping: running is cleared and the thread
 * joined; a mail in progress gets STOP_GRACE_S seconds (libcurl's progress
 * callback then aborts it: not marked sent, so sent again after a restart).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "alerts.h"
#include "http.h"
#include "mail.h"

#define TURN_SENDS 50          /* mails per turn at most; then the next turn at once */
#define STOP_GRACE_S 3.0       /* a mail being sent when the server stops */
#define CONNECT_TIMEOUT_S 10L
#define SEND_TIMEOUT_S 60L

struct mapd_alerts {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int running;               /* 0: stopping */
    int woken;                 /* a turn was asked for */
    int started;
    double stop_at;            /* monotonic seconds when the stop was asked */
    char base[MAPD_PUBLIC_URL_MAX + 1];  /* links' base, without a final '/' */
    int base_ready;            /* base is --public-url or the address listened at */
    pthread_t thread;
    mapd_alerts_options o;
    char envelope[GEODATA_EMAIL_MAX + 3];/* "<address>" of --smtp-from */
    char domain[GEODATA_EMAIL_MAX + 1];  /* its domain, for Message-IDs */
    unsigned char key[crypto_auth_KEYBYTES];
    geodata_store *store;      /* the thread's own connection */
    CURL *curl;                /* NULL without --smtp-url */
    geodata_alert *alert;      /* the one being sent */
    uint64_t sent, failed, retried;      /* atomic counters */
};

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- unsubscribe links ---- */

/* The MAC of subscription id. */
static void token_mac(const mapd_alerts *a, int64_t id, unsigned char mac[crypto_auth_BYTES])
{
    char msg[48];
    int n = snprintf(msg, sizeof msg, "entraide unsubscribe %lld", (long long)id);
    crypto_auth(mac, (const unsigned char *)msg, (unsigned long long)n, a->key);
}

void mapd_alerts_token(const mapd_alerts *a, int64_t id, char out[MAPD_ALERT_TOKEN_MAX])
{
    unsigned char mac[crypto_auth_BYTES];
    token_mac(a, id, mac);
    char b64[sodium_base64_ENCODED_LEN(crypto_auth_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, MAPD_ALERT_TOKEN_MAX, "%lld.%s", (long long)id, b64);
}

int mapd_alerts_token_check(const mapd_alerts *a, const char *token, int64_t *id)
{
    *id = 0;
    if (!token || strlen(token) >= MAPD_ALERT_TOKEN_MAX || token[0] < '1' || token[0] > '9')
        return -1;
    int64_t v = 0;
    const char *p = token;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (p - token >= 18)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (*p != '.')
        return -1;
    unsigned char mac[crypto_auth_BYTES];
    size_t n = 0;
    const char *end = NULL;
    if (sodium_base642bin(mac, sizeof mac, p + 1, strlen(p + 1), NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
        || n != sizeof mac || *end)
        return -1;
    char msg[48];
    int len = snprintf(msg, sizeof msg, "entraide unsubscribe %lld", (long long)v);
    if (crypto_auth_verify(mac, (const unsigned char *)msg, (unsigned long long)len, a->key) != 0)
        return -1;
    *id = v;
    return 0;
}

/* ---- one mail ---- */

typedef struct upload {
    const char *data;
    size_t len, off;
    int done;                  /* the whole message was handed to libcurl */
} upload;

static size_t read_message(char *buf, size_t size, size_t nitems, void *arg)
{
    upload *u = arg;
    size_t room = size * nitems, left = u->len - u->off;
    if (!left) {
        u->done = 1;
        return 0;
    }
    size_t n = left < room ? left : room;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

/* libcurl's progress callback: non-zero aborts the transfer, which it
 * does once the server has been stopping for STOP_GRACE_S. */
static int keep_going(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                      curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    mapd_alerts *a = arg;
    pthread_mutex_lock(&a->lock);
    int stop = !a->running && monotonic() - a->stop_at > STOP_GRACE_S;
    pthread_mutex_unlock(&a->lock);
    return stop;
}

/* Sends msg to rcpt through the relay. 0 when it was accepted; else -1
 * with *permanent, the member's words in why (of size n) and libcurl's in
 * detail (of CURL_ERROR_SIZE). */
static int smtp_send(mapd_alerts *a, const char *rcpt, const char *msg, size_t len, int *permanent,
                     char *why, size_t n, char *detail)
{
    CURL *c = a->curl;
    char to[GEODATA_EMAIL_MAX + 3];
    snprintf(to, sizeof to, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, to);
    upload u = { msg, len, 0, 0 };
    detail[0] = '\0';
    *permanent = 0;
    if (!rcpts) {
        snprintf(why, n, "the server is short of memory");
        return -1;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, a->o.smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, a->envelope);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);  /* STARTTLS when offered */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, SEND_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, keep_going);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
    CURLcode res = curl_easy_perform(c);
    curl_slist_free_all(rcpts);
    if (res == CURLE_OK)
        return 0;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (!detail[0])
        snprintf(detail, CURL_ERROR_SIZE, "%s", curl_easy_strerror(res));
    /* Refused for good: a 5xx to the recipient, or to the message itself. A
     * 5xx to the greeting, the login or the sender is the server's setup. */
    *permanent = code >= 500 && code <= 599
                 && (strncmp(detail, "RCPT failed", 11) == 0 || u.done);
    if (*permanent)
        snprintf(why, n, "the mail server refused the message (SMTP %ld)", code);
    else if (code >= 400 && code <= 599)
        snprintf(why, n, "the mail server did not take the message now (SMTP %ld)", code);
    else if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST
             || res == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, n, "the mail server could not be reached");
    else if (res == CURLE_ABORTED_BY_CALLBACK)
        snprintf(why, n, "the server stopped while sending");
    else
        snprintf(why, n, "the connection to the mail server failed");
    return -1;
}

/* Builds and sends alert al, then records how it went. */
static void send_one(mapd_alerts *a, const geodata_alert *al, const char *base)
{
    char rcpt[GEODATA_EMAIL_MAX + 1], why[160], detail[CURL_ERROR_SIZE];
    int permanent = 0, rc;
    int64_t now = (int64_t)time(NULL);
    if (mapd_mail_address(al->email, rcpt, sizeof rcpt) || strcmp(rcpt, al->email) != 0) {
        snprintf(why, sizeof why, "the account's email address cannot be used for mail");
        snprintf(detail, sizeof detail, "not an address");
        permanent = 1;
        rc = -1;
    } else {
        unsigned char rnd[12];
        char hex[25], id[64], token[MAPD_ALERT_TOKEN_MAX], unsub[MAPD_PUBLIC_URL_MAX + 128];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
        snprintf(id, sizeof id, "%s.%lld.alert", hex, (long long)al->id);
        if (al->subscription_id) {
            mapd_alerts_token(a, al->subscription_id, token);
            snprintf(unsub, sizeof unsub, "%s/api/unsubscribe?token=%s", base, token);
        }
        mapd_mail m = { .from = a->o.smtp_from, .domain = a->domain, .base_url = base,
                        .unsubscribe_url = al->subscription_id ? unsub : NULL, .message_id = id,
                        .now = now };
        char *msg;
        size_t len;
        if (mapd_mail_alert(&m, al, &msg, &len)) {
            snprintf(why, sizeof why, "the server is short of memory");
            snprintf(detail, sizeof detail, "out of memory");
            rc = -1;
        } else {
            rc = smtp_send(a, rcpt, msg, len, &permanent, why, sizeof why, detail);
            free(msg);
        }
    }
    now = (int64_t)time(NULL);
    int paused = 0;
    if (!rc) {
        rc = geodata_alert_sent(a->store, al->id, now);
        __atomic_fetch_add(&a->sent, 1, __ATOMIC_RELAXED);
    } else {
        fprintf(stderr, "mapd: alert %lld for member %lld: %s (%s)\n", (long long)al->id,
                (long long)al->member_id, why, detail);
        int final = permanent || (size_t)al->attempts + 1 > a->o.n_backoff;
        __atomic_fetch_add(final ? &a->failed : &a->retried, 1, __ATOMIC_RELAXED);
        rc = geodata_alert_failed(a->store, al->id, now, permanent, why, a->o.backoff,
                                  a->o.n_backoff, &paused);
    }
    if (rc)
        fprintf(stderr, "mapd: alerts: recording delivery %lld: %s\n", (long long)al->id,
                geodata_errmsg(a->store));
    if (paused)
        fprintf(stderr, "mapd: alerts: subscription %lld paused after %d refused deliveries\n",
                (long long)al->subscription_id, GEODATA_SUB_FAILURES_PAUSE);
}

/* ---- the thread ---- */

static int is_running(mapd_alerts *a)
{
    pthread_mutex_lock(&a->lock);
    int r = a->running;
    pthread_mutex_unlock(&a->lock);
    return r;
}

/* One turn (see the top of the file); 1 when mails remain due. */
static int turn(mapd_alerts *a)
{
    int64_t now = (int64_t)time(NULL);
    size_t n = 0;
    if (geodata_alerts_match(a->store, now, a->o.digest_minute, &n))
        fprintf(stderr, "mapd: alerts: matching new posts: %s\n", geodata_errmsg(a->store));
    if (!a->curl)
        return 0;
    if (geodata_alerts_digest(a->store, now, &n))
        fprintf(stderr, "mapd: alerts: making digests: %s\n", geodata_errmsg(a->store));
    char base[MAPD_PUBLIC_URL_MAX + 1];
    pthread_mutex_lock(&a->lock);
    memcpy(base, a->base, sizeof base);
    int ready = a->base_ready;
    pthread_mutex_unlock(&a->lock);
    if (!ready)
        return 0; /* the server does not listen yet: no link could be written */
    int64_t after = 0;
    for (int i = 0; i < TURN_SENDS; i++) {
        if (!is_running(a))
            return 0;
        int r = geodata_alert_next(a->store, now, after, a->alert);
        if (r < 0)
            fprintf(stderr, "mapd: alerts: reading the due alerts: %s\n", geodata_errmsg(a->store));
        if (r <= 0)
            return 0;
        after = a->alert->id;
        send_one(a, a->alert, base);
    }
    return 1;
}

static void *alerts_main(void *arg)
{
    mapd_alerts *a = arg;
    pthread_mutex_lock(&a->lock);
    while (a->running) {
        a->woken = 0;
        pthread_mutex_unlock(&a->lock);
        int more = turn(a);
        pthread_mutex_lock(&a->lock);
        if (a->running && !a->woken && !more) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += a->o.interval_s;
            while (a->running && !a->woken
                   && pthread_cond_timedwait(&a->wake, &a->lock, &until) == 0)
                ;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* ---- starting and stopping ---- */

int mapd_alerts_backoff_parse(const char *s, mapd_alerts_options *o)
{
    size_t n = 0;
    const char *p = s;
    while (p && *p) {
        char *end;
        if (*p < '0' || *p > '9' || n == GEODATA_ALERT_RETRIES_MAX)
            return 0;
        long long v = strtoll(p, &end, 10);
        if (v < 1 || v > 7 * 24 * 3600 || (*end && *end != ','))
            return 0;
        o->backoff[n++] = v;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return 0; /* a final comma */
    }
    if (!n)
        return 0;
    o->n_backoff = n;
    return 1;
}

void mapd_alerts_set_listen_url(mapd_alerts *a, const char *url)
{
    if (!a || a->o.public_url)
        return;
    pthread_mutex_lock(&a->lock);
    snprintf(a->base, sizeof a->base, "%s", url);
    a->base_ready = 1;
    a->woken = 1;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
}

int mapd_alerts_mail_configured(const mapd_alerts *a)
{
    return a && a->curl;
}

void mapd_alerts_wake(mapd_alerts *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->woken = 1;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
}

void mapd_alerts_counts(const mapd_alerts *a, uint64_t *sent, uint64_t *failed, uint64_t *retried)
{
    *sent = a ? __atomic_load_n(&a->sent, __ATOMIC_RELAXED) : 0;
    *failed = a ? __atomic_load_n(&a->failed, __ATOMIC_RELAXED) : 0;
    *retried = a ? __atomic_load_n(&a->retried, __ATOMIC_RELAXED) : 0;
}

int mapd_alerts_start(mapd_server *server, const mapd_alerts_options *o)
{
    mapd_alerts *a = calloc(1, sizeof *a);
    if (!a || !(a->alert = malloc(sizeof *a->alert))) {
        free(a);
        fprintf(stderr, "mapd: alerts: out of memory\n");
        return -1;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    a->o = *o;
    a->running = 1;
    snprintf(a->base, sizeof a->base, "%s", o->public_url ? o->public_url : "");
    a->base_ready = o->public_url != NULL;
    size_t bl = strlen(a->base);
    while (bl && a->base[bl - 1] == '/')
        a->base[--bl] = '\0';
    const char *why = NULL;
    char *err = NULL;
    if (o->smtp_url) {
        char addr[GEODATA_EMAIL_MAX + 1];
        if (mapd_mail_address(o->smtp_from ? o->smtp_from : "", addr, sizeof addr))
            why = "--smtp-from is not an address";
        else {
            snprintf(a->envelope, sizeof a->envelope, "<%s>", addr);
            snprintf(a->domain, sizeof a->domain, "%s", strchr(addr, '@') + 1);
        }
        if (!why && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            why = "libcurl cannot start";
        if (!why && !(a->curl = curl_easy_init()))
            why = "libcurl cannot start";
    }
    if (!why && geodata_store_open(server->db_path, 0, &a->store, &err))
        why = err;
    unsigned char fresh[crypto_auth_KEYBYTES];
    crypto_auth_keygen(fresh);
    if (!why && geodata_secret(a->store, "unsubscribe", fresh, sizeof fresh, a->key))
        why = geodata_errmsg(a->store);
    sodium_memzero(fresh, sizeof fresh);
    if (!why && pthread_create(&a->thread, NULL, alerts_main, a))
        why = "cannot start its thread";
    if (why) {
        fprintf(stderr, "mapd: alerts: %s\n", why);
        free(err);
        a->running = 0;
        mapd_alerts_free(a);
        return -1;
    }
    a->started = 1;
    server->alerts = a;
    return 0;
}

void mapd_alerts_stop(mapd_alerts *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    int was = a->running;
    a->running = 0;
    a->stop_at = monotonic();
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    if (was && a->started)
        pthread_join(a->thread, NULL);
    a->started = 0;
}

void mapd_alerts_free(mapd_alerts *a)
{
    if (!a)
        return;
    mapd_alerts_stop(a);
    if (a->curl) {
        curl_easy_cleanup(a->curl);
        curl_global_cleanup();
    }
    geodata_store_close(a->store);
    sodium_memzero(a->key, sizeof a->key);
    free(a->alert);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
