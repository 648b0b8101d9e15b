/*
 * mapd/request.c — reading requests: JSON bodies, checked fields, query
 * arguments, the client's address, the base URL it was sent to.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

json_t *mapd_json_body_or_reply(mapd_ctx *ctx)
{
    const char *type = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type || strncmp(type, "application/json", 16) != 0) {
        mapd_problem(ctx, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type",
                     "send the body as application/json");
        return NULL;
    }
    if (!ctx->req->body || ctx->req->body_len == 0) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "the request has no body");
        return NULL;
    }
    json_error_t err;
    /* jansson refuses invalid UTF-8, NUL bytes in strings and duplicate keys. */
    json_t *o = json_loadb(ctx->req->body, ctx->req->body_len,
                           JSON_REJECT_DUPLICATES, &err);
    if (!o) {
        char detail[256];
        snprintf(detail, sizeof detail, "the body is not valid JSON: %s (at byte %d)", err.text,
                 err.position);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

static int clean_text(const char *s, int multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f)
            return 0;
    return 1;
}

/* Removes the white space around the string v holds. 0, or -1 when out of
 * memory. */
static int trim(json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), start = 0;
    while (start < len && isspace((unsigned char)s[start]))
        start++;
    while (len > start && isspace((unsigned char)s[len - 1]))
        len--;
    if (start == 0 && len == json_string_length(v))
        return 0;
    char *t = strndup(s + start, len - start);
    int rc = t ? json_string_setn(v, t, len - start) : -1;
    free(t);
    return rc;
}

int mapd_field_string_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, unsigned flags,
                               size_t max, const char **out)
{
    int required = (flags & MAPD_FIELD_REQUIRED) != 0;
    json_t *v = json_object_get(obj, name);
    char detail[160];
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(detail, sizeof detail, "'%s' is required", name);
    } else if (!json_is_string(v)) {
        snprintf(detail, sizeof detail, "'%s' must be a string", name);
    } else if (json_string_length(v) > max) {
        snprintf(detail, sizeof detail, "'%s' is longer than %zu bytes", name, max);
    } else if (strlen(json_string_value(v)) != json_string_length(v)
               || !clean_text(json_string_value(v), (flags & MAPD_FIELD_MULTILINE) != 0)) {
        snprintf(detail, sizeof detail, "'%s' holds control characters", name);
    } else if ((flags & MAPD_FIELD_TRIM) && trim(v)) {
        mapd_problem_geodata(ctx, GEODATA_ENOMEM);
        return -1;
    } else if (required && json_string_length(v) == 0) {
        snprintf(detail, sizeof detail, "'%s' is empty", name);
    } else {
        *out = json_string_value(v);
        return 0;
    }
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

const char *mapd_arg(mapd_ctx *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* An IPv4 address as a dotted quad into buf (at least INET_ADDRSTRLEN
 * bytes: 16). By hand: glibc's inet_ntop formats with sprintf, and every printf
 * in this process takes the slow positional path (server.c), on every
 * request since each is logged with its address. */
static void ipv4_text(const struct in_addr *in, char *buf)
{
    const unsigned char *b = (const unsigned char *)&in->s_addr;
    char *p = buf;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
}

void mapd_client_address(mapd_ctx *ctx, char buf[MAPD_CLIENT_ADDRESS_LEN])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(ctx->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '-';
    buf[1] = '\0';
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        ipv4_text(&((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf,
                  MAPD_CLIENT_ADDRESS_LEN);
}

void mapd_base_url(mapd_ctx *ctx, char out[MAPD_BASE_URL_MAX])
{
    const char *host = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int ok = host && *host && strlen(host) <= 255;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
             || strchr(".-:[]", *p);
    snprintf(out, MAPD_BASE_URL_MAX, "%s://%s", ctx->server->cookie_secure ? "https" : "http",
             ok ? host : "127.0.0.1:8080");
}

int mapd_field_int_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, unsigned flags,
                            long lo, long hi, long dflt, long *out)
{
    json_t *v = json_object_get(obj, name);
    *out = dflt;
    if ((!v || json_is_null(v)) && !(flags & MAPD_FIELD_REQUIRED))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
        *out = (long)json_integer_value(v);
        return 0;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "'%s' must be an integer from %ld to %ld", name, lo, hi);
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

int mapd_field_bool_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, int *out)
{
    json_t *v = json_object_get(obj, name);
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "'%s' must be true or false", name);
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

int mapd_long_arg_or_reply(mapd_ctx *ctx, const char *name, long lo, long hi, long dflt, long *out)
{
    const char *s = mapd_arg(ctx, name);
    *out = dflt;
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s && !*end && !errno && v >= lo && v <= hi) {
        *out = v;
        return 0;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%s is an integer from %ld to %ld", name, lo, hi);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

int mapd_parse_numbers(const char *s, double *v, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(s, &end);
        if (end == s || errno || !isfinite(v[i]) || *end != (i + 1 < n ? ',' : '\0'))
            return 0;
        s = end + 1;
    }
    return 1;
}

int mapd_bbox_arg_or_reply(mapd_ctx *ctx, double max_deg2, double v[4])
{
    const char *s = mapd_arg(ctx, "bbox");
    if (!s)
        return 0;
    const char *why = NULL;
    if (!mapd_parse_numbers(s, v, 4))
        why = "bbox is WEST,SOUTH,EAST,NORTH in degrees";
    else if (fabs(v[0]) > 180 || fabs(v[2]) > 180 || fabs(v[1]) > 90 || fabs(v[3]) > 90)
        why = "bbox is out of range (longitudes within 180, latitudes within 90)";
    else if (v[0] >= v[2] || v[1] >= v[3])
        why = "bbox must have west < east and south < north";
    else if ((v[2] - v[0]) * (v[3] - v[1]) > max_deg2)
        why = "bbox covers too large an area: zoom in";
    if (!why)
        return 1;
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", why);
    return -1;
}

/* ---- arguments a route knows ---- */

typedef struct arg_check {
    const char *const *known;   /* NULL-terminated */
    const char *unknown;        /* the first argument not in known */
} arg_check;

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    arg_check *c = cls;
    for (const char *const *k = c->known; *k; k++)
        if (key && strcmp(key, *k) == 0)
            return MHD_YES;
    c->unknown = key ? key : "";
    return MHD_NO;
}

int mapd_known_args_or_reply(mapd_ctx *ctx, const char *const *known)
{
    arg_check c = { known, NULL };
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &c);
    if (!c.unknown)
        return 0;
    char list[160] = "", detail[240];
    size_t len = 0;
    for (const char *const *k = known; *k && len < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k == known ? "" : ", ", *k);
    if (len >= sizeof list) /* never cut silently: too many to list */
        snprintf(list, sizeof list, "see the API's documentation");
    snprintf(detail, sizeof detail, "unknown parameter '%.40s' (known: %s)", c.unknown, list);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}
