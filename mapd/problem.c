/*
 * mapd/problem.c — responses: plain bodies and RFC 9457 problem documents.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"

enum MHD_Result mapd_respond(mapd_ctx *ctx, unsigned status, const char *type,
                             const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ctx->req->status = status;
    ctx->req->bytes = len;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result mapd_problem(mapd_ctx *ctx, unsigned status, const char *title,
                             const char *detail)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", title,
                          "status", (int)status, "detail", detail ? detail : title);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body)
        return mapd_respond(ctx, status, "text/plain", title, strlen(title));
    enum MHD_Result ret = mapd_respond(ctx, status, "application/problem+json", body, strlen(body));
    free(body);
    return ret;
}
