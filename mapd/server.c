/*
 * mapd/server.c — `mapd serve`: the HTTP daemon.
 *
 * Design: libmicrohttpd with its own polling thread and a thread pool (one
 * worker per core by default). Each worker thread opens its own store on first
 * use (a thread-specific key closes it when the thread ends), so no sqlite3
 * connection, GEOS or PROJ context is ever shared; the geocoder, read-only
 * once built, is shared. Requests are routed through one table. A request's
 * state is allocated when libmicrohttpd reads its URI (on_uri, which also
 * bounds the query's arguments); the first call of the access handler checks
 * the head (request_head.c: framing that could be read two ways is a 400 and
 * the connection closed) and the connection cap (connections.h), later calls
 * collect the body (at most --max-body bytes are kept), and the last one
 * dispatches: the response is queued on a call after the first, which keeps
 * keep-alive working. HEAD is routed as GET (libmicrohttpd sends no body). Every request ends in one access-log line on stderr and in the
 * metrics. Access-log lines are gathered per worker and written in batches,
 * at least every --log-flush-ms milliseconds (access_log.c); the line is
 * formatted by hand, not with printf, whose every call in this process takes
 * glibc's slow positional path (a library we link registers a printf
 * extension).
 *
 * Shutdown: SIGINT or SIGTERM stops accepting connections and the alert
 * sender (a mail being sent gets a few seconds, alerts.h), waits (10 s at
 * most) for the requests in flight, stops the posts writer (which first
 * answers the creations it holds: their connections are suspended until their
 * transaction commits, writer.c), then stops the workers (closing their
 * stores), writes the access-log lines still buffered and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "access_log.h"
#include "alerts.h"
#include "cli.h"
#include "connections.h"
#include "events.h"
#include "pool.h"
#include "http.h"
#include "parse.h"
#include "request_head.h"
#include "serve_options.h"
#include "tile_render.h"
#include "tiles/cache.h"
#include "web_dir.h"

double mapd_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The routing table: the first row whose method and pattern match wins. In a
 * pattern, {id} is a positive integer and a final * any rest of the path
 * (mapd_parse_route_find, parse.h). */
