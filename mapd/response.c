/*
 * mapd/response.c — queuing responses: plain bodies, JSON, and RFC 9457
 * problem documents, with the one mapping of geodata error codes to statuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "tiles/tile.h"

void mapd_security_headers(mapd_ctx *ctx, struct MHD_Response *r, const char *csp)
{
    if (ctx->req->close)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (ctx->server && ctx->server->cookie_secure)
        MHD_add_response_header(r, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY,
                                "max-age=31536000; includeSubDomains");
    if (!csp)
        return;
    /* A page of ours is never framed (it has claim and delete buttons:
     * frame-ancestors, and X-Frame-Options for older browsers), and sends no
     * Referer that could carry a query to another site. */
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
}

/* Queues body with the headers every response carries, and a Set-Cookie
 * when cookie is not NULL. mode says who owns body (MHD_RESPMEM_MUST_COPY:
 * the caller; MHD_RESPMEM_MUST_FREE: libmicrohttpd, from now on). */
static enum MHD_Result respond_mode(mapd_ctx *ctx, unsigned status, const char *type, void *body,
                                    size_t len, const char *cookie, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (cookie)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    if (ctx->req->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ctx->req->allow);
    if (ctx->req->retry_after > 0) {
        char s[16];
        snprintf(s, sizeof s, "%d", ctx->req->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, s);
    }
    /* The server's own pages (the unsubscribe form) have an inline style
     * and a form, nothing else. */
    mapd_security_headers(ctx, r, type && strncmp(type, "text/html", 9) == 0
                                      ? "default-src 'none'; style-src 'unsafe-inline'; "
                                        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
                                      : NULL);
    ctx->req->status = status;
    ctx->req->bytes = len;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond(mapd_ctx *ctx, unsigned status, const char *type, const void *body,
                               size_t len, const char *cookie)
{
    return respond_mode(ctx, status, type, (void *)body, len, cookie, MHD_RESPMEM_MUST_COPY);
}

enum MHD_Result mapd_respond(mapd_ctx *ctx, unsigned status, const char *type,
                             const void *body, size_t len)
{
    return respond(ctx, status, type, body, len, NULL);
}

enum MHD_Result mapd_respond_owned(mapd_ctx *ctx, unsigned status, const char *type, void *body,
                                   size_t len)
{
    return respond_mode(ctx, status, type, body, len, NULL, MHD_RESPMEM_MUST_FREE);
}

enum MHD_Result mapd_respond_cookie(mapd_ctx *ctx, unsigned status, json_t *json, const char *cookie)
{
    if (!json)
        return respond(ctx, status, NULL, "", 0, cookie);
    char *body = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!body)
        return MHD_NO;
    enum MHD_Result ret = respond(ctx, status, "application/json", body, strlen(body), cookie);
    free(body);
    return ret;
}

enum MHD_Result mapd_respond_json(mapd_ctx *ctx, unsigned status, json_t *json, const char *type)
{
    char *body = json ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(json);
    if (!body)
        return mapd_respond(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory", 13);
    enum MHD_Result ret = mapd_respond(ctx, status, type ? type : "application/json", body,
                                       strlen(body));
    free(body);
    return ret;
}

enum MHD_Result mapd_problem_with(mapd_ctx *ctx, unsigned status, const char *title,
                                  const char *detail, json_t *extra)
{
    /* In the language the request prefers (messages.c), when known there. */
    const char *lang = mapd_request_lang(ctx);
    char ftitle[MAPD_MESSAGE_MAX + 1], fdetail[2 * MAPD_MESSAGE_MAX + 1];
    title = mapd_message(lang, title, ftitle, sizeof ftitle);
    detail = mapd_message(lang, detail ? detail : title, fdetail, sizeof fdetail);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", title,
                          "status", (int)status, "detail", detail);
    if (o && extra)
        json_object_update(o, extra);
    json_decref(extra);
    if (!o)
        return mapd_respond(ctx, status, "text/plain", title, strlen(title));
    return mapd_respond_json(ctx, status, o, "application/problem+json");
}

enum MHD_Result mapd_problem(mapd_ctx *ctx, unsigned status, const char *title,
                             const char *detail)
{
    return mapd_problem_with(ctx, status, title, detail, NULL);
}

json_t *mapd_json_time(int64_t t)
{
    if (!t)
        return json_null();
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

_Static_assert(GEODATA_ESTALE > -100 && TILES_ENOMEM < -100 && TILES_ETOOBIG < -100
                   && TILES_EINVAL < -100,
               "geodata's and tiles' error codes must not meet");

enum MHD_Result mapd_problem_geodata(mapd_ctx *ctx, int code)
{
    const char *msg = geodata_errmsg(ctx->store);
    switch (code) {
    case GEODATA_ENOTFOUND: return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", msg);
    case GEODATA_EINVAL: return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", msg);
    case GEODATA_ECONFLICT: return mapd_problem(ctx, MHD_HTTP_CONFLICT, "Conflict", msg);
    case GEODATA_EDENIED: return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", msg);
    case GEODATA_ENOMEM:
    case TILES_ENOMEM:
        /* the same on every route: said in the log, 503 to the client (if
         * even that cannot be built, libmicrohttpd closes the connection) */
        fprintf(stderr, "mapd: %s %s: out of memory\n", ctx->method, ctx->url);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the server is short of memory; try again");
    case GEODATA_EFULL: {
        /* the operator's to fix (docs/operations.md, "Faults"); nothing of
         * the write was kept, and reads still work. Said in the log once a
         * second at most: every write fails while the disk is full. */
        static int64_t said_at;
        int64_t then = __atomic_exchange_n(&said_at, ctx->now, __ATOMIC_RELAXED);
        if (then != ctx->now)
            fprintf(stderr, "mapd: %s %s: disk full: %s\n", ctx->method, ctx->url, msg);
        return mapd_problem(ctx, MHD_HTTP_INSUFFICIENT_STORAGE, "Insufficient Storage",
                            "the server's disk is full: this change was not saved; try again later");
    }
    case GEODATA_EUNAVAIL:
        /* The database is out of reach or over its time budget (a standby
         * taking over, a slow query cancelled): said in the log; the client
         * tries again shortly, and a load balancer may send it elsewhere. */
        fprintf(stderr, "mapd: %s %s: %s\n", ctx->method, ctx->url, msg);
        ctx->req->retry_after = MAPD_RETRY_AFTER_S;
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the database is unavailable for a moment; try again");
    case TILES_ETOOBIG:
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "this tile cannot be drawn within the tile size budget");
    case TILES_EINVAL:
        fprintf(stderr, "mapd: %s %s: a coordinate off the tile grid\n", ctx->method, ctx->url);
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "this tile could not be drawn");
    default:
        /* Internal detail stays in the log, not in the response. */
        fprintf(stderr, "mapd: %s %s: %s\n", ctx->method, ctx->url, msg);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "the database could not complete the request; try again");
    }
}
