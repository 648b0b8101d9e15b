/*
 * mapd/http.h — what the server's files share: the server's settings, the
 * per-request state, the context a handler gets, and response helpers.
 *
 * Conventions: a handler queues exactly one response and returns MHD_YES (or
 * MHD_NO when libmicrohttpd itself failed). Helpers whose names end in
 * _or_reply have already queued an error response when they fail: the
 * handler then returns MHD_YES at once.
 */
#ifndef MAPD_HTTP_H
#define MAPD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "geodata/audience.h"
#include "geodata/geocode.h"
#include "geodata/members.h"
#include "geodata/posts.h"
#include "geodata/store.h"
#include "feed.h"
#include "geocode_json.h"
#include "password.h"
#include "pool.h"

typedef struct mapd_metrics mapd_metrics;
typedef struct mapd_ratelimit mapd_ratelimit;
typedef struct mapd_post_model mapd_post_model;
typedef struct mapd_writer mapd_writer;
typedef struct mapd_events mapd_events;
typedef struct mapd_tiles mapd_tiles;
typedef struct mapd_access_log mapd_access_log;
typedef struct mapd_exports mapd_exports;
typedef struct mapd_alerts mapd_alerts;

typedef struct mapd_server {
    const char *db_path;
    const char *web_dir;            /* NULL: no static files */
    size_t max_body;                /* bytes; a larger body gets 413 */
    int cookie_secure;              /* add Secure to the session cookie (behind TLS) */
    const char *attribution;        /* the data's credits, for /tiles.json */
    int64_t session_ttl;            /* seconds */
    geodata_geocoder *geocoder;     /* read-only once built: shared by all workers */
    mapd_metrics *metrics;
    const char *const *route_names; /* "METHOD pattern" of each route, for the metrics */
    size_t n_routes;
    mapd_ratelimit *auth_limit;     /* logins and registrations per client address */
    mapd_ratelimit *account_limit;  /* login attempts per account (api_members.c) */
    const char *trusted_proxy;      /* its address, normalised; NULL: none (client_address.c) */
    const char *csp_origins;        /* other origins the pages may fetch from; NULL: none */
    mapd_ratelimit *comment_limit;  /* comments per member; NULL: no limit */
    int group_threshold;            /* members for a group to become active */
    int statement_timeout_ms;       /* a request's statement is cancelled past this (PostgreSQL) */
    char db_name[256];              /* the database as logs name it (no password) */
    mapd_post_model *posts;         /* posts lists from memory (post_model.c); NULL: from SQL */
    struct mapd_posts_loading *posts_loading; /* the read model being built (posts_runtime.c) */
    mapd_writer *writer;            /* group commit of new posts and comments (writer.c) */
    mapd_events *events;            /* the live stream, GET /api/events (events.c) */
    struct mapd_pool *hashing;      /* password hashing off the request threads (pool.h) */
    mapd_feed *feed;                /* the one follower of the change feed (feed.c) */
    mapd_tiles *tiles;              /* the tile cache (api_tiles.c) */
    mapd_access_log *access_log;    /* one line per request, on stderr (access_log.c) */
    mapd_exports *exports;          /* background export jobs and their files (api_export.c) */
    mapd_alerts *alerts;            /* the alert sender and unsubscribe keys (alerts.c) */
    const char *public_url;         /* --public-url: the base of absolute links; NULL: from the request */
    struct mapd_connections *connections; /* the cap and request deadline (connections.h) */
} mapd_server;

typedef struct mapd_request {
    double started;           /* monotonic seconds at the first call */
    unsigned status;          /* status of the queued response, 0 until then */
    size_t bytes;             /* body bytes of the queued response */
    int route;                /* index of the matched route, -1 when none */
    char *body;               /* the request body, NUL-terminated, or NULL */
    size_t body_len;
    int body_too_large;       /* more than max_body bytes came */
    void *pending;            /* a handler's state while its connection is suspended */
    void (*pending_free)(void *pending);  /* frees pending if the request ends first */
    int called;               /* the access handler has seen the head */
    int args_over;            /* the query had more than MAPD_QUERY_ARGS_MAX arguments */
    int close;                /* the response closes the connection */
    char allow[48];           /* an Allow header for the response, or "" */
    int retry_after;          /* seconds for a Retry-After header, or 0 for none */
} mapd_request;