static const struct route {
    const char *method;
    const char *pattern;
    mapd_handler handler;
} routes[] = {
    { "GET", "/healthz", mapd_api_healthz },
    { "GET", "/metrics", mapd_api_metrics },
    { "GET", "/api/openapi.json", mapd_api_openapi },
    { "GET", "/api/geocode", mapd_api_geocode },
    { "POST", "/api/members", mapd_api_register },
    { "POST", "/api/session", mapd_api_login },
    { "DELETE", "/api/session", mapd_api_logout },
    { "GET", "/api/me", mapd_api_me },
    { "PATCH", "/api/me", mapd_api_me_update },
    { "DELETE", "/api/me", mapd_api_me_delete },
    { "POST", "/api/password-resets", mapd_api_password_reset_request },
    { "GET", "/api/password-resets", mapd_api_password_resets },
    { "POST", "/api/password-resets/complete", mapd_api_password_reset_complete },
    { "GET", "/api/stats", mapd_api_stats },
    { "GET", "/api/export", mapd_api_export },
    { "GET", "/api/exports", mapd_api_exports },
    { "GET", "/api/exports/{id}", mapd_api_export_job },
    { "GET", "/api/exports/{id}/file", mapd_api_export_file },
    { "GET", "/api/audit", mapd_api_audit },
    { "POST", "/api/posts", mapd_api_posts_create },
    { "GET", "/api/posts", mapd_api_posts_list },
    { "GET", "/api/posts/{id}", mapd_api_post_get },
    { "PATCH", "/api/posts/{id}", mapd_api_post_edit },
    { "POST", "/api/posts/{id}/claim", mapd_api_post_claim },
    { "POST", "/api/posts/{id}/release", mapd_api_post_release },
    { "GET", "/api/posts/{id}/messages", mapd_api_post_messages },
    { "POST", "/api/posts/{id}/messages", mapd_api_post_message_add },
    { "POST", "/api/posts/{id}/done", mapd_api_post_done },
    { "POST", "/api/posts/{id}/cancel", mapd_api_post_cancel },
    { "POST", "/api/posts/{id}/report", mapd_api_post_report },
    { "GET", "/api/posts/{id}/reports", mapd_api_post_reports },
    { "DELETE", "/api/posts/{id}/reports", mapd_api_post_reports_dismiss },
    { "POST", "/api/posts/{id}/hide", mapd_api_post_hide },
    { "POST", "/api/posts/{id}/restore", mapd_api_post_restore },
    { "GET", "/api/posts/{id}/comments", mapd_api_post_comments },
    { "POST", "/api/posts/{id}/comments", mapd_api_post_comment_add },
    { "GET", "/api/comments", mapd_api_comments_search },
    { "PATCH", "/api/comments/{id}", mapd_api_comment_edit },
    { "DELETE", "/api/comments/{id}", mapd_api_comment_delete },
    { "POST", "/api/comments/{id}/report", mapd_api_comment_report },
    { "POST", "/api/comments/{id}/hide", mapd_api_comment_hide },
    { "POST", "/api/comments/{id}/restore", mapd_api_comment_restore },
    { "POST", "/api/groups", mapd_api_group_create },
    { "GET", "/api/groups", mapd_api_groups_list },
    { "GET", "/api/groups/{id}", mapd_api_group_get },
    { "POST", "/api/groups/{id}/members", mapd_api_group_join },
    { "GET", "/api/groups/{id}/members", mapd_api_group_members },
    { "DELETE", "/api/groups/{id}/members/*", mapd_api_group_member_delete },
    { "DELETE", "/api/groups/{id}/posts/*", mapd_api_group_post_remove },
    { "GET", "/api/events", mapd_api_events },
    { "GET", "/api/feeds", mapd_api_feed_get },
    { "POST", "/api/feeds", mapd_api_feed_create },
    { "DELETE", "/api/feeds", mapd_api_feed_delete },
    { "GET", "/feeds/needs.atom", mapd_api_feed_atom },
    { "POST", "/api/subscriptions", mapd_api_subscription_create },
    { "GET", "/api/subscriptions", mapd_api_subscriptions_list },
    { "POST", "/api/subscriptions/test", mapd_api_subscription_test },
    { "DELETE", "/api/subscriptions/{id}", mapd_api_subscription_delete },
    { "POST", "/api/subscriptions/{id}/resume", mapd_api_subscription_resume },
    { "GET", "/api/deliveries", mapd_api_deliveries },
    { "GET", "/api/unsubscribe", mapd_api_unsubscribe_page },
    { "POST", "/api/unsubscribe", mapd_api_unsubscribe },
    { "GET", "/api/shops", mapd_api_shops_list },
    { "POST", "/api/shops", mapd_api_shop_create },
    { "GET", "/api/shops/{id}", mapd_api_shop_get },
    { "PATCH", "/api/shops/{id}", mapd_api_shop_update },
    { "POST", "/api/shops/{id}/claim", mapd_api_shop_claim },
    { "GET", "/api/shop-claims", mapd_api_shop_claims },
    { "POST", "/api/shop-claims/{id}/approve", mapd_api_shop_claim_approve },
    { "POST", "/api/shop-claims/{id}/reject", mapd_api_shop_claim_reject },
    { "GET", "/api/makers", mapd_api_makers_list },
    { "GET", "/api/makers/me", mapd_api_maker_me },
    { "PUT", "/api/makers/me", mapd_api_maker_set },
    { "POST", "/api/makers/{id}/orders", mapd_api_order_create },
    { "GET", "/api/orders", mapd_api_orders_mine },
    { "POST", "/api/orders/{id}/status", mapd_api_order_status },
    { "GET", "/ogc", mapd_ogc_landing },
    { "GET", "/ogc/", mapd_ogc_landing },
    { "GET", "/ogc/conformance", mapd_ogc_conformance },
    { "GET", "/ogc/api", mapd_ogc_api },
    { "GET", "/ogc/collections", mapd_ogc_collections },
    { "GET", "/ogc/collections/*", mapd_ogc_collection },
    { "GET", "/tiles.json", mapd_api_tilejson },
    { "GET", "/tiles/*", mapd_api_tile },
    { "GET", "/*", mapd_static_file },
};

