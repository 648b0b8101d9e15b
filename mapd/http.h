/*
 * mapd/http.h — the HTTP server's shared pieces: per-request state, the
 * routing table's row type, and response helpers. Handlers queue exactly one
 * response and record its status in the request state for the access log.
 */
#ifndef MAPD_HTTP_H
#define MAPD_HTTP_H

#include <microhttpd.h>

#include "geodata/store.h"

typedef struct mapd_server mapd_server;

typedef struct mapd_request {
    double started;           /* monotonic seconds at the first call */
    unsigned status;          /* status of the queued response, for the log */
    size_t bytes;             /* body bytes of the queued response */
    const char *route;        /* the matched route's pattern, for the log */
} mapd_request;

typedef struct mapd_ctx {
    mapd_server *server;
    struct MHD_Connection *conn;
    mapd_request *req;
    const char *method;
    const char *url;
} mapd_ctx;

typedef enum MHD_Result (*mapd_handler)(mapd_ctx *ctx);

/* The store of the calling worker thread, opened on its first use and closed
 * when the thread ends; NULL (and a 503 queued) when it cannot be opened. */
geodata_store *mapd_thread_store(mapd_ctx *ctx);

/* Queues a response with body (copied) and content type; records the status. */
enum MHD_Result mapd_respond(mapd_ctx *ctx, unsigned status, const char *type,
                             const void *body, size_t len);

/* Queues an RFC 9457 application/problem+json response. */
enum MHD_Result mapd_problem(mapd_ctx *ctx, unsigned status, const char *title,
                             const char *detail);

/* The web directory served at / (static files). */
const char *mapd_server_web_dir(const mapd_server *server);

/* Static files under the web directory (static_files.c). */
enum MHD_Result mapd_static_file(mapd_ctx *ctx);

#endif