/* Seconds a client is told to wait (Retry-After) when the database is out
 * of reach for a moment. */
#define MAPD_RETRY_AFTER_S 2

/* Query arguments a request may carry; past this it is answered 414 before
 * libmicrohttpd's per-connection memory runs out (server.c). */
#define MAPD_QUERY_ARGS_MAX 64

typedef struct mapd_ctx {
    mapd_server *server;
    struct MHD_Connection *conn;
    mapd_request *req;
    const char *method;
    const char *url;
    int64_t id;               /* the {id} of the path, or 0 */
    int64_t now;              /* Unix seconds at dispatch */
    geodata_store *store;     /* the worker's, opened by dispatch */
    int authed;               /* session resolved: member is valid */
    geodata_member member;
    int audience_ready;       /* audience computed (mapd_audience_or_reply) */
    geodata_audience audience;/* who looks and what they see; cleared after the handler */
    char csrf[65];
    unsigned char token_hash[32];
} mapd_ctx;

typedef enum MHD_Result (*mapd_handler)(mapd_ctx *ctx);

/* Responses (response.c). mapd_respond copies body; mapd_respond_owned
 * takes body (malloc'd) and frees it, whatever happens. */
enum MHD_Result mapd_respond(mapd_ctx *ctx, unsigned status, const char *type,
                             const void *body, size_t len);
enum MHD_Result mapd_respond_owned(mapd_ctx *ctx, unsigned status, const char *type, void *body,
                                   size_t len);
/* Queues json (consumed) with status; content type application/json unless type. */
enum MHD_Result mapd_respond_json(mapd_ctx *ctx, unsigned status, json_t *json, const char *type);
/* Queues json (consumed; NULL for an empty body) with a Set-Cookie line. */
enum MHD_Result mapd_respond_cookie(mapd_ctx *ctx, unsigned status, json_t *json, const char *cookie);
/* Queues an RFC 9457 application/problem+json response, its title and
 * detail in the language the request prefers (messages.c). */
enum MHD_Result mapd_problem(mapd_ctx *ctx, unsigned status, const char *title,
                             const char *detail);
/* The same with the members of extra (consumed; NULL for none) added. */
/* Adds to r what every response of ctx's server carries for safety
 * (Strict-Transport-Security behind TLS, Connection: close when the request
 * is to end the connection) and, for a page (csp not NULL), its
 * Content-Security-Policy, X-Frame-Options and Referrer-Policy. */
void mapd_security_headers(mapd_ctx *ctx, struct MHD_Response *r, const char *csp);
enum MHD_Result mapd_problem_with(mapd_ctx *ctx, unsigned status, const char *title,
                                  const char *detail, json_t *extra);

/* What the server says to people, in their language (messages.c). */
#define MAPD_MESSAGE_MAX 480   /* bytes of an English message looked up */
/* "fr" or "en": the first of them the request's Accept-Language prefers
 * (highest q), "en" when it names neither. */
const char *mapd_request_lang(mapd_ctx *ctx);
/* text in lang: its French from the catalogue, written into out (of size
 * n), when lang is "fr" and text is known there; else text itself. */
const char *mapd_message(const char *lang, const char *text, char *out, size_t n);
/* A Unix time as an ISO 8601 UTC string; JSON null for 0 ("never"). */
json_t *mapd_json_time(int64_t t);
/* The one mapping from an error code — geodata's (with the store's message
 * for a client's mistake) or tiles' — to a problem response: 404, 400, 409,
 * 403 for what the client can correct; 507 for a full disk; 503 for out of
 * memory and the database's other failures (details in the log only); 500
 * for a tile that cannot be drawn. */
enum MHD_Result mapd_problem_geodata(mapd_ctx *ctx, int code);