#define N_ROUTES (sizeof routes / sizeof routes[0])

/* libmicrohttpd's memory per connection: the read buffer, which bounds the
 * request line and headers (about 7.5 KiB fit in 16 KiB; more is answered
 * 431, as nginx's default 8 KiB header buffers would), and the response
 * headers. Kept small because libmicrohttpd 0.9.75 zeroes the whole pool
 * before every request of a keep-alive connection (MHD_pool_reset): 64 KiB
 * cost about 3 us of CPU a request, more than the rest of a cached tile. */
#define CONNECTION_MEMORY (16 * 1024)

/* Connections accepted past --max-connections, to be answered 503 rather
 * than refused unanswered; past cap + margin libmicrohttpd stops accepting. */
#define CONNECTIONS_MARGIN 64

/* File descriptors kept for what is not a connection: the database and its
 * WAL on each worker, the access log, exports, mail. */
#define FILES_RESERVED 256

/* Login attempts an account has before --account-per-hour paces them. */
#define ACCOUNT_BURST 10

/* 1 when the environment variable name is set to something other than "" or "0". */
static int getenv_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static char route_names[N_ROUTES][64];        /* "METHOD pattern", for the metrics */
static const char *route_name_ptrs[N_ROUTES];
static mapd_route_key route_keys[N_ROUTES];   /* the table as the matcher reads it, set at start */

/* libmicrohttpd's messages, on stderr, but for the one a client that goes
 * away mid-body causes: every closed live stream (an EventSource whose page
 * is left) would log it. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    if (strstr(line, "socket is no longer available for sending"))
        return;
    fprintf(stderr, "mapd: libmicrohttpd: %s", line);
}

static pthread_key_t store_key;
static int in_flight;      /* requests between first call and completion (atomic) */

static void close_store(void *store)
{
    geodata_store_close(store);
}

/* The calling worker's store; NULL after queuing 503. */
static geodata_store *thread_store_or_reply(mapd_ctx *ctx)
{
    geodata_store *store = pthread_getspecific(store_key);
    if (store)
        return store;
    char *err = NULL;
    if (geodata_store_open(ctx->server->db_path, 0, &store, &err)) {
        fprintf(stderr, "mapd: %s\n", err);
        free(err);
        ctx->req->retry_after = MAPD_RETRY_AFTER_S;
        mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                     "the database cannot be opened");
        return NULL;
    }
    /* A request's statement has a time budget: a slow database answers 503, not a held worker. */
    geodata_store_time_budget(store, ctx->server->statement_timeout_ms);
    pthread_setspecific(store_key, store);
    return store;
}

