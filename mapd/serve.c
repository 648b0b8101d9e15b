/*
 * mapd/serve.c — `mapd serve`: the HTTP daemon.
 *
 * Design: libmicrohttpd with its own polling thread and a thread pool (one
 * worker per core by default). Each worker thread opens its own store on first
 * use (a thread-specific key closes it when the thread ends), so no sqlite3
 * connection, GEOS or PROJ context is ever shared. Requests are routed through
 * one table; the response is queued on the second call of the access handler
 * (the first only allocates the request state), which keeps keep-alive
 * working. Every request ends in one access-log line on stderr.
 *
 * Shutdown: SIGINT or SIGTERM stops accepting, lets requests in flight
 * finish, joins the workers (closing their stores) and exits 0.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "http.h"

struct mapd_server {
    const char *db_path;
    const char *web_dir;        /* NULL: no static files */
    pthread_key_t store_key;    /* the calling worker's geodata_store */
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *mapd_server_web_dir(const mapd_server *server)
{
    return server->web_dir;
}

static void close_thread_store(void *store)
{
    geodata_store_close(store);
}

geodata_store *mapd_thread_store(mapd_ctx *ctx)
{
    geodata_store *store = pthread_getspecific(ctx->server->store_key);
    if (store)
        return store;
    char *err = NULL;
    if (geodata_store_open(ctx->server->db_path, 0, &store, &err)) {
        fprintf(stderr, "mapd: %s\n", err);
        free(err);
        mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                     "the database cannot be opened");
        return NULL;
    }
    pthread_setspecific(ctx->server->store_key, store);
    return store;
}

static enum MHD_Result handle_healthz(mapd_ctx *ctx)
{
    geodata_store *store = mapd_thread_store(ctx);
    if (!store)
        return MHD_YES;
    int version = 0;
    if (geodata_store_schema_version(store, &version))
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the database does not answer");
    json_t *o = json_pack("{s:s, s:i}", "status", "ok", "schema_version", version);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body)
        return MHD_NO;
    enum MHD_Result ret = mapd_respond(ctx, MHD_HTTP_OK, "application/json", body, strlen(body));
    free(body);
    return ret;
}

/* The routing table: the first row whose method and path match wins; a path
 * ending in '*' matches any path with that prefix. */
static const struct route {
    const char *method;
    const char *path;
    mapd_handler handler;
} routes[] = {
    { "GET", "/healthz", handle_healthz },
    { "GET", "/*", mapd_static_file },
    { "HEAD", "/*", mapd_static_file },
};

static int path_matches(const char *pattern, const char *url)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncmp(pattern, url, n - 1) == 0;
    return strcmp(pattern, url) == 0;
}

static enum MHD_Result dispatch(mapd_ctx *ctx)
{
    int path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!path_matches(routes[i].path, ctx->url))
            continue;
        path_known = 1;
        if (strcmp(routes[i].method, ctx->method) == 0) {
            ctx->req->route = routes[i].path;
            return routes[i].handler(ctx);
        }
    }
    if (path_known)
        return mapd_problem(ctx, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed",
                            "this method is not allowed on this resource");
    return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such resource");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    (void)upload_data;
    mapd_request *req = *req_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->started = seconds();
        *req_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* No route takes a body yet: refuse it once it starts arriving. */
        *upload_data_size = 0;
        req->status = MHD_HTTP_CONTENT_TOO_LARGE;
        return MHD_YES;
    }
    mapd_ctx ctx = { .server = cls, .conn = conn, .req = req, .method = method, .url = url };
    if (req->status == MHD_HTTP_CONTENT_TOO_LARGE)
        return mapd_problem(&ctx, MHD_HTTP_CONTENT_TOO_LARGE, "Content Too Large",
                            "this resource takes no request body");
    return dispatch(&ctx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    mapd_request *req = *req_cls;
    if (!req)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "-";
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, addr,
                  sizeof addr);
    /* The route pattern is logged, never the URL: query strings may hold
     * addresses being geocoded, which must not reach the logs. */
    fprintf(stderr, "%s %s %u %zu %.1fms%s\n", addr, req->route ? req->route : "-",
            req->status, req->bytes, (seconds() - req->started) * 1000.0,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    free(req);
    *req_cls = NULL;
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || colon - s > 63)
        return 0;
    char host[64];
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return 0;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

int mapd_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "web", required_argument, NULL, 'w' },
        { "threads", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    mapd_server server = { 0 };
    const char *listen = "127.0.0.1:8080";
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': server.db_path = optarg; break;
        case 'l': listen = optarg; break;
        case 'w': server.web_dir = optarg; break;
        case 't': {
            char *end;
            threads = strtol(optarg, &end, 10);
            if (*end || threads < 1 || threads > 256)
                return mapd_fail(MAPD_EXIT_USAGE, "--threads wants 1 to 256, not '%s'", optarg);
            break;
        }
        default: return MAPD_EXIT_USAGE;
        }
    }
    if (!server.db_path || optind != argc)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd serve --db DB [--listen HOST:PORT] [--web DIR] "
                         "[--threads N]");
    struct sockaddr_in sa;
    if (!parse_listen(listen, &sa))
        return mapd_fail(MAPD_EXIT_USAGE, "--listen wants IPv4:PORT, e.g. 127.0.0.1:8080, not '%s'",
                         listen);
    if (threads < 1)
        threads = 1;

    /* Open once up front, so a missing or bad database fails the command, not
     * requests; a database is created by `mapd import`, never by a typo here. */
    geodata_store *probe;
    char *err;
    if (geodata_store_open(server.db_path, 0, &probe, &err)) {
        mapd_fail(MAPD_EXIT_FAIL, "%s", err);
        free(err);
        return MAPD_EXIT_FAIL;
    }
    geodata_store_close(probe);
    pthread_key_create(&server.store_key, close_thread_store);

    /* Workers inherit this mask: only the main thread takes the signals. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, &server,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u,
        MHD_OPTION_END);
    if (!d)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot listen on %s (address in use or not local?)", listen);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    printf("mapd: serving http://%s:%u/ (%ld threads, db %s)\n", host,
           info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port), threads, server.db_path);
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "mapd: %s received, finishing requests in flight\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    MHD_stop_daemon(d);
    pthread_key_delete(server.store_key);
    return MAPD_EXIT_OK;
}