/* Requests (request.c). */
/* The body as a JSON object; NULL after queuing 400/415 when it is not one
 * (415 unless mapd_content_type_json accepts its Content-Type). */
json_t *mapd_json_body_or_reply(mapd_ctx *ctx);
/* 1 when the Content-Type value h (NULL: none) is application/json exactly,
 * any case, optionally with parameters ("; charset=utf-8"; a charset other
 * than utf-8 is refused); 0 for anything else ("application/jsonx",
 * "application/json-seq", "text/json"). Work: one pass over h. */
int mapd_content_type_json(const char *h);
/* A string member of obj, checked: present if MAPD_FIELD_REQUIRED (and then
 * not empty), at most max bytes, valid UTF-8 (jansson checks), no control
 * characters (newlines and tabs allowed with MAPD_FIELD_MULTILINE). With
 * MAPD_FIELD_TRIM the white space around it is removed first (in obj), so
 * that only blanks is "empty". Returns 0, or -1 after queuing 422 naming
 * the field. *out is NULL when absent and optional. */
#define MAPD_FIELD_OPTIONAL  0u
#define MAPD_FIELD_REQUIRED  1u
#define MAPD_FIELD_MULTILINE 2u
#define MAPD_FIELD_TRIM      4u
int mapd_field_string_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, unsigned flags,
                               size_t max, const char **out);
/* An integer member of obj from lo to hi; dflt when absent and not
 * MAPD_FIELD_REQUIRED. 0, or -1 after queuing 422. */
int mapd_field_int_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, unsigned flags,
                            long lo, long hi, long dflt, long *out);
/* A boolean member of obj: 1 or 0, or -1 when absent. 0, or -1 after a 422. */
int mapd_field_bool_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, int *out);
/* A query-string argument, or NULL. */
const char *mapd_arg(mapd_ctx *ctx, const char *name);
/* 0 when every query-string argument, name and value, is valid UTF-8
 * without a NUL byte (%00, which would cut the value short); -1 after a 400
 * naming the first one that is not ("the query parameter 'q' is not valid
 * UTF-8"). Called once, before dispatch. Work: one pass over the arguments. */
int mapd_args_valid_or_reply(mapd_ctx *ctx);
/* 0 when the query string names only arguments of known (NULL-terminated);
 * -1 after a 400 naming the first other one and the known ones. */
int mapd_known_args_or_reply(mapd_ctx *ctx, const char *const *known);
/* Numbers of the query string, the one strict reader (request.c): an
 * integer is -?[0-9]+, a real -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)?; no
 * blanks, no '+' sign, no hexadecimal, no inf or nan, nothing empty. */
/* The integer argument name from lo to hi, dflt when absent. 0, or -1 after
 * a 400 "NAME is an integer from LO to HI" (also for "", " 1", "+1", "0x10",
 * "1e3"). */
int mapd_long_arg_or_reply(mapd_ctx *ctx, const char *name, long lo, long hi, long dflt, long *out);
/* The flag argument name: *out 1 for "1", 0 for "0" or when absent; 0, or
 * -1 after a 400 "NAME is 1 or 0" for anything else ("", "true", "01"). */
int mapd_flag_arg_or_reply(mapd_ctx *ctx, const char *name, int *out);
/* The whole of s (NULL: none) as an integer: 1 with *out; 0 when it is not
 * one; -1 when it is one beyond long's range (*out left alone). */
int mapd_parse_long(const char *s, long *out);
/* Parses n comma-separated finite reals filling the whole of s; 1 or 0. */
int mapd_parse_numbers(const char *s, double *v, int n);
/* The bbox argument: 1 with v = west, south, east, north when present and
 * valid (in range, not inverted, at most max_deg2 square degrees), 0 when
 * absent, -1 after a 400 saying what is wrong. */
int mapd_bbox_arg_or_reply(mapd_ctx *ctx, double max_deg2, double v[4]);
/* The client's IPv4/IPv6 address as text into buf ("-" when unknown): the
 * peer's, or behind the --trusted-proxy the one it forwards (client_address.c). */