static enum MHD_Result dispatch(mapd_ctx *ctx)
{
    if (ctx->req->args_over) {
        char detail[96];
        snprintf(detail, sizeof detail, "the query has more than %d arguments", MAPD_QUERY_ARGS_MAX);
        return mapd_problem(ctx, MHD_HTTP_URI_TOO_LONG, "URI Too Long", detail);
    }
    int path_known = 0;
    int64_t id = 0;
    /* HEAD is GET without the body, which libmicrohttpd leaves out. */
    const char *as = strcmp(ctx->method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : ctx->method;
    int i = mapd_parse_route_find(route_keys, N_ROUTES, as, ctx->url, &id, &path_known);
    if (i >= 0) {
        ctx->req->route = i;
        ctx->id = id;
        if (mapd_args_valid_or_reply(ctx))
            return MHD_YES;
        if (ctx->req->body_too_large) {
            char detail[96];
            snprintf(detail, sizeof detail, "the body is larger than %zu bytes", ctx->server->max_body);
            return mapd_problem(ctx, MHD_HTTP_CONTENT_TOO_LARGE, "Content Too Large", detail);
        }
        if (routes[i].handler != mapd_static_file && !(ctx->store = thread_store_or_reply(ctx)))
            return MHD_YES;
        return routes[i].handler(ctx);
    }
    if (path_known) {
        mapd_parse_route_allow(route_keys, N_ROUTES, ctx->url, ctx->req->allow,
                               sizeof ctx->req->allow);
        return mapd_problem(ctx, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed",
                            "this method is not allowed on this resource");
    }
    return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such resource");
}

static mapd_request *request_new(void)
{
    mapd_request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->started = mapd_seconds();
    req->route = -1;
    __atomic_fetch_add(&in_flight, 1, __ATOMIC_RELAXED);
    return req;
}

/* libmicrohttpd's first word of a request: its URI, before the query is
 * split into arguments. Each argument takes room in the connection's fixed
 * memory, and past about 230 libmicrohttpd 0.9.75 neither answers nor
 * closes; so a query with more than MAPD_QUERY_ARGS_MAX is cut off at its
 * '?' here (the URI is libmicrohttpd's own buffer, read once more after
 * this) and the request answered 414 (dispatch). The request's state
 * starts here, so that every request, even one libmicrohttpd refuses by
 * itself, ends in an access-log line. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    mapd_request *req = request_new();
    char *q = strchr(uri, '?');
    if (!req || !q)
        return req;
    size_t args = 1;
    for (const char *p = q + 1; *p; p++)
        args += *p == '&';
    if (args > MAPD_QUERY_ARGS_MAX) {
        req->args_over = 1;
        q[1] = '\0';
    }
    return req;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    mapd_server *server = cls;
    mapd_request *req = *req_cls;
    if (!req && !(req = *req_cls = request_new()))
        return MHD_NO;
    if (!req->called) {
        /* The head is in: refuse what would frame the request two ways, and
         * connections past the cap, before any body is read. */
        req->called = 1;
        mapd_ctx ctx = { .server = server, .conn = conn, .req = req, .method = method, .url = url };
        const char *fault = mapd_request_head_fault(conn, version);
        if (fault) {
            req->close = 1;
            return mapd_problem(&ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", fault);
        }
        if (mapd_connections_over(server->connections)) {
            req->close = 1;
            return mapd_problem(&ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                                "the server has too many connections open; try again in a moment");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large || req->body_len + n > server->max_body) {
            req->body_too_large = 1; /* the rest is read and dropped */
            free(req->body);
            req->body = NULL;
            req->body_len = 0;
            return MHD_YES;
        }
        char *b = realloc(req->body, req->body_len + n + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + req->body_len, upload_data, n);
        req->body = b;
        req->body_len += n;
        req->body[req->body_len] = '\0';
        return MHD_YES;
    }
    if (req->status)
        return MHD_YES; /* already answered */
    mapd_connections_arrived(conn);
    mapd_ctx ctx = { .server = server, .conn = conn, .req = req, .method = method, .url = url,
                     .now = (int64_t)time(NULL) };
    enum MHD_Result ret = dispatch(&ctx);
    geodata_audience_clear(&ctx.audience);
    return ret;
}

/* Appends s at p; the caller has made room. */
static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Appends v in decimal at p (at most 20 digits). */
static char *put_u64(char *p, uint64_t v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = digits[--n];
    return p;
}

/* Room for the numbers and words of a line besides its three strings:
 * status and bytes (20 digits each), milliseconds (20 digits, a point and
 * one decimal), "ms", " aborted", four spaces and the newline. */
#define LOG_LINE_FIXED (20 + 20 + 22 + 2 + 8 + 4 + 1)

/* One access-log line: "ADDR METHOD PATTERN STATUS BYTES 1.2ms[ aborted]\n".
 * The line is sized from its parts, so nothing is cut. */
