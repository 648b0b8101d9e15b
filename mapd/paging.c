/*
 * mapd/paging.c — cursor and offset arguments, and the members that close a
 * page of a list (paging.h says what a page promises).
 *
 * The next link is written from the request's arguments as libmicrohttpd
 * decoded them, percent-encoded again (RFC 3986 unreserved characters and
 * the comma of bbox=… and near=… as they are), into a growable buffer:
 * nothing is cut, whatever the query's length.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paging.h"
#include "text.h"

int mapd_cursor_arg_or_reply(mapd_ctx *ctx, const char *name, long *out)
{
    return mapd_long_arg_or_reply(ctx, name, 0, LONG_MAX, 0, out);
}

int mapd_offset_arg_or_reply(mapd_ctx *ctx, long max, const char *cursor, long *out)
{
    *out = 0;
    const char *s = mapd_arg(ctx, "offset");
    if (!s)
        return 0;
    long v;
    int whole = mapd_parse_long(s, &v);
    if ((whole > 0 && v > max) || (whole < 0 && *s != '-')) {   /* an integer past the ceiling */
        char detail[160];
        snprintf(detail, sizeof detail, "offset is at most %ld: page further with %s=ID (the next_%s "
                 "of each page)", max, cursor, cursor);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return -1;
    }
    if (mapd_long_arg_or_reply(ctx, "offset", 0, max, 0, out))
        return -1;
    if (mapd_arg(ctx, cursor)) {
        char detail[80];
        snprintf(detail, sizeof detail, "give offset or %s, not both", cursor);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return -1;
    }
    return 0;
}

typedef struct link_query {
    mapd_text text;           /* "?" and the arguments so far */
    const char *const *drop;  /* arguments left out (NULL-terminated), or NULL */
    const char *cursor;       /* left out too: it comes last, with its new value */
    int failed;               /* out of memory: text is not to be used */
} link_query;

static void put(link_query *q, const char *s, size_t n)
{
    if (!q->failed && mapd_text_append(&q->text, s, n))
        q->failed = 1;
}

static void put_encoded(link_query *q, const char *s)
{
    char e[3];
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        put(q, e, mapd_url_byte(*c, ",", e));
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    link_query *q = cls;
    if (strcmp(key, "offset") == 0 || strcmp(key, q->cursor) == 0)
        return MHD_YES;
    for (const char *const *d = q->drop; d && *d; d++)
        if (strcmp(key, *d) == 0)
            return MHD_YES;
    put(q, q->text.len > 1 ? "&" : "", q->text.len > 1);
    put_encoded(q, key);
    if (value) {
        put(q, "=", 1);
        put_encoded(q, value);
    }
    return MHD_YES;
}

int mapd_page_tail(mapd_ctx *ctx, json_t *list, int more, const char *cursor, int64_t next,
                   const char *const *drop, const char *link_type)
{
    if (json_object_set_new(list, "more", json_boolean(more)))
        return -1;
    if (!more)
        return 0;
    char name[48];
    snprintf(name, sizeof name, "next_%s", cursor);
    if (json_object_set_new(list, name, json_integer((json_int_t)next)))
        return -1;
    if (!link_type)
        return 0;
    link_query q = { .drop = drop, .cursor = cursor };
    put(&q, "?", 1);
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, copy_arg, &q);
    char tail[48];
    int n = snprintf(tail, sizeof tail, "%s%s=%lld", q.text.len > 1 ? "&" : "", cursor,
                     (long long)next);
    put(&q, tail, (size_t)n);
    put(&q, "", 1);   /* the NUL */
    json_t *links = q.failed ? NULL
                  : json_pack("[{s:s, s:s, s:s, s:s}]", "rel", "next", "type", link_type, "title",
                              "The next page", "href", q.text.data);
    free(q.text.data);
    return links && !json_object_set_new(list, "links", links) ? 0 : -1;
}