#define MAPD_CLIENT_ADDRESS_LEN 64   /* room for any of them (INET6_ADDRSTRLEN is 46) */
void mapd_client_address(mapd_ctx *ctx, char buf[MAPD_CLIENT_ADDRESS_LEN]);
/* text as one IPv4 or IPv6 address, written as mapd_client_address writes
 * it, into out: 1, or 0 when text is not one address. */
int mapd_client_address_normalise(const char *text, char out[MAPD_CLIENT_ADDRESS_LEN]);
/* 1 when the request came through the --trusted-proxy (its peer is it). */
int mapd_client_via_trusted_proxy(mapd_ctx *ctx);
/* The base of absolute links (tiles.json, OGC API, feeds), decided here
 * only: --public-url when set (without a final '/'); else the scheme (https
 * behind TLS: --cookie-secure) and the Host header as the client sent it when
 * it is one of ours: a host name or address (at most 255 letters, digits,
 * . - : [ ]) whose port, given or the scheme's, is the one the connection
 * came in on; else the address and port the connection came in on (the
 * listen address, with its real port under --listen HOST:0). */
#define MAPD_BASE_URL_MAX 272        /* "https://" + 255 bytes of Host, and the NUL */
void mapd_base_url(mapd_ctx *ctx, char out[MAPD_BASE_URL_MAX]);

/* Sessions and roles (auth.c). */
/* The logged-in member; NULL after queuing 401. With csrf, a state-changing
 * request must also carry X-CSRF-Token, else 403. */
const geodata_member *mapd_member_or_reply(mapd_ctx *ctx, int csrf);
/* Like mapd_member_or_reply, NULL without a reply when nobody is logged in. */
const geodata_member *mapd_member_optional(mapd_ctx *ctx);
int mapd_is_staff(const geodata_member *m);
/* A random 256-bit secret as URL-safe base64 (session cookies, reset
 * links) into token, and its hash, the form the store keeps and looks up. */
#define MAPD_SECRET_LEN 44   /* 43 characters and the NUL */
void mapd_secret_new(char token[MAPD_SECRET_LEN], unsigned char hash[32]);
void mapd_secret_hash(const char *token, unsigned char out[32]);
/* 0 when the client address may try to log in, register or reset a
 * password now (--auth-per-minute); -1 after queuing 429. */
int mapd_auth_limited_or_reply(mapd_ctx *ctx);
/* Like mapd_member_or_reply, and 403 (NULL) for anyone but staff. */
const geodata_member *mapd_staff_or_reply(mapd_ctx *ctx, int csrf);
/* The audience of the request's viewer (geodata/audience.h: who sees what),
 * computed once per request from the session; NULL after a 503 when the
 * store failed. Valid until the handler returns. */
const geodata_audience *mapd_audience_or_reply(mapd_ctx *ctx);
/* 1 when the request's viewer sees what belongs to neighbourhood nb, 0 when
 * not, -1 on a store error (nothing queued: the caller replies). */
int mapd_sees_neighbourhood(mapd_ctx *ctx, const char *nb);
/* A new password (named field in the request): 0, or -1 after queuing 422
 * when it has fewer than MAPD_PASSWORD_MIN characters (not bytes: "été" is
 * three). Checked before any costly work; hashed last, by the next one. */
int mapd_password_length_or_reply(mapd_ctx *ctx, const char *field, const char *password);
/* Password work (argon2id: a core and 64 MiB for a fraction of a second)
 * runs on the hashing threads, never on a request thread: a handler hands
 * its job to mapd_hash_later and is called again once the job has run,
 * mapd_pool_done(ctx) then giving the job back (the handler frees it). */
enum MHD_Result mapd_hash_later(mapd_ctx *ctx, struct mapd_pool_job *job, mapd_handler again);
/* The password work of the account routes: a password checked against a
 * stored hash, a new one hashed, or both. */