static void log_request(mapd_access_log *log, const char *addr, const char *method,
                        const char *pattern, unsigned status, size_t bytes, double seconds,
                        int aborted)
{
    char small[256];
    size_t need = strlen(addr) + strlen(method) + strlen(pattern) + LOG_LINE_FIXED;
    char *line = need <= sizeof small ? small : malloc(need);
    if (!line)
        return;
    /* Tenths of a millisecond, rounded; beyond 10^18 of them (30,000 years), clamped. */
    double tenths = seconds * 1e4 + 0.5;
    uint64_t t = tenths <= 0 ? 0 : tenths >= 1e18 ? UINT64_C(1000000000000000000) : (uint64_t)tenths;
    char *p = line;
    p = put_str(p, addr);
    *p++ = ' ';
    p = put_str(p, method);
    *p++ = ' ';
    p = put_str(p, pattern);
    *p++ = ' ';
    p = put_u64(p, status);
    *p++ = ' ';
    p = put_u64(p, bytes);
    *p++ = ' ';
    p = put_u64(p, t / 10);
    *p++ = '.';
    *p++ = (char)('0' + t % 10);
    p = put_str(p, aborted ? "ms aborted\n" : "ms\n");
    mapd_access_log_write(log, line, (size_t)(p - line));
    if (line != small)
        free(line);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    mapd_server *server = cls;
    mapd_request *req = *req_cls;
    if (!req)
        return;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        mapd_connections_waiting(server->connections, conn);
    double elapsed = mapd_seconds() - req->started;
    mapd_metrics_record(server->metrics, req->route, req->status, elapsed);
    char addr[MAPD_CLIENT_ADDRESS_LEN];
    mapd_ctx ctx = { .server = server, .conn = conn };
    mapd_client_address(&ctx, addr);
    /* The route pattern is logged, never the URL: query strings may hold
     * addresses being geocoded, which must not reach the logs. */
    log_request(server->access_log, addr, req->route >= 0 ? routes[req->route].method : "-",
                req->route >= 0 ? routes[req->route].pattern : "-", req->status, req->bytes,
                elapsed, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    if (req->pending && req->pending_free)
        req->pending_free(req->pending);
    free(req->body);
    free(req);
    *req_cls = NULL;
    __atomic_fetch_sub(&in_flight, 1, __ATOMIC_RELAXED);
}

/* Builds what the workers share from the database, once: the geocoder and
 * the tile service (its cache bounds given), while the posts' read model is
 * built on another thread (mapd_posts_load; mapd_posts_start waits for it). */
static int load_geocoder(mapd_server *server, size_t tile_cache_bytes, size_t tile_max_bytes,
                         int posts_model)
{
    geodata_store *store;
    char *err;
    if (geodata_store_open(server->db_path, 0, &store, &err)) {
        mapd_fail(MAPD_EXIT_FAIL, "%s", err);
        free(err);
        return -1;
    }
    snprintf(server->db_name, sizeof server->db_name, "%s", geodata_store_name(store));
    /* The feed's position first, then the state derived from the store: a
     * change committed during the loads is applied again, harmlessly,
     * rather than missed. */
    int64_t now = (int64_t)time(NULL), position = 0;
    int rc = geodata_changes_last(store, &position);
    if (rc)
        mapd_fail(MAPD_EXIT_FAIL, "reading the change feed: %s", geodata_errmsg(store));
    if (!rc && !(server->feed = mapd_feed_new(position, now)))
        rc = mapd_fail(MAPD_EXIT_FAIL, "out of memory");
    if (!rc && mapd_posts_load(server, posts_model))   /* meanwhile, on its own thread */
        rc = MAPD_EXIT_FAIL;
    geodata_geocoder_origin how;
    double t0 = mapd_seconds();
    if (!rc && (rc = geodata_geocoder_open(store, &server->geocoder, &how)))
        mapd_fail(MAPD_EXIT_FAIL, "building the geocoder: %s", geodata_errmsg(store));
    if (!rc)
        fprintf(stderr, "mapd: geocoder of %zu addresses %s in %.2f s%s%s\n",
                geodata_geocoder_count(server->geocoder),
                how == GEODATA_GEOCODER_MAPPED ? "mapped from its index file" : "built",
                mapd_seconds() - t0, how == GEODATA_GEOCODER_BUILT_UNSAVED ? "; index file not written: " : "",
                how == GEODATA_GEOCODER_BUILT_UNSAVED ? geodata_errmsg(store) : "");
    if (!rc && (rc = mapd_tiles_new(store, server->geocoder, tile_cache_bytes, tile_max_bytes, now,
                                    &server->tiles)))
        mapd_fail(MAPD_EXIT_FAIL, "loading the tile layers: %s",
                  rc == TILES_ENOMEM ? "out of memory" : geodata_errmsg(store));
    if (!rc) {
        mapd_feed_subscriber sub = mapd_tiles_subscriber(server->tiles);
        if (mapd_feed_subscribe(server->feed, &sub))
            rc = mapd_fail(MAPD_EXIT_FAIL, "too many subscribers of the change feed");
    }
    geodata_store_close(store);
    return rc ? -1 : 0;
}

/* Runs the server with options o until SIGINT or SIGTERM; an exit code. */
static int run(mapd_serve_options *o)
{
    mapd_server server = o->server;
    const char *listen = o->listen;
    long threads = o->threads;
    struct sockaddr_in sa;
    if (!mapd_parse_listen(listen, &sa))
        return mapd_fail(MAPD_EXIT_USAGE, "--listen wants IPv4:PORT, e.g. 127.0.0.1:8080, not '%s'",
                         listen);
    if (geteuid() == 0 && !o->allow_root && !getenv_flag("MAPD_ALLOW_ROOT"))
        return mapd_fail(MAPD_EXIT_USAGE, "refusing to serve as root: a flaw in mapd would then "
                         "reach the whole machine; run it as a user of its own, or say "
                         "--allow-root (or MAPD_ALLOW_ROOT=1) where root is meant, as in a container");
    if (sodium_init() < 0)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot initialise libsodium");
    /* Each connection is a descriptor: room for the cap, the accept margin
     * above it and the database, log and export files (FILES_RESERVED). The
     * soft limit is raised to that; a hard limit below it lowers the default
     * cap, or refuses a cap that was asked for. */
    rlim_t need = (rlim_t)o->max_connections + CONNECTIONS_MARGIN + FILES_RESERVED;
    struct rlimit fds;
    if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < need) {
        fds.rlim_cur = fds.rlim_max < need ? fds.rlim_max : need;
        setrlimit(RLIMIT_NOFILE, &fds);
        getrlimit(RLIMIT_NOFILE, &fds);
        if (fds.rlim_cur < need && o->max_connections_given)
            return mapd_fail(MAPD_EXIT_USAGE, "--max-connections %ld needs %lu file descriptors; "
                             "the limit is %lu (ulimit -n): lower --max-connections or raise the limit",
                             o->max_connections, (unsigned long)need, (unsigned long)fds.rlim_cur);
        if (fds.rlim_cur < need) {
            if (fds.rlim_cur < CONNECTIONS_MARGIN + FILES_RESERVED + 64)
                return mapd_fail(MAPD_EXIT_FAIL, "only %lu file descriptors (ulimit -n): too few to serve",
                                 (unsigned long)fds.rlim_cur);
            o->max_connections = (long)(fds.rlim_cur - CONNECTIONS_MARGIN - FILES_RESERVED);
            fprintf(stderr, "mapd: at most %ld connections: the file limit (ulimit -n) is %lu\n",
                    o->max_connections, (unsigned long)fds.rlim_cur);
        }
    }
    /* Every thread inherits this mask, the loaders' below included: only
     * the main thread takes the signals (sigwait). A thread started before
     * it would let a SIGTERM kill the process instead of stopping it. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Opening the database here makes a missing or bad one fail the command,
     * not requests; a database is created by `mapd import`, never by a typo. */
    if (load_geocoder(&server, (size_t)o->tile_cache_mb * 1024 * 1024, (size_t)o->tile_max_kb * 1024,
                      o->posts_model))
        return MAPD_EXIT_FAIL;
    for (size_t i = 0; i < N_ROUTES; i++) {
        snprintf(route_names[i], sizeof route_names[i], "%s %s", routes[i].method, routes[i].pattern);
        route_name_ptrs[i] = route_names[i];
        route_keys[i] = (mapd_route_key){ routes[i].method, routes[i].pattern };
    }
    server.route_names = route_name_ptrs;
    server.n_routes = N_ROUTES;
    server.metrics = mapd_metrics_new(N_ROUTES);
    server.auth_limit = mapd_ratelimit_new("auth", (double)o->auth_per_minute,
                                           (double)o->auth_per_minute);
    server.account_limit = mapd_ratelimit_new("account", (double)o->account_per_hour / 60.0,
                                              ACCOUNT_BURST);
    if (o->comments_per_minute)
        server.comment_limit = mapd_ratelimit_new("comment", (double)o->comments_per_minute,
                                                  (double)o->comments_per_minute);
    if (!server.metrics || !server.auth_limit || !server.account_limit
        || (o->comments_per_minute && !server.comment_limit)
        || mapd_access_log_new(STDERR_FILENO, (unsigned)o->log_flush_ms, &server.access_log))
        return mapd_fail(MAPD_EXIT_FAIL, "out of memory");
    pthread_key_create(&store_key, close_store);

    mapd_pool_work hashing = { 0 }; /* each job runs itself */
    if (!(server.hashing = mapd_pool_start((int)o->hash_threads, 1, MAPD_HASH_QUEUE_MAX, &hashing)))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot start the password hashing threads");
    if (!(server.connections = mapd_connections_start((unsigned)o->max_connections,
                                                      (double)o->request_timeout_s)))
        return mapd_fail(MAPD_EXIT_FAIL, "cannot start the connection watch");
    if (mapd_posts_start(&server) || mapd_exports_start(&server, o->export_keep)
        || (o->events.max_streams && mapd_events_start(&server, &o->events))
        || mapd_alerts_start(&server, &o->alerts))
        return MAPD_EXIT_FAIL;

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG
            | MHD_ALLOW_SUSPEND_RESUME,
        0, NULL, NULL, on_request, &server,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first: it hears the other options' words */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &server,
        MHD_OPTION_NOTIFY_CONNECTION, mapd_connections_notify, server.connections,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(o->max_connections + CONNECTIONS_MARGIN),
        /* Behind the trusted proxy every connection comes from one address. */
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, server.trusted_proxy ? 0u : 256u,
        MHD_OPTION_END);
    if (!d)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot listen on %s (address in use or not local?)", listen);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    char listen_url[INET_ADDRSTRLEN + 16];
    snprintf(listen_url, sizeof listen_url, "http://%s:%u", host,
             info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port));
    mapd_alerts_set_listen_url(server.alerts, listen_url);
    printf("mapd: serving http://%s:%u/ (%ld threads, db %s, %zu addresses)\n", host,
           info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port), threads, server.db_name,
           geodata_geocoder_count(server.geocoder));
    if (server.web_dir)
        printf("mapd: web map from %s (%s)\n", server.web_dir,
               o->web_found ? "found beside the executable" : "--web");
    else if (o->no_web)
        printf("mapd: no web map (--no-web): the API only\n");
    else
        printf("mapd: no web map found beside %s (%s, or ../web in a build tree): the API only; "
               "--web DIR names one\n", o->web_default[0] ? o->web_default : "the executable", MAPD_WEB_FROM_BIN);
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "mapd: %s received, finishing requests in flight\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    MHD_socket listener = MHD_quiesce_daemon(d);
    mapd_events_stop(server.events); /* open streams end: they are requests in flight */
    mapd_alerts_stop(server.alerts); /* a mail being sent ends first, or is sent again later */
    double deadline = mapd_seconds() + 10;
    while (__atomic_load_n(&in_flight, __ATOMIC_RELAXED) > 0 && mapd_seconds() < deadline)
        usleep(10000);
    mapd_posts_stop_writer(&server);
    mapd_pool_stop(server.hashing);
    MHD_stop_daemon(d);
    mapd_connections_stop(server.connections);
    mapd_exports_stop(&server);
    /* Every request has completed and logged: what is buffered goes out now. */
    mapd_access_log_free(server.access_log);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    pthread_key_delete(store_key);
    geodata_geocoder_free(server.geocoder);
    mapd_metrics_free(server.metrics);
    mapd_ratelimit_free(server.auth_limit);
    mapd_ratelimit_free(server.account_limit);
    mapd_ratelimit_free(server.comment_limit);
    mapd_tiles_free(server.tiles);
    mapd_posts_free(&server);
    mapd_events_free(server.events);
    mapd_pool_free(server.hashing);
    mapd_alerts_free(server.alerts);
    mapd_feed_free(server.feed);
    return MAPD_EXIT_OK;
}

int mapd_cmd_serve(int argc, char **argv)
{
    mapd_serve_options o;
    int code = mapd_serve_options_parse(argc, argv, &o);
    return code ? code : run(&o);
}