typedef struct mapd_password_job {
    struct mapd_pool_job base;        /* first: what the pool holds */
    json_t *body;                     /* a reference to the request's body: the strings' owner */
    const char *check;                /* checked against check_hash; NULL: no check */
    char check_hash[MAPD_HASH_LEN];
    const char *hash;                 /* hashed into hashed; NULL: nothing to hash */
    char hashed[MAPD_HASH_LEN];
    int checked;                      /* out: check matches check_hash (1 without check) */
    int hash_ok;                      /* out: hashed holds the hash of hash */
} mapd_password_job;
/* A job on body (a new reference is taken); NULL when out of memory. */
mapd_password_job *mapd_password_job_new(json_t *body);
/* Starts a session for member: Set-Cookie goes on the response r. */
int mapd_session_start(mapd_ctx *ctx, int64_t member_id, char csrf[65], char cookie[256]);
int mapd_session_end(mapd_ctx *ctx, char cookie[256]);

/* Rate limits (ratelimit.c): 1 when key may go on, 0 when over its budget. */
/* name ("auth", "account", "comment") names the limit's buckets in a
 * shared store: on a store that geodata_store_shared says is shared, the
 * buckets are the database's, counted with every replica's; else they are
 * this process's. A failure of the database falls back to this process's. */
mapd_ratelimit *mapd_ratelimit_new(const char *name, double per_minute, double burst);
void mapd_ratelimit_free(mapd_ratelimit *rl);
int mapd_ratelimit_allow(mapd_ratelimit *rl, geodata_store *store, const char *key, double now);
/* key's bucket full again (a login that succeeded). */
void mapd_ratelimit_forget(mapd_ratelimit *rl, geodata_store *store, const char *key);

/* Metrics (metrics.c). */
mapd_metrics *mapd_metrics_new(size_t n_routes);
void mapd_metrics_free(mapd_metrics *m);
void mapd_metrics_record(mapd_metrics *m, int route, unsigned status, double seconds);
/* The Prometheus text exposition, malloc'd. */
char *mapd_metrics_render(mapd_metrics *m, const char *const *route_names, size_t n_routes);

/* Seconds on the monotonic clock (server.c). */
double mapd_seconds(void);

/* Posts (api_posts.c): the read model and the group-commit writer. The
 * model is built on a thread of its own from mapd_posts_load, once the
 * change feed's position is known, while serve loads the rest; then
 * mapd_posts_start waits for it and starts the writer, before the daemon
 * (each 0, or -1 after a message on stderr). The writer is stopped before
 * MHD_stop_daemon (it resumes every connection it suspended), and both are
 * freed after it. */
int mapd_posts_load(mapd_server *server, int with_model);
int mapd_posts_start(mapd_server *server);
void mapd_posts_stop_writer(mapd_server *server);
void mapd_posts_free(mapd_server *server);

/* Static files (static_files.c). */
enum MHD_Result mapd_static_file(mapd_ctx *ctx);

/* Handlers (api_*.c). */
enum MHD_Result mapd_api_healthz(mapd_ctx *ctx);
enum MHD_Result mapd_api_metrics(mapd_ctx *ctx);
enum MHD_Result mapd_api_openapi(mapd_ctx *ctx);
enum MHD_Result mapd_api_geocode(mapd_ctx *ctx);
enum MHD_Result mapd_api_register(mapd_ctx *ctx);
enum MHD_Result mapd_api_login(mapd_ctx *ctx);
enum MHD_Result mapd_api_logout(mapd_ctx *ctx);
enum MHD_Result mapd_api_me(mapd_ctx *ctx);
enum MHD_Result mapd_api_me_update(mapd_ctx *ctx);
enum MHD_Result mapd_api_me_delete(mapd_ctx *ctx);
enum MHD_Result mapd_api_posts_create(mapd_ctx *ctx);
enum MHD_Result mapd_api_posts_list(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_get(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_edit(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_claim(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_release(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_messages(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_message_add(mapd_ctx *ctx);
/* Thematic groups (api_groups.c). */
enum MHD_Result mapd_api_group_create(mapd_ctx *ctx);
enum MHD_Result mapd_api_groups_list(mapd_ctx *ctx);
enum MHD_Result mapd_api_group_get(mapd_ctx *ctx);
enum MHD_Result mapd_api_group_join(mapd_ctx *ctx);
enum MHD_Result mapd_api_group_member_delete(mapd_ctx *ctx);
enum MHD_Result mapd_api_group_members(mapd_ctx *ctx);
enum MHD_Result mapd_api_group_post_remove(mapd_ctx *ctx);
/* Comments under posts (api_comments.c). */
enum MHD_Result mapd_api_post_comments(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_comment_add(mapd_ctx *ctx);
enum MHD_Result mapd_api_comment_edit(mapd_ctx *ctx);
enum MHD_Result mapd_api_comment_delete(mapd_ctx *ctx);
enum MHD_Result mapd_api_comment_report(mapd_ctx *ctx);
enum MHD_Result mapd_api_comment_hide(mapd_ctx *ctx);
enum MHD_Result mapd_api_comment_restore(mapd_ctx *ctx);
enum MHD_Result mapd_api_comments_search(mapd_ctx *ctx);
/* The live stream (events.c). */
enum MHD_Result mapd_api_events(mapd_ctx *ctx);
/* A member's private Atom feed (api_feeds.c). */
enum MHD_Result mapd_api_feed_get(mapd_ctx *ctx);
enum MHD_Result mapd_api_feed_create(mapd_ctx *ctx);
enum MHD_Result mapd_api_feed_delete(mapd_ctx *ctx);
enum MHD_Result mapd_api_feed_atom(mapd_ctx *ctx);
/* Alerts by email (api_alerts.c). */
enum MHD_Result mapd_api_subscription_create(mapd_ctx *ctx);
enum MHD_Result mapd_api_subscriptions_list(mapd_ctx *ctx);
enum MHD_Result mapd_api_subscription_delete(mapd_ctx *ctx);
enum MHD_Result mapd_api_subscription_resume(mapd_ctx *ctx);
enum MHD_Result mapd_api_subscription_test(mapd_ctx *ctx);
enum MHD_Result mapd_api_deliveries(mapd_ctx *ctx);
enum MHD_Result mapd_api_unsubscribe_page(mapd_ctx *ctx);
enum MHD_Result mapd_api_unsubscribe(mapd_ctx *ctx);
/* Loads post id for viewer (api_posts.c): 0, or -1 after queuing 404 (a
 * post viewer may not see answers as if it did not exist) or 503. */
int mapd_post_id_or_reply(mapd_ctx *ctx, const geodata_member *viewer, int64_t id, geodata_post *p);
/* The same for the post of the path ({id}). */
int mapd_post_or_reply(mapd_ctx *ctx, const geodata_member *viewer, geodata_post *p);
enum MHD_Result mapd_api_post_done(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_cancel(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_report(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_hide(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_reports(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_reports_dismiss(mapd_ctx *ctx);
enum MHD_Result mapd_api_post_restore(mapd_ctx *ctx);
enum MHD_Result mapd_api_stats(mapd_ctx *ctx);
/* A shop as a GeoJSON Feature, as viewer (NULL: anyone) sees it at now
 * (api_shops.c). New reference, or NULL. */
struct geodata_shop;
json_t *mapd_shop_feature_json(const struct geodata_shop *s, int64_t now,
                               const geodata_member *viewer);
enum MHD_Result mapd_api_shops_list(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_get(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_create(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_claim(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_claims(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_claim_approve(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_claim_reject(mapd_ctx *ctx);
enum MHD_Result mapd_api_password_reset_request(mapd_ctx *ctx);
enum MHD_Result mapd_api_password_resets(mapd_ctx *ctx);
enum MHD_Result mapd_api_password_reset_complete(mapd_ctx *ctx);
enum MHD_Result mapd_api_shop_update(mapd_ctx *ctx);
enum MHD_Result mapd_api_maker_set(mapd_ctx *ctx);
enum MHD_Result mapd_api_maker_me(mapd_ctx *ctx);
enum MHD_Result mapd_api_makers_list(mapd_ctx *ctx);
enum MHD_Result mapd_api_order_create(mapd_ctx *ctx);
enum MHD_Result mapd_api_orders_mine(mapd_ctx *ctx);
enum MHD_Result mapd_api_order_status(mapd_ctx *ctx);
enum MHD_Result mapd_api_tile(mapd_ctx *ctx);
enum MHD_Result mapd_api_tilejson(mapd_ctx *ctx);
enum MHD_Result mapd_api_export(mapd_ctx *ctx);
enum MHD_Result mapd_api_exports(mapd_ctx *ctx);
enum MHD_Result mapd_api_export_job(mapd_ctx *ctx);
enum MHD_Result mapd_api_export_file(mapd_ctx *ctx);
enum MHD_Result mapd_api_audit(mapd_ctx *ctx);

/* Export jobs (api_export.c): started by serve once the signals are
 * blocked (0, or -1 after a message on stderr), their finished files kept
 * keep_s seconds; stopped after MHD_stop_daemon, which cancels a running
 * job and removes every file and the private directory. */
int mapd_exports_start(mapd_server *server, int64_t keep_s);
void mapd_exports_stop(mapd_server *server);
/* OGC API – Features under /ogc (ogc.c, ogc_items.c). */
enum MHD_Result mapd_ogc_landing(mapd_ctx *ctx);
enum MHD_Result mapd_ogc_conformance(mapd_ctx *ctx);
enum MHD_Result mapd_ogc_api(mapd_ctx *ctx);
enum MHD_Result mapd_ogc_collections(mapd_ctx *ctx);
enum MHD_Result mapd_ogc_collection(mapd_ctx *ctx);

/* The tile service (api_tiles.c): a cache of cache_bytes (0: none), tiles
 * of at most max_tile_bytes, and the needs layer loaded from store (which
 * the caller keeps) as it stands now; the address points are geocoder's,
 * which must outlive the service. 0, a GEODATA_E code (message on the
 * store) or TILES_ENOMEM. */
int mapd_tiles_new(geodata_store *store, const geodata_geocoder *geocoder, size_t cache_bytes,
                   size_t max_tile_bytes, int64_t now, mapd_tiles **out);
void mapd_tiles_free(mapd_tiles *t);
/* The tile service as a subscriber of the change-feed follower. */
mapd_feed_subscriber mapd_tiles_subscriber(mapd_tiles *t);
/* The cache's counters in Prometheus text format, into buf (snprintf's return). */
int mapd_tiles_metrics(mapd_tiles *t, char *buf, size_t n);

/* Addresses typed in a body (address_check.c). */
#define MAPD_ADDRESS_MAX 512           /* bytes of a typed address */
/* Geocodes address into res (room for max) and applies the verification rule:
 * 0 with *n results and *why set; or -1 after replying 422 when the geocoder
 * refuses the text (detail "'address': " and geodata_geocode_query_problem's
 * phrase) or 503 when it fails. Work: one geocoder search. */
int mapd_geocode_address_or_reply(mapd_ctx *ctx, const char *address, geodata_geocode_result *res,
                                  size_t max, size_t *n, geodata_verify_status *why);
/* Replies 422 for an address refused with status why: detail the English
 * phrase (geodata_verify_reason), reason the code (geodata_verify_code), and
 * when suggest is set, "candidates": the results of res[0..n) that
 * geodata_geocode_suggestible accepts and that lie in a neighbourhood, at
 * most 5 — absent when there is none, and always for GEODATA_VERIFY_NOT_COVERED. */
enum MHD_Result mapd_refuse_address(mapd_ctx *ctx, geodata_verify_status why,
                                    const geodata_geocode_result *res, size_t n, int suggest);
/* A member's home from a typed address, by the registration rule: 0 with
 * home's address_id, address_text, home_lon, home_lat and neighbourhood_id
 * set (pointing into res, room for MAPD_VERIFY_RESULTS); -1 after replying as
 * mapd_geocode_address_or_reply does, or 422 with suggestions when the
 * address does not verify. */
int mapd_home_or_reply(mapd_ctx *ctx, const char *address, geodata_geocode_result *res,
                       geodata_new_member *home);


#endif
